"""Agents trained by reward: one trial per episode, playing trials like an animal, and a learning test."""

from __future__ import annotations

import sys

import neurogym  # noqa: F401  (no skip: fail loudly if the course's install step was skipped)
import numpy as np
import pytest

from course_utils.tasks import (
    TrialEpisodes,
    make_task,
    play_trials,
    require_sb3,
    train_agent,
)


class Scripted:
    """A stand-in agent with Stable-Baselines3's predict(): plays a fixed action at every step."""

    def __init__(self, action: int) -> None:
        self.action = action
        self.starts: list[np.ndarray] = []

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        self.starts.append(np.array(episode_start))
        return np.full(len(obs), self.action), state


def test_trial_episodes_end_each_trial_and_reset_starts_the_next_one():
    env = TrialEpisodes(make_task("PerceptualDecisionMaking-v0"))
    ob, info = env.reset(seed=0)
    task = env.unwrapped
    first = dict(task.trial)
    assert info["trial"] == first and task.t_ind == 0
    np.testing.assert_array_equal(ob, task.ob[0])
    # respond "right" at every step: nothing happens before the decision period, then the trial ends
    ends = [env.step(2) for _ in range(22)]
    assert [e[2] for e in ends] == [False] * 21 + [True] and not any(e[3] for e in ends)
    reward = ends[-1][1]
    assert reward == (1.0 if first["ground_truth"] == 1 else 0.0)
    drawn = dict(task.trial)  # the task drew the next trial when this one ended
    _, info = env.reset()
    assert info["trial"] == drawn and task.t_ind == 0
    # the same seed gives the same first trial
    assert env.reset(seed=0)[1]["trial"] == first


def test_trial_episodes_refuse_step_level_wrappers():
    from neurogym.wrappers import PassReward

    with pytest.raises(TypeError, match="PassReward"):
        TrialEpisodes(PassReward(make_task("PerceptualDecisionMaking-v0")))


def test_play_trials_reads_the_choice_in_the_decision_period():
    task = make_task("PerceptualDecisionMaking-v0")
    always_right = Scripted(2)
    table = play_trials(always_right, task, 250, seed=1, n_parallel=20)
    assert len(table) == 250
    assert (table["choice"] == 2).all()
    np.testing.assert_array_equal(table["correct"], table["ground_truth"] == 1)
    np.testing.assert_array_equal(table["target"], table["ground_truth"] + 1)
    # it responded at all 21 steps before the decision (1 fixation step, 20 stimulus steps)...
    assert (table["early_responses"] == 21).all()
    # ...and was penalised only for breaking fixation (-0.1), rewarded +1 when right
    np.testing.assert_allclose(table["reward"], np.where(table["correct"], 0.9, -0.1))
    # each trial starts the agent's memory afresh: 20 parallel copies x 22 steps per trial
    starts = np.array(always_right.starts[: 22 * 3])
    assert starts[::22].all() and not starts[1:22].any()


def test_play_trials_no_response_is_choice_zero_and_seeds_reproduce():
    task = make_task("PerceptualDecisionMaking-v0")
    table = play_trials(Scripted(0), task, 40, seed=5)
    assert (table["choice"] == 0).all() and not table["correct"].any()
    assert (table["early_responses"] == 0).all() and (table["reward"] == 0).all()
    again = play_trials(Scripted(0), task, 40, seed=5)
    assert table[["ground_truth", "coh"]].equals(again[["ground_truth", "coh"]])
    with pytest.raises(ValueError, match="no period 'response'"):
        play_trials(Scripted(0), task, 5, decision_period="response")


def test_agent_learns_an_easy_decision_by_reward(tmp_path, monkeypatch):
    """Learning test (not timed): strong evidence, short trials; the agent must go from chance to >= 0.9."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # SB3's default logger would make a folder here
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    task = make_task("PerceptualDecisionMaking-v0", cohs=[25.6, 51.2], timing={"stimulus": 300})
    agent, history = train_agent(task, 3000, seed=0, n_envs=8, n_steps=32, progress=False, eval_trials=200)
    assert not list(tmp_path.glob("SB3-*")), "training left an SB3 log folder behind"
    curve = history.curve()
    assert curve["accuracy"].iloc[0] < 0.7  # an untrained agent is near chance (or never responds)
    table = play_trials(agent, task, 500, seed=999)
    assert table["correct"].mean() >= 0.9
    assert history.trials >= 3000 and history.steps >= 3000 * 5


def test_train_agent_bad_arguments_are_named():
    task = make_task("PerceptualDecisionMaking-v0")
    with pytest.raises(ValueError, match="n_trials"):
        train_agent(task, 0)
    with pytest.raises(ValueError, match="n_envs and n_steps"):
        train_agent(task, 10, n_envs=0)


def test_missing_stable_baselines_names_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "sb3_contrib", None)
    with pytest.raises(ImportError, match=r"course-utils\[tasks\]"):
        require_sb3()
