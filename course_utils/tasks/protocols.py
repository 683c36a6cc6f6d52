"""Training protocols (curricula): the same network trained under different schedules, compared fairly.

The ANNUBeS question: animal trainers shape behaviour in stages (easy stimuli first, few catch trials at
first, one modality before two). Does that help, and by how much? In silico we can train the same network
from the same initial weights under each protocol, over several seeds, and measure what a trainer measures:
the number of trials needed to reach a performance criterion on the *full* task, and the final performance.

A protocol is a list of :class:`Stage` s; each sets attributes of the task (``cohs``, ``catch_prob``,
``session`` for ``AnnubesEnv``, ...) for a number of training steps. Progress is measured throughout on the
same fixed set of probe trials from the full task.

Taught in chapter 07_training_protocols.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..training import progress_bar, reuse_training
from .evaluation import ProbeTrials
from .training import RecurrentNetwork, TrainingHistory, _train_steps, make_dataset, set_seed

__all__ = [
    "Stage",
    "apply_task_settings",
    "run_protocol",
    "compare_protocols",
    "trials_to_criterion",
    "plot_protocols",
]


@dataclass(frozen=True)
class Stage:
    """One stage of a training protocol.

    Attributes
    ----------
    name
        A label for plots (e.g. ``"easy"``).
    n_steps
        Gradient steps (batches) spent in this stage.
    task_settings
        Task attributes set for this stage, e.g. ``{"cohs": [25.6, 51.2]}`` or ``{"catch_prob": 0.1}``.

    Examples
    --------
    >>> Stage("easy", 300, {"cohs": [25.6, 51.2]}).task_settings["cohs"]
    [25.6, 51.2]

    Taught in chapter 07_training_protocols.
    """

    name: str
    n_steps: int
    task_settings: dict[str, Any] = field(default_factory=dict)


def apply_task_settings(env, settings: dict[str, Any]) -> None:
    """Set attributes of a task (through any wrappers), checking that each exists.

    ``AnnubesEnv``'s ``session`` (e.g. ``{"v": 1, "a": 0}``) is normalised the way its constructor does.

    Examples
    --------
    >>> from course_utils.tasks import make_task
    >>> env = make_task("PerceptualDecisionMaking-v0")
    >>> apply_task_settings(env, {"cohs": [51.2]}); env.cohs
    [51.2]

    Taught in chapter 07_training_protocols.
    """
    task = env.unwrapped
    for key, value in settings.items():
        if not hasattr(task, key):
            raise AttributeError(
                f"{type(task).__name__} has no attribute {key!r} to schedule; "
                f"check the task's parameters (e.g. help({type(task).__name__}))."
            )
        # ANNUBeS has no public way to turn a session dict into its internal form; its private helper is used
        # here only, so an ANNUBeS change breaks one line (tests/test_tasks.py covers session schedules).
        if key == "session" and hasattr(task, "_prepare_session_and_modalities"):
            session, modalities = task._prepare_session_and_modalities(value)
            if modalities != task.modalities:
                raise ValueError(
                    f"A session schedule must keep the same modalities {sorted(task.modalities)} (give 0 "
                    f"probability to switch one off), got {sorted(modalities)}."
                )
            value = session
        setattr(task, key, copy.deepcopy(value))


def run_protocol(
    task,
    stages: Sequence[Stage],
    *,
    seed: int = 0,
    hidden_size: int = 64,
    cell: str = "lstm",
    batch_size: int = 16,
    seq_len: int = 100,
    learning_rate: float = 1e-2,
    probe_trials: int = 300,
    eval_every: int = 50,
    progress: bool = False,
    device: str | None = None,
    decision_period: str = "decision",
) -> pd.DataFrame:
    """Train one network (initialised from ``seed``) through ``stages``; return its learning curve.

    Parameters
    ----------
    task
        The full task (e.g. ``make_task("PerceptualDecisionMaking-v0")``); it is copied, never modified.
        Probe trials always come from this full task.
    stages
        The protocol.
    seed
        Seeds the network's initial weights and the training trials. The same seed gives the same initial
        network under every protocol, so protocols are compared on identical starting points.
    hidden_size, cell, batch_size, seq_len, learning_rate
        Network and optimiser settings (see :func:`train_network`).
    probe_trials
        Number of fixed fresh trials from the full task used to measure accuracy.
    eval_every
        Steps between probe evaluations.
    progress
        Show tqdm bars (off by default: :func:`compare_protocols` shows one bar over its runs).
    device
        Where to train (see :func:`train_network`; None follows ``$COURSE_DEVICE``).
    decision_period
        The period whose last step holds the probe's answer (see :func:`run_trials`); ``"stimulus"`` for
        ``AnnubesEnv``, which has no decision period.

    Returns
    -------
    pandas.DataFrame
        One row per evaluation: ``seed``, ``stage``, ``step``, ``trials_seen``, ``accuracy``.

    Notes
    -----
    One training for :func:`course_utils.training.reuse_training`: under ``make test`` a student notebook
    reuses the instructor chapter's run (same task settings, stages, seed and network settings).

    Taught in chapter 07_training_protocols.
    """
    if not stages:
        raise ValueError("A protocol needs at least one Stage.")
    if probe_trials < 1:
        raise ValueError(f"probe_trials must be at least 1, got {probe_trials}.")
    if decision_period not in task.unwrapped.timing:
        raise ValueError(f"{type(task.unwrapped).__name__} has no period {decision_period!r}; its periods are "
                         f"{list(task.unwrapped.timing)}.")
    full_task = copy.deepcopy(task.unwrapped)
    train_task = copy.deepcopy(full_task)
    set_seed(seed)
    model = RecurrentNetwork(
        full_task.observation_space.shape[0], full_task.action_space.n, hidden_size, cell
    )
    dataset = make_dataset(train_task, batch_size=batch_size, seq_len=seq_len, seed=seed)
    probe_seed = 10_000 + seed
    history = TrainingHistory()
    current = {"stage": stages[0].name}

    fixed_probe: list[ProbeTrials] = []  # drawn at the first probe, then the same trials at every probe

    def probe(step: int, hist: TrainingHistory) -> dict:
        if not fixed_probe:
            fixed_probe.append(ProbeTrials(full_task, probe_trials, seed=probe_seed, decision_period=decision_period))
        return {"stage": current["stage"], "accuracy": fixed_probe[0].accuracy(model)}

    def train() -> list[dict]:
        history.evaluations.append({"step": 0, "trials_seen": 0, **probe(0, history)})
        for stage in stages:
            current["stage"] = stage.name
            for env in dataset.envs:
                apply_task_settings(env, {**_defaults(full_task, stage.task_settings), **stage.task_settings})
            dataset.refresh()  # drop unfinished trials drawn under the previous stage's settings
            _train_steps(
                model,
                dataset,
                stage.n_steps,
                history=history,
                learning_rate=learning_rate,
                class_weights="balanced",
                lr_schedule=None,
                callback=probe,
                callback_every=eval_every,
                progress=progress,
                device=device,
            )
        return history.evaluations

    key = {"loop": "tasks.run_protocol", "task": _task_key(full_task), "seed": seed,
           "stages": [[st.name, st.n_steps, st.task_settings] for st in stages],
           "network": [hidden_size, cell, batch_size, seq_len, learning_rate],
           "probe": [probe_trials, eval_every, decision_period], "device": device}
    curve = pd.DataFrame(reuse_training(model, train, key))
    curve.insert(0, "seed", seed)
    return curve


def _task_key(task) -> dict[str, Any]:
    """The task's class and its plain settings (what JSON can write), to recognise the same training."""
    out: dict[str, Any] = {"class": type(task).__name__}
    for name, value in sorted(vars(task).items()):
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        out[name] = value
    return out


def _defaults(full_task, settings: dict[str, Any]) -> dict[str, Any]:
    # Attributes a stage does not mention go back to the full task's values.
    return {k: copy.deepcopy(getattr(full_task, k)) for k in settings if hasattr(full_task, k)}


def compare_protocols(
    task,
    protocols: dict[str, Sequence[Stage]],
    seeds: Sequence[int] = (0, 1, 2),
    **kwargs: Any,
) -> pd.DataFrame:
    """Run every protocol with every seed (same initial network per seed); return all learning curves.

    Parameters
    ----------
    task
        The full task.
    protocols
        Protocol name -> list of stages. Give every protocol the same total number of steps for a fair
        comparison.
    seeds
        One network per seed and protocol.
    **kwargs
        Passed to :func:`run_protocol`.

    Returns
    -------
    pandas.DataFrame
        :func:`run_protocol`'s rows with a ``protocol`` column.

    Taught in chapter 07_training_protocols.
    """
    totals = {name: sum(s.n_steps for s in stages) for name, stages in protocols.items()}
    if len(set(totals.values())) > 1:
        raise ValueError(
            f"Protocols differ in total training steps {totals}: equalise them to compare fairly."
        )
    curves = []
    runs = [(name, seed) for name in protocols for seed in seeds]
    for name, seed in progress_bar(runs, desc="protocol x seed", mininterval=3.0):
        curve = run_protocol(task, protocols[name], seed=seed, **kwargs)
        curve.insert(0, "protocol", name)
        curves.append(curve)
    return pd.concat(curves, ignore_index=True)


def trials_to_criterion(curves: pd.DataFrame, criterion: float = 0.8, interpolate: bool = False) -> pd.DataFrame:
    """Trials trained before probe accuracy first reached ``criterion``, and final accuracy, per run.

    Parameters
    ----------
    curves
        Output of :func:`compare_protocols` (or :func:`run_protocol` with a ``protocol`` column).
    criterion
        Accuracy to reach (fraction correct on the full task).
    interpolate
        False: the first probe at or above ``criterion`` (a multiple of the probe interval). True: the
        crossing between that probe and the one before it, by linear interpolation of accuracy against
        trials seen, so the result is not rounded up to the next probe.

    Returns
    -------
    pandas.DataFrame
        One row per (protocol, seed): ``trials_to_criterion`` (NaN if never reached), ``final_accuracy``, and
        ``probe_interval`` (trials between the two probes around the crossing: the resolution of the
        uninterpolated value; NaN if never reached or reached at the first probe).

    Examples
    --------
    >>> c = pd.DataFrame({"protocol": "a", "seed": 0, "trials_seen": [0, 100, 200], "accuracy": [.5, .85, .9]})
    >>> trials_to_criterion(c, 0.8)[["trials_to_criterion", "final_accuracy"]].values.tolist()
    [[100.0, 0.9]]
    >>> round(float(trials_to_criterion(c, 0.8, interpolate=True)["trials_to_criterion"].iloc[0]), 1)
    85.7

    Taught in chapter 07_training_protocols.
    """
    missing = {"protocol", "seed", "trials_seen", "accuracy"} - set(curves.columns)
    if missing:
        raise ValueError(f"curves lacks columns {sorted(missing)}; pass the output of compare_protocols.")
    rows = []
    for (protocol, seed), run in curves.sort_values("trials_seen").groupby(["protocol", "seed"], sort=False):
        trials = run["trials_seen"].to_numpy(dtype=float)
        accuracy = run["accuracy"].to_numpy(dtype=float)
        hits = np.flatnonzero(accuracy >= criterion)
        reached, interval = np.nan, np.nan
        if len(hits):
            first = hits[0]
            reached = trials[first]
            if first > 0:
                interval = trials[first] - trials[first - 1]
                if interpolate:
                    below, above = accuracy[first - 1], accuracy[first]
                    reached = trials[first - 1] + (criterion - below) / (above - below) * interval
        rows.append(
            {
                "protocol": protocol,
                "seed": seed,
                "trials_to_criterion": float(reached),
                "final_accuracy": float(accuracy[-1]),
                "probe_interval": float(interval),
            }
        )
    return pd.DataFrame(rows)


def plot_protocols(
    curves: pd.DataFrame,
    criterion: float = 0.8,
    chance: float | None = 0.5,
    label_fn: Callable[[str], str] | None = None,
):
    """A trainer's view: learning curves per protocol (thin: each seed, thick: mean), criterion line, and
    trials-to-criterion per seed (interpolated between probes, see :func:`trials_to_criterion`).

    Returns
    -------
    matplotlib.figure.Figure

    Taught in chapter 07_training_protocols.
    """
    import matplotlib.pyplot as plt

    summary = trials_to_criterion(curves, criterion, interpolate=True)  # the crossing, not the next probe
    fig, (ax_curve, ax_ttc) = plt.subplots(1, 2, figsize=(10, 3.8), width_ratios=[2.2, 1])
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    names = list(dict.fromkeys(curves["protocol"]))
    for i, name in enumerate(names):
        color = colors[i % len(colors)]
        runs = curves[curves["protocol"] == name]
        for _, run in runs.groupby("seed"):
            ax_curve.plot(run["trials_seen"] / 1000, run["accuracy"], color=color, alpha=0.3, lw=0.8)
        mean = runs.groupby("step")[["trials_seen", "accuracy"]].mean()
        ax_curve.plot(
            mean["trials_seen"] / 1000,
            mean["accuracy"],
            color=color,
            lw=2.2,
            label=label_fn(name) if label_fn else name,
        )
        ttc = summary[summary["protocol"] == name]["trials_to_criterion"] / 1000
        jitter = np.linspace(-0.12, 0.12, max(len(ttc), 1))[: len(ttc)]
        ax_ttc.scatter(i + jitter, ttc, color=color, s=30, zorder=3)
        ax_ttc.hlines(ttc.mean(), i - 0.25, i + 0.25, color=color, lw=2)
        never = summary[(summary["protocol"] == name)]["trials_to_criterion"].isna().sum()
        if never:
            ax_ttc.annotate(
                f"{never} never",
                (i, 0),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="bottom",
                fontsize=8,
            )
    ax_curve.axhline(criterion, color="k", ls="--", lw=1, label=f"criterion ({criterion:.0%})")
    if chance is not None:
        ax_curve.axhline(chance, color="grey", ls=":", lw=1, label="chance")
    ax_curve.set_xlabel("trials trained (thousands)")
    ax_curve.set_ylabel("accuracy on the full task")
    ax_curve.set_title("Learning curves (thin: one network each; thick: mean)")
    ax_curve.legend(fontsize=8, loc="lower right")
    ax_ttc.set_xticks(range(len(names)), names, rotation=15)
    ax_ttc.set_ylabel("trials to criterion (thousands)")
    ax_ttc.set_title("Trials to criterion")
    ax_ttc.set_xlim(-0.6, len(names) - 0.4)
    fig.tight_layout()
    return fig
