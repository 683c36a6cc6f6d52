"""Chapter 8's exercise checks: right answers pass, typical wrong answers get a hint (never the answer)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from course_utils.decoding import NaiveBayesDecoder
from course_utils.decoding.simulate import simulate_poisson_population
from course_utils.exercises import feedback


def _ok(message: str) -> bool:
    return message.startswith("✅")


def test_8_5_posterior_by_hand():
    sim = simulate_poisson_population(n_bins=2000, n_neurons=12, seed=0)
    X = sim["X"][:, None, :]  # one-bin windows
    dec = NaiveBayesDecoder(transition_prior=False, grid_size=10).fit(X[:1500], sim["y"][:1500])
    r = X[1600].sum(axis=0)
    log_post = r @ np.log(dec.tuning_curves_) - dec.tuning_curves_.sum(axis=0) + dec.log_state_prior_
    right = np.exp(log_post - log_post.max())
    right /= right.sum()
    assert _ok(feedback("8.5", right, dec, X[1600]))
    no_prior = np.exp(log_post - dec.log_state_prior_ - (log_post - dec.log_state_prior_).max())
    assert "multiply by the prior" in feedback("8.5", no_prior / no_prior.sum(), dec, X[1600])
    assert "normalise" in feedback("8.5", 2 * right, dec, X[1600])
    assert "shape" in feedback("8.5", right[:5], dec, X[1600])
    assert "underflows" in feedback("8.5", np.full_like(right, np.nan), dec, X[1600])


def test_8_6_trees_monotone():
    assert _ok(feedback("8.6", 0.61, 0.61))
    assert "transform the training, validation AND test" in feedback("8.6", 0.61, 0.2)
    assert "one number" in feedback("8.6", "high", 0.61)
    assert "between -1 and 1" in feedback("8.6", 7.0, 7.0)


def test_8_7_confusion_by_hand():
    def right(y_true, y_pred, labels):
        counts = confusion_matrix(y_true, y_pred, labels=labels).astype(float)
        totals = counts.sum(axis=1, keepdims=True)
        return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)

    assert _ok(feedback("8.7", right))
    assert "Transposed" in feedback("8.7", lambda t, p, labels: right(t, p, labels).T)
    assert "counts" in feedback("8.7", lambda t, p, labels: confusion_matrix(t, p, labels=labels))

    def unguarded(y_true, y_pred, labels):  # 0 / 0 for the target that never occurs
        counts = confusion_matrix(y_true, y_pred, labels=labels).astype(float)
        with np.errstate(invalid="ignore"):
            return counts / counts.sum(axis=1, keepdims=True)

    assert "never occurs" in feedback("8.7", unguarded)


def test_8_8_rank_changes():
    table = pd.DataFrame({"default_test": [0.7, 0.6, 0.5, 0.4], "tuned_test": [0.7, 0.75, 0.5, 0.45]},
                         index=["a", "b", "c", "d"])
    assert _ok(feedback("8.8", 2, table))  # a and b swap; c and d keep their ranks
    assert "Not quite" in feedback("8.8", 1, table)
    assert "whole number" in feedback("8.8", "two", table)
