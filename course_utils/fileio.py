"""Safe, explicit readers for the small files every source keeps beside its data.

One place for the rules the whole course follows: data never execute code (``allow_pickle=False``,
``weights_only=True``, ``yaml.safe_load``), and a file that cannot be read gives an error that names the file,
says what is wrong with it, and what to do. Source readers (NeuroTask, Allen, Sensorium, Experanto) and the
model checkpoints call these instead of ``np.load``/``torch.load``/``yaml.safe_load`` directly.

Taught in chapter 00_setup_and_data.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BadFileError", "load_npy", "load_npz", "load_torch_weights", "read_json", "read_yaml"]


class BadFileError(ValueError):
    """A file exists but cannot be used; the message names it, what is wrong, and the fix.

    Attributes
    ----------
    path
        The offending file.
    """

    def __init__(self, path: str | Path, problem: str, fix: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: {problem} {fix}".strip())


def _missing(path: Path, fix: str) -> FileNotFoundError:
    return FileNotFoundError(f"{path} does not exist. {fix}".strip())


def load_npy(
    path: str | Path,
    *,
    mmap_mode: str | None = None,
    ndim: int | tuple[int, ...] | None = None,
    fix: str = "",
) -> np.ndarray:
    """Read one ``.npy`` array without ever unpickling, with an error that names the file.

    Parameters
    ----------
    path
        The ``.npy`` file.
    mmap_mode
        As in :func:`numpy.load` (``"r"`` maps the file instead of reading it).
    ndim
        Expected number of dimensions (or several allowed); ``None`` accepts any.
    fix
        What the learner should do if the file is missing or bad (appended to the message).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    BadFileError
        The file holds pickled objects (refused: data never run code), is truncated or not a ``.npy`` file,
        or has the wrong number of dimensions.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.npy"; np.save(p, np.arange(3))
    >>> load_npy(p).tolist()
    [0, 1, 2]
    >>> np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    >>> load_npy(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    course_utils.fileio.BadFileError: ...a.npy: holds pickled Python objects, which the course never loads ...
    """
    path = Path(path)
    if not path.is_file():
        raise _missing(path, fix)
    try:
        array = np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except ValueError as err:
        if "pickle" in str(err).lower() or "python objects" in str(err).lower():  # np.load, mmap or not
            raise BadFileError(
                path,
                "holds pickled Python objects, which the course never loads (unpickling can run code).",
                fix or "Replace it with a plain numeric .npy file (np.save(path, array) of a numeric array).",
            ) from err
        raise BadFileError(path, f"is not a readable .npy array ({err}); it may be truncated.",
                           fix or "Download or regenerate it.") from err
    except (OSError, EOFError) as err:
        raise BadFileError(path, f"could not be read as a .npy array ({type(err).__name__}: {err}).",
                           fix or "It may be truncated or another kind of file: download or regenerate it.") from err
    if isinstance(array, np.lib.npyio.NpzFile):  # an .npz renamed .npy
        array.close()
        raise BadFileError(path, "is an .npz archive, not a single .npy array.", fix)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            raise BadFileError(
                path,
                f"has {array.ndim} dimension(s) (shape {array.shape}); expected {' or '.join(map(str, allowed))}.",
                fix,
            )
    return array


def load_npz(path: str | Path, *, fix: str = "") -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` archive into a dict, never unpickling; errors name the file.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.npz"; np.savez(p, x=np.arange(2))
    >>> {k: v.tolist() for k, v in load_npz(p).items()}
    {'x': [0, 1]}
    """
    path = Path(path)
    if not path.is_file():
        raise _missing(path, fix)
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as err:
        raise BadFileError(path, f"holds pickled objects or is not a readable .npz archive ({err}).",
                           fix or "Regenerate it with np.savez of numeric arrays.") from err
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise BadFileError(path, f"could not be read as an .npz archive ({type(err).__name__}: {err}).",
                           fix or "It may be truncated: download or regenerate it.") from err


def load_torch_weights(path: str | Path, *, fix: str = "") -> Any:
    """``torch.load(path, weights_only=True)`` with the course's own message when it refuses a file.

    torch's own error advises re-running with ``weights_only=False``, which would let the file run code: this
    function never passes that advice on.

    Parameters
    ----------
    path
        A file written by ``torch.save`` of tensors, dicts, lists and plain numbers.
    fix
        What to do instead (e.g. "retrain and save with ...save()").

    Raises
    ------
    FileNotFoundError, BadFileError

    Examples
    --------
    >>> import tempfile, torch
    >>> p = Path(tempfile.mkdtemp()) / "w.pt"; torch.save({"w": torch.ones(2)}, p)
    >>> load_torch_weights(p)["w"].tolist()
    [1.0, 1.0]
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise _missing(path, fix)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds here; every one means "not a plain weights file"
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        if "weights_only" in str(err) or isinstance(err, pickle.UnpicklingError):
            problem = ("is not a plain weights file: it asks to run code or build arbitrary Python objects while "
                       "loading, which the course never allows.")
        else:
            problem = f"is not a readable torch weights file ({reason}); it may be truncated or of another kind."
        raise BadFileError(path, problem, fix or "Use a checkpoint written by this course's save functions.") from None


def read_yaml(path: str | Path, *, fix: str = "") -> Any:
    """Parse a YAML file with ``yaml.safe_load`` (no object construction); errors name the file and line.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "m.yml"; _ = p.write_text("a: 1\\n")
    >>> read_yaml(p)
    {'a': 1}
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise _missing(path, fix)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise BadFileError(path, "is not a text file (YAML expected).", fix) from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise BadFileError(path, f"is not valid YAML{where}: {problem}.", fix or "Fix or regenerate the file.") from err


def read_json(path: str | Path, *, fix: str = "") -> Any:
    """Parse a JSON file; errors name the file, line and column.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "m.json"; _ = p.write_text('{"a": [1, 2]}')
    >>> read_json(p)
    {'a': [1, 2]}
    """
    path = Path(path)
    if not path.is_file():
        raise _missing(path, fix)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise BadFileError(path, "is not a text file (JSON expected).", fix) from err
    except json.JSONDecodeError as err:
        raise BadFileError(path, f"is not valid JSON at line {err.lineno}, column {err.colno}: {err.msg}.",
                           fix or "Fix or regenerate the file.") from err
