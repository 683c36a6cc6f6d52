"""Local paths for the course's data sources, in three modes: ``demo``, ``sample`` and ``full``.

One call per source::

    from course_utils.data import get_source
    folder = get_source("neurotask")            # demo data, generated once and reused
    folder = get_source("neurotask", "sample")  # real files, downloaded once and checked

* The mode comes from the ``mode`` argument, else the ``COURSE_DATA_MODE`` environment variable, else
  ``demo`` (which works offline).
* Data live under ``COURSE_DATA_DIR``, else the platform's cache folder (:func:`data_dir`), as
  ``<data_dir>/<source>/<mode>/``.

What is guaranteed:

* **Atomic.** Demo sets and downloads are written under temporary names (``.tmp-*``, ``.part-*``) and renamed
  into place only when complete and checked; deleting moves a folder aside (``.trash-*``) before removing it.
  A crash, a cut connection, SIGTERM or a failed check never leaves a half-written file where the course looks,
  and never damages a good cached copy.
* **Locked.** Generating, downloading and cleaning hold a lock per (source, mode): two notebooks asking for the
  same data at once generate or download it once; ``clean`` skips data being written.
* **Verified.** A download is kept only if its sha256 (or exact size, or the server's Content-Length) shows
  it is whole and right; ``verify`` re-hashes every cached file and says which could not be checked.

The modules, by job: :mod:`~.settings` (modes, folders, environment variables), :mod:`~.demo` (demo sets and
their cache key), :mod:`~.remote` (pooch downloads, DANDI), :mod:`~.sample` (one manifest entry: cached copy, record,
unpacking), :mod:`~.archives` (safe unpacking),
:mod:`~.safety` (locks, SIGTERM, safe deletion), :mod:`~.maintenance` (``verify`` and ``clean``).

Taught in chapter ``00_setup_and_data``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..manifest import load_manifest
from .archives import ArchiveLimits, archive_members, safe_extract
from .demo import COMPLETE_MARKER, demo_fingerprint, demo_folder, demo_key
from .errors import (
    ArchiveError,
    ChecksumError,
    DataError,
    DataUnavailableError,
    IncompleteDownloadError,
    SettingError,
)
from .maintenance import CleanItem, ConfirmationRequired, FileStatus, clean, folder_size, plan_clean, verify
from .remote import Downloaded, download, file_sha256, resolve_dandi_url
from .safety import cleanup_on_sigterm, is_locked, source_lock
from .sample import RECORDED_HASHES, entry_ready, fetch_file, read_records
from .settings import (
    DEFAULT_DANDI_API,
    ENV_DANDI_API,
    ENV_DIR,
    ENV_MODE,
    ENV_RETRIES,
    data_dir,
    data_mode,
    describe_sources,
    mode_info,
    source_folder,
    source_info,
    source_names,
    writable_folder,
)

__all__ = [
    "COMPLETE_MARKER",
    "DEFAULT_DANDI_API",
    "ENV_DANDI_API",
    "ENV_DIR",
    "ENV_MODE",
    "ENV_RETRIES",
    "RECORDED_HASHES",
    "ArchiveError",
    "ArchiveLimits",
    "ChecksumError",
    "CleanItem",
    "ConfirmationRequired",
    "DataError",
    "DataUnavailableError",
    "Downloaded",
    "FileStatus",
    "IncompleteDownloadError",
    "SettingError",
    "archive_members",
    "clean",
    "data_dir",
    "data_mode",
    "demo_fingerprint",
    "demo_key",
    "describe_sources",
    "download",
    "fetch_file",
    "file_sha256",
    "folder_size",
    "get_source",
    "is_locked",
    "load_manifest",
    "mode_info",
    "plan_clean",
    "read_records",
    "resolve_dandi_url",
    "safe_extract",
    "source_folder",
    "source_info",
    "source_lock",
    "source_names",
    "verify",
]


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
        A manifest dict (tests pass their own); the course's (or ``$COURSE_DATA_MANIFEST``) by default.
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
    ChecksumError, IncompleteDownloadError, ArchiveError
        A download failed its checks; nothing was kept and the cache was not touched.
    SettingError
        ``COURSE_DATA_DIR`` or ``COURSE_DATA_RETRIES`` is unusable (the message says how to fix it).

    Examples
    --------
    >>> folder = get_source("neurotask")          # doctest: +SKIP
    >>> sorted(p.name for p in folder.glob("*.parquet"))[:1]   # doctest: +SKIP
    ['1_10_Simulated_RandomTarget.parquet']

    Taught in chapter 00_setup_and_data.
    """
    manifest = manifest or load_manifest()
    mode = data_mode(mode)
    block = mode_info(name, mode, manifest)
    if mode == "demo":
        return demo_folder(name, block)
    if mode == "sample":
        return _sample_folder(name, block, progress=progress)
    return _full_folder(name, block)


def _sample_folder(name: str, block: dict[str, Any], progress: bool = True) -> Path:
    folder = source_folder(name, "sample")
    files = block.get("files", [])
    if not files:
        raise DataUnavailableError(
            f"Source {name!r} lists no sample files in data_manifest.yaml. {block['description'].strip()}"
        )
    records = read_records(folder)
    if all(entry_ready(entry, folder, records) for entry in files):
        return folder
    writable_folder(folder)
    with cleanup_on_sigterm(), source_lock(name, "sample"):
        for entry in files:
            fetch_file(entry, folder, progress=progress)
    return folder


def _full_folder(name: str, block: dict[str, Any]) -> Path:
    folder = source_folder(name, "full")
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    raise DataUnavailableError(
        f"The full {name!r} dataset is not in {folder}.\n{block['description'].strip()}\n"
        f"How to get it:\n{block['instructions'].rstrip()}"
    )
