"""Sample files, one manifest entry at a time: the cached copy, the download, its record, the unpacking.

* **Cached copy.** A file already in the sample folder is used if it matches the manifest: its sha256 (checked
  again whenever its size or modification time changed), else its exact ``size``. A file that no longer
  matches is downloaded again (through :func:`~.remote.download`, so a failed download leaves it untouched).
* **Records.** ``recorded_sha256.json`` notes each download's sha256, size and how its completeness was
  checked. For a file the manifest gives no sha256 for, that hash is reported so it can be added to the
  manifest, but it is never taken as the truth: ``verify`` calls such files "unchecked".
* **Unpacking.** An ``extract: true`` archive is unpacked beside itself by :func:`~.archives.safe_extract`,
  and ``.<name>.extracted.json`` records the archive's sha256 and the names it wrote. Another archive (a
  corrected upload) is unpacked again, replacing only what the previous one wrote; an interrupted unpacking
  (marker not complete) is redone.

Taught in chapter ``00_setup_and_data``.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from .archives import archive_members, safe_extract
from .errors import ArchiveError
from .remote import download, file_sha256, resolve_dandi_asset
from .safety import remove_tree

__all__ = ["RECORDED_HASHES", "entry_ready", "extraction_marker", "fetch_file", "read_records"]

RECORDED_HASHES = "recorded_sha256.json"


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
