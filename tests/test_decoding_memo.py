"""A slow decoder fitted twice on the same arrays in one process is fitted once (chapter 8 does this)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch

from course_utils.decoding import (
    BoostedTreesDecoder,
    GRUDecoder,
    SessionSplits,
    WienerFilter,
    _memo,
    benchmark_decoders,
    tuned,
)


def _session(seed: int = 0) -> SessionSplits:
    rng = np.random.default_rng(seed)
    X = rng.poisson(2.0, (400, 3, 5)).astype(np.float32)
    y = (X[:, -1, :2] - 2.0 + 0.1 * rng.normal(size=(400, 2))).astype(np.float32)
    return SessionSplits(X[:280], y[:280], X[280:320], y[280:320], X[320:], y[320:], dataset="sim", session=1)


def test_same_fit_is_reused_with_its_time_and_random_state(monkeypatch):
    s = _session()
    calls = []
    original = GRUDecoder.fit
    monkeypatch.setattr(GRUDecoder, "fit", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    gru = GRUDecoder(hidden_size=4, max_epochs=2, progress=False)
    table1, models1 = benchmark_decoders({"GRU": gru, "Wiener": WienerFilter()}, [s], progress=False,
                                         return_models=True)
    state_after_fit = torch.random.get_rng_state()
    torch.manual_seed(123)  # a later cell moves the global state on
    table2, models2 = benchmark_decoders({"GRU": gru}, [s], progress=False, return_models=True)
    assert len(calls) == 1  # fitted once
    assert models2[0, "GRU"] is not models1[0, "GRU"]  # a copy: changing one leaves the other
    assert np.array_equal(models2[0, "GRU"].predict(s.X_test), models1[0, "GRU"].predict(s.X_test))
    assert table2["fit_time_s"].iloc[0] == table1["fit_time_s"].iloc[0]
    assert torch.equal(torch.random.get_rng_state(), state_after_fit)  # as the fit left it

    benchmark_decoders({"GRU": GRUDecoder(hidden_size=5, max_epochs=2, progress=False)}, [s], progress=False)
    benchmark_decoders({"GRU": gru}, [_session(seed=1)], progress=False)
    assert len(calls) == 3  # other settings or other data: fitted again


def test_search_reuses_the_decoders_own_fit_and_the_fast_setting_is_part_of_the_key(monkeypatch):
    s = _session()
    trees = BoostedTreesDecoder(backend="sklearn", n_estimators=5)
    calls = []
    original = BoostedTreesDecoder.fit
    monkeypatch.setattr(BoostedTreesDecoder, "fit", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    monkeypatch.setenv("COURSE_FAST", "1")
    _, alone = benchmark_decoders({"trees": trees}, [s], progress=False, return_models=True)
    _, searched = benchmark_decoders({"trees": tuned(trees, n_iter=2)}, [s], progress=False, return_models=True)
    assert len(calls) == 3  # candidate 0 (the decoder's own settings) came from the first fit
    search = searched[0, "trees"]
    assert search.search_results_["val_score"].iloc[0] == alone[0, "trees"].score(s.X_val, s.y_val)
    monkeypatch.setenv("COURSE_FAST", "0")
    benchmark_decoders({"trees": trees}, [s], progress=False)
    assert len(calls) == 4


def test_only_slow_decoders_are_kept_and_the_store_is_bounded():
    assert not _memo._memoisable(WienerFilter())
    s = _session()
    for seed in range(_memo.MAX_FITS + 3):
        _memo.fit_once(BoostedTreesDecoder(backend="sklearn", n_estimators=2, seed=seed), s.X_train, s.y_train,
                       s.X_val, s.y_val)
    assert len(_memo._FITS) == _memo.MAX_FITS  # every seed stored, the oldest dropped


def test_student_run_reuses_a_search_and_fits_only_the_kept_candidates(tmp_path, monkeypatch):
    """Under make test the student notebook's search of boosted trees reuses the instructor run's scores."""
    from course_utils import training

    s = _session()
    search = tuned(BoostedTreesDecoder(backend="sklearn", n_estimators=5), n_iter=3)
    monkeypatch.setenv(training.REUSE_ENV, str(tmp_path))
    runs = {}
    for run in ("instructor", "student"):
        monkeypatch.setattr(training, "_CALLS", Counter())  # a fresh kernel
        _memo.clear()
        calls = []
        original = BoostedTreesDecoder.fit
        monkeypatch.setattr(BoostedTreesDecoder, "fit", lambda self, *a, _c=calls, _o=original, **k: _c.append(1)
                            or _o(self, *a, **k))
        _, models = benchmark_decoders({"trees": search}, [s], progress=False, return_models=True)
        monkeypatch.setattr(BoostedTreesDecoder, "fit", original)
        runs[run] = (models[0, "trees"], len(calls))
    (first, n_first), (second, n_second) = runs["instructor"], runs["student"]
    assert n_first == 4 and n_second == len({0, int(second.search_results_["val_score"].argmax())}) < 4
    assert second.search_results_.equals(first.search_results_)
    assert second.best_params_ == first.best_params_
    assert np.array_equal(second.predict(s.X_test), first.predict(s.X_test))
    assert np.array_equal(second.default_estimator_.predict(s.X_test), first.default_estimator_.predict(s.X_test))


def test_an_unseeded_fit_is_fitted_every_time(monkeypatch):
    s = _session()
    calls = []
    original = BoostedTreesDecoder.fit
    monkeypatch.setattr(BoostedTreesDecoder, "fit", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    for _ in range(2):
        _memo.fit_once(BoostedTreesDecoder(backend="sklearn", n_estimators=5, seed=None), s.X_train, s.y_train)
    assert len(calls) == 2
