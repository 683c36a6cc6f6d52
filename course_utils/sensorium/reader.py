"""Read one Sensorium 2023 mouse folder (``dynamic<ids>-Video-<hash>/``) as the competition distributes it.

This is the course's one reader of the Sensorium layout: the datasets, metrics, validator and the Experanto
converter all build on it. A mouse folder holds one ``.npy`` file per trial and kind under ``data/``
(``videos`` (36, 64, T), ``responses`` (neurons, T), ``behavior`` (2, T): pupil dilation and running speed,
``pupil_center`` (2, T)) and the per-mouse tables under ``meta/`` (neuron ids and positions, trial tiers and
condition hashes, statistics of every kind). Trials are NaN-padded to a common length: a trial's true length is
the index of the first NaN in ``video[0, 0, :]``.

The real release has conventions a reader must accept (``/work/shared/docs/REAL_FILES.md``):

* ``meta/trials/trial_idx.npy`` holds *strings* (hashed recording ids; image trials look like ``"a--b"``) and
  is missing for the earlier mice: :attr:`SensoriumMouse.trial_idx` is the stored array or ``None``, and
  :meth:`SensoriumMouse.recording_order` falls back to file order when it cannot give the recording order.
* Statistics may carry an extra frame axis (per-neuron *and* per-frame): :meth:`SensoriumMouse.statistics`
  reduces it explicitly (``frame_reduction="pool"``) or returns it as stored (``"none"``).
* Only the first :data:`SCORED_FRAMES` frames of a trial count in the challenge.

Every file is read with :func:`course_utils.fileio.load_npy` (never unpickling); a missing, truncated,
pickled or wrong-shaped file raises an error that names it and says what to do.

Taught in chapter 03_sensorium_data.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ..fileio import BadFileError, load_npy

# Every Sensorium 2023 recording (videos, responses, behaviour, pupil) is sampled at 30 Hz.
SENSORIUM_FRAME_RATE_HZ = 30.0
SCORED_FRAMES = 300
"""Only the first 300 frames of a trial are used by the challenge (longer trials are cut there)."""
DATA_KINDS = ("videos", "responses", "behavior", "pupil_center")
STATISTICS = ("min", "max", "mean", "median", "std")
TIERS = ("train", "oracle", "live_test_main", "live_test_bonus", "final_test_main", "final_test_bonus", "none")
TEST_TIERS = ("live_test_main", "live_test_bonus", "final_test_main", "final_test_bonus")
BEHAVIOR_CHANNELS = ("pupil_dilation", "running_speed")
PUPIL_CENTER_CHANNELS = ("pupil_x", "pupil_y")
FRAME_REDUCTIONS = ("pool", "none")
DEFAULT_CACHE_BYTES = 1 << 30  # trial arrays kept in memory per mouse (a real mouse has ~10 GB of them)

_REFETCH = ("Unzip the mouse archive again (python -m course_utils data fetch sensorium2023 --mode sample), "
            "or regenerate the demo (python -m course_utils data clean sensorium2023, then data fetch sensorium2023).")


def _load(path: Path, ndim: int | tuple[int, ...] | None = None, mmap: bool = False) -> np.ndarray:
    return load_npy(path, ndim=ndim, mmap_mode="r" if mmap else None, fix=_REFETCH)


def trial_length(video: np.ndarray) -> int:
    """The true number of frames of a trial: the first NaN in ``video[0, 0, :]`` (or T if none).

    Parameters
    ----------
    video
        One trial's video, (height, width, frames), NaN-padded after the trial's end.

    Returns
    -------
    int
        Number of valid frames.

    Examples
    --------
    >>> v = np.zeros((2, 2, 5)); v[..., 3:] = np.nan
    >>> trial_length(v)
    3

    Taught in chapter 03_sensorium_data.
    """
    if video.ndim != 3:
        raise ValueError(f"trial_length expects a video of shape (height, width, frames); got {video.shape}.")
    nan = np.isnan(video[0, 0, :])
    return int(np.argmax(nan)) if nan.any() else int(video.shape[-1])


def _is_mouse_folder(path: Path) -> bool:
    return path.is_dir() and path.name.startswith("dynamic") and (path / "meta" / "trials" / "tiers.npy").is_file()


def list_mice(root: str | Path) -> list[Path]:
    """The mouse folders (``dynamic*`` with ``meta/trials/tiers.npy``) directly inside ``root``, sorted.

    A root that is itself a mouse folder, or that holds the mice one folder further down, gets an error
    naming the folder to pass instead.

    Examples
    --------
    >>> list_mice("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FileNotFoundError: ...

    Taught in chapter 03_sensorium_data.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Dataset folder {root} does not exist; pass the folder get_source('sensorium2023') "
                                "returns (the one holding the dynamic*-Video-* mouse folders).")
    mice = sorted(p for p in root.iterdir() if _is_mouse_folder(p))
    if mice:
        return mice
    if _is_mouse_folder(root) or (root / "meta" / "trials").is_dir():
        hint = f" {root.name} is itself a mouse folder: pass its parent folder, {root.parent}."
    else:
        deeper = sorted({p.parent for p in root.glob("*/dynamic*") if _is_mouse_folder(p)})
        hint = (f" The mice are one level down: pass {deeper[0]}." if deeper else
                " Unzip the dynamic*-Video-*.zip archives there, or use get_source('sensorium2023') for the demo.")
    raise FileNotFoundError(f"No Sensorium mouse folder (dynamic*/meta/trials/tiers.npy) in {root}.{hint}")


def reduce_frame_axis(name: str, values: np.ndarray, means: np.ndarray | None = None) -> np.ndarray:
    """Reduce the trailing frame axis of one statistic (``min``, ``max``, ``mean``, ``median`` or ``std``).

    Statistics computed per frame slot (over trials only) carry a last axis of frames; pooling over it gives
    the per-neuron (per-channel) statistic over trials *and* time: the min of the minima, the max of the
    maxima, the mean of the means, the median of the medians (an approximation: medians do not pool), and
    for ``std`` the pooled standard deviation ``sqrt(mean(std_t**2 + mean_t**2) - mean(mean_t)**2)`` (the law
    of total variance, exact when every frame slot pools the same number of trials; ``means`` are the
    per-frame means, required for ``std``). Frame slots that are NaN (no trial reached them) are ignored.

    Examples
    --------
    >>> reduce_frame_axis("std", np.array([[1.0, 1.0]]), means=np.array([[0.0, 2.0]]))
    array([1.41421356])

    Taught in chapter 03_sensorium_data.
    """
    values = np.asarray(values, dtype=np.float64)
    if name == "min":
        return np.nanmin(values, axis=-1)
    if name == "max":
        return np.nanmax(values, axis=-1)
    if name == "mean":
        return np.nanmean(values, axis=-1)
    if name == "median":
        return np.nanmedian(values, axis=-1)
    if name == "std":
        if means is None or np.shape(means) != values.shape:
            raise ValueError("The pooled std needs the per-frame means, of the same shape as the per-frame stds.")
        means = np.asarray(means, dtype=np.float64)
        second_moment = np.nanmean(values**2 + means**2, axis=-1)
        return np.sqrt(np.maximum(second_moment - np.nanmean(means, axis=-1) ** 2, 0.0))
    raise ValueError(f"Unknown statistic {name!r}; the statistics are {list(STATISTICS)}.")


class _ByteLRU:
    """A small least-recently-used cache bounded by the bytes it holds."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict = OrderedDict()
        self.nbytes = 0

    def get(self, key):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key, array: np.ndarray) -> None:
        if array.nbytes > self.max_bytes:
            return
        self._items[key] = array
        self.nbytes += array.nbytes
        while self.nbytes > self.max_bytes:
            _, old = self._items.popitem(last=False)
            self.nbytes -= old.nbytes

    def clear(self) -> None:
        self._items.clear()
        self.nbytes = 0


@dataclass
class SensoriumMouse:
    """One mouse folder: its tables are read at once, trial arrays on demand (cached up to ``cache_bytes``).

    Attributes
    ----------
    folder
        The ``dynamic...-Video-...`` folder; ``name`` is its name (the submission's ``mouse`` column).
    tiers, condition_hash
        One string per trial file ``<i>.npy``, in file-number order; repeats of a clip share a hash.
    trial_idx
        ``meta/trials/trial_idx.npy`` as stored (integers, or strings such as ``"a--b"`` in the real release),
        or ``None`` when the folder has no such file (the earlier mice). Never needed to read a trial.
    unit_ids
        Neuron ids (the submission's ``neuron_ids``), in the row order of ``responses``.
    cell_motor_coordinates_um
        (neurons, 3) x, y, z positions in µm (integers in the real release, negative values included).
    cache_bytes
        Most bytes of trial arrays kept in memory (least recently used dropped first); 0 disables the cache.

    Examples
    --------
    >>> mouse = read_mouse(folder)          # doctest: +SKIP
    >>> mouse.trials("oracle")[:3]          # doctest: +SKIP
    array([ 4, 11, 17])

    Taught in chapter 03_sensorium_data.
    """

    folder: Path
    tiers: np.ndarray
    trial_idx: np.ndarray | None
    condition_hash: np.ndarray
    unit_ids: np.ndarray
    cell_motor_coordinates_um: np.ndarray
    cache_bytes: int = DEFAULT_CACHE_BYTES
    _cache: _ByteLRU = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self._cache = _ByteLRU(self.cache_bytes)

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def n_trials(self) -> int:
        return len(self.tiers)

    @property
    def n_neurons(self) -> int:
        return len(self.unit_ids)

    def trials(self, *tiers: str) -> np.ndarray:
        """File numbers of the trials in the given tiers (all trials if none given)."""
        unknown = [t for t in tiers if t not in TIERS]
        if unknown:
            raise ValueError(f"Unknown tier(s) {unknown}; the tiers are {list(TIERS)}.")
        if not tiers:
            return np.arange(self.n_trials)
        return np.flatnonzero(np.isin(self.tiers, tiers))

    # ------------------------------------------------------------------------------------- trial order

    @property
    def has_recording_order(self) -> bool:
        """True when ``trial_idx`` gives the order of recording (integers, or strings of integers)."""
        return self._numeric_trial_idx() is not None

    def _numeric_trial_idx(self) -> np.ndarray | None:
        if self.trial_idx is None:
            return None
        if np.issubdtype(self.trial_idx.dtype, np.integer):
            return self.trial_idx.astype(np.int64)
        text = np.char.strip(self.trial_idx.astype(str))
        if text.size and bool(np.all(np.char.isdigit(text))):
            return text.astype(np.int64)
        return None  # hashed ids ("a--b"): no order to recover

    def recording_order(self) -> np.ndarray:
        """File numbers sorted by recording order when ``trial_idx`` gives it, else in file order.

        The real competition folders hash ``trial_idx`` (strings such as ``"a--b"``) or leave it out, and
        their file numbers are shuffled: for them the recording order is unknown and file order is returned
        (see :attr:`has_recording_order`).
        """
        numeric = self._numeric_trial_idx()
        if numeric is None:
            return np.arange(self.n_trials)
        return np.argsort(numeric, kind="stable")

    # ------------------------------------------------------------------------------------- arrays

    def _expected_rows(self, kind: str) -> int | None:
        return {"responses": self.n_neurons, "behavior": 2, "pupil_center": 2}.get(kind)

    def _check_trial(self, trial: int) -> int:
        trial = int(trial)
        if not 0 <= trial < self.n_trials:
            raise IndexError(f"Trial {trial} does not exist in {self.name}: it has trials 0..{self.n_trials - 1}.")
        return trial

    def _read(self, kind: str, trial: int) -> np.ndarray:
        path = self.folder / "data" / kind / f"{trial}.npy"
        array = _load(path, ndim=3 if kind == "videos" else 2)
        rows = self._expected_rows(kind)
        if rows is not None and array.shape[0] != rows:
            what = f"meta/neurons/unit_ids.npy lists {rows} neurons" if kind == "responses" else f"{kind} has 2 rows"
            raise BadFileError(path, f"has shape {array.shape}, but {what}; expected ({rows}, frames).", _REFETCH)
        return array.astype(np.float32, copy=False)

    def load(self, kind: str, trial: int, trim: bool = False, max_frames: int | None = None) -> np.ndarray:
        """One trial's array of ``kind`` (``videos``, ``responses``, ``behavior``, ``pupil_center``), float32.

        Parameters
        ----------
        kind, trial
            What to read, and the trial's file number.
        trim
            Cut off the NaN padding (frames are the last axis).
        max_frames
            Keep at most this many frames (``SCORED_FRAMES`` gives what the challenge scores).
        """
        if kind not in DATA_KINDS:
            raise ValueError(f"Unknown kind {kind!r}; choose one of {list(DATA_KINDS)}.")
        trial = self._check_trial(trial)
        array = self._cache.get((kind, trial))
        if array is None:
            array = self._read(kind, trial)
            self._cache.put((kind, trial), array)
        stop = int(self.trial_lengths[trial]) if trim else array.shape[-1]
        if max_frames is not None:
            stop = min(stop, int(max_frames))
        return array[..., :stop]

    def load_trial(self, trial: int, trim: bool = True, kinds: Sequence[str] = DATA_KINDS,
                   max_frames: int | None = None) -> dict[str, np.ndarray]:
        """All arrays of one trial (all four kinds by default), NaN padding removed by default.

        The kinds must agree on the number of stored frames; a file that does not is named in the error.
        """
        trial = self._check_trial(trial)
        arrays = {kind: self.load(kind, trial, trim=trim, max_frames=max_frames) for kind in kinds}
        if not trim and max_frames is None and len({a.shape[-1] for a in arrays.values()}) > 1:
            frames = {kind: a.shape[-1] for kind, a in arrays.items()}
            raise BadFileError(self.folder / "data", f"trial {trial} has different frame counts per kind {frames}.",
                               _REFETCH)
        return arrays

    def iter_trials(self, trials: Sequence[int] | None = None, kinds: Sequence[str] = DATA_KINDS,
                    trim: bool = True, max_frames: int | None = None) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        """``(trial, arrays)`` for each trial (all, in file order, by default), read one at a time.

        Unlike :meth:`load`, nothing is cached: walking a whole real mouse (~10 GB) keeps one trial in memory.
        """
        for trial in (range(self.n_trials) if trials is None else trials):
            trial = self._check_trial(trial)
            arrays = {}
            for kind in kinds:
                if kind not in DATA_KINDS:
                    raise ValueError(f"Unknown kind {kind!r}; choose one of {list(DATA_KINDS)}.")
                array = self._cache.get((kind, trial))
                array = self._read(kind, trial) if array is None else array
                stop = int(self.trial_lengths[trial]) if trim else array.shape[-1]
                arrays[kind] = array[..., : stop if max_frames is None else min(stop, int(max_frames))]
            yield trial, arrays

    @cached_property
    def trial_lengths(self) -> np.ndarray:
        """True number of frames of every trial (first NaN of ``video[0, 0, :]``), read memory-mapped."""
        lengths = np.empty(self.n_trials, dtype=np.int64)
        for i in range(self.n_trials):  # one small read per trial file, no full load
            video = _load(self.folder / "data" / "videos" / f"{i}.npy", ndim=3, mmap=True)
            lengths[i] = trial_length(np.asarray(video[:1, :1, :]))
        return lengths

    @property
    def scored_lengths(self) -> np.ndarray:
        """Frames of every trial that the challenge scores: ``min(trial_lengths, SCORED_FRAMES)``."""
        return np.minimum(self.trial_lengths, SCORED_FRAMES)

    # ------------------------------------------------------------------------------------- statistics

    def _frames_last(self, kind: str, value: np.ndarray) -> np.ndarray | None:
        """The statistic with its neuron (channel) axis first and a frame axis, if any, last; None if invalid."""
        rows = self._expected_rows(kind)
        if rows is None:  # videos: one number (or per pixel), optionally per frame
            return value
        if value.ndim == 1 and value.shape[0] == rows:
            return value
        if value.ndim == 2 and value.shape[0] == rows:
            return value
        if value.ndim == 2 and value.shape[1] == rows:  # stored (frames, neurons): frames go last
            return value.T
        return None

    def statistics(self, kind: str, frame_reduction: str = "pool") -> dict[str, np.ndarray]:
        """The statistics shipped with the mouse: ``{min, max, mean, median, std}`` arrays, float64.

        Parameters
        ----------
        kind
            ``videos``, ``responses``, ``behavior`` or ``pupil_center``.
        frame_reduction
            The released statistics are per neuron (per channel; one number for videos) in some references and
            carry an extra *frame* axis (statistics over trials per frame slot) in others. ``"pool"`` reduces
            that axis with :func:`reduce_frame_axis` (videos: to one number), so the result is always per neuron
            / per channel; ``"none"`` returns the arrays as stored, except that a frame axis stored first
            (frames, neurons) is moved last, so neurons (channels) are always the first axis.

        Taught in chapter 03_sensorium_data.
        """
        if kind not in DATA_KINDS:
            raise ValueError(f"Unknown kind {kind!r}; choose one of {list(DATA_KINDS)}.")
        if frame_reduction not in FRAME_REDUCTIONS:
            raise ValueError(f"frame_reduction must be one of {list(FRAME_REDUCTIONS)}, not {frame_reduction!r}.")
        folder = self.folder / "meta" / "statistics" / kind / "all"
        raw = {}
        for stat in STATISTICS:
            path = folder / f"{stat}.npy"
            value = self._frames_last(kind, _load(path).astype(np.float64))
            if value is None:
                rows = self._expected_rows(kind)
                raise BadFileError(path, f"has shape {_load(path, mmap=True).shape}; expected ({rows},) or "
                                   f"({rows}, frames) (or (frames, {rows})).", _REFETCH)
            raw[stat] = value
        if frame_reduction == "none":
            return raw
        if kind == "videos":  # one number for the whole stimulus ensemble
            pooled = {s: reduce_frame_axis(s, raw[s].reshape(1, -1), raw["mean"].reshape(1, -1))[0]
                      if raw[s].size > 1 else raw[s].reshape(()) for s in STATISTICS}
            return {s: np.asarray(v, dtype=np.float64) for s, v in pooled.items()}
        if raw["std"].ndim == 2 and raw["mean"].shape != raw["std"].shape:
            raise BadFileError(folder / "mean.npy", f"has shape {raw['mean'].shape} but std.npy has "
                               f"{raw['std'].shape}; the per-frame std can only be pooled with per-frame means.",
                               _REFETCH)
        return {s: reduce_frame_axis(s, raw[s], raw["mean"]) if raw[s].ndim == 2 else raw[s] for s in STATISTICS}


def read_mouse(folder: str | Path, cache_bytes: int = DEFAULT_CACHE_BYTES) -> SensoriumMouse:
    """Read a mouse folder's tables (trials, tiers, neurons); trial arrays load lazily.

    Parameters
    ----------
    folder
        A ``dynamic<ids>-Video-<hash>`` folder (unzipped archive or demo mouse).
    cache_bytes
        Most bytes of trial arrays :meth:`SensoriumMouse.load` keeps in memory.

    Returns
    -------
    SensoriumMouse

    Examples
    --------
    >>> from course_utils.sensorium.simulate import write_demo_mice
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> write_demo_mice(root, n_mice=1, n_neurons=4, n_train=2, n_oracle_clips=1, n_repeats=2)
    >>> mouse = read_mouse(list_mice(root)[0])
    >>> mouse.n_neurons, sorted(set(mouse.tiers.tolist()))[:2]
    (4, ['final_test_bonus', 'final_test_main'])

    Taught in chapter 03_sensorium_data.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"Mouse folder {folder} does not exist.")
    trials_dir, neurons_dir = folder / "meta" / "trials", folder / "meta" / "neurons"
    tiers = _load(trials_dir / "tiers.npy", ndim=1).astype(str)
    condition_hash = _load(trials_dir / "condition_hash.npy", ndim=1).astype(str)
    trial_idx = None
    if (trials_dir / "trial_idx.npy").exists():
        trial_idx = _load(trials_dir / "trial_idx.npy", ndim=1)
        if trial_idx.dtype.kind in "SU":
            trial_idx = trial_idx.astype(str)
    unit_ids = _load(neurons_dir / "unit_ids.npy", ndim=1)
    coords = _load(neurons_dir / "cell_motor_coordinates.npy", ndim=2)
    for name, array in (("condition_hash.npy", condition_hash), ("trial_idx.npy", trial_idx)):
        if array is not None and len(array) != len(tiers):
            raise BadFileError(trials_dir / name, f"has {len(array)} entries but tiers.npy has {len(tiers)}; "
                               "every trial needs one. The folder looks truncated.", _REFETCH)
    if coords.shape != (len(unit_ids), 3):
        raise BadFileError(neurons_dir / "cell_motor_coordinates.npy", f"has shape {coords.shape}; expected "
                           f"({len(unit_ids)}, 3): x, y, z of each neuron of unit_ids.npy.", _REFETCH)
    unknown = sorted(set(tiers) - set(TIERS))
    if unknown:
        raise BadFileError(trials_dir / "tiers.npy", f"holds unknown tiers {unknown}; expected {list(TIERS)}.",
                           _REFETCH)
    return SensoriumMouse(folder, tiers, trial_idx, condition_hash, unit_ids, coords, cache_bytes)


def read_mice(root: str | Path, cache_bytes: int = DEFAULT_CACHE_BYTES) -> dict[str, SensoriumMouse]:
    """Every mouse folder inside ``root``, by name (see :func:`list_mice`).

    Taught in chapter 03_sensorium_data.
    """
    return {p.name: read_mouse(p, cache_bytes) for p in list_mice(root)}
