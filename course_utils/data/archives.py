"""Unpacking zip archives safely: inside their folder, within limits, never over a file they did not write.

Every member is checked before anything is written: its name must stay inside the target folder; symbolic
links, devices and encrypted members are refused; the number of members, their total unpacked size and the
archive's compression ratio are capped (:class:`ArchiveLimits`), and the disk must have room. Members are
unpacked into a staging folder beside the target and moved in only when all are out (zip's CRC checks every
byte on the way), so a failure leaves nothing half-extracted.

Taught in chapter ``00_setup_and_data``.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import ArchiveError
from .safety import remove_tree

__all__ = ["ArchiveLimits", "EXTRACT_PREFIX", "archive_members", "safe_extract"]

EXTRACT_PREFIX = ".extract-"


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on what one archive may unpack (a damaged or hostile archive must not fill the disk).

    The defaults are far above any archive of the course (a Sensorium mouse: a few thousand members, a few GB,
    compression ratio below 10) and far below what a zip bomb needs. A single member's ratio is not capped:
    a file of zeros (Sensorium's withheld test responses) legitimately compresses about 1000-fold.

    Attributes
    ----------
    max_members
        Members (files and folders) in the archive.
    max_unpacked_bytes
        Total size of the unpacked members, as declared by the archive (zip enforces it while reading).
    max_ratio
        Total unpacked size / total compressed size.
    """

    max_members: int = 200_000
    max_unpacked_bytes: int = 200 * 10**9
    max_ratio: float = 100.0


def _member_path(archive: Path, info: zipfile.ZipInfo) -> PurePosixPath:
    name = info.filename
    path = PurePosixPath(name)
    if not name or name.startswith(("/", "\\")) or "\\" in name or ".." in path.parts or path.parts[0].endswith(":"):
        raise ArchiveError(f"{archive}: member {name!r} would be extracted outside its folder; refused.")
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise ArchiveError(
            f"{archive}: member {name!r} is a symbolic link; refused (a data archive holds only files and folders, "
            "and a link could point outside the folder). Ask the data's provider, or unpack it by hand after checking it."
        )
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveError(f"{archive}: member {name!r} is not a regular file or folder (mode {oct(kind)}); refused.")
    if info.flag_bits & 0x1:
        raise ArchiveError(f"{archive}: member {name!r} is encrypted; the course cannot unpack password-protected archives.")
    return path


def archive_members(archive: str | Path, limits: ArchiveLimits = ArchiveLimits()) -> list[str]:
    """Check an archive's members without unpacking anything; return its top-level names.

    Raises
    ------
    ArchiveError
        Not a zip archive, a member that would land outside the folder, a link or special file, or a limit of
        :class:`ArchiveLimits` exceeded; the message names the archive and the member.

    Examples
    --------
    >>> import io, tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.zip"
    >>> with zipfile.ZipFile(p, "w") as zf: zf.writestr("mouse/x.npy", "x")
    >>> archive_members(p)
    ['mouse']
    """
    archive = Path(archive)
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ArchiveError(
            f"{archive} is not a readable zip archive ({err}): it may be an error page or a truncated download. "
            "Delete it and fetch again; if that keeps happening, check the URL and `extract:` in data_manifest.yaml."
        ) from err
    if len(infos) > limits.max_members:
        raise ArchiveError(f"{archive} has {len(infos):,} members, more than the limit of {limits.max_members:,}; refused.")
    unpacked = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if unpacked > limits.max_unpacked_bytes:
        raise ArchiveError(
            f"{archive} would unpack to {unpacked / 1e9:.1f} GB, more than the limit of "
            f"{limits.max_unpacked_bytes / 1e9:.1f} GB; refused."
        )
    if packed and unpacked / packed > limits.max_ratio:
        raise ArchiveError(
            f"{archive} would unpack {unpacked / packed:.0f} times its compressed size (limit {limits.max_ratio:.0f}): "
            "a zip bomb or a damaged archive; refused."
        )
    tops = []
    for info in infos:
        top = _member_path(archive, info).parts[0]
        if top not in tops:
            tops.append(top)
    return tops


def safe_extract(
    archive: str | Path,
    target: str | Path,
    *,
    replace: Iterable[str] = (),
    limits: ArchiveLimits = ArchiveLimits(),
) -> list[str]:
    """Unpack a zip archive inside ``target``; return the top-level names it wrote.

    Parameters
    ----------
    archive
        The zip file.
    target
        The folder to unpack into.
    replace
        Top-level names in ``target`` that an earlier unpacking of this archive wrote and that may be replaced.
        Any other existing file or folder with a member's top-level name makes the call fail before anything
        is written: nothing is ever overwritten silently.
    limits
        Caps on members, unpacked size and compression ratio.

    Raises
    ------
    ArchiveError
        See :func:`archive_members`; also a name clash with a file it did not write, too little free disk
        space, or a damaged member (CRC error). Nothing is changed in ``target``.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); p = d / "a.zip"
    >>> with zipfile.ZipFile(p, "w") as zf: zf.writestr("mouse/x.npy", "x")
    >>> safe_extract(p, d / "out")
    ['mouse']
    >>> safe_extract(p, d / "out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    course_utils.data.errors.ArchiveError: ...mouse already exists and was not unpacked from ...
    """
    archive, target = Path(archive), Path(target)
    tops = archive_members(archive, limits)
    replace = set(replace)
    target.mkdir(parents=True, exist_ok=True)
    for top in tops:
        existing = target / top
        if (existing.exists() or existing.is_symlink()) and top not in replace:
            raise ArchiveError(
                f"{existing} already exists and was not unpacked from {archive.name}: unpacking would overwrite it, "
                "so nothing was unpacked. Move it elsewhere (or delete it) and fetch again."
            )
    with zipfile.ZipFile(archive) as zf:
        needed = sum(info.file_size for info in zf.infolist())
    free = shutil.disk_usage(target).free
    if needed > free:
        raise ArchiveError(
            f"Unpacking {archive} needs {needed / 1e9:.1f} GB but only {free / 1e9:.1f} GB are free in {target}: "
            "free some space (e.g. `python -m course_utils data clean --stale`) and fetch again."
        )
    staging = target / f"{EXTRACT_PREFIX}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            try:
                zf.extractall(staging)
            except (zipfile.BadZipFile, zlib.error, EOFError) as err:
                raise ArchiveError(f"{archive} is damaged ({err}); delete it and fetch again.") from err
        for top in tops:
            dest = target / top
            if dest.exists() or dest.is_symlink():
                remove_tree(dest)  # an earlier unpacking of this archive: replaced as a whole
            os.replace(staging / top, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tops
