"""Chapter 2 and 5 exercise checks: the instructor's answers pass, typical mistakes get a hint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from test_allen_metrics import make_trials

from course_utils.allen.sessions import STAGE_ORDER, add_derived_columns
from course_utils.exercises import ExerciseFeedback, check_exercise
from course_utils.exercises.ch02_allen_loading import (
    check_flash_interval,
    check_fraction_running,
    check_sessions_per_stage,
)
from course_utils.exercises.ch05_allen_behavior_analysis import (
    check_criterion,
    check_median_latency,
    check_my_dprime,
    check_rates,
)


def test_ch02_checks():
    mouse = add_derived_columns(pd.DataFrame({"session_type": [
        "TRAINING_0_gratings_autorewards_15min", "TRAINING_1_gratings", "TRAINING_1_gratings", "OPHYS_1_images_A"]}))
    right = mouse["training_stage"].value_counts().sort_index(key=lambda s: s.map(STAGE_ORDER))
    check_sessions_per_stage(right, mouse)
    with pytest.raises(ExerciseFeedback, match="training order"):
        check_sessions_per_stage(right.iloc[::-1], mouse)
    with pytest.raises(ExerciseFeedback, match="training_stage"):
        check_sessions_per_stage(mouse["session_type"].value_counts(), mouse)
    stim = pd.DataFrame({"start_time": [0.0, 0.75, 1.5, 2.25, 3.0], "omitted": [False, False, True, False, False]})
    check_flash_interval(0.75, stim)
    with pytest.raises(ExerciseFeedback, match="milliseconds"):
        check_flash_interval(750, stim)
    running = pd.DataFrame({"speed": [0.0, 10.0, 20.0, 1.0]})
    check_fraction_running(0.5, running)
    with pytest.raises(ExerciseFeedback, match="between 0 and 1"):
        check_fraction_running(50, running)


def test_ch05_checks():
    trials = make_trials("HHMFCA")
    trials["response_latency"] = np.where(trials["hit"], 0.4, np.inf)
    check_rates(2 / 3, 0.5, trials)
    with pytest.raises(ExerciseFeedback, match="go trials"):
        check_rates(2 / 6, 0.5, trials)
    check_median_latency(0.4, trials)
    with pytest.raises(ExerciseFeedback, match="milliseconds"):
        check_median_latency(400, trials)

    def good(h, f):
        return norm.ppf(np.clip(h, 0.01, 0.99)) - norm.ppf(np.clip(f, 0.01, 0.99))

    check_my_dprime(good)
    with pytest.raises(ExerciseFeedback, match="clip"):
        check_my_dprime(lambda h, f: norm.ppf(h) - norm.ppf(f))
    with pytest.raises(ExerciseFeedback, match="sign"):
        check_my_dprime(lambda h, f: -good(h, f))
    c = -(norm.ppf(0.8) + norm.ppf(0.3)) / 2
    assert c < -0.1  # z(0.8) + z(0.3) > 0.2: a liberal subject
    check_criterion(c, "liberal", 0.8, 0.3)
    with pytest.raises(ExerciseFeedback, match="sign"):
        check_criterion(-c, "liberal", 0.8, 0.3)
    with pytest.raises(ExerciseFeedback, match="licks readily"):
        check_criterion(c, "conservative", 0.8, 0.3)
    with pytest.raises(ExerciseFeedback, match="session_bias should be"):
        check_criterion(c, "eager", 0.8, 0.3)


def test_registered_and_friendly():
    assert not check_exercise("5.3", ..., verbose=False)
    assert check_exercise("2.2", 0.75, pd.DataFrame({"start_time": [0.0, 0.75], "omitted": [False, False]}),
                          verbose=False)
