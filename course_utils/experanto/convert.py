"""Convert a Sensorium 2023 mouse folder into an Experanto experiment folder.

The two formats hold the same recordings cut differently: Sensorium stores one array per *trial* (video,
responses, behaviour on one 30 Hz frame clock, NaN-padded to a common length); Experanto stores one
continuous stream per *modality*, each with its own clock, and the trial structure only as screen metadata.
The mouse folder is read with :mod:`course_utils.sensorium.reader` (the one reader of that format: trial
lengths, tiers, ``trial_idx``, condition hashes, statistics). The converter lays the trials end to end in
recording order, separated by ``gap_s`` seconds of blank screen (one blank trial: one stored frame, one
timestamp) during which the sequences are NaN (nothing was recorded for the gap, and the NaN filter then keeps
chunks from spanning two trials). Mapping:

* ``videos/<i>.npy`` (36, 64, T) -> ``screen/data/<trial>.npy`` (T, 36, 64), one ``video`` trial with the
  Sensorium ``tier``, ``trial_idx`` (when the folder has one), ``condition_hash`` and ``sensorium_file``
  (the ``<i>`` of the file);
* ``responses/<i>.npy`` (neurons, T) -> ``responses`` (30 Hz, n_neurons signals);
* ``behavior/<i>.npy`` rows (pupil dilation, running speed) and ``pupil_center/<i>.npy`` (x, y) ->
  ``eye_tracker`` = (pupil dilation, pupil x, pupil y) and ``treadmill`` = (running speed);
* statistics from ``meta/statistics/<kind>/all/{mean,std}.npy``, reduced explicitly to one value per
  signal (the screen: one value) when they carry a frame or pixel axis; computed from the data if absent.

Recording order: the reader's (``trial_idx`` when it holds numbers or numeric strings; otherwise, for string
recording ids such as ``"a--b"`` or no ``trial_idx`` file, as in the earlier real mice, the file numbers').
Trials are read and written one at a time, so a real mouse (8,000 neurons, 700 trials: 7 GB of responses)
never has to fit in memory.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..sensorium.reader import SENSORIUM_FRAME_RATE_HZ, SensoriumMouse, read_mouse
from .writer import (
    allocate_sequence_data,
    write_experiment_meta,
    write_screen_modality,
    write_sequence_modality,
)

__all__ = ["convert_sensorium_mouse", "recording_order", "reduce_statistics", "SENSORIUM_FRAME_RATE_HZ"]


def recording_order(trial_idx: np.ndarray | None, n_trials: int) -> np.ndarray:
    """File numbers in recording order: sorted by ``trial_idx`` if it is numeric, else file order.

    Examples
    --------
    >>> recording_order(np.array([2, 0, 1]), 3).tolist()
    [1, 2, 0]
    >>> recording_order(np.array(["a--b", "c--d", "e--f"]), 3).tolist()
    [0, 1, 2]
    >>> recording_order(None, 2).tolist()
    [0, 1]

    Taught in chapter 04_experanto_chunks.
    """
    files = np.arange(n_trials)
    if trial_idx is None or len(trial_idx) != n_trials:
        return files
    try:
        key = np.asarray(trial_idx).astype(np.float64)
    except (TypeError, ValueError):
        return files  # string recording ids carry no order we can rely on
    if not np.all(np.isfinite(key)):
        return files
    return np.argsort(key, kind="stable")


def reduce_statistics(mean: np.ndarray, std: np.ndarray, n_signals: int | None) -> tuple[np.ndarray, np.ndarray]:
    """One mean and std per signal (or one overall, ``n_signals=None``) from statistics of any shape.

    The axis of length ``n_signals`` is the signal axis; every other axis (frames, pixels) is pooled with the
    law of total variance (groups of equal size): ``mean = mean(m)``, ``std = sqrt(mean(s**2) + var(m))``.

    Examples
    --------
    >>> m, s = reduce_statistics(np.array([[0.0, 2.0]]), np.array([[1.0, 1.0]]), n_signals=1)
    >>> m.tolist(), s.tolist()
    ([1.0], [1.4142135623730951])

    Taught in chapter 04_experanto_chunks.
    """
    m, s = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    if m.shape != s.shape:
        raise ValueError(f"mean {m.shape} and std {s.shape} statistics have different shapes.")
    if n_signals is None:
        m, s = m.reshape(1, -1), s.reshape(1, -1)
    elif m.size == n_signals:
        return m.reshape(n_signals), s.reshape(n_signals)
    else:
        axes = [a for a, n in enumerate(m.shape) if n == n_signals]
        if not axes:
            raise ValueError(f"statistics of shape {m.shape} have no axis of {n_signals} signals.")
        m = np.moveaxis(m, axes[0], 0).reshape(n_signals, -1)
        s = np.moveaxis(s, axes[0], 0).reshape(n_signals, -1)
    return m.mean(axis=1), np.sqrt((s**2).mean(axis=1) + m.var(axis=1))


def _statistics(mouse: SensoriumMouse, kind: str, n_signals: int | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    try:
        stats = mouse.statistics(kind)
    except FileNotFoundError:
        return None, None  # computed from the converted data instead
    try:
        return reduce_statistics(stats["mean"], stats["std"], n_signals)
    except ValueError as err:
        folder = mouse.folder / "meta" / "statistics" / kind / "all"
        raise ValueError(f"{folder}: {err} Expected one value per signal, possibly with a frame axis.") from err


def convert_sensorium_mouse(
    mouse_folder: str | Path,
    out_folder: str | Path,
    gap_s: float = 0.5,
    start_time: float = 0.0,
) -> Path:
    """Write the experiment folder equivalent of one Sensorium 2023 mouse folder.

    Parameters
    ----------
    mouse_folder
        ``dynamic<ids>-Video-<hash>/`` with ``data/`` and ``meta/`` as in the competition archives.
    out_folder
        The experiment folder to create (must not exist or be empty).
    gap_s
        Blank time (s) inserted between consecutive trials.
    start_time
        Clock time (s) of the first frame.

    Returns
    -------
    pathlib.Path
        ``out_folder``, holding ``screen/``, ``responses/``, ``eye_tracker/``, ``treadmill/`` and
        ``meta.json`` (``data_key`` = the mouse folder's name).

    Examples
    --------
    >>> convert_sensorium_mouse(get_source("sensorium2023") / "dynamic90001-...", "/tmp/exp")  # doctest: +SKIP

    Taught in chapter 04_experanto_chunks.
    """
    mouse_path = Path(mouse_folder)
    out = Path(out_folder)
    if not (mouse_path / "data").is_dir() or not (mouse_path / "meta").is_dir():
        raise FileNotFoundError(f"{mouse_path} is not a Sensorium mouse folder (it needs data/ and meta/ subfolders).")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} already exists and is not empty: choose a new output folder.")
    mouse = read_mouse(mouse_path)
    # the reader's recording order when it offers one (course_utils.sensorium on branches from issue 13 on)
    order = getattr(mouse, "recording_order", None)
    files = np.asarray(order() if callable(order) else recording_order(getattr(mouse, "trial_idx", None),
                                                                       mouse.n_trials), dtype=np.int64)
    lengths = np.asarray(mouse.trial_lengths, dtype=np.int64)
    n_neurons = mouse.n_neurons
    rate = SENSORIUM_FRAME_RATE_HZ
    gap = int(round(gap_s * rate))

    # the timeline: trial k's frames, then (between trials) one blank trial and `gap` NaN samples
    first_sample = np.zeros(len(files), dtype=np.int64)
    position = 0
    for k, i in enumerate(files):
        first_sample[k] = position
        position += int(lengths[i]) + (gap if k < len(files) - 1 else 0)
    n_samples = position
    times = start_time + np.arange(n_samples) / rate

    stream = mouse.iter_trials([int(i) for i in files]) if callable(getattr(mouse, "iter_trials", None)) else None

    def read_trial(i: int) -> dict[str, np.ndarray]:
        if stream is not None:  # the reader streams trials without caching them
            trial, arrays = next(stream)
            assert trial == i, (trial, i)
        else:  # a fresh reader per trial: a reader that caches every array would hold the whole mouse
            arrays = read_mouse(mouse_path).load_trial(int(i), trim=False)
        return {kind: np.asarray(a)[..., : lengths[i]] for kind, a in arrays.items()}

    responses = allocate_sequence_data(out / "responses", n_samples, n_neurons)
    eye = allocate_sequence_data(out / "eye_tracker", n_samples, 3)
    tread = allocate_sequence_data(out / "treadmill", n_samples, 1)
    for memmap in (responses, eye, tread):
        memmap[:] = np.nan
    videos: dict[int, np.ndarray] = {}

    def fill(k: int, i: int) -> np.ndarray:
        """Write trial i's sequences; return its video as (T, H, W) for the screen writer."""
        arrays = read_trial(i)
        rows = slice(first_sample[k], first_sample[k] + lengths[i])
        responses[rows] = arrays["responses"].T
        eye[rows] = np.stack([arrays["behavior"][0], arrays["pupil_center"][0], arrays["pupil_center"][1]], axis=1)
        tread[rows, 0] = arrays["behavior"][1]
        return np.ascontiguousarray(np.moveaxis(arrays["videos"], -1, 0), dtype=np.float32)

    image_size, grey = None, 0.0
    trials, stamps = [], []
    tiers, hashes = mouse.tiers.astype(str), mouse.condition_hash
    trial_idx = getattr(mouse, "trial_idx", None)
    for k, i in enumerate(files):
        i = int(i)
        if k and gap:
            stamps.append(times[first_sample[k] - gap : first_sample[k] - gap + 1])
            trials.append({"modality": "blank", "image_size": image_size, "interleave_value": grey,
                           "tier": "blank", "stim_type": "blank"})
        if k == 0:  # the blank's grey level: the first trial's mean luminance
            first_video = fill(k, i)
            videos[i] = first_video
            image_size = [int(s) for s in first_video.shape[1:]]
            grey = float(np.nanmean(first_video))
        trial = {"modality": "video", "num_frames": int(lengths[i]),
                 "data": (lambda k=k, i=i: videos.pop(i) if i in videos else fill(k, i)),
                 "tier": str(tiers[i]), "stim_type": "video", "condition_hash": str(hashes[i]),
                 "sensorium_file": i}
        if trial_idx is not None and len(trial_idx) == mouse.n_trials:
            value = trial_idx[i]
            trial["trial_idx"] = value.item() if isinstance(value, np.generic) else value
        trials.append(trial)
        stamps.append(times[first_sample[k] : first_sample[k] + lengths[i]])

    video_mean, video_std = _statistics(mouse, "videos", None)
    write_screen_modality(out / "screen", np.concatenate(stamps), trials,
                          mean=None if video_mean is None else float(video_mean[0]),
                          std=None if video_std is None else float(video_std[0]), frame_rate=rate)
    r_mean, r_std = _statistics(mouse, "responses", n_neurons)
    write_sequence_modality(out / "responses", responses, rate, start_time, means=r_mean, stds=r_std)
    b_mean, b_std = _statistics(mouse, "behavior", 2)
    p_mean, p_std = _statistics(mouse, "pupil_center", 2)
    eye_mean = eye_std = None
    if b_mean is not None and p_mean is not None:
        eye_mean, eye_std = np.r_[b_mean[:1], p_mean], np.r_[b_std[:1], p_std]
    write_sequence_modality(out / "eye_tracker", eye, rate, start_time, means=eye_mean, stds=eye_std)
    write_sequence_modality(out / "treadmill", tread, rate, start_time,
                            means=None if b_mean is None else b_mean[1:2],
                            stds=None if b_std is None else b_std[1:2])
    write_experiment_meta(out, mouse.name)
    return out
