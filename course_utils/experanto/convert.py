"""Convert a Sensorium 2023 mouse folder into an Experanto experiment folder.

The two formats hold the same recordings cut differently: Sensorium stores one array per *trial* (video,
responses, behaviour on one 30 Hz frame clock, NaN-padded to a common length); Experanto stores one
continuous stream per *modality*, each with its own clock, and the trial structure only as screen metadata.
The converter lays the trials end to end in recording order (``meta/trials/trial_idx.npy``), separated by
``gap_s`` seconds of blank screen during which the sequences are NaN (nothing was recorded for the gap, and
the NaN filter then keeps chunks from spanning two trials). Mapping:

* ``videos/<i>.npy`` (36, 64, T) -> ``screen/data/<trial>.npy`` (T, 36, 64), one ``video`` trial with the
  Sensorium ``tier``, ``trial_idx``, ``condition_hash`` and ``sensorium_file`` (the ``<i>`` of the file);
* ``responses/<i>.npy`` (neurons, T) -> ``responses`` (30 Hz, n_neurons signals);
* ``behavior/<i>.npy`` rows (pupil dilation, running speed) and ``pupil_center/<i>.npy`` (x, y) ->
  ``eye_tracker`` = (pupil dilation, pupil x, pupil y) and ``treadmill`` = (running speed);
* statistics from ``meta/statistics/<kind>/all/{mean,std}.npy`` (computed from the data if absent).

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..sensorium.reader import SENSORIUM_FRAME_RATE_HZ
from .writer import write_experiment_meta, write_screen_modality, write_sequence_modality

__all__ = ["convert_sensorium_mouse", "SENSORIUM_FRAME_RATE_HZ"]

_KINDS = ("videos", "responses", "behavior", "pupil_center")


def _load(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: is this a complete Sensorium 2023 mouse folder?")
    return np.load(path, allow_pickle=False)


def _stat(mouse: Path, kind: str, stat: str) -> np.ndarray | None:
    path = mouse / "meta" / "statistics" / kind / "all" / f"{stat}.npy"
    return np.load(path, allow_pickle=False) if path.is_file() else None


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
    mouse = Path(mouse_folder)
    out = Path(out_folder)
    if not (mouse / "data").is_dir() or not (mouse / "meta").is_dir():
        raise FileNotFoundError(f"{mouse} is not a Sensorium mouse folder (it needs data/ and meta/ subfolders).")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} already exists and is not empty: choose a new output folder.")
    tiers = _load(mouse / "meta" / "trials" / "tiers.npy").astype(str)
    trial_idx_path = mouse / "meta" / "trials" / "trial_idx.npy"
    trial_idx = _load(trial_idx_path) if trial_idx_path.is_file() else np.arange(len(tiers))
    hash_path = mouse / "meta" / "trials" / "condition_hash.npy"
    hashes = _load(hash_path).astype(str) if hash_path.is_file() else np.array([""] * len(tiers))
    files = np.array([int(p.stem) for p in (mouse / "data" / "videos").glob("*.npy")])
    if len(files) != len(tiers):
        raise ValueError(f"{mouse}: {len(files)} video files but meta/trials/tiers.npy lists {len(tiers)} trials.")
    order = np.argsort(trial_idx[np.sort(files)], kind="stable")
    files = np.sort(files)[order]

    rate = SENSORIUM_FRAME_RATE_HZ
    gap_frames = int(round(gap_s * rate))
    trials, responses, eye, tread = [], [], [], []
    grey = None
    for i in files:
        video = _load(mouse / "data" / "videos" / f"{i}.npy")
        nan_frames = np.flatnonzero(np.isnan(video[0, 0, :]))
        n = int(nan_frames[0]) if len(nan_frames) else video.shape[-1]  # first NaN = end of trial
        frames = np.ascontiguousarray(np.moveaxis(video[:, :, :n], -1, 0), dtype=np.float32)
        resp = _load(mouse / "data" / "responses" / f"{i}.npy")[:, :n].T
        beh = _load(mouse / "data" / "behavior" / f"{i}.npy")[:, :n]
        pupil = _load(mouse / "data" / "pupil_center" / f"{i}.npy")[:, :n]
        grey = float(np.nanmean(frames)) if grey is None else grey
        if gap_frames and trials:
            trials.append({"modality": "blank", "num_frames": gap_frames, "image_size": list(frames.shape[1:]),
                           "interleave_value": grey, "tier": "blank", "stim_type": "blank"})
            for stream, width in ((responses, resp.shape[1]), (eye, 3), (tread, 1)):
                stream.append(np.full((gap_frames, width), np.nan, dtype=np.float32))
        trials.append({"modality": "video", "num_frames": n, "data": frames, "tier": str(tiers[i]),
                       "stim_type": "video", "trial_idx": int(trial_idx[i]), "condition_hash": str(hashes[i]),
                       "sensorium_file": int(i)})
        responses.append(resp.astype(np.float32))
        eye.append(np.stack([beh[0], pupil[0], pupil[1]], axis=1).astype(np.float32))
        tread.append(beh[1][:, None].astype(np.float32))

    n_total = sum(t["num_frames"] for t in trials)
    timestamps = start_time + np.arange(n_total) / rate
    video_mean, video_std = _stat(mouse, "videos", "mean"), _stat(mouse, "videos", "std")
    write_screen_modality(out / "screen", timestamps, trials,
                          mean=None if video_mean is None else float(np.mean(video_mean)),
                          std=None if video_std is None else float(np.mean(video_std)))

    def stats(kind: str, rows: slice | list[int]) -> tuple[np.ndarray | None, np.ndarray | None]:
        m, s = _stat(mouse, kind, "mean"), _stat(mouse, kind, "std")
        return (None if m is None else np.asarray(m).reshape(-1)[rows],
                None if s is None else np.asarray(s).reshape(-1)[rows])

    r_mean, r_std = stats("responses", slice(None))
    write_sequence_modality(out / "responses", np.concatenate(responses), rate, start_time, means=r_mean, stds=r_std)
    b_mean, b_std = stats("behavior", slice(None))
    p_mean, p_std = stats("pupil_center", slice(None))
    eye_mean = eye_std = None
    if b_mean is not None and p_mean is not None:
        eye_mean, eye_std = np.r_[b_mean[:1], p_mean[:2]], np.r_[b_std[:1], p_std[:2]]
    write_sequence_modality(out / "eye_tracker", np.concatenate(eye), rate, start_time, means=eye_mean, stds=eye_std)
    write_sequence_modality(out / "treadmill", np.concatenate(tread), rate, start_time,
                            means=None if b_mean is None else b_mean[1:2],
                            stds=None if b_std is None else b_std[1:2])
    write_experiment_meta(out, mouse.name)
    return out
