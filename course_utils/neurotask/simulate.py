"""Simulated NeuroTask data: files in the real layouts, from a population with known tuning.

The files follow the real ones (``shared/docs/REAL_FILES.md``), not the other way round:

* ``2_10_Simulated_CObump.parquet`` has exactly the series of DANDI 001056 (``hand_pos_x/y``,
  ``hand_vel_x/y``, ``bump_dir``, ``target_dir``; events ``EventTarget_Onset``, ``EventGo_cue``,
  ``EventBump``; no force, no movement events), in the real parquet's column order and dtypes (neuron columns
  uint8 where every session recorded the unit, float64 with NaN padding elsewhere; ``trial_id`` float64);
  ``001056/sub-Animal-1-&-2/sub-Animal-1-&-2.nwb`` is its NWB twin with exactly 001056's series list
  (float counts, ``result`` as bytes, no ``task`` series);
* ``1_20_Simulated_RandomTarget.parquet`` has no event column at all, like DANDI 001055 and 001057
  (cursor and finger positions, cursor velocity, target positions);
* ``6_1_Simulated_Maze.parquet`` is a 1 ms Maze-like file: float counts, ``cursor_vel_x/y`` only (no hand
  velocity), events ``EventGo_cue``, ``EventMovement_start``, ``EventMovement_end`` (no target onset), ids
  stored as uint16, sessions numbered 4 and 5, trial ids from 0;
* ``4_10_Simulated_KeyGrasp.parquet`` is a Key-Grasp-like file: ``force_x/y`` and ``target_dir``, no
  velocity at all.

Angles (``target_dir``, ``bump_dir``) are in radians, as in the real files.

The model (the *ground truth* that the chapters recover):

* **Behaviour.** Each trial is a minimum-jerk movement: center-out to one of 8 targets (with a velocity
  *bump* during the delay in some CO-bump trials), sequential reaches to random targets, curved maze reaches,
  or a grasp whose 2-D force moves toward the target direction. Events follow the real order; reaction times
  are gamma-distributed and differ between animals; outcomes (``R``/``F``/``I``/``A``) differ between sessions.
  Aborted trials end before the go cue, incomplete ones stop half-way, failed ones go the wrong way.
* **Neurons.** Poisson counts with rate
  ``baseline_hz * exp(depth * speed / v_ref * cos(direction - preferred_direction))`` evaluated on the
  movement's velocity (hand, cursor, or rate of change of force) ``lag_ms`` *later* (motor cortex leads
  movement), times a transient after target onset for some neurons. Each session has its own population and
  neuron count; the file's extra columns are NaN.

:func:`write_demo_dataset` writes the demo folder; :func:`simulate_dataset` returns one dataset in memory
(the benchmarks use it). The tuning parameters are stored in ``SIMULATOR_GROUND_TRUTH.json``: a file of this
simulator only, real NeuroTask has nothing like it. Read it with :func:`load_ground_truth`.

Taught in chapter 01_neurotask_loading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ..fileio import read_json
from .schema import EVENT_PREFIX, ID_COLUMNS, NEURON_PREFIX, is_neuron

# The demo cache key is this module's source and this number: bump it when a module this one relies on changes
# what is written (see course_utils.data.demo).
SIMULATOR_VERSION = 1

GROUND_TRUTH_FILE = "SIMULATOR_GROUND_TRUTH.json"
NWB_TWIN = "001056/sub-Animal-1-&-2/sub-Animal-1-&-2.nwb"
V_REF_CM_S = 30.0  # speed at which the log-rate changes by `depth`
LAG_MS = 100.0  # neurons lead the velocity they encode by this much
TARGET_RADIUS_CM = 8.0
FORCE_PER_CM = 0.5  # Key Grasp: force (a.u.) per cm of the latent movement


@dataclass(frozen=True)
class DatasetSpec:
    """One simulated NeuroTask dataset (one parquet file).

    ``sessions`` lists ``(animal, session, n_trials, (min_neurons, max_neurons))``. ``first_trial_id`` is
    the id of each session's first trial (1 in CO-bump, 0 in the Maze files); ``id_dtype`` the dtype of
    ``datasetID``, ``animal`` and ``session`` in the file (int64, uint16 in the Maze files).
    """

    dataset_id: int
    bin_ms: int
    name: str
    file_task: str
    task: str
    sessions: tuple[tuple[int, int, int, tuple[int, int]], ...]
    result_probs: tuple[tuple[str, float], ...]
    first_trial_id: int = 1
    id_dtype: str = "int64"

    @property
    def file_name(self) -> str:
        return f"{self.dataset_id}_{self.bin_ms}_{self.name}_{self.file_task}.parquet"


DEMO_SPECS = (
    DatasetSpec(
        2,
        10,
        "Simulated",
        "CObump",
        "CenterOut_Bump",
        ((1, 1, 90, (40, 60)), (1, 2, 90, (40, 60)), (2, 1, 80, (30, 50)), (2, 2, 80, (30, 50))),
        (("R", 0.75), ("F", 0.07), ("I", 0.06), ("A", 0.12)),
    ),
    DatasetSpec(
        1,
        20,
        "Simulated",
        "RandomTarget",
        "RandomTarget",
        ((1, 1, 150, (60, 80)), (2, 1, 140, (50, 70))),
        (("R", 0.92), ("F", 0.08)),
    ),
    DatasetSpec(
        6,
        1,
        "Simulated",
        "Maze",
        "Maze",
        ((1, 4, 30, (28, 34)), (1, 5, 30, (28, 34))),
        (("R", 0.80), ("F", 0.10), ("A", 0.10)),
        first_trial_id=0,
        id_dtype="uint16",
    ),
    DatasetSpec(
        4,
        10,
        "Simulated",
        "KeyGrasp",
        "KeyGrasp",
        ((1, 1, 80, (40, 50)), (1, 2, 80, (40, 50))),
        (("R", 0.8), ("F", 0.1), ("A", 0.1)),
    ),
)

# The series each family of real files has (REAL_FILES.md), in the real parquet's column order: the
# covariates before `result`, those after it, then the events. Ids and neurons are placed around them.
LAYOUTS = {
    # DANDI 001056 and 2_10_Chowdhury_CObump.parquet
    "CenterOut_Bump": (
        ("hand_pos_x", "hand_pos_y", "hand_vel_x", "hand_vel_y"),
        ("bump_dir", "target_dir"),
        ("EventTarget_Onset", "EventGo_cue", "EventBump"),
    ),
    # DANDI 001055
    "RandomTarget": (
        ("cursor_pos_x", "cursor_pos_y", "cursor_vel_x", "cursor_vel_y"),
        ("finger_pos_x", "finger_pos_y", "finger_pos_z", "target_pos_x", "target_pos_y"),
        (),
    ),
    # DANDI 001057, kind (a)
    "CenterOut": (("hand_vel_x", "hand_vel_y"), ("target_dir",), ()),
    # 6_1_Churchland4_Maze.parquet
    "Maze": (("cursor_vel_x", "cursor_vel_y"), (), ("EventGo_cue", "EventMovement_start", "EventMovement_end")),
    # DANDI 001059
    "KeyGrasp": (("force_x", "force_y"), ("target_dir",), ("EventGo_cue", "EventMovement_start", "EventTarget_Onset")),
}
# The parquet puts the events before the ids in the CO-bump file (upstream tutorial's printout) and after
# them in the Maze file (REAL_FILES.md); loaders accept both.
EVENTS_BEFORE_IDS = ("CenterOut_Bump",)
EVENT_KEYS = {
    "EventTarget_Onset": "target",
    "EventBump": "bump",
    "EventGo_cue": "go",
    "EventMovement_start": "mstart",
    "EventMovement_end": "mend",
}


# ----------------------------------------------------------------------------------------- trials


def _draw_trial(
    rng: np.random.Generator, task: str, result: str, start_pos: np.ndarray, rt_mean_ms: float
) -> dict:
    """Times (ms from trial start), positions and labels of one trial; NaN for events that do not happen."""
    t = {"target": np.nan, "bump": np.nan, "go": np.nan, "mstart": np.nan, "mend": np.nan}
    info: dict = {"p0": start_pos.copy(), "curve_cm": 0.0, "bump_dir": np.nan, "stop_fraction": 1.0}
    rt = rt_mean_ms * 0.6 + rng.gamma(4.0, rt_mean_ms * 0.1)
    duration = rng.uniform(350, 550)
    if task == "RandomTarget":
        t["target"] = rng.uniform(50, 150)
        target = rng.uniform(-10, 10, size=2)
        while np.linalg.norm(target - start_pos) < 3:
            target = rng.uniform(-10, 10, size=2)
        info["target_pos"] = target
        aim = target if result == "R" else start_pos + 0.6 * (target - start_pos)
        t["mstart"] = t["target"] + rt
        t["mend"] = t["mstart"] + duration
        length = t["mend"] + rng.uniform(100, 300)
        info["p1"] = aim
        return {"times": t, "length": length, "duration": duration, **info}
    target_id = int(rng.integers(1, 9))
    target_dir = (target_id - 1) * np.pi / 4  # radians, as in the real files
    info["target_ID"], info["target_dir"] = target_id, target_dir
    angle = target_dir if result != "F" else target_dir + rng.choice([-np.pi / 4, np.pi / 4])
    info["p0"] = np.zeros(2)
    info["p1"] = TARGET_RADIUS_CM * np.array([np.cos(angle), np.sin(angle)])
    info["target_pos"] = TARGET_RADIUS_CM * np.array([np.cos(target_dir), np.sin(target_dir)])
    t["target"] = rng.uniform(200, 400)
    delay = rng.uniform(600, 1000)
    if task == "CenterOut_Bump" and rng.random() < 0.4:
        t["bump"] = t["target"] + rng.uniform(100, 300)
        info["bump_dir"] = float(rng.integers(0, 8) * np.pi / 4)
    if task == "Maze":
        barriers = int(rng.integers(0, 4))
        info["curve_cm"] = 1.5 * barriers * rng.choice([-1.0, 1.0])
        duration *= 1.0 + 0.15 * barriers
    if result == "A":  # aborted during the delay: no go cue, no movement
        length = t["target"] + rng.uniform(0.2, 0.9) * delay
        t["bump"] = t["bump"] if t["bump"] + 260 < length else np.nan
        info["bump_dir"] = info["bump_dir"] if np.isfinite(t["bump"]) else np.nan
        return {"times": t, "length": length, "duration": duration, **info}
    t["go"] = t["target"] + delay
    t["mstart"] = t["go"] + rt
    if result == "I":  # starts, stops half-way: no movement end
        info["stop_fraction"] = 0.5
        length = t["mstart"] + 0.6 * duration + rng.uniform(100, 300)
    else:
        t["mend"] = t["mstart"] + duration
        length = t["mend"] + rng.uniform(200, 400)
    return {"times": t, "length": length, "duration": duration, **info}


def _kinematics(trial: dict, t_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position (cm) and velocity (cm/s) of a trial at times ``t_ms`` (minimum-jerk movement + bump)."""
    p0, p1 = trial["p0"], trial["p1"]
    pos = np.repeat(p0[None, :], len(t_ms), axis=0).astype(float)
    vel = np.zeros_like(pos)
    t0, dur = trial["times"]["mstart"], trial["duration"]
    if np.isfinite(t0):
        s = np.clip((t_ms - t0) / dur, 0.0, 1.0)
        if trial["stop_fraction"] < 1.0:  # incomplete: freeze half-way along the path
            s = np.minimum(s, 0.5)
        inside = (s > 0) & (s < (0.5 if trial["stop_fraction"] < 1.0 else 1.0))
        f = 10 * s**3 - 15 * s**4 + 6 * s**5
        dfdt = np.where(inside, (30 * s**2 - 60 * s**3 + 30 * s**4) / dur * 1000.0, 0.0)  # 1/s
        step = p1 - p0
        perp = np.array([-step[1], step[0]]) / max(np.linalg.norm(step), 1e-9)
        c = trial["curve_cm"]
        pos += f[:, None] * step + (c * np.sin(np.pi * f))[:, None] * perp
        vel += dfdt[:, None] * (step + (c * np.pi * np.cos(np.pi * f))[:, None] * perp)
    tb = trial["times"]["bump"]
    if np.isfinite(tb):  # one sine period of velocity: out and back, 250 ms, 15 cm/s peak
        period, amp = 250.0, 15.0
        u = np.clip((t_ms - tb) / period, 0.0, 1.0)
        direction = np.array([np.cos(trial["bump_dir"]), np.sin(trial["bump_dir"])])
        on = (u > 0) & (u < 1)
        vel += (amp * np.sin(2 * np.pi * u) * on)[:, None] * direction
        pos += (amp * period / (2 * np.pi) / 1000.0 * (1 - np.cos(2 * np.pi * u)))[:, None] * direction
    return pos, vel


# ----------------------------------------------------------------------------------------- one dataset


def _population(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "baseline_hz": np.exp(rng.normal(np.log(15.0), 0.5, n)).clip(3.0, 60.0),
        "modulation_depth": rng.uniform(0.5, 1.5, n) * (rng.random(n) > 0.1),  # ~10 % untuned
        "preferred_direction_rad": rng.uniform(-np.pi, np.pi, n),
        "target_response_gain": rng.uniform(0.5, 1.5, n) * (rng.random(n) < 0.3),
    }


def _simulate_session(
    rng: np.random.Generator, spec: DatasetSpec, animal: int, session: int, n_trials: int, n_neurons: int
) -> tuple[dict[str, np.ndarray], dict]:
    """Every quantity of one session (more than any file holds); :func:`simulate_dataset` picks the layout's."""
    bin_ms = float(spec.bin_ms)
    codes, probs = zip(*spec.result_probs, strict=True)
    probs = np.asarray(probs) * rng.uniform(0.7, 1.3, len(probs))  # outcome rates differ between sessions
    probs[0] = max(probs[0], 0.5)
    results = rng.choice(codes, size=n_trials, p=probs / probs.sum())
    rt_mean_ms = 240.0 + 40.0 * (animal - 1) + rng.normal(0, 10)
    pop = _population(rng, n_neurons)

    parts: dict[str, list] = {k: [] for k in ("trial_id", "result", "pos", "vel", "lead_vel", "transient")}
    parts.update({k: [] for k in ("target_dir", "target_ID", "bump_dir", "target_pos")})
    events: dict[str, list] = {name: [] for name in EVENT_KEYS}
    pos_now = np.zeros(2)
    for i, result in enumerate(results):
        trial = _draw_trial(rng, spec.task, str(result), pos_now, rt_mean_ms)
        n_bins = int(np.ceil(trial["length"] / bin_ms))
        t_ms = np.arange(n_bins) * bin_ms
        pos, vel = _kinematics(trial, t_ms)
        _, lead = _kinematics(trial, t_ms + LAG_MS)
        pos_now = pos[-1] if spec.task == "RandomTarget" else pos_now
        rel = t_ms - trial["times"]["target"]
        parts["transient"].append(np.exp(-0.5 * ((rel - 120.0) / 60.0) ** 2))
        parts["trial_id"].append(np.full(n_bins, float(i + spec.first_trial_id)))
        parts["result"].append(np.full(n_bins, str(result), dtype=object))
        parts["pos"].append(pos)
        parts["vel"].append(vel)
        parts["lead_vel"].append(lead)
        parts["target_dir"].append(np.full(n_bins, trial.get("target_dir", np.nan)))
        parts["target_ID"].append(np.full(n_bins, float(trial.get("target_ID", np.nan))))
        parts["bump_dir"].append(np.full(n_bins, trial["bump_dir"]))
        parts["target_pos"].append(np.repeat(trial["target_pos"][None, :], n_bins, axis=0))
        for name, flags in events.items():
            column = np.zeros(n_bins, dtype=bool)
            when = trial["times"][EVENT_KEYS[name]]
            if np.isfinite(when):
                column[min(int(when // bin_ms), n_bins - 1)] = True
            flags.append(column)

    vel = np.concatenate(parts["vel"])
    lead = np.concatenate(parts["lead_vel"])
    speed = np.hypot(lead[:, 0], lead[:, 1])
    direction = np.arctan2(lead[:, 1], lead[:, 0])
    log_rate = np.log(pop["baseline_hz"])[None, :] + pop["modulation_depth"][None, :] * (speed / V_REF_CM_S)[
        :, None
    ] * np.cos(direction[:, None] - pop["preferred_direction_rad"][None, :])
    rate_hz = np.exp(log_rate) * (
        1.0 + np.concatenate(parts["transient"])[:, None] * pop["target_response_gain"]
    )
    counts = rng.poisson(rate_hz * bin_ms / 1000.0)

    n_rows = len(vel)
    pos = np.concatenate(parts["pos"]) + rng.normal(0, 0.02, (n_rows, 2))
    vel = vel + rng.normal(0, 0.5, (n_rows, 2))
    target_pos = np.concatenate(parts["target_pos"])
    columns: dict[str, np.ndarray] = {"counts": counts}
    columns.update(
        datasetID=np.full(n_rows, spec.dataset_id, dtype=np.int64),
        animal=np.full(n_rows, animal, dtype=np.int64),
        session=np.full(n_rows, session, dtype=np.int64),
        trial_id=np.concatenate(parts["trial_id"]),
        task=np.full(n_rows, spec.task, dtype=object),
        result=np.concatenate(parts["result"]),
        target_dir=np.concatenate(parts["target_dir"]),
        target_ID=np.concatenate(parts["target_ID"]),
        bump_dir=np.concatenate(parts["bump_dir"]),
        target_pos_x=target_pos[:, 0],
        target_pos_y=target_pos[:, 1],
    )
    for body in ("hand", "cursor"):
        columns[f"{body}_pos_x"], columns[f"{body}_pos_y"] = pos[:, 0], pos[:, 1]
        columns[f"{body}_vel_x"], columns[f"{body}_vel_y"] = vel[:, 0], vel[:, 1]
    finger = pos + rng.normal(0, 0.05, (n_rows, 2))
    columns["finger_pos_x"], columns["finger_pos_y"] = finger[:, 0], finger[:, 1]
    columns["finger_pos_z"] = rng.normal(0, 0.05, n_rows)
    force = FORCE_PER_CM * pos + rng.normal(0, 0.02, (n_rows, 2))
    columns["force_x"], columns["force_y"] = force[:, 0], force[:, 1]
    for name, flags in events.items():
        columns[name] = np.concatenate(flags)
    truth = {
        "animal": animal,
        "session": session,
        "n_neurons": n_neurons,
        "mean_reaction_time_ms": rt_mean_ms,
    }
    truth.update({k: np.round(v, 6).tolist() for k, v in pop.items()})
    return columns, truth


def _file_columns(task: str, n_neurons: int) -> list[str]:
    """The columns of a file of this family, in the real parquet's order."""
    before, after, events = LAYOUTS[task]
    neurons = [f"{NEURON_PREFIX}{j + 1}" for j in range(n_neurons)]
    ids = ["datasetID", "session", "animal", "task"]
    middle = ["trial_id", *before, "result", *after]
    if task in EVENTS_BEFORE_IDS:
        return neurons + middle + list(events) + ids
    return neurons + middle + ids + list(events)


def simulate_dataset(spec: DatasetSpec, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Simulate one NeuroTask dataset (all its animals and sessions) in memory, as its file holds it.

    Parameters
    ----------
    spec
        What to simulate (see :data:`DEMO_SPECS`; ``spec.task`` picks the layout in :data:`LAYOUTS`).
    seed
        Random seed; the same seed gives the same table.

    Returns
    -------
    df : pandas.DataFrame
        The table as the parquet file stores it: the real column order, neuron columns uint8 where every
        session has the unit and float64 with NaN padding elsewhere (float64 throughout for 1 ms files, whose
        real counts are floats), ids in ``spec.id_dtype``, ``trial_id`` float64. The loaders return it in
        the course's schema (:func:`~course_utils.neurotask.schema.as_schema`).
    truth : dict
        Ground truth: bin size, lag, reference speed and, per session, each neuron's tuning.

    Examples
    --------
    >>> spec = DatasetSpec(2, 10, "Simulated", "CObump", "CenterOut_Bump", ((1, 1, 5, (4, 4)),), (("R", 1.0),))
    >>> df, truth = simulate_dataset(spec)
    >>> truth["sessions"][0]["n_neurons"], df["result"].unique().tolist(), [c for c in df if c.startswith("Event")]
    (4, ['R'], ['EventTarget_Onset', 'EventGo_cue', 'EventBump'])

    Taught in chapter 01_neurotask_loading.
    """
    if spec.task not in LAYOUTS:
        raise ValueError(f"Unknown task {spec.task!r}: the simulator writes the layouts {sorted(LAYOUTS)}.")
    rng = np.random.default_rng([seed, spec.dataset_id, spec.bin_ms])
    sessions, truths = [], []
    for animal, session, n_trials, (lo, hi) in spec.sessions:
        n_neurons = int(rng.integers(lo, hi + 1))
        columns, truth = _simulate_session(rng, spec, animal, session, n_trials, n_neurons)
        sessions.append(columns)
        truths.append(truth)
    width = max(s["counts"].shape[1] for s in sessions)
    counts = np.concatenate(
        [
            np.pad(s["counts"].astype(np.float64), ((0, 0), (0, width - s["counts"].shape[1])), constant_values=np.nan)
            for s in sessions
        ]
    )
    frame: dict[str, np.ndarray] = {}
    for name in _file_columns(spec.task, width):
        if is_neuron(name):
            values = counts[:, int(name[len(NEURON_PREFIX) :]) - 1]
            # as pandas writes per-session tables concatenated: uint8 unless padded (or a 1 ms float file)
            small = spec.bin_ms > 1 and not np.isnan(values).any() and values.max() < 256
            frame[name] = values.astype(np.uint8) if small else values
        elif name in ("datasetID", "animal", "session"):
            frame[name] = np.concatenate([s[name] for s in sessions]).astype(spec.id_dtype)
        else:
            frame[name] = np.concatenate([s[name] for s in sessions])
    df = pd.DataFrame(frame)
    df["task"] = df["task"].astype(str)
    df["result"] = df["result"].astype(str)
    velocity = [c for c in df.columns if c.endswith(("_vel_x", "_vel_y"))]
    truth = {
        "file": spec.file_name,
        "datasetID": spec.dataset_id,
        "task": spec.task,
        "bin_ms": spec.bin_ms,
        "lag_ms": LAG_MS,
        "v_ref_cm_s": V_REF_CM_S,
        "velocity_columns": velocity,
        "encoded_variable": "velocity" if velocity else "rate of change of force (force_x/y / FORCE_PER_CM)",
        "rate_model": "baseline_hz * exp(depth * speed(t+lag)/v_ref * cos(dir(t+lag) - preferred_direction_rad))"
        " * (1 + target_response_gain * exp(-((t - t_target - 120 ms)/60 ms)^2 / 2))",
        "sessions": truths,
    }
    return df, truth


# ----------------------------------------------------------------------------------------- files


def write_nwb_twin(
    df: pd.DataFrame,
    bin_ms: float,
    path: str | Path,
    session_description: str,
    extra_events: dict[str, np.ndarray] | None = None,
) -> Path:
    """Write a table as a NeuroTask NWB file in the DANDI layout.

    Modules as in the real files: ``behavior`` (the covariates), ``events`` (the events, as booleans, and
    ``result`` as bytes), ``indices`` (``animal``, ``datasetID``, ``session``, ``trial_id``) and ``spikes``
    (``spikes_counts``, float counts with NaN for absent units, rate 1000/bin_ms). Like the real files there
    is no ``task`` series and units have no names. ``extra_events`` adds series to ``events`` (DANDI 001059
    has a ``trials_id`` series there).

    Examples
    --------
    >>> write_nwb_twin(df, 10.0, "twin.nwb", "CenterOut_Bump")   # doctest: +SKIP

    Taught in chapter 01_neurotask_loading.
    """
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries

    rate = 1000.0 / float(bin_ms)
    nwbfile = NWBFile(
        session_description=session_description,
        identifier=f"neurotask-simulated-{session_description}",
        session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc),
        notes="Simulated by course_utils.neurotask.simulate (not real data).",
    )
    modules = {
        name: nwbfile.create_processing_module(name, description)
        for name, description in (
            ("behavior", "behavioural covariates, one value per time bin"),
            ("events", "trial events (True in the bin where they happen) and trial result"),
            ("indices", "dataset, animal, session and trial indices per time bin"),
            ("spikes", "binned spike counts"),
        )
    }

    def add(module: str, name: str, data: np.ndarray, unit: str) -> None:
        if data.ndim == 2:  # the big one: compress it (real files are compressed too)
            data = H5DataIO(
                data, compression="gzip", compression_opts=4, chunks=(min(len(data), 8192), data.shape[1])
            )
        modules[module].add(TimeSeries(name=name, data=data, unit=unit, rate=rate, starting_time=0.0))

    neurons = [c for c in df.columns if is_neuron(c)]
    add("spikes", "spikes_counts", df[neurons].to_numpy(dtype=np.float64), "spikes")
    for name in ("animal", "datasetID", "session", "trial_id"):
        values = df[name].to_numpy()
        add("indices", name, values.astype(np.float64 if name == "trial_id" else np.int64), "n.a.")
    add("events", "result", df["result"].to_numpy().astype("S1"), "n.a.")
    for name, values in (extra_events or {}).items():
        add("events", name, np.asarray(values), "n.a.")
    for name in df.columns:
        if is_neuron(name) or name in ID_COLUMNS:
            continue
        if name.startswith(EVENT_PREFIX):
            add("events", name, df[name].to_numpy(dtype=bool), "n.a.")
        else:
            unit = "rad" if name.endswith("_dir") else "cm" if "pos" in name else "a.u."
            add("behavior", name, df[name].to_numpy(dtype=np.float64), unit)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def write_demo_dataset(out_dir: Path, seed: int = 0) -> None:
    """Write the NeuroTask demo folder: four parquet datasets, one NWB twin and the ground truth.

    Files (names as the real ones, ``{datasetID}_{bin_ms}_{Name}_{Task}.parquet``):
    ``2_10_Simulated_CObump.parquet`` (2 animals x 2 sessions, DANDI 001056's series),
    ``1_20_Simulated_RandomTarget.parquet`` (2 animals, no events), ``6_1_Simulated_Maze.parquet`` (1 ms,
    sessions 4 and 5, cursor velocity, go cue and movement events) and ``4_10_Simulated_KeyGrasp.parquet``
    (force, no velocity); ``001056/sub-Animal-1-&-2/sub-Animal-1-&-2.nwb``, the CO-bump table in the DANDI
    NWB layout (all trials; :func:`~course_utils.neurotask.io.load_nwb` reads it to the same frame as the
    parquet file); ``SIMULATOR_GROUND_TRUTH.json``, the tuning of every simulated neuron.

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed).
    seed
        Random seed.

    Examples
    --------
    >>> write_demo_dataset(Path("demo"), seed=0)          # doctest: +SKIP

    Taught in chapter 01_neurotask_loading.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    truth = {
        "about": "Ground truth of course_utils.neurotask.simulate (simulated data only; real NeuroTask has no "
        "such file).",
        "seed": seed,
        "datasets": {},
    }
    for spec in DEMO_SPECS:
        df, dataset_truth = simulate_dataset(spec, seed=seed)
        df.to_parquet(out_dir / spec.file_name, index=False, compression="zstd", row_group_size=50_000)
        truth["datasets"][spec.file_name] = dataset_truth
        if spec.task == "CenterOut_Bump":
            write_nwb_twin(df, spec.bin_ms, out_dir / NWB_TWIN, spec.task)
    (out_dir / GROUND_TRUTH_FILE).write_text(json.dumps(truth, indent=1))


def load_ground_truth(folder: str | Path) -> dict:
    """Read ``SIMULATOR_GROUND_TRUTH.json`` from a demo folder (plain JSON: nothing is executed).

    Raises
    ------
    FileNotFoundError
        The folder has no such file: it holds real data (sample/full mode), which has no ground truth.

    Examples
    --------
    >>> truth = load_ground_truth(get_source("neurotask"))     # doctest: +SKIP
    >>> truth["datasets"]["2_10_Simulated_CObump.parquet"]["lag_ms"]   # doctest: +SKIP
    100.0

    Taught in chapter 01_neurotask_loading.
    """
    return read_json(Path(folder) / GROUND_TRUTH_FILE, fix=(
        "Only the simulated demo data have a ground truth (real recordings do not). Use mode='demo' to compare with it."))


write_demo = write_demo_dataset  # the name the source interface registers (course_utils.sources)
