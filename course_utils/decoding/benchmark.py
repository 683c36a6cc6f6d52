"""Run a set of decoders over many sessions and collect a tidy table of R² (or accuracy) and fit times.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..training import _show_postfix, progress_bar
from ._checks import check_labels, check_X, check_Xy
from ._memo import fit_once
from .metrics import correlation_per_output, r2_score_per_output

__all__ = [
    "SessionSplits",
    "sessions_from_lists",
    "benchmark_decoders",
    "benchmark_classifiers",
    "RESULT_COLUMNS",
    "CLASSIFICATION_COLUMNS",
]

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
CLASSIFICATION_COLUMNS = [
    "dataset",
    "task",
    "animal",
    "session",
    "model",
    "accuracy",
    "chance",
    "n_classes",
    "n_test",
    "fit_time_s",
]


@dataclass
class SessionSplits:
    """The train/validation/test arrays of one recording session, and who it is.

    ``X_*`` are ``(T, lags, N)`` or ``(T, features)``; ``y_*`` are ``(T, outputs)`` for regression, or one
    label per row ``(T,)`` for classification. ``output_names`` label the columns of ``y`` (e.g.
    ``["hand_vel_x", "hand_vel_y"]``).

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


def _fit_timed(template: Any, s: SessionSplits, X_train, y_train) -> tuple[Any, float]:
    """Clone ``template``, fit it on one session's training split (validation split if it takes one)."""
    est = clone(template)
    # One bar at most (the benchmark's), not one per training run, nested ones (TunedDecoder) included.
    est.set_params(**{k: False for k in est.get_params() if k == "progress" or k.endswith("__progress")})
    if _accepts_validation(est):
        return fit_once(est, X_train, y_train, s.X_val, s.y_val)
    return fit_once(est, X_train, y_train)


def _check_inputs(estimators: Mapping[str, Any], sessions: Sequence[SessionSplits], kind: str) -> None:
    if not estimators:
        raise ValueError(f"{kind} is empty: pass a dict like {{'Wiener filter': WienerFilter()}}.")
    if not sessions:
        raise ValueError("sessions is empty: check the trial filter and the split ranges.")
    for s in sessions:
        if not isinstance(s, SessionSplits):
            raise TypeError(
                f"sessions must hold SessionSplits (see sessions_from_lists), got {type(s).__name__}."
            )


def benchmark_decoders(
    decoders: Mapping[str, Any],
    sessions: Sequence[SessionSplits],
    *,
    progress: bool = True,
    return_models: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, dict[tuple[int, str], Any]]:
    """Fit every decoder on every session's training split and score it on that session's test split.

    Each decoder is cloned (``sklearn.base.clone``) per session, so nothing learned on one session is reused
    on another. Decoders whose ``fit`` takes ``X_val, y_val`` (ridge, boosted trees, the torch decoders,
    :class:`~course_utils.decoding.TunedDecoder`) get the session's validation split; the others train on
    the training split only, so every model sees the same training bins. A slow decoder (network, boosted
    trees, SVR) already fitted in this process with the same settings on the same arrays is not fitted again:
    its copy and first fit time are reused (``course_utils.decoding._memo``).

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
    _check_inputs(decoders, sessions, "decoders")
    rows = []
    models: dict[tuple[int, str], Any] = {}
    bar = progress_bar(total=len(sessions) * len(decoders), desc="benchmark", progress=progress)
    for position, s in enumerate(sessions):
        X_train, y_train = check_Xy(s.X_train, s.y_train, names=("X_train", "y_train"))
        X_test, y_test = check_Xy(s.X_test, s.y_test, names=("X_test", "y_test"))
        names = list(s.output_names) or [f"y{i}" for i in range(y_train.shape[1])]
        if len(names) != y_train.shape[1]:
            raise ValueError(f"output_names has {len(names)} names but y has {y_train.shape[1]} columns.")
        for model_name, template in decoders.items():
            _show_postfix(bar, f"{s.dataset} {s.animal}/{s.session} {model_name}")
            est, fit_time = _fit_timed(template, s, X_train, y_train)
            pred = np.asarray(est.predict(X_test)).reshape(y_test.shape)
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


def benchmark_classifiers(
    classifiers: Mapping[str, Any],
    sessions: Sequence[SessionSplits],
    *,
    progress: bool = True,
    return_predictions: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Fit every classifier on every session's training trials; accuracy on its test trials, and chance.

    As :func:`benchmark_decoders`, for labels (one per row, e.g. per trial): each classifier is cloned per
    session, fitted on the training split (with the validation split where ``fit`` takes one) and scored
    on the test split. ``chance`` is :func:`~course_utils.decoding.chance_accuracy` (always guessing the
    most frequent training class), the accuracy a decoder must beat.

    Parameters
    ----------
    classifiers
        Model name -> unfitted classifier.
    sessions
        One :class:`SessionSplits` per session with 1-D labels (see
        :func:`~course_utils.decoding.sessions_from_trials`).
    progress
        Show a tqdm bar over (session, model) fits.
    return_predictions
        Also return every test prediction: a table with ``dataset, task, animal, session, model, true,
        predicted`` (pool it over sessions for a confusion matrix).

    Returns
    -------
    pandas.DataFrame
        One row per (session, model): ``dataset, task, animal, session, model, accuracy, chance, n_classes,
        n_test, fit_time_s``; with ``return_predictions=True`` a tuple ``(table, predictions)``.

    Examples
    --------
    >>> from course_utils.decoding import WienerClassifier
    >>> rng = np.random.default_rng(0); labels = rng.integers(0, 2, 100); X = rng.normal(size=(100, 3)) + labels[:, None]
    >>> s = SessionSplits(X[:70], labels[:70], X[70:80], labels[70:80], X[80:], labels[80:], session=1)
    >>> table = benchmark_classifiers({"logistic": WienerClassifier()}, [s], progress=False)
    >>> bool(table.loc[0, "accuracy"] > table.loc[0, "chance"])
    True

    Taught in chapter 08_decoding_baselines.
    """
    from .classification import chance_accuracy

    _check_inputs(classifiers, sessions, "classifiers")
    rows, predictions = [], []
    bar = progress_bar(total=len(sessions) * len(classifiers), desc="benchmark", progress=progress)
    for s in sessions:
        X_train, y_train = check_X(s.X_train, name="X_train"), check_labels(s.y_train, name="y_train")
        X_test, y_test = check_X(s.X_test, name="X_test"), check_labels(s.y_test, name="y_test")
        chance = chance_accuracy(y_train, y_test)
        for model_name, template in classifiers.items():
            _show_postfix(bar, f"{s.dataset} {s.animal}/{s.session} {model_name}")
            est, fit_time = _fit_timed(template, s, X_train, y_train)
            pred = np.asarray(est.predict(X_test))
            accuracy = float(np.mean(pred == y_test))
            rows.append((s.dataset, s.task, s.animal, s.session, model_name, accuracy, chance,
                         len(np.unique(y_train)), len(y_test), fit_time))
            if return_predictions:
                predictions.append(pd.DataFrame({
                    "dataset": s.dataset, "task": s.task, "animal": s.animal, "session": s.session,
                    "model": model_name, "true": y_test, "predicted": pred,
                }))
            bar.update()
    bar.close()
    table = pd.DataFrame(rows, columns=CLASSIFICATION_COLUMNS)
    if return_predictions:
        return table, pd.concat(predictions, ignore_index=True)
    return table
