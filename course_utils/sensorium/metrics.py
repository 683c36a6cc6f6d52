"""The Sensorium 2023 metrics: single-trial correlation, correlation to average, and a noise ceiling.

The competition's single-trial correlation: drop the first 50 frames of every trial (the model has not yet
seen enough of the video), concatenate the trials along time, take Pearson's correlation per neuron
(population std, ``ddof=0``, with ``eps=1e-8`` added to each std), set NaN to 0, and average over neurons.
The starter kit pools the neurons of all mice; the winners reported the mean over mice: both are returned by
:func:`score_mice`.

Taught in chapter 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

SKIP_FIRST_FRAMES = 50
"""Frames at the start of each trial that the metric ignores (and that a submission leaves out)."""
EPS = 1e-8


def _as_trials(x) -> list[np.ndarray]:
    if isinstance(x, np.ndarray) and x.ndim == 2:
        return [x]
    return [np.asarray(t, dtype=np.float64) for t in x]


def _concat(predictions, responses, skip_first_frames: int) -> tuple[np.ndarray, np.ndarray]:
    preds, resps = _as_trials(predictions), _as_trials(responses)
    if len(preds) != len(resps):
        raise ValueError(f"predictions has {len(preds)} trials but responses has {len(resps)}.")
    kept_p, kept_r = [], []
    for i, (p, r) in enumerate(zip(preds, resps, strict=True)):
        if p.shape != r.shape:
            raise ValueError(
                f"Trial {i}: predictions {p.shape} and responses {r.shape} differ; both must be (neurons, frames) "
                "over the same frames (pass full-length trials; the first frames are skipped here)."
            )
        valid = ~np.isnan(r).all(axis=0)  # NaN padding after the trial's end is not a frame
        valid[:skip_first_frames] = False
        kept_p.append(p[:, valid])
        kept_r.append(r[:, valid])
    return np.concatenate(kept_p, axis=1), np.concatenate(kept_r, axis=1)


def pearson_per_neuron(x: np.ndarray, y: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Pearson correlation of each row of ``x`` with the same row of ``y`` (ddof 0, eps on each std, NaN -> 0).

    Examples
    --------
    >>> pearson_per_neuron(np.array([[1., 2., 3.]]), np.array([[2., 4., 7.]])).round(4)
    array([0.9934])

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    xz = (x - x.mean(axis=-1, keepdims=True)) / (x.std(axis=-1, ddof=0, keepdims=True) + eps)
    yz = (y - y.mean(axis=-1, keepdims=True)) / (y.std(axis=-1, ddof=0, keepdims=True) + eps)
    return np.nan_to_num((xz * yz).mean(axis=-1), nan=0.0)


def single_trial_correlation(
    predictions: Sequence[np.ndarray] | np.ndarray,
    responses: Sequence[np.ndarray] | np.ndarray,
    skip_first_frames: int = SKIP_FIRST_FRAMES,
    per_neuron: bool = False,
) -> float | np.ndarray:
    """The competition's single-trial correlation for one mouse.

    Parameters
    ----------
    predictions, responses
        One (neurons, frames) array per trial (a list, or an array (trials, neurons, frames)), full length
        from the trial's first frame; frames where every response is NaN (padding) are dropped.
    skip_first_frames
        Frames dropped at the start of every trial (50 in the competition).
    per_neuron
        Return the per-neuron correlations instead of their mean.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> r = np.array([[[0., 1., 2., 1.]]]); p = np.array([[[9., 1., 2., 2.]]])
    >>> round(single_trial_correlation(p, r, skip_first_frames=1), 4)
    0.5

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    p, r = _concat(predictions, responses, skip_first_frames)
    corr = pearson_per_neuron(p, r)
    return corr if per_neuron else float(corr.mean())


def _group_means(trials: list[np.ndarray], condition_hash: Sequence[str]) -> list[np.ndarray]:
    groups: dict[str, list[np.ndarray]] = {}
    for trial, h in zip(trials, condition_hash, strict=True):
        groups.setdefault(str(h), []).append(trial)
    means = []
    for h, members in groups.items():
        lengths = {m.shape for m in members}
        if len(lengths) != 1:
            raise ValueError(f"Repeats of condition {h} have different shapes {sorted(lengths)}.")
        means.append(np.mean(members, axis=0))
    return means


def correlation_to_average(
    predictions: Sequence[np.ndarray] | np.ndarray,
    responses: Sequence[np.ndarray] | np.ndarray,
    condition_hash: Sequence[str],
    skip_first_frames: int = SKIP_FIRST_FRAMES,
    per_neuron: bool = False,
) -> float | np.ndarray:
    """Correlation after averaging responses (and predictions) over the repeats of each ``condition_hash``.

    Averaging removes trial-to-trial noise, so this is higher than the single-trial correlation; it asks how
    well the model captures the stimulus-driven part.

    Examples
    --------
    >>> r = [np.array([[0., 1., 2.]]), np.array([[0., 3., 2.]])]; p = [np.array([[0., 2., 2.]])] * 2
    >>> round(correlation_to_average(p, r, ["a", "a"], skip_first_frames=0), 4)
    1.0

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    if len(condition_hash) != len(_as_trials(responses)):
        raise ValueError("condition_hash needs one entry per trial.")
    mean_p = _group_means(_as_trials(predictions), condition_hash)
    mean_r = _group_means(_as_trials(responses), condition_hash)
    return single_trial_correlation(mean_p, mean_r, skip_first_frames, per_neuron)


def noise_ceiling(
    responses: Sequence[np.ndarray] | np.ndarray,
    condition_hash: Sequence[str],
    skip_first_frames: int = SKIP_FIRST_FRAMES,
    per_neuron: bool = False,
) -> float | np.ndarray:
    """The oracle correlation: each repeat against the mean of the *other* repeats of its clip.

    This is the single-trial correlation a model would get if it predicted the average response to the clip
    from independent repeats (leave-one-out), the usual noise ceiling for stimulus-driven models (Lurz et al.
    2021). Conditions with one trial are skipped. A model that also uses behaviour can exceed it a little.

    Examples
    --------
    >>> r = [np.array([[0., 1., 2.]]), np.array([[0., 1., 2.]]), np.array([[1., 1., 2.]])]
    >>> round(noise_ceiling(r, ["a", "a", "a"], skip_first_frames=0), 2)
    0.84

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    trials = _as_trials(responses)
    if len(condition_hash) != len(trials):
        raise ValueError("condition_hash needs one entry per trial.")
    groups: dict[str, list[int]] = {}
    for i, h in enumerate(condition_hash):
        groups.setdefault(str(h), []).append(i)
    singles, loo_means = [], []
    for members in groups.values():
        if len(members) < 2:
            continue
        stack = np.stack([trials[i] for i in members])
        total = stack.sum(axis=0)
        for k in range(len(members)):
            singles.append(stack[k])
            loo_means.append((total - stack[k]) / (len(members) - 1))
    if not singles:
        raise ValueError("noise_ceiling needs repeated clips (two or more trials sharing a condition_hash).")
    return single_trial_correlation(loo_means, singles, skip_first_frames, per_neuron)


def score_mice(per_mouse_correlations: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Summaries of per-neuron correlations of several mice: each mouse, the mean over mice, and pooled.

    ``pooled`` averages all neurons of all mice together (the starter kit); ``mean_over_mice`` averages the
    mice's means (the winners' reports).

    Examples
    --------
    >>> score_mice({"a": np.array([0.2, 0.4]), "b": np.array([0.6])})
    {'a': 0.3, 'b': 0.6, 'mean_over_mice': 0.45, 'pooled': 0.4}

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    out = {name: round(float(np.mean(c)), 12) for name, c in per_mouse_correlations.items()}
    out["mean_over_mice"] = round(float(np.mean([out[n] for n in per_mouse_correlations])), 12)
    out["pooled"] = round(float(np.concatenate([np.ravel(c) for c in per_mouse_correlations.values()]).mean()), 12)
    return out
