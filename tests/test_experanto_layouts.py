"""Experanto folders both ways, and the samples upstream would give (issue 13, Experanto half).

The fixtures below are written the way upstream Experanto's own test-data writers lay folders out
(``tests/create_screen_data.py`` and ``tests/create_sequence_data.py`` in sensorium-competition/experanto):
images with one stored frame and one timestamp and no ``num_frames``, a video with ``num_frames``, a
sequence as ``data.npy`` (float64) with ``end_time`` = its last sample's time and a ``timestamps.npy``. They
are our own code; every expected value is worked out by hand from the values written.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from experanto_helpers import private_index_cache  # noqa: F401 (autouse fixture)

from course_utils.experanto import ChunkDataset, Experiment, ScreenInterpolator, SequenceInterpolator
from course_utils.experanto.transforms import area_resize, area_weights
from course_utils.experanto.writer import (
    write_experiment_meta,
    write_screen_modality,
    write_sequence_modality,
)


def upstream_screen(root: Path, fps: float = 10.0, n_images: int = 10, n_video: int = 30) -> Path:
    """As upstream's create_screen_data: ``n_images`` images, then one video of ``n_video`` frames, on a
    ``fps`` grid from 0 s. Image i is constant i; video frame j is constant 100 + j. Frames 4 x 6."""
    root.mkdir(parents=True)
    (root / "data").mkdir()
    (root / "meta").mkdir()
    n = n_images + n_video
    np.save(root / "timestamps.npy", np.linspace(0.0, n / fps, n, endpoint=False))
    for i in range(n_images):
        np.save(root / "data" / f"{i:05d}.npy", np.full((4, 6), float(i), dtype=np.float32))
        (root / "meta" / f"{i:05d}.yml").write_text(yaml.safe_dump(
            {"first_frame_idx": i, "image_size": [4, 6], "modality": "image", "tier": "train"}))
    video = (100 + np.arange(n_video, dtype=np.float32))[:, None, None] * np.ones((1, 4, 6), np.float32)
    np.save(root / "data" / f"{n_images:05d}.npy", video)
    (root / "meta" / f"{n_images:05d}.yml").write_text(yaml.safe_dump(
        {"first_frame_idx": n_images, "num_frames": n_video, "image_size": [4, 6], "modality": "video",
         "tier": "train"}))
    (root / "meta.yml").write_text(yaml.safe_dump({"modality": "screen", "frame_rate": fps}))
    return root


def upstream_sequence(root: Path, start: float, end: float, rate: float, n_signals: int = 2,
                      shifts: np.ndarray | None = None) -> Path:
    """As upstream's _generate_sequence_data: ``round((end - start) * rate) + 1`` samples from ``start`` to
    ``end`` inclusive, float64 ``data.npy``; signal j of sample k is ``100 * j + k``."""
    (root / "meta").mkdir(parents=True)
    n = int(round((end - start) * rate)) + 1
    data = np.arange(n, dtype=np.float64)[:, None] + 100.0 * np.arange(n_signals)[None, :]
    np.save(root / "data.npy", data)
    np.save(root / "timestamps.npy", np.linspace(start, end, n))
    if shifts is not None:
        np.save(root / "meta" / "phase_shifts.npy", shifts)
    (root / "meta.yml").write_text(yaml.safe_dump({
        "start_time": start, "end_time": end, "modality": "sequence", "sampling_rate": rate,
        "phase_shift_per_signal": shifts is not None, "is_mem_mapped": False, "n_signals": n_signals,
        "n_timestamps": n, "dtype": "float64"}))
    return root


# ----------------------------------------------------------------------------------------- upstream writes, we read
def test_upstream_screen_images_hold_until_the_next_trial(tmp_path):
    folder = upstream_screen(tmp_path / "screen", fps=10.0, n_images=3, n_video=7)
    screen = ScreenInterpolator(folder)
    assert screen.trials["num_frames"].tolist() == [1, 1, 1, 7]  # images: one frame each, no num_frames needed
    times = np.array([0.0, 0.05, 0.25, 0.3, 0.35, 0.9, 0.95])
    frames, valid = screen.interpolate(times)
    # image 0 at 0-0.1, image 2 at 0.2-0.3, video frames 100-106 at 0.3-0.9; the range closes at 0.9
    assert valid.tolist() == [True, True, True, True, True, True, False]
    assert frames[:, 0, 0].tolist() == [0, 0, 2, 100, 100, 106]
    assert screen.sampling_rate == 10.0  # meta.yml's frame_rate


def test_upstream_sequence_end_time_is_the_last_sample(tmp_path):
    folder = upstream_sequence(tmp_path / "responses", start=0.0, end=1.0, rate=10.0)
    seq = SequenceInterpolator(folder)
    assert seq.n_timestamps == 11 and seq.data.dtype == np.float64
    values, valid = seq.interpolate(np.array([0.0, 0.55, 1.0, 1.01]))
    assert valid.tolist() == [True, True, True, False]  # closed at the last sample (1.0 s)
    assert values.dtype == np.float32 and values.tolist() == [[0, 100], [5, 105], [10, 110]]


def test_upstream_sequence_with_phase_shifts(tmp_path):
    folder = upstream_sequence(tmp_path / "responses", 0.0, 1.0, 10.0, shifts=np.array([0.0, 0.05]))
    values, valid = SequenceInterpolator(folder).interpolate(np.array([0.02, 0.12, 1.0, 1.04]))
    # every signal has a sample from 0.05 s (largest shift) to 1.0 s (end + smallest shift)
    assert valid.tolist() == [False, True, True, False]
    # at 0.12 s: signal 0 reads sample 1, signal 1 (shifted 0.05 s) sample floor(0.7) = 0
    assert values.tolist() == [[1, 100], [10, 109]]


def _upstream_experiment(root: Path, rate: float, responses_start: float, responses_end: float) -> Path:
    """Screen: 10 images then a 30-frame video at ``rate``; responses at ``rate`` over the given range."""
    upstream_screen(root / "screen", fps=rate)
    upstream_sequence(root / "responses", start=responses_start, end=responses_end, rate=rate)
    return root


@pytest.fixture()
def upstream_experiment(tmp_path) -> Path:
    """At 8 Hz (exact binary times): images 0-9 at 0, 0.125 ... 1.125 s, video frames 100-129 at 1.25-4.875 s;
    responses from -0.25 s to 5.0 s (43 samples)."""
    return _upstream_experiment(tmp_path / "upstream_exp", 8.0, -0.25, 5.0)


def _config(rate=8, **screen):
    return {"screen": {"sampling_rate": rate, "chunk_size": 5, "valid_condition": {"tier": "train"},
                       "include_blanks": True, "transforms": {}, **screen},
            "responses": {"sampling_rate": rate, "chunk_size": 5, "transforms": {}}}


def test_chunks_from_an_upstream_folder(upstream_experiment):
    ds = ChunkDataset(upstream_experiment, modality_config=_config(), seed=0)
    # both modalities cover [0, 4.875]; the whole screen chunk (s ... s + 0.5) must lie in [0.5, 4.375): s <= 3.75
    np.testing.assert_array_equal(ds.valid_times, np.arange(4, 31) / 8)
    sample = ds[3]  # s = 0.875: images 7, 8, 9, then video frames 100, 101
    assert sample["screen"][0, :, 0, 0].tolist() == [7, 8, 9, 100, 101]
    # responses sample k is at -0.25 + k / 8: at 0.875 s that is k = 9
    assert sample["responses"][:, 0].tolist() == [9, 10, 11, 12, 13]
    # timestamps are relative to the responses' start (-0.25 s), float32, as upstream returns them
    ts = sample["timestamps"]
    assert ts["screen"].dtype == torch.float32 and ts["screen"].tolist() == [1.125, 1.25, 1.375, 1.5, 1.625]
    raw = ChunkDataset(upstream_experiment, modality_config=_config(), normalize_timestamps=False)[3]["timestamps"]
    assert raw["screen"].dtype == torch.float64 and raw["screen"].tolist() == [0.875, 1.0, 1.125, 1.25, 1.375]


def test_exact_time_floor_and_upstream_clock(tmp_path):
    root = _upstream_experiment(tmp_path / "exp10", 10.0, -0.3, 4.0)
    # at s = 0.6 the responses are read at 0.6 s = sample 9 exactly; upstream computes
    # floor((0.6 + 0.3) / 0.1) = floor(8.999999999999998) = 8 and reads the sample before
    ours = ChunkDataset(root, modality_config=_config(rate=10), seed=0)
    theirs = ChunkDataset(root, modality_config=_config(rate=10), seed=0, upstream_clock=True)
    assert ours.valid_times[1] == theirs.valid_times[1] == 0.6
    assert ours[1]["responses"][:, 0].tolist() == [9, 10, 11, 12, 13]
    assert theirs[1]["responses"][:, 0].tolist() == [8, 10, 11, 11, 13]


def test_upstream_clock_drifts_onto_the_previous_frame(tmp_path):
    # 30 Hz screen, frame k = value k, 10 s; a 60-frame chunk starting on a frame
    root = tmp_path / "exp"
    frames = np.arange(300.0, dtype=np.float32)[:, None, None] * np.ones((1, 2, 2), np.float32)
    write_screen_modality(root / "screen", np.arange(300) / 30, [{"modality": "video", "data": frames, "tier": "train"}])
    write_sequence_modality(root / "responses", np.zeros((300, 1)), sampling_rate=30)
    config = {"screen": {"sampling_rate": 30, "chunk_size": 60, "valid_condition": {"tier": "train"},
                         "transforms": {}}}
    exact = ChunkDataset(root, modality_config=config)[0]["screen"][0, :, 0, 0].numpy()
    drift = ChunkDataset(root, modality_config=config, upstream_clock=True)[0]["screen"][0, :, 0, 0].numpy()
    assert exact.tolist() == list(range(15, 75))  # s = 0.5 s = frame 15, then one frame per slot
    # upstream steps by 3333e-5 s instead of 1/30 s: slot k is k * 3.33e-6 s early; from k = 30 on the drift
    # reaches the screen's 1e-4 s tolerance and the previous frame is shown: half of the 60 slots
    np.testing.assert_array_equal(drift[:30], exact[:30])
    np.testing.assert_array_equal(drift[30:], exact[30:] - 1)


# ----------------------------------------------------------------------------------------- we write, upstream reads
def test_written_sequence_and_screen_follow_upstreams_layout(tmp_path):
    write_sequence_modality(tmp_path / "treadmill", np.arange(4.0)[:, None], sampling_rate=2.0, start_time=1.0)
    meta = yaml.safe_load((tmp_path / "treadmill" / "meta.yml").read_text())
    assert meta["end_time"] == 2.5 and meta["n_timestamps"] == 4 and meta["is_mem_mapped"] is True
    assert np.load(tmp_path / "treadmill" / "timestamps.npy").tolist() == [1.0, 1.5, 2.0, 2.5]
    assert np.load(tmp_path / "treadmill" / "meta" / "stds.npy").shape == (1, 1)  # upstream indexes stds[0, :]


# ----------------------------------------------------------------------------------------- the screen resize
def test_area_rescale_is_pixel_repetition_for_36x64_to_144x256():
    x = torch.arange(36 * 64, dtype=torch.float32).reshape(1, 1, 36, 64)
    out = area_resize([144, 256])(x)
    assert out.shape == (1, 1, 144, 256)
    assert torch.equal(out, x.repeat_interleave(4, dim=2).repeat_interleave(4, dim=3))


@pytest.mark.parametrize(("width", "expected"), [
    (10, [0, 0, 5, 10, 10, 20, 20, 25, 30, 30]),  # 2.5x: two-tap weights, 0.5 where a step falls mid-pixel
    (7, [0, 2.5, 10, 15, 20, 27.5, 30]),
    (12, [0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30]),  # an integer factor repeats
    (3, [2.5, 15, 27.5]),  # shrinking: overlap-weighted averages of the 4/3-pixel cells
    (2, [5, 25]),
])
def test_area_rescale_values_worked_out_by_hand(width, expected):
    # OpenCV's INTER_AREA, by hand: enlarging 4 -> 10, output 2 reads pixel floor(2 * 0.4) = 0 and, with
    # weight (2 + 1) - (0 + 1) * 2.5 = 0.5, pixel 1: 0.5 * 0 + 0.5 * 10 = 5. Shrinking 4 -> 3, output 0 covers
    # [0, 4/3): pixel 0 in full (weight 3/4) and a third of pixel 1 (weight 1/4): 10 / 4 = 2.5.
    x = torch.tensor([[0.0, 10.0, 20.0, 30.0]]).repeat(2, 1)[None]
    out = area_resize([2, width])(x)
    np.testing.assert_allclose(out[0, 0].numpy(), expected, atol=1e-5)
    assert np.allclose(area_weights(4, width, width <= 4).sum(axis=1), 1)


def test_default_config_rescales_by_area_then_normalises(upstream_experiment):
    screen = upstream_experiment / "screen"
    np.save(screen / "meta" / "means.npy", np.array(50.0))
    np.save(screen / "meta" / "stds.npy", np.array(10.0))
    config = _config(interpolation={"rescale": True, "rescale_size": [8, 12]},
                     transforms={"normalization": "normalize", "Resize": {"size": [8, 12]}})
    sample = ChunkDataset(upstream_experiment, modality_config=config)[0]  # s = 0.5: images 4-8
    assert sample["screen"].shape == (1, 5, 8, 12) and sample["screen"].is_contiguous()
    np.testing.assert_allclose(sample["screen"][0, :, 7, 11].numpy(), (np.arange(4, 9) - 50) / 10)


# ----------------------------------------------------------------------------------------- upstream's options
def test_add_behavior_as_channels_is_deprecated_and_works(tmp_path):
    root = tmp_path / "exp"
    write_screen_modality(root / "screen", np.arange(100) / 10,
                          [{"modality": "video", "data": np.zeros((100, 2, 3)), "tier": "train"}], mean=0.0, std=1.0)
    write_sequence_modality(root / "eye_tracker", np.stack([np.arange(100.0), -np.arange(100.0)], axis=1), 10)
    write_sequence_modality(root / "treadmill", 1000 + np.arange(100.0)[:, None], 10)
    write_experiment_meta(root, "b")
    seq = {"sampling_rate": 10, "chunk_size": 4, "transforms": {}}
    config = {"screen": {"sampling_rate": 10, "chunk_size": 4, "valid_condition": {"tier": "train"},
                         "transforms": {}}, "eye_tracker": dict(seq), "treadmill": dict(seq)}
    with pytest.warns(DeprecationWarning, match="add_behavior_as_channels"):
        ds = ChunkDataset(root, modality_config=config, add_behavior_as_channels=True)
    screen = ds[0]["screen"]  # s = 0.5 s: samples 5-8
    assert screen.shape == (4, 4, 2, 3)  # 1 screen + 2 eye tracker + 1 treadmill channels
    assert screen[1, :, 1, 2].tolist() == [5, 6, 7, 8] and screen[2, :, 0, 0].tolist() == [-5, -6, -7, -8]
    assert screen[3, :, 0, 1].tolist() == [1005, 1006, 1007, 1008]
    config["treadmill"]["chunk_size"] = 5
    with warnings.catch_warnings(), pytest.raises(ValueError, match="equal chunk sizes"):
        warnings.simplefilter("ignore", DeprecationWarning)
        ChunkDataset(root, modality_config=config, add_behavior_as_channels=True)


def test_keep_nans_at_the_modality_level_and_replace_nans_with_means(tmp_path):
    root = tmp_path / "exp"
    write_screen_modality(root / "screen", np.arange(100) / 10,
                          [{"modality": "video", "data": np.zeros((100, 2, 2)), "tier": "train"}])
    values = np.arange(100.0)
    values[12] = np.nan
    write_sequence_modality(root / "treadmill", values[:, None], 10, means=np.array([7.0]), stds=np.array([1.0]))
    base = {"screen": {"sampling_rate": 10, "chunk_size": 3, "valid_condition": {}, "transforms": {}}}
    linear = {"sampling_rate": 10, "chunk_size": 3, "transforms": {}, "interpolation": {"interpolation_mode": "linear"}}
    # s = 0.5: times 0.5, 0.6, 0.7 on a chunk with offset 0.6 s -> samples 11, 12 (NaN), 13
    linear["offset"] = 0.6
    kept = ChunkDataset(root, modality_config={**base, "treadmill": {**linear, "keep_nans": True}})[0]["treadmill"]
    assert kept[0, 0] == 11 and torch.isnan(kept[1, 0]) and kept[2, 0] == 13
    replaced = ChunkDataset(root, modality_config={**base, "treadmill": linear})[0]["treadmill"]
    assert replaced[:, 0].tolist() == [11, 12, 13]  # upstream's default: the chunk's mean of 11 and 13
    by_mean = ChunkDataset(root, modality_config={**base, "treadmill": {**linear, "keep_nans": True}},
                           replace_nans_with_means=True)[0]["treadmill"]
    assert by_mean[:, 0].tolist() == [11, 7, 13]  # the folder's mean (7)


def test_experiment_reads_upstream_meta_json_scan_key(tmp_path, upstream_experiment):
    (upstream_experiment / "meta.json").write_text('{"scan_key": {"animal_id": 26872, "session": 17, "scan_idx": 20}}')
    assert Experiment(upstream_experiment).data_key == "26872-17-20"
