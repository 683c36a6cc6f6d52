"""Decoding a discrete target per trial (e.g. the reach target) from a window of spikes.

* :func:`trial_windows` cuts one window of spike counts per trial around an event of a binned table;
* :func:`sessions_from_trials` splits each session's trials chronologically into training, validation and
  test trials (:class:`~course_utils.decoding.SessionSplits` with one label per trial);
* :class:`WienerClassifier` is the linear baseline (multinomial logistic regression, NeuroTask's
  ``WienerFilterClassification``); the naive Bayes, boosted-trees and recurrent classifiers live beside
  their regression twins;
* :func:`chance_accuracy` is the accuracy to beat.

This module reads plain tables and arrays: it does not import a source module. Column names default to
NeuroTask's (``trial_id``, ``animal``, ``session``) and can be changed.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._checks import check_fitted_X, check_labels, check_X_labels, flatten_lags
from .benchmark import SessionSplits

__all__ = [
    "WienerClassifier",
    "trial_windows",
    "movement_onset",
    "sessions_from_trials",
    "chance_accuracy",
    "angle_labels",
]


def _trial_runs(df: pd.DataFrame, trial_column: str, session_columns: Sequence[str]):
    """Start and end row of each contiguous trial, and the trial run of every row."""
    code = df.groupby([*session_columns, trial_column], sort=False, dropna=False).ngroup().to_numpy()
    change = np.flatnonzero(np.diff(code)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(df)]])
    return starts, ends, np.repeat(np.arange(len(starts)), ends - starts)


def _first_per_trial(flags: np.ndarray, run: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(flags)
    _, first = np.unique(run[rows], return_index=True)
    return rows[first]


class WienerClassifier(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression on the flattened, standardised window (a "Wiener classifier").

    The classification twin of :class:`~course_utils.decoding.WienerFilter` (upstream
    ``WienerFilterClassification``): one weight per lag, neuron and class, ``p(k | x) = softmax_k(W_k . x +
    b_k)``, fitted with an L2 penalty of strength ``1 / C`` (upstream ``C=1``). Features are standardised
    with training statistics so the penalty treats neurons alike.

    Parameters
    ----------
    C
        Inverse penalty strength (smaller: stronger regularisation; tune it on validation trials).
    max_iter
        Iterations of the solver.

    Attributes
    ----------
    classes_ : ndarray
    model_ : sklearn.pipeline.Pipeline
        ``StandardScaler`` then ``LogisticRegression``.
    n_iter_ : int
        Solver iterations used.

    Examples
    --------
    >>> rng = np.random.default_rng(0); labels = rng.integers(0, 3, 150)
    >>> X = rng.normal(size=(150, 2, 4)) + labels[:, None, None]
    >>> WienerClassifier().fit(X[:100], labels[:100]).score(X[100:], labels[100:]) > 0.8
    True

    Taught in chapter 08_decoding_baselines.
    """

    def __init__(self, C: float = 1.0, max_iter: int = 1000):
        self.C = C
        self.max_iter = max_iter

    def fit(self, X: np.ndarray, y: np.ndarray) -> WienerClassifier:
        """Fit the logistic regression on ``X`` ``(trials, lags, N)`` or ``(trials, features)`` and labels."""
        X, y = check_X_labels(X, y)
        if len(np.unique(y)) < 2:
            raise ValueError(f"WienerClassifier needs at least 2 classes in y, got 1 class ({y[0]!r}).")
        self.input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = int(np.prod(self.input_shape_))
        self.model_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=self.max_iter))
        self.model_.fit(flatten_lags(X), y)
        self.classes_ = self.model_.classes_
        self.n_iter_ = int(np.max(self.model_[-1].n_iter_))
        return self

    def _features(self, X: np.ndarray) -> np.ndarray:
        X = check_fitted_X(self, X, "model_")
        return flatten_lags(X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of each class in ``classes_``, shape ``(T, n_classes)``."""
        features = self._features(X)
        return self.model_.predict_proba(features)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class of each row, shape ``(T,)``."""
        features = self._features(X)
        return self.model_.predict(features)


def trial_windows(
    df: pd.DataFrame,
    event: str | np.ndarray,
    window: tuple[int, int],
    *,
    feature_columns: Sequence[str],
    label_column: str,
    trial_column: str = "trial_id",
    session_columns: Sequence[str] = ("animal", "session"),
) -> list[dict[str, Any]]:
    """One window of features per trial around the trial's first ``event``, grouped by session.

    With ``window=(start, stop)`` (in bins), the window of a trial whose event falls in row ``e`` holds rows
    ``e + start`` to ``e + stop - 1``: ``(-10, 0)`` is the 10 bins *before* the event, ``(0, 10)`` the
    event's bin and the 9 after it, ``(-25, -20)`` 5 bins ending 20 bins before it. Trials without the
    event, whose window leaves the trial, or whose label is missing are dropped. Feature columns that are NaN in a
    session (NeuroTask pads the neurons a session lacks with NaN) are dropped for that session.

    Parameters
    ----------
    df
        A binned table in time order, one row per bin (trials contiguous).
    event
        A boolean event column, e.g. ``"EventGo_cue"`` (choose one the file has), or a boolean array with
        one flag per row (e.g. from :func:`movement_onset`).
    window
        ``(start, stop)`` in bins relative to the event's row, ``start < stop``.
    feature_columns
        The spike-count columns (e.g. ``neuron_columns(df)``).
    label_column
        The trial's label, e.g. ``"target_ID"`` or ``"target_dir"`` (constant within a trial).
    trial_column, session_columns
        Columns that identify trials and sessions.

    Returns
    -------
    list of dict
        One per session, in order of appearance: ``key`` (session columns -> value), ``X`` ``(trials,
        stop - start, features)``, ``labels`` ``(trials,)``, ``trial_ids``, ``event_rows``
        (positions in ``df``), ``feature_columns`` (those kept).

    Examples
    --------
    >>> df = pd.DataFrame({"animal": 1, "session": 1, "trial_id": [1.0] * 4 + [2.0] * 4,
    ...                    "Neuron1": range(8), "go": [False, False, True, False] * 2, "target": [0] * 4 + [90] * 4})
    >>> w = trial_windows(df, "go", (-1, 2), feature_columns=["Neuron1"], label_column="target")
    >>> w[0]["X"][:, :, 0].tolist(), w[0]["labels"].tolist()
    ([[1.0, 2.0, 3.0], [5.0, 6.0, 7.0]], [0, 90])

    Taught in chapter 08_decoding_baselines.
    """
    flags, event = _event_flags(df, event, window, feature_columns, label_column, trial_column, session_columns)
    start, stop = window
    starts, ends, run = _trial_runs(df, trial_column, session_columns)
    rows = _first_per_trial(flags, run)  # the first event of each trial
    lo, hi = rows + start, rows + stop
    inside = (lo >= starts[run[rows]]) & (hi <= ends[run[rows]])
    labels_all = df[label_column].to_numpy()
    labelled = pd.notna(labels_all[rows])
    rows = rows[inside & labelled]
    if len(rows) == 0:
        raise ValueError(
            f"No trial has {event!r} with the window {tuple(window)} (bins) inside the trial and a "
            f"{label_column!r} label: shorten the window or choose another event."
        )
    offsets = np.arange(start, stop)
    # only the windows' rows are copied (a 1 ms table can hold millions of rows)
    features = df[list(feature_columns)].iloc[(rows[:, None] + offsets[None, :]).ravel()].to_numpy(np.float64)
    features = features.reshape(len(rows), len(offsets), len(feature_columns))  # (trials, bins, features)
    return _session_windows(df, rows, features, labels_all, feature_columns, trial_column, session_columns)


def _event_flags(df, event, window, feature_columns, label_column, trial_column, session_columns):
    """Check :func:`trial_windows`' arguments; return the event flag of each row and the event's name."""
    named = [event] if isinstance(event, str) else []
    missing = [c for c in (*named, label_column, trial_column, *session_columns) if c not in df.columns]
    if missing:
        raise ValueError(
            f"The table has no column(s) {missing}. Events of this table: "
            f"{[c for c in df.columns if str(c).startswith('Event')]}; choose one it has."
        )
    start, stop = window
    if not (isinstance(start, (int, np.integer)) and isinstance(stop, (int, np.integer)) and start < stop):
        raise ValueError(f"window must be (start, stop) in bins with integers start < stop, got {window!r}.")
    if not feature_columns:
        raise ValueError("feature_columns is empty: pass the spike-count columns, e.g. neuron_columns(df).")
    if isinstance(event, str):
        flags = df[event].fillna(False).to_numpy(dtype=bool)
    else:
        flags = np.asarray(event, dtype=bool)
        if flags.shape != (len(df),):
            raise ValueError(f"event as an array needs one flag per row ({len(df)}), got shape {flags.shape}.")
        event = "the given event"
    return flags, event


def _session_windows(df, rows, features, labels_all, feature_columns, trial_column, session_columns) -> list[dict]:
    """Group the windows by session (in order of appearance), dropping features that are NaN in a session."""
    session_of = df[list(session_columns)].to_numpy()[rows]
    out = []
    _, session_first, session_index = np.unique(_row_codes(session_of), return_index=True, return_inverse=True)
    for s in np.argsort(session_first):
        these = rows[session_index == s]
        windows = features[session_index == s]
        keep = ~np.isnan(windows).any(axis=(0, 1))
        out.append({
            "key": dict(zip(session_columns, session_of[session_first[s]].tolist(), strict=True)),
            "X": windows[:, :, keep],
            "labels": labels_all[these],
            "trial_ids": df[trial_column].to_numpy()[these],
            "event_rows": these,
            "feature_columns": [c for c, k in zip(feature_columns, keep, strict=True) if k],
        })
    return out


def movement_onset(
    df: pd.DataFrame,
    speed: np.ndarray,
    after: str,
    *,
    threshold: float = 0.2,
    trial_column: str = "trial_id",
    session_columns: Sequence[str] = ("animal", "session"),
) -> np.ndarray:
    """Flag each trial's movement onset: the first bin after ``after`` where speed reaches a share of its peak.

    For each trial with the event ``after`` (e.g. ``"EventGo_cue"``), the onset is the first row at or after
    the event where ``speed`` reaches ``threshold`` x the trial's peak speed after the event (a common
    definition in reaching studies). Use it where a file has no ``EventMovement_start`` (the real
    Center-Out-with-Bump file has none), and pass the result to :func:`trial_windows` as ``event``.

    Parameters
    ----------
    df
        A binned table in time order (trials contiguous).
    speed
        Speed per row, e.g. ``np.hypot(df["hand_vel_x"], df["hand_vel_y"])``.
    after
        The event column after which to search (searching after the go cue skips perturbations such as the
        bumps of the delay period).
    threshold
        Share of the peak speed that marks the onset.
    trial_column, session_columns
        Columns that identify trials.

    Returns
    -------
    numpy.ndarray
        Boolean, one flag per row: True at each trial's onset.

    Examples
    --------
    >>> df = pd.DataFrame({"animal": 1, "session": 1, "trial_id": 1.0, "go": [False, True] + [False] * 4})
    >>> movement_onset(df, np.array([5.0, 0.0, 0.1, 2.0, 10.0, 3.0]), "go").nonzero()[0].tolist()
    [3]

    Taught in chapter 08_decoding_baselines.
    """
    speed = np.asarray(speed, dtype=np.float64)
    if speed.shape != (len(df),):
        raise ValueError(f"speed needs one value per row ({len(df)}), got shape {speed.shape}.")
    if after not in df.columns:
        raise ValueError(f"The table has no event {after!r}; its events: {[c for c in df.columns if str(c).startswith('Event')]}.")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold is a share of the peak speed, in (0, 1]; got {threshold}.")
    starts, ends, run = _trial_runs(df, trial_column, session_columns)
    events = _first_per_trial(df[after].fillna(False).to_numpy(dtype=bool), run)
    # rows from each trial's event to its end, as one index array with a segment id per row
    lengths = ends[run[events]] - events
    segment = np.repeat(np.arange(len(events)), lengths)
    rows = np.repeat(events - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(lengths.sum())
    values = np.nan_to_num(speed[rows], nan=0.0)
    peak = np.zeros(len(events))
    np.maximum.at(peak, segment, values)
    crossing = (values >= threshold * peak[segment]) & (peak[segment] > 0)
    onset_rows = rows[crossing][np.unique(segment[crossing], return_index=True)[1]]
    flags = np.zeros(len(df), dtype=bool)
    flags[onset_rows] = True
    return flags


def _row_codes(values: np.ndarray) -> np.ndarray:
    """An integer code per row of a 2-D array of ids (equal rows, equal codes)."""
    return pd.MultiIndex.from_arrays([values[:, j] for j in range(values.shape[1])]).factorize()[0]


def sessions_from_trials(
    windows: Sequence[dict[str, Any]],
    *,
    dataset: str = "",
    task: str = "",
    training_range: Sequence[float] = (0.0, 0.7),
    valid_range: Sequence[float] = (0.7, 0.8),
    testing_range: Sequence[float] = (0.8, 1.0),
) -> list[SessionSplits]:
    """Split each session's trials in time order into training, validation and test trials.

    The ranges are fractions of the session's trials, as ``process_data``'s are of its bins (7:1:2 by
    default): the decoder is fitted on earlier trials and tested on later ones.

    Parameters
    ----------
    windows
        The output of :func:`trial_windows`.
    dataset, task
        Labels copied into each :class:`~course_utils.decoding.SessionSplits`.
    training_range, valid_range, testing_range
        ``[start, end)`` fractions of the trials.

    Examples
    --------
    >>> w = [{"key": {"animal": 1, "session": 1}, "X": np.zeros((10, 3, 2)), "labels": np.arange(10) % 2}]
    >>> s = sessions_from_trials(w)[0]
    >>> len(s.y_train), len(s.y_val), len(s.y_test)
    (7, 1, 2)

    Taught in chapter 08_decoding_baselines.
    """
    out = []
    for w in windows:
        n = len(w["labels"])
        cut = {name: (int(round(r[0] * n)), int(round(r[1] * n)))
               for name, r in (("train", training_range), ("val", valid_range), ("test", testing_range))}
        parts = {name: slice(a, b) for name, (a, b) in cut.items()}
        if any(b <= a for a, b in cut.values()):
            raise ValueError(
                f"Session {w['key']} has {n} trials: too few for a training, a validation and a test part "
                f"with ranges {training_range}, {valid_range}, {testing_range}."
            )
        X, y = np.asarray(w["X"]), np.asarray(w["labels"])
        out.append(SessionSplits(
            X[parts["train"]], y[parts["train"]], X[parts["val"]], y[parts["val"]], X[parts["test"]],
            y[parts["test"]], dataset=dataset, task=task, animal=w["key"].get("animal"),
            session=w["key"].get("session"), output_names=["target"],
        ))
    return out


def chance_accuracy(y_train: np.ndarray, y_test: np.ndarray) -> float:
    """Accuracy on ``y_test`` of always guessing the most frequent training class: the score to beat.

    With balanced classes this is about ``1 / n_classes``; with unbalanced ones it is higher, and a
    decoder that beats ``1 / n_classes`` may still have learned nothing but the class frequencies.

    Examples
    --------
    >>> chance_accuracy(np.array([0, 0, 1]), np.array([0, 1, 1, 1]))
    0.25

    Taught in chapter 08_decoding_baselines.
    """
    y_train, y_test = check_labels(y_train, name="y_train"), check_labels(y_test, name="y_test")
    values, counts = np.unique(y_train, return_counts=True)
    return float(np.mean(y_test == values[np.argmax(counts)]))


def angle_labels(radians) -> np.ndarray:
    """Reach directions in radians -> integer degrees in [0, 360): class labels that print and sort well.

    NeuroTask stores ``target_dir`` (and ``bump_dir``) in radians (e.g. 0.785398); rounding to whole
    degrees merges the float noise of one direction into one class.

    Examples
    --------
    >>> angle_labels([0.0, np.pi / 4, -np.pi / 2, 2 * np.pi]).tolist()
    [0, 45, 270, 0]

    Taught in chapter 08_decoding_baselines.
    """
    values = np.asarray(radians, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError("Angles contain NaN: drop the trials without a target first.")
    return (np.rint(np.degrees(values)).astype(np.int64) % 360).astype(np.int64)
