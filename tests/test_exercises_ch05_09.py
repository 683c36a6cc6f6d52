"""Checks of the exercises added or changed in chapters 05-09: each accepts the reference answer computed on
the same data and rejects the common mistakes with a hint (never the answer)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.exercises import feedback


def _trials(seed: int = 0, n: int = 300) -> pd.DataFrame:
    """A small trials table with AllenSDK's flags: go, catch, aborted and the outcomes."""
    rng = np.random.default_rng(seed)
    aborted = rng.random(n) < 0.1
    catch = ~aborted & (rng.random(n) < 0.15)
    go = ~aborted & ~catch
    lick = rng.random(n) < np.where(go, 0.8, 0.3)
    return pd.DataFrame({
        "go": go, "catch": catch, "aborted": aborted, "auto_rewarded": False,
        "hit": go & lick, "miss": go & ~lick, "false_alarm": catch & lick, "correct_reject": catch & ~lick,
        "start_time": np.arange(n) * 6.0, "change_time": np.arange(n) * 6.0 + 3.0,
        "response_latency": np.where(lick, 0.4, np.inf), "reward_volume": np.where(go & lick, 0.007, 0.0),
        "lick_times": [np.array([6.0 * i + 3.4]) if lk else np.array([]) for i, lk in enumerate(lick)],
    })


def test_5_4_needs_the_right_verdict():
    from course_utils.behavior.sdt import criterion

    c = criterion(0.9, 0.5)  # about -0.64: a liberal subject
    assert feedback("5.4", c, "liberal", 0.9, 0.5).startswith("✅")
    assert "liberal" in feedback("5.4", c, "conservative", 0.9, 0.5)
    assert feedback("5.4", 0.0, "unbiased", 0.5, 0.5).startswith("✅")


def test_5_5_rolling_false_alarm_rate_against_rolling_performance():
    trials = _trials()

    def reference(trials):
        kept = trials[~trials["aborted"]]
        responses = kept["false_alarm"].astype(float).where(kept["catch"])
        window = responses.rolling(100, min_periods=0)
        n = window.count()
        return window.mean().clip(lower=1 / (2 * n), upper=1 - 1 / (2 * n)).where(n > 0)

    def uncorrected(trials):
        kept = trials[~trials["aborted"]]
        return kept["false_alarm"].astype(float).where(kept["catch"]).rolling(100, min_periods=0).mean()

    assert feedback("5.5", reference, trials).startswith("✅")
    assert "1/(2N)" in feedback("5.5", uncorrected, trials)


def test_7_2_uses_the_given_budget():
    from course_utils.tasks.protocols import Stage

    protocol = [Stage("a", 100, {"catch_prob": 0.0}), Stage("b", 100, {"catch_prob": 0.1}),
                Stage("c", 100, {"catch_prob": 0.3})]
    assert feedback("7.2", protocol, 300).startswith("✅")
    assert "300" in feedback("7.2", protocol[:2], 300)


def test_trials_to_criterion_interpolates_between_probes():
    from course_utils.tasks import trials_to_criterion

    curves = pd.DataFrame({"protocol": "a", "seed": 0, "trials_seen": [0, 1000, 2000, 3000],
                           "accuracy": [0.5, 0.7, 0.9, 0.9]})
    exact = trials_to_criterion(curves, 0.8, interpolate=True).iloc[0]
    assert exact["trials_to_criterion"] == pytest.approx(1500.0)
    assert exact["probe_interval"] == 1000
    assert trials_to_criterion(curves, 0.8).iloc[0]["trials_to_criterion"] == 2000  # the probe time


class _Arrays:
    """What process_data returns, for one session (lists of arrays per split)."""

    def __init__(self, seed=0, lead_bins=3):
        rng = np.random.default_rng(seed)
        n, lags, neurons = 1500, 11, 6
        velocity = np.cumsum(rng.normal(size=(n + lags, 2)), axis=0) * 0.1
        spikes = np.zeros((n + lags, neurons))
        spikes[: len(spikes) - lead_bins] = velocity[lead_bins:] @ rng.normal(size=(2, neurons))  # spikes lead
        spikes += rng.normal(scale=0.3, size=spikes.shape)
        X = np.stack([spikes[t: t + lags] for t in range(n)])
        y = velocity[lags - 1: lags - 1 + n]
        cut1, cut2 = int(0.7 * n), int(0.8 * n)
        self.X_train, self.y_train = [X[:cut1]], [y[:cut1]]
        self.X_val, self.y_val = [X[cut1:cut2]], [y[cut1:cut2]]


def test_8_3_compares_with_the_scan_on_the_same_arrays():
    pytest.importorskip("torch")  # the check's reference scan uses course_utils.decoding (torch)
    arrays = _Arrays(lead_bins=3)
    assert feedback("8.3", 60, arrays, 20).startswith("✅")
    assert "bins" in feedback("8.3", 3, arrays, 20)
    assert feedback("8.3", 100, arrays, 20).startswith("❌")


def test_8_9_kalman_step_against_the_decoder():
    from course_utils.decoding import KalmanFilterDecoder

    arrays = _Arrays(lead_bins=0)
    kf = KalmanFilterDecoder().fit(arrays.X_train[0], arrays.y_train[0])

    def step(x, P, z, A, W, H, Q):
        x_pred, P_pred = A @ x, A @ P @ A.T + W
        K = P_pred @ H.T @ np.linalg.inv(H @ P_pred @ H.T + Q)
        return x_pred + K @ (z - H @ x_pred), (np.eye(len(x)) - K @ H) @ P_pred

    def no_predict(x, P, z, A, W, H, Q):
        K = P @ H.T @ np.linalg.inv(H @ P @ H.T + Q)
        return x + K @ (z - H @ x), (np.eye(len(x)) - K @ H) @ P

    assert feedback("8.9", step, kf, arrays.X_val[0]).startswith("✅")
    assert "predict first" in feedback("8.9", no_predict, kf, arrays.X_val[0])


def test_9_4_readout_against_the_module():
    torch = pytest.importorskip("torch")
    from course_utils.sensorium import FactorizedReadout

    readout = FactorizedReadout(n_neurons=5, channels=3, height=4, width=6)
    with torch.no_grad():
        readout.bias.normal_()
    features = torch.randn(2, 3, 7, 4, 6)

    def forward(f, mask, weights, bias):
        return torch.einsum("bcthw,nhw,nc->bnt", f, mask, weights) + bias[None, :, None]

    def without_bias(f, mask, weights, bias):
        return torch.einsum("bcthw,nhw,nc->bnt", f, mask, weights)

    assert feedback("9.4", forward, features, readout).startswith("✅")
    assert "bias" in feedback("9.4", without_bias, features, readout)
