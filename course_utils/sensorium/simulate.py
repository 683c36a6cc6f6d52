"""Demo mice for Sensorium 2023: simulated recordings written in exactly the competition's folder layout.

Each mouse is one folder ``dynamic<id>-<session>-<scan>-Video-<hash>/`` with::

    data/videos/<i>.npy          (36, 64, T) float32, grey levels 0-255, NaN after the trial's end
    data/responses/<i>.npy       (neurons, T) float32, NaN after the trial's end
    data/behavior/<i>.npy        (2, T) pupil dilation, running speed
    data/pupil_center/<i>.npy    (2, T) eye position (x, y)
    meta/neurons/unit_ids.npy, cell_motor_coordinates.npy (x, y, z in µm)
    meta/statistics/{videos,responses,behavior,pupil_center}/all/{min,max,mean,median,std}.npy
    meta/trials/tiers.npy, trial_idx.npy, condition_hash.npy

The responses come from a known model population: each neuron has a Gabor spatial receptive field (simple
cells: linear; complex cells: energy of a quadrature pair) whose centre follows the neuron's cortical position
(retinotopy), a biphasic temporal kernel, a softplus nonlinearity, a multiplicative gain from running and
pupil dilation, and Poisson spike counts scaled by a per-neuron amplitude (deconvolved calcium is continuous
and non-negative). Oracle and test trials repeat clips: repeats share a ``condition_hash``. As in the public
release, the responses of the test tiers (``live_test_*``, ``final_test_*``) are withheld: the files exist but
hold zeros where the trial has frames (and NaN in the padding).

The simulator's ground truth (receptive fields, kernels, gains, the noise-free rates of every trial, and the
withheld test responses) is saved next to the mouse folders in ``SIMULATOR_GROUND_TRUTH/<mouse>.npz`` so the
mouse folders themselves hold exactly what the real archives hold.

Taught in chapter 03_sensorium_data.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

VIDEO_HEIGHT = 36
VIDEO_WIDTH = 64
GROUND_TRUTH_FOLDER = "SIMULATOR_GROUND_TRUTH"
TEST_TIERS = ("live_test_main", "live_test_bonus", "final_test_main", "final_test_bonus")
STAT_KINDS = ("videos", "responses", "behavior", "pupil_center")
TEMPORAL_KERNEL_FRAMES = 10


def _hash(text: str, n: int = 32) -> str:
    return hashlib.md5(text.encode()).hexdigest()[:n]


def _make_video(rng: np.random.Generator, n_frames: int, pre_frames: int) -> np.ndarray:
    """Filtered noise plus moving edges, (frames, H, W) in grey levels 0-255 (pre-frames included)."""
    total = n_frames + pre_frames
    noise = gaussian_filter(rng.standard_normal((total, VIDEO_HEIGHT, VIDEO_WIDTH)), sigma=(2.0, 1.5, 1.5))
    noise /= noise.std() + 1e-12
    yy, xx = np.mgrid[0:VIDEO_HEIGHT, 0:VIDEO_WIDTH].astype(float)
    t = np.arange(total, dtype=float)[:, None, None]
    edges = np.zeros_like(noise)
    for _ in range(rng.integers(1, 4)):
        theta = rng.uniform(0, 2 * np.pi)
        speed_px = rng.uniform(0.2, 1.0)
        offset = rng.uniform(-30, 30)
        width_px = rng.uniform(1.0, 3.0)
        projection = (xx - VIDEO_WIDTH / 2) * np.cos(theta) + (yy - VIDEO_HEIGHT / 2) * np.sin(theta)
        edges += rng.choice([-1.0, 1.0]) * np.tanh((projection[None] - offset - speed_px * (t - total / 2)) / width_px)
    video = 128.0 + 45.0 * (0.7 * noise + 0.6 * edges)
    return np.clip(video, 0.0, 255.0)


def _gabors(rng, n_neurons, centres_px):
    """Quadrature pairs of Gabor filters, (2, neurons, H, W), unit norm each."""
    yy, xx = np.mgrid[0:VIDEO_HEIGHT, 0:VIDEO_WIDTH].astype(float)
    theta = rng.uniform(0, np.pi, n_neurons)
    sigma_px = rng.uniform(3.5, 6.0, n_neurons)
    period_px = rng.uniform(12.0, 24.0, n_neurons)
    phase = rng.uniform(0, 2 * np.pi, n_neurons)
    dx = xx[None] - centres_px[:, 0, None, None]
    dy = yy[None] - centres_px[:, 1, None, None]
    along = dx * np.cos(theta)[:, None, None] + dy * np.sin(theta)[:, None, None]
    envelope = np.exp(-(dx**2 + dy**2) / (2 * sigma_px[:, None, None] ** 2))
    argument = 2 * np.pi * along / period_px[:, None, None] + phase[:, None, None]
    pair = np.stack([envelope * np.cos(argument), envelope * np.sin(argument)])
    pair /= np.sqrt((pair**2).sum(axis=(2, 3), keepdims=True)) + 1e-12
    params = {"rf_theta_rad": theta, "rf_sigma_px": sigma_px, "rf_period_px": period_px, "rf_phase_rad": phase}
    return pair, params


def _temporal_kernels(rng, n_neurons):
    """Biphasic kernels (difference of gamma-like bumps), (neurons, lags); lag 0 = the current frame."""
    lags = np.arange(TEMPORAL_KERNEL_FRAMES, dtype=float)
    peak = rng.uniform(1.5, 3.0, n_neurons)[:, None]
    fast = (lags / peak) ** 2 * np.exp(-(lags / peak))
    slow = (lags / (2 * peak)) ** 2 * np.exp(-(lags / (2 * peak)))
    kernel = fast - rng.uniform(0.2, 0.6, n_neurons)[:, None] * slow
    return kernel / np.abs(kernel).sum(axis=1, keepdims=True)


def _behaviour(rng, n_frames):
    """Pupil dilation, running speed (cm/s) and pupil centre for one trial, smooth and correlated."""
    running_state = rng.random() < 0.5
    speed = np.abs(gaussian_filter(rng.standard_normal(n_frames), 8) * 20 + (12.0 if running_state else 0.5))
    pupil = 18.0 + 0.25 * speed + gaussian_filter(rng.standard_normal(n_frames), 10) * 8
    centre = np.cumsum(rng.standard_normal((2, n_frames)) * 0.15, axis=1) + np.array([[32.0], [18.0]])
    return pupil, speed, centre


def _drive(video_frames, gabor_pair, kernels, complex_cell):
    """Linear-nonlinear drive, (neurons, frames) for a video (frames incl. pre-frames, H, W)."""
    contrast = (video_frames - 128.0) / 64.0
    flat = contrast.reshape(contrast.shape[0], -1)
    n_neurons = gabor_pair.shape[1]
    # one BLAS matmul: (frames, pixels) x (pixels, 2 * neurons) -> (2, frames, neurons)
    proj = (flat @ gabor_pair.reshape(2 * n_neurons, -1).T).reshape(flat.shape[0], 2, n_neurons).transpose(1, 0, 2)
    lags = kernels.shape[1]
    # causal temporal filter: out[t] = sum_k kernel[k] * proj[t - k]
    filtered = np.zeros_like(proj)
    for k in range(lags):  # loop over 10 lags, vectorised over time and neurons
        filtered[:, k:] += kernels[:, k][None, None] * proj[:, : proj.shape[1] - k]
    simple = filtered[0]
    energy = np.sqrt(filtered[0] ** 2 + filtered[1] ** 2)
    return np.where(complex_cell[None], energy * 1.6, simple).T


def write_demo_mice(
    out_dir: Path,
    seed: int = 0,
    n_mice: int = 2,
    n_neurons: int = 120,
    n_train: int = 30,
    n_oracle_clips: int = 4,
    n_repeats: int = 3,
    max_frames: int = 90,
    min_frames: int = 70,
) -> None:
    """Write simulated Sensorium 2023 mouse folders, in the competition layout, into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed); one ``dynamic...-Video-<hash>`` folder per mouse plus
        ``SIMULATOR_GROUND_TRUTH/<mouse>.npz``.
    seed
        Random seed: the same seed writes the same files.
    n_mice
        Number of mouse folders.
    n_neurons
        Neurons per mouse.
    n_train
        Training trials per mouse (distinct clips).
    n_oracle_clips, n_repeats
        The oracle tier has ``n_oracle_clips`` clips shown ``n_repeats`` times each; the main test tiers
        have 2 clips x ``n_repeats`` and the bonus tiers 1 clip x ``n_repeats``.
    max_frames, min_frames
        Trial lengths are drawn between these (30 Hz frames); every array is NaN-padded to ``max_frames``.

    Returns
    -------
    None

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_demo_mice(folder, seed=0, n_mice=1, n_neurons=8, n_train=2, n_oracle_clips=1, n_repeats=2)
    >>> sorted(p.name.split("-")[0] for p in folder.glob("dynamic*"))
    ['dynamic90001']

    Taught in chapter 03_sensorium_data.
    """
    if n_mice < 1 or n_neurons < 1 or n_train < 1 or n_repeats < 2:
        raise ValueError("write_demo_mice needs n_mice >= 1, n_neurons >= 1, n_train >= 1 and n_repeats >= 2.")
    if not 51 < min_frames <= max_frames:
        raise ValueError(
            f"min_frames={min_frames}, max_frames={max_frames}: trials must be longer than the 50 frames the "
            "metric skips, and min_frames <= max_frames."
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pre_frames = TEMPORAL_KERNEL_FRAMES
    for mouse_number in range(1, n_mice + 1):
        _write_mouse(out_dir, rng, seed, mouse_number, n_neurons, n_train, n_oracle_clips, n_repeats,
                     max_frames, min_frames, pre_frames)


def _write_mouse(out_dir, rng, seed, mouse_number, n_neurons, n_train, n_oracle_clips, n_repeats,
                 max_frames, min_frames, pre_frames) -> None:
    name = f"dynamic9000{mouse_number}-{mouse_number}-{seed % 10 + 1}-Video-{_hash(f'demo-{seed}')}"
    folder = out_dir / name
    # --- the population
    coords_um = np.column_stack(
        [rng.uniform(0, 600, n_neurons), rng.uniform(0, 600, n_neurons), rng.uniform(180, 260, n_neurons)]
    )
    # retinotopy: cortical x -> azimuth, cortical y -> elevation, with scatter
    centres_px = np.column_stack(
        [8 + coords_um[:, 0] / 600 * (VIDEO_WIDTH - 16), 6 + coords_um[:, 1] / 600 * (VIDEO_HEIGHT - 12)]
    ) + rng.normal(0, 2.0, (n_neurons, 2))
    gabor_pair, rf_params = _gabors(rng, n_neurons, centres_px)
    kernels = _temporal_kernels(rng, n_neurons)
    complex_cell = rng.random(n_neurons) < 0.3
    gain = rng.uniform(2.5, 4.5, n_neurons)
    baseline = rng.uniform(-1.5, -0.5, n_neurons)
    beta_running = rng.uniform(0.0, 0.5, n_neurons)  # log-gain per z-scored running speed
    beta_pupil = rng.uniform(-0.1, 0.3, n_neurons)
    amplitude = rng.lognormal(0.0, 0.3, n_neurons)  # deconvolved-calcium units per spike
    unit_ids = np.arange(1, n_neurons + 1, dtype=np.int64) + 1000 * mouse_number

    # --- the trials: distinct train clips, repeated oracle/test clips
    tiers: list[str] = ["train"] * n_train
    clip_of_trial: list[int] = list(range(n_train))
    clip_count = n_train
    for tier, n_clips in [("oracle", n_oracle_clips), ("live_test_main", 2), ("final_test_main", 2),
                          ("live_test_bonus", 1), ("final_test_bonus", 1)]:
        for _ in range(n_clips):
            tiers += [tier] * n_repeats
            clip_of_trial += [clip_count] * n_repeats
            clip_count += 1
    tiers += ["none"] * 2  # trials excluded from every split, as in the real tiers
    clip_of_trial += [clip_count, clip_count + 1]
    clip_count += 2
    order = rng.permutation(len(tiers))  # the real files are not sorted by tier
    tiers_arr = np.array(tiers)[order]
    clip_arr = np.array(clip_of_trial)[order]
    n_trials = len(tiers_arr)

    clip_frames = rng.integers(min_frames, max_frames + 1, clip_count)
    clip_videos = [_make_video(rng, int(clip_frames[c]), pre_frames) for c in range(clip_count)]
    clip_drive = [_drive(v, gabor_pair, kernels, complex_cell) for v in clip_videos]
    condition_hash = np.array([_hash(f"{seed}-{mouse_number}-clip{c}", 22) for c in clip_arr])

    data = {kind: folder / "data" / kind for kind in STAT_KINDS}
    for path in data.values():
        path.mkdir(parents=True, exist_ok=True)
    true_rates = np.full((n_trials, n_neurons, max_frames), np.nan, dtype=np.float32)
    hidden = np.full((n_trials, n_neurons, max_frames), np.nan, dtype=np.float32)
    stats_pool: dict[str, list[np.ndarray]] = {kind: [] for kind in STAT_KINDS}
    for i in range(n_trials):
        clip = int(clip_arr[i])
        n_frames = int(clip_frames[clip])
        pupil, speed, centre = _behaviour(rng, n_frames)
        running_z = (speed - 6.0) / 10.0
        pupil_z = (pupil - 20.0) / 6.0
        drive = clip_drive[clip][:, pre_frames:]
        rate = np.logaddexp(0.0, gain[:, None] * drive + baseline[:, None])  # softplus
        rate *= np.exp(beta_running[:, None] * running_z[None] + beta_pupil[:, None] * pupil_z[None])
        responses = rng.poisson(rate) * amplitude[:, None]

        def padded(x, rows, n_frames=n_frames):
            out = np.full((rows, max_frames), np.nan, dtype=np.float32)
            out[:, :n_frames] = x
            return out

        video = np.full((VIDEO_HEIGHT, VIDEO_WIDTH, max_frames), np.nan, dtype=np.float32)
        video[:, :, :n_frames] = np.moveaxis(clip_videos[clip][pre_frames:], 0, -1)
        true_rates[i, :, :n_frames] = rate * amplitude[:, None]
        hidden[i, :, :n_frames] = responses
        if tiers_arr[i] in TEST_TIERS:
            responses = np.zeros_like(responses)  # withheld, as in the public release
        arrays = {
            "videos": video,
            "responses": padded(responses, n_neurons),
            "behavior": padded(np.stack([pupil, speed]), 2),
            "pupil_center": padded(centre, 2),
        }
        for kind, array in arrays.items():
            np.save(data[kind] / f"{i}.npy", array)
            if tiers_arr[i] == "train":
                stats_pool[kind].append(array)

    # --- meta: neurons, trials, statistics over the training tier (per neuron / per channel / global)
    meta = folder / "meta"
    (meta / "neurons").mkdir(parents=True, exist_ok=True)
    (meta / "trials").mkdir(parents=True, exist_ok=True)
    np.save(meta / "neurons" / "unit_ids.npy", unit_ids)
    np.save(meta / "neurons" / "cell_motor_coordinates.npy", coords_um.astype(np.float64))
    np.save(meta / "trials" / "tiers.npy", tiers_arr)
    np.save(meta / "trials" / "trial_idx.npy", np.arange(n_trials, dtype=np.int64))
    np.save(meta / "trials" / "condition_hash.npy", condition_hash)
    for kind, arrays in stats_pool.items():
        if kind == "videos":
            values = np.concatenate([a.ravel() for a in arrays])
            axis = None
        else:
            values = np.concatenate(arrays, axis=1)
            axis = 1
        stats = {
            "min": np.nanmin(values, axis=axis), "max": np.nanmax(values, axis=axis),
            "mean": np.nanmean(values, axis=axis), "median": np.nanmedian(values, axis=axis),
            "std": np.nanstd(values, axis=axis),
        }
        stat_dir = meta / "statistics" / kind / "all"
        stat_dir.mkdir(parents=True, exist_ok=True)
        for stat, value in stats.items():
            np.save(stat_dir / f"{stat}.npy", np.asarray(value, dtype=np.float64))

    truth_dir = out_dir / GROUND_TRUTH_FOLDER
    truth_dir.mkdir(exist_ok=True)
    np.savez_compressed(
        truth_dir / f"{name}.npz",
        description=np.array(
            "SIMULATOR GROUND TRUTH (not part of the real data format): the model population that generated "
            f"mouse {name}. rates_per_frame are noise-free expected responses (same units as responses); "
            "withheld_responses hold the test-tier responses the mouse folder withholds."
        ),
        unit_ids=unit_ids,
        rf_center_px=centres_px,
        spatial_rf=gabor_pair[0].astype(np.float32),
        spatial_rf_quadrature=gabor_pair[1].astype(np.float32),
        temporal_kernel=kernels,
        is_complex_cell=complex_cell,
        gain=gain,
        baseline=baseline,
        beta_running=beta_running,
        beta_pupil=beta_pupil,
        amplitude=amplitude,
        rates_per_frame=true_rates,
        withheld_responses=np.where(np.isin(tiers_arr, TEST_TIERS)[:, None, None], hidden, np.nan),
        **rf_params,
    )


def load_ground_truth(dataset_root: str | Path, mouse_name: str) -> dict[str, np.ndarray]:
    """The simulator's ground truth of a demo mouse (receptive fields, rates, withheld test responses).

    Only demo data have it; real data raise a clear error.

    Examples
    --------
    >>> truth = load_ground_truth(get_source("sensorium2023"), mouse.name)   # doctest: +SKIP
    >>> truth["spatial_rf"].shape                                           # doctest: +SKIP
    (120, 36, 64)

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    path = Path(dataset_root) / GROUND_TRUTH_FOLDER / f"{mouse_name}.npz"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: only the simulated demo mice have a ground truth (real mice do not)."
        )
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
