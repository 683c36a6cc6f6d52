"""Sample files: downloaded with pooch, checked, recorded, unpacked; DANDI assets found through its REST API.

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
* **Records.** The sha256 of a file the manifest gives no sha256 for is recorded in ``recorded_sha256.json``
  with how its completeness was checked, and reported so it can be added to the manifest. It is never taken
  as the truth: ``verify`` calls such files "unchecked".
* **Errors.** Pooch's and requests' exceptions become :class:`~.errors.DataError` subclasses whose message
  names the URL and the file and says what to do; HTTP 5xx, 429, timeouts and cut connections are retried
  (``$COURSE_DATA_RETRIES`` times, 2 by default).

Taught in chapter ``00_setup_and_data``.
"""

from __future__ import annotations

import hashlib
import json
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
from typing import Any, TypeVar

from .archives import archive_members, safe_extract
from .errors import ArchiveError, ChecksumError, DataError, DataUnavailableError, IncompleteDownloadError
from .safety import remove_tree
from .settings import DEFAULT_DANDI_API, ENV_DANDI_API, mode_hint, retries, writable_folder

__all__ = [
    "PART_PREFIX",
    "RECORDED_HASHES",
    "Downloaded",
    "download",
    "entry_ready",
    "extraction_marker",
    "fetch_file",
    "file_sha256",
    "read_records",
    "resolve_dandi_url",
]

PART_PREFIX = ".part-"
RECORDED_HASHES = "recorded_sha256.json"
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


# ----------------------------------------------------------------------------------------- records


def read_records(folder: Path) -> dict[str, dict[str, Any]]:
    """What was recorded about each downloaded file of a sample folder (path -> sha256, size, checked_by, ...).

    Records written by older versions of the course (a bare hash, with no note of how the file was checked)
    are ignored: nothing unverified is taken as the truth.
    """
    try:
        raw = json.loads((Path(folder) / RECORDED_HASHES).read_text())
    except (OSError, ValueError):
        return {}
    files = raw.get("files") if isinstance(raw, dict) and raw.get("format") == 2 else None
    return {k: v for k, v in files.items() if isinstance(v, dict)} if isinstance(files, dict) else {}


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True))
    os.replace(tmp, path)


def _write_records(folder: Path, records: dict[str, dict[str, Any]]) -> None:
    _write_json(Path(folder) / RECORDED_HASHES, {"format": 2, "files": records})


def _stat_matches(path: Path, record: dict[str, Any] | None) -> bool:
    if not record:
        return False
    st = path.stat()
    return record.get("size") == st.st_size and record.get("mtime_ns") == st.st_mtime_ns


# ----------------------------------------------------------------------------------------- one manifest entry


def extraction_marker(archive: Path) -> Path:
    """The marker written beside an archive once it is unpacked (its sha256 and the names it wrote)."""
    return archive.with_name(f".{archive.name}.extracted.json")


def _cached_copy_ok(dest: Path, entry: dict[str, Any], records: dict[str, dict[str, Any]], quiet: bool = False) -> bool:
    """Is the cached file the one the manifest describes? (A new sha256 or size in the manifest means no.)"""
    if not dest.is_file():
        return False
    record = records.get(entry["path"])
    expected = (entry.get("sha256") or "").lower() or None
    if expected:
        if _stat_matches(dest, record) and record.get("sha256") == expected:
            return True
        actual = file_sha256(dest)
        if actual == expected:
            st = dest.stat()
            records[entry["path"]] = {
                **(record or {}),
                "sha256": actual,
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "checked_by": "sha256 (manifest)",
            }
            return True
        if not quiet:
            print(
                f"The cached {dest} does not match the sha256 in data_manifest.yaml ({actual[:12]}…, expected "
                f"{expected[:12]}…): downloading it again.",
                file=sys.stderr,
            )
        return False
    size = entry.get("size")
    if size is not None and dest.stat().st_size != size:
        if quiet:
            return False
        print(f"The cached {dest} is not {size:,} bytes as data_manifest.yaml says: downloading it again.", file=sys.stderr)
        return False
    return True


def entry_ready(entry: dict[str, Any], folder: Path, records: dict[str, dict[str, Any]]) -> bool:
    """True if the entry's file is cached, matches the manifest and (archives) is unpacked; writes nothing.

    Lets ``get_source`` return at once, without a lock or a write, when everything is there (a read-only,
    pre-filled data folder in a workshop works).
    """
    dest = Path(folder) / entry["path"]
    before = json.dumps(records.get(entry["path"]), sort_keys=True)
    if not _cached_copy_ok(dest, entry, records, quiet=True) or json.dumps(records.get(entry["path"]), sort_keys=True) != before:
        return False
    if not entry.get("extract"):
        return True
    record = records.get(entry["path"])
    if not _stat_matches(dest, record):
        return False
    try:
        marker = json.loads(extraction_marker(dest).read_text())
    except (OSError, ValueError):
        return False
    return bool(marker.get("complete")) and marker.get("archive_sha256") == record.get("sha256")


def fetch_file(entry: dict[str, Any], folder: Path, *, progress: bool = True) -> Path:
    """Download one manifest file entry into ``folder`` unless a matching copy is already there.

    Callers hold the source's sample lock (``get_source`` does).

    Parameters
    ----------
    entry
        A ``files`` item of the manifest: ``path`` plus ``url`` (or ``dandi``), optional ``sha256``, ``size``
        (exact bytes), ``approx_size`` (reported only) and ``extract`` (unpack a zip archive into the folder).
    folder
        The source's sample folder.
    progress
        Show a tqdm progress bar.

    Returns
    -------
    pathlib.Path
        The local file.
    """
    folder = Path(folder)
    dest = folder / entry["path"]
    records = read_records(folder)
    before = json.dumps(records, sort_keys=True)
    if not _cached_copy_ok(dest, entry, records):
        size, origin = entry.get("size"), "manifest"
        if entry.get("url"):
            url = entry["url"]
        else:
            url, dandi_size = resolve_dandi_asset(entry["dandi"])
            if size is None and dandi_size is not None:
                size, origin = dandi_size, "DANDI"
        got = download(
            url,
            dest,
            sha256=entry.get("sha256"),
            size=size,
            size_origin=origin,
            approx_size=entry.get("approx_size"),
            archive=bool(entry.get("extract")),
            progress=progress,
        )
        st = dest.stat()
        records[entry["path"]] = {
            "sha256": got.sha256,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "checked_by": got.checked_by,
            "url": url,
        }
        if not entry.get("sha256"):
            warnings.warn(
                f"No sha256 is known for {url} ({entry['path']}); it was checked by {got.checked_by} and its sha256 "
                f"{got.sha256} recorded in {folder / RECORDED_HASHES} (a record, not a verification). Add "
                f"`sha256: {got.sha256}` to this file's entry in data_manifest.yaml once you trust it.",
                stacklevel=2,
            )
    if json.dumps(records, sort_keys=True) != before:
        _write_records(folder, records)
    if entry.get("extract"):
        _extract_once(dest, records.get(entry["path"]))
    return dest


def _extract_once(archive: Path, record: dict[str, Any] | None) -> None:
    """Unpack ``archive`` beside itself unless this very archive (same sha256) was already unpacked there."""
    sha = record["sha256"] if _stat_matches(archive, record) else file_sha256(archive)
    marker_path = extraction_marker(archive)
    try:
        marker = json.loads(marker_path.read_text())
    except (OSError, ValueError):
        marker = None
    if isinstance(marker, dict) and marker.get("complete") and marker.get("archive_sha256") == sha:
        return
    target = archive.parent
    legacy = archive.with_name(f".{archive.name}.extracted")  # older course versions: no hash, no names
    ours = set(marker.get("top_level", [])) if isinstance(marker, dict) else set()
    tops = archive_members(archive)
    if legacy.exists() and not ours:
        ours = set(tops)
    claimed = ours | {t for t in tops if not (target / t).exists() and not (target / t).is_symlink()}
    # Written before anything moves: an interrupted unpacking is redone next time, over its own files only.
    _write_json(marker_path, {"archive": archive.name, "archive_sha256": sha, "top_level": sorted(claimed), "complete": False})
    print(f"Unpacking {archive.name} into {target} ...", file=sys.stderr)
    try:
        safe_extract(archive, target, replace=ours)
    except ArchiveError:
        if isinstance(marker, dict):
            _write_json(marker_path, marker)
        else:
            marker_path.unlink(missing_ok=True)
        raise
    for old in sorted(ours - set(tops)):  # written by an earlier version of the archive, absent from this one
        if (target / old).exists() or (target / old).is_symlink():
            remove_tree(target / old)
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        files = {info.filename: info.file_size for info in zf.infolist() if not info.is_dir()}
    _write_json(
        marker_path,
        {"archive": archive.name, "archive_sha256": sha, "top_level": sorted(tops), "files": files, "complete": True},
    )
    legacy.unlink(missing_ok=True)
