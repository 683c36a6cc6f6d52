"""``ChunkDataset``: aligned multi-modal chunks of an experiment, as a PyTorch dataset.

A sample starts at a time ``s`` (seconds) on the screen's clock. For every modality the dataset reads
``chunk_size`` values at ``s + offset + arange(chunk_size) / sampling_rate`` (times rounded to
``10**-interpolate_precision`` s so that two sessions never drift apart by float error), interpolates them
(see :mod:`course_utils.experanto.interpolators`), and transforms them (:mod:`.transforms`). A start ``s`` is
*valid* when

1. it lies on the grid ``start + 0.5 s + k / screen_rate``, where ``start`` is the latest start of all
   modalities, and the **whole** screen chunk lies before ``end - 0.5 s`` (``end``: the earliest end of all
   modalities; 0.5 s is ``safe_interval_threshold``); every other modality's chunk lies inside its own range;
2. every screen frame of the chunk belongs to a trial matching ``valid_condition`` (a dict, or a list of
   dicts: OR across dicts, AND within one; ``include_blanks`` adds ``{"tier": "blank"}``);
3. no chunk time of a modality with a ``nan_filter`` reads (or is within ``vicinity`` s of) a NaN sample.

Starts are then thinned by ``sample_stride`` (every stride-th start, from a seeded random phase). Timestamps
come relative to the ``responses``' start time, as float32 (upstream's convention; ``normalize_timestamps=False``
gives the raw float64 clock).

Deliberate differences from upstream Experanto (the one list; chapter 04_experanto_chunks shows each)
----------------------------------------------------------------------------------------------------
Everything else gives upstream's samples: with ``upstream_clock=True`` (below) the same values, bit for bit, at
every start both accept (``benchmarks/bench_experanto.py --upstream`` checks it).

* **No drift in chunk times.** Upstream steps through a chunk by the period rounded to 1e-5 s (``3333`` units
  at 30 Hz), so the 60th frame time of a chunk is 0.2 ms early; once the drift passes the screen's 0.1 ms
  tolerance it reads the *previous* frame, for about half of the slots when the chunk starts on a frame. Here
  times are ``s + k / rate`` rounded to 1e-5 s.
* **Exact-time floor.** A time exactly on a sample reads that sample (upstream divides by the rounded period
  and, for some exact times, reads the previous one).
* **The NaN filter** covers the whole time a NaN sample is *held* by floor interpolation and is checked on each
  modality's own chunk times (upstream masked +-``vicinity`` around the NaN's timestamp on the screen's times
  only, so an 8 Hz NaN leaked into chunks whose times fell 0.05-0.125 s after it). Trial conditions are
  checked on the frame actually read (with the screen's 0.1 ms tolerance), not on the raw time.
* **Nothing is written into the data folder** (upstream writes ``combined_meta.json`` into ``screen/``; here
  the trial index is cached outside, see :mod:`.index`).
* Linear interpolation weights use the true sample times when ``start_time != 0`` (upstream fixed it in 2026).
* ``replace_nans_with_means`` works (upstream accepts and ignores it); a ``keep_nans`` at the modality level
  (where upstream's default config puts it, and upstream ignores it) is honoured.
* Samples are float32 whatever the stored dtype (upstream passes float64 ``data.npy`` through as float64);
  stds below 1e-8 of non-response modalities become 1 (upstream divides by them).
* Errors name the file or config key and the fix (upstream mostly asserts).

``upstream_clock=True`` restores the first two (drifting chunk times, upstream's floor) so the samples can be
compared with upstream's bit for bit; it exists for that comparison only.

``add_behavior_as_channels`` is supported as upstream has it, and deprecated as upstream deprecated it.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import copy
import itertools
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from .experiment import Experiment
from .index import cached_nan_indices
from .interpolators import ScreenInterpolator, SequenceInterpolator
from .transforms import (
    area_resize,
    is_pixel_repetition,
    load_statistics,
    normalization_from_config,
    prepare_compiled_kernel,
    repeat_factors,
    repeat_pixels,
    screen_transforms_from_config,
)

__all__ = [
    "DEFAULT_MODALITY_CONFIG",
    "ChunkDataset",
    "MultiSessionLoader",
    "get_multisession_dataloader",
    "condition_mask",
]

_NAN_FILTER = {"nan_filter": {"vicinity": 0.05}}

#: Upstream's defaults: screen 60 frames @ 30 Hz rescaled to 144x256 (area interpolation: 4x4 pixel
#: repetition for 36x64 frames), responses 16 bins @ 8 Hz, eye tracker and treadmill 60 @ 30 Hz, NaN filters
#: on the sequences.
DEFAULT_MODALITY_CONFIG: dict[str, dict[str, Any]] = {
    "screen": {
        "sampling_rate": 30,
        "chunk_size": 60,
        "valid_condition": {"tier": "train"},
        "offset": 0,
        "sample_stride": 1,
        "include_blanks": True,
        "transforms": {"normalization": "normalize", "Resize": {"size": [144, 256]}},
        "interpolation": {"rescale": True, "rescale_size": [144, 256]},
    },
    "responses": {
        "sampling_rate": 8,
        "chunk_size": 16,
        "offset": 0.0,
        "transforms": {"normalization": "normalize_variance_only"},
        "interpolation": {"interpolation_mode": "nearest_neighbor"},
        "filters": copy.deepcopy(_NAN_FILTER),
    },
    "eye_tracker": {
        "sampling_rate": 30,
        "chunk_size": 60,
        "offset": 0,
        "transforms": {"normalization": "normalize"},
        "interpolation": {"interpolation_mode": "nearest_neighbor"},
        "filters": copy.deepcopy(_NAN_FILTER),
    },
    "treadmill": {
        "sampling_rate": 30,
        "chunk_size": 60,
        "offset": 0,
        "transforms": {"normalization": "normalize"},
        "interpolation": {"interpolation_mode": "nearest_neighbor"},
        "filters": copy.deepcopy(_NAN_FILTER),
    },
}


def condition_mask(trials: pd.DataFrame, conditions: dict | list[dict] | None) -> np.ndarray:
    """Which trials match ``conditions``: a list of dicts, OR across dicts and AND within a dict.

    Parameters
    ----------
    trials
        The screen's trial table (:func:`course_utils.experanto.index.load_trial_table`).
    conditions
        ``{"tier": "train"}``, or ``[{"tier": "train", "stim_type": "video"}, {"tier": "blank"}]``;
        ``None`` or ``{}`` matches every trial.

    Examples
    --------
    >>> t = pd.DataFrame({"tier": ["train", "test", "blank"], "modality": ["video", "video", "blank"]})
    >>> condition_mask(t, [{"tier": "train"}, {"tier": "blank"}]).tolist()
    [True, False, True]

    Taught in chapter 04_experanto_chunks.
    """
    if not conditions:
        return np.ones(len(trials), dtype=bool)
    if isinstance(conditions, dict):
        conditions = [conditions]
    mask = np.zeros(len(trials), dtype=bool)
    for clause in conditions:
        term = np.ones(len(trials), dtype=bool)
        for key, value in clause.items():
            if key not in trials:
                raise KeyError(
                    f"valid_condition uses {key!r} but no screen trial's meta has it (keys: {sorted(trials.columns)})."
                )
            allowed = value if isinstance(value, (list, tuple, set)) else [value]
            term &= trials[key].isin(allowed).to_numpy()
        mask |= term
    return mask


def _merge_intervals(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(lo) == 0:
        return lo, hi
    order = np.argsort(lo)
    lo, hi = lo[order], hi[order]
    running_hi = np.maximum.accumulate(hi)
    new = np.r_[True, lo[1:] > running_hi[:-1]]
    starts = lo[new]
    ends = np.maximum.reduceat(hi, np.flatnonzero(new))
    return starts, ends


def _in_intervals(times: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """True where times fall inside one of the half-open, merged intervals [lo, hi)."""
    if len(lo) == 0:
        return np.zeros(times.shape, dtype=bool)
    k = np.searchsorted(lo, times, side="right") - 1
    return (k >= 0) & (times < hi[np.maximum(k, 0)])


class ChunkDataset(Dataset):
    """Aligned chunks of every modality of one experiment (upstream Experanto's ``ChunkDataset``).

    Parameters
    ----------
    root_folder
        The experiment folder.
    global_sampling_rate, global_chunk_size
        Override every modality's ``sampling_rate`` / ``chunk_size`` (Hz / samples).
    modality_config
        Per modality: ``sampling_rate``, ``chunk_size``, ``offset`` (s), ``transforms``, ``interpolation``
        (``interpolation_mode``, ``rounding``, ``keep_nans``; the screen's ``rescale`` and ``rescale_size``),
        ``filters`` (``nan_filter: {vicinity: s}``); the screen also ``valid_condition``, ``include_blanks``,
        ``sample_stride``. See :data:`DEFAULT_MODALITY_CONFIG`.
    out_keys
        Modalities to return (default: every configured modality plus ``"timestamps"``).
    seed
        Seed of the random phase of ``sample_stride`` thinning (reproducible samples).
    safe_interval_threshold
        Margin (s) kept free at both ends of the recording, for the whole screen chunk.
    interpolate_precision
        Decimal places (of seconds) that chunk times are rounded to.
    replace_nans_with_means
        Replace NaN values by the signal's mean (0 after z-scoring) instead of returning NaN.
    normalize_timestamps
        Return timestamps relative to the responses' start time, as float32 (upstream's convention; the
        experiment's start if there is no ``responses`` modality); ``False``: the raw clock, float64.
    cache_data
        Read sequences into memory.
    cache_dir
        Where start-up caches go (never the data folder).
    add_behavior_as_channels
        Deprecated (as upstream): append the eye tracker's and treadmill's values to the screen as extra
        channels, each constant over the frame, giving (1 + n_eye + n_treadmill, T, H, W). Needs their
        chunk_size equal to the screen's. Use the separate ``eye_tracker``/``treadmill`` outputs instead.
    upstream_clock
        Reproduce upstream's drifting chunk times and its floor (see the module docstring), for bit-for-bit
        comparisons with upstream only.

    Examples
    --------
    >>> ds = ChunkDataset(get_source("experanto") / "mixed", seed=0)     # doctest: +SKIP
    >>> sample = ds[0]; sample["screen"].shape                          # doctest: +SKIP
    torch.Size([1, 60, 144, 256])

    Taught in chapter 04_experanto_chunks.
    """

    def __init__(
        self,
        root_folder: str | Path,
        global_sampling_rate: float | None = None,
        global_chunk_size: int | None = None,
        modality_config: dict[str, dict[str, Any]] | None = None,
        out_keys: list[str] | None = None,
        seed: int | None = None,
        safe_interval_threshold: float = 0.5,
        interpolate_precision: int = 5,
        replace_nans_with_means: bool = False,
        normalize_timestamps: bool = True,
        cache_data: bool = False,
        cache_dir: str | Path | None = None,
        add_behavior_as_channels: bool = False,
        upstream_clock: bool = False,
    ) -> None:
        self.root_folder = Path(root_folder)
        config = copy.deepcopy(DEFAULT_MODALITY_CONFIG if modality_config is None else modality_config)
        if not config:
            raise ValueError("modality_config is empty: name at least one modality (e.g. 'screen').")
        for name, cfg in config.items():
            cfg = config[name] = dict(cfg or {})
            if global_sampling_rate is not None:
                cfg["sampling_rate"] = global_sampling_rate
            if global_chunk_size is not None:
                cfg["chunk_size"] = global_chunk_size
            for key in ("sampling_rate", "chunk_size"):
                if cfg.get(key) is None:
                    raise ValueError(
                        f"modality_config[{name!r}] has no {key}: set it there or pass global_{key}."
                    )
            if cfg["sampling_rate"] <= 0 or int(cfg["chunk_size"]) < 1:
                raise ValueError(f"modality_config[{name!r}]: sampling_rate must be > 0 and chunk_size >= 1.")
            if cfg.get("offset") is None:
                cfg["offset"] = 0.0
        self.modality_config = config
        self._offsets: dict[str, np.ndarray] = {}
        self._clock_steps: dict[str, np.ndarray] = {}
        self.seed = seed
        self.safe_interval_threshold = float(safe_interval_threshold)
        self.precision = int(interpolate_precision)
        self.replace_nans_with_means = replace_nans_with_means
        self.normalize_timestamps = normalize_timestamps
        self.cache_dir = cache_dir
        self.upstream_clock = bool(upstream_clock)
        self.add_behavior_as_channels = bool(add_behavior_as_channels)
        self.experiment = Experiment(self.root_folder, config, modalities=list(config), cache_data=cache_data,
                                     cache_dir=cache_dir, upstream_clock=self.upstream_clock)
        self.data_key = self.experiment.data_key
        self.out_keys = list(out_keys) if out_keys is not None else [*config, "timestamps"]
        unknown = [k for k in self.out_keys if k != "timestamps" and k not in config]
        if unknown:
            raise KeyError(f"out_keys {unknown} are not in modality_config ({list(config)}).")
        screens = [n for n, d in self.experiment.devices.items() if isinstance(d, ScreenInterpolator)]
        self.reference = screens[0] if screens else next(iter(config))
        if self.add_behavior_as_channels:
            self._check_behavior_channels(screens)
        devices = self.experiment.devices
        self._time_origin = (devices["responses"].start_time if "responses" in devices
                             else self.experiment.start_time)
        self._init_transforms()
        self._rng = np.random.default_rng(seed)
        self._full_valid_times = self.get_full_valid_sample_times()
        if len(self._full_valid_times) == 0:
            spans = ", ".join(
                f"{n} {c['chunk_size']} x {c['sampling_rate']} Hz = {int(c['chunk_size']) / float(c['sampling_rate']):g} s"
                for n, c in config.items()
            )
            ref = config[self.reference]
            raise ValueError(
                f"No valid chunk in {self.root_folder} ({self.experiment.end_time - self.experiment.start_time:.1f} s "
                f"recorded): chunks span {spans}; valid_condition={ref.get('valid_condition')!r}; NaN filters and "
                f"safe_interval_threshold={self.safe_interval_threshold} s also apply. Use a shorter chunk "
                "(fewer samples or a higher sampling_rate), relax valid_condition or set include_blanks."
            )
        self.shuffle_valid_screen_times()

    # ------------------------------------------------------------------ set-up
    def _check_behavior_channels(self, screens: list[str]) -> None:
        warnings.warn(
            "add_behavior_as_channels is deprecated (upstream Experanto deprecated it too): it copies every "
            "behaviour value over the whole frame. Use the separate 'eye_tracker' and 'treadmill' outputs.",
            DeprecationWarning, stacklevel=3,
        )
        needed = ["eye_tracker", "treadmill"]
        if not screens or any(n not in self.modality_config for n in needed):
            raise ValueError("add_behavior_as_channels needs 'screen', 'eye_tracker' and 'treadmill' in modality_config.")
        sizes = {n: int(self.modality_config[n]["chunk_size"]) for n in [screens[0], *needed]}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"add_behavior_as_channels needs equal chunk sizes (one value per frame); got {sizes}.")

    def _init_transforms(self) -> None:
        self._stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._normalization: dict[str, str | None] = {}
        self._screen_transforms: dict[str, list] = {}
        self._rescale: dict[str, Any] = {}
        self._normalize_first: dict[str, bool] = {}
        self._fused_repeat: dict[str, tuple[int, int]] = {}
        for name, cfg in self.modality_config.items():
            device = self.experiment.devices[name]
            transforms = cfg.get("transforms") or {}
            norm = normalization_from_config(transforms)
            self._normalization[name] = norm
            if norm is not None or self.replace_nans_with_means:
                n_signals = None if isinstance(device, ScreenInterpolator) else device.n_signals
                self._stats[name] = load_statistics(device.folder, n_signals)
            if isinstance(device, ScreenInterpolator):
                interp = cfg.get("interpolation") or {}
                size = interp.get("rescale_size")
                rescale = area_resize(size) if interp.get("rescale") and size else None
                out_size = tuple(int(v) for v in size) if rescale is not None else tuple(device.image_size)
                # drop a Resize to the size the frames already have (upstream's default config has one after
                # its rescale); crops only select pixels, so they commute with normalisation exactly
                fs, exact = [], rescale is None or is_pixel_repetition(device.image_size, out_size)
                for f in screen_transforms_from_config(transforms):
                    kind = getattr(f, "kind", None)
                    if kind == "Resize" and tuple(f.size) == out_size:
                        continue
                    exact &= kind == "CenterCrop"
                    out_size = tuple(f.size) if kind == "Resize" else out_size
                    fs.append(f)
                self._rescale[name] = rescale
                self._screen_transforms[name] = fs
                # normalising the small stored frames is cheaper and, when the rest only repeats or selects
                # pixels, gives exactly the values of upstream's order (normalisation last)
                self._normalize_first[name] = exact
                # upstream's default (normalise, then a 4x4 repetition, nothing else): normalise each block of
                # frames inside repeat_pixels, while it is in the cache
                factors = repeat_factors(device.image_size, out_size) if rescale is not None else None
                if exact and not fs and norm is not None and factors is not None:
                    self._fused_repeat[name] = factors
        if self._fused_repeat:  # now rather than at the first sample (~1 s per process; see kernels)
            prepare_compiled_kernel()

    def chunk_offsets(self, name: str) -> np.ndarray:
        """The read times (s) of modality ``name`` relative to a chunk's start: ``offset + arange(chunk_size) /
        sampling_rate`` from its config (cached). :meth:`chunk_times` adds the start and rounds.

        Taught in chapter 04_experanto_chunks.
        """
        offsets = self._offsets.get(name)
        if offsets is None:
            cfg = self.modality_config[name]
            offsets = self._offsets[name] = float(cfg["offset"]) + np.arange(int(cfg["chunk_size"])) / float(
                cfg["sampling_rate"])
        return offsets

    def chunk_times(self, starts: np.ndarray | float, name: str) -> np.ndarray:
        """The times (s) at which modality ``name`` is read for chunks starting at ``starts``.

        ``s + offset + arange(chunk_size) / sampling_rate``, rounded to ``interpolate_precision`` decimals;
        with ``upstream_clock`` upstream's integer steps of the rounded period instead.

        Returns
        -------
        np.ndarray
            (chunk_size,) for a scalar start, else (n_starts, chunk_size).
        """
        if isinstance(starts, (float, int, np.floating, np.integer)):  # one sample: the hot path of __getitem__
            if not self.upstream_clock:
                return np.round(float(starts) + self.chunk_offsets(name), self.precision)
            steps = self._clock_steps.get(name)
            if steps is None:
                steps = self._clock_steps[name] = self._upstream_steps(name)
            # Python's round() of a float is numpy's rint (half to even), as in the vectorised branch below
            scale = 10**self.precision
            return (steps + round(float(starts) * scale)).astype(np.float64) / scale
        starts_arr = np.atleast_1d(np.asarray(starts, dtype=np.float64))
        if self.upstream_clock:
            scale = 10**self.precision
            ints = np.round(starts_arr * scale).astype(np.int64)[:, None] + self._upstream_steps(name)[None, :]
            times = ints.astype(np.float64) / scale
        else:
            times = np.round(starts_arr[:, None] + self.chunk_offsets(name)[None, :], self.precision)
        return times[0] if np.ndim(starts) == 0 else times

    def _upstream_steps(self, name: str) -> np.ndarray:
        """upstream_clock: a chunk's read times in units of ``10**-precision`` s, less its rounded start."""
        cfg = self.modality_config[name]
        scale = 10**self.precision
        step = int(round(scale / float(cfg["sampling_rate"])))
        return int(round(float(cfg["offset"]) * scale)) + np.arange(int(cfg["chunk_size"]), dtype=np.int64) * step

    def _nan_intervals(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        device = self.experiment.devices[name]
        cfg = self.modality_config[name]
        nan_cfg = (cfg.get("filters") or {}).get("nan_filter")
        if nan_cfg is None or not isinstance(device, SequenceInterpolator):
            return np.zeros(0), np.zeros(0)
        vicinity = float(nan_cfg.get("vicinity", 0.05))
        bad = cached_nan_indices(device, self.cache_dir)
        dt = 1.0 / device.sampling_rate
        sample_t = device.start_time + bad * dt
        shifts = device.phase_shifts if device.phase_shifts is not None else np.zeros(1)
        # a NaN sample is read for every time in [t, t + dt) (floor) or (t - dt, t + dt) (linear)
        before = dt if device.interpolation_mode == "linear" else 0.0
        if device.rounding == "nearest":
            before = max(before, dt / 2)
        lo = sample_t + shifts.min() - before - vicinity
        hi = sample_t + shifts.max() + dt + vicinity
        return _merge_intervals(lo, hi)

    def get_full_valid_sample_times(self, block: int = 16384) -> np.ndarray:
        """Every valid chunk start (s), before ``sample_stride`` thinning (see the module docstring)."""
        exp = self.experiment
        ref_cfg = self.modality_config[self.reference]
        rate = float(ref_cfg["sampling_rate"])
        lo = exp.start_time + self.safe_interval_threshold
        hi = exp.end_time - self.safe_interval_threshold
        if hi <= lo:
            return np.zeros(0)
        candidates = np.round(lo + np.arange(int(np.ceil((hi - lo) * rate))) / rate, self.precision)
        candidates = candidates[candidates < hi]
        trial_ok = {}
        for name, device in exp.devices.items():
            if isinstance(device, ScreenInterpolator):
                cfg = self.modality_config[name]
                conditions = cfg.get("valid_condition")
                conditions = [conditions] if isinstance(conditions, dict) else list(conditions or [])
                if cfg.get("include_blanks") and conditions:
                    conditions.append({"tier": "blank"})
                trial_ok[name] = condition_mask(device.trials, conditions)
        nan_intervals = {name: self._nan_intervals(name) for name in exp.devices}
        keep = np.zeros(len(candidates), dtype=bool)
        for b in range(0, len(candidates), block):
            starts = candidates[b : b + block]
            ok = np.ones(len(starts), dtype=bool)
            for name, device in exp.devices.items():
                times = self.chunk_times(starts, name)
                if name == self.reference:  # the margin holds for the whole chunk, as upstream
                    ok &= ((times >= lo) & (times < hi)).all(axis=1)
                ok &= device.valid_times(times).all(axis=1)
                if name in trial_ok:
                    frames = np.clip(device.frame_indices(times), 0, len(device.timestamps) - 1)
                    ok &= trial_ok[name][device.frame_trial[frames]].all(axis=1)
                nlo, nhi = nan_intervals[name]
                if len(nlo):
                    ok &= ~_in_intervals(times, nlo, nhi).any(axis=1)
            keep[b : b + block] = ok
        return candidates[keep]

    def shuffle_valid_screen_times(self) -> None:
        """Redraw the random phase of the ``sample_stride`` thinning (seeded: reproducible)."""
        stride = int(self.modality_config[self.reference].get("sample_stride", 1) or 1)
        phase = int(self._rng.integers(stride)) if stride > 1 else 0
        self._valid_screen_times = self._full_valid_times[phase::stride]

    def get_state(self) -> dict:
        """The RNG state (to resume an epoch sequence exactly)."""
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        """Restore an RNG state from :meth:`get_state`."""
        self._rng.bit_generator.state = state

    @property
    def valid_times(self) -> np.ndarray:
        """Chunk start times (s) this dataset serves, in order."""
        return self._valid_screen_times

    # ------------------------------------------------------------------ samples
    def __len__(self) -> int:
        return len(self._valid_screen_times)

    def _transform(self, name: str, values: np.ndarray) -> torch.Tensor:
        norm = self._normalization[name]
        device = self.experiment.devices[name]
        screen = isinstance(device, ScreenInterpolator)
        stats = self._stats.get(name)
        if stats is not None and self.replace_nans_with_means and np.isnan(values).any():
            mean = stats[0] if not screen else stats[0].reshape(())
            values = np.where(np.isnan(values), mean, values).astype(np.float32)
        if not screen:  # a view of the data (SequenceInterpolator.read) is never written into; a copy may be
            return torch.from_numpy(self._normalize(values, norm, stats, in_place=values.flags.owndata))
        fused = self._fused_repeat.get(name)
        if fused is not None and values.dtype == np.float32 and values.ndim == 3:
            mean, std = (v.reshape(()) for v in stats)
            out = repeat_pixels(values, *fused, normalize=(mean if norm == "normalize" else None, std))
            return torch.from_numpy(out[None])  # channel axis: (1, T, H, W)
        if self._normalize_first[name]:
            values = self._normalize(values, norm, stats)
        tensor = torch.from_numpy(values).unsqueeze(0)  # channel axis: (1, T, H, W)
        if self._rescale[name] is not None:
            tensor = self._rescale[name](tensor)
        for f in self._screen_transforms[name]:
            tensor = f(tensor)
        tensor = tensor.contiguous()
        if not self._normalize_first[name] and norm is not None:  # upstream's order: normalise last
            mean, std = (torch.tensor(float(v.reshape(())), dtype=tensor.dtype) for v in stats)
            tensor = tensor.clone() if tensor.data_ptr() == values.ctypes.data else tensor
            if norm == "normalize":
                tensor.sub_(mean)
            tensor.div_(std)
        return tensor

    @staticmethod
    def _normalize(values: np.ndarray, norm: str | None, stats: tuple[np.ndarray, np.ndarray] | None,
                   in_place: bool = True) -> np.ndarray:
        """(values - mean) / std or values / std in float32; ``in_place=False`` leaves ``values`` untouched
        (same operations, same order, written into a new array: the same values bit for bit)."""
        source = values
        values = np.ascontiguousarray(values, dtype=np.float32)
        in_place = in_place or not np.may_share_memory(values, source)  # converted: already a new array
        if norm is None:
            return values if in_place else np.array(values)  # a plain array, never an np.memmap
        mean, std = stats
        if values.ndim == 3:  # screen frames (T, H, W): scalar statistics
            mean, std = mean.reshape(()), std.reshape(())
        if not in_place:
            values = np.subtract(values, mean) if norm == "normalize" else np.divide(values, std)
            if norm == "normalize":
                values /= std
            return values
        if norm == "normalize":
            values -= mean
        values /= std
        return values

    def __getitem__(self, idx: int) -> dict[str, Any]:
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} out of range for a dataset of {len(self)} chunks")
        start = float(self._valid_screen_times[idx])
        sample: dict[str, Any] = {}
        timestamps = {}
        wanted = set(self.out_keys)
        if self.add_behavior_as_channels and "screen" in wanted:
            wanted |= {"eye_tracker", "treadmill"}
        for name in self.modality_config:
            if name not in wanted and "timestamps" not in wanted:
                continue
            times = self.chunk_times(start, name)
            if self.normalize_timestamps:
                timestamps[name] = torch.from_numpy((times - self._time_origin).astype(np.float32))
            else:
                timestamps[name] = torch.from_numpy(times)
            if name in wanted:
                device = self.experiment.devices[name]
                read = device.read if isinstance(device, SequenceInterpolator) else device.interpolate
                values, valid = read(times)
                # cannot happen for a valid start; a clear message if the folder changed
                if np.count_nonzero(valid) != len(valid):
                    raise RuntimeError(f"{name}: chunk at {start:.3f} s leaves the recording; rebuild the dataset.")
                sample[name] = self._transform(name, values)
        if self.add_behavior_as_channels and "screen" in sample:
            sample["screen"] = _behavior_as_channels(sample["screen"], sample["eye_tracker"], sample["treadmill"])
        out = {k: v for k, v in sample.items() if k in self.out_keys}
        if "timestamps" in self.out_keys:
            out["timestamps"] = timestamps
        return out


def _behavior_as_channels(screen: torch.Tensor, *behaviour: torch.Tensor) -> torch.Tensor:
    """(C, T, H, W) screen + (T, c_i) behaviour -> (C + sum c_i, T, H, W), each value constant over the frame."""
    _, t, h, w = screen.shape
    extra = [b.T[:, :, None, None].expand(-1, t, h, w) for b in behaviour]
    return torch.cat([screen, *extra], dim=0).contiguous()


class MultiSessionLoader:
    """Cycle over several sessions' loaders, yielding ``(data_key, batch)``; an epoch ends when the longest
    loader is exhausted (shorter ones restart), like upstream's ``LongCycler``.

    Examples
    --------
    >>> loader = get_multisession_dataloader([folder_a, folder_b], {"dataloader": {"batch_size": 4}})  # doctest: +SKIP
    >>> key, batch = next(iter(loader))                                                                  # doctest: +SKIP

    Taught in chapter 04_experanto_chunks.
    """

    def __init__(self, loaders: dict[str, DataLoader]) -> None:
        if not loaders:
            raise ValueError("No sessions given: pass at least one experiment folder.")
        self.loaders = loaders
        self.max_batches = max(len(loader) for loader in loaders.values())

    def __len__(self) -> int:
        return len(self.loaders) * self.max_batches

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        cycles = [itertools.cycle(_restarting(loader)) for loader in self.loaders.values()]
        keys = list(self.loaders)
        for _, (key, it) in zip(range(len(self)), itertools.cycle(zip(keys, cycles, strict=True)), strict=False):
            yield key, next(it)


def _restarting(loader: DataLoader) -> Iterator[Any]:
    while True:  # a fresh iterator each pass, so a shuffled loader reshuffles
        yield from loader


def get_multisession_dataloader(
    paths: list[str | Path],
    configs: dict[str, Any] | list[dict[str, Any]] | None = None,
) -> MultiSessionLoader:
    """One :class:`ChunkDataset` and DataLoader per experiment, cycled as one loader yielding ``(data_key, batch)``.

    Parameters
    ----------
    paths
        Experiment folders.
    configs
        ``{"dataset": {ChunkDataset kwargs}, "dataloader": {DataLoader kwargs}}``, shared by every session, or
        one such dict per path.

    Returns
    -------
    MultiSessionLoader

    Examples
    --------
    >>> loader = get_multisession_dataloader(folders, {"dataset": {"seed": 0},            # doctest: +SKIP
    ...                                                "dataloader": {"batch_size": 8}})

    Taught in chapter 04_experanto_chunks.
    """
    paths = [Path(p) for p in paths]
    if isinstance(configs, (list, tuple)):
        if len(configs) != len(paths):
            raise ValueError(f"{len(configs)} configs for {len(paths)} paths: give one per path or one for all.")
        per_path = list(configs)
    else:
        per_path = [configs or {}] * len(paths)
    loaders: dict[str, DataLoader] = {}
    for path, cfg in zip(paths, per_path, strict=True):
        dataset = ChunkDataset(path, **dict(cfg.get("dataset") or {}))
        key = dataset.data_key
        if key in loaders:
            key = f"{key}_{len(loaders)}"
        loaders[key] = DataLoader(dataset, **dict(cfg.get("dataloader") or {}))
    return MultiSessionLoader(loaders)
