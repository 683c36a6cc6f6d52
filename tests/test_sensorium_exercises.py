"""Chapters 3 and 9's checks: right answers pass, typical mistakes get a hint that does not give the answer."""

from __future__ import annotations

import numpy as np
import torch

from course_utils.exercises import feedback
from course_utils.sensorium import (
    SUBMISSION_FRAME_RULE,
    TOP_TEAMS_FRAME_RULE,
    poisson_loss,
    single_trial_correlation,
)


def _first_nan(video):
    nan = np.isnan(video[0, 0, :])
    return int(np.argmax(nan)) if nan.any() else int(video.shape[-1])


def test_3_1_true_length():
    assert feedback("3.1", _first_nan).startswith("✅")
    assert "padded length" in feedback("3.1", lambda v: int(v.shape[-1]))
    assert "off by one" in feedback("3.1", lambda v: _first_nan(v) - 1)
    # any NaN anywhere is not the trial's end
    assert feedback("3.1", lambda v: int(np.argmax(np.isnan(v).any(axis=(0, 1)))) or v.shape[-1]).startswith("❌")


def test_3_2_tier_counts():
    tiers = np.array(["train", "train", "oracle", "none"])
    assert feedback("3.2", {"train": 2, "oracle": 1, "none": 1}, tiers).startswith("✅")
    assert "not all there" in feedback("3.2", {"train": 2, "oracle": 1}, tiers)
    assert "counts are off" in feedback("3.2", {"train": 1, "oracle": 1, "none": 1}, tiers)


def test_3_3_oracle_repeats():
    hashes = np.array(["a", "b", "a", "b", "a"])
    assert feedback("3.3", 2, np.array([3, 2]), hashes).startswith("✅")
    assert "counts trials" in feedback("3.3", 5, np.array([3, 2]), hashes)
    assert feedback("3.3", 2, np.array([2, 2]), hashes).startswith("❌")


def test_3_4_normalise():
    assert feedback("3.4", lambda r, s: r / s[:, None]).startswith("✅")
    assert "subtract the mean" in feedback("3.4", lambda r, s: (r - r.mean(axis=1, keepdims=True)) / s[:, None])


def test_9_1_single_trial_correlation():
    assert feedback("9.1", lambda p, r: single_trial_correlation(p, r)).startswith("✅")
    assert "first 50 frames" in feedback("9.1", lambda p, r: single_trial_correlation(p, r, skip_first_frames=0))
    per_trial = lambda p, r: np.mean([single_trial_correlation([a], [b]) for a, b in zip(p, r, strict=True)])  # noqa: E731
    assert "concatenate" in feedback("9.1", per_trial)


def test_9_2_submission_frames():
    assert feedback("9.2", SUBMISSION_FRAME_RULE.cut).startswith("✅")
    assert "T-51" in feedback("9.2", TOP_TEAMS_FRAME_RULE.cut)
    assert "wrong ones" in feedback("9.2", lambda full: full[:, :-50])


def test_9_3_poisson_loss():
    assert feedback("9.3", lambda rates, r: poisson_loss(rates, r)).startswith("✅")
    assert "NaN" in feedback("9.3", lambda rates, r: (rates - r * torch.log(rates + 1e-8)).mean())
    assert "sign" in feedback("9.3", lambda rates, r: -poisson_loss(rates, r))
