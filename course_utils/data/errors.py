"""The data layer's errors: one base class, so callers (and the command line) can catch them all.

Every message names the file, folder, URL or setting concerned, and says what to do.
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "ChecksumError",
    "DataError",
    "DataUnavailableError",
    "IncompleteDownloadError",
    "SettingError",
]


class DataError(RuntimeError):
    """Base class for the data layer's errors."""


class DataUnavailableError(DataError):
    """The data are not cached and cannot be downloaded (offline, or a server refused)."""


class ChecksumError(DataError):
    """A downloaded file's sha256 (or exact size) differs from the one the manifest expects."""


class IncompleteDownloadError(DataError):
    """The server sent less than the whole file, or nothing shows that it sent all of it."""


class ArchiveError(DataError):
    """An archive is damaged, is not an archive, or would unpack somewhere or something it must not."""


class SettingError(DataError):
    """An environment variable or folder the data layer needs has an unusable value."""
