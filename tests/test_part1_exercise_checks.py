"""Part I's "build it" and same-data checks (issue 18): a right answer passes, a typical mistake gets a hint,
and the reference is computed by the check on the learner's own data, not taken from a fixed range."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import feedback


def _decoding_arrays(seed=0, n_train=400, n_test=150, lags=3, units=6):
    rng = np.random.default_rng(seed)
    true_w = rng.normal(size=(lags * units, 2))

    def make(n):
        X = rng.normal(size=(n, lags, units)).astype(np.float32)
        return X, X.reshape(n, -1) @ true_w + 0.5 + rng.normal(scale=1.0, size=(n, 2))

    return (*make(n_train), *make(n_test))


def _wiener(X_train, y_train, X_test, y_test):
    design = lambda X: np.column_stack([np.ones(len(X)), X.reshape(len(X), -1)])  # noqa: E731
    weights, *_ = np.linalg.lstsq(design(X_train), y_train, rcond=None)
    prediction = design(X_test) @ weights
    r2 = 1 - ((y_test - prediction) ** 2).sum() / ((y_test - y_test.mean(axis=0)) ** 2).sum()
    return weights, r2


def test_1_7_wiener_filter_compares_with_lstsq_on_the_same_data():
    X_tr, y_tr, X_te, y_te = _decoding_arrays()
    weights, r2 = _wiener(X_tr, y_tr, X_te, y_te)
    assert feedback("1.7", weights, r2, X_tr, y_tr, X_te, y_te).startswith("✅")
    assert "intercept" in feedback("1.7", weights[1:], r2, X_tr, y_tr, X_te, y_te)
    assert "training arrays only" in feedback("1.7", weights * 1.1, r2, X_tr, y_tr, X_te, y_te)
    assert "R² differs" in feedback("1.7", weights, r2 - 0.1, X_tr, y_tr, X_te, y_te)
    # Right on other data is wrong here: the reference comes from these arrays.
    other_weights, other_r2 = _wiener(*_decoding_arrays(seed=1))
    assert feedback("1.7", other_weights, other_r2, X_tr, y_tr, X_te, y_te).startswith("❌")
