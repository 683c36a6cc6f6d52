"""Chapter 1's checks: right answers pass, typical mistakes get a specific hint that does not give the answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.exercises import feedback
from course_utils.neurotask import align_event, process_data, trial_table
from course_utils.neurotask.simulate import DatasetSpec, simulate_dataset


@pytest.fixture(scope="module")
def data():
    spec = DatasetSpec(
        2,
        10,
        "T",
        "CObump",
        "CenterOut_Bump",
        ((1, 1, 30, (6, 6)), (2, 1, 30, (4, 4))),
        (("R", 0.7), ("F", 0.1), ("I", 0.1), ("A", 0.1)),
    )
    df, _ = simulate_dataset(spec, seed=2)
    return df, trial_table(df, 10.0)


def test_1_1_neurons_per_session(data):
    df, _ = data
    right = pd.Series([6, 4], index=pd.MultiIndex.from_tuples([(1, 1), (2, 1)], names=["animal", "session"]))
    assert feedback("1.1", right, df).startswith("✅")
    message = feedback("1.1", right * 0 + 6, df)
    assert "NaN throughout a session" in message and "4" not in message
    assert "pandas Series" in feedback("1.1", [6, 4], df)
    assert "indexed by" in feedback("1.1", right.reset_index(drop=True), df)


def test_1_2_rewarded_fraction(data):
    df, trials = data
    right = trials.assign(r=trials["result"] == "R").groupby(["animal", "session"])["r"].mean()
    assert feedback("1.2", right, trials, df).startswith("✅")
    per_bin = df.assign(r=df["result"] == "R").groupby(["animal", "session"])["r"].mean()
    assert "time bins" in feedback("1.2", per_bin, trials, df)
    counts = trials.assign(r=trials["result"] == "R").groupby(["animal", "session"])["r"].sum()
    message = feedback("1.2", counts, trials, df)
    assert "between 0 and 1" in message and f"{right.iloc[0]:.3f}" not in message


def test_1_3_reaction_times(data):
    df, _ = data
    rewarded = df[df["result"] == "R"]
    after_go = align_event(rewarded, "EventGo_cue", 10, 0, 1000)
    after_go["speed"] = np.hypot(after_go["hand_vel_x"], after_go["hand_vel_y"])
    keys = ["animal", "session", "trial_id"]
    peak = after_go.groupby(keys)["speed"].transform("max")
    onset = after_go[after_go["speed"] >= 0.3 * peak].groupby(keys)["time_from_event_ms"].min()
    right = onset.groupby(level="animal").mean()
    assert feedback("1.3", right, after_go).startswith("✅")
    assert 100 < right.min() and right.max() < 700  # a reaction, not a bin index or a second
    assert "median" in feedback("1.3", onset.groupby(level="animal").median(), after_go)
    global_peak = after_go[after_go["speed"] >= 0.3 * after_go["speed"].max()]
    wrong = global_peak.groupby(keys)["time_from_event_ms"].min().groupby(level="animal").mean()
    assert "each trial's own peak" in feedback("1.3", wrong, after_go)
    at_peak = after_go.loc[after_go.groupby(keys)["speed"].idxmax()]
    message = feedback("1.3", at_peak.groupby("animal")["time_from_event_ms"].mean(), after_go)
    assert "time of peak speed" in message and f"{right.iloc[0]:.1f}" not in message
    assert "one value per animal" in feedback("1.3", onset.groupby(level="session").mean().rename_axis("animal").iloc[:1], after_go)


def test_1_4_psth(data):
    df, _ = data
    aligned = align_event(df[df["result"] == "R"], "EventGo_cue", 10, -100, 200, pad=True)
    counts = aligned.groupby("time_from_event_ms")["Neuron1"].mean()
    assert feedback("1.4", counts / 0.01, aligned, "Neuron1", 10).startswith("✅")
    assert "spikes per bin" in feedback("1.4", counts, aligned, "Neuron1", 10)
    assert "unit conversion" in feedback("1.4", counts / 10, aligned, "Neuron1", 10)


def test_1_5_rebin_by_hand():
    counts = np.array([1, 0, 2, 3, 1])
    assert feedback("1.5", np.array([1, 5]), counts, 2).startswith("✅")
    assert "incomplete bin" in feedback("1.5", np.array([1, 5, 1]), counts, 2)
    assert "summed" in feedback("1.5", np.array([0.5, 2.5]), counts, 2)
    assert "1-D" in feedback("1.5", np.array([[1, 5]]), counts, 2)


def test_1_6_first_decoder(data):
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    df, _ = data
    rewarded = df[df["result"] == "R"]
    X_tr, y_tr, _, _, X_te, y_te = process_data(
        rewarded, 3, [0, 0.7], [0.7, 0.8], [0.8, 1], ["hand_vel_x"], zscore=True
    )
    model = Ridge(alpha=1.0).fit(X_tr[0].reshape(len(X_tr[0]), -1), y_tr[0])
    right = r2_score(y_te[0], model.predict(X_te[0].reshape(len(X_te[0]), -1)))
    assert feedback("1.6", right, X_tr[0], y_tr[0], X_te[0], y_te[0]).startswith("✅")
    wrong = feedback("1.6", right - 0.2, X_tr[0], y_tr[0], X_te[0], y_te[0])
    assert wrong.startswith("❌") and f"{right:.2f}" not in wrong
