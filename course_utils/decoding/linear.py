"""Linear decoders on lagged spike counts: Wiener filter, Wiener cascade and ridge.

All three flatten the history: a row of ``X`` with shape ``(lags, N)`` becomes ``lags * N`` features, so
each neuron gets one weight per lag (a finite impulse response filter, hence "Wiener filter").

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LinearRegression
from sklearn.utils.validation import check_is_fitted

from ._base import DecoderMixin
from ._checks import check_fitted_X, check_Xy, flatten_lags, holdout_validation
from .metrics import r2_score_per_output

__all__ = ["WienerFilter", "WienerCascade", "RidgeDecoder"]


class _LinearBase(DecoderMixin, BaseEstimator):
    def _prepare_predict(self, X):
        X = check_fitted_X(self, X, "input_shape_")
        return flatten_lags(X)


class WienerFilter(_LinearBase):
    """Wiener filter: ordinary least squares from lagged spike counts to each output.

    Model: ``y[t] = b + sum_{lag, n} W[lag, n] * x[t - lag, n] + noise``. With ``X`` of shape
    ``(T, lags, N)`` the filter has ``lags * N`` weights per output.

    Parameters
    ----------
    fit_intercept
        Fit the offset ``b`` (leave on unless the data are centred).

    Attributes
    ----------
    coef_ : ndarray of shape (outputs, lags * N)
    intercept_ : ndarray of shape (outputs,)
    input_shape_ : tuple
        The per-row shape of the training ``X`` (``(lags, N)`` or ``(features,)``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2, 3)); y = X[:, -1, 0] * 2.0
    >>> WienerFilter().fit(X, y).score(X, y)
    1.0

    Taught in chapter 08_decoding_baselines.
    """

    def __init__(self, fit_intercept: bool = True):
        self.fit_intercept = fit_intercept

    def fit(self, X: np.ndarray, y: np.ndarray) -> WienerFilter:
        """Fit the filter by least squares on ``X`` ``(T, lags, N)`` or ``(T, features)`` and ``y`` ``(T, outputs)``."""
        Xf, y = self._fit_flat(X, y)
        model = LinearRegression(fit_intercept=self.fit_intercept).fit(Xf, y)
        self.coef_ = np.atleast_2d(model.coef_)
        self.intercept_ = np.atleast_1d(model.intercept_)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted outputs, shape ``(T, outputs)`` (``(T,)`` if ``y`` was 1-D at fit)."""
        Xf = self._prepare_predict(X)
        return self._shape_output(Xf @ self.coef_.T + self.intercept_)


class WienerCascade(_LinearBase):
    """Wiener cascade: a Wiener filter followed by a static polynomial nonlinearity per output.

    Stage 1 fits a :class:`WienerFilter`; stage 2 fits, for each output ``i``, a polynomial ``f_i`` of degree
    ``degree`` by least squares from the filter's training prediction to the target:
    ``y_i[t] ≈ f_i(w_i · x[t])``. This is a linear-nonlinear (LN) model fitted in two steps, as in Kording
    lab's Neural_Decoding (degree 3).

    Difference from upstream (documented on purpose): with ``clip=True`` the linear prediction is clipped to
    the range seen in training before the polynomial, because a cubic extrapolates wildly on test bins that
    fall outside it (a common cause of hugely negative R² upstream).

    Parameters
    ----------
    degree
        Degree of the polynomial nonlinearity (3 as upstream).
    clip
        Clip the linear stage's output to its training range before applying the polynomial.

    Attributes
    ----------
    filter_ : WienerFilter
    poly_coefs_ : ndarray of shape (outputs, degree + 1)
        Polynomial coefficients, highest power first (``numpy.polyval`` order).
    linear_range_ : ndarray of shape (outputs, 2)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 4)); y = np.exp(X @ [0.5, 0.2, 0.0, 0.1])
    >>> WienerCascade().fit(X, y).score(X, y) > WienerFilter().fit(X, y).score(X, y)
    True

    Taught in chapter 08_decoding_baselines.
    """

    def __init__(self, degree: int = 3, clip: bool = True):
        self.degree = degree
        self.clip = clip

    def fit(self, X: np.ndarray, y: np.ndarray) -> WienerCascade:
        """Fit the linear stage, then one polynomial per output on the training data."""
        if not (isinstance(self.degree, (int, np.integer)) and self.degree >= 1):
            raise ValueError(f"degree must be an integer >= 1, got {self.degree!r}.")
        self._remember_target_shape(y)
        X, y = check_Xy(X, y)
        self.filter_ = WienerFilter().fit(X, y)
        self.input_shape_ = self.filter_.input_shape_
        self.n_features_in_ = self.filter_.n_features_in_
        self.n_outputs_ = y.shape[1]
        linear = self.filter_.predict(X)
        self.linear_range_ = np.stack([linear.min(axis=0), linear.max(axis=0)], axis=1)
        self.poly_coefs_ = np.stack(
            [np.polyfit(linear[:, i], y[:, i], self.degree) for i in range(y.shape[1])]
        )
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted outputs, shape ``(T, outputs)`` (``(T,)`` if ``y`` was 1-D at fit)."""
        check_is_fitted(self, "poly_coefs_")
        linear = self.filter_.predict(X)
        if self.clip:
            linear = np.clip(linear, self.linear_range_[:, 0], self.linear_range_[:, 1])
        pred = np.stack([np.polyval(c, linear[:, i]) for i, c in enumerate(self.poly_coefs_)], axis=1)
        return self._shape_output(pred)


class RidgeDecoder(_LinearBase):
    """Ridge regression on lagged spikes, with the penalty chosen on a validation split.

    Minimises ``||y - b - X w||² + alpha ||w||²`` for every ``alpha`` in ``alphas`` (one eigendecomposition of
    the centred Gram matrix gives the whole path), keeps the one with the best mean R² on the validation data,
    and stores that fit. Pass ``X_val, y_val`` (e.g. NeuroTask's validation split); otherwise the *last*
    ``validation_fraction`` of the training rows is held out (chronologically, never at random: neighbouring
    bins are correlated, so a random hold-out would leak) and the final fit uses only the rows before it.

    Parameters
    ----------
    alphas
        Candidate penalties (same units as sklearn's ``Ridge(alpha=...)``).
    validation_fraction
        Fraction of the training rows held out at the end when no validation split is given.

    Attributes
    ----------
    alpha_ : float
        The chosen penalty.
    validation_r2_ : ndarray of shape (len(alphas),)
        Mean validation R² for each candidate.
    coef_, intercept_
        As in :class:`WienerFilter`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 20)); y = X[:, 0] + rng.normal(size=300)
    >>> RidgeDecoder().fit(X, y).alpha_ > 0
    True

    Taught in chapter 08_decoding_baselines.
    """

    def __init__(self, alphas: np.ndarray | list[float] | None = None, validation_fraction: float = 0.125):
        self.alphas = alphas
        self.validation_fraction = validation_fraction

    def _alphas(self) -> np.ndarray:
        alphas = np.logspace(-3, 6, 19) if self.alphas is None else np.asarray(self.alphas, dtype=float)
        if alphas.ndim != 1 or alphas.size == 0 or (alphas < 0).any():
            raise ValueError(f"alphas must be a non-empty 1-D list of penalties >= 0, got {self.alphas!r}.")
        return alphas

    def fit(
        self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None = None, y_val: np.ndarray | None = None
    ) -> RidgeDecoder:
        """Fit on ``X, y`` for every candidate penalty and keep the one best on the validation data."""
        alphas = self._alphas()
        Xf, y = self._fit_flat(X, y)
        Xf, y, Xv, yv = holdout_validation(
            Xf, y, X_val, y_val, validation_fraction=self.validation_fraction,
            expected_layout=self.input_shape_, estimator="RidgeDecoder",
        )
        if X_val is not None:
            Xv = flatten_lags(Xv)
        x_mean, y_mean = Xf.mean(axis=0), y.mean(axis=0)
        Xc = Xf - x_mean
        # One eigendecomposition of the Gram matrix gives every penalty's solution:
        # w(alpha) = V diag(1 / (lambda + alpha)) V^T Xc^T y.
        eigvals, V = np.linalg.eigh(Xc.T @ Xc)
        keep = eigvals > 1e-10 * max(
            eigvals.max(), 1e-300
        )  # drop null directions (pseudo-inverse at alpha=0)
        eigvals, V = eigvals[keep], V[:, keep]
        Vty = V.T @ (Xc.T @ (y - y_mean))
        Xv_proj = (Xv - x_mean) @ V  # validation rows in the eigenbasis
        scores, coefs = [], []
        with warnings.catch_warnings():  # constant validation outputs are reported below, once
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            for alpha in alphas:
                coef_basis = Vty / (eigvals + alpha)[:, None]  # (rank, outputs)
                pred = Xv_proj @ coef_basis + y_mean
                r2 = r2_score_per_output(yv, pred)
                scores.append(np.nanmean(r2) if np.isfinite(r2).any() else np.nan)
                coefs.append(V @ coef_basis)
        self.validation_r2_ = np.asarray(scores)
        if not np.isfinite(self.validation_r2_).any() and len(alphas) > 1:
            raise ValueError(
                "RidgeDecoder cannot choose alpha: every output is constant in the validation targets "
                f"({len(yv)} rows), so R² is undefined there. Use a longer validation split (e.g. valid_range "
                "[0.7, 0.8] of a whole session), or fix the penalty with alphas=[value]."
            )
        best = int(np.nanargmax(self.validation_r2_)) if len(alphas) > 1 else 0
        self.alpha_ = float(alphas[best])
        self.coef_ = coefs[best].T
        self.intercept_ = y_mean - x_mean @ coefs[best]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted outputs, shape ``(T, outputs)`` (``(T,)`` if ``y`` was 1-D at fit)."""
        Xf = self._prepare_predict(X)
        return self._shape_output(Xf @ self.coef_.T + self.intercept_)
