"""Simulated decoding problems with known answers (used by the tests, the chapter and the benchmark).

Each function returns a dict of arrays plus the analytic best-possible R² where one exists, so a decoder can
be checked against the ceiling rather than against a number someone once measured.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_discrete_are, solve_discrete_lyapunov

__all__ = [
    "simulate_linear_gaussian",
    "simulate_static_nonlinearity",
    "simulate_linear_dynamical_system",
    "kalman_r2_ceiling",
    "simulate_delay_task",
    "simulate_poisson_population",
    "simulate_reach_targets",
]


def simulate_linear_gaussian(
    n_bins: int = 20_000,
    n_lags: int = 3,
    n_neurons: int = 10,
    n_outputs: int = 2,
    noise_std: float = 1.0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Targets that are a linear filter of white Gaussian inputs plus Gaussian noise.

    ``y[t] = sum_{lag, n} W[lag, n] x[t, lag, n] + e[t]`` with ``x ~ N(0, 1)`` i.i.d. and ``e ~ N(0,
    noise_std²)``. The best any decoder can do is the true filter, whose R² is
    ``||W_i||² / (||W_i||² + noise_std²)`` per output: the returned ``r2_ceiling``.

    Returns
    -------
    dict
        ``X`` (n_bins, n_lags, n_neurons), ``y`` (n_bins, n_outputs), ``weights`` (n_outputs, n_lags,
        n_neurons), ``r2_ceiling`` (n_outputs,).

    Examples
    --------
    >>> sim = simulate_linear_gaussian(n_bins=100, seed=1)
    >>> sim["X"].shape, sim["y"].shape, bool((sim["r2_ceiling"] < 1).all())
    ((100, 3, 10), (100, 2), True)

    Taught in chapter 08_decoding_baselines.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_bins, n_lags, n_neurons))
    weights = rng.normal(scale=1.0 / np.sqrt(n_lags * n_neurons), size=(n_outputs, n_lags, n_neurons))
    signal = np.einsum("tln,oln->to", X, weights)
    y = signal + rng.normal(scale=noise_std, size=signal.shape)
    power = (weights**2).sum(axis=(1, 2))
    return {"X": X, "y": y, "weights": weights, "r2_ceiling": power / (power + noise_std**2)}


def simulate_static_nonlinearity(
    n_bins: int = 10_000, n_neurons: int = 8, noise_std: float = 0.1, seed: int = 0
) -> dict[str, np.ndarray]:
    """A linear-nonlinear target: ``y = f(x · w) + noise`` with ``f(u) = u + 0.5 u³`` (one output).

    A linear decoder can only capture the part of ``f`` that is linear in ``u``; a cascade with a cubic
    nonlinearity can represent ``f`` exactly, so its R² approaches ``var(f(u)) / (var(f(u)) + noise²)``
    (returned as ``r2_ceiling``, computed from Gaussian moments: ``u ~ N(0, 1)``).

    Examples
    --------
    >>> sim = simulate_static_nonlinearity(n_bins=50)
    >>> sim["X"].shape, sim["y"].shape
    ((50, 8), (50, 1))

    Taught in chapter 08_decoding_baselines.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_bins, n_neurons))
    w = rng.normal(size=n_neurons)
    w /= np.linalg.norm(w)  # u = X @ w ~ N(0, 1)
    u = X @ w
    y = (u + 0.5 * u**3 + rng.normal(scale=noise_std, size=n_bins))[:, None]
    # var(u + 0.5u³) = E[u²] + E[u⁴] + 0.25 E[u⁶] = 1 + 3 + 0.25 * 15
    var_f = 1 + 3 + 0.25 * 15
    return {"X": X, "y": y, "weights": w, "r2_ceiling": np.array([var_f / (var_f + noise_std**2)])}


def kalman_r2_ceiling(A: np.ndarray, W: np.ndarray, H: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Steady-state R² of the exact Kalman filter for ``s[t] = A s[t-1] + w``, ``z[t] = H s[t] + q``.

    The stationary state covariance ``Sigma`` solves ``Sigma = A Sigma A^T + W`` (discrete Lyapunov); the
    filter's steady-state posterior covariance ``P`` comes from the discrete algebraic Riccati equation.
    No linear estimator can beat ``1 - P_ii / Sigma_ii`` for state ``i``.

    Examples
    --------
    >>> A = np.array([[0.9]]); W = np.array([[0.19]]); H = np.array([[1.0]]); Q = np.array([[1.0]])
    >>> float(kalman_r2_ceiling(A, W, H, Q)[0]) > 0.5
    True

    Taught in chapter 08_decoding_baselines.
    """
    sigma = solve_discrete_lyapunov(A, W)
    P_pred = solve_discrete_are(A.T, H.T, W, Q)
    S = H @ P_pred @ H.T + Q
    P_post = P_pred - P_pred @ H.T @ np.linalg.solve(S, H @ P_pred)
    return 1.0 - np.diag(P_post) / np.diag(sigma)


def simulate_linear_dynamical_system(
    n_bins: int = 20_000, n_neurons: int = 20, obs_noise_std: float = 3.0, seed: int = 0
) -> dict[str, np.ndarray]:
    """A 2-D rotating, damped "velocity" observed through a noisy linear population (a Kalman filter's world).

    ``s[t] = A s[t-1] + w[t]`` with ``A`` a rotation by 0.1 rad scaled by 0.97 and ``w ~ N(0, I)``;
    ``z[t] = b + H s[t] + q[t]`` with ``q ~ N(0, obs_noise_std² I)``. Each neuron alone is a poor readout,
    so filtering through the dynamics matters. ``r2_ceiling`` is :func:`kalman_r2_ceiling` of the true model.

    Returns
    -------
    dict
        ``X`` (n_bins, n_neurons), ``y`` (n_bins, 2), ``A``, ``W``, ``H``, ``Q``, ``r2_ceiling``.

    Examples
    --------
    >>> sim = simulate_linear_dynamical_system(n_bins=100)
    >>> sim["X"].shape, sim["y"].shape
    ((100, 20), (100, 2))

    Taught in chapter 08_decoding_baselines.
    """
    rng = np.random.default_rng(seed)
    theta = 0.1
    A = 0.97 * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    W = np.eye(2)
    H = rng.normal(size=(n_neurons, 2)) * 0.5
    Q = obs_noise_std**2 * np.eye(n_neurons)
    s = np.zeros((n_bins, 2))
    noise = rng.normal(size=(n_bins, 2))
    s[0] = rng.multivariate_normal(np.zeros(2), solve_discrete_lyapunov(A, W))
    for t in range(1, n_bins):  # a recursion: each state needs the previous one
        s[t] = A @ s[t - 1] + noise[t]
    baseline = rng.uniform(2, 6, size=n_neurons)
    X = baseline + s @ H.T + rng.normal(scale=obs_noise_std, size=(n_bins, n_neurons))
    return {"X": X, "y": s, "A": A, "W": W, "H": H, "Q": Q, "r2_ceiling": kalman_r2_ceiling(A, W, H, Q)}


def simulate_delay_task(
    n_bins: int = 3000, n_lags: int = 5, n_neurons: int = 4, delay: int = 3, seed: int = 0
) -> dict[str, np.ndarray]:
    """A temporal task: the target is a nonlinear function of inputs ``delay`` bins in the past.

    ``X`` holds overlapping history windows of a white-noise sequence (``X[t, k] = x[t - n_lags + 1 + k]``,
    the layout of NeuroTask's ``process_data``); ``y[t] = tanh(2 x[t - delay, 0]) * x[t - delay, 1]`` has no
    noise, so the ceiling is R² = 1 and the current bin alone carries no information about it.

    Examples
    --------
    >>> sim = simulate_delay_task(n_bins=20)
    >>> sim["X"].shape, sim["y"].shape
    ((20, 5, 4), (20, 1))

    Taught in chapter 08_decoding_baselines.
    """
    if not 0 <= delay < n_lags:
        raise ValueError(f"delay must be in [0, n_lags), got delay={delay}, n_lags={n_lags}.")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_bins + n_lags - 1, n_neurons))
    X = np.lib.stride_tricks.sliding_window_view(x, n_lags, axis=0).transpose(0, 2, 1).copy()
    past = X[:, n_lags - 1 - delay]
    y = (np.tanh(2 * past[:, 0]) * past[:, 1])[:, None]
    return {"X": X.astype(np.float32), "y": y}


def simulate_poisson_population(
    n_bins: int = 20_000,
    n_neurons: int = 30,
    base_count: float = 1.0,
    depth: float = 0.8,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Poisson spike counts from known log-linear tuning to a smooth 2-D velocity (a naive Bayes world).

    The velocity ``y`` follows the damped rotation of :func:`simulate_linear_dynamical_system`, scaled to unit
    standard deviation per output (so it changes little between bins). Neuron ``n`` has the tuning curve
    ``lambda_n(y) = base_count * exp(depth * (y_x cos(theta_n) + y_y sin(theta_n)) + c_n)``: cosine tuning
    to the direction, growing with speed, as in motor cortex models (and in the NeuroTask demo simulator).
    Counts are independent Poisson given ``y``: exactly the model of
    :class:`~course_utils.decoding.NaiveBayesDecoder` with ``encoding_model="linear"``.

    Returns
    -------
    dict
        ``X`` (n_bins, n_neurons) counts (float64), ``y`` (n_bins, 2), ``intercept`` (n_neurons,) and
        ``weights`` (n_neurons, 2) of the true log-rates (``log lambda = intercept + y @ weights.T``).

    Examples
    --------
    >>> sim = simulate_poisson_population(n_bins=100, n_neurons=5)
    >>> sim["X"].shape, sim["y"].shape, bool((sim["X"] >= 0).all())
    ((100, 5), (100, 2), True)

    Taught in chapter 08_decoding_baselines.
    """
    rng = np.random.default_rng(seed)
    theta = 0.05
    A = 0.995 * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    s = np.zeros((n_bins, 2))
    noise = rng.normal(size=(n_bins, 2))
    s[0] = rng.multivariate_normal(np.zeros(2), solve_discrete_lyapunov(A, np.eye(2)))
    for t in range(1, n_bins):  # a recursion: each state needs the previous one
        s[t] = A @ s[t - 1] + noise[t]
    y = s / np.sqrt(np.diag(solve_discrete_lyapunov(A, np.eye(2))))
    preferred = rng.uniform(-np.pi, np.pi, n_neurons)
    weights = depth * np.stack([np.cos(preferred), np.sin(preferred)], axis=1)
    intercept = np.log(base_count) + rng.normal(0.0, 0.3, n_neurons)
    rates = np.exp(intercept + y @ weights.T)
    X = rng.poisson(rates).astype(np.float64)
    return {"X": X, "y": y, "intercept": intercept, "weights": weights}


def simulate_reach_targets(
    n_trials: int = 400,
    n_targets: int = 8,
    n_bins: int = 10,
    n_neurons: int = 30,
    base_count: float = 0.5,
    depth: float = 0.7,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Trials of spike counts tuned to one of ``n_targets`` reach directions, with the best possible accuracy.

    Each trial has a target direction ``d`` (labels in degrees: 0, 45, ... for 8 targets), drawn uniformly.
    Neuron ``n`` in bin ``b`` of the window fires Poisson counts with mean ``base_count * exp(depth * g_b *
    cos(d - theta_n))``, where ``g_b`` ramps from 0 to 1 over the window (tuning builds up before the
    movement). ``bayes_accuracy`` is the accuracy of the ideal classifier (the true rates, Bayes' rule,
    uniform prior) estimated on 20,000 fresh trials: no decoder can beat it on average.

    Returns
    -------
    dict
        ``X`` (n_trials, n_bins, n_neurons) counts, ``labels`` (n_trials,) in degrees, ``rates``
        (n_targets, n_bins, n_neurons) true means, ``bayes_accuracy`` (float).

    Examples
    --------
    >>> sim = simulate_reach_targets(n_trials=50)
    >>> sim["X"].shape, sorted(set(sim["labels"].tolist()))[:3], 1 / 8 < sim["bayes_accuracy"] <= 1
    ((50, 10, 30), [0, 45, 90], True)

    Taught in chapter 08_decoding_baselines.
    """
    rng = np.random.default_rng(seed)
    directions = np.arange(n_targets) * 360 // n_targets
    preferred = rng.uniform(-np.pi, np.pi, n_neurons)
    ramp = np.linspace(0.0, 1.0, n_bins)
    cos = np.cos(np.deg2rad(directions)[:, None] - preferred[None, :])  # (targets, neurons)
    rates = base_count * np.exp(depth * ramp[None, :, None] * cos[:, None, :])  # (targets, bins, neurons)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        which = rng.integers(0, n_targets, n)
        return rng.poisson(rates[which]).astype(np.float64), which

    X, which = draw(n_trials)
    fresh, fresh_which = draw(20_000)
    flat = rates.reshape(n_targets, -1)
    loglik = fresh.reshape(len(fresh), -1) @ np.log(flat).T - flat.sum(axis=1)
    bayes = float(np.mean(np.argmax(loglik, axis=1) == fresh_which))
    return {"X": X, "labels": directions[which], "rates": rates, "bayes_accuracy": bayes}
