"""Statistics shared by methods and sources: the course's one Pearson correlation.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EPS", "pearson_r"]

EPS = 1e-8
"""Added to each standard deviation by :func:`pearson_r` (the Sensorium 2023 scoring code's value)."""


def pearson_r(x: np.ndarray, y: np.ndarray, axis: int = -1, eps: float = EPS) -> np.ndarray:
    """Pearson correlation of ``x`` and ``y`` along ``axis`` (one value per row, column, neuron or output).

    **The rule** (the Sensorium 2023 scoring code's, used for every correlation in the course): z-score both
    with the population std (``ddof=0``) plus ``eps``, average the products. So a constant series (std 0: a
    silent neuron, a decoder that always predicts the same value, a constant target) correlates **0** with
    anything, never NaN or infinity, and a NaN anywhere in a series also gives 0. With ``eps=1e-8`` the value
    differs from the textbook formula by about ``1e-8 / std`` relative: nothing for data whose std is far
    above 1e-8 (spike counts, normalised responses, velocities in cm/s).

    Parameters
    ----------
    x, y
        Arrays of the same shape.
    axis
        The axis along which each correlation is taken (time, or samples).
    eps
        Added to each std.

    Returns
    -------
    numpy.ndarray
        ``x``'s shape without ``axis``.

    Examples
    --------
    >>> pearson_r(np.array([[1., 2., 3.]]), np.array([[2., 4., 7.]])).round(4)
    array([0.9934])
    >>> pearson_r(np.ones((1, 4)), np.arange(4.0)[None])   # constant: 0
    array([0.])

    Taught in chapter 08_decoding_baselines.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x has shape {x.shape} but y has shape {y.shape}: correlate arrays of the same shape.")
    xz = (x - x.mean(axis=axis, keepdims=True)) / (x.std(axis=axis, ddof=0, keepdims=True) + eps)
    yz = (y - y.mean(axis=axis, keepdims=True)) / (y.std(axis=axis, ddof=0, keepdims=True) + eps)
    return np.nan_to_num((xz * yz).mean(axis=axis), nan=0.0)
