"""Psychometric fits recover the parameters of simulated observers."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.behavior.psychometric import PsychometricFit, fit_psychometric, psychometric_curve


def _simulate(p_fn, levels, n_per_level, seed):
    rng = np.random.default_rng(seed)
    x = np.repeat(np.asarray(levels, float), n_per_level)
    return x, rng.random(x.size) < p_fn(x)


def test_curve_counts_by_hand():
    levels, p, n = psychometric_curve([0, 0, 0, 5, 5], [1, 0, 0, 1, 1])
    assert levels.tolist() == [0.0, 5.0]
    assert p.tolist() == pytest.approx([1 / 3, 1.0])
    assert n.tolist() == [3, 2]


def test_logistic_recovers_bias_slope_and_lapses():
    bias, slope, guess, lapse = 3.0, 6.0, 0.05, 0.1
    truth = PsychometricFit("logistic", {"bias": bias, "slope": slope, "guess": guess, "lapse": lapse}, 0, 0.0)
    x, y = _simulate(truth.predict, np.linspace(-50, 50, 11), 2000, seed=1)
    fit = fit_psychometric(x, y, kind="logistic")
    assert fit.params["bias"] == pytest.approx(bias, abs=1.0)
    assert fit.params["slope"] == pytest.approx(slope, rel=0.15)
    assert fit.params["guess"] == pytest.approx(guess, abs=0.02)
    assert fit.params["lapse"] == pytest.approx(lapse, abs=0.02)
    assert fit.n_trials == x.size
    # predict is the fitted curve: close to the truth everywhere
    grid = np.linspace(-50, 50, 101)
    assert np.max(np.abs(fit.predict(grid) - truth.predict(grid))) < 0.03


def test_weibull_recovers_threshold_and_shape():
    truth = PsychometricFit("weibull", {"threshold": 12.0, "shape": 1.5, "chance": 0.5, "lapse": 0.03}, 0, 0.0)
    x, y = _simulate(truth.predict, [0, 3.2, 6.4, 12.8, 25.6, 51.2], 3000, seed=2)
    fit = fit_psychometric(x, y, kind="weibull")
    assert fit.params["threshold"] == pytest.approx(12.0, rel=0.1)
    assert fit.params["shape"] == pytest.approx(1.5, rel=0.2)
    assert fit.params["chance"] == 0.5
    assert fit.params["lapse"] == pytest.approx(0.03, abs=0.02)


def test_without_lapses_asymptotes_are_zero():
    x, y = _simulate(lambda s: 1 / (1 + np.exp(-s / 2)), [-6, -2, 0, 2, 6], 500, seed=3)
    fit = fit_psychometric(x, y, fit_lapses=False)
    assert fit.params["guess"] == 0.0 and fit.params["lapse"] == 0.0
    assert fit.params["slope"] == pytest.approx(2.0, rel=0.2)


@pytest.mark.parametrize(
    ("stimulus", "choices", "kind", "match"),
    [
        ([0, 1, 2], [1, 0], "logistic", "one stimulus value per trial"),
        ([0, 1, 2], [1, 0, 2], "logistic", "0/1 or boolean"),
        ([1, 1, 1], [1, 0, 1], "logistic", "at least two different levels"),
        ([-1, 0, 1], [1, 0, 1], "weibull", "unsigned"),
        ([0, 1], [1, 0], "probit", "kind must be one of"),
        ([0, np.nan], [1, 0], "logistic", "NaN"),
    ],
)
def test_bad_input_is_named(stimulus, choices, kind, match):
    with pytest.raises(ValueError, match=match):
        fit_psychometric(stimulus, choices, kind=kind)
