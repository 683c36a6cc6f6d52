"""Exercise 7.4's check (NeuroGym wrappers): the solution passes, each typical mistake gets its hint."""

from __future__ import annotations

import neurogym  # noqa: F401  (no skip: fail loudly if the course's install step was skipped)
import pytest
from neurogym.utils.scheduler import RandomSchedule, SequentialBlockSchedule
from neurogym.wrappers import PassAction, PassReward, ScheduleEnvs

from course_utils.exercises import ExerciseFeedback
from course_utils.exercises.ch07_training_protocols import check_two_task_env
from course_utils.tasks import make_task


def _tasks(second: str = "DelayMatchSample-v0"):
    return [make_task("PerceptualDecisionMaking-v0"), make_task(second)]


def _scheduled(schedule=None, env_input=True, second="DelayMatchSample-v0"):
    schedule = schedule or SequentialBlockSchedule(2, block_lens=[20, 20])
    return ScheduleEnvs(_tasks(second), schedule, env_input=env_input)


def test_solution_passes():
    check_two_task_env(PassAction(PassReward(_scheduled())))


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda: _scheduled(), "PassReward and PassAction"),
        (lambda: PassReward(_scheduled()), "PassAction as well"),
        (lambda: PassReward(PassAction(_scheduled())), "PassReward first and PassAction last"),
        (lambda: PassAction(PassReward(_scheduled(env_input=False))), "env_input=True"),
        (lambda: PassAction(PassReward(_scheduled(RandomSchedule(2)))), "SequentialBlockSchedule"),
        (
            lambda: PassAction(PassReward(_scheduled(SequentialBlockSchedule(2, block_lens=[10, 10])))),
            "block_lens=[20, 20]",
        ),
        (
            lambda: PassAction(PassReward(_scheduled(second="PerceptualDecisionMaking-v0"))),
            "DelayMatchSample",
        ),
        (lambda: PassAction(PassReward(make_task("PerceptualDecisionMaking-v0"))), "ScheduleEnvs"),
        (lambda: make_task, "should be an environment"),
    ],
)
def test_typical_mistakes_get_a_hint(answer, hint):
    with pytest.raises(ExerciseFeedback, match=hint.replace("[", r"\[").replace("(", r"\(")):
        check_two_task_env(answer())


def test_check_does_not_step_the_learners_env():
    env = PassAction(PassReward(_scheduled()))
    check_two_task_env(env)
    assert env.unwrapped.trial is None  # the check played a copy
