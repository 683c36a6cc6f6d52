"""Sensorium 2023: mouse V1 responses to videos, in the competition's folder layout.

* :mod:`.reader`: the one reader of a mouse folder (trials, tiers, ``trial_idx`` if any, condition hashes,
  trial lengths, arrays per trial, neurons, statistics with an explicit reduction of a frame axis).
* :mod:`.dataset`: a torch ``Dataset`` of clips and a loader that mixes mice.
* :mod:`.model`, :mod:`.training`: the baseline encoding model and its training loop (DDP-ready;
  command line: ``python -m course_utils sensorium train``).
* :mod:`.metrics`: the competition's single-trial correlation, correlation to average, noise ceiling (raw or
  on responses normalised by the released std).
* :mod:`.submission`, :mod:`.validation`: write a submission and check it before uploading (command line:
  ``python -m course_utils sensorium validate``); :mod:`.scoring`: a leaderboard row against the demo's
  withheld responses (``python -m course_utils sensorium score``).
* :mod:`.simulate`: the demo mice, with their ground truth.

Only the model, its data loaders and its training need torch; their names are imported on first use, so
reading, scoring and validating (chapter 3, the ``validate`` and ``score`` commands) run without importing it.

Taught in chapters 03_sensorium_data and 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .metrics import (
    SKIP_FIRST_FRAMES,
    align_repeats,
    correlation_to_average,
    noise_ceiling,
    normalize_responses,
    pearson_per_neuron,
    response_precision,
    score_mice,
    single_trial_correlation,
    valid_length,
)
from .reader import (
    SCORED_FRAMES,
    SENSORIUM_FRAME_RATE_HZ,
    SensoriumMouse,
    list_mice,
    read_mice,
    read_mouse,
    reduce_frame_axis,
    trial_length,
)
from .simulate import GROUND_TRUTH_FOLDER, load_ground_truth, write_demo_mice
from .submission import (
    ACCEPTED_FRAME_RULES,
    SCORED_MICE,
    SUBMISSION_FRAME_RULE,
    TOP_TEAMS_FRAME_RULE,
    FrameRule,
    submission_frame,
    write_submission,
)
from .validation import validate_submission

if TYPE_CHECKING:  # what __getattr__ below imports on first use, for type checkers and editors
    from .dataset import MultiMouseLoader, SensoriumClips
    from .model import FactorizedCore, FactorizedReadout, GaussianReadout, SensoriumModel, poisson_loss
    from .training import (
        TrainConfig,
        load_checkpoint,
        oracle_correlation,
        predict_tier,
        predict_trials,
        save_checkpoint,
        train_model,
    )

__all__ = [
    "ACCEPTED_FRAME_RULES", "SCORED_FRAMES", "SCORED_MICE", "align_repeats", "normalize_responses",
    "reduce_frame_axis", "response_precision", "valid_length",
    "GROUND_TRUTH_FOLDER", "SENSORIUM_FRAME_RATE_HZ", "SKIP_FIRST_FRAMES", "SUBMISSION_FRAME_RULE", "TOP_TEAMS_FRAME_RULE",
    "FactorizedCore", "FactorizedReadout", "GaussianReadout", "FrameRule", "MultiMouseLoader", "SensoriumClips", "SensoriumModel",
    "SensoriumMouse", "TrainConfig", "correlation_to_average", "list_mice", "load_checkpoint", "load_ground_truth",
    "noise_ceiling", "oracle_correlation", "pearson_per_neuron", "poisson_loss", "predict_tier", "predict_trials",
    "read_mice", "read_mouse", "save_checkpoint", "score_mice", "single_trial_correlation", "submission_frame",
    "train_model", "trial_length", "validate_submission", "write_demo_mice", "write_submission",
]


# Names that need torch come from their module on first use (PEP 562), so reading, scoring and validating
# (chapter 3, the validate/score commands) never import torch: its import takes seconds, and a runtime
# without torch can still read the data (there, using one of these names raises torch's ModuleNotFoundError).
_NEEDS_TORCH = {
    **dict.fromkeys(["MultiMouseLoader", "SensoriumClips"], "dataset"),
    **dict.fromkeys(["FactorizedCore", "FactorizedReadout", "GaussianReadout", "SensoriumModel", "poisson_loss"],
                    "model"),
    **dict.fromkeys(["TrainConfig", "load_checkpoint", "oracle_correlation", "predict_tier", "predict_trials",
                     "save_checkpoint", "train_model"], "training"),
}


def __getattr__(name: str) -> Any:
    if name not in _NEEDS_TORCH:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_NEEDS_TORCH[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NEEDS_TORCH))


# The source interface (course_utils.sources): the one registered opener, under the name every source shares.
# Not in __all__, so `from course_utils.sensorium import *` never hides the built-in open.
open = read_mouse
