"""Checks for chapter 05_allen_behavior_analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..behavior.sdt import criterion, dprime
from . import ExerciseFeedback, exercise


@exercise("5.1", "Hit and false-alarm rates")
def check_rates(hit_rate, false_alarm_rate, trials: pd.DataFrame) -> None:
    go, catch = trials["go"].astype(bool), trials["catch"].astype(bool)
    expected_hit = trials.loc[go, "hit"].mean()
    expected_fa = trials.loc[catch, "false_alarm"].mean()
    try:
        hit_rate, false_alarm_rate = float(hit_rate), float(false_alarm_rate)
    except (TypeError, ValueError) as err:
        raise ExerciseFeedback("both rates should be single numbers between 0 and 1.") from err
    if abs(hit_rate - trials["hit"].mean()) < 1e-9 and abs(hit_rate - expected_hit) > 1e-9:
        raise ExerciseFeedback("the hit rate is a fraction of go trials only, not of all trials.")
    if abs(hit_rate - expected_hit) > 1e-9:
        raise ExerciseFeedback("hit rate: among go trials (go == True), the fraction that are hits.")
    if abs(false_alarm_rate - expected_fa) > 1e-9:
        raise ExerciseFeedback("false-alarm rate: among catch trials (catch == True), the fraction with a false alarm.")


@exercise("5.3", "Your own d'")
def check_my_dprime(my_dprime) -> None:
    grid = [(0.9, 0.1), (0.6, 0.5), (0.5, 0.6), (1.0, 0.0), (0.999, 0.2), (0.3, 0.001)]
    for hit, fa in grid:
        try:
            value = float(my_dprime(hit, fa))
        except NotImplementedError:
            raise
        except Exception as err:  # noqa: BLE001 - a learner's function may raise anything
            raise ExerciseFeedback(f"my_dprime({hit}, {fa}) raised {type(err).__name__}: {err}") from err
        expected = dprime(hit, fa)
        if not np.isfinite(value):
            raise ExerciseFeedback(f"my_dprime({hit}, {fa}) is not finite: clip both rates to [0.01, 0.99] first.")
        if abs(value - expected) > 1e-9:
            if abs(value + expected) < 1e-9:
                raise ExerciseFeedback("the sign is flipped: d' is z(hit rate) minus z(false-alarm rate).")
            raise ExerciseFeedback(
                f"my_dprime({hit}, {fa}) is off: use scipy.stats.norm.ppf as z, after clipping to [0.01, 0.99]."
            )


@exercise("5.4", "Bias: the criterion")
def check_criterion(session_criterion, hit_rate: float, false_alarm_rate: float) -> None:
    try:
        value = float(session_criterion)
    except (TypeError, ValueError) as err:
        raise ExerciseFeedback("session_criterion should be one number.") from err
    expected = criterion(hit_rate, false_alarm_rate)
    if abs(value + expected) < 1e-9 and abs(expected) > 1e-9:
        raise ExerciseFeedback("the sign is flipped: c = -(z(H) + z(F)) / 2, negative for a liberal subject.")
    if abs(value - expected) > 1e-9:
        raise ExerciseFeedback("use c = -(z(H) + z(F)) / 2 with the session's hit and false-alarm rates.")


@exercise("5.2", "Reaction times")
def check_median_latency(median_latency_s, trials: pd.DataFrame) -> None:
    try:
        value = float(median_latency_s)
    except (TypeError, ValueError) as err:
        raise ExerciseFeedback("median_latency_s should be one number, in seconds.") from err
    if value > 100:
        raise ExerciseFeedback("that looks like milliseconds: the tables are in seconds.")
    expected = float(trials.loc[trials["hit"], "response_latency"].median())
    if not np.isfinite(value):
        raise ExerciseFeedback("use hits only: misses have an infinite latency.")
    if abs(value - expected) > 1e-9:
        raise ExerciseFeedback("take response_latency of the hit trials (hit == True) and its median.")
