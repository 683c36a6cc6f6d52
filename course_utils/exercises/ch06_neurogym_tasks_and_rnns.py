"""Checks for chapter 06_neurogym_tasks_and_rnns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..behavior.psychometric import fit_psychometric
from ..behavior.sdt import sdt_rates
from . import ExerciseFeedback, exercise


def _number(value, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as err:
        raise ExerciseFeedback(f"{what} should be a single number.") from err


@exercise("6.1", "How much of a trial is fixation?")
def check_fixation_fraction(fixation_fraction, gt) -> None:
    value = _number(fixation_fraction, "fixation_fraction")
    gt = np.asarray(gt)
    expected = float(np.mean(gt == 0))
    if abs(value - (1 - expected)) < 1e-9:
        raise ExerciseFeedback("that is the fraction of steps where the answer is NOT fixate.")
    if abs(value - np.sum(gt == 0)) < 1e-9:
        raise ExerciseFeedback("that is a count of steps; divide by the number of steps in the trial.")
    if abs(value - expected) > 1e-9:
        raise ExerciseFeedback("compare env.gt with 0 (the fixate action) and average over time steps.")


@exercise("6.2", "A Weibull fit of accuracy")
def check_weibull_threshold(weibull_threshold, probe: pd.DataFrame) -> None:
    value = _number(weibull_threshold, "weibull_threshold")
    expected = fit_psychometric(probe["coh"], probe["correct"], kind="weibull").params["threshold"]
    if not np.isfinite(value) or value <= 0:
        raise ExerciseFeedback("a threshold is a positive coherence in %.")
    if abs(value - expected) > 0.02 * expected:
        raise ExerciseFeedback(
            'fit kind="weibull" to probe["correct"] against the unsigned probe["coh"], then read '
            'params["threshold"].'
        )


@exercise("6.3", "d' at one coherence")
def check_dprime_64(dprime_64, probe: pd.DataFrame) -> None:
    value = _number(dprime_64, "dprime_64")
    at = probe[probe["coh"] == 6.4]
    chose_right = at["choice"] == 2
    expected = sdt_rates(at["ground_truth"] == 1, chose_right)["dprime"]
    everything = sdt_rates(probe["ground_truth"] == 1, probe["choice"] == 2)["dprime"]
    if abs(value - everything) < 1e-9 and abs(value - expected) > 1e-9:
        raise ExerciseFeedback("keep only the trials with coherence 6.4 first.")
    if abs(value + expected) < 1e-9 and abs(expected) > 1e-9:
        raise ExerciseFeedback("the sign is flipped: signal = right trials, response = chose right.")
    if abs(value - expected) > 1e-6:
        raise ExerciseFeedback("signal: ground_truth == 1; response: choice == 2 (right); use sdt_rates.")


@exercise("6.4", "Reaction times of correct trials")
def check_median_rt_correct(median_rt_correct, rt: pd.DataFrame) -> None:
    if not isinstance(median_rt_correct, pd.Series):
        raise ExerciseFeedback("the answer should be a pandas Series indexed by coherence (use groupby).")
    expected = rt[rt["correct"]].groupby("coh")["reaction_time_ms"].median()
    all_trials = rt.groupby("coh")["reaction_time_ms"].median()
    answer = median_rt_correct.sort_index()
    if list(answer.index) != list(expected.index):
        raise ExerciseFeedback("index the result by coherence: one value per coherence with correct trials.")
    if np.allclose(
        answer.values, all_trials.reindex(answer.index).values, equal_nan=True
    ) and not np.allclose(answer.values, expected.values, equal_nan=True):
        raise ExerciseFeedback("keep only the correct trials before taking the median.")
    if not np.allclose(answer.values, expected.values, equal_nan=True):
        raise ExerciseFeedback("group correct trials by coh and take the median of reaction_time_ms.")
