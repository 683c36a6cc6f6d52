"""Torch decoders: they learn a temporal task a static decoder cannot, train reproducibly, and round-trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.decoding import (
    FeedForwardDecoder,
    GRUDecoder,
    LSTMDecoder,
    SimpleRNNDecoder,
    WienerFilter,
    default_max_epochs,
    fast_mode,
)
from course_utils.decoding.simulate import simulate_delay_task
from course_utils.fileio import BadFileError

SMALL = dict(hidden_size=16, dropout=0.0, learning_rate=1e-2, batch_size=64, max_epochs=12, patience=4, progress=False)


@pytest.fixture(scope="module")
def delay_task():
    sim = simulate_delay_task(n_bins=2500, n_lags=5, n_neurons=3, delay=3, seed=0)
    X, y = sim["X"], sim["y"]
    return X[:1800], y[:1800], X[1800:2100], y[1800:2100], X[2100:], y[2100:]


@pytest.mark.parametrize("cls", [GRUDecoder, LSTMDecoder, SimpleRNNDecoder])
def test_recurrent_decoders_learn_delayed_target(cls, delay_task):
    X, y, Xv, yv, Xt, yt = delay_task
    dec = cls(**SMALL).fit(X, y, X_val=Xv, y_val=yv)
    assert dec.score(Xt, yt) > 0.8  # noise-free target: the ceiling is 1
    # the current bin alone carries no information about a target 3 bins back
    assert WienerFilter().fit(X[:, -1], y).score(Xt[:, -1], yt) < 0.05
    assert dec.history_["val_loss"][dec.best_epoch_ - 1] == min(dec.history_["val_loss"])


def test_feedforward_learns_delayed_target(delay_task):
    X, y, Xv, yv, Xt, yt = delay_task
    assert FeedForwardDecoder(**SMALL).fit(X, y, X_val=Xv, y_val=yv).score(Xt, yt) > 0.8


def test_same_seed_same_fit(delay_task):
    X, y, Xv, yv, Xt, _ = delay_task
    kw = {**SMALL, "max_epochs": 2}
    p1 = GRUDecoder(**kw, seed=3).fit(X, y, X_val=Xv, y_val=yv).predict(Xt)
    p2 = GRUDecoder(**kw, seed=3).fit(X, y, X_val=Xv, y_val=yv).predict(Xt)
    p3 = GRUDecoder(**kw, seed=4).fit(X, y, X_val=Xv, y_val=yv).predict(Xt)
    np.testing.assert_array_equal(p1, p2)
    assert not np.allclose(p1, p3)


def test_early_stopping_stops_when_validation_is_unlearnable():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3, 4)).astype(np.float32)
    y = rng.normal(size=(600, 1))  # pure noise: validation loss cannot keep improving
    dec = FeedForwardDecoder(
        hidden_size=32, max_epochs=200, patience=3, learning_rate=1e-2, progress=False
    ).fit(X, y)
    assert dec.n_epochs_ < 200
    assert dec.n_epochs_ - dec.best_epoch_ == 3


@pytest.mark.parametrize("cls", [GRUDecoder, LSTMDecoder, FeedForwardDecoder, SimpleRNNDecoder])
def test_save_load_round_trip(cls, delay_task, tmp_path):
    X, y, Xv, yv, Xt, _ = delay_task
    dec = cls(**{**SMALL, "max_epochs": 1}).fit(X, y, X_val=Xv, y_val=yv)
    path = dec.save(tmp_path / "dec.pt")
    loaded = cls.load(path)
    np.testing.assert_allclose(loaded.predict(Xt), dec.predict(Xt), rtol=1e-6, atol=1e-6)
    assert loaded.get_params() == dec.get_params()
    torch.load(path, weights_only=True)  # plain tensors and numbers: loads with weights_only
    other = FeedForwardDecoder if cls is not FeedForwardDecoder else GRUDecoder
    with pytest.raises(BadFileError, match="holds a"):
        other.load(path)
    with pytest.raises(FileNotFoundError, match="does not exist. Fit a"):
        cls.load(tmp_path / "missing.pt")


class _NotWeights:  # a pickled custom object: what a checkpoint that runs code on loading looks like
    pass


def test_load_refuses_files_that_are_not_saved_decoders(tmp_path):
    """Issue 14: our message naming the file, never torch's advice to set weights_only=False."""
    code = tmp_path / "code.pt"
    torch.save({"state": _NotWeights()}, code)
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.ones(3)}, other)
    for path, expected in ((code, "not a plain weights file"), (text, "weights file"),
                           (other, "not a decoder saved by course_utils.decoding")):
        with pytest.raises(BadFileError, match=expected) as info:
            GRUDecoder.load(path)
        message = str(info.value)
        assert str(path) in message
        assert "weights_only=False" not in message and "weights_only = False" not in message
        assert info.value.__cause__ is None or "weights_only=False" not in str(info.value.__cause__)


def test_2d_input_is_a_history_of_one(delay_task):
    X, y, *_ = delay_task
    dec = GRUDecoder(**{**SMALL, "max_epochs": 1}).fit(X[:, -1], y)
    assert dec.predict(X[:50, -1]).shape == (50, 1)
    with pytest.raises(ValueError, match="Neuron identity"):
        dec.predict(X[:50])


def test_fast_setting(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert fast_mode() and default_max_epochs() == 8
    monkeypatch.setenv("COURSE_FAST", "0")
    assert not fast_mode() and default_max_epochs() == 60
    monkeypatch.setenv("COURSE_FAST", "1")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 2, 3)), rng.normal(size=(200, 1))
    dec = FeedForwardDecoder(hidden_size=4, patience=100, progress=False).fit(X, y)
    assert dec.n_epochs_ == 8


def test_bad_input_and_params(delay_task):
    X, y, Xv, yv, *_ = delay_task
    with pytest.raises(ValueError, match="rows"):
        GRUDecoder(**SMALL).fit(X, y[:-5])
    Xn = X.copy()
    Xn[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GRUDecoder(**SMALL).fit(Xn, y)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        GRUDecoder(**SMALL).fit(X, y, X_val=Xv)
    with pytest.raises(ValueError, match="hidden_size"):
        GRUDecoder(hidden_size=0).fit(X, y)
    with pytest.raises(ValueError, match="X_val"):
        GRUDecoder(**SMALL).fit(X, y, X_val=Xv[:, :, :2], y_val=yv)


def test_simple_rnn_nonlinearity_is_a_parameter(delay_task):
    X, y, *_ = delay_task
    tanh = SimpleRNNDecoder(**{**SMALL, "max_epochs": 1}, nonlinearity="tanh").fit(X, y)
    assert tanh.module_.rnn.nonlinearity == "tanh"
    assert SimpleRNNDecoder(**{**SMALL, "max_epochs": 1}).fit(X, y).module_.rnn.nonlinearity == "relu"
    with pytest.raises(ValueError, match="nonlinearity"):
        SimpleRNNDecoder(nonlinearity="sigmoid").fit(X, y)


def test_1d_target_round_trips_as_1d(delay_task, tmp_path):
    X, y, Xv, yv, Xt, _ = delay_task
    dec = GRUDecoder(**{**SMALL, "max_epochs": 1}).fit(X, y[:, 0], X_val=Xv, y_val=yv[:, 0])
    assert dec.predict(Xt).shape == (len(Xt),)
    assert GRUDecoder.load(dec.save(tmp_path / "g.pt")).predict(Xt).shape == (len(Xt),)


def test_classifier_without_usable_validation_labels_trains_every_epoch():
    """Few trials per target (sample mode on a small file): a warning, no early stopping, no crash."""
    from course_utils.decoding import GRUClassifier

    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 30)
    X = rng.normal(size=(60, 3, 4)).astype(np.float32) + y[:, None, None]
    X_val, y_val = rng.normal(size=(4, 3, 4)).astype(np.float32), np.array([5, 5, 6, 6])
    clf = GRUClassifier(max_epochs=3, progress=False)
    with pytest.warns(UserWarning, match="early stopping is off"):
        clf.fit(X, y, X_val=X_val, y_val=y_val)
    assert clf.n_epochs_ == 3 and clf.best_epoch_ == 3
    assert clf.predict(X).shape == (60,)
