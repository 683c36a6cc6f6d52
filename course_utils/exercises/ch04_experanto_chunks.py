"""Checks for chapter 04_experanto_chunks (exercises 4.1-4.4). Checks 4.2 and 4.3 compare with the reference
computed on the learner's own data (not fixed ranges), and 4.3 works on every data mode's converted mouse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import ExerciseFeedback, exercise


@exercise("4.1", "Which sample does floor interpolation read?")
def check_floor_sample(floor_sample_index) -> None:
    start, rate = 2.0, 10.0
    times = np.array([2.0, 2.05, 2.0999, 2.1, 2.45, 3.3])
    expected = np.array([0, 0, 0, 1, 4, 13])
    got = np.asarray(floor_sample_index(times, start, rate))
    if got.shape != times.shape:
        raise ExerciseFeedback(f"Return one index per time: expected shape {times.shape}, got {got.shape}.")
    if not np.issubdtype(got.dtype, np.integer):
        raise ExerciseFeedback("Return integer indices (use .astype(int) after rounding down).")
    if np.array_equal(got, np.round((times - start) * rate).astype(int)):
        raise ExerciseFeedback("That rounds to the nearest sample, which can be a sample from the future. Round down.")
    if not np.array_equal(got, expected):
        raise ExerciseFeedback(
            "Not quite: measure time from the modality's start_time, convert seconds to samples with the "
            "sampling rate, then round down. A time exactly on a sample (2.1 s at 10 Hz from 2.0 s) is that sample."
        )
    shifted = np.asarray(floor_sample_index(np.array([0.25]), 0.0, 4.0))
    if shifted.tolist() != [1]:
        raise ExerciseFeedback("Check that your function uses the start_time and sampling_rate it is given.")


@exercise("4.2", "Visual latency from the data")
def check_best_lag(best_lag_s: Any, lags: Any, corr: Any) -> None:
    """Compare with the lag of the largest correlation in the learner's own ``lags`` and ``corr``."""
    try:
        lag = float(best_lag_s)
    except (TypeError, ValueError) as err:
        raise ExerciseFeedback("Give the lag as a number of seconds (a float).") from err
    lags, corr = np.asarray(lags, dtype=float), np.asarray(corr, dtype=float)
    expected = float(lags[np.nanargmax(corr)])
    if np.isclose(lag, expected, atol=1e-9):
        return
    if lag < 0:
        raise ExerciseFeedback("A negative lag would mean the neurons respond before the stimulus: shift the other way.")
    if np.isclose(lag, expected * 1000, rtol=1e-6):
        raise ExerciseFeedback("That looks like milliseconds: give the lag in seconds, as `lags` holds it.")
    if np.isclose(lag, float(np.nanargmax(corr))):
        raise ExerciseFeedback("That is the position of the peak in the array: look up the lag at that position.")
    if np.isclose(lag, float(lags[np.nanargmin(corr)])):
        raise ExerciseFeedback("That is the lag of the smallest correlation: take the largest (np.argmax).")
    raise ExerciseFeedback(
        "That lag does not maximise the stimulus-response correlation. Compare the correlation at each lag "
        "and take the lag of the largest value (np.argmax)."
    )


def _tiers_of_chunks(dataset):
    """The screen trial of every frame of every valid chunk (one row per frame)."""
    device = dataset.experiment.devices["screen"]
    offsets = dataset.chunk_offsets("screen")
    frames = device.frame_indices(dataset.valid_times[:, None] + offsets[None, :])
    return device.trials.iloc[device.frame_trial[frames].ravel()]


@exercise("4.3", "Chunks from train or oracle videos")
def check_condition_config(modality_config: dict, folder: Path) -> None:
    """Compare the learner's chunk starts with those of the reference configuration on the same folder."""
    from course_utils.experanto import ChunkDataset

    if not isinstance(modality_config, dict) or "screen" not in modality_config:
        raise ExerciseFeedback("Give a modality_config dict with at least a 'screen' entry.")
    screen = modality_config["screen"]
    if screen.get("chunk_size") != 30 or screen.get("sampling_rate") != 30:
        raise ExerciseFeedback("The screen should give 30 frames at 30 Hz (chunk_size and sampling_rate).")
    condition = screen.get("valid_condition")
    if isinstance(condition, dict):
        raise ExerciseFeedback("One dict is an AND of its keys; an OR needs a list of dicts.")
    if screen.get("include_blanks"):
        raise ExerciseFeedback("include_blanks adds {'tier': 'blank'} to the conditions: switch it off here.")
    reference_config = {
        **modality_config,
        "screen": {**screen, "include_blanks": False,
                   "valid_condition": [{"tier": "train", "stim_type": "video"}, {"tier": "oracle", "stim_type": "video"}]},
    }
    reference = ChunkDataset(folder, modality_config=reference_config, seed=0)
    try:
        dataset = ChunkDataset(folder, modality_config=modality_config, seed=0)
    except ValueError as err:
        raise ExerciseFeedback(f"No chunk qualifies with this configuration ({err}).") from err
    if np.array_equal(dataset.valid_times, reference.valid_times):
        return
    trials = _tiers_of_chunks(dataset)
    if not trials["modality"].eq("video").all():
        raise ExerciseFeedback("Some chunks show images or blanks: add the stim_type (or modality) condition.")
    if not trials["tier"].isin(["train", "oracle"]).all():
        raise ExerciseFeedback("Some chunks come from other tiers: allow exactly train and oracle.")
    if not {"train", "oracle"} <= set(trials["tier"]):
        raise ExerciseFeedback("Chunks from both tiers should be allowed: one dict per tier, OR-ed in a list.")
    raise ExerciseFeedback(
        f"{len(dataset)} chunks where the reference configuration on the same folder gives {len(reference)}: "
        "keep the other settings of DEFAULT_MODALITY_CONFIG and change only the screen's."
    )


@exercise("4.4", "How many megabytes is one sample?")
def check_sample_megabytes(sample_mb: Any, sample: dict) -> None:
    import torch

    expected = sum(v.numel() * v.element_size() for k, v in sample.items() if isinstance(v, torch.Tensor)) / 1e6
    try:
        value = float(sample_mb)
    except (TypeError, ValueError) as err:
        raise ExerciseFeedback("Give one number, in megabytes (1 MB = 1e6 bytes).") from err
    if abs(value - expected * 1e6) < 1e-3 * expected * 1e6:
        raise ExerciseFeedback("That looks like bytes: divide by 1e6 to get megabytes.")
    if abs(value - expected) > 0.01 * expected:
        raise ExerciseFeedback(
            "Not quite: add numel() * element_size() of every tensor in the sample (not the timestamps dict), "
            "then divide by 1e6."
        )
