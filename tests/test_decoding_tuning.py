"""Hyperparameter search on the validation split: it finds planted settings and never touches the test data."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.decoding import (
    GRUDecoder,
    KalmanFilterDecoder,
    NaiveBayesClassifier,
    SessionSplits,
    TunedDecoder,
    WienerCascade,
    WienerFilter,
    benchmark_decoders,
    default_n_iter,
    search_space,
    tuned,
)
from course_utils.decoding.simulate import simulate_reach_targets, simulate_static_nonlinearity


def _history(z: np.ndarray, n_lags: int) -> np.ndarray:
    """(T, N) -> (T, n_lags, N) windows ending at each bin (the first rows repeat the first bin)."""
    padded = np.concatenate([np.repeat(z[:1], n_lags - 1, axis=0), z])
    return np.lib.stride_tricks.sliding_window_view(padded, n_lags, axis=0).transpose(0, 2, 1)


def test_finds_the_planted_kalman_lag():
    """Spikes lead the kinematics by exactly 2 bins and the kinematics are white: only lag=2 sees them."""
    rng = np.random.default_rng(0)
    s = rng.normal(size=(6000, 2))  # no dynamics: other bins carry no information about s[t]
    z = 3.0 + s @ rng.normal(size=(2, 20)) + rng.normal(size=(6000, 20))
    X = _history(z, 5)
    y = np.roll(s, 2, axis=0)  # y[t] = s[t - 2]: observed by the spikes 2 bins before t
    X, y = X[10:], y[10:]
    search = TunedDecoder(KalmanFilterDecoder(), {"lag": [0, 1, 2, 3, 4]}, n_iter=10)
    search.fit(X[:4000], y[:4000], X_val=X[4000:4800], y_val=y[4000:4800])
    assert search.best_params_ == {"lag": 2}
    assert list(search.search_results_["lag"]) == [0, 1, 2, 3, 4]  # own setting first, then the grid
    assert search.best_score_ == pytest.approx(search.search_results_["val_score"].max())
    assert search.best_score_ > 0.8 > 0.1 > search.search_results_["val_score"].drop(2).max()
    assert search.score(X[4800:], y[4800:]) > 0.8


def test_chooses_on_validation_only_and_keeps_the_training_fit():
    sim = simulate_static_nonlinearity(n_bins=3000, noise_std=0.3, seed=1)
    X, y = sim["X"], sim["y"][:, 0]
    search = TunedDecoder(WienerCascade(degree=1), {"degree": [1, 2, 3, 5]}).fit(X[:2000], y[:2000], X[2000:2500], y[2000:2500])
    assert search.best_params_["degree"] >= 3  # the truth is cubic
    # the kept model is the candidate fitted on the training split, scored on validation: the same numbers
    refit = WienerCascade(**search.best_params_).fit(X[:2000], y[:2000])
    np.testing.assert_allclose(search.predict(X[2500:]), refit.predict(X[2500:]))
    assert search.best_score_ == pytest.approx(refit.score(X[2000:2500], y[2000:2500]))
    assert search.predict(X[2500:]).shape == (500,)  # 1-D y in, 1-D out
    # the test rows were never used: changing them cannot change the choice
    again = TunedDecoder(WienerCascade(degree=1), {"degree": [1, 2, 3, 5]}).fit(X[:2000], y[:2000], X[2000:2500], y[2000:2500])
    assert again.best_params_ == search.best_params_


def test_without_validation_it_holds_out_the_end_of_training():
    sim = simulate_static_nonlinearity(n_bins=1600, noise_std=0.3, seed=2)
    search = TunedDecoder(WienerCascade(), {"degree": [1, 3]}, validation_fraction=0.25).fit(sim["X"], sim["y"])
    assert search.best_estimator_.filter_.coef_.shape == (1, 8)
    assert len(search.search_results_) == 2  # degree 3 (own) and degree 1


def test_random_draws_and_budget(monkeypatch):
    from scipy.stats import loguniform

    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(400, 3, 2)), rng.normal(size=400)
    gru = GRUDecoder(hidden_size=4, max_epochs=1, progress=False)
    search = TunedDecoder(gru, {"learning_rate": loguniform(1e-3, 1e-2), "hidden_size": [4, 8]}, n_iter=3).fit(X, y)
    results = search.search_results_
    assert len(results) == 4 and results.loc[0, "learning_rate"] == gru.learning_rate
    assert results["learning_rate"].between(1e-3, 1e-2).all()
    monkeypatch.setenv("COURSE_FAST", "1")
    assert default_n_iter(gru) == 1 and default_n_iter(WienerCascade()) == 8
    monkeypatch.setenv("COURSE_FAST", "0")
    assert default_n_iter(gru) == 8
    assert search_space(WienerFilter()) == {}  # nothing to tune
    assert tuned(WienerFilter()).fit(X, y).best_params_ == {}
    with pytest.raises(ValueError, match="no parameter"):
        TunedDecoder(WienerCascade(), {"depth": [1, 2]}).fit(X, y)


def test_classifier_search_and_benchmark_integration():
    sim = simulate_reach_targets(n_trials=900, n_neurons=30, seed=5)
    X, labels = sim["X"], sim["labels"]
    search = TunedDecoder(NaiveBayesClassifier(sum_lags=False), {"sum_lags": [True, False]})
    search.fit(X[:450], labels[:450], X_val=X[450:750], y_val=labels[450:750])
    assert search.best_params_ == {"sum_lags": True}  # per-bin rates from ~56 trials per class overfit
    assert search.predict_proba(X[750:]).shape == (150, 8)
    assert list(search.classes_) == list(range(0, 360, 45))

    sim = simulate_static_nonlinearity(n_bins=1000, seed=6)
    Xr, yr = sim["X"], sim["y"]
    s = SessionSplits(Xr[:700], yr[:700], Xr[700:800], yr[700:800], Xr[800:], yr[800:], dataset="sim", session=1)
    table, models = benchmark_decoders({"cascade tuned": tuned(WienerCascade(degree=1))}, [s], progress=False,
                                       return_models=True)
    assert models[0, "cascade tuned"].best_params_["degree"] >= 3
    assert table.loc[0, "r2"] > 0.95
