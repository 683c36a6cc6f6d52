"""Kalman filter decoder: a linear-Gaussian state-space model of the kinematics, observed through spikes.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from ._base import DecoderMixin
from ._checks import check_fitted_X, check_Xy

__all__ = ["KalmanFilterDecoder"]


def _least_squares(inputs: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """``M`` minimising ``||outputs - inputs @ M.T||²`` (``M`` has shape (outputs, inputs))."""
    return np.linalg.lstsq(inputs, outputs, rcond=None)[0].T


class KalmanFilterDecoder(DecoderMixin, BaseEstimator):
    """Kalman filter decoder (Wu et al. 2003): kinematics evolve linearly, spikes are a noisy linear readout.

    State model (fitted on the training kinematics ``y``, centred on their mean):
    ``s[t] = A s[t-1] + w[t]``, ``w ~ N(0, W)``.
    Observation model (fitted on the training data): ``z[t] = mu_z + H s[t] + q[t]``, ``q ~ N(0, Q)``, where
    ``z[t]`` are the spike counts of the bin ``lag`` bins before ``t``. Both are least-squares fits, the
    noise covariances are the residual covariances. Prediction runs the standard predict/update recursion
    from the stationary prior; the gain is data-independent, so once it has converged the steady-state gain
    is reused (fast, same answer).

    Only one bin of spikes per time step enters (the filter's own recursion carries the history), so with
    ``X`` of shape ``(T, lags, N)`` the bin ``X[:, -1 - lag, :]`` is used (``lag < lags`` is required). With
    ``X`` of shape ``(T, N)`` rows are shifted by ``lag`` instead, and the first ``lag`` bins, which have no
    observation, get the prior mean.

    Parameters
    ----------
    lag
        Bins by which neural activity leads the kinematics (motor cortex leads movement by ~100 ms).
    noise_floor
        Added to the diagonal of ``Q`` as a fraction of its mean diagonal, so silent or perfectly
        predictable neurons do not make ``Q`` singular.

    By design the prediction for a bin depends on the bins before it (the filter's recursion), so the
    decoder is not invariant to the order of the rows nor to predicting in batches: scikit-learn's
    ``check_methods_sample_order_invariance`` and ``check_methods_subset_invariance`` fail on purpose
    (``tests/test_decoding_sklearn_contract.py`` lists them).

    Attributes
    ----------
    A_, W_ : ndarray
        State transition and process noise covariance, ``(outputs, outputs)``.
    H_, Q_ : ndarray
        Observation matrix ``(N, outputs)`` and observation noise covariance ``(N, N)``.
    y_mean_, z_mean_ : ndarray
        Training means of the kinematics and the spike counts.
    state_cov_ : ndarray
        Covariance of the training kinematics (the prior at the first bin).

    Examples
    --------
    >>> from course_utils.decoding.simulate import simulate_linear_dynamical_system
    >>> sim = simulate_linear_dynamical_system(n_bins=3000, seed=0)
    >>> kf = KalmanFilterDecoder().fit(sim["X"][:2000], sim["y"][:2000])
    >>> bool(kf.score(sim["X"][2000:], sim["y"][2000:]) > 0.5)
    True

    Taught in chapter 08_decoding_baselines.
    """

    def __init__(self, lag: int = 0, noise_floor: float = 1e-6):
        self.lag = lag
        self.noise_floor = noise_floor

    # -- observations --------------------------------------------------------------------------------
    def observations(self, X: np.ndarray) -> tuple[np.ndarray, int]:
        """The spike counts that observe each bin (``lag`` bins earlier), and how many leading bins have none.

        With 3-D ``X`` (bins, history, neurons) the counts ``lag`` bins back in each window; with 2-D ``X``
        the rows shifted by ``lag`` (the first ``lag`` bins have no observation). Not centred: subtract
        ``z_mean_`` for the filter's observation.

        Taught in chapter 08_decoding_baselines.
        """
        if not (isinstance(self.lag, (int, np.integer)) and self.lag >= 0):
            raise ValueError(f"lag must be an integer >= 0 (bins), got {self.lag!r}.")
        if X.ndim == 3:
            if self.lag >= X.shape[1]:
                raise ValueError(
                    f"lag={self.lag} needs X with more than {self.lag} history bins, but X has {X.shape[1]} "
                    f"(shape {X.shape}): build X with bins_before >= {self.lag}."
                )
            return X[:, -1 - self.lag, :].astype(np.float64), 0
        if self.lag >= len(X):
            raise ValueError(f"lag={self.lag} is not shorter than X ({len(X)} rows).")
        return X[: len(X) - self.lag].astype(np.float64), self.lag

    # -- fit -----------------------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray) -> KalmanFilterDecoder:
        """Fit ``A, W`` on the kinematics ``y`` and ``H, Q`` from the kinematics to the spikes ``X``."""
        self._remember_target_shape(y)
        X, y = check_Xy(X, y)
        if len(y) < 3:
            raise ValueError(f"Too few bins ({len(y)} sample(s)) to fit a Kalman filter: it needs at least 3.")
        self.input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = int(np.prod(X.shape[1:]))
        self.n_outputs_ = y.shape[1]
        z, n_missing = self.observations(X)
        self.y_mean_ = y.mean(axis=0)
        s = y - self.y_mean_
        self.state_cov_ = np.atleast_2d(np.cov(s, rowvar=False))
        self.A_ = _least_squares(s[:-1], s[1:])
        resid = s[1:] - s[:-1] @ self.A_.T
        self.W_ = np.atleast_2d(np.cov(resid, rowvar=False))
        s_obs = s[n_missing:]
        self.z_mean_ = z.mean(axis=0)
        self.H_ = _least_squares(s_obs, z - self.z_mean_)
        resid = z - self.z_mean_ - s_obs @ self.H_.T
        Q = np.atleast_2d(np.cov(resid, rowvar=False))
        floor = self.noise_floor * max(float(np.mean(np.diag(Q))), 1e-12)
        self.Q_ = Q + floor * np.eye(len(Q))
        return self

    # -- predict -------------------------------------------------------------------------------------
    def _gains(self, n_steps: int, tol: float = 1e-10) -> list[np.ndarray]:
        """Kalman gains for the first steps, until they converge (the last one is then reused)."""
        Q_inv = np.linalg.inv(self.Q_)
        HtQi = self.H_.T @ Q_inv  # (outputs, N)
        HtQiH = HtQi @ self.H_
        P = self.state_cov_.copy()
        gains: list[np.ndarray] = []
        for step in range(n_steps):
            P_pred = P if step == 0 else self.A_ @ P @ self.A_.T + self.W_
            # Information form: P_post = (P_pred^-1 + H^T Q^-1 H)^-1, K = P_post H^T Q^-1 (outputs x outputs inverse).
            P_new = np.linalg.inv(np.linalg.inv(P_pred) + HtQiH)
            gains.append(P_new @ HtQi)
            if step > 0 and np.abs(P_new - P).max() <= tol * max(np.abs(P).max(), 1e-300):
                break
            P = P_new
        return gains

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Filtered kinematics, shape ``(T, outputs)``; the filter starts from the prior at the first row."""
        X = check_fitted_X(self, X, "A_")
        z, n_missing = self.observations(X)
        z = z - self.z_mean_
        gains = self._gains(len(z))
        K_ss = gains[-1]
        M_ss = (np.eye(self.n_outputs_) - K_ss @ self.H_) @ self.A_
        drive = z @ K_ss.T  # steady-state innovation drive, computed for all bins at once
        states = np.empty((len(z), self.n_outputs_))
        x = np.zeros(self.n_outputs_)
        for t in range(len(z)):
            if t < len(gains) - 1 or t == 0:
                K = gains[min(t, len(gains) - 1)]
                x_pred = x if t == 0 else self.A_ @ x
                x = x_pred + K @ (z[t] - self.H_ @ x_pred)
            else:
                x = M_ss @ x + drive[t]
            states[t] = x
        out = np.empty((n_missing + len(z), self.n_outputs_))
        out[:n_missing] = 0.0  # no observation yet: the prior mean (the state is centred)
        out[n_missing:] = states
        return self._shape_output(out + self.y_mean_)
