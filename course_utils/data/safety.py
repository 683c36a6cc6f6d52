"""What keeps the cache consistent: a lock per (source, mode), cleanup on SIGTERM, delete-by-moving-aside.

* **Locks.** Generating, downloading and cleaning a source's data for one mode hold a file lock
  (``<data_dir>/.locks/<source>.<mode>.lock``, from the ``filelock`` package). A second process that wants the
  same data waits and then finds them ready; ``data clean`` skips data whose lock is held.
* **SIGTERM.** While data are written, SIGTERM (a closed terminal, ``kill``, a CI timeout) raises inside the
  writer, so its ``finally`` blocks remove temporary files; the process then ends as SIGTERM would have ended it.
  SIGKILL cannot be caught: its leftovers are labelled by ``verify`` and removed by ``clean --stale``.
* **Deleting.** A folder is first renamed out of place (``.trash-*`` beside it), then deleted. If deletion
  fails half-way, nothing half-deleted is left where the data layer looks.

Taught in chapter ``00_setup_and_data``.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import DataError
from .settings import data_dir, writable_folder

__all__ = ["LOCKS_FOLDER", "TRASH_PREFIX", "cleanup_on_sigterm", "is_locked", "lock_path", "move_aside", "remove_tree", "source_lock"]

LOCKS_FOLDER = ".locks"
TRASH_PREFIX = ".trash-"


def lock_path(source: str, mode: str) -> Path:
    """The lock file of one source's data in one mode.

    Examples
    --------
    >>> lock_path("neurotask", "demo").name
    'neurotask.demo.lock'
    """
    return data_dir() / LOCKS_FOLDER / f"{source}.{mode}.lock"


class SourceBusyError(DataError):
    """Another process holds the lock of this source and mode."""


@contextmanager
def source_lock(source: str, mode: str, *, wait: bool = True) -> Iterator[None]:
    """Hold the lock of ``(source, mode)``; wait for another holder (with a message), or fail at once.

    Parameters
    ----------
    wait
        ``True``: wait as long as another process holds it (generating or downloading takes minutes at most).
        ``False``: raise :class:`SourceBusyError` at once (``clean`` uses this to skip busy data).
    """
    from filelock import FileLock, Timeout

    path = lock_path(source, mode)
    writable_folder(path.parent)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise SourceBusyError(
                f"The {mode} data of {source!r} are being written by another process (lock {path}); try again when "
                "it has finished."
            ) from None
        print(
            f"Another process is preparing the {mode} data of {source!r}; waiting for it to finish (lock {path}) ...",
            file=sys.stderr,
        )
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def is_locked(source: str, mode: str) -> bool:
    """True if another process holds the lock of ``(source, mode)`` now (nothing is created).

    Examples
    --------
    >>> is_locked("no-such-source", "demo")
    False
    """
    from filelock import FileLock, Timeout

    path = lock_path(source, mode)
    if not path.is_file():
        return False
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


class Terminated(BaseException):
    """Raised in the main thread when SIGTERM arrives while data are being written (then the process ends)."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


@contextmanager
def cleanup_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into an exception while the body runs, so temporary files are removed, then end the process.

    Only installed in the main thread and only over Python's default handler (a framework with its own
    SIGTERM handler keeps it; then leftovers are labelled by ``verify`` and removed by ``clean --stale``).
    Nested uses are free.
    """
    installable = (
        threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    )
    if not installable:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    except Terminated:
        # The writers' finally blocks have run: end the way SIGTERM would have ended the process.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def move_aside(path: Path) -> Path | None:
    """Rename ``path`` out of place (``.trash-<name>-<id>`` in the same folder); returns the new path.

    A symbolic link is removed (its target is not touched) and ``None`` is returned.
    """
    path = Path(path)
    if path.is_symlink():
        path.unlink()
        return None
    trash = path.with_name(f"{TRASH_PREFIX}{path.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(path, trash)
    except OSError as err:
        raise DataError(
            f"Could not move {path} out of place before deleting it ({err.strerror or err}); nothing was deleted. "
            "Check the folder's permissions, or delete it by hand."
        ) from err
    return trash


def remove_tree(path: Path) -> None:
    """Delete a file or folder safely: move it aside first, then delete the moved copy.

    Raises
    ------
    DataError
        The moved copy could not be deleted completely; the original location is already empty, and
        ``python -m course_utils data clean --stale`` deletes the rest later.
    """
    trash = move_aside(path)
    if trash is None:
        return
    try:
        if trash.is_dir():
            shutil.rmtree(trash)
        else:
            trash.unlink()
    except OSError as err:
        raise DataError(
            f"{path} was moved aside to {trash} but could not be deleted completely ({err.strerror or err}). "
            "Nothing half-deleted is left where the course looks for data; "
            "`python -m course_utils data clean --stale` deletes the rest."
        ) from err
