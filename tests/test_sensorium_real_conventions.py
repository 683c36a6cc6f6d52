"""Sensorium 2023 as the real release has it (REAL_FILES.md): string or absent trial_idx, repeats of different
lengths, the first 300 frames, statistics with a frame axis, scoring on normalised responses; bad files
(wrong shape, truncated, pickled) and unsafe checkpoints refused with the file's name; the demo follows the
release. Values are worked out by hand in the comments."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils.fileio import BadFileError
from course_utils.sensorium import (
    SCORED_FRAMES,
    SensoriumModel,
    align_repeats,
    correlation_to_average,
    list_mice,
    load_checkpoint,
    load_ground_truth,
    noise_ceiling,
    normalize_responses,
    read_mice,
    read_mouse,
    reduce_frame_axis,
    response_precision,
    save_checkpoint,
    single_trial_correlation,
    write_demo_mice,
)

SMALL = dict(n_neurons=5, n_train=3, n_oracle_clips=2, n_repeats=3, max_frames=60, min_frames=56)


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sensorium_real")
    write_demo_mice(root, seed=3, n_mice=2, **SMALL)
    return root


def _copy_mouse(demo_root: Path, tmp_path: Path, index: int = 0) -> Path:
    source = list_mice(demo_root)[index]
    target = tmp_path / "data" / source.name
    shutil.copytree(source, target)
    return target


# ------------------------------------------------------------------------------------------ trial_idx


def test_trial_idx_may_be_strings_or_absent(demo_root, tmp_path):
    first, second = (read_mouse(p) for p in list_mice(demo_root))
    assert first.trial_idx is not None and first.trial_idx.dtype.kind == "U"
    assert second.trial_idx is None  # the earlier real mice have no trial_idx.npy
    assert not second.has_recording_order
    np.testing.assert_array_equal(second.recording_order(), np.arange(second.n_trials))  # file order
    # hashed ids ("a--b"): no recording order to recover, file order again
    assert any("--" in t for t in first.trial_idx) and not first.has_recording_order
    np.testing.assert_array_equal(first.recording_order(), np.arange(first.n_trials))
    # integer strings do give an order: "12" < "3"? no: 3 < 12 (numbers, not text)
    folder = _copy_mouse(demo_root, tmp_path)
    n = len(np.load(folder / "meta/trials/tiers.npy"))
    numbers = np.arange(n)[::-1] * 3
    np.save(folder / "meta/trials/trial_idx.npy", numbers.astype(str))
    mouse = read_mouse(folder)
    assert mouse.has_recording_order
    np.testing.assert_array_equal(mouse.recording_order(), np.arange(n)[::-1])


# ------------------------------------------------------------------------------------------ metrics


def test_repeats_of_different_lengths_are_aligned_at_their_first_frame():
    # clip "a" shown twice: 4 and 3 frames; the common 3 frames average to [1, 2, 3] (the 4th is dropped)
    r = [np.array([[0.0, 2.0, 2.0, 9.0]]), np.array([[2.0, 2.0, 4.0]])]
    p = [np.array([[1.0, 2.0, 3.0, 0.0]]), np.array([[1.0, 2.0, 3.0]])]
    assert align_repeats(r, ["a", "a"]) == {"a": ([0, 1], 3)}
    # the mean prediction [1, 2, 3] equals the mean response [1, 2, 3]: correlation 1
    assert correlation_to_average(p, r, ["a", "a"], skip_first_frames=0) == pytest.approx(1.0, abs=1e-7)
    # padded arrays too: a NaN tail marks the shorter repeat
    padded = [r[0], np.array([[2.0, 2.0, 4.0, np.nan]])]
    assert align_repeats(padded, ["a", "a"]) == {"a": ([0, 1], 3)}
    # leave-one-out over 3 frames: singles [0,2,2 | 2,2,4] against the other repeat [2,2,4 | 0,2,2]
    singles = np.array([0.0, 2, 2, 2, 2, 4])
    others = np.array([2.0, 2, 4, 0, 2, 2])
    expected = np.corrcoef(singles, others)[0, 1]
    assert noise_ceiling(padded, ["a", "a"], skip_first_frames=0) == pytest.approx(expected, abs=1e-7)


def test_only_the_first_300_frames_count():
    rng = np.random.default_rng(0)
    response = rng.random((3, 320))
    prediction = response.copy()
    prediction[:, SCORED_FRAMES:] = rng.random((3, 20))  # wrong only after frame 300
    assert single_trial_correlation([prediction], [response]) == pytest.approx(1.0, abs=1e-7)
    assert single_trial_correlation([prediction], [response], max_frames=None) < 0.99
    # the same holds for the repeat-based scores
    assert noise_ceiling([response, prediction], ["a", "a"]) == pytest.approx(1.0, abs=1e-7)


def test_metric_agrees_with_the_starter_kit_formula_to_1e_15():
    """The starter kit: concatenate responses[:, 50:] of all trials as (frames, neurons), corr along axis 0."""
    rng = np.random.default_rng(1)
    responses = [rng.gamma(0.3, 2.0, (40, n)) for n in (300, 280, 210)]
    predictions = [r + rng.normal(0.0, 1.0, r.shape) for r in responses]
    predictions[1][3] = 1.0  # a constant prediction: NaN-free thanks to eps, scores ~0

    def upstream_corr(y1, y2, axis=0, eps=1e-8):
        y1 = (y1 - y1.mean(axis=axis, keepdims=True)) / (y1.std(axis=axis, keepdims=True, ddof=0) + eps)
        y2 = (y2 - y2.mean(axis=axis, keepdims=True)) / (y2.std(axis=axis, keepdims=True, ddof=0) + eps)
        return (y1 * y2).mean(axis=axis)

    target = np.concatenate([r[:, 50:] for r in responses], axis=1).T
    output = np.concatenate([p[:, 50:] for p in predictions], axis=1).T
    reference = np.nan_to_num(upstream_corr(target, output))
    ours = single_trial_correlation(predictions, responses, per_neuron=True)
    assert abs(ours.mean() - reference.mean()) <= 1e-15
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-14)


def test_response_precision_follows_neuralpredictors_threshold():
    # mean std = (2 + 0 + 4 + 0.02) / 4 = 1.505; floor 0.01505: 0 and 0.02? 0.02 > 0.01505 keeps its own
    precision = response_precision(np.array([2.0, 0.0, 4.0, 0.02]))
    np.testing.assert_allclose(precision, [0.5, 1 / 0.01505, 0.25, 50.0])
    with pytest.raises(ValueError, match="positive"):
        response_precision(np.zeros(3))


def test_normalised_score_equals_raw_for_per_neuron_std_and_differs_per_frame():
    rng = np.random.default_rng(2)
    responses = [rng.gamma(0.5, 1.0, (4, 120)) for _ in range(3)]
    predictions = [r + rng.normal(0, 0.5, r.shape) for r in responses]
    per_neuron = np.array([0.5, 1.0, 2.0, 4.0])
    raw = single_trial_correlation(predictions, responses, per_neuron=True)
    scaled = single_trial_correlation(predictions, responses, per_neuron=True, response_std=per_neuron)
    np.testing.assert_allclose(scaled, raw, atol=1e-7)  # Pearson ignores a per-neuron scale (up to eps)
    per_frame = np.tile(np.linspace(0.5, 3.0, 120), (4, 1))  # every frame scaled by its own std
    by_hand = [r / per_frame for r in responses]
    expected = single_trial_correlation(predictions, by_hand, per_neuron=True)
    got = single_trial_correlation(predictions, responses, per_neuron=True, response_std=per_frame)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert np.abs(got - raw).max() > 1e-3
    np.testing.assert_allclose(normalize_responses(np.array([[2.0, 4.0]]), np.array([[2.0, 4.0]])), [[1.0, 1.0]])
    with pytest.raises(ValueError, match="per-frame std"):
        normalize_responses(np.ones((4, 120)), per_frame[:, :60])


# ------------------------------------------------------------------------------------------ statistics


def test_statistics_with_a_frame_axis_are_reduced_explicitly(demo_root, tmp_path):
    # two frame slots: means 0 and 2, stds 1 and 1 -> pooled mean 1, pooled std sqrt(1 + 2 - 1) = sqrt(2)
    assert reduce_frame_axis("std", np.array([[1.0, 1.0]]), np.array([[0.0, 2.0]]))[0] == pytest.approx(np.sqrt(2))
    assert reduce_frame_axis("max", np.array([[1.0, np.nan, 3.0]]))[0] == 3.0
    first, second = (read_mouse(p) for p in list_mice(demo_root))
    raw = first.statistics("responses", frame_reduction="none")
    assert raw["std"].shape == (first.n_neurons, 60)  # per neuron and frame slot in the demo's first mouse
    pooled = first.statistics("responses")
    assert pooled["std"].shape == (first.n_neurons,)
    # pooled over frame slots = the std over all training frames (slots pool different trial counts: close)
    train = np.concatenate([first.load("responses", t, trim=True) for t in first.trials("train")], axis=1)
    np.testing.assert_allclose(pooled["mean"], np.nanmean(raw["mean"], axis=1))
    np.testing.assert_allclose(pooled["std"], train.std(axis=1), rtol=0.25)
    assert second.statistics("responses", frame_reduction="none")["std"].shape == (second.n_neurons,)
    assert np.ndim(first.statistics("videos")["mean"]) == 0
    with pytest.raises(ValueError, match="frame_reduction"):
        first.statistics("responses", frame_reduction="sum")
    folder = _copy_mouse(demo_root, tmp_path, 1)
    for stat in ("mean", "std"):  # a frame axis stored first is moved last
        path = folder / f"meta/statistics/responses/all/{stat}.npy"
        np.save(path, np.tile(np.load(path), (4, 1)))  # (4 frames, 5 neurons)
    flipped = read_mouse(folder).statistics("responses", frame_reduction="none")
    assert flipped["std"].shape == (5, 4) and flipped["min"].shape == (5,)
    np.testing.assert_allclose(read_mouse(folder).statistics("responses")["std"], flipped["std"][:, 0])
    bad = folder / "meta/statistics/responses/all/std.npy"
    np.save(bad, np.ones((7, 3)))  # 7 rows for 5 neurons
    with pytest.raises(BadFileError, match="std.npy.*expected \\(5,\\) or \\(5, frames\\)"):
        read_mouse(folder).statistics("responses")


# ------------------------------------------------------------------------------------------ bad files (issue 14)


def test_wrong_shape_npy_is_refused_with_its_name(demo_root, tmp_path):
    folder = _copy_mouse(demo_root, tmp_path)
    np.save(folder / "data/responses/0.npy", np.zeros((3, 60), dtype=np.float32))  # 3 rows, 5 neurons
    np.save(folder / "data/videos/1.npy", np.zeros((36, 64), dtype=np.float32))  # no frame axis
    mouse = read_mouse(folder)
    with pytest.raises(BadFileError, match=r"responses/0\.npy.*\(3, 60\).*5 neurons"):
        mouse.load("responses", 0)
    with pytest.raises(BadFileError, match=r"videos/1\.npy.*2 dimension"):
        mouse.load("videos", 1)
    np.save(folder / "meta/neurons/cell_motor_coordinates.npy", np.zeros((5, 2), dtype=np.int64))
    with pytest.raises(BadFileError, match="cell_motor_coordinates.npy"):
        read_mouse(folder)


def test_truncated_npy_is_refused_with_its_name(demo_root, tmp_path):
    folder = _copy_mouse(demo_root, tmp_path)
    path = folder / "data/responses/2.npy"
    path.write_bytes(path.read_bytes()[:200])  # a download cut short
    with pytest.raises(BadFileError, match=r"responses/2\.npy.*(truncated|read)") as info:
        read_mouse(folder).load("responses", 2)
    assert "data fetch sensorium2023" in str(info.value)  # and what to do


def test_pickled_npy_is_refused_and_named(demo_root, tmp_path):
    folder = _copy_mouse(demo_root, tmp_path)
    tiers = np.load(folder / "meta/trials/tiers.npy")
    np.save(folder / "meta/trials/tiers.npy", tiers.astype(object), allow_pickle=True)
    with pytest.raises(BadFileError, match=r"tiers\.npy: holds pickled Python objects"):
        read_mouse(folder)
    folder = _copy_mouse(demo_root, tmp_path / "b")
    np.save(folder / "data/behavior/0.npy", np.array([{"run": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(BadFileError, match=r"behavior/0\.npy: holds pickled"):
        read_mouse(folder).load("behavior", 0)


class _NotWeights:
    """An object torch would have to unpickle (and could run code for)."""


def test_checkpoint_that_is_not_a_weights_file_is_refused_without_unsafe_advice(tmp_path):
    model = SensoriumModel({"m": 2}, hidden_channels=2, n_layers=1)
    good = save_checkpoint(model, tmp_path / "good.pt")
    assert isinstance(load_checkpoint(good)[0], SensoriumModel)
    unsafe = tmp_path / "unsafe.pt"
    torch.save({"state_dict": model.state_dict(), "model_config": model.config, "extra": _NotWeights()}, unsafe)
    with pytest.raises(BadFileError) as info:
        load_checkpoint(unsafe)
    message = str(info.value)
    assert "unsafe.pt" in message and "weights_only=False" not in message and "save_checkpoint" in message
    garbage = tmp_path / "notes.pt"
    garbage.write_text("not a checkpoint")
    with pytest.raises(BadFileError, match="notes.pt"):
        load_checkpoint(garbage)
    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.ones(2)}, plain)
    with pytest.raises(BadFileError, match="plain.pt.*state_dict"):
        load_checkpoint(plain)


# ------------------------------------------------------------------------------------------ the demo


def test_demo_follows_the_real_release(demo_root):
    mice = read_mice(demo_root)
    first, second = mice.values()
    truth = load_ground_truth(demo_root, first.name)
    family = truth["stimulus_family"]
    # string trial_idx for one mouse ("a--b" on the static-image trials), none for the other
    assert all(("--" in t) == (f == "static_image") for t, f in zip(first.trial_idx, family, strict=True))
    assert second.trial_idx is None
    for mouse in mice.values():
        # repeats of a clip differ by 1-2 frames
        spreads = [np.ptp(mouse.trial_lengths[members]) for members, _ in
                   align_repeats([np.zeros((1, n)) for n in mouse.trial_lengths], mouse.condition_hash).values()
                   if len(members) > 1]
        assert max(spreads) >= 1 and max(spreads) <= 2
        # sparse responses: median far below the mean (real: median ~1e-6, mean ~1)
        train = np.concatenate([mouse.load("responses", t, trim=True) for t in mouse.trials("train")], axis=1)
        assert np.median(train) < 1e-4 < 0.1 < train.mean()
        assert train.min() >= 0
        # pupil centre in camera pixels, integer micrometre coordinates with negative values
        pupil = np.concatenate([mouse.load("pupil_center", t, trim=True) for t in mouse.trials()], axis=1)
        assert 115 < pupil.min() and pupil.max() < 160
        xyz = mouse.cell_motor_coordinates_um
        assert xyz.dtype == np.int64 and (xyz[:, :2] < 0).any()
    # bonus tiers show another stimulus family than training and the main tiers
    by_tier = {tier: set(family[first.trials(tier)]) for tier in ("train", "oracle", "live_test_main",
                                                                   "live_test_bonus", "final_test_bonus")}
    assert by_tier["train"] == by_tier["oracle"] == by_tier["live_test_main"] == {"natural_noise"}
    assert "natural_noise" not in by_tier["live_test_bonus"] | by_tier["final_test_bonus"]
    still = first.load("videos", first.trials("final_test_bonus")[0], trim=True)
    assert np.abs(np.diff(still, axis=-1)).max() == 0  # a static image
