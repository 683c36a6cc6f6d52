"""Linear decoders against known answers: analytic R² ceilings and Bayes-optimal ridge penalties."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from course_utils.decoding import RidgeDecoder, WienerCascade, WienerFilter, r2_score_per_output
from course_utils.decoding.simulate import simulate_linear_gaussian, simulate_static_nonlinearity


@pytest.mark.parametrize("seed", [0, 1])
def test_wiener_filter_reaches_analytic_ceiling(seed):
    sim = simulate_linear_gaussian(n_bins=20_000, n_lags=3, n_neurons=10, noise_std=1.0, seed=seed)
    X, y = sim["X"], sim["y"]
    wf = WienerFilter().fit(X[:15_000], y[:15_000])
    r2 = r2_score_per_output(y[15_000:], wf.predict(X[15_000:]))
    np.testing.assert_allclose(r2, sim["r2_ceiling"], atol=0.02)
    # and it recovers the filter itself, lag by lag
    np.testing.assert_allclose(wf.coef_.reshape(sim["weights"].shape), sim["weights"], atol=0.03)


def test_wiener_filter_flattens_lags_like_2d_input():
    sim = simulate_linear_gaussian(n_bins=500, seed=3)
    X3, y = sim["X"], sim["y"]
    p3 = WienerFilter().fit(X3, y).predict(X3)
    p2 = WienerFilter().fit(X3.reshape(len(X3), -1), y).predict(X3.reshape(len(X3), -1))
    np.testing.assert_allclose(p3, p2, atol=1e-10)


def test_cascade_beats_filter_on_static_nonlinearity():
    sim = simulate_static_nonlinearity(n_bins=8000, noise_std=0.1, seed=0)
    X, y = sim["X"], sim["y"]
    fit, test = slice(0, 6000), slice(6000, None)
    r2_linear = WienerFilter().fit(X[fit], y[fit]).score(X[test], y[test])
    cascade = WienerCascade(degree=3).fit(X[fit], y[fit])
    r2_cascade = cascade.score(X[test], y[test])
    assert r2_cascade > r2_linear + 0.1
    assert r2_cascade == pytest.approx(sim["r2_ceiling"][0], abs=0.02)
    # The fitted nonlinearity is increasing and cubic: f(u) = u + 0.5 u^3 up to the linear stage's scale.
    assert cascade.poly_coefs_[0, 0] > 0


def test_cascade_clips_extrapolation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = np.tanh(X @ [1.0, 0.5, 0.0])
    casc = WienerCascade(clip=True).fit(X, y)
    far = np.array([[50.0, 50.0, 0.0]])
    assert abs(casc.predict(far)[0]) < 5  # a raw cubic would give ~1e4 here
    assert abs(WienerCascade(clip=False).fit(X, y).predict(far)[0]) > 100


def test_ridge_picks_bayes_optimal_penalty():
    # With w ~ N(0, tau² I) and noise sigma², the Bayes-optimal ridge penalty is sigma² / tau².
    rng = np.random.default_rng(0)
    n, n_val, p, tau = 200, 3000, 100, 0.3
    w = rng.normal(scale=tau, size=p)
    X = rng.normal(size=(n + n_val, p))
    alphas = np.logspace(-3, 5, 33)
    chosen = {}
    for sigma in (2.0, 0.1):
        y = X @ w + rng.normal(scale=sigma, size=n + n_val)
        ridge = RidgeDecoder(alphas=alphas).fit(X[:n], y[:n], X_val=X[n:], y_val=y[n:])
        chosen[sigma] = ridge.alpha_
        assert ridge.validation_r2_.shape == alphas.shape
    optimal = 2.0**2 / tau**2
    assert optimal / 4 <= chosen[2.0] <= optimal * 4
    assert chosen[0.1] < chosen[2.0] / 30  # little noise: little shrinkage


def test_ridge_without_validation_holds_out_the_end():
    sim = simulate_linear_gaussian(n_bins=2000, seed=1)
    ridge = RidgeDecoder(validation_fraction=0.25).fit(sim["X"], sim["y"])
    # the final fit used the first 75 % only: identical to fitting them with the same penalty
    ridge2 = RidgeDecoder(alphas=[ridge.alpha_]).fit(
        sim["X"][:1500], sim["y"][:1500], sim["X"][1500:], sim["y"][1500:]
    )
    np.testing.assert_allclose(ridge.coef_, ridge2.coef_, atol=1e-8)


@pytest.mark.parametrize("est", [WienerFilter(), WienerCascade(degree=2), RidgeDecoder(alphas=[1.0, 10.0])])
def test_sklearn_conventions(est):
    params = est.get_params()
    assert clone(est).get_params() == params
    assert not [k for k in vars(est) if k.endswith("_")]  # nothing learned before fit


@pytest.mark.parametrize("est", [WienerFilter(), WienerCascade(), RidgeDecoder()])
def test_bad_input_errors(est):
    X = np.random.default_rng(0).normal(size=(50, 2, 3))
    y = X[:, -1, :2]
    with pytest.raises(ValueError, match="rows"):
        est.fit(X, y[:40])
    Xn = X.copy()
    Xn[3, 0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(Xn, y)
    with pytest.raises(ValueError, match="bins_after"):
        est.fit(X, y[:, None, :])
    est.fit(X, y)
    with pytest.raises(ValueError, match="Neuron identity differs"):
        est.predict(X[:, :, :2])
