"""Gradient-boosted trees on lagged spike counts: XGBoost when installed, scikit-learn's otherwise.

NeuroTask's baselines (after Kording lab's Neural_Decoding) use XGBoost (``XGBoostDecoder``: trees of depth
3, 300 rounds, learning rate 0.3, one model per output). XGBoost is preinstalled in Colab but is not a
dependency of the course: with ``backend="auto"`` these decoders use it when it can be imported and
scikit-learn's :class:`~sklearn.ensemble.HistGradientBoostingRegressor` (the same algorithm family:
histogram-binned features, depth-limited trees, shrinkage) otherwise. The fitted ``backend_`` says which.

Difference from upstream (documented on purpose): upstream trains a fixed number of rounds; here the
number of trees is chosen by early stopping on the *chronological* validation split (the one passed as
``X_val, y_val``, or the end of the training data), never on a random subset of bins, which would leak.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from .. import fast_mode
from ._base import DecoderMixin
from ._checks import (
    check_fitted_X,
    check_labels,
    check_targets,
    check_X_labels,
    flatten_lags,
    holdout_validation,
)

__all__ = ["BoostedTreesDecoder", "BoostedTreesClassifier", "xgboost_available", "default_n_estimators"]

TREES_FULL = 300
TREES_FAST = 100


def default_n_estimators() -> int:
    """Most trees per model when ``n_estimators`` is None: 300 (upstream's count), or 100 with ``COURSE_FAST=1``.

    Early stopping on the validation split usually ends boosting sooner anyway.

    Examples
    --------
    >>> default_n_estimators() in (TREES_FAST, TREES_FULL)
    True

    Taught in chapter 08_decoding_baselines.
    """
    return TREES_FAST if fast_mode() else TREES_FULL


def xgboost_available() -> bool:
    """True when the ``xgboost`` package can be imported (it is preinstalled in Colab).

    Examples
    --------
    >>> isinstance(xgboost_available(), bool)
    True

    Taught in chapter 08_decoding_baselines.
    """
    return importlib.util.find_spec("xgboost") is not None


def _hgb_takes_validation() -> bool:
    """scikit-learn >= 1.7 lets ``HistGradientBoosting*.fit`` take an explicit validation set."""
    return "X_val" in inspect.signature(HistGradientBoostingRegressor.fit).parameters


class _BoostedTrees(BaseEstimator):
    """Shared parameters, backend choice and validation handling."""

    def __init__(
        self,
        backend: str = "auto",
        n_estimators: int | None = None,
        learning_rate: float = 0.3,
        max_depth: int = 3,
        early_stopping_rounds: int = 20,
        validation_fraction: float = 0.125,
        seed: int = 0,
        n_jobs: int | None = 1,
    ):
        self.backend = backend
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.n_jobs = n_jobs

    def _resolve_backend(self) -> str:
        if self.backend == "auto":
            return "xgboost" if xgboost_available() else "sklearn"
        if self.backend == "xgboost" and not xgboost_available():
            raise ImportError(
                "backend='xgboost' but the xgboost package is not installed: `pip install xgboost` "
                "(Colab has it), or use backend='sklearn' (HistGradientBoosting, no extra dependency)."
            )
        if self.backend not in ("xgboost", "sklearn"):
            raise ValueError(f"backend must be 'auto', 'xgboost' or 'sklearn', got {self.backend!r}.")
        return self.backend

    def _n_estimators(self) -> int:
        return default_n_estimators() if self.n_estimators is None else self.n_estimators

    def _check_params(self) -> None:
        for name, value in (("n_estimators", self._n_estimators()), ("max_depth", self.max_depth),
                            ("early_stopping_rounds", self.early_stopping_rounds)):
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}.")

    def _threads(self):
        """Limit scikit-learn's OpenMP threads to ``n_jobs`` (None: no limit).

        On a shared 2-core machine, histogram boosting on all cores oversubscribes them: measured 125 s
        instead of 5.5 s for the same fit under load.
        """
        return threadpool_limits(limits=self.n_jobs, user_api="openmp") if self.n_jobs else contextlib.nullcontext()

    def _fit_one(self, Xf: np.ndarray, target: np.ndarray, Xv: np.ndarray, tv: np.ndarray, classify: bool):
        """One model on a 1-D target, early-stopped on (Xv, tv); returns (model, trees used)."""
        with self._threads():
            return self._fit_one_unlimited(Xf, target, Xv, tv, classify)

    def _fit_one_unlimited(self, Xf, target, Xv, tv, classify: bool):
        if self.backend_ == "xgboost":
            import xgboost as xgb

            cls = xgb.XGBClassifier if classify else xgb.XGBRegressor
            model = cls(
                n_estimators=self._n_estimators(), learning_rate=self.learning_rate, max_depth=self.max_depth,
                early_stopping_rounds=self.early_stopping_rounds, tree_method="hist", random_state=self.seed,
                n_jobs=self.n_jobs, verbosity=0,
            )
            model.fit(Xf, target, eval_set=[(Xv, tv)], verbose=False)
            return model, int(model.best_iteration) + 1
        cls = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        common: dict[str, Any] = dict(
            learning_rate=self.learning_rate, max_depth=self.max_depth, random_state=self.seed,
        )
        if _hgb_takes_validation():
            model = cls(max_iter=self._n_estimators(), early_stopping=True,
                        n_iter_no_change=self.early_stopping_rounds, **common)
            model.fit(Xf, target, X_val=Xv, y_val=tv)
            return model, int(model.n_iter_)
        # Older scikit-learn: grow all trees, pick the count best on our validation split, refit that many.
        model = cls(max_iter=self._n_estimators(), early_stopping=False, **common).fit(Xf, target)
        if classify:
            losses = [-np.mean(np.log(p[np.arange(len(tv)), tv] + 1e-12)) for p in model.staged_predict_proba(Xv)]
        else:
            losses = [np.mean((p - tv) ** 2) for p in model.staged_predict(Xv)]
        best = int(np.argmin(losses)) + 1
        return cls(max_iter=best, early_stopping=False, **common).fit(Xf, target), best

    def _fit_fixed(self, Xf, target, classify: bool):
        """One model with all ``n_estimators`` trees and no early stopping; returns (model, trees used)."""
        n = self._n_estimators()
        if self.backend_ == "xgboost":
            import xgboost as xgb

            cls = xgb.XGBClassifier if classify else xgb.XGBRegressor
            model = cls(n_estimators=n, learning_rate=self.learning_rate, max_depth=self.max_depth,
                        tree_method="hist", random_state=self.seed, n_jobs=self.n_jobs, verbosity=0)
            return model.fit(Xf, target, verbose=False), n
        cls = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        model = cls(max_iter=n, early_stopping=False, learning_rate=self.learning_rate, max_depth=self.max_depth,
                    random_state=self.seed)
        return model.fit(Xf, target), n

    def _prepare(self, X, y, X_val, y_val, check_y):
        self._check_params()
        self.backend_ = self._resolve_backend()
        X, y = check_X_labels(X, y, check_y)
        X, y, X_val, y_val = holdout_validation(
            X, y, X_val, y_val, validation_fraction=self.validation_fraction, expected_layout=X.shape[1:],
            estimator=type(self).__name__, check_y=check_y,
        )
        self.input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = int(np.prod(self.input_shape_))
        return flatten_lags(X), y, flatten_lags(X_val), y_val

    def _features(self, X) -> np.ndarray:
        X = check_fitted_X(self, X, "models_")  # (predictions run under self._threads() in the callers)
        return flatten_lags(X)


class BoostedTreesDecoder(DecoderMixin, _BoostedTrees):
    """Gradient-boosted regression trees, one model per output, on the flattened history window.

    Each model adds depth-``max_depth`` trees, each fitted to the residual of the ones before and shrunk by
    ``learning_rate``, until ``n_estimators`` trees or until the validation error has not improved for
    ``early_stopping_rounds`` trees. Trees are invariant to monotone rescaling of each feature, so z-scoring
    the spikes changes nothing.

    Parameters
    ----------
    backend
        ``"auto"`` (XGBoost if installed, else scikit-learn), ``"xgboost"`` or ``"sklearn"``.
    n_estimators
        Maximum number of trees per output; None means :func:`default_n_estimators` (300 as upstream, or
        100 with ``COURSE_FAST=1``).
    learning_rate, max_depth
        Shrinkage and tree depth (upstream's 0.3 and 3 are the defaults).
    early_stopping_rounds
        Stop when this many trees in a row did not improve the validation error.
    validation_fraction
        Fraction of the training rows held out at the end when ``fit`` gets no ``X_val, y_val``.
    seed
        Random seed of the boosting library.
    n_jobs
        Threads of either library (1 by default: small fits on a shared CPU run fastest on one thread;
        None uses the library's default, all cores).

    Attributes
    ----------
    backend_ : str
        ``"xgboost"`` or ``"sklearn"``: the library that was used.
    models_ : list
        One fitted model per output.
    n_trees_ : list of int
        Trees kept per output after early stopping.

    Examples
    --------
    >>> from course_utils.decoding.simulate import simulate_static_nonlinearity
    >>> sim = simulate_static_nonlinearity(n_bins=3000, seed=0)
    >>> dec = BoostedTreesDecoder(backend="sklearn").fit(sim["X"][:2500], sim["y"][:2500])
    >>> bool(dec.score(sim["X"][2500:], sim["y"][2500:]) > 0.8)
    True

    Taught in chapter 08_decoding_baselines.
    """

    def fit(
        self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None = None, y_val: np.ndarray | None = None
    ) -> BoostedTreesDecoder:
        """Fit one boosted model per output, early-stopping on the validation split."""
        self._remember_target_shape(y)
        Xf, y, Xv, yv = self._prepare(X, y, X_val, y_val, check_targets)
        self.n_outputs_ = y.shape[1]
        fitted = [self._fit_one(Xf, y[:, i], Xv, yv[:, i], classify=False) for i in range(y.shape[1])]
        self.models_ = [m for m, _ in fitted]
        self.n_trees_ = [n for _, n in fitted]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted outputs, shape ``(T, outputs)`` (``(T,)`` if ``y`` was 1-D at fit)."""
        Xf = self._features(X)
        with self._threads():
            pred = np.stack([m.predict(Xf) for m in self.models_], axis=1).astype(np.float64)
        return self._shape_output(pred)


class BoostedTreesClassifier(ClassifierMixin, _BoostedTrees):
    """Gradient-boosted classification trees (softmax over classes) on the flattened window.

    As :class:`BoostedTreesDecoder`, with the multinomial log-loss; defaults suit a few dozen trials
    (100 trees at most, stopping after 10 without improvement).

    Examples
    --------
    >>> rng = np.random.default_rng(0); labels = rng.integers(0, 2, 200)
    >>> X = rng.normal(size=(200, 3)) + labels[:, None]
    >>> BoostedTreesClassifier(backend="sklearn").fit(X[:150], labels[:150]).score(X[150:], labels[150:]) > 0.7
    True

    Taught in chapter 08_decoding_baselines.
    """

    def __init__(
        self,
        backend: str = "auto",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        max_depth: int = 3,
        early_stopping_rounds: int = 10,
        validation_fraction: float = 0.125,
        seed: int = 0,
        n_jobs: int | None = 1,
    ):
        super().__init__(
            backend=backend, n_estimators=n_estimators, learning_rate=learning_rate, max_depth=max_depth,
            early_stopping_rounds=early_stopping_rounds, validation_fraction=validation_fraction, seed=seed,
            n_jobs=n_jobs,
        )

    def fit(
        self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None = None, y_val: np.ndarray | None = None
    ) -> BoostedTreesClassifier:
        """Fit the boosted classifier, early-stopping on the validation split."""
        Xf, y, Xv, yv = self._prepare(X, y, X_val, y_val, check_labels)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"BoostedTreesClassifier needs at least 2 classes in y, got 1 class ({self.classes_[0]!r}).")
        pos = np.clip(np.searchsorted(self.classes_, yv), 0, len(self.classes_) - 1)
        seen = self.classes_[pos] == yv  # a validation class absent from training cannot be scored
        if not seen.any():
            # Too few trials to early-stop (every validation target is new): grow all the trees instead.
            warnings.warn(
                "BoostedTreesClassifier: no validation label occurs in the training labels (too few trials "
                f"per class), so early stopping is off and all {self._n_estimators()} trees are used.",
                stacklevel=2,
            )
            with self._threads():
                model, n = self._fit_fixed(Xf, codes, classify=True)
        else:
            model, n = self._fit_one(Xf, codes, Xv[seen], pos[seen], classify=True)
        self.models_, self.n_trees_ = [model], [n]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of each class in ``classes_``, shape ``(T, n_classes)``."""
        features = self._features(X)
        with self._threads():
            proba = self.models_[0].predict_proba(features)
        if proba.shape[1] != len(self.classes_):  # a class of classes_ the boosting library never saw
            full = np.zeros((len(proba), len(self.classes_)))
            full[:, self.models_[0].classes_.astype(int)] = proba
            proba = full
        return proba

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class of each row, shape ``(T,)``."""
        best = np.argmax(self.predict_proba(X), axis=1)
        return self.classes_[best]
