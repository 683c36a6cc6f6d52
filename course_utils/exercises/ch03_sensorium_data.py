"""Checks for chapter 03_sensorium_data (exercises 3.1-3.4). Hints, never answers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import ExerciseFeedback, exercise


@exercise("3.1", "True trial length")
def check_true_length(true_length: Callable[[np.ndarray], int]) -> None:
    cases = []
    for n_frames, valid in [(10, 10), (10, 7), (300, 151), (5, 1)]:
        video = np.ones((36, 64, n_frames), dtype=np.float32)
        video[..., valid:] = np.nan
        cases.append((video, valid))
    tricky = np.ones((4, 4, 8), dtype=np.float32)
    tricky[..., 5:] = np.nan
    tricky[2, 2, 1] = np.nan  # a NaN pixel elsewhere must not shorten the trial
    cases.append((tricky, 5))
    for video, expected in cases:
        got = true_length(video)
        if not isinstance(got, (int, np.integer)):
            raise ExerciseFeedback(f"return an int (a number of frames), not a {type(got).__name__}.")
        if got == expected:
            continue
        if video.shape[-1] != expected and got == video.shape[-1]:
            raise ExerciseFeedback("you returned the padded length: find the first NaN along the frame axis.")
        if got == expected - 1:
            raise ExerciseFeedback("off by one: the length is the index of the first NaN (frames are 0-based).")
        raise ExerciseFeedback(
            "wrong length: look at one pixel's time course, video[0, 0, :], and find its first NaN; a video "
            "without NaN has all its frames."
        )


@exercise("3.2", "Trials per tier")
def check_tier_counts(tier_counts, tiers: np.ndarray) -> None:
    if not hasattr(tier_counts, "items"):
        raise ExerciseFeedback("give a dict (or pandas Series) mapping each tier name to its number of trials.")
    answer = {str(k): int(v) for k, v in dict(tier_counts).items()}
    names, counts = np.unique(np.asarray(tiers).astype(str), return_counts=True)
    expected = dict(zip(names.tolist(), counts.tolist(), strict=True))
    if set(answer) != set(expected):
        missing = sorted(set(expected) - set(answer))
        raise ExerciseFeedback(f"the tiers are not all there (missing {len(missing)}); count every value of tiers.npy.")
    if answer != expected:
        raise ExerciseFeedback("some counts are off: count how many entries of tiers.npy equal each tier name.")


@exercise("3.3", "Repeats in the oracle tier")
def check_oracle_repeats(n_clips: int, repeats_per_clip, oracle_hashes: np.ndarray) -> None:
    _, counts = np.unique(np.asarray(oracle_hashes).astype(str), return_counts=True)
    if int(n_clips) == len(oracle_hashes) and len(counts) != len(oracle_hashes):
        raise ExerciseFeedback("n_clips counts trials, not clips: repeats share a condition_hash.")
    if int(n_clips) != len(counts):
        raise ExerciseFeedback("n_clips should be the number of distinct condition hashes among oracle trials.")
    got = np.sort(np.asarray(repeats_per_clip, dtype=int).ravel())
    if got.shape != counts.shape or not np.array_equal(got, np.sort(counts)):
        raise ExerciseFeedback("repeats_per_clip should hold, for each oracle clip, how many trials share its hash.")


@exercise("3.4", "Normalise responses like the starter kit")
def check_normalise(normalise: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    responses = np.array([[0.0, 2.0, 4.0], [1.0, 1.0, 3.0]])
    std = np.array([2.0, 0.5])
    got = np.asarray(normalise(responses, std), dtype=float)
    expected = responses / std[:, None]
    if got.shape != responses.shape:
        raise ExerciseFeedback("keep the shape (neurons, frames): divide each neuron's row by its std.")
    if np.allclose(got, expected):
        return
    if np.allclose(got, (responses - responses.mean(axis=1, keepdims=True)) / std[:, None]):
        raise ExerciseFeedback("the starter kit does not subtract the mean from responses: they stay non-negative "
                               "for the Poisson loss. Only divide.")
    raise ExerciseFeedback("divide each neuron's responses by that neuron's std (std has one entry per neuron).")
