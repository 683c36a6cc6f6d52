"""Write experiment folders in the Experanto layout (used by the converter, the demo simulator and tests).

Layout (one folder per experiment, one subfolder per modality), as upstream Experanto writes and reads it::

    <experiment>/meta.json                      {"data_key": ...}  (optional)
    <experiment>/screen/meta.yml                modality: screen, frame_rate
    <experiment>/screen/timestamps.npy          one time (s) per stored frame
    <experiment>/screen/meta/<trial>.yml        modality, first_frame_idx, image_size, tier, ... (+ num_frames
                                                for videos; interleave_value for blank and invalid trials)
    <experiment>/screen/data/<trial>.npy        (T, H, W) video or (H, W) image; blanks have no file
    <experiment>/screen/meta/means.npy, stds.npy
    <experiment>/<sequence>/meta.yml            modality: sequence, sampling_rate, start_time, end_time, ...
    <experiment>/<sequence>/data.mem            raw memmap (n_timestamps, n_signals)
    <experiment>/<sequence>/timestamps.npy      the sample times (s)
    <experiment>/<sequence>/meta/means.npy, stds.npy   shape (1, n_signals)
    <experiment>/<sequence>/meta/phase_shifts.npy      optional, seconds per signal

An image, blank or invalid trial stores **one frame and one timestamp** (its onset) and stays on screen until
the next trial's first timestamp; a video stores one frame and one timestamp per displayed frame. A sequence's
``end_time`` is the time of its last sample.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

__all__ = [
    "allocate_sequence_data",
    "trial_name",
    "write_experiment_meta",
    "write_screen_modality",
    "write_sequence_modality",
]


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


def allocate_sequence_data(folder: str | Path, n_timestamps: int, n_signals: int, dtype: str = "float32") -> np.memmap:
    """A writable ``<folder>/data.mem`` to fill piece by piece, for recordings larger than memory.

    Fill it, then pass it to :func:`write_sequence_modality` (which then writes only the metadata).

    Examples
    --------
    >>> import tempfile; d = tempfile.mkdtemp()
    >>> mem = allocate_sequence_data(d, 4, 2); mem[:] = 1.0
    >>> write_sequence_modality(d, mem, sampling_rate=10.0)

    Taught in chapter 04_experanto_chunks.
    """
    folder = Path(folder)
    (folder / "meta").mkdir(parents=True, exist_ok=True)
    return np.memmap(folder / "data.mem", dtype=dtype, mode="w+", shape=(int(n_timestamps), int(n_signals)))


def _nan_mean_std(data: np.ndarray, block_rows: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and std ignoring NaN, in blocks of rows (a memory map is never loaded whole)."""
    n = np.zeros(data.shape[1])
    total = np.zeros(data.shape[1])
    squares = np.zeros(data.shape[1])
    for start in range(0, len(data), block_rows):
        rows = np.asarray(data[start : start + block_rows], dtype=np.float64)
        ok = ~np.isnan(rows)
        n += ok.sum(axis=0)
        rows = np.where(ok, rows, 0.0)
        total += rows.sum(axis=0)
        squares += (rows**2).sum(axis=0)
    with np.errstate(all="ignore"):
        mean = total / n
        std = np.sqrt(np.maximum(squares / n - mean**2, 0.0))
    return mean, std


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
        Samples, shape (n_timestamps, n_signals); NaN marks missing samples. A memory map from
        :func:`allocate_sequence_data` for this folder is kept in place (no copy).
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
    folder = Path(folder)
    in_place = isinstance(data, np.memmap) and Path(data.filename).resolve() == (folder / "data.mem").resolve()
    data = data if in_place else np.asarray(data)
    if data.ndim != 2:
        raise ValueError(f"`data` must be 2-D (n_timestamps, n_signals); got shape {data.shape}.")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be positive; got {sampling_rate}.")
    if len(data) == 0:
        raise ValueError("`data` holds no samples.")
    (folder / "meta").mkdir(parents=True, exist_ok=True)
    n_timestamps, n_signals = data.shape
    if in_place:
        data.flush()
        dtype = str(data.dtype)
    else:
        mem = np.memmap(folder / "data.mem", dtype=dtype, mode="w+", shape=(n_timestamps, n_signals))
        mem[:] = data
        mem.flush()
        del mem
    if means is None or stds is None:
        mean_all, std_all = _nan_mean_std(data)
        means = mean_all if means is None else means
        stds = std_all if stds is None else stds
    np.save(folder / "meta" / "means.npy", np.asarray(means, dtype=np.float64).reshape(1, n_signals))
    np.save(folder / "meta" / "stds.npy", np.asarray(stds, dtype=np.float64).reshape(1, n_signals))
    if phase_shifts is not None:
        np.save(folder / "meta" / "phase_shifts.npy", np.asarray(phase_shifts, dtype=np.float64).reshape(n_signals))
    np.save(folder / "timestamps.npy", start_time + np.arange(n_timestamps) / sampling_rate)
    meta = {
        "modality": "sequence",
        "sampling_rate": float(sampling_rate),
        "start_time": float(start_time),
        # the last sample's time: the closed range [start_time, end_time] is covered (upstream's convention)
        "end_time": float(start_time + (n_timestamps - 1) / sampling_rate),
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
    frame_rate: float | None = None,
) -> None:
    """Write the screen modality: frame timestamps, one meta YAML per trial and one array per non-blank trial.

    Parameters
    ----------
    folder
        ``<experiment>/screen``.
    timestamps
        Display time (s) of every stored frame, increasing: one per video frame, and one (the onset) per
        image, blank or invalid trial, which stays on screen until the next trial's first timestamp.
    trials
        In display order, dicts with ``modality`` (``"video"``, ``"image"``, ``"blank"`` or ``"invalid"``)
        and, for videos/images, ``data`` ((T, H, W) or (H, W), or a function returning it, called once when
        the trial is written: a long recording never has to fit in memory; a video given so also needs
        ``num_frames``); blanks and invalid trials need ``image_size``
        and ``interleave_value``. Every other key (``tier``, ``stim_type``, ``trial_idx`` ...) is stored in
        the trial's YAML. ``first_frame_idx`` is filled in, and ``num_frames`` for videos (a ``num_frames``
        given for a video must match its data; for other trials it must be 1 or absent).
    mean, std
        Screen statistics for normalisation (computed from the stored frames when omitted).
    frame_rate
        The monitor's frame rate (Hz), stored in ``meta.yml`` as upstream does (informative).

    Examples
    --------
    >>> import tempfile; d = tempfile.mkdtemp()
    >>> write_screen_modality(f"{d}/screen", np.array([0.0, 0.5]),
    ...     [{"modality": "image", "data": np.ones((2, 2)), "tier": "train"},
    ...      {"modality": "blank", "image_size": [2, 2], "interleave_value": 0.0, "tier": "blank"}])

    Taught in chapter 04_experanto_chunks.
    """
    folder = Path(folder)
    timestamps = np.asarray(timestamps, dtype=np.float64)
    if timestamps.ndim != 1 or np.any(np.diff(timestamps) <= 0):
        raise ValueError("`timestamps` must be 1-D and strictly increasing.")
    counts = _frame_counts(trials, len(timestamps))
    (folder / "meta").mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    np.save(folder / "timestamps.npy", timestamps)
    sums, sq_sums, count = _write_trials(folder, trials, counts)
    if mean is None:
        mean = sums / max(count, 1)
    if std is None:
        std = float(np.sqrt(max(sq_sums / max(count, 1) - mean**2, 0.0)))
    np.save(folder / "meta" / "means.npy", np.asarray(mean, dtype=np.float64))
    np.save(folder / "meta" / "stds.npy", np.asarray(std, dtype=np.float64))
    screen_meta: dict[str, Any] = {"modality": "screen", "n_frames": int(len(timestamps)), "n_trials": len(trials)}
    if frame_rate is not None:
        screen_meta["frame_rate"] = float(frame_rate)
    (folder / "meta.yml").write_text(yaml.safe_dump(screen_meta, sort_keys=False))


def _frame_counts(trials: Sequence[dict[str, Any]], n_timestamps: int) -> list[int]:
    """Stored frames of each trial (a video's frames; 1 for the others), checked against the timestamps."""
    counts = []
    for i, trial in enumerate(trials):
        kind = trial.get("modality")
        if kind not in ("video", "image", "blank", "invalid"):
            raise ValueError(f"Trial {i}: modality must be video, image, blank or invalid; got {kind!r}.")
        if kind == "video":
            if callable(trial["data"]):
                if "num_frames" not in trial:
                    raise ValueError(f"Trial {i}: a video given as a function also needs num_frames.")
                counts.append(int(trial["num_frames"]))
                continue
            arr = np.asarray(trial["data"])
            if arr.ndim != 3:
                raise ValueError(f"Trial {i}: a video must be 3-D (T, H, W); got {arr.shape}.")
            if trial.get("num_frames", arr.shape[0]) != arr.shape[0]:
                raise ValueError(f"Trial {i}: video has {arr.shape[0]} frames but num_frames={trial['num_frames']}.")
            counts.append(arr.shape[0])
        else:
            if trial.get("num_frames", 1) != 1:
                raise ValueError(
                    f"Trial {i}: an {kind} trial stores one frame and one timestamp (its onset) and stays on "
                    f"screen until the next trial's first timestamp; got num_frames={trial['num_frames']}."
                )
            counts.append(1)
    if sum(counts) != n_timestamps:
        raise ValueError(
            f"The trials store {sum(counts)} frames (one per video frame, one per image/blank/invalid trial) but "
            f"{n_timestamps} timestamps were given."
        )
    return counts


def _write_trials(folder: Path, trials: Sequence[dict[str, Any]], counts: list[int]) -> tuple[float, float, int]:
    """Write each trial's meta YAML and array; return the sum, sum of squares and count of the stored pixels."""
    first = 0
    sums, sq_sums, count = 0.0, 0.0, 0
    image_size = None
    for i, (trial, n) in enumerate(zip(trials, counts, strict=True)):
        meta = {k: v for k, v in trial.items() if k not in ("data", "num_frames")}
        meta["first_frame_idx"] = first
        if trial["modality"] in ("video", "image"):
            arr = _trial_data(trial["data"], trial["modality"], n, i)
            np.save(folder / "data" / f"{trial_name(i)}.npy", arr)
            meta["image_size"] = [int(s) for s in arr.shape[-2:]]
            sums += float(arr.sum(dtype=np.float64))
            sq_sums += float((arr.astype(np.float64) ** 2).sum())
            count += arr.size
        if trial["modality"] == "video":
            meta["num_frames"] = n
        meta.setdefault("image_size", image_size)
        image_size = meta["image_size"]
        meta = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in meta.items()}
        (folder / "meta" / f"{trial_name(i)}.yml").write_text(yaml.safe_dump(meta, sort_keys=False))
        first += n
    return sums, sq_sums, count


def _trial_data(data: np.ndarray | Callable[[], np.ndarray], kind: str, n_frames: int, index: int) -> np.ndarray:
    arr = np.asarray(data() if callable(data) else data)
    if kind == "image" and arr.ndim != 2:
        raise ValueError(f"Trial {index}: an image must be 2-D (H, W); got {arr.shape}.")
    if kind == "video" and (arr.ndim != 3 or arr.shape[0] != n_frames):
        raise ValueError(f"Trial {index}: expected a video of {n_frames} frames (T, H, W); got {arr.shape}.")
    return arr
