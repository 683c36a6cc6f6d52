"""Boosted trees (both backends) and SVR: they capture a nonlinearity a linear decoder cannot."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.decoding import BoostedTreesDecoder, SVRDecoder, WienerFilter, xgboost_available
from course_utils.decoding.simulate import simulate_delay_task, simulate_static_nonlinearity

BACKENDS = ["sklearn", pytest.param("xgboost", marks=pytest.mark.skipif(
    not xgboost_available(), reason="xgboost is not installed (optional; Colab has it)"))]


@pytest.fixture(scope="module")
def nonlinear():
    sim = simulate_static_nonlinearity(n_bins=4000, n_neurons=6, noise_std=0.3, seed=0)
    X, y = sim["X"], sim["y"]
    return sim, X[:2800], y[:2800], X[2800:3200], y[2800:3200], X[3200:], y[3200:]


@pytest.fixture(scope="module")
def interaction():
    """y = tanh(2 x_a) x_b, 3 bins back: noise-free (ceiling R² = 1), invisible to a linear decoder."""
    sim = simulate_delay_task(n_bins=4000, n_lags=5, n_neurons=4, delay=3, seed=0)
    X, y = sim["X"], sim["y"]
    return X[:2800], y[:2800], X[2800:3200], y[2800:3200], X[3200:], y[3200:]


@pytest.mark.parametrize("backend", BACKENDS)
def test_boosted_trees_learn_an_interaction_a_linear_decoder_cannot(backend, interaction):
    X, y, Xv, yv, Xt, yt = interaction
    dec = BoostedTreesDecoder(backend=backend, n_estimators=400).fit(X, y, X_val=Xv, y_val=yv)
    assert dec.backend_ == backend
    assert WienerFilter().fit(X, y).score(Xt, yt) < 0.05
    assert dec.score(Xt, yt) > 0.8
    assert 1 <= dec.n_trees_[0] <= 400


@pytest.mark.parametrize("backend", BACKENDS)
def test_boosted_trees_stop_early_on_the_validation_split(backend):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 2, 5))
    y = rng.normal(size=(800, 2))  # nothing to learn: validation error stops improving at once
    dec = BoostedTreesDecoder(backend=backend, n_estimators=500, early_stopping_rounds=5).fit(X, y)
    assert max(dec.n_trees_) < 100
    assert dec.predict(X).shape == (800, 2)
    assert dec.n_features_in_ == 10


def test_boosted_trees_backend_choice(monkeypatch):
    import course_utils.decoding.trees as trees

    monkeypatch.setattr(trees, "xgboost_available", lambda: False)
    X, y = np.random.default_rng(0).normal(size=(200, 3)), np.zeros(200)
    y[:] = X[:, 0] > 0
    assert BoostedTreesDecoder(n_estimators=5).fit(X, y).backend_ == "sklearn"
    with pytest.raises(ImportError, match="pip install xgboost"):
        BoostedTreesDecoder(backend="xgboost").fit(X, y)
    with pytest.raises(ValueError, match="backend must be"):
        BoostedTreesDecoder(backend="lightgbm").fit(X, y)


def test_boosted_trees_on_old_scikit_learn_pick_tree_count_on_validation(monkeypatch, interaction):
    """scikit-learn < 1.7 has no X_val in HistGradientBoosting.fit: the fallback picks trees on our split."""
    import course_utils.decoding.trees as trees

    X, y, Xv, yv, Xt, yt = interaction
    monkeypatch.setattr(trees, "_hgb_takes_validation", lambda: False)
    dec = BoostedTreesDecoder(backend="sklearn", n_estimators=150).fit(X, y, X_val=Xv, y_val=yv)
    assert dec.models_[0].max_iter == dec.n_trees_[0] <= 150
    assert dec.score(Xt, yt) > 0.5  # 150 trees: less than the 400 above, far above the linear ~0


def test_svr_captures_the_nonlinearity_and_standardises(nonlinear, interaction):
    sim, X, y, _, _, Xt, yt = nonlinear
    dec = SVRDecoder(C=3.0).fit(X, y)
    assert dec.score(Xt, yt) > WienerFilter().fit(X, y).score(Xt, yt) + 0.05
    Xi, yi, _, _, Xit, yit = interaction
    assert SVRDecoder().fit(Xi, yi).score(Xit, yit) > 0.7
    # standardisation: rescaling one input neuron and the output changes nothing
    X2, Xt2 = X.copy(), Xt.copy()
    X2[:, 0] *= 100.0
    Xt2[:, 0] *= 100.0
    scaled = SVRDecoder(C=3.0).fit(X2, 10.0 * y)
    np.testing.assert_allclose(scaled.predict(Xt2), 10.0 * dec.predict(Xt), rtol=1e-6, atol=1e-6)
    assert dec.predict(Xt[:, :]).shape == yt.shape


def test_svr_subsamples_evenly_and_gives_1d_predictions():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    y = X[:, 0] ** 2
    dec = SVRDecoder(max_train_samples=100).fit(X, y)
    assert sum(dec.n_support_) <= 100
    assert dec.predict(X).shape == (500,)


def test_classifier_without_usable_validation_labels_grows_all_trees():
    """Few trials per class (sample mode on a small file): no crash, a warning, every tree used."""
    from course_utils.decoding import BoostedTreesClassifier

    rng = np.random.default_rng(1)
    y = np.array([0, 1] * 20)
    X = rng.normal(size=(40, 3)) + y[:, None]
    X_val, y_val = rng.normal(size=(4, 3)), np.array([7, 7, 8, 8])  # targets never seen in training
    clf = BoostedTreesClassifier(backend="sklearn", n_estimators=12)
    with pytest.warns(UserWarning, match="early stopping is off"):
        clf.fit(X, y, X_val=X_val, y_val=y_val)
    assert clf.n_trees_ == [12]
    assert clf.score(X, y) > 0.8
