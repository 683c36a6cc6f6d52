"""Decoding metrics, computed per output (e.g. hand_vel_x and hand_vel_y separately).

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..stats import pearson_r
from ._checks import check_targets

__all__ = ["r2_score_per_output", "correlation_per_output"]


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = check_targets(y_true, name="y_true")
    y_pred = check_targets(y_pred, name="y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}: predict on the X that "
            f"matches y_true (same split, same session)."
        )
    return y_true, y_pred


def r2_score_per_output(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """R² of each output column, as NeuroTask reports it: ``1 - SSE / SST`` with SST around the test mean.

    This is the coefficient of determination of the predictions on the test bins (not the squared
    correlation): it is 1 for a perfect decoder, 0 for one that always predicts the *test* mean, and
    negative for a decoder worse than that (e.g. one with an offset). An output that is constant in
    ``y_true`` has no variance to explain and gets NaN (with a warning).

    Parameters
    ----------
    y_true, y_pred
        ``(T,)`` or ``(T, outputs)`` arrays of the same shape.

    Returns
    -------
    numpy.ndarray
        ``(outputs,)`` R² values.

    Examples
    --------
    >>> r2_score_per_output(np.array([[0.0, 1], [2, 3], [4, 5]]), np.array([[0.0, 2], [2, 2], [4, 5]]))
    array([1.  , 0.75])

    Taught in chapter 08_decoding_baselines.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    sse = ((y_true - y_pred) ** 2).sum(axis=0)
    sst = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - sse / sst
    if (sst == 0).any():
        warnings.warn(
            f"outputs {np.flatnonzero(sst == 0).tolist()} are constant in y_true: their R² is undefined (NaN).",
            stacklevel=2,
        )
        r2[sst == 0] = np.nan
    return r2


def correlation_per_output(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Pearson correlation between true and predicted values, per output column.

    Unlike R², correlation ignores offsets and gains: a decoder that predicts ``2 * y + 5`` has
    correlation 1 but a poor R². Report both. Computed by :func:`course_utils.stats.pearson_r`, the course's
    one correlation (the Sensorium scoring convention): a constant column (e.g. a decoder that always predicts
    the same value) correlates 0, never NaN.

    Examples
    --------
    >>> correlation_per_output(np.array([0.0, 1, 2, 3]), np.array([5.0, 7, 9, 11])).round(6)
    array([1.])
    >>> correlation_per_output(np.array([0.0, 1, 2, 3]), np.full(4, 2.0))
    array([0.])

    Taught in chapter 08_decoding_baselines.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return pearson_r(y_true, y_pred, axis=0)
