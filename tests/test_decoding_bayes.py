"""Poisson naive Bayes decoders against known answers: simulated tuning curves, Bayes' rule by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson
from sklearn.linear_model import PoissonRegressor

from course_utils.decoding import NaiveBayesClassifier, NaiveBayesDecoder, WienerFilter
from course_utils.decoding.bayes import _encoding_features, _poisson_glm
from course_utils.decoding.simulate import simulate_poisson_population, simulate_reach_targets


@pytest.fixture(scope="module")
def population():
    sim = simulate_poisson_population(n_bins=20_000, n_neurons=30, seed=0)
    X, y = sim["X"], sim["y"]
    return sim, X[:15_000], y[:15_000], X[15_000:], y[15_000:]


def test_batched_glm_matches_scikit_learn(population):
    _, X, y, _, _ = population
    design = _encoding_features((y - y.mean(0)) / y.std(0), "quadratic")
    intercepts, coefs = _poisson_glm(design, X[:, :4], alpha=1e-3)
    for n in range(4):
        ref = PoissonRegressor(alpha=1e-3, tol=1e-10, max_iter=1000).fit(design, X[:, n])
        np.testing.assert_allclose(coefs[n], ref.coef_, atol=1e-6)
        assert abs(intercepts[n] - ref.intercept_) < 1e-6


def test_tuning_curves_recover_the_true_ones(population):
    sim, X, y, _, _ = population
    for model in ("linear", "quadratic"):
        dec = NaiveBayesDecoder(encoding_model=model, grid_size=21).fit(X, y)
        true = np.exp(sim["intercept"][:, None] + sim["weights"] @ dec.grid_.T)
        visited = np.abs(dec.grid_).max(axis=1) < 2  # within 2 SD: where training data constrain the fit
        rel = np.abs(dec.tuning_curves_[:, visited] / true[:, visited] - 1)
        assert np.median(rel) < 0.03, model
        assert np.percentile(rel, 95) < 0.12, model


def test_decodes_near_the_kalman_level_and_the_transition_prior_helps(population):
    _, X, y, Xt, yt = population
    static = NaiveBayesDecoder(encoding_model="linear", transition_prior=False).fit(X, y)
    filtered = NaiveBayesDecoder(encoding_model="linear", transition_prior=True).fit(X, y)
    r2_static, r2_filtered = static.score(Xt, yt), filtered.score(Xt, yt)
    r2_wiener = WienerFilter().fit(X, y).score(Xt, yt)
    assert r2_static > 0.85  # the right model of Poisson counts
    assert r2_filtered > r2_static + 0.02  # a smooth trajectory: the previous bin is informative
    assert r2_filtered > r2_wiener + 0.03  # a linear readout of Poisson counts is not optimal
    assert filtered.predict(Xt).shape == yt.shape
    assert filtered.predict(Xt[:, 0:30]).shape == yt.shape


def test_posterior_is_bayes_rule_by_hand():
    """1-D behaviour, 3 neurons: the posterior equals prior x prod_n Poisson(r_n | lambda_n(s)), normalised."""
    rng = np.random.default_rng(1)
    y = rng.uniform(-1, 1, 3000)
    rates = np.exp(np.array([0.2, -0.3, 0.5])[:, None] + np.array([1.0, -0.8, 0.4])[:, None] * y[None, :])
    X = rng.poisson(rates.T).astype(float)
    dec = NaiveBayesDecoder(encoding_model="linear", grid_size=9, transition_prior=False).fit(X, y)
    post = dec.posterior(X[:20])
    lam = dec.tuning_curves_  # (3, 9)
    by_hand = np.exp(dec.log_state_prior_)[None, :] * np.prod(poisson.pmf(X[:20, :, None], lam[None]), axis=1)
    by_hand /= by_hand.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(post, by_hand, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(dec.predict(X[:20]), post @ dec.grid_[:, 0])
    assert dec.predict(X[:20]).shape == (20,)  # 1-D y in, 1-D predictions out
    map_dec = NaiveBayesDecoder(encoding_model="linear", grid_size=9, transition_prior=False, estimate="map")
    np.testing.assert_allclose(map_dec.fit(X, y).predict(X[:20]), dec.grid_[np.argmax(by_hand, axis=1), 0])


def test_transition_prior_is_the_forward_filter_by_hand():
    rng = np.random.default_rng(2)
    y = np.cumsum(rng.normal(0, 0.1, 2000))
    X = rng.poisson(np.exp(0.5 + 0.8 * np.stack([y, -y], axis=1))).astype(float)
    dec = NaiveBayesDecoder(encoding_model="linear", grid_size=7, state_prior="uniform").fit(X, y)
    g = dec.grid_axes_[0]
    K = np.exp(-0.5 * ((g[:, None] - g[None, :]) / dec.transition_std_[0]) ** 2)
    K /= K.sum(axis=0, keepdims=True)
    like = np.prod(poisson.pmf(X[:15, :, None], dec.tuning_curves_[None]), axis=1)
    p = np.full(7, 1 / 7)
    for t in range(15):
        p = (K @ p if t else p) * like[t]
        p /= p.sum()
        np.testing.assert_allclose(dec.posterior(X[:15])[t], p, rtol=1e-8)
    assert dec.transition_std_[0] == pytest.approx(np.sqrt(np.mean(np.diff(y) ** 2)))


def test_naive_bayes_decoder_errors():
    X = np.abs(np.random.default_rng(0).normal(size=(100, 3, 4)))
    with pytest.raises(ValueError, match="zscore=False"):
        NaiveBayesDecoder().fit(X - 1.0, X[:, 0, :2])
    with pytest.raises(ValueError, match="1 or 2 outputs"):
        NaiveBayesDecoder().fit(X, X[:, 0, :3])
    with pytest.raises(ValueError, match="grid_size"):
        NaiveBayesDecoder(grid_size=1).fit(X, X[:, 0, :2])
    dec = NaiveBayesDecoder().fit(X, X[:, 0, :2])
    with pytest.raises(ValueError, match="expecting 12 features"):
        dec.predict(X[:, :, :3])


def test_silent_neuron_does_not_break_decoding():
    rng = np.random.default_rng(3)
    y = rng.uniform(-1, 1, (1000, 2))
    X = rng.poisson(np.exp(0.5 + y @ rng.normal(size=(2, 5)))).astype(float)
    X[:, 4] = 0.0  # silent in training
    dec = NaiveBayesDecoder(grid_size=10).fit(X, y)
    X_test = X.copy()
    X_test[:, 4] = 1.0  # fires at test time: flat (floor) tuning, same penalty everywhere
    assert np.isfinite(dec.predict(X_test)).all()
    np.testing.assert_allclose(dec.predict(X_test), dec.predict(X), atol=1e-9)


def test_naive_bayes_classifier_reaches_the_bayes_accuracy():
    sim = simulate_reach_targets(n_trials=6000, n_neurons=30, seed=4)
    X, labels = sim["X"], sim["labels"]
    clf = NaiveBayesClassifier(sum_lags=False, alpha=0.0).fit(X[:5000], labels[:5000])
    accuracy = clf.score(X[5000:], labels[5000:])
    assert accuracy > sim["bayes_accuracy"] - 0.04  # 1,000 test trials: ~0.012 sampling noise
    assert accuracy > NaiveBayesClassifier(sum_lags=True).fit(X[:5000], labels[:5000]).score(X[5000:], labels[5000:])
    np.testing.assert_allclose(clf.rates_.reshape(sim["rates"].shape), sim["rates"], rtol=0.2, atol=0.05)
    proba = clf.predict_proba(X[5000:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(clf.classes_) == list(range(0, 360, 45))


def test_naive_bayes_classifier_shrinkage_and_errors():
    X = np.array([[0.0, 4.0], [0.0, 4.0], [2.0, 0.0]])
    clf = NaiveBayesClassifier(alpha=1.0).fit(X, np.array([0, 0, 1]))
    overall = X.mean(axis=0)
    np.testing.assert_allclose(clf.rates_[0], (X[:2].sum(0) + overall) / 3)
    np.testing.assert_allclose(clf.rates_[1], np.maximum((X[2] + overall) / 2, 1e-9))
    with pytest.raises(ValueError, match="zscore=False"):
        NaiveBayesClassifier().fit(-X, np.array([0, 0, 1]))
    with pytest.raises(ValueError, match="NaN"):
        NaiveBayesClassifier().fit(X, np.array([0.0, np.nan, 1.0]))
