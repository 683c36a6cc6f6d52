"""Kalman filter decoder on a simulated linear dynamical system with an analytic R² ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.decoding import KalmanFilterDecoder, WienerFilter, r2_score_per_output
from course_utils.decoding.simulate import kalman_r2_ceiling, simulate_linear_dynamical_system


@pytest.fixture(scope="module")
def lds():
    return simulate_linear_dynamical_system(n_bins=20_000, n_neurons=20, obs_noise_std=3.0, seed=0)


def test_kalman_reaches_riccati_ceiling(lds):
    X, y = lds["X"], lds["y"]
    kf = KalmanFilterDecoder().fit(X[:15_000], y[:15_000])
    r2 = r2_score_per_output(y[15_000:], kf.predict(X[15_000:]))
    np.testing.assert_allclose(r2, lds["r2_ceiling"], atol=0.025)
    # the fitted dynamics are the true ones
    np.testing.assert_allclose(kf.A_, lds["A"], atol=0.02)
    # filtering through the dynamics beats a static readout of the same bin
    assert r2.mean() > WienerFilter().fit(X[:15_000], y[:15_000]).score(X[15_000:], y[15_000:]) + 0.05


def test_ceiling_scalar_case_by_hand():
    # s = a s + w, z = s + q with a = 0, W = 1, Q = 1: the posterior variance is 1/2, R² = 1/2.
    assert kalman_r2_ceiling(np.zeros((1, 1)), np.eye(1), np.eye(1), np.eye(1))[0] == pytest.approx(0.5)


def test_kalman_lag_recovers_observation_model(lds):
    # Neurons that lead the movement by 2 bins: spikes[u] observe the state at u + 2.
    X, y = lds["X"], lds["y"]
    lead, lags = 2, 4
    spikes, kin = X[lead:], y[: len(y) - lead]
    Z = np.lib.stride_tricks.sliding_window_view(spikes, lags, axis=0).transpose(
        0, 2, 1
    )  # windows ending at t
    target = kin[lags - 1 :]  # kinematics in each window's last (current) bin
    fit, test = slice(0, 12_000), slice(12_000, None)
    errors = {}
    for lag in (0, 2, 3):
        kf = KalmanFilterDecoder(lag=lag).fit(Z[fit], target[fit])
        errors[lag] = np.abs(kf.H_ - lds["H"]).max()
        if lag == lead:
            assert kf.score(Z[test], target[test]) == pytest.approx(lds["r2_ceiling"].mean(), abs=0.025)
    assert errors[lead] < 0.05  # only the right lag recovers the true observation matrix
    assert errors[0] > 0.1 and errors[3] > 0.1


def test_kalman_lag_with_2d_input_predicts_every_row(lds):
    X, y = lds["X"][:3000], lds["y"][:3000]
    kf = KalmanFilterDecoder(lag=3).fit(X, y)
    pred = kf.predict(X)
    assert pred.shape == y.shape
    np.testing.assert_allclose(pred[:3], np.broadcast_to(kf.y_mean_, (3, 2)))


def test_kalman_bad_input(lds):
    X, y = lds["X"][:500], lds["y"][:500]
    with pytest.raises(ValueError, match="bins_before"):
        KalmanFilterDecoder(lag=3).fit(X[:, None, :].repeat(2, axis=1), y)
    with pytest.raises(ValueError, match="lag must be"):
        KalmanFilterDecoder(lag=-1).fit(X, y)
    with pytest.raises(ValueError, match="rows"):
        KalmanFilterDecoder().fit(X, y[:-1])
    kf = KalmanFilterDecoder().fit(X, y)
    with pytest.raises(ValueError, match="Neuron identity"):
        kf.predict(X[:, :5])
