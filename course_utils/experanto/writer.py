"""Write experiment folders in the Experanto layout (used by the converter, the demo simulator and tests).

Layout (one folder per experiment, one subfolder per modality)::

    <experiment>/meta.json                      {"data_key": ...}  (optional)
    <experiment>/screen/meta.yml                modality: screen
    <experiment>/screen/timestamps.npy          one time (s) per stored frame
    <experiment>/screen/meta/<trial>.yml        modality, first_frame_idx, num_frames, image_size, tier, ...
    <experiment>/screen/data/<trial>.npy        (T, H, W) video or (H, W) image; blanks have no file
    <experiment>/screen/meta/means.npy, stds.npy
    <experiment>/<sequence>/meta.yml            modality: sequence, sampling_rate, start_time, end_time, ...
    <experiment>/<sequence>/data.mem            raw memmap (n_timestamps, n_signals)
    <experiment>/<sequence>/meta/means.npy, stds.npy   shape (1, n_signals)
    <experiment>/<sequence>/meta/phase_shifts.npy      optional, seconds per signal

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

__all__ = ["write_sequence_modality", "write_screen_modality", "write_experiment_meta", "trial_name"]


def trial_name(index: int) -> str:
    """File stem of the ``index``-th screen trial (``00007``), as upstream names them.

    Examples
    --------
    >>> trial_name(7)
    '00007'

    Taught in chapter 04_experanto_chunks.
    """
    return f"{index:05d}"


def write_experiment_meta(folder: str | Path, data_key: str) -> None:
    """Write the optional root ``meta.json`` holding the experiment's ``data_key``.

    Examples
    --------
    >>> import tempfile; d = tempfile.mkdtemp(); write_experiment_meta(d, "mouse_1")

    Taught in chapter 04_experanto_chunks.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(json.dumps({"data_key": data_key}))


def write_sequence_modality(
    folder: str | Path,
    data: np.ndarray,
    sampling_rate: float,
    start_time: float = 0.0,
    *,
    means: np.ndarray | None = None,
    stds: np.ndarray | None = None,
    phase_shifts: np.ndarray | None = None,
    dtype: str = "float32",
) -> None:
    """Write one sequence modality (regularly sampled signals) as ``data.mem`` + ``meta.yml``.

    Parameters
    ----------
    folder
        The modality folder, e.g. ``<experiment>/responses``.
    data
        Samples, shape (n_timestamps, n_signals); NaN marks missing samples.
    sampling_rate
        Samples per second (Hz). Sample ``k`` of signal ``j`` is at ``start_time + k / sampling_rate +
        phase_shifts[j]`` seconds.
    start_time
        Time of the first sample (s).
    means, stds
        Per-signal statistics for normalisation; computed from ``data`` (ignoring NaN) when omitted.
    phase_shifts
        Optional per-signal time offsets (s), e.g. the scan-line delay of each neuron in two-photon imaging.
    dtype
        Storage dtype of ``data.mem``.

    Examples
    --------
    >>> import tempfile; d = tempfile.mkdtemp()
    >>> write_sequence_modality(f"{d}/treadmill", np.zeros((10, 1)), sampling_rate=10.0)

    Taught in chapter 04_experanto_chunks.
    """
    data = np.asarray(data)
    if data.ndim != 2:
        raise ValueError(f"`data` must be 2-D (n_timestamps, n_signals); got shape {data.shape}.")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be positive; got {sampling_rate}.")
    folder = Path(folder)
    (folder / "meta").mkdir(parents=True, exist_ok=True)
    n_timestamps, n_signals = data.shape
    mem = np.memmap(folder / "data.mem", dtype=dtype, mode="w+", shape=(n_timestamps, n_signals))
    mem[:] = data
    mem.flush()
    del mem
    if means is None or stds is None:
        with np.errstate(all="ignore"):
            means = np.nanmean(data, axis=0) if means is None else means
            stds = np.nanstd(data, axis=0) if stds is None else stds
    np.save(folder / "meta" / "means.npy", np.asarray(means, dtype=np.float64).reshape(1, n_signals))
    np.save(folder / "meta" / "stds.npy", np.asarray(stds, dtype=np.float64).reshape(1, n_signals))
    if phase_shifts is not None:
        np.save(folder / "meta" / "phase_shifts.npy", np.asarray(phase_shifts, dtype=np.float64).reshape(n_signals))
    meta = {
        "modality": "sequence",
        "sampling_rate": float(sampling_rate),
        "start_time": float(start_time),
        # end of the last sample's interval: the half-open range [start_time, end_time) is covered
        "end_time": float(start_time + n_timestamps / sampling_rate),
        "n_signals": int(n_signals),
        "n_timestamps": int(n_timestamps),
        "dtype": dtype,
        "is_mem_mapped": True,
        "phase_shift_per_signal": phase_shifts is not None,
    }
    (folder / "meta.yml").write_text(yaml.safe_dump(meta, sort_keys=False))


def write_screen_modality(
    folder: str | Path,
    timestamps: np.ndarray,
    trials: Sequence[dict[str, Any]],
    *,
    mean: float | None = None,
    std: float | None = None,
) -> None:
    """Write the screen modality: frame timestamps, one meta YAML per trial and one array per non-blank trial.

    Parameters
    ----------
    folder
        ``<experiment>/screen``.
    timestamps
        Display time (s) of every stored frame, increasing; ``len(timestamps) == sum(num_frames)``.
    trials
        In display order, dicts with ``modality`` (``"video"``, ``"image"``, ``"blank"`` or ``"invalid"``),
        ``num_frames`` and, for videos/images, ``data`` ((T, H, W) or (H, W)); blanks need ``image_size``
        and ``interleave_value``. Every other key (``tier``, ``stim_type``, ``trial_idx`` ...) is stored in
        the trial's YAML. ``first_frame_idx`` is filled in.
    mean, std
        Screen statistics for normalisation (computed from the stored frames when omitted).

    Examples
    --------
    >>> import tempfile; d = tempfile.mkdtemp()
    >>> write_screen_modality(f"{d}/screen", np.arange(3) / 30,
    ...     [{"modality": "image", "num_frames": 3, "data": np.ones((2, 2)), "tier": "train"}])

    Taught in chapter 04_experanto_chunks.
    """
    folder = Path(folder)
    (folder / "meta").mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    timestamps = np.asarray(timestamps, dtype=np.float64)
    if timestamps.ndim != 1 or np.any(np.diff(timestamps) <= 0):
        raise ValueError("`timestamps` must be 1-D and strictly increasing.")
    total = sum(int(t["num_frames"]) for t in trials)
    if total != len(timestamps):
        raise ValueError(f"The trials hold {total} frames but {len(timestamps)} timestamps were given.")
    np.save(folder / "timestamps.npy", timestamps)
    first = 0
    sums, sq_sums, count = 0.0, 0.0, 0
    image_size = None
    for i, trial in enumerate(trials):
        meta = {k: v for k, v in trial.items() if k != "data"}
        meta["first_frame_idx"] = first
        meta["num_frames"] = int(trial["num_frames"])
        if trial["modality"] in ("video", "image"):
            arr = np.asarray(trial["data"])
            expected = 3 if trial["modality"] == "video" else 2
            if arr.ndim != expected:
                raise ValueError(f"Trial {i}: a {trial['modality']} must be {expected}-D; got {arr.shape}.")
            if trial["modality"] == "video" and arr.shape[0] != meta["num_frames"]:
                raise ValueError(f"Trial {i}: video has {arr.shape[0]} frames but num_frames={meta['num_frames']}.")
            np.save(folder / "data" / f"{trial_name(i)}.npy", arr)
            meta["image_size"] = [int(s) for s in arr.shape[-2:]]
            sums += float(arr.sum(dtype=np.float64))
            sq_sums += float((arr.astype(np.float64) ** 2).sum())
            count += arr.size
        meta.setdefault("image_size", image_size)
        image_size = meta["image_size"]
        meta = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in meta.items()}
        (folder / "meta" / f"{trial_name(i)}.yml").write_text(yaml.safe_dump(meta, sort_keys=False))
        first += meta["num_frames"]
    if mean is None:
        mean = sums / max(count, 1)
    if std is None:
        std = float(np.sqrt(max(sq_sums / max(count, 1) - mean**2, 0.0)))
    np.save(folder / "meta" / "means.npy", np.asarray(mean, dtype=np.float64))
    np.save(folder / "meta" / "stds.npy", np.asarray(std, dtype=np.float64))
    (folder / "meta.yml").write_text(
        yaml.safe_dump({"modality": "screen", "n_frames": int(len(timestamps)), "n_trials": len(trials)})
    )
