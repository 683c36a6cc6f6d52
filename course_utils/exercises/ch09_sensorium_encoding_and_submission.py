"""Checks for chapter 09_sensorium_encoding_and_submission (exercises 9.1-9.4). Hints, never answers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import ExerciseFeedback, exercise


def _trials(seed: int):
    rng = np.random.default_rng(seed)
    lengths = [60, 75, 90]
    responses = [rng.poisson(2.0, (4, n)).astype(float) for n in lengths]
    predictions = [r + rng.normal(0, 2.0, r.shape) for r in responses]
    predictions[1][2] = 1.0  # a constant prediction for one neuron in one trial
    return predictions, responses


@exercise("9.1", "Single-trial correlation by hand")
def check_single_trial_correlation(my_correlation: Callable) -> None:
    from course_utils.sensorium.metrics import single_trial_correlation

    predictions, responses = _trials(0)
    expected = single_trial_correlation(predictions, responses)
    got = float(my_correlation(predictions, responses))
    if np.isclose(got, expected, atol=1e-6):
        return
    full = single_trial_correlation(predictions, responses, skip_first_frames=0)
    per_trial = np.mean([single_trial_correlation([p], [r]) for p, r in zip(predictions, responses, strict=True)])
    if np.isclose(got, full, atol=1e-6):
        raise ExerciseFeedback("the first 50 frames of every trial must be dropped before correlating.")
    if np.isclose(got, per_trial, atol=1e-6):
        raise ExerciseFeedback("you averaged correlations per trial: concatenate the trials along time first, "
                               "then correlate each neuron once.")
    if np.isnan(got):
        raise ExerciseFeedback("a NaN: a neuron whose prediction is constant must count as correlation 0.")
    raise ExerciseFeedback("Pearson per neuron (mean-centred, divided by the population std + 1e-8), then the mean "
                           "over neurons.")


@exercise("9.2", "Submission frames")
def check_submission_frames(submission_frames: Callable[[np.ndarray], np.ndarray]) -> None:
    full = np.arange(2 * 80, dtype=float).reshape(2, 80)
    got = np.asarray(submission_frames(full))
    if got.shape == (2, 29):
        raise ExerciseFeedback("that is T-51 (the top teams also dropped the last frame); the course's rule is "
                               "SUBMISSION_FRAME_RULE.")
    if got.shape != (2, 30):
        raise ExerciseFeedback(f"a trial of 80 frames should give {80 - 50} frames per neuron; you kept {got.shape[-1]}.")
    if not np.array_equal(got, full[:, 50:]):
        raise ExerciseFeedback("right number of frames, wrong ones: keep the frames after the first 50.")


@exercise("9.3", "Poisson loss by hand")
def check_poisson_loss(my_poisson_loss: Callable) -> None:
    import torch

    from course_utils.sensorium.model import poisson_loss

    generator = torch.Generator().manual_seed(0)
    rates = torch.rand(2, 3, 20, generator=generator) + 0.1
    responses = torch.poisson(torch.full((2, 3, 20), 1.5), generator=generator)
    responses[0, 1, 15:] = float("nan")  # padding
    expected = float(poisson_loss(rates, responses))
    got = float(my_poisson_loss(rates, responses))
    if np.isclose(got, expected, rtol=1e-4):
        return
    if np.isnan(got):
        raise ExerciseFeedback("NaN responses (padding) must be left out of the mean.")
    if np.isclose(got, -expected, rtol=1e-4):
        raise ExerciseFeedback("wrong sign: the loss is rate - response * log(rate), to be minimised.")
    raise ExerciseFeedback("average rate - response * log(rate + 1e-8) over the frames whose response is not NaN.")


@exercise("9.4", "Build it: the factorised readout")
def check_readout_forward(readout_forward, core_features, readout) -> None:
    """``readout_forward(core_features, mask, feature_weights, bias)`` against the trained readout module
    itself (``readout(core_features)``) on the same core features."""
    import torch

    with torch.no_grad():
        expected = readout(core_features)
        answer = readout_forward(core_features, readout.mask, readout.features, readout.bias)
    if not isinstance(answer, torch.Tensor):
        raise ExerciseFeedback("return a torch tensor of shape (batch, neurons, frames).")
    if tuple(answer.shape) != tuple(expected.shape):
        raise ExerciseFeedback(
            f"expected shape {tuple(expected.shape)} (batch, neurons, frames), got {tuple(answer.shape)}: sum "
            "over the channels and both spatial axes, keep batch and frames."
        )
    scale = float(expected.abs().max()) or 1.0
    if torch.allclose(answer, expected, rtol=1e-4, atol=1e-5 * scale):
        return
    if torch.allclose(answer + readout.bias[None, :, None], expected, rtol=1e-4, atol=1e-5 * scale):
        raise ExerciseFeedback("almost: add each neuron's bias (bias[None, :, None]).")
    raise ExerciseFeedback(
        "the rates differ from the model's readout on the same features: weight the feature map by the "
        "neuron's mask and sum over height and width, then weight the channels by its feature weights and sum."
    )
