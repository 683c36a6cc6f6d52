"""Hyperparameter search on the validation split, so every decoder in a comparison gets a fair chance.

NeuroTask's tutorial tunes its networks with Bayesian optimisation on the validation split (then, a defect,
tests hand-typed settings rather than the ones it found). Here :class:`TunedDecoder` wraps any decoder or
classifier: it draws ``n_iter`` settings from a search space (scikit-learn's
:class:`~sklearn.model_selection.ParameterSampler`; the whole grid when it is smaller), always tries the
decoder's own settings too, fits each on the training split, scores it on the *validation* split, and
keeps the best fitted model. The test split is never seen. :func:`search_space` gives a small default
space for every decoder of this package, and :func:`tuned` builds the wrapper with a budget that fits the
fast setting (``COURSE_FAST=1``).

For larger budgets, a Bayesian optimiser (Optuna's TPE sampler, or ``bayes_opt`` as upstream) finds good
settings in fewer fits than random search; with the handful of settings that fit a CPU budget, random
search over a sensible space does as well.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import inspect
import json
import os
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import loguniform
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.model_selection import ParameterGrid, ParameterSampler
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .. import fast_mode
from ._checks import check_labels, check_targets, check_X, holdout_validation
from ._memo import _memoisable, fit_once

__all__ = ["TunedDecoder", "search_space", "tuned", "default_n_iter", "tuning_report"]


def _inner_has(attribute: str):
    """For ``available_if``: the wrapped estimator has ``attribute`` (a regressor has no predict_proba)."""
    return lambda self: hasattr(getattr(self, "best_estimator_", self.estimator), attribute)


class TunedDecoder(BaseEstimator):
    """Choose a decoder's hyperparameters on the validation split, then predict with the best fit.

    Parameters
    ----------
    estimator
        The decoder or classifier to tune (unfitted; cloned for every candidate).
    param_distributions
        Parameter name -> list of values or a scipy distribution (as
        :class:`~sklearn.model_selection.RandomizedSearchCV`). Empty: only the estimator's own settings.
    n_iter
        Settings drawn besides the estimator's own (which is always candidate 0). If every entry is a list
        and the grid has at most ``n_iter`` points, the whole grid is tried.
    seed
        Seed of the random draws.
    validation_fraction
        When ``fit`` gets no ``X_val, y_val``: the *last* fraction of the training rows is held out
        (chronologically; a random hold-out of neighbouring bins would leak).

    Attributes
    ----------
    best_estimator_
        The candidate with the best validation score, fitted on the training split.
    default_estimator_
        Candidate 0: the estimator with its own settings, fitted on the same data (to measure what tuning
        changed without fitting it again).
    best_params_ : dict
    best_score_ : float
        Its validation score (R² for decoders, accuracy for classifiers).
    search_results_ : pandas.DataFrame
        One row per candidate: the settings, ``val_score`` and ``fit_time_s``, in the order tried.

    Examples
    --------
    >>> from course_utils.decoding import KalmanFilterDecoder
    >>> from course_utils.decoding.simulate import simulate_linear_dynamical_system
    >>> sim = simulate_linear_dynamical_system(n_bins=3000)
    >>> X = np.stack([np.roll(sim["X"], k, axis=0) for k in (3, 2, 1, 0)], axis=1)  # 3 bins of history
    >>> search = TunedDecoder(KalmanFilterDecoder(), {"lag": [0, 1, 2, 3]}).fit(X[:2000], sim["y"][:2000])
    >>> search.best_params_
    {'lag': 0}

    Taught in chapter 08_decoding_baselines.
    """

    def __init__(
        self,
        estimator: Any,
        param_distributions: dict[str, Any] | None = None,
        n_iter: int = 8,
        seed: int = 0,
        validation_fraction: float = 0.125,
    ):
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.seed = seed
        self.validation_fraction = validation_fraction

    def _candidates(self) -> list[dict[str, Any]]:
        space = dict(self.param_distributions or {})
        if not space:
            return [{}]
        if not (isinstance(self.n_iter, (int, np.integer)) and self.n_iter >= 0):
            raise ValueError(f"n_iter must be an integer >= 0, got {self.n_iter!r}.")
        unknown = sorted(set(space) - set(self.estimator.get_params()))
        if unknown:
            raise ValueError(
                f"{type(self.estimator).__name__} has no parameter(s) {unknown}; its parameters are "
                f"{sorted(self.estimator.get_params())}."
            )
        if all(isinstance(v, (list, tuple)) for v in space.values()) and len(ParameterGrid(space)) <= self.n_iter:
            drawn = list(ParameterGrid(space))
        else:
            drawn = list(ParameterSampler(space, self.n_iter, random_state=self.seed))
        own = {k: self.estimator.get_params()[k] for k in space}
        return [own] + [p for p in drawn if p != own]

    def fit(self, X, y, X_val=None, y_val=None) -> TunedDecoder:
        """Fit every candidate on ``X, y``, score it on ``X_val, y_val``, keep the best."""
        classify = is_classifier(self.estimator)
        check_y = check_labels if classify else check_targets
        X = check_X(X)
        y_checked = check_y(y)
        if len(X) != len(y_checked):
            raise ValueError(f"X has {len(X)} rows but y has {len(y_checked)}: they must come from the same split.")
        y_was_1d = np.asarray(y).ndim == 1
        y_fit = y_checked if (classify or not y_was_1d) else y_checked[:, 0]
        X, y_fit, X_val, y_val = holdout_validation(
            X, y_fit, X_val, y_val, validation_fraction=self.validation_fraction,
            expected_layout=X.shape[1:], estimator=f"TunedDecoder({type(self.estimator).__name__})",
            check_y=check_y,
        )
        if not classify and y_was_1d and y_val.ndim == 2:
            y_val = y_val[:, 0]
        takes_val = {"X_val", "y_val"} <= set(inspect.signature(self.estimator.fit).parameters)
        candidates = self._candidates()
        fitted: dict[int, Any] = {}

        def fit_candidate(i: int) -> Any:
            est = clone(self.estimator).set_params(**candidates[i])
            fitted[i], elapsed = fit_once(est, X, y_fit, *((X_val, y_val) if takes_val else ()))
            return elapsed

        def search() -> dict[str, list[float]]:
            times = [fit_candidate(i) for i in range(len(candidates))]
            scores = [float(fitted[i].score(X_val, y_val)) for i in range(len(candidates))]
            return {"val_score": scores, "fit_time_s": times}

        scored = self._reused_search(search, candidates, (X, y_fit, X_val, y_val))
        records, best = [], None
        rows = zip(candidates, scored["val_score"], scored["fit_time_s"], strict=True)
        for i, (params, score, elapsed) in enumerate(rows):
            records.append({**params, "val_score": score, "fit_time_s": elapsed})
            if best is None or score > best[0]:
                best = (score, i)
        for i in (0, best[1]):
            if i not in fitted:  # a search reused from the instructor run: fit only the two kept
                fit_candidate(i)
        self.default_estimator_ = fitted[0]
        best = (best[0], candidates[best[1]], fitted[best[1]])
        if not np.isfinite(best[0]):
            raise ValueError(
                f"No candidate has a finite validation score on the {len(X_val)} validation rows (R² needs at "
                "least 2 rows whose targets vary): use a longer validation split."
            )
        self.best_score_, self.best_params_, self.best_estimator_ = best
        self.search_results_ = pd.DataFrame(records)
        self.n_features_in_ = getattr(self.best_estimator_, "n_features_in_", int(np.prod(X.shape[1:])))
        if classify:
            self.classes_ = self.best_estimator_.classes_
        return self

    def _reused_search(self, search, candidates: list[dict[str, Any]], arrays: tuple) -> dict[str, list[float]]:
        """``search()`` (fit and score every candidate), or, in a student notebook under ``make test``, the
        scores of the same search in the instructor run (:func:`course_utils.training.reuse_training`).

        Only for boosted trees and SVR: slow, deterministic, and without trainings of their own to reuse (the
        networks reuse each of theirs). The candidates kept (own settings and best) are then fitted again.
        """
        from ..training import REUSE_ENV, array_fingerprint, reuse_training
        from .neural import _TorchEstimator

        if not (os.environ.get(REUSE_ENV, "").strip() and _memoisable(self.estimator)) or isinstance(
            self.estimator, _TorchEstimator
        ):
            return search()
        import torch

        key = {"loop": "decoding.TunedDecoder", "estimator": type(self.estimator).__name__,
               "candidates": json.loads(json.dumps(candidates, default=repr)), "fast": fast_mode(),
               "data": array_fingerprint(*arrays)}
        return reuse_training(torch.nn.Module(), search, key)

    def predict(self, X):
        """Predictions of the best candidate."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the best candidate (classifiers only)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    def score(self, X, y, sample_weight=None) -> float:
        """The best candidate's score (R² for decoders, accuracy for classifiers)."""
        check_is_fitted(self, "best_estimator_")
        return float(self.best_estimator_.score(X, y, sample_weight=sample_weight))

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags = inner.target_tags
        tags.input_tags = inner.input_tags
        return tags


_NETWORK_SPACE = {
    "hidden_size": [32, 64, 128],
    "dropout": [0.2, 0.35, 0.5],
    "learning_rate": loguniform(1e-3, 1e-2),
}
_CLASSIFIER_NETWORK_SPACE = {
    "hidden_size": [16, 32, 64],
    "dropout": [0.2, 0.5],
    "weight_decay": [1e-4, 1e-3, 1e-2],
}


def search_space(estimator: Any) -> dict[str, Any]:
    """A small default search space for a decoder or classifier of this package (empty if none needed).

    ===========================  =========================================================================
    decoder                      searched
    ===========================  =========================================================================
    WienerFilter, RidgeDecoder   nothing (ridge already chooses its penalty on the validation split)
    WienerCascade                ``degree`` 1-5
    KalmanFilterDecoder          ``lag`` 0-4 bins (how far the spikes lead the kinematics)
    NaiveBayesDecoder            ``transition_scale``, ``encoding_model``
    BoostedTrees*                ``max_depth``, ``learning_rate`` (tree count by early stopping)
    SVRDecoder                   ``C`` (log-uniform 0.1-30), ``epsilon``
    networks                     ``hidden_size``, ``dropout``, ``learning_rate`` (regression) or
                                 ``weight_decay`` (classification); epochs by early stopping
    WienerClassifier             ``C`` (log-uniform 0.001-10)
    NaiveBayesClassifier         ``alpha``, ``sum_lags``
    ===========================  =========================================================================

    Examples
    --------
    >>> from course_utils.decoding import WienerCascade
    >>> search_space(WienerCascade())
    {'degree': [1, 2, 3, 4, 5]}

    Taught in chapter 08_decoding_baselines.
    """
    from . import bayes, classification, kalman, linear, neural, svr, trees

    spaces: list[tuple[type, dict[str, Any]]] = [
        (linear.WienerCascade, {"degree": [1, 2, 3, 4, 5]}),
        (kalman.KalmanFilterDecoder, {"lag": [0, 1, 2, 3, 4]}),
        (bayes.NaiveBayesDecoder, {"transition_scale": [0.5, 1.0, 2.0, 4.0], "encoding_model": ["linear", "quadratic"]}),
        (bayes.NaiveBayesClassifier, {"alpha": [0.1, 1.0, 3.0, 10.0], "sum_lags": [True, False]}),
        (trees.BoostedTreesClassifier, {"max_depth": [2, 3], "learning_rate": [0.05, 0.1, 0.3]}),
        (trees.BoostedTreesDecoder, {"max_depth": [2, 3, 4, 6], "learning_rate": [0.1, 0.3]}),
        (svr.SVRDecoder, {"C": loguniform(0.1, 30.0), "epsilon": [0.05, 0.1, 0.3]}),
        (classification.WienerClassifier, {"C": loguniform(1e-3, 10.0)}),
        (neural._TorchClassifier, _CLASSIFIER_NETWORK_SPACE),
        (neural._TorchDecoder, _NETWORK_SPACE),
    ]
    for cls, space in spaces:
        if isinstance(estimator, cls):
            return dict(space)
    return {}


def default_n_iter(estimator: Any) -> int:
    """Settings to draw for :func:`tuned`: few for the slow decoders, fewer still with ``COURSE_FAST=1``.

    Networks 1 (fast) or 8; SVR and boosted trees 2 or 10; the fast decoders (cascade, Kalman, naive
    Bayes, logistic) 8 or 16 (their small grids are tried whole). The decoder's own settings are tried on
    top of these.

    Examples
    --------
    >>> from course_utils.decoding import WienerCascade
    >>> default_n_iter(WienerCascade()) >= 5
    True

    Taught in chapter 08_decoding_baselines.
    """
    from . import neural, svr, trees

    fast = fast_mode()
    if isinstance(estimator, neural._TorchEstimator):
        return 1 if fast else 8
    if isinstance(estimator, (svr.SVRDecoder, trees._BoostedTrees)):
        return 2 if fast else 10
    return 8 if fast else 16


def tuned(estimator: Any, n_iter: int | None = None, seed: int = 0) -> TunedDecoder:
    """``TunedDecoder(estimator, search_space(estimator), n_iter)`` with :func:`default_n_iter` as budget.

    Examples
    --------
    >>> from course_utils.decoding import WienerCascade
    >>> tuned(WienerCascade()).param_distributions
    {'degree': [1, 2, 3, 4, 5]}

    Taught in chapter 08_decoding_baselines.
    """
    return TunedDecoder(
        estimator, search_space(estimator), n_iter=default_n_iter(estimator) if n_iter is None else n_iter, seed=seed
    )


def tuning_report(models: dict[tuple[int, str], Any], sessions: list) -> pd.DataFrame:
    """What tuning changed, per session and decoder: validation and test scores with default and tuned settings.

    Parameters
    ----------
    models
        ``(session position, model name) -> fitted TunedDecoder``, as
        :func:`~course_utils.decoding.benchmark_decoders` returns with ``return_models=True``.
    sessions
        The sessions passed to the benchmark (their test splits are scored here).

    Returns
    -------
    pandas.DataFrame
        One row per (session, model): ``session_index, model, default_val, tuned_val, default_test,
        tuned_test, best_params, n_candidates`` (scores: R² for decoders, accuracy for classifiers).

    Examples
    --------
    >>> from course_utils.decoding import WienerCascade, SessionSplits, benchmark_decoders
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(400, 3)); y = X[:, 0] ** 3
    >>> s = SessionSplits(X[:280], y[:280], X[280:320], y[280:320], X[320:], y[320:], session=1)
    >>> _, models = benchmark_decoders({"cascade": tuned(WienerCascade(degree=1))}, [s], progress=False,
    ...                                return_models=True)
    >>> report = tuning_report(models, [s])
    >>> bool(report.loc[0, "tuned_test"] > report.loc[0, "default_test"])
    True

    Taught in chapter 08_decoding_baselines.
    """
    rows = []
    for (position, name), search in models.items():
        if not isinstance(search, TunedDecoder):
            raise TypeError(f"models[{position}, {name!r}] is a {type(search).__name__}, not a TunedDecoder.")
        s = sessions[position]
        results = search.search_results_
        rows.append({
            "session_index": position,
            "model": name,
            "default_val": float(results["val_score"].iloc[0]),
            "tuned_val": float(search.best_score_),
            "default_test": float(search.default_estimator_.score(s.X_test, s.y_test)),
            "tuned_test": float(search.score(s.X_test, s.y_test)),
            "best_params": search.best_params_,
            "n_candidates": len(results),
        })
    return pd.DataFrame(rows)
