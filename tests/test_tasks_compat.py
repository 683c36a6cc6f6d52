"""NeuroGym under the installed gymnasium (0.29 or 1.x): the compatibility layer and our own batches.

CI runs the task tests under the gymnasium that `make install` picks (the newest 1.x). To run them under
0.29 too without a second full environment, overlay that one package on the project's environment:

    python3 -m venv /tmp/gym029
    echo "import site; site.addsitedir('$PWD/.venv/lib/python3.11/site-packages')" \
        > /tmp/gym029/lib/python3.11/site-packages/zz_course.pth
    /tmp/gym029/bin/pip install --no-deps "gymnasium==0.29.1"
    /tmp/gym029/bin/python -m pytest tests/test_tasks*.py
"""

from __future__ import annotations

import gymnasium
import neurogym  # noqa: F401  (no skip: fail loudly if the course's install step was skipped)
import numpy as np
import pytest
from neurogym.utils.scheduler import SequentialBlockSchedule
from neurogym.wrappers import PassAction, PassReward, ScheduleEnvs, SideBias

from course_utils.tasks import (
    TrialBatches,
    make_dataset,
    make_task,
    new_trial,
    run_trials,
    sample_trials,
    seed_task,
    trial_source,
)
from course_utils.tasks.evaluation import ReactionTimeTargets


def test_installed_gymnasium_is_supported():
    major, minor = (int(x) for x in gymnasium.__version__.split(".")[:2])
    assert (major, minor) >= (0, 29)


def test_trial_source_skips_step_wrappers_and_finds_trial_wrappers():
    task = make_task("PerceptualDecisionMaking-v0")
    assert trial_source(task) is task
    assert trial_source(PassAction(PassReward(task))) is task
    biased = SideBias(make_task("PerceptualDecisionMaking-v0"), probs=[[0.9, 0.1], [0.1, 0.9]], block_dur=50)
    assert trial_source(PassReward(biased)) is biased
    with pytest.raises(TypeError, match="wraps no NeuroGym task"):
        trial_source(gymnasium.make("CartPole-v1"))


def test_new_trial_through_wrappers_keeps_the_wrappers_effect():
    # SideBias draws the side itself: with probability 1 for "left" in block 0, every trial is left
    biased = SideBias(make_task("PerceptualDecisionMaking-v0"), probs=[[1.0, 0.0]], block_dur=1000)
    wrapped = PassAction(biased)
    seed_task(wrapped, 0)
    sides = {new_trial(wrapped)["ground_truth"] for _ in range(30)}
    assert sides == {0}
    assert wrapped.unwrapped.ob.shape == (22, 3)


def test_seed_task_reproduces_trials_through_wrappers():
    wrapped = PassReward(make_task("PerceptualDecisionMaking-v0"))
    seed_task(wrapped, 4)
    first = [new_trial(wrapped) for _ in range(5)]
    first_ob = wrapped.unwrapped.ob.copy()
    seed_task(wrapped, 4)
    assert [new_trial(wrapped) for _ in range(5)] == first
    np.testing.assert_array_equal(wrapped.unwrapped.ob, first_ob)


def test_batches_are_the_trials_laid_end_to_end():
    task = make_task("PerceptualDecisionMaking-v0")
    batches = TrialBatches(task, batch_size=2, seq_len=30, seed=3)
    inputs, targets = batches()
    second_inputs, second_targets = batches()
    # column 0 replays the trials of a task seeded with 3: 22 + 22 + 22 steps over two batches of 30
    replay = make_task("PerceptualDecisionMaking-v0")
    seed_task(replay, 3)
    obs, gts = [], []
    for _ in range(3):
        new_trial(replay)
        obs.append(replay.ob)
        gts.append(replay.gt)
    stream_ob, stream_gt = np.concatenate(obs), np.concatenate(gts)
    np.testing.assert_array_equal(np.concatenate([inputs[:, 0], second_inputs[:, 0]]), stream_ob[:60])
    np.testing.assert_array_equal(np.concatenate([targets[:, 0], second_targets[:, 0]]), stream_gt[:60])
    # one decision step per trial, at steps 21, 43 (and 65, in the next batch)
    assert list(np.flatnonzero(np.concatenate([targets[:, 0], second_targets[:, 0]]))) == [21, 43]
    # columns are independent streams (seed + column)
    assert not np.array_equal(inputs[:, 0], inputs[:, 1])
    assert batches.trials_drawn == 6
    assert task.trial is None  # the caller's task is never used


def test_batches_reproducible_and_refresh_drops_unfinished_trials():
    a = make_dataset("PerceptualDecisionMaking-v0", batch_size=3, seq_len=50, seed=0)
    b = make_dataset("PerceptualDecisionMaking-v0", batch_size=3, seq_len=50, seed=0)
    np.testing.assert_array_equal(a()[0], b()[0])
    np.testing.assert_array_equal(a()[0], b()[0])
    b.refresh()  # the next batch of b starts with a new trial in every column
    _, targets = b()
    assert all(np.flatnonzero(targets[:, i])[0] == 21 for i in range(3))


def test_skipped_batches_are_drawn_lazily_and_exactly():
    drawn = make_dataset("PerceptualDecisionMaking-v0", batch_size=3, seq_len=50, seed=0)
    for _ in range(4):
        drawn()
    lazy = make_dataset("PerceptualDecisionMaking-v0", batch_size=3, seq_len=50, seed=0)
    before = lazy._trials_drawn
    lazy.skip(4)
    assert lazy._trials_drawn == before  # nothing drawn yet
    # any use settles the debt first: the counter, the columns' tasks and the next batch are as if drawn
    assert lazy.trials_drawn == drawn.trials_drawn
    assert [e.unwrapped.trial for e in lazy.envs] == [e.unwrapped.trial for e in drawn.envs]
    np.testing.assert_array_equal(lazy()[0], drawn()[0])
    # refresh and seed settle too, so settings changed on the columns apply only after the skipped batches
    other = make_dataset("PerceptualDecisionMaking-v0", batch_size=3, seq_len=50, seed=0)
    other.skip(2)
    other.refresh()
    assert other._trials_drawn > 0
    with pytest.raises(ValueError, match="n_batches"):
        other.skip(-1)


def test_batches_follow_trial_wrappers():
    # ReactionTimeTargets rewrites the ground truth in new_trial: the batches carry the rewritten targets
    batches = TrialBatches(ReactionTimeTargets(make_task("PerceptualDecisionMaking-v0")), 1, 22, seed=0)
    _, targets = batches()
    assert np.all(targets[2:21, 0] != 0) and np.all(targets[:2, 0] == 0)


def test_batches_from_two_scheduled_tasks_with_a_task_input():
    tasks = [make_task("PerceptualDecisionMaking-v0"), make_task("DelayMatchSample-v0")]
    env = ScheduleEnvs(tasks, SequentialBlockSchedule(2, block_lens=[1, 1]), env_input=True)
    inputs, _ = TrialBatches(env, batch_size=1, seq_len=200, seed=0)()
    assert inputs.shape == (200, 1, 5)
    task_input = inputs[:, 0, 3:]
    assert set(task_input.sum(axis=1)) == {1.0}  # exactly one task is on at each step
    assert task_input[:, 0].any() and task_input[:, 1].any()  # both tasks are played


def test_batches_refuse_step_level_wrappers():
    with pytest.raises(ValueError, match="PassReward"):
        TrialBatches(PassReward(make_task("PerceptualDecisionMaking-v0")), 2, 10)
    with pytest.raises(ValueError, match="batch_size and seq_len"):
        TrialBatches(make_task("PerceptualDecisionMaking-v0"), 0, 10)


def test_tables_and_evaluation_through_wrappers():
    wrapped = PassAction(make_task("PerceptualDecisionMaking-v0"))
    assert len(sample_trials(wrapped, 10, seed=0)) == 10

    class AlwaysRight:
        def eval(self):
            return self

        def __call__(self, x):
            import torch

            logits = torch.zeros(*x.shape[:2], 3)
            logits[..., 2] = 1.0
            return logits

    table = run_trials(AlwaysRight(), wrapped, 200, seed=1)
    assert (table["choice"] == 2).all()
    np.testing.assert_array_equal(table["correct"], table["ground_truth"] == 1)
    assert (table["early_responses"] == 21).all()  # 1 fixation + 20 stimulus steps before the decision


def test_wrappers_step_under_the_installed_gymnasium():
    env = PassAction(PassReward(make_task("PerceptualDecisionMaking-v0")))
    env.reset(seed=0)
    for action in [0, 1, 2, 0]:
        ob, reward, terminated, truncated, info = env.step(action)
        assert ob.shape == (5,) and ob[-1] == action and ob[-2] == reward
        assert not terminated and not truncated and "new_trial" in info


def test_reaction_times_are_reproducible_given_the_seed():
    # NeuroGym's reset(seed=...) does not seed the trials; measure_reaction_times seeds the task itself
    import torch

    from course_utils.tasks import RecurrentNetwork, measure_reaction_times

    torch.manual_seed(0)
    net = RecurrentNetwork(3, 3, hidden_size=8, cell="gru")
    first = measure_reaction_times(net, make_task("PerceptualDecisionMaking-v0"), 30, bound=0.4, seed=7)
    again = measure_reaction_times(net, make_task("PerceptualDecisionMaking-v0"), 30, bound=0.4, seed=7)
    assert first[["ground_truth", "coh"]].equals(again[["ground_truth", "coh"]])
    assert first["reaction_time_ms"].equals(again["reaction_time_ms"])
