"""Sensorium 2023: mouse V1 responses to videos, in the competition's folder layout.

* :mod:`.reader`: read a mouse folder (trials, tiers, trial lengths, arrays, neurons, statistics).
* :mod:`.dataset`: a torch ``Dataset`` of clips and a loader that mixes mice.
* :mod:`.model`, :mod:`.training`: the baseline encoding model and its training loop (DDP-ready;
  command line: ``python -m course_utils.sensorium.train``).
* :mod:`.metrics`: the competition's single-trial correlation, correlation to average, noise ceiling.
* :mod:`.submission`, :mod:`.validation`: write a submission and check it before uploading (command line:
  ``python -m course_utils.sensorium.validate``).
* :mod:`.simulate`: the demo mice, with their ground truth.

Taught in chapters 03_sensorium_data and 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

from .dataset import MultiMouseLoader, SensoriumClips
from .metrics import (
    SKIP_FIRST_FRAMES,
    correlation_to_average,
    noise_ceiling,
    pearson_per_neuron,
    score_mice,
    single_trial_correlation,
)
from .model import FactorizedCore, FactorizedReadout, GaussianReadout, SensoriumModel, poisson_loss
from .reader import SENSORIUM_FRAME_RATE_HZ, SensoriumMouse, list_mice, read_mice, read_mouse, trial_length
from .simulate import GROUND_TRUTH_FOLDER, load_ground_truth, write_demo_mice
from .submission import (
    SUBMISSION_FRAME_RULE,
    TOP_TEAMS_FRAME_RULE,
    FrameRule,
    submission_frame,
    write_submission,
)
from .training import (
    TrainConfig,
    load_checkpoint,
    oracle_correlation,
    predict_tier,
    predict_trials,
    save_checkpoint,
    train_model,
)
from .validation import validate_submission

__all__ = [
    "GROUND_TRUTH_FOLDER", "SENSORIUM_FRAME_RATE_HZ", "SKIP_FIRST_FRAMES", "SUBMISSION_FRAME_RULE", "TOP_TEAMS_FRAME_RULE",
    "FactorizedCore", "FactorizedReadout", "GaussianReadout", "FrameRule", "MultiMouseLoader", "SensoriumClips", "SensoriumModel",
    "SensoriumMouse", "TrainConfig", "correlation_to_average", "list_mice", "load_checkpoint", "load_ground_truth",
    "noise_ceiling", "oracle_correlation", "pearson_per_neuron", "poisson_loss", "predict_tier", "predict_trials",
    "read_mice", "read_mouse", "save_checkpoint", "score_mice", "single_trial_correlation", "submission_frame",
    "train_model", "trial_length", "validate_submission", "write_demo_mice", "write_submission",
]
