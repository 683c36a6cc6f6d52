"""Fit a slow decoder once per process when the same settings meet the same data again.

Chapter 8 fits some decoders twice on identical arrays: the GRU and LSTM of section 8.2 come back in the
table of every session (8.5), and the first candidate of each search in 8.11 (the decoder's own settings)
is the boosted trees, SVR and simple RNN fitted in 8.9. :func:`fit_once` keeps the last fitted copies of the
slow decoders (networks, boosted trees, SVR) keyed by their class, their parameters, the fast setting and a
hash of the arrays they are fitted on, and hands back a copy instead of fitting again: the same weights,
predictions and fit time as the first fit. A network's fit seeds and advances the global random states
(:func:`course_utils.training.set_seed`), so a reused one leaves them as its fit left them.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections import OrderedDict
from typing import Any

import numpy as np

from .. import fast_mode

MAX_FITS = 32  # fitted copies kept (networks and trees are small; an SVR keeps its support vectors, up to tens of MB)
_FITS: OrderedDict[str, tuple[Any, float, dict[str, Any] | None]] = OrderedDict()


def _memoisable(estimator: Any) -> bool:
    from . import neural, svr, trees

    return isinstance(estimator, (neural._TorchEstimator, trees._BoostedTrees, svr.SVRDecoder)) and type(
        estimator
    ).__module__.startswith("course_utils.decoding.")


def _key(estimator: Any, arrays: tuple[Any, ...]) -> str | None:
    """The fit's identity, or None when a parameter is not a plain value (then it is not memoised)."""
    from ..training import array_fingerprint

    params = {k: v for k, v in estimator.get_params(deep=False).items() if k not in ("progress", "num_threads")}
    if params.get("seed", 0) is None:  # an unseeded fit differs every time: fit it
        return None
    try:
        settings = json.dumps(
            {"class": f"{type(estimator).__module__}.{type(estimator).__qualname__}", "params": params,
             "fast": fast_mode(), "device": os.environ.get("COURSE_DEVICE", "")},
            sort_keys=True,
        )
    except TypeError:
        return None
    X, y, X_val, y_val = arrays
    # Decoders read regression targets as float64 (check_targets): float32 targets give the same fit.
    y, y_val = (np.asarray(t, dtype=np.float64) if t is not None and np.asarray(t).dtype == np.float32 else t
                for t in (y, y_val))
    return f"{settings}|{array_fingerprint(X, y, X_val, y_val)}"


def clear() -> None:
    """Forget every kept fit (between tests, and before a benchmark times whole searches)."""
    _FITS.clear()


def fit_once(estimator: Any, X: Any, y: Any, X_val: Any = None, y_val: Any = None) -> tuple[Any, float]:
    """Fit ``estimator`` in place (on ``X_val, y_val`` too when given) or reuse the same fit made earlier;
    use the returned estimator (on a reuse ``estimator`` itself stays unfitted).

    Returns ``(fitted estimator, fit time in seconds)``; a reused fit is a deep copy of the first, with the
    first fit's time. Decoders outside the slow ones are simply fitted.

    Examples
    --------
    >>> from course_utils.decoding import SVRDecoder
    >>> X = np.random.default_rng(0).normal(size=(200, 3)); y = X[:, 0]
    >>> first, _ = fit_once(SVRDecoder(), X, y)
    >>> again, _ = fit_once(SVRDecoder(), X, y)
    >>> again is not first and np.array_equal(again.predict(X), first.predict(X))
    True

    Taught in chapter 08_decoding_baselines.
    """
    from ..training import _rng_states, _set_rng_states
    from .neural import _TorchEstimator

    key = _key(estimator, (X, y, X_val, y_val)) if _memoisable(estimator) else None
    if key is not None and key in _FITS:
        _FITS.move_to_end(key)
        fitted, elapsed, rng = _FITS[key]
        if rng is not None:
            _set_rng_states(rng)
        return copy.deepcopy(fitted), elapsed
    start = time.perf_counter()
    if X_val is not None:
        estimator.fit(X, y, X_val=X_val, y_val=y_val)
    else:
        estimator.fit(X, y)
    elapsed = time.perf_counter() - start
    if key is not None:
        rng = _rng_states() if isinstance(estimator, _TorchEstimator) else None
        _FITS[key] = (copy.deepcopy(estimator), elapsed, rng)
        while len(_FITS) > MAX_FITS:
            _FITS.popitem(last=False)
    return estimator, elapsed
