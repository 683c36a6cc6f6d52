"""``ChunkDataset``: aligned multi-modal chunks of an experiment, as a PyTorch dataset.

A sample starts at a time ``s`` (seconds) on the screen's clock. For every modality the dataset reads
``chunk_size`` values at ``s + offset + arange(chunk_size) / sampling_rate`` (times rounded to
``10**-interpolate_precision`` s so that two sessions never drift apart by float error), interpolates them
(see :mod:`course_utils.experanto.interpolators`), and transforms them. A start ``s`` is *valid* when

1. it lies on the grid ``start + 0.5 s + k / screen_rate`` inside the range every modality covers, shrunk by
   ``safe_interval_threshold`` (0.5 s) at both ends, and every modality's chunk times fall inside that
   modality's half-open range;
2. every screen frame of the chunk belongs to a trial matching ``valid_condition`` (a dict, or a list of
   dicts: OR across dicts, AND within one; ``include_blanks`` adds ``{"tier": "blank"}``);
3. no chunk time of a modality with a ``nan_filter`` reads (or is within ``vicinity`` s of) a NaN sample.

Starts are then thinned by ``sample_stride`` (every stride-th start, from a seeded random phase).

Differences from upstream, all fixes: the NaN filter covers the whole time a NaN sample is *held* by floor
interpolation (upstream only masked +-``vicinity`` around the NaN's timestamp, so an 8 Hz response NaN leaked
into chunks whose times fell 0.05-0.125 s after it), and is checked on each modality's own chunk times, not
only the screen's; linear interpolation uses the true sample times when ``start_time != 0``; nothing is
written into the data folder; missing modalities and keys raise errors that name the file.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import copy
import itertools
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
from .transforms import load_statistics, normalization_from_config, screen_transforms_from_config

__all__ = [
    "DEFAULT_MODALITY_CONFIG",
    "ChunkDataset",
    "MultiSessionLoader",
    "get_multisession_dataloader",
    "condition_mask",
]

_NAN_FILTER = {"nan_filter": {"vicinity": 0.05}}

#: Upstream's defaults: screen 60 frames @ 30 Hz resized to 144x256, responses 16 bins @ 8 Hz,
#: eye tracker and treadmill 60 @ 30 Hz, NaN filters on the sequences.
DEFAULT_MODALITY_CONFIG: dict[str, dict[str, Any]] = {
    "screen": {
        "sampling_rate": 30,
        "chunk_size": 60,
        "valid_condition": {"tier": "train"},
        "offset": 0,
        "sample_stride": 1,
        "include_blanks": True,
        "transforms": {"normalization": "normalize", "Resize": {"size": [144, 256]}},
        "interpolation": {},
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
        (``interpolation_mode``, ``rounding``), ``filters`` (``nan_filter: {vicinity: s}``); the screen also
        ``valid_condition``, ``include_blanks``, ``sample_stride``. See :data:`DEFAULT_MODALITY_CONFIG`.
    out_keys
        Modalities to return (default: every configured modality plus ``"timestamps"``).
    seed
        Seed of the random phase of ``sample_stride`` thinning (reproducible samples).
    safe_interval_threshold
        Margin (s) kept free at both ends of the recording.
    interpolate_precision
        Decimal places (of seconds) that chunk times are rounded to.
    replace_nans_with_means
        Replace NaN values by the signal's mean (0 after z-scoring) instead of returning NaN.
    normalize_timestamps
        Return timestamps relative to the experiment's start instead of the raw clock.
    cache_data
        Read sequences into memory.
    cache_dir
        Where start-up caches go (never the data folder).

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
            cfg.setdefault("offset", 0.0)
        self.modality_config = config
        self.seed = seed
        self.safe_interval_threshold = float(safe_interval_threshold)
        self.precision = int(interpolate_precision)
        self.replace_nans_with_means = replace_nans_with_means
        self.normalize_timestamps = normalize_timestamps
        self.cache_dir = cache_dir
        self.experiment = Experiment(self.root_folder, config, modalities=list(config), cache_data=cache_data,
                                     cache_dir=cache_dir)
        self.data_key = self.experiment.data_key
        self.out_keys = list(out_keys) if out_keys is not None else [*config, "timestamps"]
        unknown = [k for k in self.out_keys if k != "timestamps" and k not in config]
        if unknown:
            raise KeyError(f"out_keys {unknown} are not in modality_config ({list(config)}).")
        screens = [n for n, d in self.experiment.devices.items() if isinstance(d, ScreenInterpolator)]
        self.reference = screens[0] if screens else next(iter(config))
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
    def _init_transforms(self) -> None:
        self._stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._normalization: dict[str, str | None] = {}
        self._screen_transforms: dict[str, list] = {}
        for name, cfg in self.modality_config.items():
            device = self.experiment.devices[name]
            transforms = cfg.get("transforms") or {}
            norm = normalization_from_config(transforms)
            self._normalization[name] = norm
            if norm is not None or self.replace_nans_with_means:
                self._stats[name] = load_statistics(device.folder)
            if isinstance(device, ScreenInterpolator):
                fs = screen_transforms_from_config(transforms)
                interp = cfg.get("interpolation") or {}
                if interp.get("rescale") and interp.get("rescale_size"):
                    fs = screen_transforms_from_config({"Resize": {"size": interp["rescale_size"]}}) + fs
                self._screen_transforms[name] = fs

    def _chunk_offsets(self, name: str) -> np.ndarray:
        cfg = self.modality_config[name]
        return float(cfg["offset"]) + np.arange(int(cfg["chunk_size"])) / float(cfg["sampling_rate"])

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
                times = np.round(starts[:, None] + self._chunk_offsets(name)[None, :], self.precision)
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
        if name in self._stats:
            mean, std = self._stats[name]
            if self.replace_nans_with_means and np.isnan(values).any():
                values = np.where(np.isnan(values), mean, values)
            if norm == "normalize":
                values = (values - mean) / std
            elif norm == "normalize_variance_only":
                values = values / std
        tensor = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))
        if isinstance(device, ScreenInterpolator):
            tensor = tensor.unsqueeze(0)  # channel axis: (1, T, H, W)
            for f in self._screen_transforms[name]:
                tensor = f(tensor)
        return tensor

    def __getitem__(self, idx: int) -> dict[str, Any]:
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} out of range for a dataset of {len(self)} chunks")
        start = float(self._valid_screen_times[idx])
        sample: dict[str, Any] = {}
        timestamps = {}
        t0 = self.experiment.start_time if self.normalize_timestamps else 0.0
        for name in self.modality_config:
            if name not in self.out_keys and "timestamps" not in self.out_keys:
                continue
            times = np.round(start + self._chunk_offsets(name), self.precision)
            timestamps[name] = torch.from_numpy(times - t0)
            if name in self.out_keys:
                values, valid = self.experiment.devices[name].interpolate(times)
                if not valid.all():  # cannot happen for a valid start; a clear message if the folder changed
                    raise RuntimeError(f"{name}: chunk at {start:.3f} s leaves the recording; rebuild the dataset.")
                sample[name] = self._transform(name, values)
        if "timestamps" in self.out_keys:
            sample["timestamps"] = timestamps
        return sample


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
