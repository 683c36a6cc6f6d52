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
  With ``keep_nans=False`` (upstream's default) a NaN in the result is replaced by the mean of that signal
  over the times of the same call, as upstream does; ``keep_nans=True`` returns the NaN.
* **Screen**: frame ``searchsorted(timestamps, t + 1e-4) - 1``, i.e. the frame on display at ``t`` (held
  until the next frame; the 0.1 ms tolerance absorbs rounding of timestamps). An image, blank or invalid
  trial stores one frame and one timestamp (its onset) and stays on screen until the next trial's onset.
* **Ranges are closed**: a sequence covers ``[start_time, end_time]`` where ``end_time`` is the time of its
  last sample; the screen covers ``[first timestamp, last timestamp]``.
* **Exact-time floor** (a fix): a time that is exactly a sample's time reads that sample. Upstream divides
  by the rounded period, ``floor((t - start) / (1 / rate))``, which for some exact times gives
  ``k - 1e-15`` and so the previous sample; ``upstream_clock=True`` reproduces that for side-by-side checks.

Every file is read with :mod:`course_utils.fileio`: a broken YAML file, a truncated or pickled ``.npy`` or
an array of the wrong shape raises :class:`~course_utils.fileio.BadFileError` naming the file and the fix.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..fileio import BadFileError, load_npy, read_yaml
from .index import load_trial_table

__all__ = ["SequenceInterpolator", "ScreenInterpolator", "read_modality_meta", "SEQUENCE_META_KEYS"]

SEQUENCE_META_KEYS = ("sampling_rate", "start_time", "end_time", "n_signals")
INTERPOLATION_MODES = ("nearest_neighbor", "linear")
ROUNDINGS = ("floor", "nearest")
SCREEN_TOLERANCE_S = 1e-4
FLOOR_TOLERANCE = 1e-9  # in samples: a time exactly on a sample reads that sample despite float error
REGENERATE = "Regenerate the folder (course_utils.experanto.writer) or fix the file by hand."


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
    meta = read_yaml(path, fix=REGENERATE)
    if not isinstance(meta, dict) or "modality" not in meta:
        raise BadFileError(path, f"must be a mapping with a `modality` key (screen or sequence); got {meta!r}.",
                           REGENERATE)
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
    keep_nans
        Linear mode only: keep NaNs (``True``) or replace them by the signal's mean over the queried times
        (``False``, upstream's default).
    upstream_clock
        Compute sample indices as upstream does (no exact-time tolerance); for side-by-side checks only.

    Examples
    --------
    >>> import tempfile; from course_utils.experanto.writer import write_sequence_modality
    >>> d = tempfile.mkdtemp(); write_sequence_modality(d, np.arange(5.0)[:, None], sampling_rate=10, start_time=1.0)
    >>> values, valid = SequenceInterpolator(d).interpolate(np.array([1.0, 1.19, 1.4, 1.41]))
    >>> values.ravel().tolist(), valid.tolist()
    ([0.0, 1.0, 4.0], [True, True, True, False])

    Taught in chapter 04_experanto_chunks.
    """

    def __init__(
        self,
        folder: str | Path,
        interpolation_mode: str = "nearest_neighbor",
        rounding: str = "floor",
        cache_data: bool = False,
        keep_nans: bool = False,
        upstream_clock: bool = False,
    ) -> None:
        self.folder = Path(folder)
        meta = read_modality_meta(self.folder)
        meta_path = self.folder / "meta.yml"
        missing = [k for k in SEQUENCE_META_KEYS if k not in meta]
        if missing:
            raise KeyError(f"{meta_path} lacks {missing}: a sequence modality needs {list(SEQUENCE_META_KEYS)}.")
        if interpolation_mode not in INTERPOLATION_MODES:
            raise ValueError(f"interpolation_mode must be one of {INTERPOLATION_MODES}; got {interpolation_mode!r}.")
        if rounding not in ROUNDINGS:
            raise ValueError(f"rounding must be one of {ROUNDINGS}; got {rounding!r}.")
        self.meta = meta
        self.interpolation_mode = interpolation_mode
        self.rounding = rounding
        self.keep_nans = bool(keep_nans)
        self.upstream_clock = bool(upstream_clock)
        try:
            self.sampling_rate = float(meta["sampling_rate"])
            self.start_time = float(meta["start_time"])
            meta_end = float(meta["end_time"])
            self.n_signals = int(meta["n_signals"])
        except (TypeError, ValueError) as err:
            raise BadFileError(meta_path, f"has a non-numeric sampling_rate, start_time, end_time or n_signals "
                               f"({err}).", REGENERATE) from err
        if not self.sampling_rate > 0:
            raise BadFileError(meta_path, f"sampling_rate must be positive; got {self.sampling_rate}.", REGENERATE)
        self.cache_data = cache_data
        self.data = self._open_data()
        self._values = self.data.view(np.ndarray)  # the same memory; slicing skips np.memmap's Python hooks
        self.n_timestamps = int(self.data.shape[0])
        shifts_path = self.folder / "meta" / "phase_shifts.npy"
        if meta.get("phase_shift_per_signal", False):
            shifts = load_npy(shifts_path, fix="meta.yml sets phase_shift_per_signal: the file must hold one "
                              "shift (s) per signal. " + REGENERATE)
            if shifts.size != self.n_signals:
                raise BadFileError(shifts_path, f"has {shifts.size} values for {self.n_signals} signals.",
                                   REGENERATE)
            self.phase_shifts = np.asarray(shifts, dtype=np.float64).reshape(-1)
        else:
            self.phase_shifts = None
        # end_time is the last sample's time (upstream's convention); a larger value (this course's folders
        # before 2026 wrote the end of the last sample's interval) is capped there
        last_sample = self.start_time + (self.n_timestamps - 1) / self.sampling_rate
        self.end_time = min(meta_end, last_sample)
        # the times at which *every* signal has a sample: the modality's valid range
        lo = 0.0 if self.phase_shifts is None else float(self.phase_shifts.max())
        hi = 0.0 if self.phase_shifts is None else float(self.phase_shifts.min())
        self.valid_start = self.start_time + lo
        self.valid_end = self.end_time + hi

    def _open_data(self) -> np.ndarray:
        meta = self.meta
        mem_path, npy_path = self.folder / "data.mem", self.folder / "data.npy"
        use_mem = meta.get("is_mem_mapped", mem_path.is_file()) and mem_path.is_file()
        if use_mem:
            dtype = meta.get("dtype", "float32")
            n_timestamps = meta.get("n_timestamps")
            if n_timestamps is None:
                raise KeyError(f"{self.folder / 'meta.yml'} lacks n_timestamps, which data.mem needs (it has no header).")
            expected = int(n_timestamps) * self.n_signals * np.dtype(dtype).itemsize
            if mem_path.stat().st_size != expected:
                raise BadFileError(
                    mem_path,
                    f"has {mem_path.stat().st_size} bytes but meta.yml promises {expected} ({n_timestamps} x "
                    f"{self.n_signals} {dtype}): the file is truncated or meta.yml is wrong.",
                    "Copy or regenerate data.mem, or fix n_timestamps/n_signals/dtype in meta.yml.",
                )
            data = np.memmap(mem_path, dtype=dtype, mode="r", shape=(int(n_timestamps), self.n_signals))
        elif npy_path.is_file():
            data = load_npy(npy_path, mmap_mode="r", ndim=2, fix=REGENERATE)
            if data.shape[1] != self.n_signals or data.shape[0] != int(meta.get("n_timestamps", data.shape[0])):
                raise BadFileError(
                    npy_path, f"has shape {data.shape} but meta.yml says {meta.get('n_timestamps')} timestamps x "
                    f"{self.n_signals} signals.", REGENERATE)
        else:
            raise FileNotFoundError(f"{self.folder} has neither data.mem nor data.npy.")
        if data.shape[0] == 0:
            raise BadFileError(mem_path if use_mem else npy_path, "holds no samples.", REGENERATE)
        return np.array(data) if self.cache_data else data  # cache_data: read into memory (asarray keeps the map)

    def __getstate__(self) -> dict:
        # DataLoader workers started by "spawn" (macOS, Windows) receive a pickled copy: send the path, not
        # the memory-mapped data (pickling a memmap copies the whole array)
        state = self.__dict__.copy()
        state["_values"] = None  # a view of data: pickled, it would be a second copy
        if not self.cache_data:
            state["data"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self.data is None:
            self.data = self._open_data()
        self._values = self.data.view(np.ndarray)

    def valid_times(self, times: np.ndarray) -> np.ndarray:
        """True where ``times`` lie in the closed range ``[valid_start, valid_end]``."""
        times = np.asarray(times)
        return (times >= self.valid_start) & (times <= self.valid_end)

    def _sample_position(self, times: np.ndarray) -> np.ndarray:
        """Fractional sample index of each time, (T,) or (T, n_signals) with phase shifts."""
        rel = times - self.start_time
        if self.phase_shifts is not None:
            rel = rel[:, None] - self.phase_shifts[None, :]
        if self.upstream_clock:
            return rel / (1.0 / self.sampling_rate)
        return rel * self.sampling_rate

    def _floor(self, pos: np.ndarray) -> np.ndarray:
        return np.floor(pos if self.upstream_clock else pos + FLOOR_TOLERANCE)

    def interpolate(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Signals at ``times`` (s).

        Returns
        -------
        values : np.ndarray
            (n_valid, n_signals) float32, for the valid times only (as upstream).
        valid : np.ndarray
            (len(times),) bool, which times were inside the modality's range.
        """
        values, valid = self.read(times)
        if np.may_share_memory(values, self._values):  # a view of the data: the caller gets its own copy
            values = np.array(values)  # a plain array (a memmap slice's .copy() stays an np.memmap)
        return values, valid

    def read(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`interpolate`, except that values read as one contiguous float32 run of rows are a view of
        the data (the memory map, or the cached array: never write into it) instead of a copy.
        ``ChunkDataset`` normalises them into a new array, which saves one pass over the responses."""
        times = np.asarray(times, dtype=np.float64)
        valid = self.valid_times(times)
        all_valid = np.count_nonzero(valid) == len(valid)  # count_nonzero: far less overhead than .all()
        pos = self._sample_position(times if all_valid else times[valid])
        last = self.n_timestamps - 1
        if self.interpolation_mode == "nearest_neighbor":
            idx = self._floor(pos) if self.rounding == "floor" else np.floor(pos + 0.5)
            idx = idx.astype(np.int64)
            np.minimum(np.maximum(idx, 0, out=idx), last, out=idx)  # np.clip, without its Python overhead
            if idx.ndim == 1:
                return self._rows(idx, view=True), valid
            return self._gather(idx), valid
        lower = np.clip(self._floor(pos).astype(np.int64), 0, last)
        upper = np.minimum(lower + 1, last)
        weight_upper = np.clip(pos - lower, 0.0, 1.0)  # from the true sample times (start_time included)
        if lower.ndim == 1:
            lo, up, w = self._rows(lower), self._rows(upper), weight_upper[:, None]
        else:
            lo, up, w = self._gather(lower), self._gather(upper), weight_upper
        # where both neighbours are the same sample (end of the recording) or w == 0, no NaN from 0 * NaN
        out = lo + w * (up - lo)
        out = np.where(w == 0, lo, out).astype(np.float32)
        if not self.keep_nans and np.isnan(out).any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN signal stays NaN
                means = np.nanmean(out, axis=0)
            out = np.where(np.isnan(out), means[None, :], out)
        return out, valid

    def _rows(self, idx: np.ndarray, view: bool = False) -> np.ndarray:
        # consecutive indices (the usual case) are one contiguous slice of the memmap: much cheaper than fancy
        # indexing, which copies row by row; with view=True a float32 slice is returned without a copy
        n = len(idx)
        if n:
            first, end = int(idx[0]), int(idx[-1]) + 1
            if end - first == n and (n == 1 or np.count_nonzero(idx[1:] - idx[:-1] - 1) == 0):
                rows = self._values[first:end]
                if view and rows.dtype == np.float32:
                    return rows
                return np.array(rows, dtype=np.float32)
        return np.asarray(self._values[idx], dtype=np.float32)

    def _gather(self, idx: np.ndarray) -> np.ndarray:
        # per-signal indices (phase shifts): read the covering block once, then gather
        lo, hi = int(idx.min()), int(idx.max())
        block = np.asarray(self._values[lo : hi + 1], dtype=np.float32)
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
    cache_dir
        Where the trial index (parsed once from ``meta/*.yml``) is cached; never the data folder.

    Notes
    -----
    A trial owns the stored frames from its ``first_frame_idx`` up to the next trial's: one for an image,
    blank or invalid trial (upstream's layout; its YAML needs no ``num_frames``), one per frame for a video
    (its ``num_frames``, if given, must agree). If the screen's ``meta.yml`` sets ``use_stimuli_names``, a
    trial's array is ``data/<stimulus_name>.npy`` instead of ``data/<trial>.npy``.

    Examples
    --------
    >>> import tempfile; from course_utils.experanto.writer import write_screen_modality
    >>> d = tempfile.mkdtemp()
    >>> write_screen_modality(d, np.array([0.0, 0.1, 0.2, 0.5]),
    ...     [{"modality": "video", "data": np.arange(3.0)[:, None, None] * np.ones((1, 2, 2))},
    ...      {"modality": "image", "data": np.full((2, 2), 9.0)}])
    >>> frames, valid = ScreenInterpolator(d).interpolate(np.array([0.0, 0.05, 0.19995, 0.3, 0.5, 0.6]))
    >>> frames[:, 0, 0].tolist(), valid.tolist()
    ([0.0, 0.0, 2.0, 2.0, 9.0], [True, True, True, True, True, False])

    Taught in chapter 04_experanto_chunks.
    """

    def __init__(self, folder: str | Path, cache_dir: str | Path | None = None) -> None:
        self.folder = Path(folder)
        meta = read_modality_meta(self.folder)
        if meta["modality"] != "screen":
            raise ValueError(f"{self.folder / 'meta.yml'} says modality={meta['modality']!r}, expected 'screen'.")
        self.meta = meta
        ts_path = self.folder / "timestamps.npy"
        if not ts_path.is_file():
            raise FileNotFoundError(f"{ts_path} is missing: the screen needs one timestamp per stored frame.")
        self.timestamps = np.asarray(load_npy(ts_path, ndim=1, fix=REGENERATE), dtype=np.float64)
        if len(self.timestamps) == 0 or np.any(np.diff(self.timestamps) <= 0):
            raise BadFileError(ts_path, "must hold at least one timestamp, strictly increasing.", REGENERATE)
        self.trials = load_trial_table(self.folder, cache_dir=cache_dir)
        self.trials["num_frames"] = self._frames_per_trial()
        n = self.trials["num_frames"].to_numpy(np.int64)
        first = self.trials["first_frame_idx"].to_numpy(np.int64)
        self.frame_trial = np.repeat(np.arange(len(n)), n)  # trial of each stored frame
        self.frame_in_trial = np.arange(len(self.timestamps)) - np.repeat(first, n)
        self.start_time = float(self.timestamps[0])
        self.end_time = float(self.timestamps[-1])
        self.valid_start, self.valid_end = self.start_time, self.end_time
        rate = meta.get("frame_rate")
        self.sampling_rate = float(rate) if rate else (
            float(1.0 / np.median(np.diff(self.timestamps))) if len(self.timestamps) > 1 else 1.0)
        sizes = [tuple(int(v) for v in s) for s in self.trials["image_size"] if isinstance(s, (list, tuple))]
        if not sizes:
            raise BadFileError(self.folder / "meta", "no trial states an image_size.", REGENERATE)
        self.image_size = sizes[0]
        self.modalities = self.trials["modality"].to_numpy()
        self.interleave = self.trials.get("interleave_value")
        self.use_stimuli_names = bool(meta.get("use_stimuli_names", False))
        self._arrays: dict[int, np.ndarray] = {}
        self._grey: dict[int, float] = {}  # each blank trial's grey value, read from the table once

    def _frames_per_trial(self) -> np.ndarray:
        """Stored frames of each trial, from the ``first_frame_idx`` of consecutive trials."""
        first = self.trials["first_frame_idx"].to_numpy(np.int64)
        stems = self.trials["stem"].tolist()
        span = np.diff(np.r_[first, len(self.timestamps)])
        if first[0] != 0 or np.any(span < 1):
            bad = 0 if first[0] != 0 else int(np.flatnonzero(span < 1)[0])
            raise BadFileError(
                self.folder / "meta" / f"{stems[bad]}.yml",
                f"first_frame_idx={int(first[bad])} does not fit: trials must start at stored frame 0 and each "
                f"own at least one of the {len(self.timestamps)} frames of timestamps.npy.", REGENERATE)
        stated = self.trials["num_frames"] if "num_frames" in self.trials else None
        for i in np.flatnonzero(self.trials["modality"].to_numpy() == "video"):
            value = None if stated is None else stated.iat[i]
            if value is not None and value == value and int(value) != span[i]:
                raise BadFileError(
                    self.folder / "meta" / f"{stems[i]}.yml",
                    f"says num_frames={int(value)} but the next trial starts {span[i]} stored frames later.",
                    REGENERATE)
        return span

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_arrays"] = {}  # memory maps are reopened on demand in the receiving process
        return state

    def valid_times(self, times: np.ndarray) -> np.ndarray:
        """True where ``times`` lie in ``[first timestamp, last timestamp]``."""
        times = np.asarray(times)
        return (times >= self.start_time) & (times <= self.end_time)

    def frame_indices(self, times: np.ndarray) -> np.ndarray:
        """Stored frame on display at each time: ``searchsorted(timestamps, t + 1e-4) - 1`` (-1 = before)."""
        return np.searchsorted(self.timestamps, np.asarray(times) + SCREEN_TOLERANCE_S) - 1

    def _trial_array(self, trial: int) -> np.ndarray:
        arr = self._arrays.get(trial)
        if arr is not None:
            return arr
        stem = self.trials["stem"].iat[trial]
        name = self.trials["stimulus_name"].iat[trial] if self.use_stimuli_names else stem
        path = self.folder / "data" / f"{name}.npy"
        kind = self.modalities[trial]
        yml = self.folder / "meta" / f"{stem}.yml"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: {yml.name} describes a {kind} trial, whose frames live there.")
        fix = f"Restore or regenerate it: {yml.name} describes a {kind} of {self.image_size[0]}x{self.image_size[1]} pixels."
        arr = load_npy(path, mmap_mode="r", ndim=3 if kind == "video" else (2, 3), fix=fix)
        if arr.ndim == 2:
            arr = arr[None]
        arr = arr.view(np.ndarray)  # the same memory map; slicing skips np.memmap's Python hooks
        n = int(self.trials["num_frames"].iat[trial])
        if tuple(arr.shape[1:]) != tuple(self.image_size) or (kind == "video" and arr.shape[0] < n) or (
                kind != "video" and arr.shape[0] != 1):
            want = f"({n}, {self.image_size[0]}, {self.image_size[1]})" if kind == "video" else \
                f"({self.image_size[0]}, {self.image_size[1]})"
            raise BadFileError(path, f"has shape {arr.shape}; the {kind} trial {yml.name} needs {want}.", fix)
        if not np.issubdtype(arr.dtype, np.number):
            raise BadFileError(path, f"holds {arr.dtype} values, not numbers.", fix)
        self._arrays[trial] = arr
        return arr

    def interpolate(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frames at ``times``: (n_valid, H, W) float32 and the (len(times),) validity mask."""
        times = np.asarray(times, dtype=np.float64)
        valid = self.valid_times(times)
        idx = self.frame_indices(times if np.count_nonzero(valid) == len(valid) else times[valid])
        out = np.empty((len(idx), *self.image_size), dtype=np.float32)
        trials = self.frame_trial[idx]
        # one read per run of frames from the same trial (a chunk spans one or a few trials)
        if not len(idx):
            runs = []
        elif np.count_nonzero(trials != trials[0]) == 0:
            runs = [(0, len(idx))]
        else:
            breaks = (np.flatnonzero(trials[1:] != trials[:-1]) + 1).tolist()
            runs = list(zip([0, *breaks], [*breaks, len(idx)], strict=True))
        for lo, hi in runs:
            trial = int(trials[lo])
            kind = self.modalities[trial]
            if kind == "video":
                arr = self._trial_array(trial)
                frames = self.frame_in_trial[idx[lo:hi]]
                if arr.dtype == out.dtype:  # gathered straight into the output: one copy
                    np.take(arr, frames, axis=0, out=out[lo:hi], mode="clip")
                else:
                    out[lo:hi] = arr[frames]
            elif kind == "image":
                out[lo:hi] = self._trial_array(trial)[0]
            else:  # blank or invalid: a uniform grey screen
                grey = self._grey.get(trial)
                if grey is None:
                    value = self.interleave.iat[trial] if self.interleave is not None else None
                    grey = self._grey[trial] = 0.0 if value is None or value != value else float(value)
                out[lo:hi] = grey
        return out, valid
