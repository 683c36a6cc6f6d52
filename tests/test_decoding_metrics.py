"""R² exactly as NeuroTask reports it, correlation, and the benchmark table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.decoding import (
    RESULT_COLUMNS,
    KalmanFilterDecoder,
    RidgeDecoder,
    SessionSplits,
    WienerFilter,
    benchmark_decoders,
    correlation_per_output,
    r2_score_per_output,
    sessions_from_lists,
)
from course_utils.decoding.simulate import simulate_linear_gaussian


def test_r2_by_hand():
    y = np.array([[1.0, 0.0], [2.0, 2.0], [3.0, 4.0]])  # means 2 and 2; SST = 2 and 8
    pred = np.array([[1.0, 1.0], [2.0, 1.0], [4.0, 4.0]])  # SSE = 1 and 2
    np.testing.assert_allclose(r2_score_per_output(y, pred), [1 - 1 / 2, 1 - 2 / 8])


def test_r2_uses_test_mean_and_can_be_negative():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    assert r2_score_per_output(y, np.full(4, 1.5))[0] == pytest.approx(0.0)  # predicting the test mean
    assert r2_score_per_output(y, y + 2)[0] == pytest.approx(1 - 16 / 5)  # an offset is penalised
    assert correlation_per_output(y, 3 * y + 2)[0] == pytest.approx(1.0)  # ...but not by correlation


def test_metric_errors_and_constant_output():
    with pytest.raises(ValueError, match="shape"):
        r2_score_per_output(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="bins_after"):
        r2_score_per_output(np.zeros((5, 1, 2)), np.zeros((5, 1, 2)))
    with pytest.warns(UserWarning, match="constant"):
        r2 = r2_score_per_output(np.c_[np.ones(4), np.arange(4.0)], np.zeros((4, 2)))
    assert np.isnan(r2[0]) and np.isfinite(r2[1])


def _sessions():
    out = []
    for i, seed in enumerate([0, 1, 2]):
        sim = simulate_linear_gaussian(n_bins=1000, n_lags=2, n_neurons=5 + i, seed=seed)
        X, y = sim["X"], sim["y"]
        out.append((X[:700], y[:700], X[700:800], y[700:800], X[800:], y[800:]))
    return out


def test_benchmark_table_is_tidy_and_correct():
    arrays = _sessions()
    keys = pd.DataFrame(
        {"dataset": ["sim"] * 3, "task": ["A", "A", "B"], "animal": [1, 1, 2], "session": [1, 2, 1]}
    )
    sessions = sessions_from_lists(
        *map(list, zip(*arrays, strict=True)), keys=keys, output_names=["vx", "vy"]
    )
    decoders = {"Wiener": WienerFilter(), "Ridge": RidgeDecoder(), "Kalman": KalmanFilterDecoder()}
    table = benchmark_decoders(decoders, sessions, progress=False)
    assert list(table.columns) == RESULT_COLUMNS
    assert len(table) == 3 * 3 * 2
    assert set(table["output"]) == {"vx", "vy"}
    assert (table["fit_time_s"] > 0).all()
    # each row's R² is the one computed directly on that session's test split
    X, y, _, _, Xt, yt = arrays[2]
    direct = r2_score_per_output(yt, WienerFilter().fit(X, y).predict(Xt))
    row = table.query("task == 'B' and model == 'Wiener'").sort_values("output")
    np.testing.assert_allclose(row["r2"], direct)
    # the template estimators were cloned, never fitted themselves
    assert not hasattr(decoders["Wiener"], "coef_")
    _, models = benchmark_decoders({"Wiener": WienerFilter()}, sessions, progress=False, return_models=True)
    np.testing.assert_allclose(models[2, "Wiener"].predict(Xt), WienerFilter().fit(X, y).predict(Xt))


def test_benchmark_bad_input():
    arrays = _sessions()
    with pytest.raises(ValueError, match="one entry per session"):
        sessions_from_lists(*map(list, zip(*arrays, strict=True)), keys=[{"session": 1}])
    s = SessionSplits(*arrays[0], output_names=["a"])
    with pytest.raises(ValueError, match="output_names"):
        benchmark_decoders({"W": WienerFilter()}, [s], progress=False)
    with pytest.raises(ValueError, match="decoders is empty"):
        benchmark_decoders({}, [s], progress=False)
    with pytest.raises(TypeError, match="SessionSplits"):
        benchmark_decoders({"W": WienerFilter()}, [arrays[0]], progress=False)
