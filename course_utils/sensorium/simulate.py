"""Demo mice for Sensorium 2023: simulated recordings written in exactly the competition's folder layout.

Each mouse is one folder ``dynamic<id>-<session>-<scan>-Video-<hash>/`` with::

    data/videos/<i>.npy          (36, 64, T) float32, grey levels 0-255, NaN after the trial's end
    data/responses/<i>.npy       (neurons, T) float32, NaN after the trial's end
    data/behavior/<i>.npy        (2, T) pupil dilation, running speed
    data/pupil_center/<i>.npy    (2, T) eye position (x, y) in camera pixels
    meta/neurons/unit_ids.npy, cell_motor_coordinates.npy (x, y, z: int64 µm)
    meta/statistics/{videos,responses,behavior,pupil_center}/all/{min,max,mean,median,std}.npy
    meta/trials/tiers.npy, condition_hash.npy, and trial_idx.npy (odd-numbered mice only)

The demo follows the real release's conventions (``/work/shared/docs/REAL_FILES.md``), so code that works on
it meets them before it meets a real mouse:

* ``trial_idx.npy`` holds *strings* for the first mouse (video trials a recording number such as ``"412"``,
  static-image trials ``"a--b"``) and is absent for the second, as for the earlier real mice;
* repeats of a clip differ in length by up to 2 frames (the recording, not the clip, ends a frame early);
* responses are sparse like deconvolved calcium: most frames hold a tiny residue (~1e-6), events are rare and
  heavy-tailed, so the median is far below the mean;
* the pupil centre is in camera pixels (about 120-155), neuron coordinates are integer micrometres with
  negative values;
* the bonus tiers show another stimulus family than training (drifting gratings and static images, where the
  main tiers and training show filtered noise with moving edges);
* the first mouse ships statistics with a frame axis (per neuron *and* frame slot, computed over training
  trials), the second per neuron/channel: references disagree on which the release has, and readers must
  accept both (:meth:`~course_utils.sensorium.reader.SensoriumMouse.statistics` reduces them explicitly).

The responses come from a known model population: each neuron has a Gabor spatial receptive field (simple
cells: linear; complex cells: energy of a quadrature pair) whose centre follows the neuron's cortical position
(retinotopy), a biphasic temporal kernel, a softplus nonlinearity giving an event rate, a multiplicative gain
from running and pupil dilation, Poisson events with log-normal sizes scaled by a per-neuron amplitude, and a
tiny non-negative residue. Oracle and test trials repeat clips: repeats share a ``condition_hash``. As in the
public release, the responses of the test tiers (``live_test_*``, ``final_test_*``) are withheld: the files
exist but hold zeros where the trial has frames (and NaN in the padding).

The simulator's ground truth (receptive fields, kernels, gains, the noise-free expected responses of every
trial, the stimulus family of each trial, and the withheld test responses) is saved next to the mouse folders
in ``SIMULATOR_GROUND_TRUTH/<mouse>.npz`` so the mouse folders themselves hold exactly what real archives hold.

Taught in chapter 03_sensorium_data.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from ..fileio import load_npz

VIDEO_HEIGHT = 36
VIDEO_WIDTH = 64
# The demo cache key is this module's source and this number: bump it when a module this one relies on changes
# what is written (see course_utils.data.demo).
SIMULATOR_VERSION = 1
GROUND_TRUTH_FOLDER = "SIMULATOR_GROUND_TRUTH"
TEST_TIERS = ("live_test_main", "live_test_bonus", "final_test_main", "final_test_bonus")
STAT_KINDS = ("videos", "responses", "behavior", "pupil_center")
TEMPORAL_KERNEL_FRAMES = 10
STIMULUS_FAMILIES = ("natural_noise", "drifting_grating", "static_image")
"""Training, oracle and main test clips are ``natural_noise``; ``live_test_bonus`` drifting gratings and
``final_test_bonus`` static images (out-of-distribution, as in the real bonus track)."""
MIN_TRIAL_FRAMES = 52  # a trial must keep frames after the 50 the metric skips
RESIDUE_SCALE = 1e-6  # deconvolution residue on frames without events (the real median is ~1e-6)
EVENT_RATE_OFFSET = -2.5  # softplus offset: most frames without an event, a few events in the strongest


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


def _make_grating(rng: np.random.Generator, n_frames: int, pre_frames: int) -> np.ndarray:
    """A full-field drifting sinusoidal grating, (frames, H, W) in grey levels (out-of-distribution)."""
    total = n_frames + pre_frames
    yy, xx = np.mgrid[0:VIDEO_HEIGHT, 0:VIDEO_WIDTH].astype(float)
    theta = rng.uniform(0, 2 * np.pi)
    period_px = rng.uniform(10.0, 24.0)
    cycles_per_frame = rng.uniform(0.03, 0.1)  # 1-3 Hz at 30 Hz
    along = xx * np.cos(theta) + yy * np.sin(theta)
    t = np.arange(total, dtype=float)[:, None, None]
    phase = 2 * np.pi * (along[None] / period_px - cycles_per_frame * t)
    return np.clip(128.0 + 100.0 * np.sin(phase), 0.0, 255.0)


def _make_image(rng: np.random.Generator, n_frames: int, pre_frames: int) -> np.ndarray:
    """A static image held for the whole trial, (frames, H, W) (out-of-distribution: no motion at all)."""
    image = gaussian_filter(rng.standard_normal((VIDEO_HEIGHT, VIDEO_WIDTH)), sigma=1.2)
    image = 128.0 + 60.0 * image / (image.std() + 1e-12)
    return np.clip(np.broadcast_to(image, (n_frames + pre_frames, VIDEO_HEIGHT, VIDEO_WIDTH)), 0.0, 255.0)


def _behaviour(rng, n_frames):
    """Pupil dilation, running speed (cm/s) and pupil centre (camera px) for one trial, smooth and correlated."""
    running_state = rng.random() < 0.5
    speed = np.abs(gaussian_filter(rng.standard_normal(n_frames), 8) * 20 + (12.0 if running_state else 0.5))
    pupil = 18.0 + 0.25 * speed + gaussian_filter(rng.standard_normal(n_frames), 10) * 8
    drift = np.cumsum(rng.standard_normal((2, n_frames)) * 0.15, axis=1)
    centre = np.clip(drift + np.array([[rng.uniform(134, 142)], [rng.uniform(128, 136)]]), 118.0, 157.0)
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
    n_repeats: int = 5,
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
        Number of mouse folders (odd-numbered mice have string ``trial_idx`` and per-frame statistics,
        even-numbered ones no ``trial_idx`` and per-neuron statistics).
    n_neurons
        Neurons per mouse.
    n_train
        Training trials per mouse (distinct clips).
    n_oracle_clips, n_repeats
        The oracle tier has ``n_oracle_clips`` clips shown ``n_repeats`` times each (real mice: 5-10); the
        main test tiers have 2 clips x ``n_repeats`` and the bonus tiers 1 clip x ``n_repeats``.
    max_frames, min_frames
        Clip lengths are drawn between these (30 Hz frames); a repeat may end up to 2 frames earlier; every
        array is NaN-padded to ``max_frames``.

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
    if not MIN_TRIAL_FRAMES <= min_frames <= max_frames:
        raise ValueError(
            f"min_frames={min_frames}, max_frames={max_frames}: trials must be at least {MIN_TRIAL_FRAMES} frames "
            "long (the metric skips the first 50), and min_frames <= max_frames."
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for mouse_number in range(1, n_mice + 1):
        _write_mouse(out_dir, rng, seed, mouse_number, n_neurons, n_train, n_oracle_clips, n_repeats,
                     max_frames, min_frames, TEMPORAL_KERNEL_FRAMES)


def _trial_plan(rng, n_train, n_oracle_clips, n_repeats, min_frames, max_frames):
    """Tier, clip, stimulus family and length of every trial (in file order), and each clip's length."""
    tiers: list[str] = ["train"] * n_train
    clip_of_trial: list[int] = list(range(n_train))
    families: list[str] = ["natural_noise"] * n_train
    clip_count = n_train
    for tier, n_clips, family in [("oracle", n_oracle_clips, "natural_noise"), ("live_test_main", 2, "natural_noise"),
                                  ("final_test_main", 2, "natural_noise"), ("live_test_bonus", 1, "drifting_grating"),
                                  ("final_test_bonus", 1, "static_image")]:
        for _ in range(n_clips):
            tiers += [tier] * n_repeats
            clip_of_trial += [clip_count] * n_repeats
            families += [family] * n_repeats
            clip_count += 1
    tiers += ["none"] * 2  # trials excluded from every split, as in the real tiers
    clip_of_trial += [clip_count, clip_count + 1]
    families += ["natural_noise"] * 2
    clip_count += 2
    clip_frames = rng.integers(min_frames, max_frames + 1, clip_count)
    # repeats end 0-2 frames early (at least one full and one shorter repeat per clip), never below the minimum
    drop = np.zeros(len(tiers), dtype=np.int64)
    clips = np.array(clip_of_trial)
    for clip in np.unique(clips):
        members = np.flatnonzero(clips == clip)
        if len(members) > 1:
            draws = rng.permutation([0, 1, *rng.integers(0, 3, len(members) - 2)])
            drop[members] = np.minimum(draws, clip_frames[clip] - MIN_TRIAL_FRAMES)
    order = rng.permutation(len(tiers))  # the real files are not sorted by tier
    lengths = clip_frames[clips] - drop
    return (np.array(tiers)[order], clips[order], np.array(families)[order], lengths[order], clip_frames)


def _statistics(pool: dict[str, list[np.ndarray]], per_frame: bool) -> dict[str, dict[str, np.ndarray]]:
    """min/max/mean/median/std over the training trials: per neuron (channel), or per neuron and frame slot."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frame slots no training trial reaches stay NaN
        for kind, arrays in pool.items():
            if kind == "videos":
                values, axis = np.concatenate([a.ravel() for a in arrays]), None
            elif per_frame:
                values, axis = np.stack(arrays), 0  # (trials, rows, frames) -> (rows, frames)
            else:
                values, axis = np.concatenate(arrays, axis=1), 1  # (rows, all frames) -> (rows,)
            out[kind] = {"min": np.nanmin(values, axis=axis), "max": np.nanmax(values, axis=axis),
                         "mean": np.nanmean(values, axis=axis), "median": np.nanmedian(values, axis=axis),
                         "std": np.nanstd(values, axis=axis)}
    return out


def _write_mouse(out_dir, rng, seed, mouse_number, n_neurons, n_train, n_oracle_clips, n_repeats,
                 max_frames, min_frames, pre_frames) -> None:
    name = f"dynamic9000{mouse_number}-{mouse_number}-{seed % 10 + 1}-Video-{_hash(f'demo-{seed}')}"
    folder = out_dir / name
    new_style = mouse_number % 2 == 1  # string trial_idx and per-frame statistics; else neither
    pop = _population(rng, n_neurons, mouse_number)
    tiers_arr, clip_arr, family_arr, length_arr, clip_frames = _trial_plan(
        rng, n_train, n_oracle_clips, n_repeats, min_frames, max_frames)
    plan = {"tiers": tiers_arr, "clips": clip_arr, "families": family_arr, "lengths": length_arr}
    clip_videos, clip_drive = _clip_drives(rng, pop, clip_arr, family_arr, clip_frames, pre_frames)
    expected, hidden, stats_pool = _write_trials(folder, rng, pop, plan, clip_videos, clip_drive, max_frames,
                                                 pre_frames)
    condition_hash = np.array([_hash(f"{seed}-{mouse_number}-clip{c}", 22) for c in clip_arr])
    recording_number = _write_meta(folder, rng, pop, plan, condition_hash, stats_pool, new_style)
    _write_truth(out_dir / GROUND_TRUTH_FOLDER, name, pop, plan, expected, hidden, recording_number)


def _population(rng, n_neurons: int, mouse_number: int) -> dict:
    """The model population: integer µm positions, retinotopy from cortical x, y to azimuth, elevation, and
    each neuron's receptive field, gain, baseline and behavioural modulation."""
    coords_um = np.column_stack([rng.integers(-300, 301, n_neurons), rng.integers(-300, 301, n_neurons),
                                 rng.integers(180, 261, n_neurons)]).astype(np.int64)
    centres_px = np.column_stack(
        [8 + (coords_um[:, 0] + 300) / 600 * (VIDEO_WIDTH - 16), 6 + (coords_um[:, 1] + 300) / 600 * (VIDEO_HEIGHT - 12)]
    ) + rng.normal(0, 2.0, (n_neurons, 2))
    gabor_pair, rf_params = _gabors(rng, n_neurons, centres_px)
    pop = {"coords_um": coords_um, "centres_px": centres_px, "gabor_pair": gabor_pair, "rf_params": rf_params}
    pop["kernels"] = _temporal_kernels(rng, n_neurons)
    pop["complex_cell"] = rng.random(n_neurons) < 0.3
    pop["gain"] = rng.uniform(1.2, 2.0, n_neurons)  # per std of the neuron's drive
    pop["baseline"] = rng.uniform(-0.5, 0.5, n_neurons) + EVENT_RATE_OFFSET
    pop["beta_running"] = rng.uniform(0.0, 0.5, n_neurons)  # log-gain per z-scored running speed
    pop["beta_pupil"] = rng.uniform(-0.1, 0.3, n_neurons)
    pop["amplitude"] = rng.lognormal(np.log(3.5), 0.5, n_neurons)  # response units per event of mean size
    pop["unit_ids"] = np.arange(1, n_neurons + 1, dtype=np.int64) + 1000 * mouse_number
    return pop


def _clip_drives(rng, pop, clip_arr, family_arr, clip_frames, pre_frames) -> tuple[dict, dict]:
    """Each clip's video and the population's drive to it, in units of each neuron's spread over natural clips."""
    makers = {"natural_noise": _make_video, "drifting_grating": _make_grating, "static_image": _make_image}
    clip_family = {int(c): str(f) for c, f in zip(clip_arr, family_arr, strict=True)}
    clip_videos = {c: makers[f](rng, int(clip_frames[c]), pre_frames) for c, f in sorted(clip_family.items())}
    clip_drive = {c: _drive(v, pop["gabor_pair"], pop["kernels"], pop["complex_cell"])[:, pre_frames:]
                  for c, v in clip_videos.items()}
    # drive in units of each neuron's spread over the natural clips, so the event rate is sparse for every neuron
    natural = np.concatenate([d for c, d in clip_drive.items() if clip_family[c] == "natural_noise"], axis=1)
    drive_mean, drive_std = natural.mean(axis=1, keepdims=True), natural.std(axis=1, keepdims=True) + 1e-12
    return clip_videos, {c: (d - drive_mean) / drive_std for c, d in clip_drive.items()}


def _write_trials(folder, rng, pop, plan, clip_videos, clip_drive, max_frames, pre_frames):
    """Simulate and write every trial's arrays under ``data/``; return the expected and hidden responses
    and the training arrays the statistics are computed from."""
    n_trials, n_neurons = len(plan["tiers"]), len(pop["unit_ids"])
    gain, baseline, amplitude = pop["gain"], pop["baseline"], pop["amplitude"]
    data = {kind: folder / "data" / kind for kind in STAT_KINDS}
    for path in data.values():
        path.mkdir(parents=True, exist_ok=True)
    expected = np.full((n_trials, n_neurons, max_frames), np.nan, dtype=np.float32)
    hidden = np.full((n_trials, n_neurons, max_frames), np.nan, dtype=np.float32)
    stats_pool: dict[str, list[np.ndarray]] = {kind: [] for kind in STAT_KINDS}
    mean_event_size = float(np.exp(0.5**2 / 2))
    for i in range(n_trials):
        clip, n_frames, tier = int(plan["clips"][i]), int(plan["lengths"][i]), plan["tiers"][i]
        pupil, speed, centre = _behaviour(rng, n_frames)
        running_z = (speed - 6.0) / 10.0
        pupil_z = (pupil - 20.0) / 6.0
        drive = clip_drive[clip][:, :n_frames]
        event_rate = np.logaddexp(0.0, gain[:, None] * drive + baseline[:, None])  # softplus, events per frame
        event_rate *= np.exp(pop["beta_running"][:, None] * running_z[None]
                             + pop["beta_pupil"][:, None] * pupil_z[None])
        events = rng.poisson(event_rate) * rng.lognormal(0.0, 0.5, event_rate.shape)
        responses = amplitude[:, None] * events + rng.exponential(RESIDUE_SCALE, event_rate.shape)

        def padded(x, rows, n_frames=n_frames):
            out = np.full((rows, max_frames), np.nan, dtype=np.float32)
            out[:, :n_frames] = x
            return out

        video = np.full((VIDEO_HEIGHT, VIDEO_WIDTH, max_frames), np.nan, dtype=np.float32)
        video[:, :, :n_frames] = np.moveaxis(clip_videos[clip][pre_frames : pre_frames + n_frames], 0, -1)
        expected[i, :, :n_frames] = amplitude[:, None] * mean_event_size * event_rate + RESIDUE_SCALE
        hidden[i, :, :n_frames] = responses
        if tier in TEST_TIERS:
            responses = np.zeros_like(responses)  # withheld, as in the public release
        arrays = {
            "videos": video,
            "responses": padded(responses, n_neurons),
            "behavior": padded(np.stack([pupil, speed]), 2),
            "pupil_center": padded(centre, 2),
        }
        for kind, array in arrays.items():
            np.save(data[kind] / f"{i}.npy", array)
            if tier == "train":
                stats_pool[kind].append(array)
    return expected, hidden, stats_pool


def _write_meta(folder, rng, pop, plan, condition_hash, stats_pool, new_style) -> np.ndarray:
    """Write ``meta/``: neurons, trials, statistics over the training tier; return the recording order."""
    meta = folder / "meta"
    (meta / "neurons").mkdir(parents=True, exist_ok=True)
    (meta / "trials").mkdir(parents=True, exist_ok=True)
    np.save(meta / "neurons" / "unit_ids.npy", pop["unit_ids"])
    np.save(meta / "neurons" / "cell_motor_coordinates.npy", pop["coords_um"])
    np.save(meta / "trials" / "tiers.npy", plan["tiers"])
    np.save(meta / "trials" / "condition_hash.npy", condition_hash)
    recording_number = rng.permutation(len(plan["tiers"])) + 100
    if new_style:  # recording ids as strings; static-image trials as "a--b", as in the real release
        trial_idx = np.array([f"{r}--{c}" if f == "static_image" else str(r)
                              for r, c, f in zip(recording_number, plan["clips"], plan["families"], strict=True)])
        np.save(meta / "trials" / "trial_idx.npy", trial_idx)
    for kind, stats in _statistics(stats_pool, per_frame=new_style).items():
        stat_dir = meta / "statistics" / kind / "all"
        stat_dir.mkdir(parents=True, exist_ok=True)
        for stat, value in stats.items():
            np.save(stat_dir / f"{stat}.npy", np.asarray(value, dtype=np.float64))
    return recording_number


def _write_truth(truth_dir, name, pop, plan, expected, hidden, recording_number) -> None:
    """The simulator's ground truth for one mouse (not part of the real format)."""
    truth_dir.mkdir(exist_ok=True)
    np.savez_compressed(
        truth_dir / f"{name}.npz",
        description=np.array(
            "SIMULATOR GROUND TRUTH (not part of the real data format): the model population that generated "
            f"mouse {name}. rates_per_frame are noise-free expected responses (same units as responses); "
            "withheld_responses hold the test-tier responses the mouse folder withholds; stimulus_family says "
            "which kind of clip each trial showed; recording_number is the order the trials were recorded in."
        ),
        unit_ids=pop["unit_ids"],
        rf_center_px=pop["centres_px"],
        spatial_rf=pop["gabor_pair"][0].astype(np.float32),
        spatial_rf_quadrature=pop["gabor_pair"][1].astype(np.float32),
        temporal_kernel=pop["kernels"],
        is_complex_cell=pop["complex_cell"],
        gain=pop["gain"],
        baseline=pop["baseline"],
        beta_running=pop["beta_running"],
        beta_pupil=pop["beta_pupil"],
        amplitude=pop["amplitude"],
        rates_per_frame=expected,
        withheld_responses=np.where(np.isin(plan["tiers"], TEST_TIERS)[:, None, None], hidden, np.nan),
        stimulus_family=plan["families"].astype(str),
        recording_number=recording_number,
        **pop["rf_params"],
    )


def load_ground_truth(dataset_root: str | Path, mouse_name: str | None = None) -> dict:
    """The simulator's ground truth of the demo mice (receptive fields, rates, withheld test responses).

    Parameters
    ----------
    dataset_root
        The demo data folder (``get_source("sensorium2023")``).
    mouse_name
        One mouse's folder name: its arrays (``{"spatial_rf": ..., ...}``). ``None``: every mouse,
        ``{mouse_name: {...}}``.

    Only demo data have it; real data raise a clear ``FileNotFoundError``.

    Examples
    --------
    >>> truth = load_ground_truth(get_source("sensorium2023"), mouse.name)   # doctest: +SKIP
    >>> truth["spatial_rf"].shape                                           # doctest: +SKIP
    (120, 36, 64)

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    folder = Path(dataset_root) / GROUND_TRUTH_FOLDER
    fix = "Only the simulated demo mice have a ground truth (real mice do not)."
    if mouse_name is not None:
        return load_npz(folder / f"{mouse_name}.npz", fix=fix)
    files = sorted(folder.glob("*.npz"))
    if not files:
        raise FileNotFoundError(f"{folder} holds no ground truth. {fix}")
    return {path.stem: load_npz(path, fix=fix) for path in files}


write_demo = write_demo_mice  # the name the source interface registers (course_utils.sources)
