"""Sensorium 2023: simulator layout, reader, dataset, metrics (hand-computed), model, training, checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils.sensorium import (
    GaussianReadout,
    SensoriumClips,
    SensoriumModel,
    TrainConfig,
    correlation_to_average,
    list_mice,
    load_checkpoint,
    load_ground_truth,
    noise_ceiling,
    pearson_per_neuron,
    poisson_loss,
    predict_trials,
    read_mice,
    read_mouse,
    score_mice,
    single_trial_correlation,
    train_model,
    trial_length,
    write_demo_mice,
)
from course_utils.sensorium.dataset import MultiMouseLoader

TINY = dict(n_neurons=6, n_train=3, n_oracle_clips=2, n_repeats=2, max_frames=60, min_frames=55)


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sensorium")
    write_demo_mice(root, seed=1, n_mice=2, **TINY)
    return root


# ------------------------------------------------------------------------------------------ layout, reader


def test_demo_folder_has_the_competition_layout(tiny_root):
    mice = list_mice(tiny_root)
    assert len(mice) == 2
    folder = mice[0]
    assert folder.name.startswith("dynamic") and "-Video-" in folder.name
    tiers = np.load(folder / "meta/trials/tiers.npy", allow_pickle=False)
    n = len(tiers)
    for kind in ("videos", "responses", "behavior", "pupil_center"):
        assert sorted(int(p.stem) for p in (folder / "data" / kind).glob("*.npy")) == list(range(n))
        for stat in ("min", "max", "mean", "median", "std"):
            assert (folder / "meta/statistics" / kind / "all" / f"{stat}.npy").is_file()
    video = np.load(folder / "data/videos/0.npy")
    assert video.shape == (36, 64, 60)
    assert np.load(folder / "data/responses/0.npy").shape == (6, 60)
    assert np.load(folder / "data/behavior/0.npy").shape == (2, 60)
    assert np.load(folder / "meta/neurons/cell_motor_coordinates.npy").shape == (6, 3)
    assert set(tiers) == {"train", "oracle", "live_test_main", "final_test_main", "live_test_bonus",
                          "final_test_bonus", "none"}
    assert (tiny_root / "SIMULATOR_GROUND_TRUTH").is_dir()


def test_oracle_repeats_share_hash_and_video(tiny_root):
    mouse = read_mouse(list_mice(tiny_root)[0])
    oracle = mouse.trials("oracle")
    hashes = mouse.condition_hash[oracle]
    assert len(set(hashes)) == 2 and len(oracle) == 4
    a, b = oracle[hashes == hashes[0]]
    common = min(mouse.trial_lengths[a], mouse.trial_lengths[b])  # repeats may end a frame or two apart
    np.testing.assert_array_equal(mouse.load("videos", a)[..., :common], mouse.load("videos", b)[..., :common])
    assert not np.array_equal(mouse.load("behavior", a, trim=True), mouse.load("behavior", b, trim=True))


def test_test_tier_responses_are_withheld_but_ground_truth_keeps_them(tiny_root):
    mouse = read_mouse(list_mice(tiny_root)[0])
    truth = load_ground_truth(tiny_root, mouse.name)
    for trial in mouse.trials("final_test_main"):
        shown = mouse.load("responses", trial, trim=True)
        assert np.all(shown == 0)
        hidden = truth["withheld_responses"][trial][:, : mouse.trial_lengths[trial]]
        assert np.isfinite(hidden).all() and hidden.sum() > 0
    train = mouse.trials("train")[0]
    assert np.isnan(truth["withheld_responses"][train]).all()


def test_trial_length_from_nan_padding():
    video = np.zeros((36, 64, 10), dtype=np.float32)
    assert trial_length(video) == 10
    video[..., 7:] = np.nan
    assert trial_length(video) == 7
    with pytest.raises(ValueError, match="height, width, frames"):
        trial_length(np.zeros((3, 3)))


def test_reader_lengths_match_padding(tiny_root):
    mouse = read_mouse(list_mice(tiny_root)[0])
    for trial in range(mouse.n_trials):
        length = mouse.trial_lengths[trial]
        assert 53 <= length <= 60  # clips of 55-60 frames; a repeat may end up to 2 frames early
        responses = mouse.load("responses", trial)
        assert np.isnan(responses[:, length:]).all() and not np.isnan(responses[:, :length]).any()
    assert mouse.statistics("responses")["std"].shape == (6,)  # a frame axis, if any, is pooled


def test_reader_errors_name_the_file(tmp_path, tiny_root):
    with pytest.raises(FileNotFoundError, match="No Sensorium mouse folder"):
        list_mice(tmp_path)
    broken = tmp_path / "dynamic1-1-1-Video-x"
    (broken / "meta/trials").mkdir(parents=True)
    np.save(broken / "meta/trials/tiers.npy", np.array(["train"]))
    with pytest.raises(FileNotFoundError, match="condition_hash.npy"):
        read_mouse(broken)
    mouse = read_mouse(list_mice(tiny_root)[0])
    with pytest.raises(ValueError, match="Unknown tier"):
        mouse.trials("test")


# ------------------------------------------------------------------------------------------ dataset


def test_clips_shapes_normalisation_and_withheld(tiny_root):
    mouse = read_mouse(list_mice(tiny_root)[0])
    clips = SensoriumClips(mouse, ("train",), frames_per_clip=20)
    item = clips[0]
    assert item["video"].shape == (1, 20, 36, 64)
    assert item["behavior"].shape == (4, 20)
    assert item["responses"].shape == (6, 20)
    trial = int(item["trial"])
    raw = mouse.load("responses", trial)[:, :20]
    std = mouse.statistics("responses")["std"]
    np.testing.assert_allclose(item["responses"].numpy(), raw / std[:, None], rtol=1e-5)
    assert len(clips) == 3 * 3  # each trial of 55-60 frames tiles into 3 clips of 20
    with_channels = SensoriumClips(mouse, ("train",), frames_per_clip=20, behavior_as_channels=True)[0]
    assert with_channels["video"].shape == (5, 20, 36, 64)
    np.testing.assert_allclose(with_channels["video"][1:, :, 3, 5].numpy(), with_channels["behavior"].numpy())
    test_item = SensoriumClips(mouse, ("final_test_main",), frames_per_clip=None)[0]
    assert torch.isnan(test_item["responses"]).all()
    with pytest.raises(ValueError, match="frames_per_clip"):
        SensoriumClips(mouse, ("train",), frames_per_clip=61)


def test_multi_mouse_loader_splits_batches_across_ranks(tiny_root):
    mice = read_mice(tiny_root)
    datasets = {name: SensoriumClips(m, ("train",), 20) for name, m in mice.items()}
    whole = [(name, batch["trial"].tolist()) for name, batch in MultiMouseLoader(datasets, 4, seed=3)]
    assert {name for name, _ in whole} == set(mice)
    assert sum(len(t) for _, t in whole) == sum(len(d) for d in datasets.values())  # every clip once per epoch
    schedule = MultiMouseLoader(datasets, 4, seed=3, world_size=2).schedule()
    rank0 = [(name, batch["trial"].tolist()) for name, batch in MultiMouseLoader(datasets, 4, seed=3, world_size=2)]
    rank1 = [(name, batch["trial"].tolist())
             for name, batch in MultiMouseLoader(datasets, 4, seed=3, rank=1, world_size=2)]
    assert [n for n, _ in rank0] == [n for n, _ in rank1] == [n for n, _ in schedule]  # same mouse at each step
    for (name, chunk), (_, a), (_, b) in zip(schedule, rank0, rank1, strict=True):
        expected = sorted(datasets[name].items[int(i)][0] for i in chunk)
        assert sorted(a + b) == expected and len(a) >= 1 and len(b) >= 1


# ------------------------------------------------------------------------------------------ metrics


def test_pearson_hand_computed():
    # x = [1, 2, 3], y = [2, 4, 7]: r = 15 / sqrt(228)
    r = pearson_per_neuron(np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 4.0, 7.0]]))
    assert r[0] == pytest.approx(15 / np.sqrt(228), abs=1e-7)
    # a constant prediction has std 0: eps keeps it finite and it scores 0, and NaN becomes 0
    assert pearson_per_neuron(np.ones((1, 4)), np.arange(4.0)[None])[0] == 0.0
    assert pearson_per_neuron(np.array([[np.nan, 1.0, 2.0]]), np.array([[1.0, 2.0, 3.0]]))[0] == 0.0


def test_single_trial_correlation_concatenates_after_skipping():
    responses = [np.array([[0.0, 0.0, 1.0, 2.0]]), np.array([[0.0, 0.0, 3.0, 1.0]])]
    predictions = [np.array([[5.0, 5.0, 1.0, 2.0]]), np.array([[5.0, 5.0, 2.0, 2.0]])]
    # after dropping 2 frames: r = [1, 2, 3, 1], p = [1, 2, 2, 2] -> 12 / sqrt(528)
    # (averaging per trial instead would give (1 + 0) / 2 = 0.5)
    value = single_trial_correlation(predictions, responses, skip_first_frames=2)
    assert value == pytest.approx(12 / np.sqrt(528), abs=1e-7)


def test_single_trial_correlation_drops_padding_and_averages_neurons():
    r = np.array([[0.0, 1.0, 2.0, np.nan], [2.0, 1.0, 0.0, np.nan]])
    p = np.array([[0.0, 1.0, 2.0, 100.0], [0.0, 1.0, 2.0, 100.0]])
    per = single_trial_correlation([p], [r], skip_first_frames=0, per_neuron=True)
    np.testing.assert_allclose(per, [1.0, -1.0], atol=1e-7)
    assert single_trial_correlation([p], [r], skip_first_frames=0) == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError, match="differ"):
        single_trial_correlation([p], [r[:, :3]], skip_first_frames=0)


def test_correlation_to_average_by_condition_hash():
    r = [np.array([[0.0, 1.0, 2.0]]), np.array([[0.0, 3.0, 2.0]]), np.array([[4.0, 0.0, 1.0]])]
    p = [np.array([[0.0, 2.0, 2.0]]), np.array([[0.0, 2.0, 2.0]]), np.array([[4.0, 0.0, 1.0]])]
    # condition a averages to [0, 2, 2] = its prediction; b is predicted exactly -> concatenation correlates 1
    assert correlation_to_average(p, r, ["a", "a", "b"], skip_first_frames=0) == pytest.approx(1.0, abs=1e-7)
    assert single_trial_correlation(p, r, skip_first_frames=0) < 0.99


def test_noise_ceiling_leave_one_out():
    trials = [np.array([[0.0, 1.0, 2.0]]), np.array([[0.0, 1.0, 2.0]]), np.array([[1.0, 1.0, 2.0]])]
    singles = np.concatenate([trials[0], trials[1], trials[2]], axis=1)[0]
    loo = np.concatenate([[0.5, 1, 2], [0.5, 1, 2], [0, 1, 2]])
    expected = np.corrcoef(singles, loo)[0, 1]
    assert noise_ceiling(trials, ["a", "a", "a"], skip_first_frames=0) == pytest.approx(expected, abs=1e-6)
    with pytest.raises(ValueError, match="repeated"):
        noise_ceiling(trials, ["a", "b", "c"], skip_first_frames=0)


def test_score_mice_pooled_vs_mean_over_mice():
    scores = score_mice({"a": np.array([0.1, 0.3, 0.5]), "b": np.array([0.7])})
    assert scores["a"] == pytest.approx(0.3) and scores["b"] == pytest.approx(0.7)
    assert scores["mean_over_mice"] == pytest.approx(0.5)
    assert scores["pooled"] == pytest.approx(0.4)


def test_perfect_rates_beat_noise_ceiling_on_demo(tiny_root):
    """The simulator's true rates predict single trials at least as well as the repeat-based ceiling."""
    mouse = read_mouse(list_mice(tiny_root)[0])
    truth = load_ground_truth(tiny_root, mouse.name)
    oracle = mouse.trials("oracle")
    responses = [mouse.load("responses", t) for t in oracle]
    rates = [truth["rates_per_frame"][t] for t in oracle]
    true_score = single_trial_correlation(rates, responses, skip_first_frames=0)
    assert true_score > 0.3
    assert true_score > noise_ceiling(responses, mouse.condition_hash[oracle], skip_first_frames=0) - 0.05


# ------------------------------------------------------------------------------------------ model, training


def test_core_is_causal():
    torch.manual_seed(0)
    model = SensoriumModel({"m": 3}, hidden_channels=4, n_layers=2).eval()
    video = torch.randn(1, 1, 20, 36, 64)
    behavior = torch.zeros(1, 4, 20)
    changed = video.clone()
    changed[:, :, 12:] = torch.randn_like(changed[:, :, 12:])
    with torch.no_grad():
        a, b = model(video, behavior, "m"), model(changed, behavior, "m")
    torch.testing.assert_close(a[..., :12], b[..., :12])
    assert not torch.allclose(a[..., 12:], b[..., 12:])
    assert (a >= 0).all()
    with pytest.raises(KeyError, match="no readout"):
        model(video, behavior, "other")


def test_poisson_loss_masks_nan_and_skips_frames():
    rates = torch.tensor([[[2.0, 1.0, 1.0]]])
    target = torch.tensor([[[5.0, float("nan"), 1.0]]])
    # only the last frame counts: 1 - 1 * log(1) = 1
    assert poisson_loss(rates, target, skip_frames=1).item() == pytest.approx(1.0)
    assert poisson_loss(rates, target).item() == pytest.approx(((2 - 5 * np.log(2)) + 1) / 2, rel=1e-5)


def test_training_checkpoint_roundtrip(tiny_root, tmp_path):
    config = TrainConfig(epochs=2, max_steps=2, batch_size=2, frames_per_clip=20, hidden_channels=4, n_layers=1,
                         progress=False)
    path = tmp_path / "model.pt"
    model, history = train_model(tiny_root, config, checkpoint=path)
    assert path.is_file() and len(history["oracle"]) == 1
    assert np.isfinite(history["loss"]).all()
    loaded, info = load_checkpoint(path)
    assert info["train_config"]["hidden_channels"] == 4
    mouse = read_mouse(list_mice(tiny_root)[0])
    trials = mouse.trials("oracle")[:1]
    np.testing.assert_allclose(predict_trials(loaded, mouse, trials)[0], predict_trials(model, mouse, trials)[0],
                               rtol=1e-5)
    with pytest.raises(FileNotFoundError, match="train first"):
        load_checkpoint(tmp_path / "missing.pt")


def test_readouts_gaussian_mask_and_factorized_option():
    readout = GaussianReadout(n_neurons=4, channels=3, height=9, width=16)
    mask = readout.mask.detach()
    assert mask.shape == (4, 9, 16)
    torch.testing.assert_close(mask.sum(dim=(1, 2)), torch.ones(4))
    with torch.no_grad():
        readout.mu[:] = torch.tensor([1.0, -1.0])  # right edge, top row
        readout.log_sigma[:] = -3.0
    peak = readout.mask[0].argmax()
    assert divmod(int(peak), 16) == (0, 15)
    model = SensoriumModel({"m": 2}, hidden_channels=4, n_layers=1, readout="factorized")
    assert model(torch.zeros(1, 1, 6, 36, 64), torch.zeros(1, 4, 6), "m").shape == (1, 2, 6)
    with pytest.raises(ValueError, match="readout must be"):
        SensoriumModel({"m": 2}, readout="spline")
