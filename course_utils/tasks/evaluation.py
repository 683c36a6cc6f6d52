"""Evaluating a trained network like an animal: fresh trials, decision accuracy, choices, reaction times.

Taught in chapter 06_neurogym_tasks_and_rnns.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch

from ..training import model_device
from .compat import new_trial, seed_task

__all__ = ["ProbeTrials", "run_trials", "decision_accuracy", "measure_reaction_times"]  # and ReactionTimeTargets (lazy)


def _trial_arrays(env, n_trials: int, seed: int | None):
    if seed is not None:
        seed_task(env, seed)
    obs, gts, rows, bounds = [], [], [], []
    for _ in range(n_trials):
        trial = dict(new_trial(env))
        task = env.unwrapped  # ScheduleEnvs switches tasks between trials
        obs.append(np.asarray(task.ob, dtype=np.float32))
        gts.append(np.asarray(task.gt))
        rows.append(trial)
        bounds.append((dict(task.start_ind), dict(task.end_ind)))
    return obs, gts, rows, bounds


@torch.no_grad()
def run_trials(
    model: torch.nn.Module,
    env,
    n_trials: int = 1000,
    *,
    seed: int | None = 12345,
    decision_period: str = "decision",
) -> pd.DataFrame:
    """Run ``n_trials`` fresh trials through a trained network and read its choice in each.

    Each trial starts from a zero network state; its choice is the highest-scoring action at the last time
    step of ``decision_period``, and the correct answer is the ground truth at that step.

    Parameters
    ----------
    model
        A trained network mapping (time, batch, inputs) to (time, batch, actions).
    env
        The task (``TrialEnv``, optionally wrapped), with the settings to test (e.g. all coherences).
    n_trials
        Number of fresh trials.
    seed
        Seeds the task (use a different seed than training: these trials must be new).
    decision_period
        The period in which the response is read.

    Returns
    -------
    pandas.DataFrame
        One row per trial: the trial's attributes (e.g. ``ground_truth``, ``coh``), ``target`` (correct
        action), ``choice`` (the network's action), ``correct``, ``early_responses`` (steps before the
        decision period at which its highest score is not "fixate", action 0), and ``p_choice`` (softmax
        probabilities at the decision step, one column per action: ``p_0``, ``p_1``, ...).

    Examples
    --------
    >>> from course_utils.tasks import RecurrentNetwork, make_task
    >>> table = run_trials(RecurrentNetwork(3, 3, 8), make_task("PerceptualDecisionMaking-v0"), 5)
    >>> len(table), "correct" in table
    (5, True)

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}.")
    _check_period(env, decision_period)
    return _score_trials(model, _trial_arrays(env, n_trials, seed), decision_period)


def _check_period(env, decision_period: str) -> None:
    task = env.unwrapped
    if decision_period not in task.timing:
        raise ValueError(
            f"{type(task).__name__} has no period {decision_period!r}; its periods are {list(task.timing)}."
        )


@torch.no_grad()
def _score_trials(model: torch.nn.Module, arrays, decision_period: str) -> pd.DataFrame:
    """:func:`run_trials` on trials already drawn by :func:`_trial_arrays` (a fixed probe draws them once)."""
    obs, gts, rows, bounds = arrays
    n_trials = len(obs)
    lengths = np.array([o.shape[0] for o in obs])
    x = np.zeros((lengths.max(), n_trials, obs[0].shape[1]), dtype=np.float32)
    for i, o in enumerate(obs):
        x[: o.shape[0], i] = o
    model.eval()
    # the model may sit on a GPU (a training's callback runs this there)
    probs = torch.softmax(model(torch.from_numpy(x).to(model_device(model))), dim=-1).cpu().numpy()
    decision_step = np.array([end[decision_period] - 1 for _, end in bounds])
    columns = np.arange(n_trials)
    p_dec = probs[decision_step, columns]
    table = pd.DataFrame(rows)
    table["target"] = [int(np.ravel(g[s])[0]) for g, s in zip(gts, decision_step, strict=True)]
    table["choice"] = p_dec.argmax(axis=1)
    table["correct"] = table["choice"] == table["target"]
    decision_start = np.array([start[decision_period] for start, _ in bounds])
    before = np.arange(probs.shape[0])[:, None] < decision_start[None, :]
    table["early_responses"] = np.sum(before & (probs.argmax(axis=-1) != 0), axis=0)
    for k in range(p_dec.shape[1]):
        table[f"p_{k}"] = p_dec[:, k]
    return table


class ProbeTrials:
    """A fixed probe: fresh trials drawn once, on which a network is tested again and again (a learning curve).

    ``ProbeTrials(env, 300, seed=10_000).accuracy(model)`` equals ``decision_accuracy(model, env, 300,
    seed=10_000)`` on a copy of ``env`` as it is now, without drawing the same trials anew at every probe.

    Parameters
    ----------
    env
        The task to probe on (copied: later changes to it do not change the probe).
    n_trials, seed, decision_period
        As in :func:`run_trials`.

    Examples
    --------
    >>> from course_utils.tasks import RecurrentNetwork, make_task
    >>> task, net = make_task("PerceptualDecisionMaking-v0"), RecurrentNetwork(3, 3, 8)
    >>> probe = ProbeTrials(task, 50, seed=3)
    >>> probe.accuracy(net) == decision_accuracy(net, task, 50, seed=3)
    True

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """

    def __init__(self, env, n_trials: int = 300, *, seed: int | None = 10_000,
                 decision_period: str = "decision") -> None:
        if n_trials < 1:
            raise ValueError(f"n_trials must be at least 1, got {n_trials}.")
        _check_period(env, decision_period)
        self.decision_period = decision_period
        self._arrays = _trial_arrays(copy.deepcopy(env), n_trials, seed)

    def __len__(self) -> int:
        return len(self._arrays[0])

    def run(self, model: torch.nn.Module) -> pd.DataFrame:
        """The :func:`run_trials` table of ``model`` on the probe's trials."""
        return _score_trials(model, self._arrays, self.decision_period)

    def accuracy(self, model: torch.nn.Module) -> float:
        """Fraction of the probe's trials in which ``model`` decides correctly."""
        return float(self.run(model)["correct"].mean())


def decision_accuracy(model: torch.nn.Module, env, n_trials: int = 1000, seed: int | None = 12345) -> float:
    """Fraction of fresh trials in which the network's decision is correct (see :func:`run_trials`).

    Examples
    --------
    >>> from course_utils.tasks import RecurrentNetwork, make_task
    >>> 0.0 <= decision_accuracy(RecurrentNetwork(3, 3, 8), make_task("PerceptualDecisionMaking-v0"), 20) <= 1
    True

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    return float(run_trials(model, env, n_trials, seed=seed)["correct"].mean())


def _reaction_time_targets_class():
    from .environment import require_neurogym

    require_neurogym()
    from neurogym.core import TrialWrapper

    class ReactionTimeTargets(TrialWrapper):
        """Training targets for a reaction-time version of a task: answer from the first stimulus step on.

        neurogym's ``ReactionTime`` wrapper rewrites the ground truth inside ``step()`` (when a trial's
        first step is taken). Supervised batches (:class:`~course_utils.tasks.TrialBatches`, like
        ``ngym.Dataset``) are built from ``new_trial()`` without stepping, so batches from a
        ``ReactionTime`` task keep the fixed-duration targets. This wrapper
        applies the same rewrite in ``new_trial()``: during the stimulus (after its first step) the target is
        already the correct choice, so a network trained on it reports its current best guess at every step
        and its confidence grows with the evidence it has seen.

        Taught in chapter 06_neurogym_tasks_and_rnns.
        """

        # Forwarded explicitly: gymnasium 1.x wrappers no longer forward attributes to the task.
        @property
        def ob(self):
            return self.unwrapped.ob

        @property
        def gt(self):
            return self.unwrapped.gt

        def seed(self, seed=None):
            return self.unwrapped.seed(seed)

        def new_trial(self, **kwargs):
            trial = self.env.new_trial(**kwargs)
            task = self.unwrapped
            answer = task.gt[task.start_ind["decision"]]
            task.gt[task.start_ind["stimulus"] + 1 : task.end_ind["stimulus"]] = answer
            return trial

    return ReactionTimeTargets


def __getattr__(name: str):
    # Built lazily so that importing course_utils.tasks does not import neurogym until it is used.
    if name == "ReactionTimeTargets":
        cls = _reaction_time_targets_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


@torch.no_grad()
def measure_reaction_times(
    model: torch.nn.Module,
    task,
    n_trials: int = 300,
    *,
    bound: float = 0.9,
    seed: int | None = 12345,
) -> pd.DataFrame:
    """Let a network play a reaction-time task (neurogym's ``ReactionTime`` wrapper) and time its choices.

    At each step the network sees the observation; as soon as one choice's probability reaches ``bound``
    it commits to that choice (a decision bound, as in drift-diffusion models), which ends the trial; until
    then it fixates. A trial with no commitment by the end of the stimulus counts as no response.

    neurogym's ``ReactionTime`` wrapper reports ``info["tr_dur"] = 0`` at every trial end (it resets the
    counter before writing it), so the reaction time is measured here from the task's own step counter.

    Parameters
    ----------
    model
        A network trained with :class:`ReactionTimeTargets` (or any network whose choice probabilities rise
        during the stimulus).
    task
        The bare task (e.g. ``make_task("PerceptualDecisionMaking-v0")``); it is wrapped in ``ReactionTime``.
    n_trials
        Number of trials.
    bound
        Probability a choice must reach to be made (higher = slower, more accurate).
    seed
        Seeds the task.

    Returns
    -------
    pandas.DataFrame
        One row per trial: trial attributes (``ground_truth``, ``coh``), ``target`` (correct action),
        ``choice`` (0 = none), ``correct``,
        ``reaction_time_ms`` (from stimulus onset; NaN without a response).

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    from .environment import require_neurogym

    require_neurogym()
    from neurogym.core import TrialEnv
    from neurogym.wrappers import ReactionTime

    if not 0.0 < bound < 1.0:
        raise ValueError(f"bound must be a probability between 0 and 1, got {bound}.")
    if not isinstance(task, TrialEnv):
        raise TypeError("Pass the bare task (make_task(...) or env.unwrapped), not a wrapped environment.")
    env = ReactionTime(task)
    # NeuroGym's reset(seed=...) seeds gymnasium's generator, not the one that draws trials (task.rng)
    seed_task(task, seed)
    env.reset()
    # reset() already took one step of the first trial; start measuring at the next trial
    state, rows = None, []
    _finish_trial(env, lambda: 0)
    n_choices = task.action_space.n
    for _ in range(n_trials):
        trial = dict(task.trial)
        stim_start = task.start_ind["stimulus"]
        answer = int(task.gt[task.start_ind["decision"]])
        state, choice, rt_steps = None, 0, np.nan
        while True:
            t_ind = task.t_ind
            ob = torch.as_tensor(np.asarray(task.ob[t_ind], dtype=np.float32)).reshape(1, 1, -1)
            logits, state = model(ob, state, return_state=True)
            p = torch.softmax(logits[0, 0], dim=-1).numpy()
            action = 0
            if t_ind > stim_start and n_choices > 1:
                best = 1 + int(np.argmax(p[1:]))
                if p[best] >= bound:
                    action = best
            _, _, _, _, info = env.step(action)
            if action != 0 and choice == 0:
                choice, rt_steps = action, t_ind - stim_start
            if info.get("new_trial", False):
                break
        rows.append(
            {
                **trial,
                "target": answer,
                "choice": choice,
                "correct": choice == answer,
                "reaction_time_ms": rt_steps * task.dt,
            }
        )
    return pd.DataFrame(rows)


def _finish_trial(env, policy) -> None:
    while True:
        _, _, _, _, info = env.step(policy())
        if info.get("new_trial", False):
            return
