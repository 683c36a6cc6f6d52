"""Poisson naive Bayes decoders: a tuning curve per neuron, then Bayes' rule over the behaviour values.

The classic decoder of neuroscience (Zhang et al. 1998; the ``NaiveBayesDecoder`` of Kording lab's
Neural_Decoding and NeuroTask's baselines). Each neuron's spike count is Poisson with a mean that depends
on the behaviour (its *tuning curve*); neurons are independent given the behaviour ("naive"); decoding
inverts this with Bayes' rule:

``log p(s | r) = const + log p(s) + sum_n [ r_n log lambda_n(s) - lambda_n(s) ]``.

* :class:`NaiveBayesDecoder` – continuous kinematics (1 or 2 outputs) on a grid of values, optionally
  with a transition prior (the behaviour moves little from one bin to the next).
* :class:`NaiveBayesClassifier` – discrete labels (e.g. the reach target of a trial).

Both need spike *counts* (non-negative), not z-scored rates: build the arrays with
``process_data(..., zscore=False)``.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin

from ._base import DecoderMixin
from ._checks import (
    check_fitted_X,
    check_X_labels,
    check_Xy,
    flatten_lags,
)

__all__ = ["NaiveBayesDecoder", "NaiveBayesClassifier"]

_RATE_FLOOR = 1e-9  # expected counts below this are treated as this (log of 0 is -inf)
_CHUNK = 4096  # rows of the (rows, grid) likelihood computed at once: bounded memory on long sessions


def _counts(X: np.ndarray, sum_lags: bool, estimator: str) -> np.ndarray:
    """``(T, lags, N)`` -> counts per neuron summed over the window (or one feature per lag and neuron)."""
    counts = X.sum(axis=1) if (X.ndim == 3 and sum_lags) else flatten_lags(X)
    if (counts < 0).any():
        raise ValueError(
            f"Negative values in data passed to {estimator}: it needs spike counts (>= 0). Were the spikes z-scored? "
            "Build the arrays with process_data(..., zscore=False) for the naive Bayes decoders."
        )
    return counts.astype(np.float64, copy=False)


def _poisson_glm(
    design: np.ndarray, counts: np.ndarray, alpha: float, max_iter: int = 100, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson GLMs with log link for every column of ``counts`` at once (Newton's method, step halving).

    Minimises, per column ``n``, ``mean_t(lambda_tn - r_tn eta_tn) + alpha/2 ||w_n||²`` with ``eta = b_n +
    design @ w_n``: the objective of :class:`sklearn.linear_model.PoissonRegressor` (half its mean deviance
    plus the L2 penalty, intercept unpenalised), solved for all neurons together instead of one fit each
    (60 neurons: 40 ms instead of seconds). Columns must not be all zero (their intercept diverges).

    Returns ``(intercepts (N,), coefs (N, p))``.
    """
    T, p = design.shape
    D = np.hstack([np.ones((T, 1)), design])  # (T, p + 1)
    penalty = np.full(p + 1, alpha)
    penalty[0] = 0.0
    beta = np.zeros((counts.shape[1], p + 1))
    beta[:, 0] = np.log(counts.mean(axis=0))
    outer = (D[:, :, None] * D[:, None, :]).reshape(T, -1)  # (T, (p + 1)²): the Hessian is one matmul

    def objective(b: np.ndarray) -> np.ndarray:
        eta = np.clip(D @ b.T, -50.0, 50.0)
        return (np.exp(eta) - counts * eta).mean(axis=0) + 0.5 * (penalty * b**2).sum(axis=1)

    current = objective(beta)
    for _ in range(max_iter):
        lam = np.exp(np.clip(D @ beta.T, -50.0, 50.0))  # (T, N)
        grad = D.T @ (lam - counts) / T + (penalty * beta).T  # (p + 1, N)
        hess = (lam.T @ outer).reshape(-1, p + 1, p + 1) / T + np.diag(penalty)  # (N, p + 1, p + 1)
        step = np.linalg.solve(hess, grad.T[:, :, None])[:, :, 0]  # (N, p + 1)
        scale = np.ones(len(beta))
        for _ in range(30):  # halve the steps of the neurons whose objective did not decrease
            trial = beta - scale[:, None] * step
            value = objective(trial)
            worse = value > current + 1e-12 * np.abs(current)
            if not worse.any():
                break
            scale[worse] /= 2.0
        improvement = current - value
        beta, current = trial, value
        if np.all(improvement <= tol * np.maximum(np.abs(current), 1.0)):
            break
    return beta[:, 0], beta[:, 1:]


def _encoding_features(u: np.ndarray, model: str) -> np.ndarray:
    """Covariates of the tuning-curve GLM from standardised behaviour ``u`` ``(T, d)``."""
    if model == "linear":
        return u
    if model == "quadratic":
        cross = [u[:, [0]] * u[:, [1]]] if u.shape[1] == 2 else []
        return np.hstack([u, u**2, *cross])
    raise ValueError(f"encoding_model must be 'linear' or 'quadratic', got {model!r}.")


class NaiveBayesDecoder(DecoderMixin, BaseEstimator):
    """Poisson naive Bayes decoder of continuous kinematics on a grid, with an optional transition prior.

    **Encoding (fit).** For each neuron, the spike count in the history window (``X`` summed over its lags)
    is a Poisson GLM of the behaviour ``s`` (1 or 2 outputs, standardised): ``log lambda_n(s) = b_n +
    w_n . phi(s)`` with ``phi(s) = s`` (``"linear"``) or ``s, s², s_x s_y`` (``"quadratic"``, as upstream).
    The tuning curves are evaluated on a grid of ``grid_size`` values per output spanning the training
    range (``tuning_curves_``, shape ``(N, grid points)``).

    **Decoding (predict).** Each bin's log-likelihood over the grid is ``r . log lambda(s) - sum
    lambda(s)``. Without a transition prior, the posterior is likelihood x ``state_prior`` (how often
    training visited each grid point, or uniform). With ``transition_prior=True`` the decoder filters over
    time like an HMM: the prior of bin ``t`` is the posterior of bin ``t-1`` blurred by a Gaussian whose
    width per output is ``transition_scale`` x the root-mean-square change of that output between training
    bins. The estimate is the posterior mean (``estimate="mean"``, best for R²) or its mode (``"map"``).

    Differences from upstream (documented on purpose):

    * upstream needs the *true* first test value to start its filter (``predict(X, y_test)``): a leak of
      the test targets; here the filter starts from ``state_prior``;
    * upstream multiplies raw Poisson probabilities (underflows to 0 with many neurons) and calls
      ``math.factorial`` on the counts (fails on non-integers); here log-likelihoods are summed;
    * upstream's grid step is ``round((max - min) / res)``, 0 for outputs spanning less than ``res/2``
      units (no grid at all); here the grid always has ``grid_size`` points per output;
    * upstream builds a dense state-to-state matrix (``res⁴`` numbers, 800 MB at ``res=100``) and follows
      only the single most likely previous state; here the blur is separable (two small matrices) and the
      whole posterior is carried forward.

    Parameters
    ----------
    encoding_model
        ``"quadratic"`` (upstream's default) or ``"linear"`` (log-linear tuning, e.g. cosine tuning).
    grid_size
        Grid points per output (``grid_size²`` states for two outputs).
    transition_prior
        Filter over time with the Gaussian transition prior (order of rows matters then).
    transition_scale
        Multiplies the width of the transition prior (tune it on validation data).
    state_prior
        ``"occupancy"`` (training histogram on the grid, plus one) or ``"uniform"``.
    estimate
        ``"mean"`` or ``"map"``.
    alpha
        L2 penalty of the tuning-curve GLMs, as in :class:`sklearn.linear_model.PoissonRegressor` (whose
        objective they minimise, for all neurons at once).
    sum_lags
        Sum ``X`` over its lag axis (the window's count, as upstream); False treats every (lag, neuron)
        as its own Poisson feature.

    Attributes
    ----------
    grid_ : ndarray of shape (grid points, outputs)
    grid_axes_ : list of ndarray
        The grid values of each output.
    tuning_curves_ : ndarray of shape (features, grid points)
        Expected count of each neuron in a window at each grid point.
    log_state_prior_ : ndarray of shape (grid points,)
    transition_std_ : ndarray of shape (outputs,)
        Width of the transition prior per output, in the units of ``y``.

    Examples
    --------
    >>> from course_utils.decoding.simulate import simulate_poisson_population
    >>> sim = simulate_poisson_population(n_bins=3000, seed=0)
    >>> dec = NaiveBayesDecoder(encoding_model="linear", grid_size=25).fit(sim["X"][:2000], sim["y"][:2000])
    >>> bool(dec.score(sim["X"][2000:], sim["y"][2000:]) > 0.6)
    True

    Taught in chapter 08_decoding_baselines.
    """

    def __init__(
        self,
        encoding_model: str = "quadratic",
        grid_size: int = 40,
        transition_prior: bool = True,
        transition_scale: float = 1.0,
        state_prior: str = "occupancy",
        estimate: str = "mean",
        alpha: float = 1e-4,
        sum_lags: bool = True,
    ):
        self.encoding_model = encoding_model
        self.grid_size = grid_size
        self.transition_prior = transition_prior
        self.transition_scale = transition_scale
        self.state_prior = state_prior
        self.estimate = estimate
        self.alpha = alpha
        self.sum_lags = sum_lags

    def _check_params(self) -> None:
        if not (isinstance(self.grid_size, (int, np.integer)) and self.grid_size >= 2):
            raise ValueError(f"grid_size must be an integer >= 2, got {self.grid_size!r}.")
        if self.state_prior not in ("occupancy", "uniform"):
            raise ValueError(f"state_prior must be 'occupancy' or 'uniform', got {self.state_prior!r}.")
        if self.estimate not in ("mean", "map"):
            raise ValueError(f"estimate must be 'mean' or 'map', got {self.estimate!r}.")
        if not self.transition_scale > 0:
            raise ValueError(f"transition_scale must be > 0, got {self.transition_scale!r}.")

    # -- fit -----------------------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray) -> NaiveBayesDecoder:
        """Fit one Poisson tuning curve per neuron on ``X`` (counts) and ``y`` (1 or 2 outputs)."""
        self._check_params()
        self._remember_target_shape(y)
        X, y = check_Xy(X, y)
        if y.shape[1] > 2:
            raise ValueError(
                f"NaiveBayesDecoder decodes 1 or 2 outputs (a grid of grid_size^outputs states), got "
                f"{y.shape[1]}: decode e.g. the x and y velocity together, other outputs separately."
            )
        if len(y) < 2:
            raise ValueError(f"Too few bins ({len(y)} sample(s)) to fit tuning curves.")
        counts = _counts(X, self.sum_lags, "NaiveBayesDecoder")
        self.input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = int(np.prod(self.input_shape_))
        self.n_outputs_ = y.shape[1]
        self.y_mean_ = y.mean(axis=0)
        self.y_scale_ = np.where((s := y.std(axis=0)) > 0, s, 1.0)

        lo, hi = y.min(axis=0), y.max(axis=0)
        hi = np.where(hi > lo, hi, lo + 1.0)
        self.grid_axes_ = [np.linspace(a, b, self.grid_size) for a, b in zip(lo, hi, strict=True)]
        mesh = np.meshgrid(*self.grid_axes_, indexing="ij")
        self.grid_ = np.stack([m.ravel() for m in mesh], axis=1)

        design = _encoding_features((y - self.y_mean_) / self.y_scale_, self.encoding_model)
        grid_design = _encoding_features((self.grid_ - self.y_mean_) / self.y_scale_, self.encoding_model)
        self.coef_ = np.zeros((counts.shape[1], design.shape[1]))
        self.intercept_ = np.full(counts.shape[1], np.log(_RATE_FLOOR))
        active = counts.any(axis=0)  # a neuron silent in training keeps the floor rate everywhere
        if active.any():
            self.intercept_[active], self.coef_[active] = _poisson_glm(design, counts[:, active], self.alpha)
        log_rates = np.clip(self.intercept_[:, None] + self.coef_ @ grid_design.T, np.log(_RATE_FLOOR), 50.0)
        self.tuning_curves_ = np.exp(log_rates)

        if self.state_prior == "occupancy":
            step = np.array([a[1] - a[0] for a in self.grid_axes_])
            index = np.clip(np.rint((y - lo) / step).astype(int), 0, self.grid_size - 1)
            flat = np.ravel_multi_index(tuple(index.T), (self.grid_size,) * self.n_outputs_)
            occupancy = np.bincount(flat, minlength=len(self.grid_)) + 1.0
        else:
            occupancy = np.ones(len(self.grid_))
        self.log_state_prior_ = np.log(occupancy / occupancy.sum())
        self.transition_std_ = self.transition_scale * np.sqrt(np.mean(np.diff(y, axis=0) ** 2, axis=0))
        return self

    # -- decode --------------------------------------------------------------------------------------
    def _kernels(self) -> list[np.ndarray]:
        """Per-output transition matrices ``K[i, j] = p(next = g_i | now = g_j)`` (columns sum to 1)."""
        kernels = []
        for axis, std in zip(self.grid_axes_, self.transition_std_, strict=True):
            if std <= 0:
                kernels.append(np.eye(len(axis)))
                continue
            k = np.exp(-0.5 * ((axis[:, None] - axis[None, :]) / std) ** 2)
            kernels.append(k / k.sum(axis=0, keepdims=True))
        return kernels

    def _log_likelihood(self, counts: np.ndarray) -> np.ndarray:
        """``(rows, grid points)`` Poisson log-likelihood, up to a constant per row (no ``log r!``)."""
        return counts @ np.log(self.tuning_curves_) - self.tuning_curves_.sum(axis=0)

    def _decode(self, X: np.ndarray, keep_posterior: bool) -> tuple[np.ndarray, np.ndarray | None]:
        X = check_fitted_X(self, X, "tuning_curves_")
        counts = _counts(X, self.sum_lags, "NaiveBayesDecoder")
        n_rows, n_states = len(counts), len(self.grid_)
        estimates = np.empty((n_rows, self.n_outputs_))
        posterior = np.empty((n_rows, n_states)) if keep_posterior else None
        kernels = self._kernels() if self.transition_prior else None
        shape = (self.grid_size,) * self.n_outputs_
        prior = np.exp(self.log_state_prior_)
        previous = None
        for start in range(0, n_rows, _CHUNK):
            rows = slice(start, min(start + _CHUNK, n_rows))
            loglik = self._log_likelihood(counts[rows])
            if kernels is None:
                logp = loglik + self.log_state_prior_
                post = np.exp(logp - logp.max(axis=1, keepdims=True))
                post /= post.sum(axis=1, keepdims=True)
            else:
                like = np.exp(loglik - loglik.max(axis=1, keepdims=True))
                post = np.empty_like(like)
                for i in range(len(like)):  # a recursion: each bin's prior is the previous posterior
                    if previous is None:
                        pred = prior
                    elif len(kernels) == 1:
                        pred = kernels[0] @ previous
                    else:
                        pred = (kernels[0] @ previous.reshape(shape) @ kernels[1].T).ravel()
                    q = pred * like[i]
                    total = q.sum()
                    # the data contradict the prior completely (underflow): restart from the likelihood
                    previous = q / total if total > 0 else like[i] / like[i].sum()
                    post[i] = previous
            if self.estimate == "mean":
                estimates[rows] = post @ self.grid_
            else:
                estimates[rows] = self.grid_[np.argmax(post, axis=1)]
            if posterior is not None:
                posterior[rows] = post
        return estimates, posterior

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Decoded outputs, shape ``(T, outputs)`` (``(T,)`` if ``y`` was 1-D); rows in time order."""
        return self._shape_output(self._decode(X, keep_posterior=False)[0])

    def posterior(self, X: np.ndarray) -> np.ndarray:
        """The posterior over the grid for each row, ``(T, grid points)`` (reshape to ``(T, *grid shape)``).

        Memory grows as ``T x grid points``: pass a slice of a long session (e.g. 500 bins).
        """
        return self._decode(X, keep_posterior=True)[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags


class NaiveBayesClassifier(ClassifierMixin, BaseEstimator):
    """Poisson naive Bayes classifier: each class has a mean count per neuron (its tuning to the class).

    For class ``k`` and feature ``f`` (a neuron's count in the window, or in each bin of it with
    ``sum_lags=False``), the Poisson mean is estimated with shrinkage towards the feature's overall mean:
    ``lambda_kf = (S_kf + alpha * m_f) / (n_k + alpha)``, where ``S_kf`` is the summed count over the
    ``n_k`` training trials of class ``k``; ``alpha`` acts as that many pseudo-trials, which matters with a
    handful of trials per class. The posterior is ``log p(k | r) = const + log pi_k + sum_f [r_f log
    lambda_kf - lambda_kf]``, with ``pi`` the training class frequencies (``fit_prior=True``) or uniform.

    Parameters
    ----------
    alpha
        Pseudo-trials of shrinkage towards each feature's overall mean (>= 0).
    sum_lags
        Sum ``X`` over its lag axis (one count per neuron and trial); False keeps one feature per bin.
    fit_prior
        Learn the class prior from the training labels (else uniform).

    Attributes
    ----------
    classes_ : ndarray
    rates_ : ndarray of shape (classes, features)
        Expected count of each feature for each class.
    class_log_prior_ : ndarray of shape (classes,)

    Examples
    --------
    >>> rng = np.random.default_rng(0); labels = rng.integers(0, 3, 200)
    >>> X = rng.poisson(1.0 + 4.0 * (labels[:, None] == np.arange(3)), (200, 3))
    >>> NaiveBayesClassifier().fit(X[:150], labels[:150]).score(X[150:], labels[150:]) > 0.8
    True

    Taught in chapter 08_decoding_baselines.
    """

    def __init__(self, alpha: float = 1.0, sum_lags: bool = True, fit_prior: bool = True):
        self.alpha = alpha
        self.sum_lags = sum_lags
        self.fit_prior = fit_prior

    def fit(self, X: np.ndarray, y: np.ndarray) -> NaiveBayesClassifier:
        """Estimate each class's mean count per feature from ``X`` (counts) and labels ``y``."""
        if not self.alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha!r}.")
        X, y = check_X_labels(X, y)
        counts = _counts(X, self.sum_lags, "NaiveBayesClassifier")
        self.input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = int(np.prod(self.input_shape_))
        self.classes_, index = np.unique(y, return_inverse=True)
        n_per_class = np.bincount(index, minlength=len(self.classes_)).astype(float)
        sums = np.zeros((len(self.classes_), counts.shape[1]))
        np.add.at(sums, index, counts)
        overall = counts.mean(axis=0)
        self.rates_ = np.maximum((sums + self.alpha * overall) / (n_per_class[:, None] + self.alpha), _RATE_FLOOR)
        prior = n_per_class / n_per_class.sum() if self.fit_prior else np.full(len(self.classes_), 1.0)
        self.class_log_prior_ = np.log(prior / prior.sum())
        return self

    def predict_log_proba(self, X: np.ndarray) -> np.ndarray:
        """Log posterior of each class in ``classes_``, shape ``(T, n_classes)``."""
        X = check_fitted_X(self, X, "rates_")
        counts = _counts(X, self.sum_lags, "NaiveBayesClassifier")
        joint = counts @ np.log(self.rates_).T - self.rates_.sum(axis=1) + self.class_log_prior_
        return joint - logsumexp(joint, axis=1, keepdims=True)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Posterior probability of each class in ``classes_``, shape ``(T, n_classes)``."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class of each row, shape ``(T,)``."""
        best = np.argmax(self.predict_log_proba(X), axis=1)
        return self.classes_[best]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags
