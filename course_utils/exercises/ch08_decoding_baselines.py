"""Checks for the exercises of chapter 08_decoding_baselines.

Each check raises :class:`~course_utils.exercises.ExerciseFeedback` with a hint (never the answer).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import ExerciseFeedback, exercise


@exercise("8.1", "R² per output, by hand")
def check_r2_by_hand(answer, y_true, y_pred) -> None:
    """``answer``: the R² of each column of ``y_pred`` against ``y_true`` (1 - SSE/SST, test mean)."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    answer = np.asarray(answer, dtype=float)
    if answer.shape != (y_true.shape[1],):
        raise ExerciseFeedback(
            f"Expected one R² per output column, i.e. an array of shape ({y_true.shape[1]},); got {answer.shape}. "
            "Sum over time (axis=0), not over everything."
        )
    sse = ((y_true - y_pred) ** 2).sum(axis=0)
    sst = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    expected = 1 - sse / sst
    if np.allclose(answer, np.corrcoef(y_true[:, 0], y_pred[:, 0])[0, 1] ** 2, atol=1e-6) and not np.allclose(
        answer, expected, atol=1e-6
    ):
        raise ExerciseFeedback("That looks like a squared correlation; NeuroTask's R² is 1 - SSE/SST.")
    if not np.allclose(answer, expected, atol=1e-6):
        raise ExerciseFeedback(
            "Not quite. SSE is the sum of squared errors; SST the sum of squared deviations of y_true from "
            "ITS OWN mean (the test mean), per column."
        )


@exercise("8.2", "A chronological 7:1:2 split")
def check_chronological_split(chronological_split: Callable) -> None:
    """``chronological_split(n_bins)`` returns (train, val, test) index arrays: 70 %, 10 %, 20 % in time order."""
    for n in (10, 100, 1001, 57):
        parts = chronological_split(n)
        if not isinstance(parts, tuple | list) or len(parts) != 3:
            raise ExerciseFeedback("Return three index arrays: (train_idx, val_idx, test_idx).")
        train, val, test = (np.asarray(p) for p in parts)
        joined = np.concatenate([train, val, test])
        if not np.array_equal(joined, np.arange(n)):
            raise ExerciseFeedback(
                f"For n_bins={n}, train, validation and test together should be 0, 1, ..., n_bins-1 in time "
                "order: every bin used once, no shuffling."
            )
        for name, part, frac in (("train", train, 0.7), ("validation", val, 0.1), ("test", test, 0.2)):
            if abs(len(part) - frac * n) > 1:
                raise ExerciseFeedback(
                    f"For n_bins={n}, the {name} part has {len(part)} bins; it should be about {frac:.0%}."
                )


def _best_lag_ms(arrays, bin_ms: float) -> tuple[float, list[float]]:
    """The reference for 8.3, on the learner's own arrays: validation R² of each single history bin."""
    from ..decoding import WienerFilter

    X_train, y_train, X_val, y_val = arrays.X_train[0], arrays.y_train[0], arrays.X_val[0], arrays.y_val[0]
    scores = [
        WienerFilter().fit(X_train[:, -1 - lag], y_train).score(X_val[:, -1 - lag], y_val)
        for lag in range(X_train.shape[1])
    ]
    return float(np.argmax(scores)) * bin_ms, scores


@exercise("8.3", "How far do the neurons lead the hand?")
def check_lead_ms(lead_ms, arrays, bin_ms: float) -> None:
    """``lead_ms``: the single spike lag (ms) that decodes the current velocity best on the validation data
    of ``arrays`` (``process_data`` output with ``bins_before=10``); compared with the reference computed on
    the same arrays."""
    try:
        value = float(lead_ms)
    except (TypeError, ValueError):
        raise ExerciseFeedback(
            "Give one number: the lag in milliseconds (e.g. 3 bins of 20 ms = 60 ms)."
        ) from None
    if value < 0:
        raise ExerciseFeedback("A lag is how far back the spikes are: a positive number of ms.")
    expected, scores = _best_lag_ms(arrays, bin_ms)
    if value == expected:
        return
    if value == expected / bin_ms:
        raise ExerciseFeedback("That looks like a number of bins; give the lag in milliseconds (bins × bin_ms).")
    if value == float(np.argmin(scores)) * bin_ms:
        raise ExerciseFeedback("That is the lag with the LOWEST validation R²: take the highest.")
    raise ExerciseFeedback(
        "Not the lag with the highest validation R². Fit one Wiener filter per lag k on X_train[:, -1 - k] "
        "(the bin k bins before the current one), score it on the validation split with the same column, "
        "and convert the best k to ms (k × bin_ms)."
    )


@exercise("8.4", "Standardise with training statistics only")
def check_zscore_train_stats(zscore_with_train_stats: Callable) -> None:
    """``zscore_with_train_stats(X_train, X_test)`` -> both standardised with the training mean and std."""
    rng = np.random.default_rng(8)
    X_train = rng.poisson(3.0, size=(200, 4, 5)).astype(float)
    X_test = rng.poisson(6.0, size=(50, 4, 5)).astype(float)  # rates drifted: the test mean is higher
    X_train[:, :, 4] = 0.0  # a neuron silent in training
    out = zscore_with_train_stats(X_train.copy(), X_test.copy())
    if not isinstance(out, tuple | list) or len(out) != 2:
        raise ExerciseFeedback("Return two arrays: (X_train_z, X_test_z).")
    tr, te = (np.asarray(o, dtype=float) for o in out)
    if tr.shape != X_train.shape or te.shape != X_test.shape:
        raise ExerciseFeedback("Keep the shapes: (T, lags, N) in, (T, lags, N) out.")
    if not (np.isfinite(tr).all() and np.isfinite(te).all()):
        raise ExerciseFeedback(
            "A neuron silent in training has std 0: replace that std by 1 to avoid NaN/inf."
        )
    mean = X_train.mean(axis=(0, 1))
    std = X_train.std(axis=(0, 1))
    std[std == 0] = 1.0
    if np.allclose(te.mean(axis=(0, 1))[:4], 0, atol=1e-6):
        raise ExerciseFeedback(
            "X_test's mean came out exactly 0: it was standardised with its own statistics. Use the "
            "TRAINING mean and std for both (the test set must stay unseen)."
        )
    if not (np.allclose(tr, (X_train - mean) / std) and np.allclose(te, (X_test - mean) / std)):
        raise ExerciseFeedback(
            "Compute one mean and one std per neuron over the training bins and lags (axis=(0, 1)), then "
            "apply them to both arrays."
        )


@exercise("8.5", "Bayes' rule on the grid, by hand")
def check_posterior_by_hand(answer, decoder, window) -> None:
    """``answer``: the posterior over the grid of a NaiveBayesDecoder without transition prior, for one window."""
    expected = decoder.posterior(np.asarray(window)[None])[0]
    answer = np.asarray(answer, dtype=float)
    if answer.shape != expected.shape:
        raise ExerciseFeedback(
            f"Expected one probability per grid point, shape {expected.shape}; got {answer.shape}. Sum the "
            "log-likelihood over neurons (r @ log(tuning_curves_)), not over grid points."
        )
    if not np.isfinite(answer).all():
        raise ExerciseFeedback(
            "Some values are NaN or infinite: a product of many small probabilities underflows. Add "
            "log-probabilities, subtract their maximum, then exponentiate."
        )
    if not np.isclose(answer.sum(), 1.0, atol=1e-6):
        raise ExerciseFeedback(f"The posterior sums to {answer.sum():.3g}: normalise it so it sums to 1.")
    if np.allclose(answer, expected, atol=1e-6):
        return
    prior = np.exp(decoder.log_state_prior_)
    no_prior = expected / prior
    if np.allclose(answer, no_prior / no_prior.sum(), atol=1e-6):
        raise ExerciseFeedback("That is the normalised likelihood: multiply by the prior (add log_state_prior_).")
    raise ExerciseFeedback(
        "Not quite. Per grid point: sum over neurons of r·log(lambda) minus the sum of lambda (the expected "
        "counts in tuning_curves_), plus the log prior; then exponentiate and normalise."
    )


@exercise("8.6", "Trees ignore monotone rescaling")
def check_trees_monotone(r2_counts, r2_sqrt) -> None:
    """Test R² of the same boosted trees on counts (``r2_counts``) and on their square root (``r2_sqrt``)."""
    try:
        r2_counts, r2_sqrt = float(r2_counts), float(r2_sqrt)
    except (TypeError, ValueError):
        raise ExerciseFeedback("r2_counts and r2_sqrt should each be one number (a test R²).") from None
    for value in (r2_counts, r2_sqrt):
        if not np.isfinite(value) or not -1.0 <= value <= 1.0:
            raise ExerciseFeedback(
                f"{value} does not look like a test R² of a working decoder (expected between -1 and 1)."
            )
    if abs(r2_counts - r2_sqrt) > 1e-6:
        raise ExerciseFeedback(
            f"The two R² differ ({r2_counts:.4f} vs {r2_sqrt:.4f}). Use the same settings (backend='sklearn', "
            "n_estimators=30) and transform the training, validation AND test windows with np.sqrt."
        )


@exercise("8.7", "A confusion matrix by hand")
def check_confusion_by_hand(confusion_by_hand: Callable) -> None:
    """``confusion_by_hand(y_true, y_pred, labels)`` -> row-normalised confusion matrix (rows: true labels)."""
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(87)
    labels = [0, 45, 90, 135]
    y_true = rng.choice(labels[:3], 60)  # the last label never occurs: a row of zeros
    y_pred = np.where(rng.random(60) < 0.6, y_true, rng.choice(labels, 60))
    answer = np.asarray(confusion_by_hand(y_true, y_pred, labels), dtype=float)
    if answer.shape != (4, 4):
        raise ExerciseFeedback(f"Expected a {len(labels)} x {len(labels)} matrix (one row and column per label); got {answer.shape}.")
    counts = confusion_matrix(y_true, y_pred, labels=labels).astype(float)
    totals = counts.sum(axis=1, keepdims=True)
    expected = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    if np.allclose(answer, expected):
        return
    if np.allclose(answer, counts):
        raise ExerciseFeedback("Those are counts: divide each row by its total (the trials of that true target).")
    if np.allclose(answer, expected.T):
        raise ExerciseFeedback("Transposed: rows are the TRUE targets, columns the predicted ones.")
    if not np.isfinite(answer).all():
        raise ExerciseFeedback("A target that never occurs has a total of 0: give its row zeros, not NaN.")
    raise ExerciseFeedback("Not quite: entry [i, j] = (# true labels[i] predicted as labels[j]) / (# true labels[i]).")


@exercise("8.8", "Did tuning change the ranking?")
def check_rank_changes(answer, table) -> None:
    """``answer``: number of decoders whose rank differs between the ``default_test`` and ``tuned_test`` columns."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise ExerciseFeedback("Give one whole number: how many decoders changed rank.") from None
    default = table["default_test"].rank(ascending=False)
    tuned = table["tuned_test"].rank(ascending=False)
    expected = int((default != tuned).sum())
    if value == expected:
        return
    if not value.is_integer() or not 0 <= value <= len(table):
        raise ExerciseFeedback(f"A count of decoders: a whole number between 0 and {len(table)}.")
    raise ExerciseFeedback(
        "Not quite: rank both columns (1 = best), compare the two ranks decoder by decoder, count the differences."
    )


@exercise("8.9", "Build it: one step of the Kalman filter")
def check_kalman_step(kalman_step: Callable, kalman, X) -> None:
    """``kalman_step(x, P, z, A, W, H, Q) -> (x, P)`` run over ``X`` from the decoder's first posterior;
    compared with the fitted :class:`~course_utils.decoding.KalmanFilterDecoder`'s ``predict`` on the same X."""
    expected = kalman.predict(X)
    z = kalman.observations(X)[0] - kalman.z_mean_  # the centred spike counts observing each bin
    A, W, H, Q = kalman.A_, kalman.W_, kalman.H_, kalman.Q_
    # start from the decoder's own estimate after the first bin: (prior^-1 + H^T Q^-1 H)^-1
    P = np.linalg.inv(np.linalg.inv(kalman.state_cov_) + H.T @ np.linalg.solve(Q, H))
    x = expected[0] - kalman.y_mean_
    states = []
    for t in range(1, len(z)):
        out = kalman_step(x, P, z[t], A, W, H, Q)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ExerciseFeedback("return two things: the new state estimate x and its covariance P.")
        x, P = np.asarray(out[0], dtype=float), np.asarray(out[1], dtype=float)
        if x.shape != (A.shape[0],) or P.shape != A.shape:
            raise ExerciseFeedback(
                f"x should have shape {(A.shape[0],)} and P {A.shape}; got {x.shape} and {P.shape}."
            )
        states.append(x)
    answer = np.asarray(states) + kalman.y_mean_
    scale = float(np.abs(expected).max()) or 1.0
    if np.allclose(answer, expected[1:], rtol=1e-5, atol=1e-6 * scale):
        return
    raise ExerciseFeedback(
        "the decoded kinematics drift away from the decoder's: predict first (x = A x, P = A P A^T + W), then "
        "update with the gain K = P H^T (H P H^T + Q)^-1: x = x + K (z - H x), P = (I - K H) P."
    )
