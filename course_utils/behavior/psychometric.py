"""Psychometric curves: the probability of a choice as a function of stimulus strength, for any subject.

Two classic shapes, both fitted by maximum likelihood on the individual binary choices (grouped by
stimulus level, which gives the same likelihood and is much faster):

* ``"logistic"`` for a *signed* stimulus (e.g. coherence to the right minus to the left, in %):
  ``P(right) = guess + (1 - guess - lapse) / (1 + exp(-(x - bias) / slope))``.
  ``bias`` is the point of subjective equality (stimulus units), ``slope`` the spread (stimulus units; a
  smaller slope is a steeper, more sensitive curve), ``guess`` and ``lapse`` the lower and upper
  asymptotes' distance from 0 and 1 (stimulus-independent errors).
* ``"weibull"`` for an *unsigned* strength and accuracy (e.g. |coherence| in % vs fraction correct in a
  two-alternative task):
  ``P(correct) = chance + (1 - chance - lapse) * (1 - exp(-(x / threshold) ** shape))``.
  ``threshold`` is the strength at which accuracy reaches ~82 % of the way from chance to the ceiling,
  ``shape`` the steepness.

Works on plain arrays: a mouse's licks, a monkey's saccades or a network's outputs.

Taught in chapter 06_neurogym_tasks_and_rnns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

__all__ = ["PsychometricFit", "psychometric_curve", "fit_psychometric"]

_KINDS = ("logistic", "weibull")


@dataclass(frozen=True)
class PsychometricFit:
    """A fitted psychometric function.

    Attributes
    ----------
    kind
        ``"logistic"`` or ``"weibull"``.
    params
        Fitted parameters: logistic ``bias``, ``slope``, ``guess``, ``lapse``; Weibull ``threshold``,
        ``shape``, ``chance`` (fixed, not fitted), ``lapse``.
    n_trials
        Number of trials the fit used.
    neg_log_likelihood
        The minimised negative log-likelihood (natural log).
    """

    kind: str
    params: dict[str, float]
    n_trials: int
    neg_log_likelihood: float
    levels: np.ndarray = field(repr=False, default_factory=lambda: np.array([]))

    def predict(self, stimulus: np.ndarray | float) -> np.ndarray:
        """Probability of the choice (logistic) or of a correct response (Weibull) at ``stimulus``.

        Examples
        --------
        >>> fit = PsychometricFit("logistic", {"bias": 0.0, "slope": 1.0, "guess": 0.0, "lapse": 0.0}, 0, 0.0)
        >>> float(fit.predict(0.0))
        0.5
        """
        x = np.asarray(stimulus, dtype=float)
        if self.kind == "logistic":
            return _logistic(x, **self.params)
        return _weibull(x, **self.params)


def _logistic(x: np.ndarray, bias: float, slope: float, guess: float, lapse: float) -> np.ndarray:
    return guess + (1.0 - guess - lapse) * expit((x - bias) / slope)


def _weibull(x: np.ndarray, threshold: float, shape: float, chance: float, lapse: float) -> np.ndarray:
    z = np.clip(x, 0.0, None) / threshold
    return chance + (1.0 - chance - lapse) * (1.0 - np.exp(-(z**shape)))


def _as_arrays(stimulus, choices, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(stimulus, dtype=float).ravel()
    y = np.asarray(choices).ravel()
    if x.shape != y.shape:
        raise ValueError(
            f"stimulus has {x.size} values but {name} has {y.size}: pass one stimulus value per trial."
        )
    if x.size == 0:
        raise ValueError("No trials: pass at least one trial's stimulus and choice.")
    if not np.all(np.isfinite(x)):
        raise ValueError("stimulus contains NaN or inf: drop those trials (e.g. aborted ones) first.")
    if y.dtype != bool:
        values = np.unique(y[~np.isnan(y.astype(float))]) if y.dtype.kind == "f" else np.unique(y)
        if not np.all(np.isin(values, [0, 1])):
            raise ValueError(
                f"{name} must be 0/1 or boolean (1 = the choice being modelled), got values {values[:5]}."
            )
        if y.dtype.kind == "f" and np.isnan(y).any():
            raise ValueError(f"{name} contains NaN (no response): drop those trials before fitting.")
    return x, y.astype(float)


def psychometric_curve(
    stimulus: np.ndarray, choices: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fraction of 1-choices at each stimulus level.

    Parameters
    ----------
    stimulus
        One stimulus value per trial (e.g. signed coherence in %).
    choices
        One 0/1 (or boolean) per trial: 1 = the choice being counted (e.g. chose right, or correct).

    Returns
    -------
    levels, p_choice, n_trials
        The sorted unique stimulus levels, the fraction of 1-choices at each, and the trial count at each.

    Examples
    --------
    >>> levels, p, n = psychometric_curve([-1, -1, 1, 1, 1], [0, 1, 1, 1, 0])
    >>> levels.tolist(), p.round(2).tolist(), n.tolist()
    ([-1.0, 1.0], [0.5, 0.67], [2, 3])

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    x, y = _as_arrays(stimulus, choices, "choices")
    levels, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    k = np.bincount(inverse, weights=y, minlength=levels.size)
    return levels, k / counts, counts


def _nll(p: np.ndarray, k: np.ndarray, n: np.ndarray) -> float:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return float(-np.sum(k * np.log(p) + (n - k) * np.log(1 - p)))


def fit_psychometric(
    stimulus: np.ndarray,
    choices: np.ndarray,
    kind: str = "logistic",
    *,
    fit_lapses: bool = True,
    chance: float = 0.5,
    max_lapse: float = 0.25,
) -> PsychometricFit:
    """Fit a logistic or Weibull psychometric function to single-trial binary choices.

    Parameters
    ----------
    stimulus
        One stimulus value per trial. Logistic: a signed strength (e.g. coherence in %, negative = left).
        Weibull: an unsigned strength (>= 0).
    choices
        One 0/1 or boolean per trial. Logistic: 1 = chose the positive side (e.g. right). Weibull: 1 = correct.
    kind
        ``"logistic"`` or ``"weibull"``.
    fit_lapses
        Fit the asymptotes (logistic ``guess`` and ``lapse``; Weibull ``lapse``), each bounded by
        ``max_lapse``. If False they are fixed at 0.
    chance
        Weibull only: the accuracy at zero strength (0.5 in a two-alternative task).
    max_lapse
        Upper bound for each lapse/guess rate.

    Returns
    -------
    PsychometricFit
        ``params`` (see the module docstring) and ``predict(stimulus)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.choice([-20.0, -10, -5, 0, 5, 10, 20], size=4000)
    >>> chose_right = rng.random(4000) < 1 / (1 + np.exp(-(x - 2.0) / 4.0))
    >>> fit = fit_psychometric(x, chose_right, kind="logistic", fit_lapses=False)
    >>> round(fit.params["bias"]), round(fit.params["slope"])
    (2, 4)

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
    levels, p_obs, n = psychometric_curve(stimulus, choices)
    k = p_obs * n
    if levels.size < 2:
        raise ValueError("Only one stimulus level: a psychometric fit needs at least two different levels.")
    span = float(levels.max() - levels.min())
    lapse_bounds = (0.0, max_lapse) if fit_lapses else (0.0, 0.0)

    if kind == "logistic":
        # Parameters: bias, log(slope), guess, lapse (log keeps the slope positive).
        def objective(theta: np.ndarray) -> float:
            return _nll(_logistic(levels, theta[0], np.exp(theta[1]), theta[2], theta[3]), k, n)

        starts = [
            np.array([b, np.log(s), 0.02 * fit_lapses, 0.02 * fit_lapses])
            for b in (float(np.average(levels, weights=n)),)
            for s in (span / 8, span / 3)
        ]
        bounds = [
            (levels.min() - span, levels.max() + span),
            (np.log(span * 1e-3), np.log(span * 10)),
            lapse_bounds,
            lapse_bounds,
        ]
    else:
        if np.any(levels < 0):
            raise ValueError("The Weibull fit needs unsigned strengths (>= 0): pass np.abs(stimulus).")
        positive = levels[levels > 0]
        if positive.size == 0:
            raise ValueError("The Weibull fit needs at least one strength above 0.")

        def objective(theta: np.ndarray) -> float:
            return _nll(_weibull(levels, np.exp(theta[0]), np.exp(theta[1]), chance, theta[2]), k, n)

        starts = [np.array([np.log(np.median(positive)), np.log(s), 0.02 * fit_lapses]) for s in (1.0, 3.0)]
        bounds = [
            (np.log(positive.min() * 1e-2), np.log(positive.max() * 1e2)),
            (np.log(0.2), np.log(20.0)),
            lapse_bounds,
        ]

    best = min(
        (minimize(objective, s, method="L-BFGS-B", bounds=bounds) for s in starts), key=lambda r: r.fun
    )
    t = best.x
    if kind == "logistic":
        params = {
            "bias": float(t[0]),
            "slope": float(np.exp(t[1])),
            "guess": float(t[2]),
            "lapse": float(t[3]),
        }
    else:
        params = {
            "threshold": float(np.exp(t[0])),
            "shape": float(np.exp(t[1])),
            "chance": float(chance),
            "lapse": float(t[2]),
        }
    return PsychometricFit(kind, params, int(n.sum()), float(best.fun), levels)
