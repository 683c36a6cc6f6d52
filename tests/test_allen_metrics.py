"""AllenSDK 2.16.2 performance metrics on hand-built trial tables, with answers worked out by hand.

Outcome codes: H hit, M miss, F false alarm, C correct reject, A aborted, R auto-rewarded.
Trial i starts at ``spacing * i``; the change (or sham change) is 3 s later; a response is one lick
0.4 s after the change; an aborted trial has one lick 1 s after its start.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from course_utils.allen.metrics import performance_metrics, response_latency, reward_rate, rolling_performance

ALL_KEYS = {
    "trial_count", "go_trial_count", "catch_trial_count", "hit_trial_count", "miss_trial_count",
    "false_alarm_trial_count", "correct_reject_trial_count", "auto_reward_count", "earned_reward_count",
    "total_reward_count", "total_reward_volume", "maximum_reward_rate", "engaged_trial_count", "mean_hit_rate",
    "mean_hit_rate_uncorrected", "mean_hit_rate_engaged", "mean_false_alarm_rate",
    "mean_false_alarm_rate_uncorrected", "mean_false_alarm_rate_engaged", "mean_dprime", "mean_dprime_engaged",
    "max_dprime", "max_dprime_engaged",
}


def make_trials(codes: str, spacing: float = 10.0, passive: bool = False) -> pd.DataFrame:
    rows = []
    for i, code in enumerate(codes):
        start = spacing * i
        aborted = code == "A"
        change = np.nan if aborted else start + 3.0
        if passive:
            licks = []
        elif aborted:
            licks = [start + 1.0]
        elif code in "HFR":
            licks = [change + 0.4]
        else:
            licks = []
        rows.append({
            "start_time": start, "stop_time": start + spacing, "change_time": change,
            "lick_times": np.array(licks), "aborted": aborted, "go": code in "HM", "catch": code in "FC",
            "hit": code == "H", "miss": code == "M", "false_alarm": code == "F", "correct_reject": code == "C",
            "auto_rewarded": code == "R",
            "reward_volume": 0.0 if passive else {"H": 0.007, "R": 0.005}.get(code, 0.0),
        })
    trials = pd.DataFrame(rows)
    trials.index.name = "trials_id"
    return trials


def make_rewards(trials: pd.DataFrame) -> pd.DataFrame:
    rewarded = trials[trials["reward_volume"] > 0]
    return pd.DataFrame({"volume": rewarded["reward_volume"].to_numpy(),
                         "timestamps": rewarded["change_time"].to_numpy() + 0.4,
                         "auto_rewarded": rewarded["auto_rewarded"].to_numpy()})


def z(p):
    return norm.ppf(p)


def test_response_latency_skips_too_fast_licks():
    trials = pd.DataFrame({"change_time": [10.0, 10.0, 10.0, np.nan],
                           "lick_times": [[10.1, 10.5, 10.6], [10.1], [], [3.0]]})
    latency = response_latency(trials, response_window_start=0.15)
    assert latency[0] == pytest.approx(0.5)
    assert np.isinf(latency[1:]).all()


def test_rolling_rates_by_hand():
    trials = make_trials("HHMFC")
    rolling = rolling_performance(trials)
    assert list(rolling.columns) == ["reward_rate", "hit_rate_raw", "hit_rate", "false_alarm_rate_raw",
                                     "false_alarm_rate", "rolling_dprime"]
    np.testing.assert_allclose(rolling["hit_rate_raw"], [1, 1, 2 / 3, 2 / 3, 2 / 3])
    # 1/(2N) correction: N=1 -> [0.5, 0.5]; N=2 -> [0.25, 0.75]; N=3 -> [1/6, 5/6]
    np.testing.assert_allclose(rolling["hit_rate"], [0.5, 0.75, 2 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(rolling["false_alarm_rate_raw"], [np.nan, np.nan, np.nan, 1.0, 0.5])
    np.testing.assert_allclose(rolling["false_alarm_rate"], [np.nan, np.nan, np.nan, 0.5, 0.5])
    np.testing.assert_allclose(rolling["rolling_dprime"], [np.nan, np.nan, np.nan, z(2 / 3), z(2 / 3)])
    assert rolling["reward_rate"].isna().all()  # fewer than 10 trials


def test_metrics_every_key_by_hand():
    trials = make_trials("HHMFC")
    metrics = performance_metrics(trials, make_rewards(trials))
    assert set(metrics) == ALL_KEYS
    expected = {
        "trial_count": 5, "go_trial_count": 3, "catch_trial_count": 2, "hit_trial_count": 2,
        "miss_trial_count": 1, "false_alarm_trial_count": 1, "correct_reject_trial_count": 1,
        "auto_reward_count": 0, "earned_reward_count": 2, "total_reward_count": 2,
        "total_reward_volume": 0.014, "engaged_trial_count": 0,
        "mean_hit_rate": (0.5 + 0.75 + 2.0) / 5, "mean_hit_rate_uncorrected": 0.8,
        "mean_false_alarm_rate": 0.5, "mean_false_alarm_rate_uncorrected": 0.75,
        "mean_dprime": z(2 / 3), "max_dprime": z(2 / 3),
    }
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value), key
    for key in ("maximum_reward_rate", "mean_hit_rate_engaged", "mean_false_alarm_rate_engaged",
                "mean_dprime_engaged", "max_dprime_engaged"):
        assert math.isnan(metrics[key]), key


def test_reward_rate_centred_window_and_engagement():
    trials = make_trials("H" * 30)  # every trial rewarded, starts 10 s apart
    rate = reward_rate(trials)
    assert np.isnan(rate[:10]).all()
    assert rate[10] == pytest.approx(30 / 290 * 60)  # iloc[0:30]
    assert rate[26] == pytest.approx(29 / 280 * 60)  # iloc[1:30]
    assert rate[29] == pytest.approx(26 / 250 * 60)  # iloc[4:30]
    metrics = performance_metrics(trials, make_rewards(trials))
    assert metrics["engaged_trial_count"] == 20
    assert metrics["maximum_reward_rate"] == pytest.approx(26 / 250 * 60)
    # all hits: hit rate 1 - 1/(2N), no catch trials -> d' NaN
    assert metrics["mean_hit_rate_engaged"] == pytest.approx(np.mean([1 - 1 / (2 * n) for n in range(11, 31)]))
    assert math.isnan(metrics["mean_dprime_engaged"])


def test_engagement_threshold_is_strict():
    # 11 trials 3 s apart, only the first rewarded: trial 10 sees 1 reward in 30 s = exactly 2 per minute
    trials = make_trials("H" + "M" * 10, spacing=3.0)
    rate = reward_rate(trials)
    assert rate[10] == pytest.approx(2.0)
    metrics = performance_metrics(trials, make_rewards(trials))
    assert metrics["engaged_trial_count"] == 0
    assert metrics["maximum_reward_rate"] == pytest.approx(2.0)
    assert performance_metrics(trials, make_rewards(trials), engaged_threshold=1.99)["engaged_trial_count"] == 1


def test_window_counts_only_non_aborted_trials():
    trials = make_trials("M" * 50 + "A" * 20 + "H" * 100)
    rolling = rolling_performance(trials)
    aborted = trials["aborted"].to_numpy()
    assert rolling.loc[aborted, ["hit_rate_raw", "hit_rate", "rolling_dprime"]].isna().all().all()
    assert not np.isnan(rolling["reward_rate"].to_numpy()[aborted]).any()
    # last trial: the last 100 non-aborted trials are all hits -> 1 - 1/200
    assert rolling["hit_rate_raw"].iloc[-1] == 1.0
    assert rolling["hit_rate"].iloc[-1] == pytest.approx(0.995)
    # 50th hit: 50 misses + 50 hits in the window
    assert rolling["hit_rate_raw"].iloc[70 + 49] == pytest.approx(0.5)


def test_all_aborted():
    trials = make_trials("AAAA")
    metrics = performance_metrics(trials, make_rewards(trials))
    assert metrics["trial_count"] == 4
    assert metrics["go_trial_count"] == metrics["catch_trial_count"] == 0
    assert metrics["total_reward_count"] == 0 and metrics["total_reward_volume"] == 0.0
    assert metrics["engaged_trial_count"] == 0
    for key in ("mean_hit_rate", "mean_dprime", "max_dprime", "maximum_reward_rate"):
        assert math.isnan(metrics[key]), key


def test_no_catch_trials():
    trials = make_trials("HHM")
    metrics = performance_metrics(trials, make_rewards(trials))
    assert metrics["catch_trial_count"] == 0
    assert metrics["mean_hit_rate_uncorrected"] == pytest.approx((1 + 1 + 2 / 3) / 3)
    assert math.isnan(metrics["mean_false_alarm_rate"])
    assert math.isnan(metrics["mean_dprime"]) and math.isnan(metrics["max_dprime"])


def test_auto_rewarded_trials_are_not_go_responses():
    trials = make_trials("RRHM")
    rolling = rolling_performance(trials)
    assert rolling["hit_rate_raw"].isna().tolist() == [True, True, False, False]
    metrics = performance_metrics(trials, make_rewards(trials))
    assert metrics["auto_reward_count"] == 2 and metrics["earned_reward_count"] == 1
    assert metrics["total_reward_count"] == 3
    assert metrics["total_reward_volume"] == pytest.approx(0.017)


def test_passive_session_has_zero_dprime():
    trials = make_trials("MMCC", passive=True)
    rolling = rolling_performance(trials)
    assert (rolling["rolling_dprime"] == 0).all()
    np.testing.assert_allclose(rolling["hit_rate"], [0.5, 0.25, 0.25, 0.25])
    metrics = performance_metrics(trials, make_rewards(trials))
    assert metrics["mean_dprime"] == 0.0 and metrics["max_dprime"] == 0.0
    assert metrics["total_reward_count"] == 0


def test_missing_column_is_a_clear_error():
    trials = make_trials("HM").drop(columns=["catch"])
    with pytest.raises(ValueError, match="catch"):
        rolling_performance(trials)
    with pytest.raises(ValueError, match="volume"):
        performance_metrics(make_trials("HM"), pd.DataFrame({"timestamps": []}))
    with pytest.raises(TypeError, match="DataFrame"):
        rolling_performance([1, 2, 3])


def test_handoff_criterion_two_of_three():
    from course_utils.allen.metrics import handoff_criterion_met

    assert handoff_criterion_met([0.5, 1.2, 0.8, 1.5, 2.0]).tolist() == [False, False, False, True, True]
    # strict: exactly 1.0 does not pass; NaN (e.g. no catch trials) does not pass
    assert handoff_criterion_met([1.0, 1.0, np.nan, 1.1]).tolist() == [False] * 4
    assert handoff_criterion_met([1.1, 0.0, 0.0, 1.2, 0.0, 1.3]).tolist() == [False, False, False, False,
                                                                             False, True]


def test_seconds_carry_the_s_suffix_and_allensdks_name_still_works():
    trials = pd.DataFrame({"change_time": [1.0, 1.0, np.nan], "lick_times": [[1.1, 1.4], [1.3], []]})
    course = response_latency(trials, response_window_start_s=0.2)
    np.testing.assert_allclose(course, [0.4, 0.3, np.inf])
    np.testing.assert_array_equal(course, response_latency(trials, response_window_start=0.2))
