"""The Sensorium 2023 metrics: single-trial correlation, correlation to average, and a noise ceiling.

The competition's single-trial correlation: drop the first 50 frames of every trial (the model has not yet
seen enough of the video) and everything after frame 300 (only the first 300 frames count), concatenate the
trials along time, take Pearson's correlation per neuron (population std, ``ddof=0``, with ``eps=1e-8`` added
to each std), set NaN to 0, and average over neurons. It agrees with the starter kit's scoring formula to
1e-15. The starter kit pools the neurons of all mice; the winners reported the mean over mice: both are
returned by :func:`score_mice`.

**Raw or normalised responses.** The organisers' evaluation, like neuralpredictors' ``NeuroNormalizer``,
standardises the responses by the std released with each mouse (``meta/statistics/responses/all/std.npy``,
with a floor at 1 % of the mean std for near-silent neurons): pass that array as ``response_std`` to score
on normalised responses. With a per-neuron std the two scores are the same (Pearson's correlation does not
change when a neuron's trace is scaled); with a std that carries a frame axis every frame is scaled by its
own value and the scores differ.

**Repeats of different lengths.** In the real recordings the repeats of one clip can differ by 1-2 frames
(the recording, not the clip, sets the count). :func:`correlation_to_average` and :func:`noise_ceiling`
align the repeats of each clip at their first frame and cut them to the shortest repeat before averaging
(:func:`align_repeats`); the frames only some repeats have are left out.

Taught in chapter 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..stats import EPS, pearson_r
from .reader import SCORED_FRAMES

SKIP_FIRST_FRAMES = 50
"""Frames at the start of each trial that the metric ignores (and that a submission leaves out)."""
NORMALIZATION_THRESHOLD = 0.01
"""Stds below this fraction of the mean std are replaced by it when normalising (as neuralpredictors does)."""


def _as_trials(x) -> list[np.ndarray]:
    if isinstance(x, np.ndarray) and x.ndim == 2:
        return [np.asarray(x, dtype=np.float64)]
    return [np.asarray(t, dtype=np.float64) for t in x]


def valid_length(trial: np.ndarray) -> int:
    """Frames of a (neurons, frames) trial before its NaN padding (trailing frames where every value is NaN).

    Examples
    --------
    >>> valid_length(np.array([[1.0, 2.0, np.nan], [0.0, 1.0, np.nan]]))
    2

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    filled = np.flatnonzero(~np.isnan(np.asarray(trial)).all(axis=0))
    return int(filled[-1] + 1) if filled.size else 0


def response_precision(std: np.ndarray, threshold: float = NORMALIZATION_THRESHOLD) -> np.ndarray:
    """``1 / std``, with stds at or below ``threshold`` x their mean replaced by that floor (neuralpredictors' rule).

    ``std`` is per neuron (neurons,) or per neuron and frame (neurons, frames); the floor is ``threshold``
    times the mean of every finite entry.

    Examples
    --------
    >>> response_precision(np.array([2.0, 0.0, 4.0]))
    array([ 0.5 , 50.  ,  0.25])

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    std = np.asarray(std, dtype=np.float64)
    floor = threshold * float(np.nanmean(std))
    if not np.isfinite(floor) or floor <= 0:
        raise ValueError("response_precision needs a std with some positive finite values.")
    safe = np.where(np.isfinite(std) & (std > floor), std, floor)
    return 1.0 / safe


def normalize_responses(responses: np.ndarray, std: np.ndarray, threshold: float = NORMALIZATION_THRESHOLD) -> np.ndarray:
    """Responses (neurons, frames) times :func:`response_precision` of ``std``, as the organisers scored them.

    A per-frame ``std`` (neurons, F) applies frame by frame from the trial's first frame; it must cover at
    least the trial's first :data:`SCORED_FRAMES` frames (the ones that count); later frames it does not cover
    come back NaN.

    Examples
    --------
    >>> normalize_responses(np.array([[2.0, 4.0]]), np.array([2.0]))
    array([[1., 2.]])

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    responses = np.asarray(responses, dtype=np.float64)
    precision = response_precision(std, threshold)
    if precision.ndim == 1:
        if precision.shape[0] != responses.shape[0]:
            raise ValueError(f"std has {precision.shape[0]} neurons but the responses have {responses.shape[0]}.")
        return responses * precision[:, None]
    frames, covered = responses.shape[-1], min(responses.shape[-1], precision.shape[-1])
    if precision.shape[0] != responses.shape[0] or covered < min(frames, SCORED_FRAMES):
        raise ValueError(f"A per-frame std of shape {precision.shape} cannot normalise responses of shape "
                         f"{responses.shape}: it needs one row per neuron and at least {min(frames, SCORED_FRAMES)} "
                         "frames.")
    out = np.full_like(responses, np.nan)  # frames past the std's last frame cannot be normalised
    out[:, :covered] = responses[:, :covered] * precision[:, :covered]
    return out


def _normalized(trials: list[np.ndarray], response_std: np.ndarray | None) -> list[np.ndarray]:
    return trials if response_std is None else [normalize_responses(t, response_std) for t in trials]


def _concat(predictions, responses, skip_first_frames: int, max_frames: int | None) -> tuple[np.ndarray, np.ndarray]:
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
        if max_frames is not None:
            valid[max_frames:] = False
        kept_p.append(p[:, valid])
        kept_r.append(r[:, valid])
    return np.concatenate(kept_p, axis=1), np.concatenate(kept_r, axis=1)


def pearson_per_neuron(x: np.ndarray, y: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Pearson correlation of each row of ``x`` with the same row of ``y`` (ddof 0, eps on each std, NaN -> 0).

    :func:`course_utils.stats.pearson_r` along the last axis (frames): the scoring code's convention, which is
    the course's one rule for correlations (a constant row scores 0).

    Examples
    --------
    >>> pearson_per_neuron(np.array([[1., 2., 3.]]), np.array([[2., 4., 7.]])).round(4)
    array([0.9934])

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    return pearson_r(x, y, axis=-1, eps=eps)


def single_trial_correlation(
    predictions: Sequence[np.ndarray] | np.ndarray,
    responses: Sequence[np.ndarray] | np.ndarray,
    skip_first_frames: int = SKIP_FIRST_FRAMES,
    per_neuron: bool = False,
    max_frames: int | None = SCORED_FRAMES,
    response_std: np.ndarray | None = None,
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
    max_frames
        Frames from this one on are dropped (:data:`SCORED_FRAMES`: only the first 300 count); ``None`` keeps all.
    response_std
        The mouse's released response std, (neurons,) or (neurons, frames): score the responses normalised by
        it (:func:`normalize_responses`), as the organisers did. ``None`` scores the raw responses.

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
    p, r = _concat(predictions, _normalized(_as_trials(responses), response_std), skip_first_frames, max_frames)
    corr = pearson_per_neuron(p, r)
    return corr if per_neuron else float(corr.mean())


def align_repeats(
    trials: Sequence[np.ndarray] | np.ndarray,
    condition_hash: Sequence[str],
    lengths: Sequence[int] | None = None,
) -> dict[str, tuple[list[int], int]]:
    """Group trials by ``condition_hash``; for each clip, its trials and the common length of its repeats.

    A trial's length is :func:`valid_length` (frames before its NaN padding) unless ``lengths`` gives it; the
    common length is the shortest repeat's: aligned at their first frame, all repeats have those frames.

    Examples
    --------
    >>> trials = [np.ones((1, 5)), np.ones((1, 4)), np.ones((1, 6))]
    >>> align_repeats(trials, ["a", "a", "b"])
    {'a': ([0, 1], 4), 'b': ([2], 6)}

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    trials = _as_trials(trials)
    if len(condition_hash) != len(trials):
        raise ValueError(f"condition_hash has {len(condition_hash)} entries for {len(trials)} trials: one per trial.")
    sizes = [valid_length(t) for t in trials] if lengths is None else [int(n) for n in lengths]
    groups: dict[str, list[int]] = {}
    for i, h in enumerate(condition_hash):
        groups.setdefault(str(h), []).append(i)
    return {h: (members, min(sizes[i] for i in members)) for h, members in groups.items()}


def correlation_to_average(
    predictions: Sequence[np.ndarray] | np.ndarray,
    responses: Sequence[np.ndarray] | np.ndarray,
    condition_hash: Sequence[str],
    skip_first_frames: int = SKIP_FIRST_FRAMES,
    per_neuron: bool = False,
    max_frames: int | None = SCORED_FRAMES,
    response_std: np.ndarray | None = None,
) -> float | np.ndarray:
    """Correlation after averaging responses (and predictions) over the repeats of each ``condition_hash``.

    Averaging removes trial-to-trial noise, so this is higher than the single-trial correlation; it asks how
    well the model captures the stimulus-driven part. Repeats of different lengths are aligned at their first
    frame and cut to the shortest (:func:`align_repeats`). Other parameters as :func:`single_trial_correlation`.

    Examples
    --------
    >>> r = [np.array([[0., 1., 2.]]), np.array([[0., 3., 2., 5.]])]
    >>> p = [np.array([[0., 2., 2.]]), np.array([[0., 2., 2., 9.]])]
    >>> round(correlation_to_average(p, r, ["a", "a"], skip_first_frames=0), 4)
    1.0

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    preds = _as_trials(predictions)
    resps = _normalized(_as_trials(responses), response_std)
    if len(preds) != len(resps):
        raise ValueError(f"predictions has {len(preds)} trials but responses has {len(resps)}.")
    mean_p, mean_r = [], []
    for members, common in align_repeats(resps, condition_hash).values():
        mean_p.append(np.mean([preds[i][:, :common] for i in members], axis=0))
        mean_r.append(np.mean([resps[i][:, :common] for i in members], axis=0))
    return single_trial_correlation(mean_p, mean_r, skip_first_frames, per_neuron, max_frames)


def noise_ceiling(
    responses: Sequence[np.ndarray] | np.ndarray,
    condition_hash: Sequence[str],
    skip_first_frames: int = SKIP_FIRST_FRAMES,
    per_neuron: bool = False,
    max_frames: int | None = SCORED_FRAMES,
    response_std: np.ndarray | None = None,
) -> float | np.ndarray:
    """The oracle correlation: each repeat against the mean of the *other* repeats of its clip.

    This is the single-trial correlation a model would get if it predicted the average response to the clip
    from independent repeats (leave-one-out), the usual noise ceiling for stimulus-driven models (Lurz et al.
    2021). Conditions with one trial are skipped; repeats of different lengths are aligned at their first frame
    and cut to the shortest (:func:`align_repeats`). A model that also uses behaviour can exceed it a little.

    Examples
    --------
    >>> r = [np.array([[0., 1., 2.]]), np.array([[0., 1., 2.]]), np.array([[1., 1., 2.]])]
    >>> round(noise_ceiling(r, ["a", "a", "a"], skip_first_frames=0), 2)
    0.84

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    trials = _normalized(_as_trials(responses), response_std)
    singles, loo_means = [], []
    for members, common in align_repeats(trials, condition_hash).values():
        if len(members) < 2:
            continue
        stack = np.stack([trials[i][:, :common] for i in members])
        total = stack.sum(axis=0)
        for k in range(len(members)):
            singles.append(stack[k])
            loo_means.append((total - stack[k]) / (len(members) - 1))
    if not singles:
        raise ValueError("noise_ceiling needs repeated clips (two or more trials sharing a condition_hash).")
    return single_trial_correlation(loo_means, singles, skip_first_frames, per_neuron, max_frames)


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
