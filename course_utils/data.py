"""Local paths for the course's data sources, in three modes: ``demo``, ``sample`` and ``full``.

One call per source::

    from course_utils.data import get_source
    folder = get_source("neurotask")            # demo data, generated once and reused
    folder = get_source("neurotask", "sample")  # real files, downloaded once and verified

* The mode comes from the ``mode`` argument, else the ``COURSE_DATA_MODE`` environment variable, else
  ``demo`` (which works offline).
* Data live under ``COURSE_DATA_DIR``, else the platform's cache folder (:func:`data_dir`), as
  ``<data_dir>/<source>/<mode>/``.
* Downloads go through pooch's HTTP downloader (progress bar, timeouts) into a temporary name; the file is
  renamed into place only after its size and sha256 check out, so a failed download never leaves a
  half-written file behind and never touches a good cached copy.
* Demo data are written by the simulator the manifest names, keyed by the generator's parameters and the
  package's source code, so they are generated once and regenerated only when the simulator changes.

Taught in chapter ``00_setup_and_data``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import sys
import time
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from .manifest import MODES, load_manifest

ENV_MODE = "COURSE_DATA_MODE"
ENV_DIR = "COURSE_DATA_DIR"
ENV_RETRIES = "COURSE_DATA_RETRIES"
ENV_DANDI_API = "DANDI_API_URL"
DEFAULT_DANDI_API = "https://api.dandiarchive.org/api"
COMPLETE_MARKER = ".complete.json"
RECORDED_HASHES = "recorded_sha256.json"


class DataError(RuntimeError):
    """Base class for the data layer's errors."""


class DataUnavailableError(DataError):
    """The data are not cached and cannot be downloaded (offline, or a server refused)."""


class ChecksumError(DataError):
    """A downloaded file's sha256 differs from the one the manifest expects."""


class IncompleteDownloadError(DataError):
    """The server closed the connection before sending the whole file."""


# ----------------------------------------------------------------------------------------- settings


def data_mode(mode: str | None = None) -> str:
    """Return the data mode to use: the argument, else ``$COURSE_DATA_MODE``, else ``"demo"``.

    Examples
    --------
    >>> data_mode("sample")
    'sample'
    """
    chosen = mode or os.environ.get(ENV_MODE) or "demo"
    if chosen not in MODES:
        origin = "mode argument" if mode else f"environment variable {ENV_MODE}"
        raise ValueError(f"Unknown data mode {chosen!r} (from the {origin}); choose one of {list(MODES)}.")
    return chosen


def data_dir() -> Path:
    """Return the root folder of the data cache: ``$COURSE_DATA_DIR``, else the platform's cache folder.

    Examples
    --------
    >>> isinstance(data_dir(), Path)
    True
    """
    root = os.environ.get(ENV_DIR)
    return Path(root).expanduser() if root else Path(platformdirs.user_cache_dir("neural-data-course"))


def source_names(manifest: dict[str, Any] | None = None) -> list[str]:
    """Names of the sources in the manifest, in manifest order."""
    return list((manifest or load_manifest())["sources"])


def source_info(name: str, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest entry of one source; a clear error for an unknown name."""
    sources = (manifest or load_manifest())["sources"]
    if name not in sources:
        raise KeyError(f"Unknown data source {name!r}. Known sources: {', '.join(sources)}.")
    return sources[name]


def mode_info(name: str, mode: str, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest block of one source's mode; a clear error if the source has no such mode."""
    info = source_info(name, manifest)
    if mode not in info["modes"]:
        raise ValueError(
            f"Source {name!r} has no {mode!r} mode; it has {list(info['modes'])}. "
            f"Pass mode= one of those, or unset {ENV_MODE}."
        )
    return info["modes"][mode]


# ----------------------------------------------------------------------------------------- main entry


def get_source(
    name: str,
    mode: str | None = None,
    *,
    manifest: dict[str, Any] | None = None,
    progress: bool = True,
) -> Path:
    """Return the local folder holding a source's data, generating or downloading it on first use.

    Parameters
    ----------
    name
        Source name as in ``data_manifest.yaml`` (``python -m course_utils data list`` shows them).
    mode
        ``"demo"``, ``"sample"`` or ``"full"``; default from ``$COURSE_DATA_MODE``, else ``"demo"``.
    manifest
        A manifest dict (tests pass their own); the course's by default.
    progress
        Show progress bars for downloads.

    Returns
    -------
    pathlib.Path
        The folder; its layout is the real one of the source (see the source's loading chapter).

    Raises
    ------
    KeyError
        Unknown source.
    ValueError
        Unknown mode, or a mode the source does not have.
    DataUnavailableError
        Nothing cached and no way to download it (the message says what to do).
    ChecksumError, IncompleteDownloadError
        A download failed verification; the bad file was removed.

    Examples
    --------
    >>> folder = get_source("neurotask")          # doctest: +SKIP
    >>> sorted(p.name for p in folder.glob("*.parquet"))[:1]   # doctest: +SKIP
    ['1_10_Simulated_RandomTarget.parquet']
    """
    manifest = manifest or load_manifest()
    mode = data_mode(mode)
    block = mode_info(name, mode, manifest)
    if mode == "demo":
        return _demo_folder(name, block)
    if mode == "sample":
        return _sample_folder(name, block, progress=progress)
    return _full_folder(name, block)


def source_folder(name: str, mode: str) -> Path:
    """Where a source's data for a mode live (or will live); nothing is created."""
    return data_dir() / name / mode


# ----------------------------------------------------------------------------------------- demo mode


def _package_fingerprint() -> str:
    """Hash of course_utils' source code, so demo data regenerate when a simulator changes."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def demo_key(block: dict[str, Any]) -> str:
    """The cache key of a demo block: generator, parameters and code version."""
    payload = json.dumps(
        {"generator": block["generator"], "params": block.get("params", {}), "code": _package_fingerprint()},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _load_generator(spec: str):
    module_name, _, func_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, func_name)
    except (ImportError, AttributeError) as err:
        raise DataError(f"Demo generator {spec!r} named in data_manifest.yaml cannot be imported: {err}") from err


def _demo_folder(name: str, block: dict[str, Any]) -> Path:
    if block.get("synthetic"):
        raise DataError(
            f"Source {name!r} is synthetic: its data are generated in memory by its package "
            f"({block['description'].strip()}), so there is no folder to return."
        )
    key = demo_key(block)
    final = source_folder(name, "demo") / key
    if (final / COMPLETE_MARKER).is_file():
        return final
    generator = _load_generator(block["generator"])
    final.parent.mkdir(parents=True, exist_ok=True)
    # Write into a private temporary folder and rename: readers never see a half-written demo set,
    # and two processes generating at once cannot corrupt each other.
    tmp = final.parent / f".tmp-{key}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    started = time.perf_counter()
    print(f"Generating demo data for {name!r} (once; cached in {final}) ...", file=sys.stderr)
    try:
        generator(tmp, **block.get("params", {}))
        (tmp / COMPLETE_MARKER).write_text(
            json.dumps({"generator": block["generator"], "params": block.get("params", {}), "key": key})
        )
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / COMPLETE_MARKER).is_file():  # not a concurrent winner: a real error
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"... done in {time.perf_counter() - started:.1f} s.", file=sys.stderr)
    return final


# ----------------------------------------------------------------------------------------- sample mode


def _sample_folder(name: str, block: dict[str, Any], progress: bool = True) -> Path:
    folder = source_folder(name, "sample")
    files = block.get("files", [])
    if not files:
        raise DataUnavailableError(
            f"Source {name!r} lists no sample files in data_manifest.yaml. {block['description'].strip()}"
        )
    for entry in files:
        fetch_file(entry, folder, progress=progress)
    return folder


def fetch_file(entry: dict[str, Any], folder: Path, *, progress: bool = True) -> Path:
    """Download one manifest file entry into ``folder`` unless a verified copy is already there.

    Parameters
    ----------
    entry
        A ``files`` item of the manifest: ``path`` plus ``url`` (or ``dandi``), optional ``sha256``,
        ``size`` and ``extract`` (unpack a zip archive into the folder).
    folder
        The source's sample folder.
    progress
        Show a tqdm progress bar.

    Returns
    -------
    pathlib.Path
        The local file.
    """
    dest = folder / entry["path"]
    if not dest.is_file():
        url = entry.get("url") or resolve_dandi_url(entry["dandi"])
        actual = download(url, dest, sha256=entry.get("sha256"), progress=progress)
        if entry.get("sha256") is None:
            _record_hash(folder, entry["path"], actual, url)
    # The marker is written after the last member is out, so an interrupted unpack is redone next time.
    extracted = dest.with_name(f".{dest.name}.extracted")
    if entry.get("extract") and not extracted.is_file():
        safe_extract(dest, dest.parent)
        extracted.touch()
    return dest


def _retries() -> int:
    return int(os.environ.get(ENV_RETRIES, "2"))


def download(url: str, dest: Path, *, sha256: str | None = None, progress: bool = True) -> str:
    """Download ``url`` to ``dest`` through a temporary file; verify, then rename into place.

    Parameters
    ----------
    url
        HTTP(S) address.
    dest
        Final path; untouched unless the new file is complete and its hash matches.
    sha256
        Expected hex digest, or None to accept any content (the caller records the hash).
    progress
        Show a progress bar.

    Returns
    -------
    str
        The sha256 of the downloaded file.

    Raises
    ------
    DataUnavailableError
        The server cannot be reached (offline) or answered with an HTTP error, after retries.
    IncompleteDownloadError
        The connection closed before the whole file arrived.
    ChecksumError
        The file's sha256 differs from ``sha256``.
    """
    import pooch
    import requests

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}")
    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=60)
    attempts = _retries() + 1
    try:
        for attempt in range(1, attempts + 1):
            try:
                downloader(url, str(tmp), None)
                break
            except requests.exceptions.HTTPError as err:
                raise DataUnavailableError(
                    f"Downloading {url} failed: the server answered {err}. Check the URL in "
                    f"data_manifest.yaml, or use mode='demo'."
                ) from err
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as err:
                if attempt == attempts:
                    raise IncompleteDownloadError(
                        f"Downloading {url} stopped before the end of the file ({err}); the partial file was "
                        f"removed and {dest} was not touched. Try again: `python -m course_utils data fetch`."
                    ) from err
            except requests.exceptions.RequestException as err:
                if attempt == attempts:
                    raise DataUnavailableError(
                        f"Could not download {url} ({type(err).__name__}: {err}).\n"
                        f"{dest} is not cached and the server cannot be reached: you may be offline.\n"
                        "What to do: use the demo data, which need no network (mode='demo' or "
                        f"`export {ENV_MODE}=demo`); or download the file on a machine with internet, copy it "
                        f"to {dest}, and run `python -m course_utils data verify`."
                    ) from err
            time.sleep(min(2**attempt, 10) * 0.5)
        actual = file_sha256(tmp)
        if sha256 is not None and actual != sha256.lower():
            raise ChecksumError(
                f"Checksum mismatch for {url}: expected sha256 {sha256}, got {actual}. The download was "
                f"removed; {dest} was not touched. If the upstream file changed on purpose, update "
                "sha256 in data_manifest.yaml."
            )
        os.replace(tmp, dest)
        return actual
    finally:
        tmp.unlink(missing_ok=True)


def resolve_dandi_url(dandi: dict[str, str]) -> str:
    """Turn ``{dandiset, path, version}`` into a download URL with the DANDI REST API.

    The API base is ``$DANDI_API_URL`` if set (tests point it at a local server).
    """
    import requests

    api = os.environ.get(ENV_DANDI_API, DEFAULT_DANDI_API).rstrip("/")
    version = dandi.get("version", "draft")
    query = f"{api}/dandisets/{dandi['dandiset']}/versions/{version}/assets/"
    try:
        reply = requests.get(query, params={"path": dandi["path"]}, timeout=30)
        reply.raise_for_status()
    except requests.exceptions.RequestException as err:
        raise DataUnavailableError(
            f"Could not ask the DANDI archive for {dandi['path']} in dandiset {dandi['dandiset']} ({err}). "
            f"You may be offline: use mode='demo' (or `export {ENV_MODE}=demo`)."
        ) from err
    matches = [a for a in reply.json().get("results", []) if a.get("path") == dandi["path"]]
    if not matches:
        raise DataUnavailableError(
            f"DANDI dandiset {dandi['dandiset']} (version {version}) has no asset {dandi['path']!r}; "
            "check data_manifest.yaml."
        )
    return f"{api}/assets/{matches[0]['asset_id']}/download/"


def _record_hash(folder: Path, rel_path: str, sha256: str, url: str) -> None:
    record = folder / RECORDED_HASHES
    known = json.loads(record.read_text()) if record.is_file() else {}
    known[rel_path] = sha256
    record.write_text(json.dumps(known, indent=1, sort_keys=True))
    warnings.warn(
        f"No sha256 was known for {url}; recorded {sha256} in {record}. "
        f"Add `sha256: {sha256}` to this file's entry in data_manifest.yaml.",
        stacklevel=3,
    )


def file_sha256(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """sha256 hex digest of a file, read in 1 MiB chunks.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.txt"; _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:12]
    'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def safe_extract(archive: str | Path, target: str | Path) -> Path:
    """Unpack a zip archive inside ``target``, refusing members that would land outside it.

    Members are unpacked into a temporary folder beside ``target`` first and moved in once all are out,
    so a failure leaves nothing half-extracted.
    """
    archive, target = Path(archive), Path(target).resolve()
    staging = target / f".extract-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                dest = (staging / member).resolve()
                if not dest.is_relative_to(staging.resolve()):
                    raise DataError(f"{archive}: member {member!r} would be extracted outside {target}; refused.")
            zf.extractall(staging)
        for item in staging.iterdir():
            dest = target / item.name
            if dest.exists():
                shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
            os.replace(item, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# ----------------------------------------------------------------------------------------- full mode


def _full_folder(name: str, block: dict[str, Any]) -> Path:
    folder = source_folder(name, "full")
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    raise DataUnavailableError(
        f"The full {name!r} dataset is not in {folder}.\n{block['description'].strip()}\n"
        f"How to get it:\n{block['instructions'].rstrip()}"
    )


# ----------------------------------------------------------------------------------------- verify / clean


@dataclass
class FileStatus:
    """One row of :func:`verify`: a file (or demo set) and what was found."""

    source: str
    mode: str
    path: str
    status: str  # ok | missing | mismatch | unverified | stale
    detail: str = ""


def verify(names: list[str] | None = None, manifest: dict[str, Any] | None = None) -> list[FileStatus]:
    """Check every cached file against the manifest (sha256) and every demo set against its key.

    Returns one :class:`FileStatus` per expected file; nothing is downloaded or generated.
    """
    manifest = manifest or load_manifest()
    rows: list[FileStatus] = []
    for name in names or source_names(manifest):
        modes = source_info(name, manifest)["modes"]
        demo = modes["demo"]
        if not demo.get("synthetic"):
            folder = source_folder(name, "demo")
            current = folder / demo_key(demo)
            if (current / COMPLETE_MARKER).is_file():
                rows.append(FileStatus(name, "demo", str(current), "ok", "generated by " + demo["generator"]))
            else:
                rows.append(FileStatus(name, "demo", str(current), "missing", "generated on first use"))
            stale = [p for p in folder.glob("*") if p.is_dir() and p != current] if folder.is_dir() else []
            rows.extend(FileStatus(name, "demo", str(p), "stale", "older simulator version") for p in stale)
        if "sample" in modes:
            folder = source_folder(name, "sample")
            recorded_file = folder / RECORDED_HASHES
            recorded = json.loads(recorded_file.read_text()) if recorded_file.is_file() else {}
            for entry in modes["sample"].get("files", []):
                path = folder / entry["path"]
                expected = entry.get("sha256") or recorded.get(entry["path"])
                if not path.is_file():
                    rows.append(FileStatus(name, "sample", str(path), "missing", "fetch to download"))
                    continue
                actual = file_sha256(path)
                if expected is None:
                    rows.append(FileStatus(name, "sample", str(path), "unverified", f"sha256 {actual}"))
                elif actual == expected:
                    rows.append(FileStatus(name, "sample", str(path), "ok", f"sha256 {actual[:12]}…"))
                else:
                    rows.append(
                        FileStatus(name, "sample", str(path), "mismatch", f"expected {expected}, got {actual}")
                    )
    return rows


def clean(names: list[str] | None = None, mode: str | None = None, stale_only: bool = False) -> list[Path]:
    """Delete cached data; returns the folders removed.

    Parameters
    ----------
    names
        Sources to clean (default: all).
    mode
        Only this mode (default: all modes).
    stale_only
        Only demo sets written by an older simulator version.
    """
    manifest = load_manifest()
    removed = []
    for name in names or source_names(manifest):
        source_info(name, manifest)
        if stale_only:
            removed += [Path(r.path) for r in verify([name], manifest) if r.status == "stale"]
        else:
            modes = [data_mode(mode)] if mode else list(MODES)
            removed += [source_folder(name, m) for m in modes if source_folder(name, m).exists()]
    for folder in removed:
        shutil.rmtree(folder)
    return removed


def describe_sources(manifest: dict[str, Any] | None = None):
    """A table of the sources and what each mode means (a pandas DataFrame, for chapters).

    Examples
    --------
    >>> describe_sources().columns.tolist()[:3]
    ['source', 'title', 'license']
    """
    import pandas as pd

    manifest = manifest or load_manifest()
    rows = []
    for name, info in manifest["sources"].items():
        rows.append(
            {
                "source": name,
                "title": info["title"],
                "license": info["license"],
                "modes": ", ".join(info["modes"]),
                "demo": " ".join(info["modes"]["demo"]["description"].split()),
            }
        )
    return pd.DataFrame(rows)
