"""Agents trained by reward on NeuroGym tasks: recurrent PPO (Stable-Baselines3 / sb3-contrib).

A supervised network is told the correct action at every time step. An animal is not: it acts, and a
correct choice earns a reward (a drop of juice). A reinforcement-learning agent learns the same way, from
the task's own reward (in ``PerceptualDecisionMaking``: +1 for a correct choice in the decision period,
0 for a wrong one, -0.1 for breaking fixation). The agent here is ``RecurrentPPO`` from sb3-contrib with an
LSTM policy (``MlpLstmPolicy``): the LSTM integrates the evidence over the trial, as the supervised LSTM of
chapter 6 does.

Two choices make it learn within minutes on a CPU:

* **one trial is one episode** (:class:`TrialEpisodes`): the agent's memory starts afresh at every trial, as
  the supervised network's does when it is tested, and the decision's reward is credited within the trial;
* several copies of the task play in parallel (``n_envs``) and one LSTM is shared by the policy and the value
  estimate (``shared_lstm=True``).

The agent is then tested exactly like the supervised network and the mice: :func:`play_trials` lets it play
fresh trials and returns one row per trial (``target``, ``choice``, ``correct`` and the trial's attributes),
the table that ``course_utils.behavior`` turns into a psychometric curve and d'.

Requires ``stable-baselines3>=2.9`` and ``sb3-contrib>=2.9`` (the first releases that accept gymnasium 1.3,
Colab's; they accept gymnasium 0.29.1 too), installed by the ``tasks`` extra.

Taught in chapter 06_neurogym_tasks_and_rnns.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..training import progress_bar, reuse_training, torch_threads
from .compat import new_trial, seed_task, trial_source

__all__ = ["AgentHistory", "require_sb3", "train_agent", "play_trials"]  # and TrialEpisodes (lazy)

RL_INSTALL_HINT = 'pip install "course-utils[tasks]"  (it brings stable-baselines3>=2.9 and sb3-contrib>=2.9)'


def require_sb3():
    """Import sb3-contrib's ``RecurrentPPO``, or explain how to install it.

    Examples
    --------
    >>> require_sb3().__name__
    'RecurrentPPO'

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    try:
        from sb3_contrib import RecurrentPPO
    except ImportError as err:
        raise ImportError(
            f"Training agents by reward needs Stable-Baselines3 and sb3-contrib ({err}). "
            f"Install them with: {RL_INSTALL_HINT}"
        ) from err
    return RecurrentPPO


def _check_trial_observations(env) -> None:
    # Playing a trial from its first observation needs observations that come from the trial arrays.
    if env.observation_space.shape != trial_source(env).observation_space.shape:
        raise TypeError(
            f"{type(env).__name__} adds inputs while the task is stepped (e.g. PassReward, PassAction), so a "
            "trial cannot be started from its first observation. Train and test on the task (or trial "
            "wrappers such as ScheduleEnvs); for such wrappers use the task's own reset() and step()."
        )


def _trial_episodes_class():
    import gymnasium as gym

    class TrialEpisodes(gym.Wrapper):
        """Make every trial of a NeuroGym task one episode, for reinforcement-learning libraries.

        A NeuroGym task never ends: when a trial ends, ``step`` already shows the first observation of the
        next one. This wrapper reports the end of each trial as the end of an episode (``terminated``), so
        an agent's memory starts afresh at each trial, and its ``reset`` starts the next trial at its first
        time step (the task's own ``reset`` takes a random first step).

        Parameters
        ----------
        env
            A task (``make_task(...)``) or trial wrappers around one (not ``PassReward``/``PassAction``).

        Examples
        --------
        >>> from course_utils.tasks import make_task
        >>> env = TrialEpisodes(make_task("PerceptualDecisionMaking-v0"))
        >>> ob, info = env.reset(seed=0)
        >>> steps = [env.step(0) for _ in range(22)]   # fixate: the trial ends unanswered after 22 steps
        >>> [s[2] for s in steps].index(True), steps[-1][1]   # terminated at step 22, reward 0
        (21, 0)

        Taught in chapter 06_neurogym_tasks_and_rnns.
        """

        def __init__(self, env) -> None:
            super().__init__(env)
            _check_trial_observations(env)
            self._next_trial_drawn = False

        def reset(self, *, seed: int | None = None, options: dict | None = None):
            if seed is not None:
                seed_task(self.env, seed)
            if seed is not None or not self._next_trial_drawn:
                new_trial(self.env)
            self._next_trial_drawn = False
            task = self.env.unwrapped
            task.t = task.t_ind = 0
            return np.array(task.ob[0]), {"trial": dict(task.trial)}

        def step(self, action):
            ob, reward, terminated, truncated, info = self.env.step(action)
            if info.get("new_trial", False):
                # the task has already drawn the next trial: reset() starts it without drawing another
                self._next_trial_drawn, terminated = True, True
            return ob, reward, terminated, truncated, info

    return TrialEpisodes


def __getattr__(name: str):
    # Built lazily so that importing course_utils.tasks does not import gymnasium until it is used.
    if name == "TrialEpisodes":
        cls = _trial_episodes_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


@dataclass
class AgentHistory:
    """What happened while an agent trained.

    Attributes
    ----------
    trials
        Trials of experience (complete trials played, over all parallel copies of the task).
    steps
        Time steps of experience.
    seconds
        Wall-clock training time (s), evaluations excluded.
    gradient_steps
        Optimiser steps taken (PPO reuses each rollout for ``n_epochs`` passes in minibatches).
    evaluations
        One row per evaluation: ``trials``, ``steps``, ``gradient_steps``, ``seconds`` and ``accuracy`` on
        fresh trials.
    """

    trials: int = 0
    steps: int = 0
    seconds: float = 0.0
    gradient_steps: int = 0
    evaluations: list[dict] = field(default_factory=list)

    def curve(self) -> pd.DataFrame:
        """The evaluations as a table (the learning curve)."""
        return pd.DataFrame(
            self.evaluations, columns=["trials", "steps", "gradient_steps", "seconds", "accuracy"]
        )


def _mean_trial_steps(env, n: int = 200) -> float:
    probe = copy.deepcopy(env)
    seed_task(probe, 0)
    lengths = []
    for _ in range(n):
        new_trial(probe)
        lengths.append(len(probe.unwrapped.ob))
    return float(np.mean(lengths))


def train_agent(
    env,
    n_trials: int,
    *,
    seed: int = 0,
    n_envs: int = 16,
    hidden_size: int = 64,
    learning_rate: float = 1e-3,
    n_steps: int = 64,
    batch_size: int = 256,
    n_epochs: int = 4,
    gamma: float = 0.99,
    ent_coef: float = 0.01,
    eval_every: int | None = None,
    eval_trials: int = 300,
    num_threads: int | None = 1,
    progress: bool = True,
    **ppo_kwargs: Any,
):
    """Train a recurrent agent by reward (recurrent PPO) for ``n_trials`` trials of experience.

    Parameters
    ----------
    env
        The task (``make_task(...)``, optionally inside trial wrappers); copied, never modified.
    n_trials
        Budget: training stops at the first rollout after this many trials have been played.
    seed
        Seeds the agent's weights, its action sampling and the task copies.
    n_envs
        Copies of the task played in parallel (one batch row each).
    hidden_size
        LSTM units (one LSTM shared by the policy and the value estimate).
    learning_rate, n_steps, batch_size, n_epochs, gamma, ent_coef
        PPO settings (see sb3-contrib's ``RecurrentPPO``): ``n_steps`` time steps per copy per rollout,
        ``n_epochs`` passes over each rollout in minibatches of ``batch_size`` steps, discount ``gamma``,
        entropy bonus ``ent_coef`` (keeps the agent exploring).
    eval_every
        Trials between evaluations on ``eval_trials`` fresh trials (a learning curve); None: only at the
        start and the end.
    eval_trials
        Fresh trials per evaluation (always the same ones: a fixed probe).
    num_threads
        Torch threads while training (the caller's setting is restored afterwards). The agent's network is
        small and runs on batches of ``n_envs`` observations, little work to share between threads; on a busy
        2-core machine one thread was several times faster than two (``benchmarks/bench_rl.py --threads``
        compares). None keeps the current setting.
    progress
        Show a tqdm bar (trials).
    **ppo_kwargs
        Passed to ``RecurrentPPO`` (e.g. ``gae_lambda``, ``clip_range``).

    Returns
    -------
    agent, AgentHistory
        The trained ``RecurrentPPO`` agent and its history (``history.curve()`` is the learning curve). Under
        ``make test`` a student notebook gets the agent its instructor chapter trained
        (:func:`course_utils.training.reuse_training`): the policy's weights and the history, which is all
        that playing trials needs; its optimiser state and step counter are fresh, so do not continue its
        training with ``agent.learn``.

    Examples
    --------
    >>> from course_utils.tasks import make_task
    >>> agent, history = train_agent(make_task("PerceptualDecisionMaking-v0"), 40, n_envs=4, n_steps=16,
    ...                              batch_size=32, progress=False, eval_trials=20)
    >>> history.trials >= 40, list(history.curve().columns)
    (True, ['trials', 'steps', 'gradient_steps', 'seconds', 'accuracy'])

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    RecurrentPPO = require_sb3()
    from stable_baselines3.common.vec_env import DummyVecEnv

    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}.")
    if n_envs < 1 or n_steps < 1:
        raise ValueError(f"n_envs and n_steps must be positive, got {n_envs} and {n_steps}.")
    _check_trial_observations(env)
    episodes = _trial_episodes_class()
    template = copy.deepcopy(env)
    vec_env = DummyVecEnv([lambda: episodes(copy.deepcopy(template)) for _ in range(n_envs)])
    history = AgentHistory()
    # Learning-rate schedules and logs read the step budget; the trial budget is what stops training.
    total_steps = int(n_trials * _mean_trial_steps(template) * 1.2) + 2 * n_envs * n_steps
    policy_kwargs = {
        "lstm_hidden_size": hidden_size,
        "n_lstm_layers": 1,
        "shared_lstm": True,
        "enable_critic_lstm": False,
        "net_arch": {"pi": [hidden_size], "vf": [hidden_size]},
        **ppo_kwargs.pop("policy_kwargs", {}),
    }
    settings = {"learning_rate": learning_rate, "n_steps": n_steps, "batch_size": batch_size, "n_epochs": n_epochs,
                "gamma": gamma, "ent_coef": ent_coef, **ppo_kwargs}
    agent = _make_agent(RecurrentPPO, vec_env, seed, policy_kwargs, settings)

    def train() -> dict:
        budget = _budget_callback(
            history, n_trials=n_trials, probe_env=copy.deepcopy(template), probe_seed=10_000 + seed,
            eval_every=eval_every, eval_trials=eval_trials, progress=progress,
            gradient_steps_per_rollout=n_epochs * -(-n_envs * n_steps // batch_size),
        )
        try:
            with torch_threads(num_threads):
                agent.learn(total_timesteps=max(total_steps, 1), callback=budget)
                budget.evaluate()
        finally:
            budget.bar.close()
        return asdict(history)

    # Under `make test` a student notebook reuses the agent its instructor chapter trained (the policy's weights
    # are all that play_trials needs); elsewhere this just trains.
    key = {"loop": "tasks.train_agent", "task": _task_description(template), "n_trials": n_trials, "seed": seed,
           "n_envs": n_envs, "hidden_size": hidden_size, "eval_every": eval_every, "eval_trials": eval_trials,
           "ppo": sorted(map(str, settings.items())), "policy": sorted(map(str, policy_kwargs.items()))}
    result = reuse_training(agent.policy, train, key)
    return agent, AgentHistory(**result)


def _make_agent(RecurrentPPO, vec_env, seed: int, policy_kwargs: dict, settings: dict):
    """A recurrent PPO agent on the CPU, silent, with a logger that writes no folder."""
    from stable_baselines3.common.logger import Logger

    agent = RecurrentPPO("MlpLstmPolicy", vec_env, policy_kwargs=policy_kwargs, seed=seed, device="cpu", verbose=0,
                         **settings)
    # SB3's default logger makes a /tmp/SB3-<date> folder at every learn(), even when it writes nothing there.
    agent.set_logger(Logger(folder=None, output_formats=[]))
    return agent


def _budget_callback(history: AgentHistory, *, n_trials: int, probe_env, probe_seed: int, eval_every: int | None,
                     eval_trials: int, gradient_steps_per_rollout: int, progress: bool):
    """An SB3 callback that counts trials into ``history``, stops at the first rollout after ``n_trials`` and
    evaluates the agent on a fixed probe between rollouts (made on demand: Stable-Baselines3 is optional)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class _Budget(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.stop = False
            self.next_eval = 0
            self.clock = time.perf_counter()
            self.bar = progress_bar(total=n_trials, desc="trials", unit="trial", progress=progress, mininterval=3.0)

        def evaluate(self) -> None:
            history.seconds += time.perf_counter() - self.clock
            table = play_trials(self.model, probe_env, eval_trials, seed=probe_seed)
            history.evaluations.append({
                "trials": history.trials,
                "steps": history.steps,
                "gradient_steps": history.gradient_steps,
                "seconds": history.seconds,
                "accuracy": float(table["correct"].mean()),
            })
            self.next_eval = history.trials + (eval_every or n_trials)
            self.clock = time.perf_counter()

        def _on_rollout_end(self) -> None:
            history.gradient_steps += gradient_steps_per_rollout  # the rollout is complete: PPO trains on it

        def _on_rollout_start(self) -> None:
            if history.trials >= self.next_eval and history.trials < n_trials:
                self.evaluate()
            self.stop = history.trials >= n_trials

        def _on_step(self) -> bool:
            if self.stop:
                return False
            done = int(np.sum(self.locals["dones"]))
            history.trials += done
            history.steps += len(self.locals["dones"])
            self.bar.update(min(done, max(n_trials - self.bar.n, 0)))
            return True

    return _Budget()


def _task_description(env) -> str:
    """The task and each wrapper with every public setting it holds (numbers, strings, arrays, lists and dicts
    of them: timing, rewards, coherences, catch probability...; other objects by their text), a key for
    reusing a training. Objects whose text names a memory address (random generators) are left out: it
    differs between identical runs."""
    parts, layer = [], env
    while layer is not None:
        settings = {}
        for name, value in sorted(vars(layer).items()):
            plain = _plain(value)
            if not name.startswith("_") and name not in _TRIAL_STATE and plain is not _NOT_PLAIN:
                settings[name] = plain
        parts.append(f"{type(layer).__qualname__}{settings}")
        layer = getattr(layer, "env", None)
    return " > ".join(parts)


_NOT_PLAIN = object()
# What a neurogym task holds about its current trial, not its settings: a cell that played a few trials
# before the training must not make the student notebook train again (the training plays its own copies).
_TRIAL_STATE = frozenset({"t", "t_ind", "num_tr", "trial", "performance", "start_ind", "end_ind", "start_t",
                          "end_t", "ob", "gt", "ob_now", "gt_now"})


def _plain(value: Any) -> Any:
    """``value`` as numbers, strings, lists and dicts (other objects as their text), or ``_NOT_PLAIN``."""
    if value is None or isinstance(value, (bool, int, float, str, np.number, np.bool_)):
        return value.item() if isinstance(value, (np.number, np.bool_)) else value
    if isinstance(value, np.ndarray):
        return value.tolist() if value.dtype.kind in "biuf" else _NOT_PLAIN
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items) else items
    if isinstance(value, dict):
        items = {str(k): _plain(v) for k, v in value.items()}
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items.values()) else items
    text = repr(value)  # e.g. a timing distribution or a space; not a generator ("... at 0x7f...")
    return text if " at 0x" not in text and len(text) < 10_000 else _NOT_PLAIN


def play_trials(
    agent,
    env,
    n_trials: int = 1000,
    *,
    seed: int | None = 12345,
    n_parallel: int = 100,
    deterministic: bool = True,
    decision_period: str = "decision",
    reset_each_trial: bool = True,
) -> pd.DataFrame:
    """Let a trained agent play ``n_trials`` fresh trials, as an animal does; one row per trial.

    The agent acts at every time step; its **choice** is the first non-fixation action in the decision
    period (which ends the trial), 0 if it never responded. This is the agent's counterpart of
    :func:`~course_utils.tasks.run_trials` and returns the same columns, so the same psychometric and d'
    code applies.

    Parameters
    ----------
    agent
        A trained agent with Stable-Baselines3's ``predict`` (e.g. from :func:`train_agent`).
    env
        The task to test (e.g. with finer coherences); copied, never modified.
    n_trials
        Number of fresh trials.
    seed
        Copy ``i`` of the task is seeded with ``seed + i`` (use seeds not used in training).
    n_parallel
        Copies of the task played at once (one batched call of the agent per time step).
    deterministic
        Take the agent's most probable action (True) or sample from its policy.
    decision_period
        The period in which the choice is read.
    reset_each_trial
        Start the agent's memory afresh at each trial (as in :func:`train_agent`, one trial per episode).

    Returns
    -------
    pandas.DataFrame
        One row per trial: the trial's attributes (e.g. ``ground_truth``, ``coh``), ``target`` (correct
        action), ``choice`` (0 = no response), ``correct``, ``early_responses`` (non-fixation actions before
        the decision period) and ``reward`` (summed over the trial).

    Examples
    --------
    >>> from course_utils.tasks import make_task
    >>> task = make_task("PerceptualDecisionMaking-v0")
    >>> agent, _ = train_agent(task, 20, n_envs=2, n_steps=16, batch_size=32, progress=False, eval_trials=5)
    >>> table = play_trials(agent, task, 30)
    >>> len(table), {"target", "choice", "correct", "early_responses"} <= set(table.columns)
    (30, True)

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}.")
    _check_trial_observations(env)
    if decision_period not in env.unwrapped.timing:
        raise ValueError(
            f"{type(env.unwrapped).__name__} has no period {decision_period!r}; "
            f"its periods are {list(env.unwrapped.timing)}."
        )
    n_par = max(1, min(n_parallel, n_trials))
    quota = np.full(n_par, n_trials // n_par) + (np.arange(n_par) < n_trials % n_par)
    envs = [copy.deepcopy(env) for _ in range(n_par)]
    current: list[dict] = []
    for i, copy_i in enumerate(envs):
        seed_task(copy_i, None if seed is None else seed + i)
        new_trial(copy_i)
        copy_i.unwrapped.t = copy_i.unwrapped.t_ind = 0
        current.append(_trial_record(copy_i.unwrapped, decision_period))
    obs = np.stack([np.asarray(e.unwrapped.ob[0], dtype=np.float32) for e in envs])
    starts = np.ones(n_par, dtype=bool)
    played = np.zeros(n_par, dtype=int)
    rows: list[dict] = []
    state = None
    while np.any(played < quota):
        actions, state = agent.predict(obs, state=state, episode_start=starts, deterministic=deterministic)
        starts[:] = False
        for i in np.flatnonzero(played < quota):
            task, record, action = envs[i].unwrapped, current[i], int(actions[i])
            if action != 0:
                if task.t_ind < record["_start"]:
                    record["early_responses"] += 1
                elif task.t_ind < record["_end"] and record["choice"] == 0:
                    record["choice"] = action
            ob, reward, _, _, info = envs[i].step(action)
            record["reward"] += float(reward)
            if info.get("new_trial", False):
                rows.append(_finish(record))
                played[i] += 1
                # the task has drawn the next trial already
                current[i] = _trial_record(envs[i].unwrapped, decision_period)
                starts[i] = reset_each_trial
            obs[i] = ob
    table = pd.DataFrame(rows)
    table["correct"] = table["choice"] == table["target"]
    return table


def _trial_record(task, period: str) -> dict:
    start, end = task.start_ind[period], task.end_ind[period]
    return {
        **dict(task.trial),
        "target": int(np.ravel(task.gt[start])[0]),
        "choice": 0,
        "early_responses": 0,
        "reward": 0.0,
        "_start": start,
        "_end": end,
    }


def _finish(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith("_")}
