"""Signal detection theory for any subject: hit and false-alarm rates, d' and criterion.

Works on plain numbers or NumPy arrays, so a mouse's session, a rolling window of trials or a recurrent
network's test batch are analysed the same way.

Taught in chapter 05_allen_behavior_analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# ndtri is scipy.stats.norm.ppf (which calls it), without importing scipy.stats (about a second per process)
from scipy.special import ndtri

__all__ = ["corrected_rate", "criterion", "dprime", "sdt_by_level", "sdt_rates", "z_score"]


def _clipped(rate, clip: tuple[float, float] | None) -> np.ndarray:
    rate = np.asarray(rate, dtype=float)
    if clip is None:
        return rate
    low, high = clip
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f"clip={clip!r} must be (low, high) with 0 <= low < high <= 1, e.g. (0.01, 0.99)")
    return np.clip(rate, low, high)


def _scalar_or_array(value: np.ndarray):
    return float(value) if np.ndim(value) == 0 else value


def z_score(rate, clip: tuple[float, float] | None = (0.01, 0.99)):
    """Inverse of the standard normal CDF, ``z(p) = norm.ppf(p)``, after clipping ``p``.

    Parameters
    ----------
    rate : float or array_like
        Probabilities in [0, 1] (NaN stays NaN).
    clip : (float, float) or None, default (0.01, 0.99)
        Rates are clipped to this range first so that 0 and 1 give finite z-scores; ``None`` keeps them
        (``z(0) = -inf``, ``z(1) = inf``).

    Returns
    -------
    float or numpy.ndarray
        ``norm.ppf(clip(rate))``, a float for a scalar input.

    Examples
    --------
    >>> round(z_score(0.5), 6)
    0.0
    >>> round(z_score(1.0), 4)   # clipped to 0.99
    2.3263

    Taught in chapter 05_allen_behavior_analysis.
    """
    return _scalar_or_array(ndtri(_clipped(rate, clip)))


def dprime(hit_rate, false_alarm_rate, clip: tuple[float, float] | None = (0.01, 0.99)):
    """Sensitivity index ``d' = z(hit_rate) - z(false_alarm_rate)``.

    d' is the distance, in standard deviations of the noise, between the "signal" and "no signal"
    distributions of the subject's internal evidence: 0 means the subject cannot tell them apart, larger
    means better discrimination, independently of how eager the subject is to respond.

    Parameters
    ----------
    hit_rate, false_alarm_rate : float or array_like
        P(respond | signal) and P(respond | no signal); broadcast together. NaN gives NaN.
    clip : (float, float) or None, default (0.01, 0.99)
        Both rates are clipped to this range before the z-transform (AllenSDK's convention), so d' is at
        most ``2 * norm.ppf(0.99) = 4.6527``. ``None`` disables clipping (rates of 0 or 1 then give +-inf).

    Returns
    -------
    float or numpy.ndarray
        d', a float for scalar inputs.

    Examples
    --------
    >>> round(dprime(0.84134, 0.5), 3)
    1.0
    >>> round(dprime(1.0, 0.0), 4)
    4.6527

    Taught in chapter 05_allen_behavior_analysis.
    """
    return _scalar_or_array(
        ndtri(_clipped(hit_rate, clip)) - ndtri(_clipped(false_alarm_rate, clip))
    )


def criterion(hit_rate, false_alarm_rate, clip: tuple[float, float] | None = (0.01, 0.99)):
    """Decision criterion ``c = -(z(hit_rate) + z(false_alarm_rate)) / 2``.

    c measures response bias: 0 is an unbiased observer, negative values a liberal one (responds often,
    many false alarms), positive values a conservative one (withholds, many misses).

    Parameters
    ----------
    hit_rate, false_alarm_rate : float or array_like
        P(respond | signal) and P(respond | no signal); broadcast together. NaN gives NaN.
    clip : (float, float) or None, default (0.01, 0.99)
        Rates are clipped to this range before the z-transform, as in :func:`dprime`.

    Returns
    -------
    float or numpy.ndarray
        The criterion c, a float for scalar inputs.

    Examples
    --------
    >>> abs(round(criterion(0.5, 0.5), 6))
    0.0
    >>> criterion(0.9, 0.5) < 0   # responds to most signals: liberal
    True

    Taught in chapter 05_allen_behavior_analysis.
    """
    return _scalar_or_array(
        -(ndtri(_clipped(hit_rate, clip)) + ndtri(_clipped(false_alarm_rate, clip))) / 2.0
    )


def corrected_rate(rate, n):
    """Keep a rate estimated from ``n`` trials away from 0 and 1: the 1/(2N) correction.

    ``p -> min(max(p, 1 / (2 n)), 1 - 1 / (2 n))``: a rate of 0/N becomes 1/(2N) and N/N becomes
    1 - 1/(2N) (Macmillan & Creelman), so a perfect score on few trials does not look infinitely good.
    With ``n == 0`` the rate is unknown and the result is NaN.

    Parameters
    ----------
    rate : float or array_like
        Observed proportions in [0, 1].
    n : int or array_like
        Number of trials each rate was computed from (broadcast with ``rate``); must be >= 0.

    Returns
    -------
    float or numpy.ndarray
        Corrected rates (NaN where ``n == 0``), a float for scalar inputs.

    Examples
    --------
    >>> corrected_rate(1.0, 10)
    0.95
    >>> corrected_rate(0.3, 10)
    0.3
    >>> corrected_rate(0.5, 0)
    nan

    Taught in chapter 05_allen_behavior_analysis.
    """
    rate = np.asarray(rate, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(n < 0):
        raise ValueError("corrected_rate: n (number of trials) must be >= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = 1.0 / (2.0 * n)
        out = np.minimum(np.maximum(rate, floor), 1.0 - floor)
    out = np.where(n == 0, np.nan, out)
    return _scalar_or_array(out)


def sdt_rates(is_go, responded, correction: bool = False) -> dict[str, float]:
    """Hit and false-alarm rates (and d', criterion) from per-trial booleans.

    Parameters
    ----------
    is_go : array_like of bool
        True on signal trials ("go", change, stimulus present), False on noise trials ("catch", no-go).
    responded : array_like of bool
        True where the subject responded (licked, pressed, chose "go"); same length as ``is_go``.
    correction : bool, default False
        Apply the 1/(2N) correction (:func:`corrected_rate`) to both rates before d' and c.

    Returns
    -------
    dict
        ``n_signal`` (go trials), ``n_noise`` (no-go trials), ``hit_rate``, ``false_alarm_rate`` (NaN when there are no trials of that
        kind), ``dprime`` and ``criterion`` (with the default clipping of :func:`dprime`).

    Examples
    --------
    >>> out = sdt_rates([True, True, False, False], [True, False, False, False])
    >>> out["hit_rate"], out["false_alarm_rate"]
    (0.5, 0.0)

    Taught in chapter 05_allen_behavior_analysis.
    """
    is_signal = np.asarray(is_go, dtype=bool)
    responded = np.asarray(responded, dtype=bool)
    if is_signal.shape != responded.shape or is_signal.ndim != 1:
        raise ValueError(
            f"sdt_rates: is_go {is_signal.shape} and responded {responded.shape} must be 1-D arrays "
            "of the same length (one entry per trial)"
        )
    n_signal = int(is_signal.sum())
    n_noise = int((~is_signal).sum())
    hit = float(responded[is_signal].mean()) if n_signal else float("nan")
    fa = float(responded[~is_signal].mean()) if n_noise else float("nan")
    if correction:
        hit, fa = corrected_rate(hit, n_signal), corrected_rate(fa, n_noise)
    return {
        "n_signal": n_signal,
        "n_noise": n_noise,
        "hit_rate": hit,
        "false_alarm_rate": fa,
        "dprime": dprime(hit, fa),
        "criterion": criterion(hit, fa),
    }


def sdt_by_level(levels, is_go, responded, correction: bool = False) -> pd.DataFrame:
    """:func:`sdt_rates` at each stimulus level (e.g. coherence): one row per level.

    Parameters
    ----------
    levels : array_like
        The stimulus level of each trial (e.g. unsigned coherence, contrast, image change size).
    is_go, responded : array_like of bool
        As in :func:`sdt_rates`, one entry per trial.
    correction : bool, default False
        Apply the 1/(2N) correction, as in :func:`sdt_rates`.

    Returns
    -------
    pandas.DataFrame
        Indexed by level (sorted): ``n_signal``, ``n_noise``, ``hit_rate``, ``false_alarm_rate``, ``dprime``,
        ``criterion``.

    Examples
    --------
    >>> table = sdt_by_level([1, 1, 1, 1, 2, 2], [True, True, False, False, True, False],
    ...                      [True, False, False, False, True, False])
    >>> table["hit_rate"].tolist(), table["false_alarm_rate"].tolist()
    ([0.5, 1.0], [0.0, 0.0])

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    levels = np.asarray(levels)
    is_go = np.asarray(is_go, dtype=bool)
    responded = np.asarray(responded, dtype=bool)
    if not (levels.shape == is_go.shape == responded.shape) or levels.ndim != 1:
        raise ValueError(
            f"sdt_by_level: levels {levels.shape}, is_go {is_go.shape} and responded {responded.shape} "
            "must be 1-D arrays of the same length (one entry per trial)"
        )
    rows = {
        level: sdt_rates(is_go[levels == level], responded[levels == level], correction)
        for level in np.unique(levels)
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("level")
