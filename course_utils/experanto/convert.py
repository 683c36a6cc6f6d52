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

__all__ = ["convert_sensorium_mouse", "reduce_statistics", "SENSORIUM_FRAME_RATE_HZ"]


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
    files = np.asarray(mouse.recording_order(), dtype=np.int64)
    lengths = np.asarray(mouse.trial_lengths, dtype=np.int64)
    rate = SENSORIUM_FRAME_RATE_HZ
    gap = int(round(gap_s * rate))
    first_sample, n_samples = _timeline(files, lengths, gap)
    times = start_time + np.arange(n_samples) / rate
    sequences = {"responses": allocate_sequence_data(out / "responses", n_samples, mouse.n_neurons),
                 "eye_tracker": allocate_sequence_data(out / "eye_tracker", n_samples, 3),
                 "treadmill": allocate_sequence_data(out / "treadmill", n_samples, 1)}
    for memmap in sequences.values():
        memmap[:] = np.nan
    fill = _trial_filler(mouse, files, lengths, first_sample, sequences)
    trials, stamps = _screen_trials(mouse, files, lengths, first_sample, times, gap, fill)
    _write_modalities(out, mouse, np.concatenate(stamps), trials, sequences, rate, start_time)
    write_experiment_meta(out, mouse.name)
    return out


def _timeline(files: np.ndarray, lengths: np.ndarray, gap: int) -> tuple[np.ndarray, int]:
    """First sample of each trial (in ``files`` order) and the total: trial k's frames, then ``gap`` samples."""
    first_sample = np.zeros(len(files), dtype=np.int64)
    position = 0
    for k, i in enumerate(files):
        first_sample[k] = position
        position += int(lengths[i]) + (gap if k < len(files) - 1 else 0)
    return first_sample, position


def _trial_filler(mouse: SensoriumMouse, files, lengths, first_sample, sequences):
    """``fill(k, i)``: write trial i's sequences at its place k on the timeline; return its (T, H, W) video.

    Trials are streamed in ``files`` order without caching (a real mouse holds ~10 GB), so each is filled once.
    """
    stream = mouse.iter_trials([int(i) for i in files], trim=False)

    def fill(k: int, i: int) -> np.ndarray:
        trial, arrays = next(stream)
        assert trial == i, (trial, i)
        arrays = {kind: np.asarray(a)[..., : lengths[i]] for kind, a in arrays.items()}
        rows = slice(first_sample[k], first_sample[k] + lengths[i])
        sequences["responses"][rows] = arrays["responses"].T
        sequences["eye_tracker"][rows] = np.stack(
            [arrays["behavior"][0], arrays["pupil_center"][0], arrays["pupil_center"][1]], axis=1)
        sequences["treadmill"][rows, 0] = arrays["behavior"][1]
        return np.ascontiguousarray(np.moveaxis(arrays["videos"], -1, 0), dtype=np.float32)

    return fill


def _screen_trials(mouse: SensoriumMouse, files, lengths, first_sample, times, gap, fill):
    """The screen's trials (a video per Sensorium trial, a grey blank between them) and their frame times.

    Videos are read lazily (the screen writer calls ``data()``); the first is read now for the blank's size
    and grey level (its mean luminance).
    """
    videos: dict[int, np.ndarray] = {}
    image_size, grey = None, 0.0
    trials, stamps = [], []
    tiers, hashes = mouse.tiers.astype(str), mouse.condition_hash
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
        if mouse.trial_idx is not None:
            value = mouse.trial_idx[i]
            trial["trial_idx"] = value.item() if isinstance(value, np.generic) else value
        trials.append(trial)
        stamps.append(times[first_sample[k] : first_sample[k] + lengths[i]])
    return trials, stamps


def _write_modalities(out: Path, mouse: SensoriumMouse, stamps, trials, sequences, rate, start_time) -> None:
    """Write the screen and the three sequences with the mouse's statistics (when it has them)."""
    video_mean, video_std = _statistics(mouse, "videos", None)
    write_screen_modality(out / "screen", stamps, trials,
                          mean=None if video_mean is None else float(video_mean[0]),
                          std=None if video_std is None else float(video_std[0]), frame_rate=rate)
    r_mean, r_std = _statistics(mouse, "responses", mouse.n_neurons)
    write_sequence_modality(out / "responses", sequences["responses"], rate, start_time, means=r_mean, stds=r_std)
    b_mean, b_std = _statistics(mouse, "behavior", 2)
    p_mean, p_std = _statistics(mouse, "pupil_center", 2)
    eye_mean = eye_std = None
    if b_mean is not None and p_mean is not None:
        eye_mean, eye_std = np.r_[b_mean[:1], p_mean], np.r_[b_std[:1], p_std]
    write_sequence_modality(out / "eye_tracker", sequences["eye_tracker"], rate, start_time, means=eye_mean,
                            stds=eye_std)
    write_sequence_modality(out / "treadmill", sequences["treadmill"], rate, start_time,
                            means=None if b_mean is None else b_mean[1:2],
                            stds=None if b_std is None else b_std[1:2])
