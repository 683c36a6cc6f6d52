"""Read one Sensorium 2023 mouse folder (``dynamic<ids>-Video-<hash>/``) as the competition distributes it.

A mouse folder holds one ``.npy`` file per trial and kind under ``data/`` (``videos`` (36, 64, T), ``responses``
(neurons, T), ``behavior`` (2, T): pupil dilation and running speed, ``pupil_center`` (2, T)) and the
per-mouse tables under ``meta/`` (neuron ids and positions, trial tiers and condition hashes, statistics of
every kind). Trials are NaN-padded to a common length: a trial's true length is the index of the first NaN
in ``video[0, 0, :]``.

Taught in chapter 03_sensorium_data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

# Every Sensorium 2023 recording (videos, responses, behaviour, pupil) is sampled at 30 Hz.
SENSORIUM_FRAME_RATE_HZ = 30.0
DATA_KINDS = ("videos", "responses", "behavior", "pupil_center")
STATISTICS = ("min", "max", "mean", "median", "std")
TIERS = ("train", "oracle", "live_test_main", "live_test_bonus", "final_test_main", "final_test_bonus", "none")
TEST_TIERS = ("live_test_main", "live_test_bonus", "final_test_main", "final_test_bonus")
BEHAVIOR_CHANNELS = ("pupil_dilation", "running_speed")
PUPIL_CENTER_CHANNELS = ("pupil_x", "pupil_y")


def _load(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing. A Sensorium mouse folder must hold data/<kind>/<i>.npy and meta/...: "
            "unzip the whole archive (python -m course_utils data fetch sensorium2023) or regenerate the demo."
        )
    return np.load(path, allow_pickle=False)


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


def list_mice(root: str | Path) -> list[Path]:
    """The mouse folders (``dynamic*`` with ``meta/trials/tiers.npy``) directly inside ``root``, sorted.

    Examples
    --------
    >>> list_mice("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FileNotFoundError: ...

    Taught in chapter 03_sensorium_data.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Dataset folder {root} does not exist; pass the folder get_source('sensorium2023') returns.")
    mice = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("dynamic")
                  and (p / "meta" / "trials" / "tiers.npy").is_file())
    if not mice:
        raise FileNotFoundError(
            f"No Sensorium mouse folder (dynamic*/meta/trials/tiers.npy) in {root}. Unzip the "
            "dynamic*-Video-*.zip archives there, or use get_source('sensorium2023') for the demo."
        )
    return mice


@dataclass
class SensoriumMouse:
    """One mouse folder: its tables are read at once, trial arrays on demand (and cached in memory).

    Attributes
    ----------
    folder
        The ``dynamic...-Video-...`` folder; ``name`` is its name (the submission's ``mouse`` column).
    tiers, trial_idx, condition_hash
        One entry per trial file ``<i>.npy``, in file-number order.
    unit_ids
        Neuron ids (the submission's ``neuron_ids``), in the row order of ``responses``.
    cell_motor_coordinates_um
        (neurons, 3) x, y, z positions in µm.

    Examples
    --------
    >>> mouse = read_mouse(folder)          # doctest: +SKIP
    >>> mouse.trials("oracle")[:3]          # doctest: +SKIP
    array([ 4, 11, 17])

    Taught in chapter 03_sensorium_data.
    """

    folder: Path
    tiers: np.ndarray
    trial_idx: np.ndarray
    condition_hash: np.ndarray
    unit_ids: np.ndarray
    cell_motor_coordinates_um: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)

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

    def load(self, kind: str, trial: int, trim: bool = False) -> np.ndarray:
        """One trial's array of ``kind`` (``videos``, ``responses``, ``behavior``, ``pupil_center``).

        With ``trim=True`` the NaN padding is cut off (frames are the last axis).
        """
        if kind not in DATA_KINDS:
            raise ValueError(f"Unknown kind {kind!r}; choose one of {list(DATA_KINDS)}.")
        if not 0 <= int(trial) < self.n_trials:
            raise IndexError(f"Trial {trial} does not exist in {self.name}: it has trials 0..{self.n_trials - 1}.")
        key = (kind, int(trial))
        if key not in self._cache:
            self._cache[key] = _load(self.folder / "data" / kind / f"{int(trial)}.npy").astype(np.float32)
        array = self._cache[key]
        return array[..., : self.trial_lengths[int(trial)]] if trim else array

    def load_trial(self, trial: int, trim: bool = True) -> dict[str, np.ndarray]:
        """All four arrays of one trial, NaN padding removed by default."""
        return {kind: self.load(kind, trial, trim=trim) for kind in DATA_KINDS}

    @cached_property
    def trial_lengths(self) -> np.ndarray:
        """True number of frames of every trial (first NaN of ``video[0, 0, :]``)."""
        lengths = np.empty(self.n_trials, dtype=np.int64)
        for i in range(self.n_trials):  # one small read per trial file; memory-mapped, no full load
            video = np.load(self.folder / "data" / "videos" / f"{i}.npy", mmap_mode="r", allow_pickle=False)
            lengths[i] = trial_length(np.asarray(video[:1, :1, :]))
        return lengths

    def statistics(self, kind: str) -> dict[str, np.ndarray]:
        """The provided statistics of ``kind``: {min, max, mean, median, std} arrays (per neuron/channel)."""
        if kind not in DATA_KINDS:
            raise ValueError(f"Unknown kind {kind!r}; choose one of {list(DATA_KINDS)}.")
        folder = self.folder / "meta" / "statistics" / kind / "all"
        return {stat: _load(folder / f"{stat}.npy").astype(np.float64) for stat in STATISTICS}


def read_mouse(folder: str | Path) -> SensoriumMouse:
    """Read a mouse folder's tables (trials, tiers, neurons); trial arrays load lazily.

    Parameters
    ----------
    folder
        A ``dynamic<ids>-Video-<hash>`` folder (unzipped archive or demo mouse).

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
    meta = folder / "meta"
    tiers = _load(meta / "trials" / "tiers.npy").astype(str)
    trial_idx = _load(meta / "trials" / "trial_idx.npy")
    condition_hash = _load(meta / "trials" / "condition_hash.npy").astype(str)
    unit_ids = _load(meta / "neurons" / "unit_ids.npy")
    coords = _load(meta / "neurons" / "cell_motor_coordinates.npy")
    if not (len(tiers) == len(trial_idx) == len(condition_hash)):
        raise ValueError(
            f"{meta / 'trials'}: tiers ({len(tiers)}), trial_idx ({len(trial_idx)}) and condition_hash "
            f"({len(condition_hash)}) must have one entry per trial; the folder looks truncated."
        )
    unknown = sorted(set(tiers) - set(TIERS))
    if unknown:
        raise ValueError(f"{meta / 'trials' / 'tiers.npy'} holds unknown tiers {unknown}; expected {list(TIERS)}.")
    return SensoriumMouse(folder, tiers, trial_idx, condition_hash, unit_ids, coords)


def read_mice(root: str | Path) -> dict[str, SensoriumMouse]:
    """Every mouse folder inside ``root``, by name (see :func:`list_mice`).

    Taught in chapter 03_sensorium_data.
    """
    return {p.name: read_mouse(p) for p in list_mice(root)}
