"""Experanto experiment folders: interpolation, chunking, conversion, errors, on tiny hand-built folders.

Every expected value below is worked out by hand from the folder the test writes.
"""

from __future__ import annotations

import copy
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from experanto_helpers import private_index_cache  # noqa: F401 (autouse fixture)

from course_utils.experanto import (
    ChunkDataset,
    Experiment,
    ScreenInterpolator,
    SequenceInterpolator,
    condition_mask,
    convert_sensorium_mouse,
    get_multisession_dataloader,
    load_trial_table,
)
from course_utils.experanto.writer import (
    write_experiment_meta,
    write_screen_modality,
    write_sequence_modality,
)
from course_utils.fileio import BadFileError


# ----------------------------------------------------------------------------------------- sequences
@pytest.fixture()
def ramp(tmp_path) -> Path:
    """One signal 0, 10, 20, 30, 40 sampled at 10 Hz from t = 2.0 s: covers [2.0, 2.4] (end = last sample)."""
    folder = tmp_path / "ramp"
    write_sequence_modality(folder, (np.arange(5.0) * 10)[:, None], sampling_rate=10, start_time=2.0)
    return folder


def test_floor_interpolation_takes_previous_sample(ramp):
    values, valid = SequenceInterpolator(ramp).interpolate(np.array([2.0, 2.05, 2.099, 2.1, 2.4, 2.41, 1.99]))
    assert valid.tolist() == [True, True, True, True, True, False, False]  # closed [2.0, 2.4]
    assert values.ravel().tolist() == [0, 0, 0, 10, 40]
    meta = yaml.safe_load((ramp / "meta.yml").read_text())
    assert meta["end_time"] == pytest.approx(2.4) and meta["n_timestamps"] == 5  # upstream's end_time


def test_nearest_rounding_reads_the_future(ramp):
    values, _ = SequenceInterpolator(ramp, rounding="nearest").interpolate(np.array([2.04, 2.06, 2.099]))
    # 2.06 s is closer to the sample at 2.1 s, which was recorded after 2.06 s
    assert values.ravel().tolist() == [0, 10, 10]


def test_linear_interpolation_uses_true_sample_times(ramp):
    # upstream (before its 2026 fix) computed the weights as if start_time were 0
    values, _ = SequenceInterpolator(ramp, interpolation_mode="linear").interpolate(np.array([2.05, 2.125, 2.4]))
    np.testing.assert_allclose(values.ravel(), [5.0, 12.5, 40.0])


def test_linear_interpolation_nans_kept_or_replaced_by_the_call_mean(tmp_path):
    write_sequence_modality(tmp_path / "s", np.array([[0.0], [np.nan], [2.0]]), sampling_rate=1)
    times = np.array([0.0, 0.5, 1.5, 2.0])
    kept, _ = SequenceInterpolator(tmp_path / "s", interpolation_mode="linear", keep_nans=True).interpolate(times)
    assert kept[0, 0] == 0 and np.isnan(kept[1, 0]) and np.isnan(kept[2, 0]) and kept[3, 0] == 2
    # upstream's default keep_nans=False: each NaN becomes the mean of the non-NaN values of the call, (0 + 2) / 2
    replaced, _ = SequenceInterpolator(tmp_path / "s", interpolation_mode="linear").interpolate(times)
    assert replaced.ravel().tolist() == [0.0, 1.0, 1.0, 2.0]


def test_phase_shifts_per_signal(tmp_path):
    data = np.stack([np.arange(5.0), 100 + np.arange(5.0)], axis=1)
    write_sequence_modality(tmp_path / "r", data, sampling_rate=10, phase_shifts=np.array([0.0, 0.05]))
    interp = SequenceInterpolator(tmp_path / "r")
    values, valid = interp.interpolate(np.array([0.02, 0.12, 0.16]))
    # every signal has data from 0.05 s (the largest shift) on; at 0.12 s signal 1's latest sample is at 0.05
    assert valid.tolist() == [False, True, True]
    assert values.tolist() == [[1.0, 100.0], [1.0, 101.0]]


# ----------------------------------------------------------------------------------------- screen
@pytest.fixture()
def screen(tmp_path) -> Path:
    """Upstream's layout: image (value 1) shown at 0.0 s, blank (grey 7) at 0.2 s, then a video of two frames
    (10, 11) at 0.4 and 0.5 s: four stored frames, four timestamps."""
    folder = tmp_path / "screen"
    trials = [
        {"modality": "image", "data": np.ones((2, 3)), "tier": "train"},
        {"modality": "blank", "image_size": [2, 3], "interleave_value": 7.0, "tier": "blank"},
        {"modality": "video", "data": np.stack([np.full((2, 3), 10.0), np.full((2, 3), 11.0)]), "tier": "test"},
    ]
    write_screen_modality(folder, np.array([0.0, 0.2, 0.4, 0.5]), trials)
    return folder


def test_screen_holds_frame_until_next(screen):
    times = np.array([0.0, 0.15, 0.2, 0.19995, 0.45, 0.5, 0.51, -0.01])
    frames, valid = ScreenInterpolator(screen).interpolate(times)
    assert valid.tolist() == [True, True, True, True, True, True, False, False]  # closed [0.0, 0.5]
    # 0.19995 s is within the 0.1 ms tolerance of the blank shown at 0.2 s; the image is held until then
    assert frames[:, 0, 0].tolist() == [1, 1, 7, 7, 10, 11]
    assert frames.shape == (6, 2, 3)


def test_written_screen_has_upstream_layout(screen):
    assert np.load(screen / "timestamps.npy").tolist() == [0.0, 0.2, 0.4, 0.5]
    image, blank, video = (yaml.safe_load((screen / "meta" / f"0000{i}.yml").read_text()) for i in range(3))
    assert "num_frames" not in image and "num_frames" not in blank and video["num_frames"] == 2
    assert [image["first_frame_idx"], blank["first_frame_idx"], video["first_frame_idx"]] == [0, 1, 2]
    assert blank["image_size"] == [2, 3] and np.load(screen / "data" / "00000.npy").shape == (2, 3)
    assert not (screen / "data" / "00001.npy").exists()


def test_writer_refuses_a_held_image_with_several_frames(tmp_path):
    with pytest.raises(ValueError, match="one frame and one timestamp"):
        write_screen_modality(tmp_path / "s", np.arange(3.0),
                              [{"modality": "image", "num_frames": 3, "data": np.ones((2, 2))}])


def test_trial_table_and_conditions(screen):
    table = load_trial_table(screen)
    assert table["modality"].tolist() == ["image", "blank", "video"]
    assert table["first_frame_idx"].tolist() == [0, 1, 2]
    assert ScreenInterpolator(screen).trials["num_frames"].tolist() == [1, 1, 2]
    assert condition_mask(table, [{"tier": "train"}, {"tier": "test", "modality": "video"}]).tolist() == [
        True, False, True]
    assert condition_mask(table, {"tier": "test", "modality": "image"}).tolist() == [False, False, False]
    with pytest.raises(KeyError, match="stim_type"):
        condition_mask(table, {"stim_type": "x"})


def test_trial_table_is_cached_outside_the_data_folder(screen, tmp_path):
    cache = tmp_path / "index_cache"
    before = sorted(p.name for p in screen.rglob("*"))
    load_trial_table(screen)
    assert len(list(cache.glob("trials-*.json"))) == 1
    assert sorted(p.name for p in screen.rglob("*")) == before
    # an edited trial file changes the fingerprint: the cache is not reused
    meta = screen / "meta" / "00002.yml"
    content = yaml.safe_load(meta.read_text())
    content["tier"] = "validation"
    os.utime(meta, ns=(1, 1))  # make sure the mtime changes even on coarse clocks
    meta.write_text(yaml.safe_dump(content))
    assert load_trial_table(screen)["tier"].tolist() == ["train", "blank", "validation"]


# ----------------------------------------------------------------------------------------- chunks
def _tiny_experiment(root: Path) -> Path:
    """Screen 10 Hz, 100 frames (0.0-9.9 s): train video [0, 4 s), test video [4, 6 s), train video [6, 10 s);
    frame k has value k. Treadmill 10 Hz over [0, 9.9 s], value = 1000 + k, NaN at sample 80 (t = 8.0 s).
    Responses 5 Hz over [0, 10 s], value = 2000 + k."""
    frames = np.arange(100.0)[:, None, None] * np.ones((1, 4, 6))
    trials = [
        {"modality": "video", "num_frames": 40, "data": frames[:40], "tier": "train"},
        {"modality": "video", "num_frames": 20, "data": frames[40:60], "tier": "test"},
        {"modality": "video", "num_frames": 40, "data": frames[60:], "tier": "train"},
    ]
    write_screen_modality(root / "screen", np.arange(100) / 10, trials, mean=0.0, std=1.0)
    tread = 1000 + np.arange(100.0)
    tread[80] = np.nan
    write_sequence_modality(root / "treadmill", tread[:, None], sampling_rate=10)
    write_sequence_modality(root / "responses", (2000 + np.arange(51.0))[:, None], sampling_rate=5)
    write_experiment_meta(root, "tiny")
    return root


def _config(**screen_overrides):
    screen = {"sampling_rate": 10, "chunk_size": 10, "valid_condition": {"tier": "train"}, "offset": 0,
              "include_blanks": False, "transforms": {"normalization": None}}
    screen.update(screen_overrides)
    return {
        "screen": screen,
        "treadmill": {"sampling_rate": 10, "chunk_size": 10, "offset": 0, "transforms": {"normalization": None},
                      "filters": {"nan_filter": {"vicinity": 0.05}}},
        "responses": {"sampling_rate": 5, "chunk_size": 3, "offset": 0.2, "transforms": {"normalization": None}},
    }


@pytest.fixture()
def tiny(tmp_path) -> Path:
    return _tiny_experiment(tmp_path / "tiny")


def test_valid_chunk_starts_worked_out_by_hand(tiny):
    ds = ChunkDataset(tiny, modality_config=_config(), seed=0)
    # the experiment covers [0, 9.9 s]; the whole screen chunk (s ... s + 0.9) must lie in [0.5, 9.4): s <= 8.4.
    # It must stay in a train trial: 0.5-3.0 (26 starts) and 6.0-8.4; the treadmill NaN at 8.0 s is held until
    # 8.1 s and widened by 0.05 s: [7.95, 8.15) removes starts 7.1-8.1, leaving 6.0-7.0 (11) and 8.2-8.4 (3).
    expected = np.round(np.r_[np.arange(5, 31), np.arange(60, 71), np.arange(82, 85)] / 10, 5)
    np.testing.assert_allclose(ds.valid_times, expected)
    assert len(ds) == 40


def test_sample_values_and_timestamps(tiny):
    ds = ChunkDataset(tiny, modality_config=_config(), seed=0)
    sample = ds[0]  # start 0.5 s
    assert sample["screen"].shape == (1, 10, 4, 6)
    assert sample["screen"][0, :, 0, 0].tolist() == list(range(5, 15))
    assert sample["treadmill"][:, 0].tolist() == list(range(1005, 1015))
    # responses at 0.5 + 0.2 + (0, 0.2, 0.4) = 0.7, 0.9, 1.1 s -> 5 Hz samples 3, 4, 5
    assert sample["responses"][:, 0].tolist() == [2003, 2004, 2005]
    # timestamps relative to the responses' start (0 here), float32, as upstream
    assert sample["timestamps"]["responses"].dtype == torch.float32
    np.testing.assert_allclose(sample["timestamps"]["responses"].numpy(), [0.7, 0.9, 1.1], rtol=1e-6)
    assert set(sample) == {"screen", "treadmill", "responses", "timestamps"}


def test_normalisation_and_resize(tiny):
    cfg = _config(transforms={"normalization": "normalize", "Resize": {"size": [8, 12]}})
    cfg["treadmill"]["transforms"] = {"normalization": "normalize_variance_only"}
    ds = ChunkDataset(tiny, modality_config=cfg)
    sample = ds[0]
    assert sample["screen"].shape == (1, 10, 8, 12)
    np.testing.assert_allclose(sample["screen"][0, :, 3, 5].numpy(), np.arange(5, 15), atol=1e-4)  # uniform frames
    std = np.nanstd(np.r_[1000 + np.arange(80.0), 1000 + np.arange(81.0, 100)])
    np.testing.assert_allclose(sample["treadmill"][:, 0].numpy(), (1005 + np.arange(10)) / std, rtol=1e-5)


def test_conditions_or_of_and_and_blanks(tiny):
    ds = ChunkDataset(tiny, modality_config=_config(valid_condition=[{"tier": "train"}, {"tier": "test"}]))
    # every trial matches: only the margins and the NaN filter remove starts: 0.5-8.4 minus 7.1-8.1
    assert len(ds) == len(np.arange(5, 85)) - len(np.arange(71, 82))


def test_stride_is_seeded_and_reproducible(tiny):
    a = ChunkDataset(tiny, modality_config=_config(sample_stride=4), seed=3)
    b = ChunkDataset(tiny, modality_config=_config(sample_stride=4), seed=3)
    np.testing.assert_array_equal(a.valid_times, b.valid_times)
    assert len(a) == 10  # 40 starts, every 4th from a random phase
    assert np.all(np.isin(a.valid_times, ChunkDataset(tiny, modality_config=_config()).valid_times))
    torch.testing.assert_close(a[2]["screen"], b[2]["screen"])


def test_global_rate_and_chunk_size(tiny):
    ds = ChunkDataset(tiny, global_sampling_rate=10, global_chunk_size=5, modality_config=_config())
    assert {k: v.shape[0] for k, v in ds[0].items() if k not in ("timestamps", "screen")} == {
        "treadmill": 5, "responses": 5}


def test_multisession_loader_cycles_sessions(tmp_path):
    paths = [_tiny_experiment(tmp_path / "a"), _tiny_experiment(tmp_path / "b")]
    write_experiment_meta(paths[1], "other")
    loader = get_multisession_dataloader(paths, {"dataset": {"modality_config": _config(), "seed": 0},
                                                 "dataloader": {"batch_size": 16}})
    keys = [key for key, _ in loader]
    assert keys == ["tiny", "other"] * 3  # ceil(40 / 16) = 3 batches per session
    key, batch = next(iter(loader))
    assert batch["screen"].shape == (16, 1, 10, 4, 6)
    assert batch["timestamps"]["treadmill"].shape == (16, 10)


def test_experiment_interpolates_all_modalities(tiny):
    exp = Experiment(tiny)
    values, valid = exp.interpolate(np.array([1.05, 9.9, 9.95]))
    # values come for the valid times only: screen and treadmill end at 9.9 s (closed), the responses at 10 s
    assert values["screen"][:, 0, 0].tolist() == [10, 99]
    assert values["treadmill"].ravel().tolist() == [1010, 1099]
    assert values["responses"].ravel().tolist() == [2005, 2049, 2049]
    assert valid["screen"].tolist() == [True, True, False] and valid["responses"].tolist() == [True, True, True]
    assert (exp.start_time, exp.end_time) == (0.0, 9.9)


def test_nothing_is_written_into_a_read_only_folder(tiny):
    files = {p: p.stat().st_mtime_ns for p in tiny.rglob("*")}
    for p in [tiny, *tiny.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        ds = ChunkDataset(tiny, modality_config=_config())
        assert len(ds) == 40
        assert {p: p.stat().st_mtime_ns for p in tiny.rglob("*")} == files
    finally:
        for p in [tiny, *tiny.rglob("*")]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


# ----------------------------------------------------------------------------------------- errors
def test_error_config_modality_missing_from_folder(tiny):
    cfg = _config()
    cfg["eye_tracker"] = {"sampling_rate": 30, "chunk_size": 60}
    with pytest.raises(FileNotFoundError, match="eye_tracker"):
        ChunkDataset(tiny, modality_config=cfg)


def test_error_meta_missing_a_key(tiny):
    meta_path = tiny / "treadmill" / "meta.yml"
    meta = yaml.safe_load(meta_path.read_text())
    del meta["sampling_rate"]
    meta_path.write_text(yaml.safe_dump(meta))
    with pytest.raises(KeyError, match=r"treadmill/meta.yml.*sampling_rate"):
        ChunkDataset(tiny, modality_config=_config())


def test_error_trial_meta_missing_a_key(tiny):
    path = tiny / "screen" / "meta" / "00001.yml"
    meta = yaml.safe_load(path.read_text())
    del meta["first_frame_idx"]
    path.write_text(yaml.safe_dump(meta))
    with pytest.raises(KeyError, match=r"00001.yml.*first_frame_idx"):
        Experiment(tiny)


def test_num_frames_is_not_required_but_must_agree(tiny):
    path = tiny / "screen" / "meta" / "00001.yml"
    meta = yaml.safe_load(path.read_text())
    del meta["num_frames"]
    path.write_text(yaml.safe_dump(meta))
    assert Experiment(tiny).devices["screen"].trials["num_frames"].tolist() == [40, 20, 40]  # from first_frame_idx
    meta["num_frames"] = 21
    path.write_text(yaml.safe_dump(meta))
    with pytest.raises(BadFileError, match=r"00001.yml.*num_frames=21.*20 stored frames"):
        Experiment(tiny)


def test_error_missing_modality_meta(tiny):
    (tiny / "treadmill" / "meta.yml").unlink()
    with pytest.raises(FileNotFoundError, match="treadmill"):
        ChunkDataset(tiny, modality_config=_config())


def test_error_no_valid_chunk(tiny):
    with pytest.raises(ValueError, match=r"No valid chunk.*screen 50 x 10 Hz = 5 s"):
        ChunkDataset(tiny, modality_config=_config(chunk_size=50))


def test_error_missing_sampling_rate_in_config(tiny):
    cfg = _config()
    cfg["treadmill"]["sampling_rate"] = None
    with pytest.raises(ValueError, match="global_sampling_rate"):
        ChunkDataset(tiny, modality_config=cfg)


def test_error_unknown_screen_transform(tiny):
    with pytest.raises(ValueError, match="not supported"):
        ChunkDataset(tiny, modality_config=_config(transforms={"Blur": {"_target_": "os.system"}}))


# ----------------------------------------------------------------------------------------- converter
_RECORDING_ORDER = (1, 0)


def _sensorium_mouse(folder: Path, trial_idx: tuple | None = _RECORDING_ORDER, stats: bool = False) -> Path:
    """Two trials in the Sensorium layout, stored in reverse recording order; 3 and 2 frames, NaN-padded
    to 4; 2 neurons."""
    for kind in ("videos", "responses", "behavior", "pupil_center"):
        (folder / "data" / kind).mkdir(parents=True)
    (folder / "meta" / "trials").mkdir(parents=True)
    (folder / "meta" / "neurons").mkdir(parents=True)
    lengths = {0: 2, 1: 3}  # file 0 is the second trial recorded (trial_idx 1)
    for i, n in lengths.items():
        video = np.full((36, 64, 4), np.nan, dtype=np.float32)
        video[:, :, :n] = (100 * i + np.arange(n))[None, None, :]
        resp = np.full((2, 4), np.nan, dtype=np.float32)
        resp[:, :n] = np.array([[10 * i], [20 * i]]) + np.arange(n)
        beh = np.full((2, 4), np.nan, dtype=np.float32)
        beh[:, :n] = np.array([[1.0], [2.0]]) * (i + 1)
        pup = np.full((2, 4), np.nan, dtype=np.float32)
        pup[:, :n] = np.array([[30.0], [40.0]]) + i
        for kind, arr in (("videos", video), ("responses", resp), ("behavior", beh), ("pupil_center", pup)):
            np.save(folder / "data" / kind / f"{i}.npy", arr)
    np.save(folder / "meta" / "trials" / "tiers.npy", np.array(["oracle", "train"]))
    if trial_idx is not None:
        np.save(folder / "meta" / "trials" / "trial_idx.npy", np.asarray(trial_idx))
    np.save(folder / "meta" / "trials" / "condition_hash.npy", np.array(["h0", "h1"]))
    np.save(folder / "meta" / "neurons" / "unit_ids.npy", np.array([7, 9]))
    np.save(folder / "meta" / "neurons" / "cell_motor_coordinates.npy", np.array([[0, 0, 0], [10, -5, 20]]))
    if stats:  # statistics with a frame axis (4 frames), as some references store them
        for kind, n in (("videos", None), ("responses", 2), ("behavior", 2), ("pupil_center", 2)):
            d = folder / "meta" / "statistics" / kind / "all"
            d.mkdir(parents=True)
            shape = (36, 64) if n is None else (n, 4)
            mean = np.zeros(shape)
            mean[..., :2] = 2.0  # per frame 2, 2, 0, 0: mean 1, variance of the means 1
            for name, value in (("mean", mean), ("std", np.ones(shape)), ("min", np.zeros(shape)),
                                ("max", np.ones(shape)), ("median", np.zeros(shape))):
                np.save(d / f"{name}.npy", value if n is not None or name != "mean" else np.full(shape, 5.0))
    return folder


def test_convert_sensorium_mouse(tmp_path):
    mouse = _sensorium_mouse(tmp_path / "dynamic1-Video-x")
    out = convert_sensorium_mouse(mouse, tmp_path / "exp", gap_s=0.1)  # 3 samples of gap, one blank trial
    exp = Experiment(out)
    assert exp.data_key == "dynamic1-Video-x"
    table = exp.devices["screen"].trials
    assert table["modality"].tolist() == ["video", "blank", "video"]
    assert table["tier"].tolist() == ["train", "blank", "oracle"]  # recording order: file 1, then file 0
    assert table["trial_idx"].iloc[[0, 2]].tolist() == [0, 1] and table["sensorium_file"].iloc[[0, 2]].tolist() == [1, 0]
    assert table["num_frames"].tolist() == [3, 1, 2]  # the blank: one stored frame, one timestamp
    # samples k / 30 s: 0-2 = file 1 (values 100-102), 3-5 gap (the blank's timestamp at 3/30), 6-7 = file 0
    np.testing.assert_allclose(exp.devices["screen"].timestamps * 30, [0, 1, 2, 3, 6, 7])
    t = np.array([0, 2, 4, 6, 6.9, 7]) / 30
    values, valid = exp.interpolate(t)
    assert valid["screen"].all()  # the screen's range is closed at its last timestamp
    # the blank's grey is the first trial's mean luminance (101)
    assert values["screen"][:, 0, 0].tolist() == [100, 102, 101, 0, 0, 1]
    seq, _ = exp.interpolate(np.array([0, 2, 6, 7]) / 30, ["responses", "treadmill", "eye_tracker"])
    assert seq["responses"].tolist() == [[10, 20], [12, 22], [0, 0], [1, 1]]
    assert seq["treadmill"].ravel().tolist() == [4, 4, 2, 2]
    assert seq["eye_tracker"].tolist() == [[2, 31, 41], [2, 31, 41], [1, 30, 40], [1, 30, 40]]
    gap, _ = exp.interpolate(np.array([4 / 30]))
    assert np.isnan(gap["responses"]).all()
    with pytest.raises(FileExistsError):
        convert_sensorium_mouse(mouse, out)


def test_convert_keeps_string_trial_idx_in_file_order(tmp_path):
    mouse = _sensorium_mouse(tmp_path / "dynamic2-Video-y", trial_idx=("b--1", "a--2"))
    exp = Experiment(convert_sensorium_mouse(mouse, tmp_path / "exp", gap_s=0.1))
    table = exp.devices["screen"].trials.query("modality == 'video'")
    # string recording ids carry no order: the files are laid out in file order, and the ids kept as strings
    assert table["sensorium_file"].tolist() == [0, 1] and table["trial_idx"].tolist() == ["b--1", "a--2"]


def test_convert_without_trial_idx(tmp_path):
    from course_utils.sensorium.reader import read_mouse

    mouse = _sensorium_mouse(tmp_path / "dynamic3-Video-z", trial_idx=None)
    try:
        read_mouse(mouse)
    except FileNotFoundError:
        pytest.skip("course_utils.sensorium's reader still requires meta/trials/trial_idx.npy (its owner is "
                    "changing that); the converter itself does not")
    exp = Experiment(convert_sensorium_mouse(mouse, tmp_path / "exp", gap_s=0.1))
    table = exp.devices["screen"].trials.query("modality == 'video'")
    assert table["sensorium_file"].tolist() == [0, 1] and "trial_idx" not in table


def test_convert_reduces_statistics_with_a_frame_axis(tmp_path):
    mouse = _sensorium_mouse(tmp_path / "dynamic4-Video-w", stats=True)
    out = convert_sensorium_mouse(mouse, tmp_path / "exp", gap_s=0.1)
    # per-frame means (2, 2, 0, 0) and stds 1: mean 1, std sqrt(mean(1) + var(2, 2, 0, 0)) = sqrt(2)
    for name, n in (("responses", 2), ("treadmill", 1), ("eye_tracker", 3)):
        np.testing.assert_allclose(np.load(out / name / "meta" / "means.npy"), np.ones((1, n)))
        np.testing.assert_allclose(np.load(out / name / "meta" / "stds.npy"), np.full((1, n), np.sqrt(2)))
    # the video's statistics are per pixel: mean 5 everywhere, std 1
    assert np.load(out / "screen" / "meta" / "means.npy") == 5.0 and np.load(out / "screen" / "meta" / "stds.npy") == 1.0


def test_convert_rejects_non_sensorium_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a Sensorium mouse folder"):
        convert_sensorium_mouse(tmp_path, tmp_path / "out")


@pytest.mark.parametrize(("size_in", "size_out"), [((36, 64), (144, 256)), ((144, 256), (36, 64)), ((9, 8), (5, 12))])
def test_matrix_resize_equals_bilinear_interpolate(size_in, size_out):
    from course_utils.experanto.transforms import screen_transforms_from_config

    x = torch.rand(1, 3, *size_in) * 255
    shrink = size_out[0] < size_in[0] or size_out[1] < size_in[1]
    expected = torch.nn.functional.interpolate(x[0][:, None], size=size_out, mode="bilinear", align_corners=False,
                                               antialias=shrink)[:, 0]
    (resize,) = screen_transforms_from_config({"Resize": {"size": list(size_out)}})
    torch.testing.assert_close(resize(x)[0], expected, atol=1e-3, rtol=1e-5)


def _special_frames(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """float32 frames with the values where two implementations of the same arithmetic could part."""
    frames = np.random.default_rng(seed).normal(0, 50, (n, h, w)).astype(np.float32)
    special = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45, -1e-40, 3.4e38, -3.4e38],
                       dtype=np.float32)
    frames.reshape(-1)[: special.size] = special
    return frames


@pytest.fixture
def kernel_spy(monkeypatch):
    """Calls of the compiled kernel (the frames' shapes), with the environment switch unset."""
    pytest.importorskip("numba")
    from course_utils.experanto import kernels

    monkeypatch.delenv("COURSE_COMPILED_KERNELS", raising=False)
    calls = []
    real = kernels.repeat_normalized
    monkeypatch.setattr(kernels, "repeat_normalized", lambda f, *a, **kw: calls.append(f.shape) or real(f, *a, **kw))
    return calls


@pytest.mark.parametrize("fy,fx", [(4, 4), (2, 2), (3, 3), (1, 4), (4, 1), (2, 5), (1, 1)])
def test_compiled_kernel_equals_the_numpy_path_bit_for_bit(fy, fx, kernel_spy):
    from course_utils.experanto.transforms import repeat_pixels

    frames = _special_frames(7, 5, 6)
    wide = _special_frames(7, 5, 12)
    read_only = wide[:, :, :6].copy()
    read_only.flags.writeable = False
    sources = [frames, wide[:, :, ::2], read_only, frames[:0]]  # plain, strided, read-only, no frames
    all_stats = [None, (None, np.float32(0.3)), (np.float32(-1.5), np.float32(0.3)),
                 (np.float32(0.25), np.float32(0.0)),  # std 0: inf and nan, as NumPy, not an error
                 (np.full((1, 1), -1.5, np.float32), np.full((1, 1), 0.3, np.float32)),  # load_statistics' shape
                 (np.float32(np.nan), np.float32(0.3))]
    for source in sources:
        for normalize in all_stats:
            with np.errstate(all="ignore"):  # overflow and division by zero, on purpose
                numpy_out = repeat_pixels(source, fy, fx, normalize=normalize, compiled=False)
            calls = len(kernel_spy)
            compiled_out = repeat_pixels(source, fy, fx, normalize=normalize, compiled=True)
            assert len(kernel_spy) == calls + 1
            assert compiled_out.shape == (len(source), 5 * fy, 6 * fx) and compiled_out.dtype == np.float32
            assert compiled_out.flags.c_contiguous and compiled_out.flags.writeable
            np.testing.assert_array_equal(compiled_out.view(np.uint32), numpy_out.view(np.uint32))
    np.testing.assert_array_equal(frames.view(np.uint32), _special_frames(7, 5, 6).view(np.uint32))  # untouched


def test_repeat_pixels_uses_the_kernel_only_where_it_gives_the_same_values(kernel_spy, monkeypatch):
    from course_utils.experanto.transforms import repeat_pixels

    frames = _special_frames(3, 2, 4)
    stats = (np.float32(0.5).reshape(()), np.float32(2.0))
    repeat_pixels(frames, 2, 2, normalize=stats)
    repeat_pixels(frames, 2, 2, normalize=(np.full((1, 1), 0.5, np.float32), np.full((1,), 2.0, np.float32)))
    assert len(kernel_spy) == 2  # float32 frames and single float32 statistics: compiled by default
    repeat_pixels(frames.astype(np.float64), 2, 2)
    repeat_pixels(np.arange(8).reshape(2, 2, 2), 2, 2)
    repeat_pixels(frames, 2, 2, normalize=(np.float64(0.5), np.float32(2.0)))  # float64 arithmetic: NumPy's
    repeat_pixels(frames, 2, 2, normalize=(None, np.full(4, 2.0, np.float32)))  # a std per column: NumPy's
    assert len(kernel_spy) == 2
    with pytest.raises(TypeError, match="statistics must be single float32 values"):
        repeat_pixels(frames, 2, 2, normalize=(np.float64(0.5), np.float32(2.0)), compiled=True)
    with pytest.raises(TypeError, match="float32 frames; got int64"):
        repeat_pixels(np.arange(8).reshape(2, 2, 2), 2, 2, compiled=True)
    for compiled in (None, False):  # the same error on both paths, for any dtype
        for bad in ((0, 2), (2, -1), (2.0, 2)):
            with pytest.raises(ValueError, match="positive integers; got fy="):
                repeat_pixels(frames, *bad, compiled=compiled)
            with pytest.raises(ValueError, match="positive integers"):
                repeat_pixels(frames.astype(np.float64), *bad, compiled=compiled)
    monkeypatch.setenv("COURSE_COMPILED_KERNELS", "0")  # the documented switch back to NumPy
    repeat_pixels(frames, 2, 2, normalize=stats)
    assert len(kernel_spy) == 2
    repeat_pixels(frames, 2, 2, normalize=stats, compiled=True)  # asked for explicitly: still compiled
    assert len(kernel_spy) == 3


def test_repeat_normalized_refuses_what_would_change_its_arithmetic():
    pytest.importorskip("numba")
    from course_utils.experanto.kernels import repeat_normalized

    frames = _special_frames(2, 3, 4)
    with pytest.raises(TypeError, match="np.float32 scalar; got 0.5"):
        repeat_normalized(frames, 2, 2, mean=0.5, std=np.float32(2))
    with pytest.raises(ValueError, match="a mean without a std"):
        repeat_normalized(frames, 2, 2, mean=np.float32(0.5))
    with pytest.raises(TypeError, match="float32 frames; got float64"):
        repeat_normalized(frames.astype(np.float64), 2, 2)
    with pytest.raises(ValueError, match=r"\(N, H, W\) frames; got shape \(3, 4\)"):
        repeat_normalized(frames[0], 2, 2)


def test_without_numba_repeat_pixels_warns_once_and_falls_back_to_numpy(monkeypatch):
    import sys
    import warnings

    from course_utils.experanto import transforms
    from course_utils.experanto.transforms import repeat_pixels

    monkeypatch.delenv("COURSE_COMPILED_KERNELS", raising=False)
    frames = _special_frames(4, 3, 5)
    stats = (np.float32(0.5), np.float32(2.0))
    expected = repeat_pixels(frames, 4, 4, normalize=stats, compiled=False)
    monkeypatch.setitem(sys.modules, "course_utils.experanto.kernels", None)  # import fails, as without numba
    transforms._kernels_module.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="NumPy path: the same values, slower"):
            out = repeat_pixels(frames, 4, 4, normalize=stats)
        np.testing.assert_array_equal(out.view(np.uint32), expected.view(np.uint32))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the failed import is remembered: no second try, no second warning
            np.testing.assert_array_equal(repeat_pixels(frames, 4, 4, normalize=stats).view(np.uint32),
                                          expected.view(np.uint32))
        with pytest.raises(TypeError, match="pip install numba"):
            repeat_pixels(frames, 4, 4, normalize=stats, compiled=True)
    finally:
        transforms._kernels_module.cache_clear()  # the next test imports the real module again


def test_numba_that_cannot_cache_its_code_falls_back_with_the_fix(monkeypatch):
    from course_utils.experanto import transforms

    def no_cache(name, package=None):
        raise RuntimeError("cannot cache function '_scaled': no locator available for file 'kernels.py'")

    monkeypatch.delenv("COURSE_COMPILED_KERNELS", raising=False)
    monkeypatch.setattr(transforms.importlib, "import_module", no_cache)
    transforms._kernels_module.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="set NUMBA_CACHE_DIR to a writable folder"):
            assert transforms.prepare_compiled_kernel() is False
        frames = _special_frames(2, 3, 4)
        np.testing.assert_array_equal(transforms.repeat_pixels(frames, 2, 2).view(np.uint32),
                                      np.repeat(np.repeat(frames, 2, 1), 2, 2).view(np.uint32))
    finally:
        transforms._kernels_module.cache_clear()


# ----------------------------------------------------------------------------------------- demo data
@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    from course_utils.experanto.simulate import write_demo_experiments

    out = tmp_path_factory.mktemp("experanto_demo")
    write_demo_experiments(out, seed=0, n_mice=1)
    return out


def test_demo_chunks_never_read_nan(demo, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_EXPERANTO_CACHE", str(tmp_path / "c"))
    mixed = demo / "mixed"
    ds = ChunkDataset(mixed, seed=0)
    exp = ds.experiment
    assert np.isnan(exp.devices["eye_tracker"].data).any() and np.isnan(exp.devices["treadmill"].data).any()
    for name in ("eye_tracker", "treadmill", "responses"):
        times = (ds.valid_times[:, None] + ds.chunk_offsets(name)[None, :]).ravel()
        values, valid = exp.interpolate(times, [name])
        assert valid[name].all() and not np.isnan(values[name]).any()
    # without the filter the same starts would include the blinks
    cfg = {k: {kk: vv for kk, vv in v.items() if kk != "filters"} for k, v in ds.modality_config.items()}
    assert len(ChunkDataset(mixed, modality_config=cfg)) > len(ds)
    sample = ds[len(ds) // 2]
    assert sample["screen"].shape == (1, 60, 144, 256) and sample["responses"].shape == (16, 24)
    assert sample["eye_tracker"].shape == (60, 4) and sample["treadmill"].shape == (60, 1)


def test_default_config_samples_are_the_same_with_and_without_the_compiled_kernel(demo, kernel_spy, monkeypatch,
                                                                                  tmp_path):
    monkeypatch.setenv("COURSE_EXPERANTO_CACHE", str(tmp_path / "c"))
    mouse = next(p for p in demo.iterdir() if (p / "screen").is_dir() and p.name != "mixed")
    ds = ChunkDataset(mouse, seed=0)
    assert ds._fused_repeat == {"screen": (4, 4)}  # upstream's default config: normalise, then 4x4 repetition
    picks = [0, len(ds) // 2, len(ds) - 1]
    before = len(kernel_spy)
    compiled = [ds[i]["screen"].clone() for i in picks]
    assert kernel_spy[before:] == [(60, 36, 64)] * 3  # one kernel call per sample, on the stored frames
    assert compiled[0].dtype == torch.float32 and compiled[0].shape == (1, 60, 144, 256)
    monkeypatch.setenv("COURSE_COMPILED_KERNELS", "0")
    for i, screen in zip(picks, compiled, strict=True):
        np.testing.assert_array_equal(ds[i]["screen"].numpy().view(np.uint32), screen.numpy().view(np.uint32))
    assert len(kernel_spy) == before + 3  # the second pass was NumPy's


def test_the_kernel_is_ready_before_the_first_sample(demo, kernel_spy, monkeypatch, tmp_path):
    """Loaded when the dataset is built (so forked DataLoader workers inherit it), not at the first sample;
    not at all where nothing repeats pixels."""
    monkeypatch.setenv("COURSE_EXPERANTO_CACHE", str(tmp_path / "c"))
    calls = kernel_spy
    mouse = next(p for p in demo.iterdir() if (p / "screen").is_dir() and p.name != "mixed")
    ChunkDataset(mouse, seed=0)
    assert calls == [(1, 1, 1)]
    from course_utils.experanto.dataset import DEFAULT_MODALITY_CONFIG

    config = copy.deepcopy(DEFAULT_MODALITY_CONFIG)
    config["screen"]["interpolation"] = {"rescale": False}
    ChunkDataset(mouse, seed=0, modality_config=config)
    assert calls == [(1, 1, 1)]


def test_demo_mouse_matches_sensorium_trial(demo, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_EXPERANTO_CACHE", str(tmp_path / "c"))
    from course_utils.sensorium.simulate import write_demo_mice

    write_demo_mice(tmp_path / "s", seed=0, n_mice=1)
    mouse = next((tmp_path / "s").glob("dynamic*"))
    exp = Experiment(demo / mouse.name)
    trials = exp.devices["screen"].trials
    row = trials[trials["modality"] == "video"].iloc[3]
    video = np.load(mouse / "data" / "videos" / f"{int(row['sensorium_file'])}.npy")
    responses = np.load(mouse / "data" / "responses" / f"{int(row['sensorium_file'])}.npy")
    frame_times = exp.devices["screen"].timestamps[row["first_frame_idx"] : row["first_frame_idx"] + 5]
    values, _ = exp.interpolate(frame_times + 0.001, ["screen", "responses"])
    np.testing.assert_array_equal(values["screen"], np.moveaxis(video[:, :, :5], -1, 0))
    np.testing.assert_array_equal(values["responses"], responses[:, :5].T)


def test_dataset_pickles_without_copying_the_data(tiny):
    import pickle

    ds = ChunkDataset(tiny, modality_config=_config(), seed=0)
    clone = pickle.loads(pickle.dumps(ds))  # what a "spawn" DataLoader worker receives
    assert "data" not in ds.experiment.devices["treadmill"].__getstate__() or \
        ds.experiment.devices["treadmill"].__getstate__()["data"] is None
    assert isinstance(clone.experiment.devices["treadmill"].data, np.memmap)  # reopened, not copied
    torch.testing.assert_close(clone[3]["treadmill"], ds[3]["treadmill"])
    torch.testing.assert_close(clone[3]["screen"], ds[3]["screen"])


def test_command_line_index(tiny, tmp_path, capsys):
    from course_utils.cli import main

    assert main(["experanto", "index", str(tiny), "--cache-dir", str(tmp_path / "cli_cache")]) == 0
    assert "indexed" in capsys.readouterr().out
    assert len(list((tmp_path / "cli_cache").glob("trials-*.json"))) == 1


def test_experiment_folders_converts_sensorium_mice_in_sample_mode(tmp_path, monkeypatch):
    from course_utils.data import DataUnavailableError
    from course_utils.experanto import folders

    sensorium_root = tmp_path / "sensorium"
    _sensorium_mouse(sensorium_root / "dynamic1-Video-x")

    def fake_get_source(name, mode=None):
        if name == "experanto":
            raise DataUnavailableError("no sample files")
        return sensorium_root

    monkeypatch.setattr(folders, "get_source", fake_get_source)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    found = folders.experiment_folders("sample")
    assert list(found) == ["dynamic1-Video-x"]
    assert Experiment(found["dynamic1-Video-x"]).modalities == ["eye_tracker", "responses", "screen", "treadmill"]
    assert folders.experiment_folders("sample") == found  # the second call reuses the conversion


@pytest.mark.parametrize("size_out", [(108, 64), (72, 128), (36 * 5, 100)])
def test_integer_factor_row_upsampling_equals_interpolate(size_out):
    from course_utils.experanto.transforms import screen_transforms_from_config

    x = torch.rand(1, 4, 36, 64) * 255
    expected = torch.nn.functional.interpolate(x[0][:, None], size=size_out, mode="bilinear", align_corners=False)
    (resize,) = screen_transforms_from_config({"Resize": {"size": list(size_out)}})
    torch.testing.assert_close(resize(x)[0], expected[:, 0], atol=1e-3, rtol=1e-5)


def test_cache_data_reads_sequences_into_memory(tiny):
    mapped = Experiment(tiny, modalities=["treadmill"]).devices["treadmill"]
    cached = Experiment(tiny, modalities=["treadmill"], cache_data=True).devices["treadmill"]
    assert isinstance(mapped.data, np.memmap)
    # in memory: neither a memory map nor a view of one (np.asarray of a memmap would still read the file)
    assert not isinstance(cached.data, np.memmap) and cached.data.flags.owndata
    np.testing.assert_array_equal(cached.data, mapped.data)


def test_cached_data_pickles_once_and_stays_one_array(tiny):
    import pickle

    cached = Experiment(tiny, modalities=["treadmill"], cache_data=True).devices["treadmill"]
    assert cached.__getstate__()["_values"] is None  # the values go once, not once more as their view
    clone = pickle.loads(pickle.dumps(cached))
    assert np.shares_memory(clone._values, clone.data)
    np.testing.assert_array_equal(clone.data, cached.data)


def test_is_pixel_repetition_on_shrinking_and_degenerate_sizes():
    from course_utils.experanto.transforms import is_pixel_repetition

    assert is_pixel_repetition((36, 64), (36, 64)) and not is_pixel_repetition((36, 64), (18, 32))
    assert not is_pixel_repetition((36, 64), (0, 0))


@pytest.mark.parametrize("cache_data", [False, True])
@pytest.mark.parametrize("normalization", ["normalize", "normalize_variance_only", None])
def test_samples_never_write_into_the_data(tiny, cache_data, normalization):
    # SequenceInterpolator.read hands ChunkDataset views of the data; normalising must go into new arrays
    cfg = _config()
    cfg["treadmill"]["transforms"] = {"normalization": normalization}
    ds = ChunkDataset(tiny, modality_config=cfg, cache_data=cache_data)
    device = ds.experiment.devices["treadmill"]
    before = np.array(device.data)
    first = ds[3]["treadmill"].clone()
    first_view = ds[3]["treadmill"]
    first_view += 1.0  # a learner editing a sample must not edit the cached data either
    np.testing.assert_array_equal(np.asarray(device.data), before)
    torch.testing.assert_close(ds[3]["treadmill"], first, rtol=0, atol=0)
    values, _ = device.interpolate(ds.chunk_times(ds.valid_times[3], "treadmill"))
    assert not np.shares_memory(values, device.data)
    raw, _ = device.read(ds.chunk_times(ds.valid_times[3], "treadmill"))
    np.testing.assert_array_equal(raw, values)


def test_one_start_and_a_vector_of_starts_give_the_same_times(tiny):
    for clock in (False, True):
        ds = ChunkDataset(tiny, modality_config=_config(), upstream_clock=clock)
        starts = ds.valid_times[:7]
        for name in ds.modality_config:
            many = ds.chunk_times(starts, name)
            for k, s in enumerate(starts):
                np.testing.assert_array_equal(ds.chunk_times(float(s), name), many[k])
                np.testing.assert_array_equal(ds.chunk_times(s, name), many[k])


@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "compiled"])
@pytest.mark.parametrize("mean", [np.float32(0.25), None])
def test_repeat_pixels_normalising_blocks_equals_normalising_first(mean, compiled):
    from course_utils.experanto.transforms import REPEAT_BLOCK_BYTES, repeat_pixels

    if compiled:
        pytest.importorskip("numba")

    rng = np.random.default_rng(0)
    per_block = REPEAT_BLOCK_BYTES // (36 * 64 * 2 * 4)  # frames per block with fx=2, float32
    frames = rng.normal(0, 50, (per_block + per_block // 2, 36, 64)).astype(np.float32)  # two blocks, the last short
    frames[0, 0, :4] = [np.nan, -0.0, np.inf, 0.25]
    std = np.float32(0.3)
    first = frames - mean if mean is not None else frames.copy()
    first /= std
    kept = frames.copy()
    out = repeat_pixels(frames, 4, 2, normalize=(mean, std), compiled=compiled)
    reference = repeat_pixels(first, 4, 2, compiled=False)
    np.testing.assert_array_equal(out.view(np.uint32), reference.view(np.uint32))  # bit for bit
    np.testing.assert_array_equal(out, np.repeat(np.repeat(first, 4, axis=1), 2, axis=2))  # every block repeated
    np.testing.assert_array_equal(frames.view(np.uint32), kept.view(np.uint32))  # input untouched
    with pytest.raises(TypeError, match="float32"):
        repeat_pixels(frames.astype(np.float64), 4, 2, normalize=(mean, std))
