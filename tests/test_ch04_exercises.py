"""Chapter 4's exercise checks: the instructor's answers pass, typical mistakes get a hint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.exercises import feedback
from course_utils.experanto.writer import write_screen_modality, write_sequence_modality


def test_4_1_floor_index():
    def floor_sample_index(times, start_time, sampling_rate):
        return np.floor((np.asarray(times) - start_time) * sampling_rate + 1e-9).astype(int)

    def rounded(times, start_time, sampling_rate):
        return np.round((np.asarray(times) - start_time) * sampling_rate).astype(int)

    assert feedback("4.1", floor_sample_index).startswith("✅")
    assert "future" in feedback("4.1", rounded)
    assert "not answered" in feedback("4.1", ...)


def test_4_2_lag_is_compared_with_the_peak_of_the_same_curve():
    lags = np.arange(0, 0.5, 1 / 30)
    corr = np.exp(-((lags - 0.2) ** 2) / 0.01)
    best = float(lags[np.argmax(corr)])
    assert feedback("4.2", best, lags, corr).startswith("✅")
    assert "negative" in feedback("4.2", -0.1, lags, corr)
    assert "milliseconds" in feedback("4.2", best * 1000, lags, corr)
    assert "position" in feedback("4.2", float(np.argmax(corr)), lags, corr)
    # A plausible latency that is not this curve's peak fails (a fixed range would have accepted it).
    assert feedback("4.2", best - 1 / 30, lags, corr).startswith("❌")
    other = np.exp(-((lags - 0.1) ** 2) / 0.01)
    assert feedback("4.2", best, lags, other).startswith("❌")


@pytest.fixture()
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_EXPERANTO_CACHE", str(tmp_path / "cache"))
    frames = np.zeros((60, 2, 2))
    trials, stamps = [], []
    for k, (tier, kind) in enumerate([("train", "video"), ("train", "image"), ("oracle", "video"),
                                      ("test", "video"), ("train", "video"), ("blank", "blank")]):
        # every trial lasts 2 s (60 frames at 30 Hz); an image or blank stores only its onset
        stamps += list(range(60 * k, 60 * k + (60 if kind == "video" else 1)))
        if kind == "video":
            trials.append({"modality": "video", "data": frames, "tier": tier, "stim_type": "video"})
        elif kind == "image":
            trials.append({"modality": "image", "data": frames[0], "tier": tier, "stim_type": "image"})
        else:
            trials.append({"modality": "blank", "image_size": [2, 2], "interleave_value": 0.0,
                           "tier": tier, "stim_type": "blank"})
    write_screen_modality(tmp_path / "exp" / "screen", np.asarray(stamps) / 30, trials, mean=0.0, std=1.0)
    write_sequence_modality(tmp_path / "exp" / "treadmill", np.zeros((120, 1)), sampling_rate=10)
    return tmp_path / "exp"


def _config(condition, **extra):
    return {"screen": {"sampling_rate": 30, "chunk_size": 30, "valid_condition": condition, "include_blanks": False,
                       "transforms": {}, **extra}}


def test_4_3_conditions(folder):
    good = [{"tier": "train", "stim_type": "video"}, {"tier": "oracle", "stim_type": "video"}]
    assert feedback("4.3", _config(good), folder).startswith("✅")
    assert "OR" in feedback("4.3", _config({"tier": "train", "stim_type": "video"}), folder)
    assert "images" in feedback("4.3", _config([{"tier": "train"}, {"tier": "oracle"}]), folder)
    assert "other tiers" in feedback("4.3", _config(good + [{"tier": "test", "stim_type": "video"}]), folder)
    assert "both tiers" in feedback("4.3", _config([{"tier": "train", "stim_type": "video"}]), folder)
    assert "30 frames" in feedback("4.3", _config(good, chunk_size=60), folder)


def test_4_4_megabytes():
    sample = {"screen": torch.zeros(1, 60, 144, 256), "responses": torch.zeros(16, 100), "timestamps": {}}
    mb = (60 * 144 * 256 + 1600) * 4 / 1e6
    assert feedback("4.4", mb, sample).startswith("✅")
    assert "bytes" in feedback("4.4", mb * 1e6, sample)
    assert feedback("4.4", mb / 2, sample).startswith("❌")
