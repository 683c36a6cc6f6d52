"""Checks for chapter 01_neurotask_loading (exercises 1.1-1.7). Hints, never answers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import ExerciseFeedback, exercise


def _as_series(answer, what: str, index_names: list[str]) -> pd.Series:
    if isinstance(answer, pd.DataFrame) and answer.shape[1] == 1:
        answer = answer.iloc[:, 0]
    if not isinstance(answer, pd.Series):
        raise ExerciseFeedback(
            f"{what} should be a pandas Series indexed by {index_names} (a groupby(...) followed by an "
            f"aggregation gives one), not a {type(answer).__name__}."
        )
    if list(answer.index.names) != index_names:
        raise ExerciseFeedback(
            f"{what} should be indexed by {index_names}; its index is {list(answer.index.names)}."
        )
    return answer


def _same(answer: pd.Series, expected: pd.Series, rtol: float = 1e-6) -> bool:
    if set(answer.index) != set(expected.index):
        return False
    a = answer.reindex(expected.index).to_numpy(dtype=float)
    return bool(np.allclose(a, expected.to_numpy(dtype=float), rtol=rtol, atol=1e-9, equal_nan=True))


@exercise("1.1", "Neurons per session")
def check_neurons_per_session(n_neurons, df: pd.DataFrame) -> None:
    answer = _as_series(n_neurons, "n_neurons", ["animal", "session"])
    neurons = [c for c in df.columns if str(c).startswith("Neuron")]
    recorded = df.groupby(["animal", "session"])[neurons].apply(lambda g: g.notna().any())
    expected = recorded.sum(axis=1)
    if set(answer.index) != set(expected.index):
        raise ExerciseFeedback("one entry per (animal, session) pair is expected: group by both columns.")
    if _same(answer, expected):
        return
    if np.allclose(answer.to_numpy(dtype=float), len(neurons)):
        raise ExerciseFeedback(
            "every session got the file's full column count: a column that is NaN throughout a session was "
            "not recorded there. Count the columns with at least one non-NaN value per session."
        )
    raise ExerciseFeedback(
        "some counts differ: per session, count the Neuron columns that are not entirely NaN."
    )


@exercise("1.2", "Rewarded fraction per session")
def check_rewarded_fraction(rewarded_fraction, trials: pd.DataFrame, df: pd.DataFrame) -> None:
    answer = _as_series(rewarded_fraction, "rewarded_fraction", ["animal", "session"])
    expected = trials.assign(r=trials["result"] == "R").groupby(["animal", "session"])["r"].mean()
    if set(answer.index) != set(expected.index):
        raise ExerciseFeedback(
            "one entry per (animal, session) pair is expected: group the trial table by both."
        )
    if _same(answer, expected):
        return
    a = answer.to_numpy(dtype=float)
    if np.nanmax(a) > 1:
        raise ExerciseFeedback(
            "a fraction lies between 0 and 1: divide by the number of trials (or use mean)."
        )
    by_bins = df.assign(r=df["result"] == "R").groupby(["animal", "session"])["r"].mean()
    if _same(answer, by_bins):
        raise ExerciseFeedback(
            "this is the fraction of time bins, not of trials: long trials weigh more. Use the trial table, "
            "which has one row per trial."
        )
    raise ExerciseFeedback("close, but not the fraction of trials whose result is 'R' in each session.")


def _onsets(after_go: pd.DataFrame, threshold) -> pd.Series:
    keys = ["animal", "session", "trial_id"]
    moving = after_go[after_go["speed"] >= threshold]
    return moving.groupby(keys)["time_from_event_ms"].min()


@exercise("1.3", "Reaction times from the kinematics")
def check_reaction_times(mean_rt_ms, after_go: pd.DataFrame) -> None:
    answer = _as_series(mean_rt_ms, "mean_rt_ms", ["animal"])
    keys = ["animal", "session", "trial_id"]
    peak = after_go.groupby(keys)["speed"].transform("max")
    onsets = _onsets(after_go, 0.3 * peak)
    expected = onsets.groupby(level="animal").mean()
    if set(answer.index) != set(expected.index):
        raise ExerciseFeedback("one value per animal is expected: group the per-trial times by 'animal'.")
    if _same(answer, expected):
        return
    if (answer.to_numpy(dtype=float) < 0).any():
        raise ExerciseFeedback("after_go starts at the go cue, so reaction times are >= 0: check the window.")
    if _same(answer, onsets.groupby(level="animal").median()):
        raise ExerciseFeedback("that is the median per animal; the exercise asks for the mean.")
    if _same(answer, _onsets(after_go, 0.3 * after_go["speed"].max()).groupby(level="animal").mean()):
        raise ExerciseFeedback(
            "the threshold should be 30 % of each trial's own peak speed (groupby(...).transform('max')), "
            "not of the fastest trial's."
        )
    at_peak = after_go.loc[after_go.groupby(keys)["speed"].idxmax(), keys + ["time_from_event_ms"]]
    if _same(answer, at_peak.groupby("animal")["time_from_event_ms"].mean()):
        raise ExerciseFeedback(
            "that is the time of peak speed; the movement starts earlier, when the speed first reaches 30 % "
            "of the peak (the smallest time_from_event_ms above the threshold)."
        )
    raise ExerciseFeedback(
        "not quite: per trial, find the first time_from_event_ms where speed >= 0.3 * the trial's peak speed, "
        "then average those times per animal."
    )


@exercise("1.4", "A PSTH in spikes per second")
def check_psth(psth_hz, aligned: pd.DataFrame, unit: str, bin_ms: float) -> None:
    answer = _as_series(psth_hz, "psth_hz", ["time_from_event_ms"])
    counts = aligned.groupby("time_from_event_ms")[unit].mean()
    expected = counts / (bin_ms / 1000.0)
    if set(answer.index) != set(expected.index):
        raise ExerciseFeedback(
            "one value per time from the event is expected: group by 'time_from_event_ms'."
        )
    if _same(answer, expected, rtol=1e-4):
        return
    if _same(answer, counts, rtol=1e-4):
        raise ExerciseFeedback(
            "these are spikes per bin: convert to spikes per second with the bin width in s."
        )
    if _same(answer, counts * bin_ms, rtol=1e-4) or _same(answer, counts / bin_ms, rtol=1e-4):
        raise ExerciseFeedback(
            "the unit conversion is off: the bin width is given in ms, a rate is per second."
        )
    raise ExerciseFeedback(
        f"average {unit}'s counts over trials at each time from the event, then convert to Hz."
    )


@exercise("1.5", "Rebin one trial by hand")
def check_rebin_by_hand(counts_20ms, trial_counts, factor: int) -> None:
    trial_counts = np.asarray(trial_counts)
    full = len(trial_counts) // factor * factor
    expected = trial_counts[:full].reshape(-1, factor).sum(axis=1)
    answer = np.asarray(counts_20ms)
    if answer.ndim != 1:
        raise ExerciseFeedback("the result should be one count per new bin: a 1-D array.")
    if len(answer) == len(expected) + 1:
        raise ExerciseFeedback(
            "the last, incomplete bin should be dropped: it covers less time than the others."
        )
    if len(answer) != len(expected):
        raise ExerciseFeedback(f"a trial of {len(trial_counts)} bins gives {factor}x fewer complete bins.")
    if np.allclose(answer, expected / factor):
        raise ExerciseFeedback("spike counts are summed over the merged bins, not averaged.")
    if not np.allclose(answer, expected):
        raise ExerciseFeedback(
            "merge consecutive bins from the trial's first bin; reshape then sum along an axis."
        )


@exercise("1.6", "A first linear decoder")
def check_first_decoder(test_r2, X_train, y_train, X_test, y_test) -> None:
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    if not np.isscalar(test_r2) and np.ndim(test_r2) != 0:
        raise ExerciseFeedback("test_r2 should be one number: r2_score averages over the outputs by default.")
    model = Ridge(alpha=1.0).fit(X_train.reshape(len(X_train), -1), y_train)
    expected = r2_score(y_test, model.predict(X_test.reshape(len(X_test), -1)))
    if abs(float(test_r2) - expected) < 1e-3:
        return
    if float(test_r2) > 0.99:
        raise ExerciseFeedback(
            "an R² this high suggests you scored on the training set: score on the test arrays."
        )
    raise ExerciseFeedback(
        "fit Ridge(alpha=1.0) on the flattened training arrays ((n, lags, neurons) -> (n, lags * neurons)) "
        "and score its predictions on the test arrays with r2_score."
    )


@exercise("1.7", "Build it: the Wiener filter with lstsq")
def check_wiener_filter(wiener_weights, wiener_r2, X_train, y_train, X_test, y_test) -> None:
    """Compare with the least-squares solution computed here, on the same arrays (not a fixed range)."""

    def design(X):
        flat = np.asarray(X, dtype=float).reshape(len(X), -1)
        return np.column_stack([np.ones(len(flat)), flat])

    reference, *_ = np.linalg.lstsq(design(X_train), np.asarray(y_train, dtype=float), rcond=None)
    weights = np.asarray(wiener_weights, dtype=float)
    n_features = design(X_train[:1]).shape[1]
    if weights.shape != reference.shape:
        if weights.shape == (n_features - 1, reference.shape[1]):
            raise ExerciseFeedback("no intercept: add a column of ones to the flattened arrays before lstsq.")
        raise ExerciseFeedback(
            f"wiener_weights should have shape (features + 1, outputs) = {reference.shape}, not {weights.shape}: "
            "flatten X to (n, lags * neurons), add a column of ones, and solve against y_train."
        )
    expected_prediction = design(X_test) @ reference
    prediction = design(X_test) @ weights
    scale = float(np.std(expected_prediction)) or 1.0
    if not np.allclose(prediction, expected_prediction, atol=1e-3 * scale):
        raise ExerciseFeedback(
            "your weights predict differently from the least-squares solution: solve with "
            "np.linalg.lstsq(design_train, y_train) on the training arrays only (the ones column first)."
        )
    y = np.asarray(y_test, dtype=float)
    expected_r2 = 1 - ((y - expected_prediction) ** 2).sum() / ((y - y.mean(axis=0)) ** 2).sum()
    try:
        r2 = float(wiener_r2)
    except (TypeError, ValueError) as err:
        raise ExerciseFeedback("wiener_r2 should be one number.") from err
    if abs(r2 - expected_r2) < 1e-3:
        return
    per_output = 1 - ((y - expected_prediction) ** 2).sum(axis=0) / ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    if abs(r2 - float(per_output.mean())) < 1e-3:
        raise ExerciseFeedback(
            "that is the plain average of the per-component R²: pool the errors of both components, "
            "1 - SSE / SST with both sums over every bin and component."
        )
    raise ExerciseFeedback("the R² differs: 1 - SSE / SST on the test arrays, SST around the test mean.")
