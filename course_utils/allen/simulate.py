"""A small simulated Visual Behavior project, in the real on-disk layout (the course's demo mode).

:func:`write_demo_project` writes::

    out_dir/
      project_metadata/behavior_session_table.csv   # the real table's columns
      behavior_sessions/behavior_session_<id>.nwb    # one behaviour NWB file per session (pynwb)
      demo_ground_truth.csv                          # the model mouse's true d', criterion, engagement

The NWB files follow the Allen layout as AllenSDK writes it (see :mod:`course_utils.allen.nwb`): trials with
``start_time`` and ``stop_time`` first, one ``<stimulus>_presentations`` table per stimulus block (cleaned as
AllenSDK cleans them: all-NaN columns left out, nullable booleans stored as floats, -99 for integers that do
not apply), no licking or rewards module in passive sessions. TRAINING_5 and OPHYS sessions frame the task
with a grey screen before and after it and a natural movie at the end, as real sessions do, so readers meet
the merged table. Metadata, task parameters and
subject use extension types with the same names and fields as AllenSDK's ``ndx-aibs-behavior-ophys``
(``BehaviorMetadata``, ``BehaviorTaskParameters``, ``BehaviorSubject``), defined here under the namespace
``ndx-aibs-behavior-ophys-demo`` and cached in each file, exactly as the real files cache theirs. A different
namespace name keeps a process that reads both demo and real files from mixing the two specifications.

The model mouse (ground truth): on task session ``k`` its sensitivity is
``d_true = d_max / (1 + exp(-(k - k_half) / 1.5))`` (lower on novel images), its criterion relaxes from
liberal to neutral, and within a session it stays engaged until a satiation time, after which it rarely
responds. Engaged responses follow signal detection theory: P(lick | change) = Phi(d/2 - c),
P(lick | no change) = Phi(-d/2 - c). Sessions are shorter than real ones (5-15 min of task instead of 60, grey
screens of 20 s instead of 5 min, a 10 s movie shown 3 times instead of 30 s shown 10 times) and a mouse
spends 1-2 sessions per stage, so the files stay small (1-3 MB).

Taught in chapter 02_allen_loading.
"""

from __future__ import annotations

import tempfile
import uuid
import warnings
from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr  # the standard normal CDF (what scipy.stats.norm.cdf calls)

from .nwb import INT_NULL, _add_trial_columns, flashes_since_change, image_change

__all__ = ["DEMO_NAMESPACE", "SIMULATOR_VERSION", "image_stimulus_name", "load_ground_truth", "simulate_session",
           "task_parameters", "write_behavior_nwb", "write_demo", "write_demo_project"]

# The demo cache key is this module's source and this number: bump it when a module this one relies on changes
# what is written (see course_utils.data.demo).
SIMULATOR_VERSION = 1
DEMO_NAMESPACE = "ndx-aibs-behavior-ophys-demo"
GROUND_TRUTH_FILE = "demo_ground_truth.csv"
FRAME_RATE_HZ = 60.0
FLASH_FRAMES = 45  # 0.75 s: 250 ms image + 500 ms grey
IMAGE_FRAMES = 15
# The other blocks of a real session, shortened: grey screens of 5 min and a 30 s movie (900 frames at 30 Hz)
# shown 10 times become 20 s and 10 s x 3 here.
GREY_SCREEN_S = 20.0
MOVIE_FRAMES = 300
MOVIE_REPEATS = 3
MOVIE_FRAME_FRAMES = 2  # display frames (60 Hz) per movie frame (30 Hz)
EARNED_ML, AUTO_ML, T3_ML = 0.007, 0.005, 0.010
IMAGE_SETS = {
    "A": ["im065", "im061", "im063", "im062", "im066", "im069", "im077", "im085"],
    "B": ["im000", "im031", "im035", "im045", "im054", "im073", "im075", "im106"],
    "G": ["im012", "im036", "im044", "im047", "im078", "im083", "im111", "im115"],
    "H": ["im005", "im024", "im034", "im087", "im104", "im114", "im005b", "im024b"],
}
NOVEL_SET = {"A": "B", "B": "A", "G": "H"}
CRE_LINES = [
    ("Slc17a7-IRES2-Cre", "Ai93(TITL-GCaMP6f)", "['Slc17a7-IRES2-Cre', 'Camk2a-tTA']",
     "Slc17a7-IRES2-Cre/wt;Camk2a-tTA/wt;Ai93(TITL-GCaMP6f)/wt", "VisualBehavior", "A", 2.8),
    ("Sst-IRES-Cre", "Ai148(TIT2L-GC6f-ICL-tTA2)", "['Sst-IRES-Cre']",
     "Sst-IRES-Cre/wt;Ai148(TIT2L-GC6f-ICL-tTA2)/wt", "VisualBehaviorTask1B", "B", 2.4),
    ("Vip-IRES-Cre", "Ai148(TIT2L-GC6f-ICL-tTA2)", "['Vip-IRES-Cre']",
     "Vip-IRES-Cre/wt;Ai148(TIT2L-GC6f-ICL-tTA2)/wt", "VisualBehaviorMultiscope4areasx2d", "G", 2.1),
]
# (session type template, (min, max) number of sessions, duration in s)
STAGE_PLAN = [
    ("TRAINING_0_gratings_autorewards_15min", (1, 1), 300.0),
    ("TRAINING_1_gratings", (1, 2), 600.0),
    ("TRAINING_2_gratings_flashed", (1, 1), 600.0),
    ("TRAINING_3_images_{train}_10uL_reward", (1, 2), 900.0),
    ("TRAINING_4_images_{train}_training", (1, 2), 900.0),
    ("TRAINING_5_images_{train}_handoff_ready", (2, 2), 900.0),
    ("OPHYS_0_images_{train}_habituation", (1, 1), 900.0),
    ("OPHYS_1_images_{train}", (1, 1), 900.0),
    ("OPHYS_2_images_{train}_passive", (1, 1), 600.0),
    ("OPHYS_3_images_{train}", (1, 1), 900.0),
    ("OPHYS_4_images_{novel}", (1, 1), 900.0),
    ("OPHYS_5_images_{novel}_passive", (1, 1), 600.0),
    ("OPHYS_6_images_{novel}", (1, 1), 900.0),
]


# ------------------------------------------------------------------------------------------- extension
_EXTENSION_CLASSES: dict[str, dict] = {}


def _extension_classes(namespace: str = DEMO_NAMESPACE) -> dict:
    """Define (once per process) the extension types, mirroring ndx-aibs-behavior-ophys."""
    if namespace in _EXTENSION_CLASSES:
        return _EXTENSION_CLASSES[namespace]
    from pynwb import get_class, load_namespaces
    from pynwb.spec import NWBAttributeSpec, NWBGroupSpec, NWBNamespaceBuilder

    def attrs(spec: dict, optional: tuple[str, ...] = ()) -> list:
        return [NWBAttributeSpec(name, name.replace("_", " "), dtype, shape=shape, required=name not in optional)
                for name, (dtype, shape) in spec.items()]

    text, scalar, pair = "text", None, (2,)
    metadata = NWBGroupSpec(
        doc="Metadata for behavior and behavior + ophys experiments", neurodata_type_def="BehaviorMetadata",
        neurodata_type_inc="LabMetaData",
        attributes=attrs({"behavior_session_id": ("int", scalar), "behavior_session_uuid": (text, scalar),
                          "stimulus_frame_rate": ("float", scalar), "session_type": (text, scalar),
                          "equipment_name": (text, scalar), "project_code": (text, scalar)}))
    task = NWBGroupSpec(
        doc="Metadata for behavior or behavior + ophys task parameters",
        neurodata_type_def="BehaviorTaskParameters", neurodata_type_inc="LabMetaData",
        attributes=attrs({"blank_duration_sec": (text, pair), "stimulus_duration_sec": ("float", scalar),
                          "omitted_flash_fraction": ("float", scalar), "response_window_sec": (text, pair),
                          "reward_volume": ("float", scalar), "auto_reward_volume": ("float", scalar),
                          "session_type": (text, scalar), "stimulus": (text, scalar),
                          "stimulus_distribution": (text, scalar), "task": (text, scalar),
                          "n_stimulus_frames": ("int", scalar), "stimulus_name": (text, scalar)},
                         optional=("stimulus_name",)))
    subject = NWBGroupSpec(
        doc="Metadata for an AIBS behavior or behavior + ophys subject", neurodata_type_def="BehaviorSubject",
        neurodata_type_inc="Subject",
        attributes=attrs({"driver_line": (text, (None,)), "reporter_line": (text, scalar)}))
    builder = NWBNamespaceBuilder(
        "Course demo copy of the AIBS behavior extension", namespace, version="0.1.0",
        author="neural-data-ml course", contact="see the course repository")
    for core_type in ("LabMetaData", "Subject"):
        builder.include_type(core_type, namespace="core")
    for spec in (metadata, task, subject):
        builder.add_spec(f"{namespace}.extensions.yaml", spec)
    # the YAML files are only read once, into pynwb's type map; nothing is left behind
    with tempfile.TemporaryDirectory(prefix="course-allen-ns-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        builder.export(f"{namespace}.namespace.yaml", outdir=tmp)
        load_namespaces(str(Path(tmp) / f"{namespace}.namespace.yaml"))
    _EXTENSION_CLASSES[namespace] = {
        name: get_class(name, namespace) for name in ("BehaviorMetadata", "BehaviorTaskParameters", "BehaviorSubject")
    }
    return _EXTENSION_CLASSES[namespace]


# ------------------------------------------------------------------------------------------- behaviour
def _stage_kind(session_type: str) -> dict:
    ophys = session_type.startswith("OPHYS")
    number = int(session_type.split("_")[1])
    return {
        "autorewards_only": session_type.startswith("TRAINING_0"),
        "static_gratings": session_type.startswith(("TRAINING_0", "TRAINING_1")),
        "gratings": "gratings" in session_type,
        "passive": ophys and "passive" in session_type,
        "omissions": ophys and number >= 1,
        "reward_ml": T3_ML if session_type.startswith("TRAINING_3") else EARNED_ML,
        # the real hand-off-ready TRAINING_5 and OPHYS sessions end with a grey screen and a movie
        "extra_blocks": ophys or session_type.startswith("TRAINING_5"),
    }


def image_stimulus_name(session_type: str) -> str:
    """Name of the image (or grating) stimulus of a session, as in its ``<name>_presentations`` table."""
    parts = session_type.split("_")
    return "grating" if parts[2] == "gratings" else f"Natural_Images_Lum_Matched_set_images_{parts[3]}"


def simulate_session(
    session_type: str,
    duration_s: float,
    dprime_true: float,
    criterion_true: float,
    satiation_s: float,
    abort_probability: float,
    images: list[str],
    rng: np.random.Generator,
    extra_blocks: bool | None = None,
    prior_images: Collection[str] = (),
    grey_screen_s: float = GREY_SCREEN_S,
    movie_frames: int = MOVIE_FRAMES,
    movie_repeats: int = MOVIE_REPEATS,
) -> dict:
    """Simulate one session of the change-detection task (the model mouse's behaviour and the stimuli).

    Parameters
    ----------
    session_type : str
        E.g. ``"TRAINING_4_images_A_training"``; decides gratings/images, passive, omissions, auto-rewards.
    duration_s : float
        Length of the task (the change-detection block), in seconds.
    dprime_true, criterion_true : float
        The engaged mouse's sensitivity and criterion.
    satiation_s : float
        Time (s) around which the mouse disengages (engagement decays with a 60 s time constant).
    abort_probability : float
        Probability that an engaged mouse licks before the change (aborting the trial).
    images : list of str
        Image names of the session's image set (gratings sessions use orientations).
    rng : numpy.random.Generator
    extra_blocks : bool, optional
        Frame the task with the other stimulus blocks of a real session: a grey screen before and after it
        (``spontaneous``) and a natural movie at the end (``natural_movie_one``). Default: TRAINING_5 and
        OPHYS sessions have them.
    prior_images : collection of str
        Images the mouse saw in earlier sessions (``is_image_novel`` is False for them).
    grey_screen_s, movie_frames, movie_repeats : float, int, int
        Length of each grey screen (s) and of the movie (frames at 30 Hz, repeats). The defaults shorten a
        real session's 300 s, 900 frames and 10 repeats, so demo files stay small.

    Returns
    -------
    dict
        ``trials``, ``licks``, ``rewards`` (DataFrames with AllenSDK's columns), ``presentations`` (every
        block, merged as AllenSDK holds it before writing: nullable booleans, -99 where an integer does not
        apply), ``frame_times``, ``speed``, ``speed_unfiltered``, ``dx`` (arrays).

    Examples
    --------
    >>> out = simulate_session("OPHYS_1_images_A", 120, 2.0, 0.0, 100, 0.1, IMAGE_SETS["A"],
    ...                        np.random.default_rng(0))
    >>> set(out) >= {"trials", "licks", "rewards"}
    True
    >>> sorted(out["presentations"]["stimulus_name"].unique())
    ['Natural_Images_Lum_Matched_set_images_A', 'natural_movie_one', 'spontaneous']

    Taught in chapter 05_allen_behavior_analysis.
    """
    kind = _stage_kind(session_type)
    extra = kind["extra_blocks"] if extra_blocks is None else bool(extra_blocks)
    if kind["gratings"]:
        images = [f"gratings_{angle:.1f}" for angle in (0.0, 90.0, 180.0, 270.0)]
    movie = (movie_frames, movie_repeats)
    clock = _frame_clock(duration_s, extra, grey_screen_s, movie_frames, movie_repeats, rng)
    flashes = _play_trials(clock, kind, images, dprime_true, criterion_true, satiation_s, abort_probability, rng)
    licks, rewards, lick_frames = _licks_and_rewards(flashes, clock)
    trials = _trials_table(flashes, clock, licks, rewards)
    presentations = _presentations(session_type, kind, images, clock, flashes, trials, prior_images, extra, movie,
                                   rng)
    speed, speed_unfiltered = _running_speed(clock["n_frames"], lick_frames, rng)
    return {"trials": trials, "licks": licks, "rewards": rewards, "presentations": presentations,
            "frame_times": clock["frame_times"], "speed": speed, "speed_unfiltered": speed_unfiltered,
            "dx": speed_unfiltered * (1.0 / FRAME_RATE_HZ)}


def _frame_clock(duration_s, extra, grey_screen_s, movie_frames, movie_repeats, rng) -> dict:
    """Display frames of a session: grey screen, task, grey screen, movie; the task's flash onsets."""
    grey_frames = int(grey_screen_s * FRAME_RATE_HZ) if extra else 0
    task_frames = int(duration_s * FRAME_RATE_HZ)
    movie_frames = movie_repeats * movie_frames * MOVIE_FRAME_FRAMES if extra else 0
    # two spare frames at the end: the last presentation ends on the frame after its last one
    n_frames = grey_frames + task_frames + grey_frames + movie_frames + 2
    # the display runs a hair slower than 60 Hz; times are rounded to 0.1 ms (they compress well)
    frame_times = np.round(np.arange(n_frames) / FRAME_RATE_HZ * (1 + rng.uniform(0, 4e-4)), 4)
    first_flash = grey_frames + 30
    n_flashes = (task_frames - 30 - IMAGE_FRAMES) // FLASH_FRAMES
    return {"grey_frames": grey_frames, "task_frames": task_frames, "n_frames": n_frames,
            "frame_times": frame_times, "flash_frames": first_flash + FLASH_FRAMES * np.arange(n_flashes)}


def _play_trials(clock, kind, images, dprime_true, criterion_true, satiation_s, abort_probability, rng) -> dict:
    """The model mouse's trials, flash by flash: trial rows, lick frames, rewards and each flash's image."""
    frame_times, flash_frames, grey_frames = clock["frame_times"], clock["flash_frames"], clock["grey_frames"]
    n_flashes = len(flash_frames)
    rows, lick_frames, rewards = [], [], []
    image = images[0]
    flash_image = np.empty(n_flashes, dtype=object)
    change_flash = np.zeros(n_flashes, dtype=bool)
    protected = np.zeros(n_flashes, dtype=bool)  # no omission on or just before a change
    flash = 0
    go_seen = 0
    while True:
        start = flash
        n_before = 3 + min(rng.geometric(0.35) - 1, 8)  # flashes before the change (geometric)
        change = start + n_before
        stop = change + 4
        if stop >= n_flashes:
            break
        t_change = frame_times[flash_frames[change]] - frame_times[grey_frames]
        engaged = rng.random() < 1.0 / (1.0 + np.exp((t_change - satiation_s) / 60.0))
        t_change = frame_times[flash_frames[change]]
        catch = (not kind["autorewards_only"]) and rng.random() < 0.125
        auto = kind["autorewards_only"] or (not catch and go_seen < 5 and not kind["passive"])
        row = {"start_flash": start, "change_flash": change, "stop_flash": stop, "catch": catch, "auto": auto,
               "aborted": False, "responded": False, "latency": np.nan}
        # an aborted trial: an early lick before the change (never in passive sessions or auto trials)
        if (not kind["passive"] and not auto and engaged and rng.random() < abort_probability):
            lick_flash = rng.uniform(start + 0.5, change - 0.2)
            lick_frame = int(flash_frames[0] + (lick_flash * FLASH_FRAMES))
            lick_frames.extend(lick_frame + np.arange(rng.integers(1, 4)) * 9)
            stop = int(np.ceil(lick_flash)) + 3
            row.update(aborted=True, stop_flash=min(stop, n_flashes - 1), lick_frame=lick_frame)
            flash_image[start:row["stop_flash"]] = image
            rows.append(row)
            flash = row["stop_flash"]
            continue
        new_image = image if catch else rng.choice([im for im in images if im != image])
        flash_image[start:change] = image
        flash_image[change:stop] = new_image
        if not catch:
            change_flash[change] = True
            go_seen += 1
        protected[change - 1: change + 1] = True
        if not kind["passive"]:
            if engaged:
                p = ndtr(dprime_true / 2 - criterion_true) if not catch else ndtr(-dprime_true / 2 - criterion_true)
            else:
                p = 0.03
            responded = rng.random() < p or (auto and rng.random() < 0.8)
            if responded:
                latency = 0.15 + rng.lognormal(np.log(0.3), 0.35)
                bout = t_change + latency + np.cumsum(np.r_[0, rng.uniform(0.12, 0.18, rng.integers(4, 12))])
                frames = np.searchsorted(frame_times, bout)
                lick_frames.extend(frames[frames < grey_frames + clock["task_frames"]])
                row.update(responded=True, latency=latency)
            if auto:
                rewards.append((flash_frames[change], AUTO_ML, True))
            elif not catch and responded and latency <= 0.75:
                rewards.append((int(np.searchsorted(frame_times, t_change + latency)), kind["reward_ml"], False))
        image = new_image
        rows.append(row)
        flash = stop
    return {"rows": rows, "lick_frames": lick_frames, "rewards": rewards, "flash_image": flash_image,
            "change_flash": change_flash, "protected": protected}


def _licks_and_rewards(flashes: dict, clock: dict) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Lick and reward tables (licks snapped to frames, as in the real files) and the lick frames."""
    frame_times = clock["frame_times"]
    lick_frames = np.unique(np.asarray(flashes["lick_frames"], dtype=int))
    lick_frames = lick_frames[(lick_frames >= 0) & (lick_frames < clock["n_frames"])]
    licks = pd.DataFrame({"timestamps": frame_times[lick_frames], "frame": lick_frames})
    rewards = flashes["rewards"]
    reward_frames = np.array([r[0] for r in rewards], dtype=int)
    rewards_df = pd.DataFrame({"volume": np.array([r[1] for r in rewards], dtype=float),
                               "timestamps": frame_times[reward_frames],
                               "auto_rewarded": np.array([r[2] for r in rewards], dtype=bool)})
    return licks, rewards_df, lick_frames


def _trials_table(flashes: dict, clock: dict, licks: pd.DataFrame, rewards_df: pd.DataFrame) -> pd.DataFrame:
    """The trials table with AllenSDK's columns, in its order, from the simulated trial rows."""
    frame_times, flash_frames, flash_image = clock["frame_times"], clock["flash_frames"], flashes["flash_image"]
    table = pd.DataFrame(flashes["rows"])
    start_t = frame_times[flash_frames[table["start_flash"]]]
    stop_t = frame_times[flash_frames[table["stop_flash"]]]
    change_frame = flash_frames[table["change_flash"]].astype(int)
    aborted = table["aborted"].to_numpy(bool)
    auto = table["auto"].to_numpy(bool) & ~aborted
    catch = table["catch"].to_numpy(bool) & ~aborted
    go = ~catch & ~auto & ~aborted
    change_time = np.where(aborted, np.nan, frame_times[change_frame])
    change_frame[aborted] = INT_NULL
    bounds = np.searchsorted(licks["timestamps"].to_numpy(), np.c_[start_t, stop_t])
    lick_times = [licks["timestamps"].to_numpy()[a:b] for a, b in bounds]
    after = [lt[lt > ct] if np.isfinite(ct) else lt[:0] for lt, ct in zip(lick_times, change_time, strict=False)]
    first_after = np.array([a[0] if len(a) else np.nan for a in after])
    in_window = (first_after - change_time > 0.15) & (first_after - change_time <= 0.75)
    hit = go & in_window
    false_alarm = catch & in_window
    reward_time = np.full(len(table), np.nan)
    reward_volume = np.zeros(len(table))
    if len(rewards_df):
        which = np.searchsorted(stop_t, rewards_df["timestamps"].to_numpy(), side="right")
        which = np.minimum(which, len(table) - 1)
        reward_time[which] = rewards_df["timestamps"].to_numpy()
        reward_volume[which] = rewards_df["volume"].to_numpy()
    image_before = flash_image[np.maximum(table["change_flash"].to_numpy() - 1, 0)]
    image_after = flash_image[table["change_flash"].to_numpy()]
    image_after = np.where(aborted, image_before, image_after)
    trials = pd.DataFrame({
        "start_time": start_t,
        "stop_time": stop_t,
        "initial_image_name": image_before,
        "change_image_name": image_after,
        "is_change": ~aborted & ~catch,
        "change_time": change_time,
        "go": go,
        "catch": catch,
        "lick_times": lick_times,
        "response_time": np.where(hit | false_alarm, first_after, np.nan),
        "response_latency": np.where(aborted, np.nan, np.where(np.isnan(first_after), np.inf,
                                                               first_after - change_time)),
        "reward_time": reward_time,
        "reward_volume": reward_volume,
        "hit": hit,
        "false_alarm": false_alarm,
        "miss": go & ~in_window,
        "correct_reject": catch & ~in_window,
        "aborted": aborted,
        "auto_rewarded": auto,
        "change_frame": change_frame,
        "trial_length": stop_t - start_t,
    })
    trials.index.name = "trials_id"
    return trials


def _presentations(session_type, kind, images, clock, flashes, trials, prior_images, extra, movie, rng):
    """Stimulus presentations: the image block (with omissions), then the other blocks of a real session."""
    last = int(max(row["stop_flash"] for row in flashes["rows"]))
    flash_image = flashes["flash_image"][:last]
    flash_frames = clock["flash_frames"][:last]
    omitted = np.zeros(last, dtype=bool)
    if kind["omissions"]:
        omitted = (rng.random(last) < 0.05) & ~flashes["protected"][:last] & ~flashes["change_flash"][:last]
        omitted[:5] = False
    start_frames = flash_frames
    end_frames = flash_frames + IMAGE_FRAMES
    if kind["static_gratings"]:  # one presentation per grating epoch
        keep = np.r_[True, flash_image[1:] != flash_image[:-1]]
        start_frames = flash_frames[keep]
        end_frames = np.r_[start_frames[1:], flash_frames[-1] + FLASH_FRAMES]
        flash_image, omitted = flash_image[keep], omitted[keep]
    frame_times = clock["frame_times"]
    presentations = _image_block(session_type, kind, images, frame_times, start_frames, end_frames, flash_image,
                                 omitted, prior_images, trials)
    if extra:
        presentations = _with_extra_blocks(presentations, frame_times, *movie)
    presentations = _stimulus_block_names(presentations, passive=kind["passive"])
    presentations = _add_trial_columns(presentations, trials)
    leading = [c for c in _WRITE_ORDER if c in presentations.columns]
    return presentations[leading + sorted(c for c in presentations.columns if c not in leading)]


def _running_speed(n_frames: int, lick_frames: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Running speed (~60 Hz): a smooth random process around a cruising speed, slowing while licking."""
    # imported here: scipy.signal takes longer to import (~1.5 s) than a session takes to simulate, and
    # chapters import this module only to read the ground truth
    from scipy.signal import lfilter

    dt = 1.0 / FRAME_RATE_HZ
    alpha = np.exp(-dt / 2.0)
    noise = rng.normal(0, 9.0 * np.sqrt(1 - alpha**2), n_frames)
    speed = 18.0 + lfilter([1.0], [1.0, -alpha], noise)
    licking = np.zeros(n_frames)
    licking[lick_frames] = 1.0
    slow = (np.convolve(licking, np.ones(60), mode="full")[:n_frames] > 0).astype(float)
    smooth = 1 - np.exp(-dt / 0.3)  # the mouse slows down and speeds up again over ~0.3 s
    slow = lfilter([smooth], [1.0, smooth - 1.0], slow)
    speed = speed * (1.0 - 0.65 * slow)
    speed = np.round(speed, 3)
    speed_unfiltered = np.round(speed + rng.normal(0, 3.0, n_frames), 3)
    return speed, speed_unfiltered


# Column order of AllenSDK's presentations table (the columns it does not list follow, alphabetically here)
_WRITE_ORDER = ("stimulus_block", "stimulus_block_name", "image_index", "image_name", "movie_frame_index",
                "duration", "start_time", "stop_time", "start_frame", "end_frame", "is_change", "is_image_novel",
                "omitted", "movie_repeat", "flashes_since_change", "trials_id")


def _image_block(session_type, kind, images, frame_times, start_frames, end_frames, flash_image, omitted,
                 prior_images, trials) -> pd.DataFrame:
    """The change-detection block as AllenSDK builds it from the behaviour log (one row per flash)."""
    n_frames = len(frame_times)
    names = np.where(omitted, "omitted", flash_image).astype(object)
    # an omitted flash has no end frame of its own: AllenSDK gives it 250 ms and the median flash length
    end_frames = np.where(omitted, start_frames + IMAGE_FRAMES, end_frames)
    stop_time = np.where(omitted, frame_times[start_frames] + 0.25, frame_times[np.minimum(end_frames, n_frames - 1)])
    index_of = {name: i for i, name in enumerate(images)}
    novel = {name: name not in set(prior_images) for name in images}
    block = pd.DataFrame({
        "start_time": frame_times[start_frames],
        "stop_time": stop_time,
        "duration": stop_time - frame_times[start_frames],
        "start_frame": start_frames.astype(int),
        "end_frame": end_frames.astype(int),
        "image_name": names,
        "image_index": np.array([index_of.get(n, len(images)) for n in names], dtype=int),
        "omitted": omitted.astype(bool),
        # AllenSDK maps each image to its novelty; "omitted" is no image, so NA
        "is_image_novel": pd.array([novel.get(n) for n in names], dtype="boolean"),
        "stimulus_block": 0,
        "stimulus_name": image_stimulus_name(session_type),
    })
    if kind["gratings"]:
        block["orientation"] = [float(n.split("_")[1]) if n != "omitted" else np.nan for n in names]
    else:
        block["image_set"] = image_stimulus_name(session_type)  # stored in the file; AllenSDK drops it on reading
    block["is_change"] = image_change(block).to_numpy()
    if not block["is_image_novel"].isna().any():
        block["is_image_novel"] = block["is_image_novel"].astype(bool)
    block["flashes_since_change"] = flashes_since_change(block)
    block["movie_frame_index"] = INT_NULL
    block["movie_repeat"] = INT_NULL
    return block


def _with_extra_blocks(images: pd.DataFrame, frame_times: np.ndarray, movie_frames: int,
                       movie_repeats: int) -> pd.DataFrame:
    """Grey screen, images, grey screen, natural movie: the blocks of a real session, numbered 0-3."""
    n_frames = len(frame_times)
    movie_start = n_frames - 2 - movie_repeats * movie_frames * MOVIE_FRAME_FRAMES
    task_end = int(images["end_frame"].max())
    spontaneous = pd.DataFrame({
        "start_frame": [0, task_end],
        "end_frame": [int(images["start_frame"].min()), movie_start],
        "stimulus_block": [0, 2],
        "stimulus_name": "spontaneous",
    })
    frame_index = np.tile(np.arange(movie_frames), movie_repeats)
    first = movie_start + MOVIE_FRAME_FRAMES * np.arange(movie_repeats * movie_frames)
    movie = pd.DataFrame({
        "start_frame": first,
        "end_frame": first + MOVIE_FRAME_FRAMES - 1,
        "movie_frame_index": frame_index,
        "movie_repeat": np.repeat(np.arange(movie_repeats), movie_frames),
        "stimulus_block": 3,
        "stimulus_name": "natural_movie_one",
    })
    for other in (spontaneous, movie):
        other["start_time"] = frame_times[other["start_frame"]]
        other["stop_time"] = frame_times[np.minimum(other["end_frame"] + (other is movie), n_frames - 1)]
        other["duration"] = other["stop_time"] - other["start_time"]
    images = images.assign(stimulus_block=1)
    merged = pd.concat([spontaneous.iloc[:1], images, spontaneous.iloc[1:], movie], ignore_index=True)
    for column in ("image_index", "movie_frame_index", "movie_repeat", "flashes_since_change"):
        merged[column] = merged[column].fillna(INT_NULL).astype(int)
    # flags with gaps outside the image block become nullable booleans, as in AllenSDK's merged table
    flags = [c for c in merged.columns if merged[c].dtype == object
             and set(merged[c].dropna().map(type)) <= {bool, np.bool_}]
    return merged.astype({c: "boolean" for c in flags})


def _stimulus_block_names(stim: pd.DataFrame, passive: bool) -> pd.DataFrame:
    """AllenSDK's names of the Visual Behavior blocks (a lone image block is the change-detection block)."""
    names = ["initial_gray_screen_5min", "change_detection_passive" if passive else "change_detection_behavior",
             "post_behavior_gray_screen_5min", "natural_movie_one"]
    blocks = stim["stimulus_block"].to_numpy()
    offset = 1 if len(np.unique(blocks)) == 1 else 0
    return stim.assign(stimulus_block_name=np.array(names, dtype=object)[blocks + offset])


# ------------------------------------------------------------------------------------------- NWB writer
def _time_intervals(name: str, description: str, frame: pd.DataFrame, ragged: tuple[str, ...] = ()):
    from hdmf.common import VectorData, VectorIndex
    from pynwb.epoch import TimeIntervals

    columns = []
    for column in frame.columns:
        if column in ragged:
            values = [np.asarray(v) for v in frame[column]]
            flat = np.concatenate(values) if values else np.array([], dtype=float)
            if flat.dtype.kind in "OU":
                flat = flat.astype(str)
            data = VectorData(name=column, description=column.replace("_", " "), data=flat)
            ends = np.cumsum([len(v) for v in values]).astype(np.int64)
            columns += [data, VectorIndex(name=f"{column}_index", data=ends, target=data)]
        else:
            values = frame[column].to_numpy()
            if values.dtype == object:
                values = values.astype(str)
            columns.append(VectorData(name=column, description=column.replace("_", " "), data=values))
    return TimeIntervals(name=name, description=description, columns=columns, colnames=list(frame.columns))


def _presentation_intervals(presentations: pd.DataFrame) -> list:
    """One ``<stimulus_name>_presentations`` table per stimulus, cleaned as AllenSDK writes them.

    Per stimulus: columns that are all NaN are left out, text columns with gaps get "N/A", nullable booleans
    are stored as floats (NaN kept), ``start_time`` and ``stop_time`` come first, and every row is tagged
    ``stimulus_time_interval``.
    """
    tables = []
    for name in sorted(presentations["stimulus_name"].unique()):
        part = presentations[presentations["stimulus_name"] == name].dropna(axis=1, how="all").copy()
        for column in part.columns:
            values = part[column]
            if values.dtype == object and values.map(type).nunique() > 1:
                part[column] = values.fillna("N/A").astype(str)
            elif isinstance(values.dtype, pd.BooleanDtype):
                part[column] = values.astype(float)
        ordered = ["start_time", "stop_time"] + [c for c in part.columns if c not in ("start_time", "stop_time")]
        part = part[ordered].reset_index(drop=True)
        part["tags"] = [["stimulus_time_interval"]] * len(part)
        tables.append(_time_intervals(
            f"{name}_presentations",
            f"Presentation times and stimuli details for '{name}' stimuli. \nNote: image_name references "
            "control_description in stimulus/templates", part, ragged=("tags",)))
    return tables


def write_behavior_nwb(path: Path, row: pd.Series, sim: dict, task: dict, namespace: str = DEMO_NAMESPACE) -> None:
    """Write one simulated session as a behaviour NWB file in the Allen layout.

    What AllenSDK writes, in its layout: trials (``start_time``, ``stop_time`` first, ``change_frame`` -99
    without a change), one presentations table per stimulus (see :func:`simulate_session`), licks and
    rewards modules only when there are licks and rewards (passive sessions have neither), metadata with
    ``project_code``.

    Parameters
    ----------
    path : Path
        The ``.nwb`` file to write.
    row : pandas.Series
        The session's row of the session table (ids, mouse, genotype, date, rig, session type, project).
    sim : dict
        From :func:`simulate_session`. ``sim["trials"] = None`` writes a file without trials (for tests).
    task : dict
        The task parameters (AllenSDK's fields; lists of floats as text, as AllenSDK stores them).
    namespace : str
        Name of the extension namespace cached in the file (``"ndx-aibs-behavior-ophys"`` writes a stand-in
        of a real file).

    Examples
    --------
    >>> write_behavior_nwb(Path("s.nwb"), row, sim, task)   # doctest: +SKIP

    Taught in chapter 02_allen_loading.
    """
    from pynwb import NWBHDF5IO

    nwb = _session_nwb(row, task, sim["trials"], namespace)
    for module in _processing_modules(sim):
        nwb.add_processing_module(module)
    for table in _presentation_intervals(sim["presentations"]):
        nwb.add_time_intervals(table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)


def _session_nwb(row: pd.Series, task: dict, trials: pd.DataFrame | None, namespace: str):
    """The NWB file of one session: trials, subject, session metadata and task parameters (no data yet)."""
    from pynwb import NWBFile

    classes = _extension_classes(namespace)
    start = datetime.fromisoformat(str(row["date_of_acquisition"]))
    nwb = NWBFile(
        session_description=row["session_type"], identifier=str(row["behavior_session_id"]),
        session_start_time=start, institution="Allen Institute for Brain Science (simulated by the course)",
        keywords=["visual", "behavior", "task", "simulated"],
        trials=None if trials is None else _time_intervals(
            "trials", "change-detection trials", trials.reset_index(drop=True), ragged=("lick_times",)),
    )
    nwb.subject = classes["BehaviorSubject"](
        subject_id=str(row["mouse_id"]), species="Mus musculus", sex=row["sex"], age=f"P{row['age_in_days']}D",
        genotype=row["full_genotype"], driver_line=parse_text_list(row["driver_line"]),
        reporter_line=row["reporter_line"], description="A visual behavior subject with a LabTracks ID")
    nwb.add_lab_meta_data(classes["BehaviorMetadata"](
        name="metadata", behavior_session_id=int(row["behavior_session_id"]),
        behavior_session_uuid=str(uuid.UUID(int=int(row["behavior_session_id"]))),
        stimulus_frame_rate=FRAME_RATE_HZ, session_type=row["session_type"], equipment_name=row["equipment_name"],
        project_code=str(row.get("project_code", "VisualBehavior"))))
    nwb.add_lab_meta_data(classes["BehaviorTaskParameters"](name="task_parameters", **task))
    return nwb


def _processing_modules(sim: dict) -> list:
    """Stimulus frame times, running, and (as AllenSDK: only when there are any) licking and rewards modules."""
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from pynwb import TimeSeries
    from pynwb.base import ProcessingModule

    def compressed(values):
        return H5DataIO(np.asarray(values), compression="gzip", compression_opts=4, shuffle=True)

    frames = sim["frame_times"]
    stimulus = ProcessingModule(name="stimulus", description="Stimulus times processing")
    stimulus.add(TimeSeries(name="timestamps", data=compressed(frames), timestamps=compressed(frames), unit="s"))
    running = ProcessingModule(name="running", description="Running speed processing module")
    shared_t = TimeSeries(name="speed", data=compressed(sim["speed"]), timestamps=compressed(frames),
                          unit="cm/s", description="running speed, low-pass filtered")
    running.add(shared_t)
    running.add(TimeSeries(name="speed_unfiltered", data=compressed(sim["speed_unfiltered"]), timestamps=shared_t,
                           unit="cm/s", description="running speed, unfiltered"))
    running.add(TimeSeries(name="dx", data=compressed(sim["dx"]), timestamps=shared_t, unit="cm",
                           description="running wheel displacement per frame"))
    modules = [stimulus, running]
    licks = sim["licks"]
    if len(licks):  # as AllenSDK: no licks (a passive session), no licking module
        licking = ProcessingModule(name="licking", description="Licking behavior processing module")
        licking.add(TimeSeries(name="licks", data=licks["frame"].to_numpy(), timestamps=licks["timestamps"].to_numpy(),
                               unit="N/A", description="Timestamps and stimulus presentation frame indices for lick "
                               "events"))
        modules.append(licking)
    rewards = sim["rewards"]
    if len(rewards):
        rewards_module = ProcessingModule(name="rewards", description="Licking behavior processing module")
        reward_t = rewards["timestamps"].to_numpy()
        rewards_module.add(TimeSeries(name="volume", data=rewards["volume"].to_numpy(), timestamps=reward_t,
                                      unit="mL"))
        rewards_module.add(TimeSeries(name="autorewarded", data=rewards["auto_rewarded"].to_numpy(),
                                      timestamps=reward_t, unit="mL"))
        modules.append(rewards_module)
    return modules


def task_parameters(session_type: str, n_stimulus_frames: int) -> dict:
    """The task parameters AllenSDK stores for a session type (lists of floats as text, as in the real files).

    Examples
    --------
    >>> task_parameters("TRAINING_3_images_A_10uL_reward", 54000)["reward_volume"]
    0.01

    Taught in chapter 02_allen_loading.
    """
    kind = _stage_kind(session_type)
    return {
        "blank_duration_sec": ["0.5", "0.5"], "stimulus_duration_sec": 0.25,
        "omitted_flash_fraction": 0.05 if kind["omissions"] else float("nan"),
        "response_window_sec": ["0.15", "0.75"], "reward_volume": kind["reward_ml"],
        "auto_reward_volume": AUTO_ML, "session_type": session_type,
        "stimulus": "grating" if kind["gratings"] else "images", "stimulus_distribution": "geometric",
        "task": "change detection", "n_stimulus_frames": int(n_stimulus_frames),
        "stimulus_name": image_stimulus_name(session_type),
    }


def parse_text_list(text: str) -> list[str]:
    """Parse the table's list-as-text columns (``"['Sst-IRES-Cre']"``) without executing anything."""
    return [item.strip().strip("'\"") for item in str(text).strip("[]").split(",") if item.strip()]


# ------------------------------------------------------------------------------------------- project
def _weekdays(start: datetime, n: int, rng: np.random.Generator) -> list[datetime]:
    days, day = [], start
    while len(days) < n:
        if day.weekday() < 5 and rng.random() > 0.05:
            days.append(day + timedelta(minutes=float(rng.uniform(-90, 90))))
        day += timedelta(days=1)
    return days


def write_demo_project(out_dir: Path, seed: int = 0, n_mice: int = 3) -> None:
    """Write a small simulated Visual Behavior project (session table + one behaviour NWB per session).

    Parameters
    ----------
    out_dir : Path
        Folder to write into (created if needed).
    seed : int, default 0
        Random seed: the same seed writes the same project.
    n_mice : int, default 3
        Number of mice; cre lines cycle through Slc17a7 (images A), Sst (B) and Vip (G).

    Returns
    -------
    None
        Writes ``project_metadata/behavior_session_table.csv``, ``behavior_sessions/*.nwb`` and
        ``demo_ground_truth.csv`` (per session: ``dprime_true``, ``criterion_true``, ``satiation_s``).

    Examples
    --------
    >>> write_demo_project(Path("demo_allen"), seed=0, n_mice=1)   # doctest: +SKIP

    Taught in chapter 02_allen_loading.
    """
    if n_mice < 1:
        raise ValueError(f"n_mice must be >= 1, got {n_mice}")
    out_dir = Path(out_dir)
    (out_dir / "project_metadata").mkdir(parents=True, exist_ok=True)
    (out_dir / "behavior_sessions").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    session_id = 1_000_000_000 + 1_000 * seed
    for m in range(n_mice):
        session_id = _write_mouse_sessions(out_dir, m, seed, session_id, rng, rows, truth)
    pd.DataFrame(rows).to_csv(out_dir / "project_metadata" / "behavior_session_table.csv", index=False)
    pd.DataFrame(truth).to_csv(out_dir / GROUND_TRUTH_FILE, index=False)


def _write_mouse_sessions(out_dir: Path, m: int, seed: int, session_id: int, rng, rows: list, truth: list) -> int:
    """Simulate and write mouse ``m``'s training history; append table and truth rows; return the last id."""
    cre, reporter, driver, genotype, project, train_set, d_max = CRE_LINES[m % len(CRE_LINES)]
    novel_set = NOVEL_SET[train_set]
    mouse = {"mouse_id": 600_000 + 1_000 * seed + 17 * m + int(rng.integers(0, 10)), "index": m, "cre": cre,
             "reporter": reporter, "driver": driver, "genotype": genotype, "project": project}
    d_max = d_max + rng.normal(0, 0.2)
    k_half = rng.uniform(3.0, 5.0)
    plan = []
    for template, (low, high), duration in STAGE_PLAN:
        for _ in range(int(rng.integers(low, high + 1))):
            plan.append((template.format(train=train_set, novel=novel_set), duration))
    dates = _weekdays(datetime(2019, 3, 4, 13, 0, tzinfo=timezone.utc) + timedelta(days=9 * m), len(plan), rng)
    mouse["first_age"], mouse["first_date"] = int(rng.integers(65, 85)), dates[0]
    history = {"type": {}, "set": {}, "omissions": 0}  # prior exposures to session types, image sets, omissions
    task_index = 0
    seen_images: set[str] = set()
    for (session_type, duration), date in zip(plan, dates, strict=False):
        session_id += int(rng.integers(1, 50))
        kind = _stage_kind(session_type)
        parts = session_type.split("_")
        ophys = session_type.startswith("OPHYS")
        novel = ophys and int(parts[1]) >= 4
        d_true = d_max / (1 + np.exp(-(task_index - k_half) / 1.5)) * (0.8 if novel else 1.0)
        c_true = -0.6 + 0.5 * min(task_index / 10, 1.0)
        satiation = duration * rng.uniform(0.55, 0.9)
        abort_p = 0.35 * np.exp(-task_index / 5) + 0.08
        images = IMAGE_SETS[parts[3]] if not kind["gratings"] else []
        sim = simulate_session(session_type, duration, d_true, c_true, satiation, abort_p, images, rng,
                               prior_images=seen_images)
        shown = sim["presentations"]["image_name"].dropna()
        seen_images |= set(shown[shown != "omitted"])
        if not kind["autorewards_only"]:
            task_index += 1
        row = _session_row(mouse, session_id, session_type, kind, date, history, rng)
        history["type"][session_type] = history["type"].get(session_type, 0) + 1
        history["set"][row["image_set"]] = history["set"].get(row["image_set"], 0) + 1
        history["omissions"] += int(kind["omissions"])
        task = task_parameters(session_type, len(sim["frame_times"]))
        write_behavior_nwb(out_dir / row["file_path"], pd.Series(row), sim, task)
        rows.append(row)
        truth.append({"behavior_session_id": session_id, "mouse_id": mouse["mouse_id"], "session_type": session_type,
                      "dprime_true": 0.0 if kind["passive"] else d_true, "criterion_true": c_true,
                      "satiation_s": satiation, "duration_s": duration})
    return session_id


def _session_row(mouse: dict, session_id: int, session_type: str, kind: dict, date: datetime, history: dict,
                 rng) -> dict:
    """One row of the behaviour session table, with AllenSDK's columns (``history``: exposures so far)."""
    parts = session_type.split("_")
    image_set = "gratings" if kind["gratings"] else f"images_{parts[3]}"
    ophys = session_type.startswith("OPHYS")
    number = int(parts[1])
    experience = ("Training" if not ophys else "Familiar" if number < 4
                  else "Novel 1" if history["set"].get(image_set, 0) == 0 else "Novel >1")
    has_ophys = ophys and number >= 1
    mouse_id, reporter, project, m = mouse["mouse_id"], mouse["reporter"], mouse["project"], mouse["index"]
    return {
        "behavior_session_id": session_id,
        "ophys_session_id": float(session_id + 7) if has_ophys else np.nan,
        "ophys_container_id": f"[{1_100_000_000 + mouse_id}]" if has_ophys else np.nan,
        "mouse_id": mouse_id, "indicator": "GCaMP6f" if "Ai148" in reporter or "Ai93" in reporter else "",
        "full_genotype": mouse["genotype"], "driver_line": mouse["driver"], "cre_line": mouse["cre"],
        "reporter_line": reporter,
        "sex": "MF"[int(rng.integers(0, 2))], "age_in_days": mouse["first_age"] + (date - mouse["first_date"]).days,
        "project_code": project, "session_type": session_type,
        "session_number": float(number) if ophys else np.nan, "image_set": image_set,
        "behavior_type": "passive_viewing" if kind["passive"] else "active_behavior",
        "experience_level": experience,
        "prior_exposures_to_session_type": history["type"].get(session_type, 0),
        "prior_exposures_to_image_set": np.nan if kind["gratings"] else float(history["set"].get(image_set, 0)),
        "prior_exposures_to_omissions": history["omissions"],
        "date_of_acquisition": date.isoformat(sep=" ", timespec="microseconds"),
        "equipment_name": ("CAM2P.3" if project != "VisualBehaviorMultiscope4areasx2d" else "MESO.1")
        if ophys else f"BEH.{'BDF'[m % 3]}-Box{1 + m % 4}",
        "imaging_plane_group_count": np.nan, "num_depths_per_area": np.nan,
        "num_targeted_structures": 1.0 if has_ophys else np.nan,
        "ophys_experiment_id": f"[{session_id + 11}]" if has_ophys else np.nan,
        "file_id": -999,
        "file_path": f"behavior_sessions/behavior_session_{session_id}.nwb",
    }


def load_ground_truth(folder: str | Path) -> dict:
    """The model mouse's truth of a demo project: ``{"sessions": table}``, one row per session.

    The table (indexed by ``behavior_session_id``) has ``mouse_id``, ``session_type``, ``dprime_true``,
    ``criterion_true``, ``satiation_s`` and ``duration_s``. Only demo data have it; real data raise a clear
    ``FileNotFoundError``.

    Examples
    --------
    >>> truth = load_ground_truth(get_source("allen_visual_behavior"))   # doctest: +SKIP
    >>> truth["sessions"]["dprime_true"].max() > 1                       # doctest: +SKIP
    True

    Taught in chapter 05_allen_behavior_analysis.
    """
    path = Path(folder) / GROUND_TRUTH_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: only the simulated demo project has a ground truth "
                                "(real sessions do not). Use mode='demo' to compare with it.")
    return {"sessions": pd.read_csv(path, index_col="behavior_session_id")}


write_demo = write_demo_project  # the name the source interface registers (course_utils.sources)
