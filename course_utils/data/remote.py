"""Remote files: downloaded with pooch and checked; DANDI assets found through its REST API.

``pooch.retrieve(url, known_hash=...)`` does the downloading: streaming with a progress bar into a temporary
file, the sha256 check, and the rename. This module adds what the course promises on top of it:

* **Staging.** Pooch writes into ``.part-<name>-<pid>/`` beside the destination; the file is renamed into place
  only after every check below, so a failed download never leaves a half-written file and never touches a
  good cached copy.
* **Completeness.** A download is kept only if something shows it is whole: the manifest's ``sha256``; else an
  exact ``size`` (from the manifest, or from the DANDI API); else the server's ``Content-Length`` (a body that
  ends early is refused by requests); else, for ``extract: true``, a readable zip directory (it sits at the end
  of the file). With none of these a body cut short cannot be told from a whole file, so it is refused.
  ``approx_size`` is only reported.
* **Errors.** Pooch's and requests' exceptions become :class:`~.errors.DataError` subclasses whose message
  names the URL and the file and says what to do; HTTP 5xx, 429, timeouts and cut connections are retried
  (``$COURSE_DATA_RETRIES`` times, 2 by default).

Taught in chapter ``00_setup_and_data``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .archives import archive_members
from .errors import ChecksumError, DataError, DataUnavailableError, IncompleteDownloadError
from .settings import DEFAULT_DANDI_API, ENV_DANDI_API, mode_hint, retries, writable_folder

__all__ = ["PART_PREFIX", "Downloaded", "download", "file_sha256", "resolve_dandi_asset", "resolve_dandi_url"]

PART_PREFIX = ".part-"
TIMEOUT_S = 60
RETRY_WAIT_S = 1.0  # first wait between attempts; doubles each time, at most 30 s
APPROX_TOLERANCE = 0.25  # a size further than this from `approx_size` is reported (never refused)
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})

T = TypeVar("T")


def file_sha256(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """sha256 hex digest of a file, read in 1 MiB chunks.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.txt"; _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:12]
    'ba7816bf8f01'

    Taught in chapter 00_setup_and_data.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------- retries and errors


def _is_transient(err: BaseException) -> bool:
    import requests

    if isinstance(err, requests.exceptions.HTTPError):
        status = err.response.status_code if err.response is not None else None
        return status is None or status in TRANSIENT_STATUS or status >= 500
    return isinstance(
        err,
        (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
            IncompleteDownloadError,
        ),
    )


def _retrying(action: Callable[[], T], what: str) -> T:
    """Run ``action``; on a transient network error wait and try again, ``retries()`` times at most."""
    attempts = retries() + 1
    for attempt in range(attempts):
        try:
            return action()
        except Exception as err:
            if attempt + 1 >= attempts or not _is_transient(err):
                raise
            wait = min(RETRY_WAIT_S * 2**attempt, 30.0)
            print(
                f"{what} failed ({type(err).__name__}); trying again in {wait:.0f} s "
                f"({attempts - attempt - 1} attempt(s) left).",
                file=sys.stderr,
            )
            time.sleep(wait)
    raise AssertionError("unreachable")


def _offline_help(url: str, dest: Path, err: BaseException) -> str:
    return (
        f"Could not download {url} ({type(err).__name__}: {err}).\n"
        f"{dest} is not cached and the server cannot be reached: you may be offline.\n"
        f"What to do: use the demo data, which need no network ({mode_hint('demo')}); or download the file on a "
        f"machine with internet, copy it to {dest}, and run `python -m course_utils data verify`."
    )


def _explain(err: Exception, url: str, dest: Path, sha256: str | None) -> DataError:
    """Our error, with a message that says what happened and what to do, for pooch's and requests' errors."""
    import requests

    if isinstance(err, DataError):
        return err
    if isinstance(err, requests.exceptions.HTTPError):
        return DataUnavailableError(
            f"Downloading {url} failed: the server answered {err}. {dest} was not touched. Check the URL in "
            f"data_manifest.yaml (or try again later if the server is busy), or use the demo data ({mode_hint('demo')})."
        )
    if isinstance(err, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return IncompleteDownloadError(
            f"Downloading {url} stopped before the end of the file ({err}); the partial file was removed and "
            f"{dest} was not touched. Try again: `python -m course_utils data fetch`."
        )
    if isinstance(err, requests.exceptions.RequestException):
        return DataUnavailableError(_offline_help(url, dest, err))
    if isinstance(err, ValueError) and "hash" in str(err):  # pooch's checksum mismatch
        found = re.search(r"got ([0-9a-fA-F]{64})", str(err))
        return ChecksumError(
            f"Checksum mismatch for {url}: expected sha256 {sha256}, got {found.group(1) if found else 'another'}. "
            f"The download was removed; {dest} was not touched. If the upstream file changed on purpose, update "
            "sha256 in data_manifest.yaml."
        )
    if isinstance(err, OSError):
        return DataError(f"Could not write the download of {url} next to {dest}: {err.strerror or err}.")
    return DataError(f"Downloading {url} to {dest} failed: {type(err).__name__}: {err}")


# ----------------------------------------------------------------------------------------- one download


class _Progress:
    """The progress bar pooch's HTTPDownloader drives; it also keeps the server's Content-Length (``total``)."""

    def __init__(self, show: bool, label: str) -> None:
        self.show, self.label, self._total, self._bar = show, label, 0, None

    def __bool__(self) -> bool:  # pooch only uses a progress bar object that is truthy
        return True

    @property
    def total(self) -> int:
        return self._total

    @total.setter
    def total(self, value: int) -> None:
        self._total = int(value or 0)
        if self.show and self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self._total or None, unit="B", unit_scale=True, desc=self.label, leave=True)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def reset(self) -> None:  # pooch resets, then fills the bar to `total`; keep the count when it is unknown
        if self._bar is not None and self._total:
            self._bar.reset(total=self._total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@dataclass(frozen=True)
class Downloaded:
    """A file :func:`download` put in place, and what showed it is whole."""

    path: Path
    sha256: str
    size_bytes: int
    checked_by: str  # "sha256 (manifest)", "size (manifest)", "size (DANDI)", "Content-Length", "zip directory"


def download(
    url: str,
    dest: str | Path,
    *,
    sha256: str | None = None,
    size: int | None = None,
    size_origin: str = "manifest",
    approx_size: int | None = None,
    archive: bool = False,
    progress: bool = True,
) -> Downloaded:
    """Download ``url`` to ``dest`` with pooch through a staging folder; check it, then rename it into place.

    Parameters
    ----------
    url
        HTTP(S) address.
    dest
        Final path; untouched unless the new file passes every check.
    sha256
        Expected hex digest (pooch checks it), or None.
    size
        Exact size in bytes, or None; a different size is refused.
    size_origin
        Where ``size`` comes from (for messages): ``"manifest"`` or ``"DANDI"``.
    approx_size
        Approximate size in bytes: a size far from it is reported, never refused.
    archive
        The file is a zip archive to be unpacked: it must have a readable zip directory.
    progress
        Show a progress bar.

    Returns
    -------
    Downloaded
        The path, sha256, size and what showed the file is whole.

    Raises
    ------
    DataUnavailableError
        The server cannot be reached (offline) or answered with an HTTP error, after retries.
    IncompleteDownloadError
        The file arrived shorter than the server or the manifest said, or nothing could show it is whole.
    ChecksumError
        Its sha256 (or exact size) differs from the manifest's.
    ArchiveError
        ``archive=True`` and the body is not a zip archive (an error page, say).
    """
    import pooch

    dest = Path(dest)
    retries()  # a bad COURSE_DATA_RETRIES fails here, before any network use
    parent = writable_folder(dest.parent)
    staging = parent / f"{PART_PREFIX}{dest.name}-{os.getpid()}"
    logger = pooch.get_logger()

    def attempt() -> tuple[Path, int]:
        shutil.rmtree(staging, ignore_errors=True)
        bar = _Progress(progress, dest.name)
        downloader = pooch.HTTPDownloader(progressbar=bar, timeout=TIMEOUT_S)
        got = Path(pooch.retrieve(url, known_hash=sha256.lower() if sha256 else None, fname=dest.name, path=staging, downloader=downloader))
        got_size = got.stat().st_size
        if size is not None and got_size < size:
            raise IncompleteDownloadError(
                f"{url} sent {got_size:,} bytes, but the file is {size:,} bytes (exact size from the {size_origin}): "
                f"the download was cut short. It was removed and {dest} was not touched. Try again: "
                "`python -m course_utils data fetch`."
            )
        return got, bar.total

    print(f"Downloading {url} to {dest} ...", file=sys.stderr)
    level = logger.level
    logger.setLevel(logging.WARNING)  # our messages replace pooch's (which advise pooch.retrieve arguments)
    try:
        try:
            got, content_length = _retrying(attempt, f"Downloading {url}")
        except Exception as err:
            raise _explain(err, url, dest, sha256) from err
        got_size = got.stat().st_size
        if size is not None and got_size != size:
            raise ChecksumError(
                f"{url} sent {got_size:,} bytes, but the file is exactly {size:,} bytes (size from the {size_origin}): "
                f"this is not the expected file. It was removed; {dest} was not touched. If the upstream file changed "
                "on purpose, update `size` (and `sha256`) in data_manifest.yaml."
            )
        if archive:
            archive_members(got)  # raises ArchiveError for an error page or a truncated archive
        if sha256:
            checked_by = "sha256 (manifest)"
        elif size is not None:
            checked_by = f"size ({size_origin})"
        elif content_length:
            checked_by = "Content-Length"
        elif archive:
            checked_by = "zip directory"
        else:
            raise IncompleteDownloadError(
                f"{url} came without a Content-Length, and data_manifest.yaml gives neither `size` nor `sha256` for "
                f"{dest.name}: a download cut short could not be told from the whole file, so it was not kept. Add the "
                "file's exact `size` (bytes) or its `sha256` to its entry in the manifest, then fetch again."
            )
        if approx_size and abs(got_size - approx_size) > APPROX_TOLERANCE * approx_size:
            warnings.warn(
                f"{dest.name} is {got_size:,} bytes; data_manifest.yaml says about {approx_size:,} (`approx_size`, "
                "only reported). Kept. If the file is right, update approx_size; if not, delete it and check the URL.",
                stacklevel=2,
            )
        digest = sha256.lower() if sha256 else file_sha256(got)
        os.replace(got, dest)
        return Downloaded(dest, digest, got_size, checked_by)
    finally:
        logger.setLevel(level)
        shutil.rmtree(staging, ignore_errors=True)


# ----------------------------------------------------------------------------------------- DANDI


def _dandi_api() -> str:
    return os.environ.get(ENV_DANDI_API, DEFAULT_DANDI_API).rstrip("/")


def resolve_dandi_asset(dandi: dict[str, str]) -> tuple[str, int | None]:
    """The download URL and exact size (as DANDI lists it) of ``{dandiset, path, version}``.

    The API base is ``$DANDI_API_URL`` if set (tests point it at a local server).
    """
    import requests

    api = _dandi_api()
    version = dandi.get("version", "draft")
    query = f"{api}/dandisets/{dandi['dandiset']}/versions/{version}/assets/"

    def ask():
        reply = requests.get(query, params={"path": dandi["path"]}, timeout=30)
        reply.raise_for_status()
        return reply

    try:
        reply = _retrying(ask, f"Asking the DANDI API about {dandi['path']}")
    except requests.exceptions.RequestException as err:
        raise DataUnavailableError(
            f"Could not ask the DANDI archive ({api}) for {dandi['path']} in dandiset {dandi['dandiset']} ({err}). "
            f"You may be offline: use the demo data ({mode_hint('demo')})."
        ) from err
    try:
        body = reply.json()
        results = body["results"]
        if not isinstance(results, list):
            raise TypeError("results is not a list")
    except (ValueError, KeyError, TypeError) as err:
        raise DataUnavailableError(
            f"The DANDI API at {api} answered {query} with something that is not a DANDI asset list "
            f"(Content-Type {reply.headers.get('Content-Type')!r}, starting {reply.text[:60]!r}): a proxy or login "
            f"page, or a wrong {ENV_DANDI_API}. Check your network and {ENV_DANDI_API} (unset it for the real "
            f"archive), or use the demo data ({mode_hint('demo')})."
        ) from err
    matches = [a for a in results if isinstance(a, dict) and a.get("path") == dandi["path"]]
    if not matches:
        raise DataUnavailableError(
            f"DANDI dandiset {dandi['dandiset']} (version {version}) has no asset {dandi['path']!r}; "
            "check data_manifest.yaml."
        )
    size = matches[0].get("size")
    return f"{api}/assets/{matches[0]['asset_id']}/download/", size if isinstance(size, int) else None


def resolve_dandi_url(dandi: dict[str, str]) -> str:
    """Turn ``{dandiset, path, version}`` into a download URL with the DANDI REST API.

    The API base is ``$DANDI_API_URL`` if set (tests point it at a local server).
    """
    return resolve_dandi_asset(dandi)[0]
