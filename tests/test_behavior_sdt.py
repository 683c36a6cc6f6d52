"""Signal detection theory: hand-worked answers (z(0.8413447) = 1, z(0.5) = 0, z(0.99) = 2.3263479)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils.behavior.sdt import corrected_rate, criterion, dprime, sdt_by_level, sdt_rates, z_score

Z99 = 2.3263478740408408  # norm.ppf(0.99)
P1 = 0.8413447460685429  # norm.cdf(1)


def test_dprime_known_values():
    assert dprime(P1, 0.5) == pytest.approx(1.0, abs=1e-12)
    assert dprime(0.5, 0.5) == pytest.approx(0.0, abs=1e-12)
    assert dprime(P1, 1 - P1) == pytest.approx(2.0, abs=1e-12)


def test_dprime_clipping_bounds():
    assert dprime(1.0, 0.0) == pytest.approx(2 * Z99)
    assert dprime(0.0, 1.0) == pytest.approx(-2 * Z99)
    assert dprime(1.0, 0.0, clip=None) == math.inf
    assert dprime(1.0, 0.5, clip=(0.1, 0.9)) == pytest.approx(1.2815515655446004)


def test_dprime_arrays_and_nan():
    out = dprime(np.array([P1, 0.5, np.nan]), 0.5)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out[:2], [1.0, 0.0], atol=1e-12)
    assert np.isnan(out[2])
    assert isinstance(dprime(0.7, 0.2), float)


def test_criterion_sign_and_value():
    assert criterion(0.5, 0.5) == pytest.approx(0.0, abs=1e-12)
    # z(H)=1, z(F)=0 -> c = -0.5 (liberal)
    assert criterion(P1, 0.5) == pytest.approx(-0.5, abs=1e-12)
    # z(H)=0, z(F)=-1 -> c = +0.5 (conservative)
    assert criterion(0.5, 1 - P1) == pytest.approx(0.5, abs=1e-12)
    assert criterion(1.0, 1.0) == pytest.approx(-Z99)
    np.testing.assert_allclose(criterion([P1, 0.5], [0.5, 1 - P1]), [-0.5, 0.5], atol=1e-12)


def test_bad_clip_raises():
    with pytest.raises(ValueError, match="clip"):
        dprime(0.5, 0.5, clip=(0.9, 0.1))


def test_corrected_rate():
    assert corrected_rate(1.0, 10) == pytest.approx(0.95)
    assert corrected_rate(0.0, 4) == pytest.approx(0.125)
    assert corrected_rate(0.3, 10) == pytest.approx(0.3)
    assert math.isnan(corrected_rate(0.5, 0))
    out = corrected_rate(np.array([0.0, 1.0, 0.5]), np.array([2, 1, 0]))
    np.testing.assert_allclose(out[:2], [0.25, 0.5])
    assert np.isnan(out[2])
    with pytest.raises(ValueError, match="n"):
        corrected_rate(0.5, -1)


def test_sdt_rates():
    out = sdt_rates([True, True, True, True, False, False], [True, True, True, False, True, False])
    assert out["n_signal"] == 4 and out["n_noise"] == 2
    assert out["hit_rate"] == 0.75 and out["false_alarm_rate"] == 0.5
    assert out["dprime"] == pytest.approx(z_score(0.75))
    corrected = sdt_rates([True, True, False, False], [True, True, False, False], correction=True)
    assert corrected["hit_rate"] == 0.75 and corrected["false_alarm_rate"] == 0.25
    none = sdt_rates([True, True], [True, False])
    assert math.isnan(none["false_alarm_rate"]) and math.isnan(none["dprime"])
    with pytest.raises(ValueError, match="same length"):
        sdt_rates([True], [True, False])


def test_sdt_by_level_is_sdt_rates_per_level():
    rng = np.random.default_rng(0)
    levels = rng.choice([0.0, 6.4, 25.6], 600)
    is_go = rng.random(600) < 0.5
    # by hand: at level L the subject says "go" with P = 0.5 + (L / 60) on go trials, 0.5 - (L / 60) otherwise
    p = np.where(is_go, 0.5 + levels / 60, 0.5 - levels / 60)
    responded = rng.random(600) < p
    table = sdt_by_level(levels, is_go, responded)
    assert list(table.index) == [0.0, 6.4, 25.6]
    for level in table.index:
        at = levels == level
        assert table.loc[level].to_dict() == sdt_rates(is_go[at], responded[at])
    assert table["dprime"].is_monotonic_increasing  # sensitivity grows with the level, as built in
    with pytest.raises(ValueError, match="same length"):
        sdt_by_level(levels[:5], is_go, responded)
