"""Progress bars stay a line or two in an executed chapter (the book build sets ``TQDM_MININTERVAL=60``).

A bar whose postfix forces a refresh, or whose explicit ``mininterval`` ignores the variable, printed one
line per step into the executed page (chapter 8's benchmark: 50 lines; chapter 9's training: 51).
``.ci/check_book.py`` checks the executed chapters themselves; these tests pin down each cause.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
from tqdm.std import tqdm

from course_utils.decoding import RidgeDecoder, SessionSplits, WienerClassifier, WienerFilter, benchmark
from course_utils.training import progress_bar


def _sessions(n: int = 3, classes: bool = False) -> list[SessionSplits]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 4))
    y = (X[:, :1] > 0).astype(int).ravel() if classes else X[:, :2] + 0.1 * rng.normal(size=(90, 2))
    return [SessionSplits(X[:60], y[:60], X[60:70], y[60:70], X[70:], y[70:], dataset="sim", session=s)
            for s in range(n)]


@pytest.mark.parametrize("kind", ["decoders", "classifiers"])
def test_benchmark_postfix_does_not_force_a_refresh(kind, monkeypatch, capsys):
    # a long interval, as in the book build: only the first and the last state of the bar are printed
    monkeypatch.setattr("tqdm.auto.tqdm", functools.partial(tqdm, mininterval=60, ascii=True))
    if kind == "decoders":
        benchmark.benchmark_decoders({"Wiener": WienerFilter(), "Ridge": RidgeDecoder()}, _sessions())
    else:
        benchmark.benchmark_classifiers({"a": WienerClassifier(), "b": WienerClassifier(C=0.1)},
                                        _sessions(classes=True))
    states = [line for line in capsys.readouterr().err.replace("\r", "\n").split("\n") if "benchmark:" in line]
    assert 1 <= len(states) <= 2, states  # 6 fits: a refresh per postfix printed 8
    assert "6/6" in states[-1]


def test_benchmark_bar_names_the_fit_in_progress(monkeypatch, capsys):
    # where the bar may refresh at once (learners' bars refresh every 0.1 s), it shows the model being fitted,
    # not only the one before it: "1/6 [...] sim None/0 Ridge]" while Ridge of session 0 is fitted
    monkeypatch.setattr("tqdm.auto.tqdm", functools.partial(tqdm, mininterval=0, ascii=True))
    benchmark.benchmark_decoders({"Wiener": WienerFilter(), "Ridge": RidgeDecoder()}, _sessions())
    labels = [(int(done), model) for done, model in re.findall(r"(\d)/6 \[[^\]]*, sim \S+ (\w+)\]",
                                                                capsys.readouterr().err)]
    assert (0, "Wiener") in labels and (1, "Ridge") in labels and (5, "Ridge") in labels, labels


def test_an_explicit_interval_is_raised_to_the_book_builds(monkeypatch):
    def interval(**kwargs) -> float:
        bar = progress_bar(range(2), **kwargs)
        bar.close()
        return bar.mininterval

    monkeypatch.setenv("TQDM_MININTERVAL", "60")
    assert interval(mininterval=3.0) == 60
    monkeypatch.setenv("TQDM_MININTERVAL", "1")
    assert interval(mininterval=3.0) == 3.0  # never shortened
    monkeypatch.setenv("TQDM_MININTERVAL", "soon")  # set after tqdm was imported (before, tqdm refuses it)
    assert interval(mininterval=3.0) == 3.0
    monkeypatch.delenv("TQDM_MININTERVAL")
    assert interval(mininterval=3.0) == 3.0
