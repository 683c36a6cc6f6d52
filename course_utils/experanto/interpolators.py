"""Read one modality at arbitrary times: sequences (floor or linear) and the screen (hold the last frame).

The semantics are upstream Experanto's, written down (upstream left them implicit):

* **Sequences**, ``interpolation_mode="nearest_neighbor"``: despite the name this is the *previous* sample
  (floor): at time ``t`` you get sample ``k = floor((t - start_time - phase_shift) * sampling_rate)``. It is a
  floor on purpose. Rounding to the truly nearest sample would, for ``t`` in the second half of a sample
  interval, return the sample recorded *after* ``t``: a model fed the responses at ``t`` would see up to half
  a sample of the future, which leaks information in any causal analysis. ``rounding="nearest"`` is
  available to show the difference; the default is ``"floor"``.
* ``interpolation_mode="linear"``: weighted average of samples ``k`` and ``k + 1``. Upstream forgot
  ``start_time`` in the weights until a 2026 fix; here the weights are computed from the true sample times.
* **Screen**: frame ``searchsorted(timestamps, t + 1e-4) - 1``, i.e. the frame on display at ``t`` (held
  until the next frame; the 0.1 ms tolerance absorbs rounding of timestamps).
* **Intervals are half-open** ``[start, end)``: a time equal to ``end`` is outside.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .index import load_trial_table

__all__ = ["SequenceInterpolator", "ScreenInterpolator", "read_modality_meta", "SEQUENCE_META_KEYS"]

SEQUENCE_META_KEYS = ("sampling_rate", "start_time", "end_time", "n_signals", "n_timestamps")
INTERPOLATION_MODES = ("nearest_neighbor", "linear")
ROUNDINGS = ("floor", "nearest")
SCREEN_TOLERANCE_S = 1e-4


def read_modality_meta(folder: Path) -> dict[str, Any]:
    """Read ``<modality>/meta.yml`` (safe YAML), with an error naming the file if it is missing or broken.

    Examples
    --------
    >>> read_modality_meta(Path("/nonexistent/treadmill"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FileNotFoundError: ...

    Taught in chapter 04_experanto_chunks.
    """
    path = Path(folder) / "meta.yml"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: every modality folder needs a meta.yml (see course_utils.experanto.writer)."
        )
    meta = yaml.safe_load(path.read_text())
    if not isinstance(meta, dict) or "modality" not in meta:
        raise ValueError(f"{path} must be a mapping with a `modality` key (screen or sequence); got {meta!r}.")
    return meta


class SequenceInterpolator:
    """Regularly sampled signals (responses, eye tracker, treadmill ...) read from a memory map.

    Parameters
    ----------
    folder
        The modality folder (``meta.yml``, ``data.mem`` or ``data.npy``, ``meta/``).
    interpolation_mode
        ``"nearest_neighbor"`` (upstream's name for the previous sample) or ``"linear"``.
    rounding
        ``"floor"`` (default, causal) or ``"nearest"`` (rounds to the closest sample: may use the future).
    cache_data
        Load the whole array into memory instead of reading the memory map.

    Examples
    --------
    >>> import tempfile; from course_utils.experanto.writer import write_sequence_modality
    >>> d = tempfile.mkdtemp(); write_sequence_modality(d, np.arange(5.0)[:, None], sampling_rate=10, start_time=1.0)
    >>> values, valid = SequenceInterpolator(d).interpolate(np.array([1.0, 1.19, 1.5]))
    >>> values.ravel().tolist(), valid.tolist()
    ([0.0, 1.0], [True, True, False])

    Taught in chapter 04_experanto_chunks.
    """

    def __init__(
        self,
        folder: str | Path,
        interpolation_mode: str = "nearest_neighbor",
        rounding: str = "floor",
        cache_data: bool = False,
    ) -> None:
        self.folder = Path(folder)
        meta = read_modality_meta(self.folder)
        missing = [k for k in SEQUENCE_META_KEYS if k not in meta]
        if missing:
            raise KeyError(
                f"{self.folder / 'meta.yml'} lacks {missing}: a sequence modality needs {list(SEQUENCE_META_KEYS)}."
            )
        if interpolation_mode not in INTERPOLATION_MODES:
            raise ValueError(f"interpolation_mode must be one of {INTERPOLATION_MODES}; got {interpolation_mode!r}.")
        if rounding not in ROUNDINGS:
            raise ValueError(f"rounding must be one of {ROUNDINGS}; got {rounding!r}.")
        self.meta = meta
        self.interpolation_mode = interpolation_mode
        self.rounding = rounding
        self.sampling_rate = float(meta["sampling_rate"])
        self.start_time = float(meta["start_time"])
        self.end_time = float(meta["end_time"])
        self.n_signals = int(meta["n_signals"])
        self.n_timestamps = int(meta["n_timestamps"])
        self.cache_data = cache_data
        self.data = self._open_data()
        shifts_path = self.folder / "meta" / "phase_shifts.npy"
        if meta.get("phase_shift_per_signal", False):
            if not shifts_path.is_file():
                raise FileNotFoundError(f"{self.folder / 'meta.yml'} sets phase_shift_per_signal but {shifts_path} is missing.")
            self.phase_shifts = np.load(shifts_path, allow_pickle=False).astype(np.float64).reshape(-1)
        else:
            self.phase_shifts = None
        # the times at which *every* signal has a sample: the modality's valid range
        lo = 0.0 if self.phase_shifts is None else float(self.phase_shifts.max())
        hi = 0.0 if self.phase_shifts is None else float(self.phase_shifts.min())
        self.valid_start = self.start_time + lo
        self.valid_end = self.end_time + hi

    def _open_data(self) -> np.ndarray:
        meta = self.meta
        mem_path, npy_path = self.folder / "data.mem", self.folder / "data.npy"
        if mem_path.is_file():
            expected = self.n_timestamps * self.n_signals * np.dtype(meta.get("dtype", "float32")).itemsize
            if mem_path.stat().st_size != expected:
                raise ValueError(
                    f"{mem_path} has {mem_path.stat().st_size} bytes but meta.yml promises {expected} "
                    f"({self.n_timestamps} x {self.n_signals} {meta.get('dtype', 'float32')}): fix n_timestamps/dtype."
                )
            data = np.memmap(mem_path, dtype=meta.get("dtype", "float32"), mode="r",
                             shape=(self.n_timestamps, self.n_signals))
        elif npy_path.is_file():
            data = np.load(npy_path, mmap_mode="r", allow_pickle=False)
        else:
            raise FileNotFoundError(f"{self.folder} has neither data.mem nor data.npy.")
        return np.asarray(data) if self.cache_data else data

    def __getstate__(self) -> dict:
        # DataLoader workers started by "spawn" (macOS, Windows) receive a pickled copy: send the path, not
        # the memory-mapped data (pickling a memmap copies the whole array)
        state = self.__dict__.copy()
        if not self.cache_data:
            state["data"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self.data is None:
            self.data = self._open_data()

    def valid_times(self, times: np.ndarray) -> np.ndarray:
        """True where ``times`` lie in the half-open range ``[valid_start, valid_end)``."""
        times = np.asarray(times)
        return (times >= self.valid_start) & (times < self.valid_end)

    def _sample_position(self, times: np.ndarray) -> np.ndarray:
        """Fractional sample index of each time, (T,) or (T, n_signals) with phase shifts."""
        rel = times - self.start_time
        if self.phase_shifts is not None:
            rel = rel[:, None] - self.phase_shifts[None, :]
        return rel * self.sampling_rate

    def interpolate(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Signals at ``times`` (s).

        Returns
        -------
        values : np.ndarray
            (n_valid, n_signals) float, for the valid times only (as upstream).
        valid : np.ndarray
            (len(times),) bool, which times were inside the modality's range.
        """
        times = np.asarray(times, dtype=np.float64)
        valid = self.valid_times(times)
        pos = self._sample_position(times[valid])
        last = self.n_timestamps - 1
        if self.interpolation_mode == "nearest_neighbor":
            # tiny epsilon: a time that is exactly a sample time must not floor to the previous sample
            idx = np.floor(pos + 1e-9) if self.rounding == "floor" else np.floor(pos + 0.5)
            idx = np.clip(idx.astype(np.int64), 0, last)
            if idx.ndim == 1:
                return self._rows(idx), valid
            return self._gather(idx), valid
        lower = np.clip(np.floor(pos + 1e-9).astype(np.int64), 0, last)
        upper = np.minimum(lower + 1, last)
        weight_upper = np.clip(pos - lower, 0.0, 1.0)  # from the true sample times (start_time included)
        if lower.ndim == 1:
            lo, up, w = self._rows(lower), self._rows(upper), weight_upper[:, None]
        else:
            lo, up, w = self._gather(lower), self._gather(upper), weight_upper
        # where both neighbours are the same sample (end of the recording) or w == 0, no NaN from 0 * NaN
        out = lo + w * (up - lo)
        out = np.where(w == 0, lo, out)
        return out, valid

    def _rows(self, idx: np.ndarray) -> np.ndarray:
        # consecutive indices (the usual case) are one contiguous slice of the memmap: much cheaper than fancy
        # indexing, which copies row by row
        if len(idx) and idx[-1] - idx[0] == len(idx) - 1 and np.all(np.diff(idx) == 1):
            return np.array(self.data[idx[0] : idx[-1] + 1], dtype=np.float32)
        return np.asarray(self.data[idx], dtype=np.float32)

    def _gather(self, idx: np.ndarray) -> np.ndarray:
        # per-signal indices (phase shifts): read the covering block once, then gather
        lo, hi = int(idx.min()), int(idx.max())
        block = np.asarray(self.data[lo : hi + 1], dtype=np.float32)
        return np.take_along_axis(block, idx - lo, axis=0)

    def nan_sample_indices(self, block_rows: int = 65536) -> np.ndarray:
        """Indices of samples where any signal is NaN (read in blocks, so memory stays bounded)."""
        bad = []
        for start in range(0, self.n_timestamps, block_rows):
            rows = np.asarray(self.data[start : start + block_rows])
            bad.append(np.flatnonzero(np.isnan(rows).any(axis=1)) + start)
        return np.concatenate(bad) if bad else np.zeros(0, dtype=np.int64)


class ScreenInterpolator:
    """The stimulus on screen at any time: videos, images and blanks, each frame held until the next.

    Parameters
    ----------
    folder
        ``<experiment>/screen``.
    rescale_size
        Optional (H, W): frames are resized (bilinear) when read; ``None`` keeps the stored size.
    cache_dir
        Where the trial index (parsed once from ``meta/*.yml``) is cached; never the data folder.

    Examples
    --------
    >>> import tempfile; from course_utils.experanto.writer import write_screen_modality
    >>> d = tempfile.mkdtemp()
    >>> write_screen_modality(d, np.array([0.0, 0.1, 0.2]),
    ...     [{"modality": "video", "num_frames": 3, "data": np.arange(3.0)[:, None, None] * np.ones((1, 2, 2))}])
    >>> frames, valid = ScreenInterpolator(d).interpolate(np.array([0.0, 0.05, 0.19995]))
    >>> frames[:, 0, 0].tolist()
    [0.0, 0.0, 2.0]

    Taught in chapter 04_experanto_chunks.
    """

    def __init__(self, folder: str | Path, cache_dir: str | Path | None = None) -> None:
        self.folder = Path(folder)
        meta = read_modality_meta(self.folder)
        if meta["modality"] != "screen":
            raise ValueError(f"{self.folder / 'meta.yml'} says modality={meta['modality']!r}, expected 'screen'.")
        ts_path = self.folder / "timestamps.npy"
        if not ts_path.is_file():
            raise FileNotFoundError(f"{ts_path} is missing: the screen needs one timestamp per stored frame.")
        self.timestamps = np.load(ts_path, allow_pickle=False).astype(np.float64)
        self.trials = load_trial_table(self.folder, cache_dir=cache_dir)
        first = self.trials["first_frame_idx"].to_numpy(np.int64)
        n = self.trials["num_frames"].to_numpy(np.int64)
        if int(n.sum()) != len(self.timestamps):
            raise ValueError(
                f"{self.folder}: the trials' num_frames add up to {int(n.sum())} but timestamps.npy has "
                f"{len(self.timestamps)} entries."
            )
        self.frame_trial = np.repeat(np.arange(len(n)), n)  # trial of each stored frame
        self.frame_in_trial = np.arange(len(self.timestamps)) - np.repeat(first, n)
        self.start_time = float(self.timestamps[0])
        self.end_time = float(self.timestamps[-1])
        self.valid_start, self.valid_end = self.start_time, self.end_time
        self.sampling_rate = float(1.0 / np.median(np.diff(self.timestamps))) if len(self.timestamps) > 1 else 1.0
        sizes = [tuple(s) for s in self.trials["image_size"] if s is not None]
        if not sizes:
            raise ValueError(f"{self.folder}: no trial states an image_size.")
        self.image_size = sizes[0]
        self.modalities = self.trials["modality"].to_numpy()
        self.interleave = self.trials.get("interleave_value")
        self._arrays: dict[int, np.ndarray] = {}

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_arrays"] = {}  # memory maps are reopened on demand in the receiving process
        return state

    def valid_times(self, times: np.ndarray) -> np.ndarray:
        """True where ``times`` lie in ``[first timestamp, last timestamp)``."""
        times = np.asarray(times)
        return (times >= self.start_time) & (times < self.end_time)

    def frame_indices(self, times: np.ndarray) -> np.ndarray:
        """Stored frame on display at each time: ``searchsorted(timestamps, t + 1e-4) - 1`` (-1 = before)."""
        return np.searchsorted(self.timestamps, np.asarray(times) + SCREEN_TOLERANCE_S) - 1

    def _trial_array(self, trial: int) -> np.ndarray:
        arr = self._arrays.get(trial)
        if arr is None:
            path = self.folder / "data" / f"{self.trials['stem'].iat[trial]}.npy"
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing (trial {trial} is a {self.modalities[trial]}).")
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
            self._arrays[trial] = arr
        return arr

    def interpolate(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frames at ``times``: (n_valid, H, W) float32 and the (len(times),) validity mask."""
        times = np.asarray(times, dtype=np.float64)
        valid = self.valid_times(times)
        idx = self.frame_indices(times[valid])
        out = np.empty((len(idx), *self.image_size), dtype=np.float32)
        trials = self.frame_trial[idx]
        # one read per run of frames from the same trial (a chunk spans one or two trials)
        breaks = np.flatnonzero(np.diff(trials)) + 1
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(idx)], strict=True):
            trial = int(trials[lo])
            kind = self.modalities[trial]
            if kind == "video":
                frames = self.frame_in_trial[idx[lo:hi]]
                arr = self._trial_array(trial)
                f0, f1 = int(frames.min()), int(frames.max())
                out[lo:hi] = arr[f0 : f1 + 1][frames - f0]
            elif kind == "image":
                out[lo:hi] = self._trial_array(trial)
            else:  # blank or invalid: a uniform grey screen
                value = self.interleave.iat[trial] if self.interleave is not None else None
                out[lo:hi] = 0.0 if value is None or value != value else float(value)
        return out, valid
