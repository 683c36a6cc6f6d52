"""Classification track: trial windows, chronological trial splits, classifiers against the Bayes accuracy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import DataConversionWarning

from course_utils.decoding import (
    BoostedTreesClassifier,
    FeedForwardClassifier,
    GRUClassifier,
    LSTMClassifier,
    NaiveBayesClassifier,
    SessionSplits,
    SimpleRNNClassifier,
    WienerClassifier,
    benchmark_classifiers,
    chance_accuracy,
    movement_onset,
    sessions_from_trials,
    trial_windows,
)
from course_utils.decoding.simulate import simulate_reach_targets
from course_utils.fileio import BadFileError

NET = dict(max_epochs=20, batch_size=32, learning_rate=1e-2, progress=False)


@pytest.fixture(scope="module")
def reaches():
    sim = simulate_reach_targets(n_trials=700, n_neurons=30, seed=0)
    X, labels = sim["X"], sim["labels"]
    return sim, X[:450], labels[:450], X[450:500], labels[450:500], X[500:], labels[500:]


@pytest.mark.parametrize(
    "make, share",
    [
        (lambda: NaiveBayesClassifier(), 0.85),
        (lambda: WienerClassifier(C=0.01), 0.6),
        (lambda: GRUClassifier(**NET), 0.6),
        (lambda: LSTMClassifier(**NET), 0.6),
        (lambda: SimpleRNNClassifier(**NET), 0.6),
        (lambda: FeedForwardClassifier(**NET), 0.6),
        (lambda: BoostedTreesClassifier(backend="sklearn"), 0.4),
    ],
    ids=["naive Bayes", "logistic", "GRU", "LSTM", "RNN", "feed-forward", "trees"],
)
def test_classifiers_approach_the_bayes_accuracy(make, share, reaches):
    """200 test trials of 8 targets; chance 1/8. The Poisson naive Bayes is the true model's family."""
    sim, X, y, Xv, yv, Xt, yt = reaches
    clf = make()
    fit_args = {"X_val": Xv, "y_val": yv} if "X_val" in clf.fit.__code__.co_varnames else {}
    clf.fit(X, y, **fit_args)
    accuracy = clf.score(Xt, yt)
    assert accuracy > share * sim["bayes_accuracy"]
    assert accuracy > 3 * chance_accuracy(y, yt)
    proba = clf.predict_proba(Xt)
    assert proba.shape == (len(Xt), 8)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(clf.classes_[np.argmax(proba, axis=1)], clf.predict(Xt))


def test_torch_classifier_round_trip_and_errors(reaches, tmp_path):
    _, X, y, Xv, yv, Xt, _ = reaches
    clf = GRUClassifier(max_epochs=2, progress=False).fit(X, y, X_val=Xv, y_val=yv)
    loaded = GRUClassifier.load(clf.save(tmp_path / "gru.pt"))
    np.testing.assert_array_equal(loaded.predict(Xt), clf.predict(Xt))
    np.testing.assert_allclose(loaded.predict_proba(Xt), clf.predict_proba(Xt), atol=1e-6)
    with pytest.raises(BadFileError, match="holds a GRUClassifier"):
        LSTMClassifier.load(tmp_path / "gru.pt")
    with pytest.raises(ValueError, match="at least 2 classes"):
        GRUClassifier(max_epochs=1, progress=False).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="NaN"):
        GRUClassifier(max_epochs=1, progress=False).fit(X, np.where(np.arange(len(X)) == 3, np.nan, y))


def test_string_labels_and_unseen_validation_class():
    rng = np.random.default_rng(0)
    labels = np.array(["left", "right"])[rng.integers(0, 2, 300)]
    X = rng.poisson(1.0 + 2.0 * (labels == "right")[:, None, None], (300, 4, 3)).astype(float)
    y_val = labels[200:250].copy()
    y_val[:5] = "up"  # a class that never occurs in training: left out of the validation loss
    for clf in (GRUClassifier(max_epochs=5, progress=False), BoostedTreesClassifier(backend="sklearn")):
        clf.fit(X[:200], labels[:200], X_val=X[200:250], y_val=y_val)
        assert set(clf.predict(X[250:])) <= {"left", "right"}
        assert clf.score(X[250:], labels[250:]) > 0.8


def _table() -> pd.DataFrame:
    """Two sessions of three trials each; the go cue in bin 2 of each trial, except one trial without it."""
    rows = []
    for session in (1, 2):
        for trial in (1, 2, 3):
            for b in range(5):
                rows.append({
                    "animal": 7, "session": session, "trial_id": float(trial),
                    "Neuron1": 100 * session + 10 * trial + b, "Neuron2": np.nan if session == 2 else 1.0,
                    "EventGo_cue": b == 2 and not (session == 2 and trial == 3),
                    "target_dir": np.pi / 2 * trial,
                })
    return pd.DataFrame(rows)


def test_trial_windows_cut_the_right_rows():
    df = _table()
    out = trial_windows(df, "EventGo_cue", (-2, 1), feature_columns=["Neuron1", "Neuron2"],
                        label_column="target_dir")
    assert [w["key"] for w in out] == [{"animal": 7, "session": 1}, {"animal": 7, "session": 2}]
    first, second = out
    np.testing.assert_array_equal(first["X"][:, :, 0], [[110, 111, 112], [120, 121, 122], [130, 131, 132]])
    assert first["feature_columns"] == ["Neuron1", "Neuron2"]
    assert second["feature_columns"] == ["Neuron1"]  # NaN-padded in session 2: dropped there
    assert second["X"].shape == (2, 3, 1)  # trial 3 of session 2 has no go cue
    np.testing.assert_allclose(second["labels"], [np.pi / 2, np.pi])
    np.testing.assert_array_equal(first["trial_ids"], [1.0, 2.0, 3.0])


def test_trial_windows_drop_windows_leaving_the_trial_and_explain_errors():
    df = _table()
    after = trial_windows(df, "EventGo_cue", (0, 3), feature_columns=["Neuron1"],
                          label_column="target_dir")
    np.testing.assert_array_equal(after[0]["X"][0, :, 0], [112, 113, 114])
    early = trial_windows(df, "EventGo_cue", (-2, -1), feature_columns=["Neuron1"], label_column="target_dir")
    np.testing.assert_array_equal(early[0]["X"][:, 0, 0], [110, 120, 130])
    with pytest.raises(ValueError, match="No trial has"):
        trial_windows(df, "EventGo_cue", (-3, 0), feature_columns=["Neuron1"],
                      label_column="target_dir")
    with pytest.raises(ValueError, match="choose one it has"):
        trial_windows(df, "EventMovement_start", (-1, 0), feature_columns=["Neuron1"],
                      label_column="target_dir")
    with pytest.raises(ValueError, match="start < stop"):
        trial_windows(df, "EventGo_cue", (0, 0), feature_columns=["Neuron1"],
                      label_column="target_dir")


def test_sessions_from_trials_split_in_time_order():
    windows = [{"key": {"animal": 1, "session": 3}, "X": np.arange(20)[:, None, None] * np.ones((1, 2, 2)),
                "labels": np.arange(20) % 4}]
    s = sessions_from_trials(windows, dataset="d", task="t")[0]
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (14, 2, 4)
    assert s.X_train[-1, 0, 0] < s.X_val[0, 0, 0] < s.X_test[0, 0, 0]
    assert (s.dataset, s.task, s.animal, s.session) == ("d", "t", 1, 3)
    with pytest.raises(ValueError, match="too few"):
        sessions_from_trials([{**windows[0], "X": windows[0]["X"][:3], "labels": windows[0]["labels"][:3]}])


def test_chance_accuracy_is_the_majority_guess():
    assert chance_accuracy([1, 1, 2], [1, 2, 2, 2]) == 0.25
    with pytest.warns(DataConversionWarning):  # a column vector works, with scikit-learn's warning
        assert chance_accuracy(np.array([[0], [0], [3]]), np.array([0, 0])) == 1.0


def test_benchmark_classifiers_table_and_predictions(reaches):
    sim, X, y, Xv, yv, Xt, yt = reaches
    sessions = [SessionSplits(X, y, Xv, yv, Xt, yt, dataset="sim", task="reach", animal=1, session=s) for s in (1, 2)]
    table, predictions = benchmark_classifiers(
        {"naive Bayes": NaiveBayesClassifier(), "GRU": GRUClassifier(max_epochs=3)}, sessions, progress=False,
        return_predictions=True,
    )
    assert list(table["model"]) == ["naive Bayes", "GRU"] * 2
    assert (table["n_test"] == len(yt)).all() and (table["n_classes"] == 8).all()
    assert (table["chance"] < 0.25).all()
    assert len(predictions) == 4 * len(yt)
    nb = predictions[(predictions["model"] == "naive Bayes") & (predictions["session"] == 1)]
    assert np.mean(nb["true"] == nb["predicted"]) == pytest.approx(table.loc[0, "accuracy"])


def test_movement_onset_is_the_first_crossing_after_the_event():
    df = pd.DataFrame({
        "animal": 1, "session": 1, "trial_id": [1.0] * 6 + [2.0] * 5 + [3.0] * 3,
        "go": [False, True, False, False, False, False] + [True, False, False, False, False] + [False] * 3,
    })
    speed = np.array([9.0, 0, 1, 5, 10, 2] + [0, 0, 0, 4, 8] + [5, 5, 5])  # 9.0 before the go: ignored
    onset = movement_onset(df, speed, "go", threshold=0.5)
    assert np.flatnonzero(onset).tolist() == [3, 9]  # trial 3 has no go cue: no onset
    windows = trial_windows(df.assign(Neuron1=np.arange(14.0), target=1), onset, (-2, 0),
                            feature_columns=["Neuron1"], label_column="target")
    np.testing.assert_array_equal(windows[0]["X"][:, :, 0], [[1.0, 2.0], [7.0, 8.0]])
    with pytest.raises(ValueError, match="share of the peak"):
        movement_onset(df, speed, "go", threshold=0.0)
    with pytest.raises(ValueError, match="one flag per row"):
        trial_windows(df.assign(Neuron1=1.0, target=1), onset[:3], (-1, 0),
                      feature_columns=["Neuron1"], label_column="target")
