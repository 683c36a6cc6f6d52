"""Input checks shared by the decoders: shapes, lengths and NaNs, with errors that say how to fix them.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

__all__ = ["check_X", "check_Xy", "check_targets", "check_labels", "flatten_lags", "as_sequences"]


def _as_array(X, name: str) -> np.ndarray:
    """``np.asarray`` with clear errors for the inputs it would silently mangle (sparse, complex, objects)."""
    if X is None:
        raise ValueError(f"{name} is None: pass an array.")
    if hasattr(X, "toarray") and hasattr(X, "nnz"):  # scipy.sparse, without importing it
        raise TypeError(
            f"{name} is a sparse matrix; the decoders take dense arrays: pass {name}.toarray() "
            "(spike-count windows are dense anyway)."
        )
    X = np.asarray(X)
    if np.iscomplexobj(X):
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}; pass real numbers.")
    if X.dtype == object:
        try:  # numbers stored as Python objects (e.g. from a DataFrame with mixed columns) are fine
            X = X.astype(np.float64)
        except (TypeError, ValueError) as err:
            raise type(err)(f"{name} must be numeric; converting it to float failed: {err}") from None
    return X


def check_X(X: np.ndarray, *, name: str = "X") -> np.ndarray:
    """Return ``X`` as a float array of shape ``(T, lags, N)`` or ``(T, features)``, or raise a clear error.

    Parameters
    ----------
    X
        Spike counts (or any features): ``(T, lags, N)`` as NeuroTask's ``process_data`` returns, or
        ``(T, features)``.
    name
        The argument's name, used in error messages.

    Returns
    -------
    numpy.ndarray
        ``X`` as float32 or float64 (float32 input stays float32; integer counts become float64).

    Examples
    --------
    >>> check_X(np.zeros((5, 3, 2))).shape
    (5, 3, 2)

    Taught in chapter 08_decoding_baselines.
    """
    X = _as_array(X, name)
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {X.dtype}.")
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{name} has shape {X.shape}: decoders take (T, lags, neurons) as process_data returns, "
            f"or (T, features). Reshape your data, e.g. {name}.reshape(len({name}), -1), or "
            f"{name}.reshape(1, -1) for a single row."
        )
    if X.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required: {name} is empty; "
            "check the split ranges and the trial filter."
        )
    if X.size == 0:
        raise ValueError(
            f"{name} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required: no neuron columns "
            "are left; check the neuron filter."
        )
    if X.dtype != np.float32:
        X = X.astype(np.float64, copy=False)
    if not np.isfinite(X).all():
        bad = int((~np.isfinite(X)).sum())
        raise ValueError(
            f"{name} contains {bad} NaN or infinite values. NeuroTask pads missing neurons with NaN: drop "
            f"neuron columns that are NaN in this session (process_data does) before decoding."
        )
    return X


def check_targets(y: np.ndarray, *, name: str = "y") -> np.ndarray:
    """Return ``y`` as a float64 array of shape ``(T, outputs)``, or raise a clear error.

    A 1-D ``y`` becomes one output column. A 3-D ``y`` (upstream ``process_data`` returns
    ``(T, bins_after, outputs)``) is rejected with the fix, because silently flattening it would mix
    time steps and outputs.

    Examples
    --------
    >>> check_targets(np.arange(4.0)).shape
    (4, 1)

    Taught in chapter 08_decoding_baselines.
    """
    if y is None:
        raise ValueError(f"This decoder requires y to be passed, but the target y is None ({name}).")
    y = _as_array(y, name)
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {y.dtype}.")
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim == 3:
        raise ValueError(
            f"{name} has shape {y.shape} (T, bins_after, outputs), as upstream NeuroTask's process_data "
            f"returns. Decoders take (T, outputs): use {name}[:, 0, :] for the concurrent bin (bins_after=1), "
            f"or {name}.reshape(len({name}), -1) to predict several future bins as separate outputs."
        )
    if y.ndim != 2:
        raise ValueError(f"{name} has shape {y.shape}; expected (T,) or (T, outputs).")
    y = y.astype(np.float64, copy=False)
    if not np.isfinite(y).all():
        bad = int((~np.isfinite(y)).sum())
        raise ValueError(
            f"{name} contains {bad} NaN or infinite values: some bins have no kinematics. Drop those rows "
            f"(e.g. keep = np.isfinite({name}).all(axis=1)) from both X and {name} before fitting."
        )
    return y


def check_Xy(
    X: np.ndarray, y: np.ndarray, *, names: tuple[str, str] = ("X", "y")
) -> tuple[np.ndarray, np.ndarray]:
    """Check ``X`` and ``y`` together: each as :func:`check_X` / :func:`check_targets`, same number of rows.

    Examples
    --------
    >>> X, y = check_Xy(np.zeros((6, 2, 3)), np.zeros(6))
    >>> X.shape, y.shape
    ((6, 2, 3), (6, 1))

    Taught in chapter 08_decoding_baselines.
    """
    X = check_X(X, name=names[0])
    y = check_targets(y, name=names[1])
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{names[0]} has {X.shape[0]} rows (time bins) but {names[1]} has {y.shape[0]}: they must come "
            f"from the same split of the same session (e.g. X_train with y_train)."
        )
    return X, y


def flatten_lags(X: np.ndarray) -> np.ndarray:
    """``(T, lags, N)`` -> ``(T, lags * N)`` (a view when possible); 2-D input is returned unchanged.

    Examples
    --------
    >>> flatten_lags(np.zeros((4, 3, 2))).shape
    (4, 6)

    Taught in chapter 08_decoding_baselines.
    """
    return X.reshape(X.shape[0], -1) if X.ndim == 3 else X


def as_sequences(X: np.ndarray) -> np.ndarray:
    """``(T, features)`` -> ``(T, 1, features)`` so recurrent decoders see a length-1 history.

    Examples
    --------
    >>> as_sequences(np.zeros((4, 6))).shape
    (4, 1, 6)

    Taught in chapter 08_decoding_baselines.
    """
    return X[:, None, :] if X.ndim == 2 else X


def check_input_layout(X: np.ndarray, fitted_shape: tuple[int, ...], estimator: str) -> None:
    """Raise if ``X``'s per-row shape differs from the one the estimator was fitted on."""
    if tuple(X.shape[1:]) != tuple(fitted_shape):
        n_now, n_fitted = int(np.prod(X.shape[1:])), int(np.prod(fitted_shape))
        raise ValueError(
            f"X has {n_now} features, but {estimator} is expecting {n_fitted} features as input (rows of shape "
            f"{tuple(X.shape[1:])}, fitted on {tuple(fitted_shape)}). Neuron identity differs across sessions: "
            f"a decoder only applies to the session (same neurons, same bins_before) it was fitted on."
        )


def check_labels(y, *, name: str = "y") -> np.ndarray:
    """Return class labels as a 1-D array (``(T,)`` or ``(T, 1)`` accepted), or raise a clear error.

    Labels may be integers (``target_ID``), rounded angles or strings; NaN labels (trials without a
    target) are refused with the fix.

    Examples
    --------
    >>> check_labels(np.array([0, 45, 90])).tolist()
    [0, 45, 90]

    Taught in chapter 08_decoding_baselines.
    """
    if y is None:
        raise ValueError(f"This classifier requires y to be passed, but the target y is None ({name}).")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            DataConversionWarning(f"A column-vector {name} was passed when a 1d array was expected: using {name}[:, 0]."),
            stacklevel=3,
        )
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"{name} has shape {y.shape}: a classifier takes one label per row, shape (T,). "
            "(For several outputs use a regression decoder.)"
        )
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(
            f"{name} contains {int((~np.isfinite(y)).sum())} NaN or infinite labels (rows without a target): "
            f"drop them from X and {name} before fitting."
        )
    if y.dtype.kind == "f" and type_of_target(y) == "continuous":
        raise ValueError(
            f"Unknown label type: continuous. {name} holds non-integer numbers (e.g. target_dir in radians): "
            f"classifiers need class labels, e.g. np.rint(np.degrees({name})).astype(int) for directions."
        )
    return y


def check_X_labels(
    X: np.ndarray, y: Any, check_y: Callable[[Any], np.ndarray] = check_labels
) -> tuple[np.ndarray, np.ndarray]:
    """Check ``X`` (:func:`check_X`) and ``y`` (``check_y``: class labels by default), one row of each per sample.

    Examples
    --------
    >>> X, y = check_X_labels(np.zeros((4, 2, 3)), np.array([0, 1, 0, 1]))
    >>> X.shape, y.tolist()
    ((4, 2, 3), [0, 1, 0, 1])

    Taught in chapter 08_decoding_baselines.
    """
    X = check_X(X)
    y = check_y(y)
    if len(X) != len(y):
        raise ValueError(
            f"X has {len(X)} rows but y has {len(y)}: one label or target per row (trial or bin), from the "
            "same split (e.g. X_train with y_train)."
        )
    return X, y


def check_fitted_X(estimator: Any, X: np.ndarray, attribute: str) -> np.ndarray:
    """The start of every ``predict``: the estimator is fitted (has ``attribute``), ``X`` is valid and has the
    per-row shape ``estimator.input_shape_`` it was fitted on.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> fitted = LinearRegression().fit(np.zeros((4, 6)), np.arange(4.0))
    >>> fitted.input_shape_ = (2, 3)
    >>> check_fitted_X(fitted, np.zeros((5, 2, 3)), "coef_").shape
    (5, 2, 3)

    Taught in chapter 08_decoding_baselines.
    """
    check_is_fitted(estimator, attribute)
    X = check_X(X)
    check_input_layout(X, estimator.input_shape_, type(estimator).__name__)
    return X


def holdout_validation(
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray | None,
    y_val: np.ndarray | None,
    *,
    validation_fraction: float,
    expected_layout: tuple[int, ...],
    estimator: str,
    check_y=check_targets,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(X, y, X_val, y_val)``: the validation data given, else the LAST rows of the training data.

    The hold-out is chronological on purpose: a random hold-out of neighbouring, correlated bins would leak.
    A given ``X_val`` is checked against ``expected_layout`` (the training data's shape after the first axis),
    ``y_val`` with ``check_y`` (:func:`check_targets` or :func:`check_labels`), and both are returned.
    """
    if (X_val is None) != (y_val is None):
        raise ValueError("Pass both X_val and y_val, or neither (then the end of the training data is used).")
    if X_val is None:
        if not 0 < validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}.")
        n_val = max(1, int(round(len(X) * validation_fraction)))
        if len(X) - n_val < 2:
            raise ValueError(
                f"Too few rows ({len(X)} sample(s)) to hold out a validation split: fit on more time bins, or "
                "pass X_val and y_val."
            )
        return X[:-n_val], y[:-n_val], X[-n_val:], y[-n_val:]
    X_val = check_X(X_val, name="X_val")
    y_val = check_y(y_val, name="y_val")
    if X_val.shape[0] != y_val.shape[0]:
        raise ValueError(
            f"X_val has {X_val.shape[0]} rows but y_val has {y_val.shape[0]}: they must come from the same "
            "validation split."
        )
    check_input_layout(X_val, expected_layout, f"{estimator} (X_val)")
    return X, y, X_val, y_val
