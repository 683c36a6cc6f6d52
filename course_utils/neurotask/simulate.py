"""Simulated NeuroTask data: files in the real layout, from a population with known tuning.

The model (the *ground truth* that the chapters recover):

* **Behaviour.** Each trial is a reach with a minimum-jerk velocity profile: center-out to one of 8 targets,
  center-out with a velocity *bump* during the delay, sequential reaches to random targets, or curved maze
  reaches. Events follow the real order (target onset < bump < go cue < movement start < movement end);
  reaction times are gamma-distributed and differ between animals; outcomes (``R``/``F``/``I``/``A``)
  have realistic proportions that differ between sessions. Aborted trials end before the go cue,
  incomplete ones stop half-way (no movement end), failed ones reach to the wrong target.
* **Neurons.** Poisson counts with rate
  ``baseline_hz * exp(depth * speed / v_ref * cos(direction - preferred_direction))`` evaluated on the
  velocity ``lag_ms`` *later* (motor cortex leads movement), times a transient after target onset for some
  neurons. Each session has its own population and neuron count; the file's extra columns are NaN.

:func:`write_demo_dataset` writes the demo folder; :func:`simulate_dataset` returns one dataset in memory
(the benchmark uses it). The tuning parameters are stored in ``SIMULATOR_GROUND_TRUTH.json``: a file of this
simulator only, real NeuroTask has nothing like it. Read it with :func:`read_ground_truth`.

Taught in chapter 01_neurotask_loading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .io import NEURON_PREFIX, canonical_order

GROUND_TRUTH_FILE = "SIMULATOR_GROUND_TRUTH.json"
NWB_TWIN = "001056/sub-Animal-1-&-2/sub-Animal-1-&-2.nwb"
V_REF_CM_S = 30.0  # speed at which the log-rate changes by `depth`
LAG_MS = 100.0  # neurons lead the velocity they encode by this much
TARGET_RADIUS_CM = 8.0


@dataclass(frozen=True)
class DatasetSpec:
    """One simulated NeuroTask dataset (one parquet file).

    ``sessions`` lists ``(animal, session, n_trials, (min_neurons, max_neurons))``.
    """

    dataset_id: int
    bin_ms: int
    name: str
    file_task: str
    task: str
    sessions: tuple[tuple[int, int, int, tuple[int, int]], ...]
    result_probs: tuple[tuple[str, float], ...]

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
        (("R", 0.78), ("F", 0.07), ("I", 0.05), ("A", 0.10)),
    ),
    DatasetSpec(
        3,
        10,
        "Simulated",
        "CenterOut",
        "CenterOut",
        ((1, 1, 100, (50, 70)), (2, 1, 100, (40, 60)), (3, 1, 80, (45, 65))),
        (("R", 0.82), ("F", 0.06), ("I", 0.04), ("A", 0.08)),
    ),
    DatasetSpec(
        1,
        20,
        "Simulated",
        "RandomTarget",
        "RandomTarget",
        ((1, 1, 150, (60, 80)), (1, 2, 150, (60, 80))),
        (("R", 0.92), ("F", 0.08)),
    ),
    DatasetSpec(
        6,
        1,
        "Simulated",
        "Maze",
        "Maze",
        ((1, 1, 40, (30, 30)),),
        (("R", 0.85), ("F", 0.10), ("A", 0.05)),
    ),
)

EVENTS = {
    "CenterOut_Bump": (
        "EventTarget_Onset",
        "EventBump",
        "EventGo_cue",
        "EventMovement_start",
        "EventMovement_end",
    ),
    "CenterOut": ("EventTarget_Onset", "EventGo_cue", "EventMovement_start", "EventMovement_end"),
    "RandomTarget": ("EventTarget_Onset", "EventMovement_start", "EventMovement_end"),
    "Maze": ("EventTarget_Onset", "EventGo_cue", "EventMovement_start", "EventMovement_end"),
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
    else:
        target_id = int(rng.integers(1, 9))
        target_dir = (target_id - 1) * 45.0
        info["target_ID"], info["target_dir"] = target_id, target_dir
        angle = np.deg2rad(target_dir if result != "F" else target_dir + rng.choice([-45.0, 45.0]))
        info["p0"] = np.zeros(2)
        info["p1"] = TARGET_RADIUS_CM * np.array([np.cos(angle), np.sin(angle)])
        info["target_pos"] = TARGET_RADIUS_CM * np.array(
            [np.cos(np.deg2rad(target_dir)), np.sin(np.deg2rad(target_dir))]
        )
        t["target"] = rng.uniform(200, 400)
        delay = rng.uniform(600, 1000)
        if task == "CenterOut_Bump" and rng.random() < 0.4:
            t["bump"] = t["target"] + rng.uniform(100, 300)
            info["bump_dir"] = float(rng.integers(0, 8) * 45.0)
        if task == "Maze":
            info["maze_num_barriers"] = int(rng.integers(0, 4))
            info["maze_num_target"] = int(rng.integers(1, 4))
            info["maze_condition"] = int(rng.integers(1, 28))
            info["curve_cm"] = 1.5 * info["maze_num_barriers"] * rng.choice([-1.0, 1.0])
            duration *= 1.0 + 0.15 * info["maze_num_barriers"]
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
    """Hand position (cm) and velocity (cm/s) of a trial at times ``t_ms`` (minimum-jerk reach + bump)."""
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
        direction = np.array([np.cos(np.deg2rad(trial["bump_dir"])), np.sin(np.deg2rad(trial["bump_dir"]))])
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
    bin_ms = float(spec.bin_ms)
    codes, probs = zip(*spec.result_probs, strict=True)
    probs = np.asarray(probs) * rng.uniform(0.7, 1.3, len(probs))  # outcome rates differ between sessions
    probs[0] = max(probs[0], 0.5)
    results = rng.choice(codes, size=n_trials, p=probs / probs.sum())
    rt_mean_ms = 240.0 + 40.0 * (animal - 1) + rng.normal(0, 10)
    pop = _population(rng, n_neurons)
    velocity_name = "cursor" if spec.task == "RandomTarget" else "hand"

    parts: dict[str, list] = {k: [] for k in ("trial_id", "result", "pos", "vel", "lead_vel", "transient")}
    parts.update({k: [] for k in ("target_dir", "target_ID", "bump_dir", "target_pos", "maze")})
    events = {name: [] for name in EVENTS[spec.task]}
    event_key = {
        "EventTarget_Onset": "target",
        "EventBump": "bump",
        "EventGo_cue": "go",
        "EventMovement_start": "mstart",
        "EventMovement_end": "mend",
    }
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
        parts["trial_id"].append(np.full(n_bins, float(i + 1)))
        parts["result"].append(np.full(n_bins, str(result), dtype=object))
        parts["pos"].append(pos)
        parts["vel"].append(vel)
        parts["lead_vel"].append(lead)
        parts["target_dir"].append(np.full(n_bins, trial.get("target_dir", np.nan)))
        parts["target_ID"].append(np.full(n_bins, float(trial.get("target_ID", np.nan))))
        parts["bump_dir"].append(np.full(n_bins, trial["bump_dir"]))
        parts["target_pos"].append(np.repeat(trial["target_pos"][None, :], n_bins, axis=0))
        parts["maze"].append(
            np.repeat(
                [[trial.get(k, np.nan) for k in ("maze_num_target", "maze_num_barriers", "maze_condition")]],
                n_bins,
                axis=0,
            ).astype(float)
        )
        for name, flags in events.items():
            column = np.zeros(n_bins, dtype=bool)
            when = trial["times"][event_key[name]]
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
    columns: dict[str, np.ndarray] = {"counts": counts}
    columns.update(
        datasetID=np.full(n_rows, spec.dataset_id, dtype=np.int64),
        animal=np.full(n_rows, animal, dtype=np.int64),
        session=np.full(n_rows, session, dtype=np.int64),
        trial_id=np.concatenate(parts["trial_id"]),
        task=np.full(n_rows, spec.task, dtype=object),
        result=np.concatenate(parts["result"]),
    )
    columns[f"{velocity_name}_pos_x"], columns[f"{velocity_name}_pos_y"] = pos[:, 0], pos[:, 1]
    columns[f"{velocity_name}_vel_x"], columns[f"{velocity_name}_vel_y"] = vel[:, 0], vel[:, 1]
    target_pos = np.concatenate(parts["target_pos"])
    if spec.task == "CenterOut_Bump":
        force = np.gradient(vel, axis=0) * 0.02 + rng.normal(0, 0.05, (n_rows, 2))
        columns["force_x"], columns["force_y"] = force[:, 0], force[:, 1]
        columns["target_dir"] = np.concatenate(parts["target_dir"])
        columns["bump_dir"] = np.concatenate(parts["bump_dir"])
    elif spec.task == "CenterOut":
        columns["target_dir"] = np.concatenate(parts["target_dir"])
        columns["target_ID"] = np.concatenate(parts["target_ID"])
    elif spec.task == "RandomTarget":
        columns["target_pos_x"], columns["target_pos_y"] = target_pos[:, 0], target_pos[:, 1]
    else:
        maze = np.concatenate(parts["maze"])
        columns["target_pos_x"], columns["target_pos_y"] = target_pos[:, 0], target_pos[:, 1]
        columns["maze_num_target"], columns["maze_num_barriers"] = maze[:, 0], maze[:, 1]
        columns["maze_condition"] = maze[:, 2]
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


def simulate_dataset(spec: DatasetSpec, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Simulate one NeuroTask dataset (all its animals and sessions) in memory.

    Parameters
    ----------
    spec
        What to simulate (see :data:`DEMO_SPECS`).
    seed
        Random seed; the same seed gives the same table.

    Returns
    -------
    df : pandas.DataFrame
        The table exactly as :func:`~course_utils.neurotask.io.load_and_filter_parquet` returns it with
        ``exclude=None`` (neurons, ids, covariates, events; NaN-padded neuron columns when sessions differ).
    truth : dict
        Ground truth: bin size, lag, reference speed and, per session, each neuron's tuning.

    Examples
    --------
    >>> spec = DatasetSpec(3, 10, "Simulated", "CenterOut", "CenterOut", ((1, 1, 5, (4, 4)),), (("R", 1.0),))
    >>> df, truth = simulate_dataset(spec)
    >>> truth["sessions"][0]["n_neurons"], df["result"].unique().tolist()
    (4, ['R'])

    Taught in chapter 01_neurotask_loading.
    """
    rng = np.random.default_rng([seed, spec.dataset_id, spec.bin_ms])
    sessions, truths = [], []
    for animal, session, n_trials, (lo, hi) in spec.sessions:
        n_neurons = int(rng.integers(lo, hi + 1))
        columns, truth = _simulate_session(rng, spec, animal, session, n_trials, n_neurons)
        sessions.append(columns)
        truths.append(truth)
    width = max(s["counts"].shape[1] for s in sessions)
    padded = len({s["counts"].shape[1] for s in sessions}) > 1
    counts = (
        np.concatenate(
            [
                np.pad(
                    s["counts"].astype(np.float64),
                    ((0, 0), (0, width - s["counts"].shape[1])),
                    constant_values=np.nan,
                )
                for s in sessions
            ]
        )
        if padded
        else np.concatenate([s["counts"] for s in sessions])
    )
    if not padded:  # one population size: small integer counts, as in the real 1 ms files
        counts = counts.astype(np.uint8) if counts.max() < 256 else counts.astype(np.float64)
    frame = {f"{NEURON_PREFIX}{j + 1}": counts[:, j] for j in range(width)}
    for key in sessions[0]:
        if key != "counts":
            frame[key] = np.concatenate([s[key] for s in sessions])
    df = pd.DataFrame(frame)[canonical_order(frame)]
    df["task"] = df["task"].astype(str)
    df["result"] = df["result"].astype(str)
    truth = {
        "file": spec.file_name,
        "datasetID": spec.dataset_id,
        "task": spec.task,
        "bin_ms": spec.bin_ms,
        "lag_ms": LAG_MS,
        "v_ref_cm_s": V_REF_CM_S,
        "velocity_columns": [c for c in df.columns if c.endswith(("_vel_x", "_vel_y"))],
        "rate_model": "baseline_hz * exp(depth * speed(t+lag)/v_ref * cos(dir(t+lag) - preferred_direction_rad))"
        " * (1 + target_response_gain * exp(-((t - t_target - 120 ms)/60 ms)^2 / 2))",
        "sessions": truths,
    }
    return df, truth


# ----------------------------------------------------------------------------------------- files


def write_nwb_twin(df: pd.DataFrame, bin_ms: float, path: str | Path, session_description: str) -> Path:
    """Write a table as a NeuroTask NWB file in the DANDI layout (spellings as in the real files).

    Modules: ``behavior`` (covariates), ``events`` (events and ``result`` as bytes), ``indices``
    (``animal``, ``datasetID``, ``session``, ``trial_id``), ``spikes`` (``spikes_counts``, rate 1000/bin_ms).
    Like the real files there is no ``task`` series, neuron columns have no names, and a few keys use the
    DANDI spellings (``EventTarget_onset``, ``targets_dir``, ``Target_ID``).

    Examples
    --------
    >>> write_nwb_twin(df, 10.0, "twin.nwb", "CenterOut_Bump")   # doctest: +SKIP

    Taught in chapter 01_neurotask_loading.
    """
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries

    from .io import EVENT_PREFIX, ID_COLUMNS, NWB_ALIASES, neuron_columns

    dandi_name = {
        v: k for k, v in NWB_ALIASES.items() if k in ("EventTarget_onset", "targets_dir", "Target_ID")
    }
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
        modules[module].add(
            TimeSeries(name=dandi_name.get(name, name), data=data, unit=unit, rate=rate, starting_time=0.0)
        )

    neurons = neuron_columns(df)
    add("spikes", "spikes_counts", df[neurons].to_numpy(dtype=np.float64), "spikes")
    for name in ("animal", "datasetID", "session", "trial_id"):
        add("indices", name, df[name].to_numpy(), "n.a.")
    add("events", "result", df["result"].to_numpy().astype("S1"), "n.a.")
    for name in df.columns:
        if name in neurons or name in ID_COLUMNS:
            continue
        if name.startswith(EVENT_PREFIX):
            add("events", name, df[name].to_numpy(dtype=bool), "n.a.")
        else:
            add("behavior", name, df[name].to_numpy(dtype=np.float64), "cm" if "pos" in name else "a.u.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def write_demo_dataset(out_dir: Path, seed: int = 0) -> None:
    """Write the NeuroTask demo folder: four parquet datasets, one NWB twin and the ground truth.

    Files (names as the real ones, ``{datasetID}_{bin_ms}_{Name}_{Task}.parquet``):
    ``2_10_Simulated_CObump.parquet`` (2 animals x 2 sessions), ``3_10_Simulated_CenterOut.parquet``
    (3 animals), ``1_20_Simulated_RandomTarget.parquet`` (1 animal, 2 sessions) and the 1 ms stress case
    ``6_1_Simulated_Maze.parquet``; ``001056/sub-Animal-1-&-2/sub-Animal-1-&-2.nwb``, the CO-bump table in
    the DANDI NWB layout (all trials; :func:`~course_utils.neurotask.io.load_nwb` reads it to the same frame
    as the parquet file); ``SIMULATOR_GROUND_TRUTH.json``, the tuning of every simulated neuron.

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


def read_ground_truth(folder: str | Path) -> dict:
    """Read ``SIMULATOR_GROUND_TRUTH.json`` from a demo folder (plain JSON: nothing is executed).

    Raises
    ------
    FileNotFoundError
        The folder has no such file: it holds real data (sample/full mode), which has no ground truth.

    Examples
    --------
    >>> truth = read_ground_truth(get_source("neurotask"))     # doctest: +SKIP
    >>> truth["datasets"]["2_10_Simulated_CObump.parquet"]["lag_ms"]   # doctest: +SKIP
    100.0

    Taught in chapter 01_neurotask_loading.
    """
    path = Path(folder) / GROUND_TRUTH_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: only the simulated demo data have a ground truth (real recordings do "
            "not). Use mode='demo' to compare with it."
        )
    return json.loads(path.read_text())
