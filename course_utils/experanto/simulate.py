"""Demo experiments: Sensorium demo mice converted to experiment folders, plus one mixed-stimulus experiment.

``write_demo_experiments(out_dir)`` writes::

    out_dir/<mouse folder name>/     one experiment per Sensorium demo mouse (via convert_sensorium_mouse)
    out_dir/mixed/                   images, videos, blanks and invalid trials mixed; every modality on its
                                     own clock (screen 30 Hz with jitter, responses 7.5 Hz with per-neuron
                                     phase shifts, eye tracker 20 Hz with blinks = NaN stretches, treadmill
                                     100 Hz with a dropout), clock starting at 12 s
    out_dir/SIMULATOR_GROUND_TRUTH/mixed.npz   the model behind ``mixed`` (not part of the format)

In ``mixed`` the screen follows upstream's layout: a video stores one frame and one timestamp per displayed
frame, an image, blank or invalid trial one of each (its onset), held until the next trial. Each neuron responds to the mean luminance of the screen 0.1 s earlier (a visual latency) and
to running speed, through a softplus: ``rate_j(t) = softplus(w_j * (lum(t - 0.1) - 128) / 40 + b_j *
speed(t) / 10 + c_j)``, sampled at the neuron's own time ``start + k / 7.5 + phase_shift_j``.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..fileio import load_npz
from .convert import convert_sensorium_mouse
from .writer import write_experiment_meta, write_screen_modality, write_sequence_modality

__all__ = ["MIXED_LATENCY_S", "SIMULATOR_VERSION", "load_ground_truth", "write_demo", "write_demo_experiments",
           "write_mixed_experiment"]

# The demo cache key is this module's source and this number: bump it when a module this one relies on changes
# what is written (see course_utils.data.demo).
SIMULATOR_VERSION = 1

MIXED_LATENCY_S = 0.1
GROUND_TRUTH_FOLDER = "SIMULATOR_GROUND_TRUTH"
_H, _W = 36, 64


def write_demo_experiments(out_dir: Path, seed: int = 0, n_mice: int = 2) -> None:
    """Write the demo experiment folders into ``out_dir`` (seconds).

    Parameters
    ----------
    out_dir
        Folder to write into.
    seed
        Random seed (the same seed writes the same files).
    n_mice
        Sensorium demo mice to simulate and convert (0: only the mixed experiment).

    Examples
    --------
    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> write_demo_experiments(d, seed=0, n_mice=1)
    >>> sorted(p.name.split("-")[0] for p in d.iterdir())
    ['SIMULATOR_GROUND_TRUTH', 'dynamic90001', 'mixed']

    Taught in chapter 04_experanto_chunks.
    """
    from course_utils.sensorium.simulate import write_demo_mice

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if n_mice:  # 0: the mixed experiment only (tests)
            write_demo_mice(Path(tmp), seed=seed, n_mice=n_mice)
        for mouse in sorted(Path(tmp).glob("dynamic*")):
            convert_sensorium_mouse(mouse, out_dir / mouse.name)
    write_mixed_experiment(out_dir / "mixed", seed=seed, truth_dir=out_dir / GROUND_TRUTH_FOLDER)


def load_ground_truth(folder: str | Path, experiment: str = "mixed") -> dict:
    """The model behind a demo experiment (``mixed``): its arrays, read without unpickling.

    The converted Sensorium mice keep their truth in the Sensorium demo
    (:func:`course_utils.sensorium.simulate.load_ground_truth`). Real folders raise a clear ``FileNotFoundError``.

    Examples
    --------
    >>> sorted(load_ground_truth(get_source("experanto")))[:2]   # doctest: +SKIP
    ['bias', 'description']

    Taught in chapter 04_experanto_chunks.
    """
    return load_npz(Path(folder) / GROUND_TRUTH_FOLDER / f"{experiment}.npz",
                    fix="Only the simulated demo experiments have a ground truth (real recordings do not).")


write_demo = write_demo_experiments  # the name the source interface registers (course_utils.sources)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def write_mixed_experiment(
    folder: Path,
    seed: int = 0,
    duration_s: float = 90.0,
    n_neurons: int = 24,
    truth_dir: Path | None = None,
) -> None:
    """Write the ``mixed`` experiment (see the module docstring) into ``folder``.

    Examples
    --------
    >>> import tempfile; d = Path(tempfile.mkdtemp()) / "mixed"
    >>> write_mixed_experiment(d, duration_s=10.0, n_neurons=3)
    >>> sorted(p.name for p in d.iterdir())
    ['eye_tracker', 'meta.json', 'responses', 'screen', 'treadmill']

    Taught in chapter 04_experanto_chunks.
    """
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    t0 = 12.0
    screen_rate = 30.0
    frame_times, lum = _write_screen(folder / "screen", rng, t0, duration_s, screen_rate)
    end = frame_times[-1]
    t_tread, speed = _write_treadmill(folder / "treadmill", rng, t0, end)
    _write_eye_tracker(folder / "eye_tracker", rng, t0, end, duration_s)

    def lum_at(t: np.ndarray) -> np.ndarray:  # luminance on screen at t (held frame)
        idx = np.clip(np.searchsorted(frame_times, t + 1e-4) - 1, 0, len(lum) - 1)
        return np.where(t < frame_times[0], 128.0, lum[idx])

    # --- responses (7.5 Hz, per-neuron phase shifts across the scan)
    resp_rate = 7.5
    resp_start = t0 - 0.2
    n_resp = int((end - resp_start + 0.5) * resp_rate)
    shifts = np.sort(rng.uniform(0, 1 / resp_rate, n_neurons))
    w_lum = rng.normal(0, 1.0, n_neurons)
    w_run = rng.normal(0, 0.5, n_neurons)
    bias = rng.normal(-0.5, 0.3, n_neurons)
    times = resp_start + np.arange(n_resp)[:, None] / resp_rate + shifts[None, :]
    running = np.interp(times, t_tread, speed)
    rate = _softplus(w_lum * (lum_at(times - MIXED_LATENCY_S) - 128.0) / 40.0 + w_run * running / 10.0 + bias)
    responses = rng.poisson(rate * 3.0).astype(np.float32)
    write_sequence_modality(folder / "responses", responses, resp_rate, resp_start, phase_shifts=shifts)
    write_experiment_meta(folder, "mixed")
    if truth_dir is not None:
        Path(truth_dir).mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            Path(truth_dir) / "mixed.npz",
            description=np.array("SIMULATOR GROUND TRUTH (not part of the format) of the mixed experiment."),
            latency_s=MIXED_LATENCY_S, w_luminance=w_lum, w_running=w_run, bias=bias, phase_shifts_s=shifts,
            expected_rate=(rate * 3.0).astype(np.float32), frame_luminance=lum,
        )


def _write_screen(folder: Path, rng, t0: float, duration_s: float, screen_rate: float):
    """A random sequence of trials on a 30 Hz monitor; return every monitor frame's time and luminance.

    A video stores every frame and its timestamp; an image, blank or invalid trial stores one frame and one
    timestamp (its onset) and stays on screen until the next trial's onset, as in upstream's layout.
    """
    yy, xx = np.mgrid[0:_H, 0:_W]
    trials, lum, stored = [], [], []
    kinds = rng.choice(["image", "video", "blank", "invalid"], size=400, p=[0.35, 0.3, 0.3, 0.05])
    n_frames_total = 0
    for kind in kinds:
        if n_frames_total >= duration_s * screen_rate:
            break
        tier = str(rng.choice(["train", "validation", "test"], p=[0.7, 0.15, 0.15]))
        if kind == "image":
            n = 15
            base = rng.uniform(40, 220)
            img = np.clip(base + 40 * np.sin(xx / rng.uniform(3, 9) + rng.uniform(0, 6)), 0, 255).astype(np.float32)
            trials.append({"modality": "image", "data": img, "tier": tier, "stim_type": "image"})
            lum += [float(img.mean())] * n
        elif kind == "video":
            n = int(rng.integers(60, 121))
            drift = np.linspace(rng.uniform(40, 120), rng.uniform(140, 220), n)[:, None, None]
            phase = np.arange(n)[:, None, None] * rng.uniform(0.1, 0.4)
            vid = np.clip(drift + 30 * np.sin(xx[None] / 5.0 + phase), 0, 255).astype(np.float32)
            trials.append({"modality": "video", "data": vid, "tier": tier, "stim_type": "video"})
            lum += list(vid.mean(axis=(1, 2)).astype(float))
        elif kind == "blank":
            n = 15
            trials.append({"modality": "blank", "image_size": [_H, _W], "interleave_value": 128.0,
                           "tier": "blank", "stim_type": "blank"})
            lum += [128.0] * n
        else:
            n = 30
            trials.append({"modality": "invalid", "image_size": [_H, _W], "interleave_value": 0.0,
                           "tier": "invalid", "stim_type": "invalid"})
            lum += [0.0] * n
        stored += list(range(n_frames_total, n_frames_total + (n if kind == "video" else 1)))
        n_frames_total += n
    for i, t in enumerate(trials):
        t["trial_idx"] = i
    jitter = rng.uniform(-0.002, 0.002, n_frames_total)
    frame_times = t0 + np.arange(n_frames_total) / screen_rate + jitter  # every monitor frame
    write_screen_modality(folder, frame_times[stored], trials, frame_rate=screen_rate)
    return frame_times, np.asarray(lum)


def _write_treadmill(folder: Path, rng, t0: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    """Treadmill speed (100 Hz) with a dropout; return its sample times and the speed without the dropout."""
    tread_rate = 100.0
    t_tread = t0 - 1.0 + np.arange(int((end - t0 + 2.0) * tread_rate)) / tread_rate
    speed = np.abs(gaussian_filter1d(rng.standard_normal(len(t_tread)), 60) * 150 + 5)
    tread = speed[:, None].astype(np.float32)
    drop = int(0.4 * len(tread))
    tread[drop : drop + 50] = np.nan  # 0.5 s of lost encoder samples
    write_sequence_modality(folder, tread, tread_rate, t_tread[0])
    return t_tread, speed


def _write_eye_tracker(folder: Path, rng, t0: float, end: float, duration_s: float) -> None:
    """Eye tracker (20 Hz): pupil dilation, its change, x, y; blinks are NaN stretches."""
    eye_rate = 20.0
    t_eye = t0 - 0.5 + np.arange(int((end - t0 + 1.0) * eye_rate)) / eye_rate
    dilation = 20 + 6 * gaussian_filter1d(rng.standard_normal(len(t_eye)), 15) * 4
    eye = np.stack([dilation, np.gradient(dilation) * eye_rate,
                    32 + np.cumsum(rng.standard_normal(len(t_eye))) * 0.05,
                    18 + np.cumsum(rng.standard_normal(len(t_eye))) * 0.05], axis=1).astype(np.float32)
    for blink in rng.choice(len(t_eye) - 10, size=max(1, int(duration_s / 30)), replace=False):
        eye[blink : blink + 6] = np.nan  # a 0.3 s blink
    write_sequence_modality(folder, eye, eye_rate, t_eye[0])
