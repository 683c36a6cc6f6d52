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
def check_criterion(session_criterion, session_bias, hit_rate: float, false_alarm_rate: float) -> None:
    try:
        value = float(session_criterion)
    except (TypeError, ValueError) as err:
        raise ExerciseFeedback("session_criterion should be one number.") from err
    expected = criterion(hit_rate, false_alarm_rate)
    if abs(value + expected) < 1e-9 and abs(expected) > 1e-9:
        raise ExerciseFeedback("the sign is flipped: c = -(z(H) + z(F)) / 2, negative for a liberal subject.")
    if abs(value - expected) > 1e-9:
        raise ExerciseFeedback("use c = -(z(H) + z(F)) / 2 with the session's hit and false-alarm rates.")
    verdict = "liberal" if expected < -0.1 else "conservative" if expected > 0.1 else "unbiased"
    if session_bias not in ("liberal", "conservative", "unbiased"):
        raise ExerciseFeedback('session_bias should be "liberal", "conservative" or "unbiased".')
    if session_bias != verdict:
        raise ExerciseFeedback(
            "session_bias: a negative criterion means the mouse licks readily (liberal), a positive one that it "
            "holds back (conservative); within 0.1 of 0 call it unbiased."
        )


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


@exercise("5.5", "Build it: the corrected rolling false-alarm rate")
def check_rolling_false_alarm_rate(my_rolling_false_alarm_rate, trials: pd.DataFrame) -> None:
    """Compared with :func:`course_utils.allen.rolling_performance` on the same trials (non-aborted rows)."""
    from ..allen import rolling_performance

    answer = my_rolling_false_alarm_rate(trials)
    kept = trials.index[~trials["aborted"].astype(bool)]
    expected = rolling_performance(trials)["false_alarm_rate"].loc[kept].to_numpy(dtype=float)
    if not isinstance(answer, pd.Series):
        raise ExerciseFeedback("return a pandas Series indexed by the non-aborted trials.")
    if set(answer.index) != set(kept):
        raise ExerciseFeedback(
            f"index the Series by the non-aborted trials only ({len(kept)} of them), got {len(answer)} rows."
        )
    values = answer.loc[kept].to_numpy(dtype=float)
    if np.allclose(values, expected, equal_nan=True):
        return
    raw = trials.loc[kept, "false_alarm"].astype(float).where(trials.loc[kept, "catch"].astype(bool))
    uncorrected = raw.rolling(100, min_periods=0).mean().to_numpy()
    if np.allclose(values, uncorrected, equal_nan=True):
        raise ExerciseFeedback("these are the raw rates: apply the 1/(2N) correction, N = catch trials in the window.")
    if np.isnan(values).sum() != np.isnan(expected).sum():
        raise ExerciseFeedback("a window without catch trials (N = 0) should give NaN, and only such windows.")
    raise ExerciseFeedback(
        "not the same as AllenSDK's: average false_alarm over the catch trials among the last 100 non-aborted "
        "trials, then clip to [1/(2N), 1 - 1/(2N)]."
    )
