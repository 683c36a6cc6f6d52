"""Run a set of decoders over many sessions and collect a tidy table of R² and fit times.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from tqdm.auto import tqdm

from ._checks import check_Xy
from .metrics import correlation_per_output, r2_score_per_output

__all__ = ["SessionSplits", "sessions_from_lists", "benchmark_decoders", "RESULT_COLUMNS"]

RESULT_COLUMNS = [
    "dataset",
    "task",
    "animal",
    "session",
    "model",
    "output",
    "r2",
    "correlation",
    "fit_time_s",
]


@dataclass
class SessionSplits:
    """The train/validation/test arrays of one recording session, and who it is.

    ``X_*`` are ``(T, lags, N)`` or ``(T, features)``; ``y_*`` are ``(T, outputs)``. ``output_names`` label
    the columns of ``y`` (e.g. ``["hand_vel_x", "hand_vel_y"]``).

    Examples
    --------
    >>> z = np.zeros((4, 2, 3)); t = np.zeros((4, 2))
    >>> SessionSplits(z, t, z, t, z, t, dataset="demo", animal=1, session=1).n_neurons
    3

    Taught in chapter 08_decoding_baselines.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    dataset: str = ""
    task: str = ""
    animal: Any = None
    session: Any = None
    output_names: Sequence[str] = field(default_factory=list)

    @property
    def n_neurons(self) -> int:
        """Number of neurons (the last axis of ``X_train``)."""
        return int(np.shape(self.X_train)[-1])


def sessions_from_lists(
    X_train: Sequence[np.ndarray],
    y_train: Sequence[np.ndarray],
    X_val: Sequence[np.ndarray],
    y_val: Sequence[np.ndarray],
    X_test: Sequence[np.ndarray],
    y_test: Sequence[np.ndarray],
    keys: Sequence[Mapping[str, Any]] | pd.DataFrame,
    output_names: Sequence[str] = (),
) -> list[SessionSplits]:
    """Zip the per-session lists that NeuroTask's ``process_data`` returns into :class:`SessionSplits`.

    Parameters
    ----------
    X_train, y_train, X_val, y_val, X_test, y_test
        Lists with one array per session, in the same order.
    keys
        One mapping (or DataFrame row) per session with any of ``dataset``, ``task``, ``animal``,
        ``session``: e.g. ``df[["animal", "session"]].drop_duplicates()`` in order of appearance.
    output_names
        Names of the columns of ``y`` (the ``behavior_columns`` passed to ``process_data``).

    Examples
    --------
    >>> z = [np.zeros((4, 2, 3))]; t = [np.zeros((4, 1))]
    >>> sessions_from_lists(z, t, z, t, z, t, keys=[{"animal": 1, "session": 2}])[0].session
    2

    Taught in chapter 08_decoding_baselines.
    """
    lists = [X_train, y_train, X_val, y_val, X_test, y_test]
    records = keys.to_dict("records") if isinstance(keys, pd.DataFrame) else [dict(k) for k in keys]
    lengths = {len(x) for x in lists} | {len(records)}
    if len(lengths) != 1:
        raise ValueError(
            f"The six array lists and keys must have one entry per session; got lengths "
            f"{[len(x) for x in lists]} and {len(records)} keys."
        )
    allowed = {"dataset", "task", "animal", "session"}
    out = []
    for arrays, key in zip(zip(*lists, strict=True), records, strict=True):
        meta = {k: v for k, v in key.items() if k in allowed}
        out.append(SessionSplits(*arrays, output_names=list(output_names), **meta))
    return out


def _accepts_validation(estimator: Any) -> bool:
    params = inspect.signature(estimator.fit).parameters
    return "X_val" in params and "y_val" in params


def benchmark_decoders(
    decoders: Mapping[str, Any],
    sessions: Sequence[SessionSplits],
    *,
    progress: bool = True,
    return_models: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, dict[tuple[int, str], Any]]:
    """Fit every decoder on every session's training split and score it on that session's test split.

    Each decoder is cloned (``sklearn.base.clone``) per session, so nothing learned on one session is reused
    on another. Decoders whose ``fit`` takes ``X_val, y_val`` (ridge, the torch decoders) get the session's
    validation split; the others train on the training split only, so every model sees the same training bins.

    Parameters
    ----------
    decoders
        Model name -> unfitted estimator (``fit(X, y)`` and ``predict(X)``).
    sessions
        One :class:`SessionSplits` per session (see :func:`sessions_from_lists`).
    progress
        Show a tqdm bar over (session, model) fits.
    return_models
        Also return the fitted decoders, keyed by ``(session position, model name)``.

    Returns
    -------
    pandas.DataFrame
        One row per (session, model, output) with columns ``dataset, task, animal, session, model, output,
        r2, correlation, fit_time_s`` (R² as :func:`r2_score_per_output`; fit time in seconds of wall clock).
        With ``return_models=True``, a tuple ``(table, models)``.

    Examples
    --------
    >>> from course_utils.decoding import WienerFilter
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(100, 2, 3)); y = X[:, -1, :2]
    >>> s = SessionSplits(X[:70], y[:70], X[70:80], y[70:80], X[80:], y[80:], dataset="sim", session=1)
    >>> table = benchmark_decoders({"Wiener": WienerFilter()}, [s], progress=False)
    >>> table[["model", "output", "r2"]].round(3).values.tolist()
    [['Wiener', 'y0', 1.0], ['Wiener', 'y1', 1.0]]

    Taught in chapter 08_decoding_baselines.
    """
    if not decoders:
        raise ValueError("decoders is empty: pass a dict like {'Wiener filter': WienerFilter()}.")
    if not sessions:
        raise ValueError("sessions is empty: check the trial filter and the split ranges.")
    rows = []
    models: dict[tuple[int, str], Any] = {}
    bar = tqdm(total=len(sessions) * len(decoders), desc="benchmark", disable=not progress)
    for position, s in enumerate(sessions):
        if not isinstance(s, SessionSplits):
            raise TypeError(
                f"sessions must hold SessionSplits (see sessions_from_lists), got {type(s).__name__}."
            )
        X_train, y_train = check_Xy(s.X_train, s.y_train, names=("X_train", "y_train"))
        X_test, y_test = check_Xy(s.X_test, s.y_test, names=("X_test", "y_test"))
        names = list(s.output_names) or [f"y{i}" for i in range(y_train.shape[1])]
        if len(names) != y_train.shape[1]:
            raise ValueError(f"output_names has {len(names)} names but y has {y_train.shape[1]} columns.")
        for model_name, template in decoders.items():
            bar.set_postfix_str(f"{s.dataset} {s.animal}/{s.session} {model_name}")
            est = clone(template)
            if progress and "progress" in est.get_params():
                est.set_params(progress=False)  # one bar (this one), not one per training run
            start = time.perf_counter()
            if _accepts_validation(est):
                est.fit(X_train, y_train, X_val=s.X_val, y_val=s.y_val)
            else:
                est.fit(X_train, y_train)
            fit_time = time.perf_counter() - start
            pred = est.predict(X_test)
            r2 = r2_score_per_output(y_test, pred)
            corr = correlation_per_output(y_test, pred)
            for i, out in enumerate(names):
                rows.append(
                    (s.dataset, s.task, s.animal, s.session, model_name, out, r2[i], corr[i], fit_time)
                )
            if return_models:
                models[position, model_name] = est
            bar.update()
    bar.close()
    table = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    return (table, models) if return_models else table
