"""Support-vector regression on lagged spike counts (NeuroTask's ``SVRDecoder``), standardised properly.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.svm import SVR

from ._base import DecoderMixin
from ._checks import check_fitted_X, flatten_lags

__all__ = ["SVRDecoder"]


class SVRDecoder(DecoderMixin, BaseEstimator):
    """Support-vector regression with an RBF kernel, one model per output, on the flattened window.

    SVR fits ``y = sum_i a_i k(x_i, x) + b`` while ignoring errors smaller than ``epsilon`` and penalising
    larger ones linearly (weight ``C``): a smooth nonlinear decoder that is robust to outliers. Inputs and
    each output are standardised with *training* statistics first (an RBF kernel compares distances, so the
    scale of each feature matters; ``epsilon`` is then in units of the output's standard deviation).

    Its cost grows with the square of the number of training bins (a few seconds for 5,000 bins, minutes
    for 50,000): ``max_train_samples`` keeps that many evenly spaced training bins (every k-th, in time
    order) when set.

    Parameters
    ----------
    C
        Penalty of errors beyond ``epsilon`` (upstream default 3).
    epsilon
        Width of the error-free tube, in output standard deviations.
    gamma
        RBF kernel width (``"scale"``: 1 / (features x variance), scikit-learn's default).
    max_iter
        Solver iterations (-1: no limit, as upstream).
    max_train_samples
        Subsample the training bins to at most this many (None: all).

    Attributes
    ----------
    models_ : list of sklearn.svm.SVR
    n_support_ : list of int
        Support vectors per output.
    n_iter_ : int
        Most solver iterations used by one output's model.

    Examples
    --------
    >>> from course_utils.decoding.simulate import simulate_static_nonlinearity
    >>> sim = simulate_static_nonlinearity(n_bins=1500, seed=0)
    >>> dec = SVRDecoder().fit(sim["X"][:1000], sim["y"][:1000])
    >>> bool(dec.score(sim["X"][1000:], sim["y"][1000:]) > 0.8)
    True

    Taught in chapter 08_decoding_baselines.
    """

    def __init__(
        self,
        C: float = 3.0,
        epsilon: float = 0.1,
        gamma: str | float = "scale",
        max_iter: int = -1,
        max_train_samples: int | None = None,
    ):
        self.C = C
        self.epsilon = epsilon
        self.gamma = gamma
        self.max_iter = max_iter
        self.max_train_samples = max_train_samples

    def fit(self, X: np.ndarray, y: np.ndarray) -> SVRDecoder:
        """Standardise ``X`` and each output with training statistics, then fit one SVR per output."""
        Xf, y = self._fit_flat(X, y)
        if self.max_train_samples is not None and len(Xf) > self.max_train_samples:
            keep = np.linspace(0, len(Xf) - 1, int(self.max_train_samples)).round().astype(int)
            Xf, y = Xf[keep], y[keep]
        self.x_mean_, self.x_std_ = Xf.mean(axis=0), np.where((s := Xf.std(axis=0)) > 0, s, 1.0)
        self.y_mean_, self.y_std_ = y.mean(axis=0), np.where((s := y.std(axis=0)) > 0, s, 1.0)
        Xs = (Xf - self.x_mean_) / self.x_std_
        ys = (y - self.y_mean_) / self.y_std_
        self.models_ = [
            SVR(C=self.C, epsilon=self.epsilon, gamma=self.gamma, max_iter=self.max_iter).fit(Xs, ys[:, i])
            for i in range(y.shape[1])
        ]
        self.n_support_ = [int(len(m.support_)) for m in self.models_]
        self.n_iter_ = max(int(np.max(m.n_iter_)) for m in self.models_)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted outputs, shape ``(T, outputs)`` (``(T,)`` if ``y`` was 1-D at fit)."""
        X = check_fitted_X(self, X, "models_")
        Xs = (flatten_lags(X) - self.x_mean_) / self.x_std_
        pred = np.stack([m.predict(Xs) for m in self.models_], axis=1) * self.y_std_ + self.y_mean_
        return self._shape_output(pred)
