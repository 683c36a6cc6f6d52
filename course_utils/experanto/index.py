"""Fast start-up: parse the screen's per-trial YAML files once and cache the table OUTSIDE the data folder.

Upstream parsed thousands of ``meta/<trial>.yml`` files on every open (seconds per experiment), then added a
JSON cache written *into* the data folder, which fails on read-only data (a shared lab drive, a course
cache). Here the table is cached under :func:`index_cache_dir` (``$COURSE_EXPERANTO_CACHE``, else the
platform's user cache folder), keyed by the folder's path and the names, sizes and modification times of its
meta files, so an edited file invalidates the cache. The data folder is never written.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import platformdirs
import yaml

from ..fileio import BadFileError, read_yaml

__all__ = ["index_cache_dir", "load_trial_table", "build_index", "cached_nan_indices", "TRIAL_KEYS"]

ENV_CACHE = "COURSE_EXPERANTO_CACHE"
TRIAL_KEYS = ("modality", "first_frame_idx")  # num_frames: videos only, and derivable
_FIX = "Fix or regenerate the trial file (course_utils.experanto.writer writes them)."
_TRIAL_FILE = re.compile(r"\d+\.yml")  # upstream reads numbered files only (00000.yml ...)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when available: ~10x faster


def index_cache_dir() -> Path:
    """Folder of the start-up caches (``$COURSE_EXPERANTO_CACHE`` or the user cache folder).

    Examples
    --------
    >>> isinstance(index_cache_dir(), Path)
    True

    Taught in chapter 04_experanto_chunks.
    """
    env = os.environ.get(ENV_CACHE)
    base = Path(env) if env else Path(platformdirs.user_cache_dir("course_utils"))
    return base if env else base / "experanto_index"


def _fingerprint(paths: list[os.DirEntry] | list[Path], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for p in paths:
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:24]


def _parse_trials(meta_dir: Path, entries: list[os.DirEntry]) -> list[dict]:
    rows = []
    for entry in entries:
        path = Path(entry.path)
        try:
            meta = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (a safe loader)
        except (yaml.YAMLError, UnicodeDecodeError):
            read_yaml(path, fix=_FIX)  # the pure-Python parser's message, with line and column
            raise
        if not isinstance(meta, dict):
            raise BadFileError(path, f"is not a YAML mapping (got {type(meta).__name__}).", _FIX)
        missing = [k for k in TRIAL_KEYS if k not in meta]
        if missing:
            raise KeyError(f"{entry.path} lacks {missing}: every screen trial needs {list(TRIAL_KEYS)}.")
        if not isinstance(meta["first_frame_idx"], int) or isinstance(meta["first_frame_idx"], bool):
            raise BadFileError(path, f"first_frame_idx must be an integer; got {meta['first_frame_idx']!r}.", _FIX)
        meta["stem"] = entry.name[: -len(".yml")]
        rows.append(meta)
    return rows


def load_trial_table(screen_folder: str | Path, cache_dir: str | Path | None = None) -> pd.DataFrame:
    """The screen's trials as a table (one row per ``meta/<trial>.yml``, in display order).

    Parameters
    ----------
    screen_folder
        ``<experiment>/screen``.
    cache_dir
        Cache folder (default :func:`index_cache_dir`); pass ``False``-y ``""`` to disable caching.

    Returns
    -------
    pandas.DataFrame
        Columns ``stem`` (file stem), ``modality``, ``first_frame_idx``, ``image_size``, ``tier`` ...
        (every key found in the YAML files; ``num_frames`` only if some file has it), sorted by
        ``first_frame_idx``. :class:`~course_utils.experanto.interpolators.ScreenInterpolator` completes
        ``num_frames`` (stored frames per trial).

    Examples
    --------
    >>> import tempfile; from course_utils.experanto.writer import write_screen_modality
    >>> d = tempfile.mkdtemp(); write_screen_modality(d, np.arange(2.0), [
    ...     {"modality": "image", "data": np.zeros((2, 2)), "tier": "train"},
    ...     {"modality": "blank", "image_size": [2, 2], "interleave_value": 0.0, "tier": "blank"}])
    >>> load_trial_table(d, cache_dir="")[["stem", "modality", "tier"]].values.tolist()
    [['00000', 'image', 'train'], ['00001', 'blank', 'blank']]

    Taught in chapter 04_experanto_chunks.
    """
    folder = Path(screen_folder).resolve()
    meta_dir = folder / "meta"
    if not meta_dir.is_dir():
        raise FileNotFoundError(f"{meta_dir} is missing: the screen needs one meta/<trial>.yml per trial.")
    entries = sorted((e for e in os.scandir(meta_dir) if _TRIAL_FILE.fullmatch(e.name)),
                     key=lambda e: int(e.name[:-4]))
    if not entries:
        raise FileNotFoundError(f"{meta_dir} holds no numbered trial files (00000.yml, 00001.yml ...).")
    use_cache = cache_dir is None or bool(cache_dir)
    cache_file = None
    if use_cache:
        cache_root = Path(cache_dir) if cache_dir else index_cache_dir()
        cache_file = cache_root / f"trials-{_fingerprint(entries, str(folder))}.json"
        if cache_file.is_file():
            try:
                return _to_table(json.loads(cache_file.read_text()))
            except (ValueError, KeyError):
                pass  # a damaged cache is rebuilt below
    rows = _parse_trials(meta_dir, entries)
    if cache_file is not None:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(rows, default=str))
            os.replace(tmp, cache_file)
        except OSError:
            pass  # a read-only cache folder only costs speed
    return _to_table(rows)


def _to_table(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    table = table.sort_values("first_frame_idx", kind="stable").reset_index(drop=True)
    if "image_size" not in table:
        table["image_size"] = None
    return table


def build_index(experiment: str | Path, cache_dir: str | Path | None = None) -> Path:
    """Parse an experiment's screen trial files into the cache now (e.g. once after copying the data).

    Returns the cache folder. The data folder is not written.

    Examples
    --------
    >>> build_index("/path/to/experiment")  # doctest: +SKIP

    Taught in chapter 04_experanto_chunks.
    """
    load_trial_table(Path(experiment) / "screen", cache_dir=cache_dir)
    return Path(cache_dir) if cache_dir else index_cache_dir()


def cached_nan_indices(interpolator, cache_dir: str | Path | None = None) -> np.ndarray:
    """Sample indices with a NaN in any signal of a sequence modality, cached like the trial table.

    Scanning a large response matrix takes seconds, so the result is keyed by the data file's size and
    modification time and stored in the cache folder.

    Taught in chapter 04_experanto_chunks.
    """
    data_path = next(p for p in (interpolator.folder / "data.mem", interpolator.folder / "data.npy") if p.is_file())
    use_cache = cache_dir is None or bool(cache_dir)
    if not use_cache:
        return interpolator.nan_sample_indices()
    cache_root = Path(cache_dir) if cache_dir else index_cache_dir()
    cache_file = cache_root / f"nans-{_fingerprint([data_path], str(data_path.resolve()))}.npy"
    if cache_file.is_file():
        try:
            return np.load(cache_file, allow_pickle=False)
        except (ValueError, OSError):
            pass
    bad = interpolator.nan_sample_indices()
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_name(f"{cache_file.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, bad)
        os.replace(tmp, cache_file)
    except OSError:
        pass
    return bad
