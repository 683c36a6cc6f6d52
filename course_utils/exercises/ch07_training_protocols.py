"""Checks for chapter 07_training_protocols."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..behavior.sdt import sdt_rates
from . import ExerciseFeedback, exercise


@exercise("7.1", "Summarise the protocols")
def check_protocol_table(protocol_table, summary: pd.DataFrame) -> None:
    if not isinstance(protocol_table, pd.DataFrame):
        raise ExerciseFeedback("the answer should be a DataFrame (groupby('protocol').agg(...)).")
    needed = ["mean_trials_to_criterion", "n_reached", "mean_final_accuracy"]
    missing = [c for c in needed if c not in protocol_table.columns]
    if missing:
        raise ExerciseFeedback(f"missing columns {missing}.")
    grouped = summary.groupby("protocol")
    expected = pd.DataFrame(
        {
            "mean_trials_to_criterion": grouped["trials_to_criterion"].mean(),
            "n_reached": grouped["trials_to_criterion"].count(),
            "mean_final_accuracy": grouped["final_accuracy"].mean(),
        }
    )
    if sorted(map(str, protocol_table.index)) != sorted(map(str, expected.index)):
        raise ExerciseFeedback("index the table by protocol: one row per protocol.")
    answer = protocol_table.loc[expected.index, needed]
    if not np.array_equal(answer["n_reached"].to_numpy(), expected["n_reached"].to_numpy()):
        raise ExerciseFeedback(
            "n_reached counts seeds with a trials_to_criterion value (NaN = never reached)."
        )
    for column in ("mean_trials_to_criterion", "mean_final_accuracy"):
        if not np.allclose(answer[column].astype(float), expected[column], equal_nan=True):
            raise ExerciseFeedback(
                f"{column}: average over seeds within each protocol (NaN values are skipped)."
            )


@exercise("7.2", "A catch-trial schedule")
def check_catch_protocol(catch_protocol, n_steps: int = 900) -> None:
    from ..tasks.protocols import Stage

    if not isinstance(catch_protocol, list | tuple) or not all(isinstance(s, Stage) for s in catch_protocol):
        raise ExerciseFeedback("a protocol is a list of Stage(name, n_steps, task_settings) objects.")
    if sum(s.n_steps for s in catch_protocol) != n_steps:
        raise ExerciseFeedback(f"the stages' n_steps should add up to n_catch_steps ({n_steps}).")
    probs = [s.task_settings.get("catch_prob") for s in catch_protocol]
    if any(p is None for p in probs):
        raise ExerciseFeedback('give every stage a "catch_prob" in its task_settings.')
    if probs[0] != 0:
        raise ExerciseFeedback("start with no catch trials (catch_prob 0).")
    if abs(probs[-1] - 0.3) > 1e-9:
        raise ExerciseFeedback("end at the full task's catch probability, 0.3.")
    if len(probs) < 3 or any(b <= a for a, b in zip(probs, probs[1:], strict=False)):
        raise ExerciseFeedback("raise catch_prob stage after stage, in at least two steps (so 3+ stages).")


@exercise("7.3", "The network's d', as for a mouse")
def check_network_dprime(network_dprime, change_trials: pd.DataFrame) -> None:
    try:
        value = float(network_dprime)
    except (TypeError, ValueError) as err:
        raise ExerciseFeedback("network_dprime should be a single number.") from err
    licked = change_trials["choice"] == 1
    expected = sdt_rates(change_trials["change"], licked)["dprime"]
    if abs(value + expected) < 1e-9 and abs(expected) > 1e-9:
        raise ExerciseFeedback("signal = change trials, noise = catch trials; the sign is flipped.")
    if abs(value - expected) > 1e-6:
        raise ExerciseFeedback("use sdt_rates(is_signal=change, responded=licked) and read its 'dprime'.")


def _wrapper_chain(env) -> list:
    from ..tasks.compat import _chain

    return _chain(env)


@exercise("7.4", "Two tasks in blocks, with the trial history as input")
def check_two_task_env(two_task_env) -> None:
    import copy

    if two_task_env is None or not hasattr(two_task_env, "step"):
        raise ExerciseFeedback("two_task_env should be an environment: wrap the tasks, don't call them.")
    chain = _wrapper_chain(two_task_env)
    names = [type(layer).__name__ for layer in chain]
    if "ScheduleEnvs" not in names:
        raise ExerciseFeedback(
            "combine the two tasks with ScheduleEnvs([task_a, task_b], schedule, env_input=True)."
        )
    missing = [w for w in ("PassReward", "PassAction") if w not in names]
    if missing:
        raise ExerciseFeedback(f"wrap the scheduled tasks in {' and '.join(missing)} as well.")
    schedule_at = names.index("ScheduleEnvs")
    if names.index("PassReward") > schedule_at or names.index("PassAction") > schedule_at:
        raise ExerciseFeedback(
            "build ScheduleEnvs first, then wrap it: PassAction(PassReward(ScheduleEnvs(...)))."
        )
    if names.index("PassAction") > names.index("PassReward"):
        raise ExerciseFeedback("wrap PassReward first and PassAction last, so the action is the last input.")
    scheduled = chain[schedule_at]
    kinds = sorted(type(env.unwrapped).__name__ for env in scheduled.envs)
    if kinds != ["DelayMatchSample", "PerceptualDecisionMaking"]:
        raise ExerciseFeedback(
            f"schedule exactly two tasks, PerceptualDecisionMaking-v0 and DelayMatchSample-v0 (got {kinds})."
        )
    if not scheduled.env_input:
        raise ExerciseFeedback("pass env_input=True, so that an input tells which task is on.")
    lens = list(getattr(scheduled.schedule, "block_lens", []))
    if type(scheduled.schedule).__name__ != "SequentialBlockSchedule" or lens != [20, 20]:
        raise ExerciseFeedback(
            "use SequentialBlockSchedule(2, block_lens=[20, 20]): alternating blocks of 20."
        )
    if two_task_env.observation_space.shape != (7,):
        raise ExerciseFeedback(
            f"expected 7 inputs (3 task inputs + 2 task-identity inputs + reward + action), got "
            f"{two_task_env.observation_space.shape}."
        )
    # Play it: after each step, the last two inputs are the reward just received and the action just taken.
    env = copy.deepcopy(two_task_env)
    env.reset(seed=0)
    for action in [0, 1, 2, 2, 1, 0] * 6:
        ob, reward, *_ = env.step(action)
        if not (np.isclose(ob[-1], action) and np.isclose(ob[-2], reward)):
            raise ExerciseFeedback(
                "after a step, the inputs should end with the reward received, then the action."
            )
