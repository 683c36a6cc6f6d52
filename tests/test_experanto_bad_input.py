"""Experanto under bad input (issue 14): every broken file gives an error that names the file, says what is
wrong and what to do, and nothing unsafe is ever loaded (``course_utils.fileio``).

Each test breaks one file of a small, valid experiment folder and checks the message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from experanto_helpers import private_index_cache  # noqa: F401 (autouse fixture)

from course_utils.experanto import ChunkDataset, Experiment
from course_utils.experanto.writer import (
    write_experiment_meta,
    write_screen_modality,
    write_sequence_modality,
)
from course_utils.fileio import BadFileError


@pytest.fixture()
def folder(tmp_path) -> Path:
    """Screen: an image (0 s), a blank (1 s), a 30-frame video (2-4.9 s) at 10 Hz; treadmill and responses."""
    root = tmp_path / "exp"
    video = np.arange(30.0, dtype=np.float32)[:, None, None] * np.ones((1, 4, 6), np.float32)
    trials = [
        {"modality": "image", "num_frames": 1, "data": np.ones((4, 6), np.float32), "tier": "train"},
        {"modality": "blank", "num_frames": 1, "image_size": [4, 6], "interleave_value": 0.0, "tier": "blank"},
        {"modality": "video", "num_frames": 30, "data": video, "tier": "train"},
    ]
    write_screen_modality(root / "screen", np.r_[0.0, 1.0, 2.0 + np.arange(30) / 10], trials)
    write_sequence_modality(root / "treadmill", np.arange(50.0)[:, None], sampling_rate=10)
    write_sequence_modality(root / "responses", np.ones((25, 3)), sampling_rate=5, phase_shifts=np.zeros(3))
    write_experiment_meta(root, "bad_input")
    return root


def _open(root: Path) -> None:
    """Open the experiment and read every modality once (screen arrays load on first read)."""
    exp = Experiment(root)
    exp.interpolate(np.array([0.5, 1.5, 2.5, 4.0]))


def _expect(root: Path, path: Path, *what: str) -> BadFileError:
    with pytest.raises(BadFileError) as info:
        _open(root)
    message = str(info.value)
    assert str(path) in message, message
    for phrase in what:
        assert phrase in message, message
    return info.value


# ------------------------------------------------------------------------------- invalid YAML / JSON
def test_invalid_yaml_in_a_trial_file(folder):
    path = folder / "screen" / "meta" / "00001.yml"
    path.write_text("modality: blank\nfirst_frame_idx: [1\n")
    _expect(folder, path, "not valid YAML at line", "Fix or regenerate")


def test_trial_file_that_is_not_a_mapping(folder):
    path = folder / "screen" / "meta" / "00002.yml"
    path.write_text("- just\n- a list\n")
    _expect(folder, path, "not a YAML mapping", "regenerate")


def test_invalid_yaml_in_a_modality_meta(folder):
    path = folder / "treadmill" / "meta.yml"
    path.write_text("modality: sequence\nsampling_rate: 10\n  start_time: 0\n")
    _expect(folder, path, "not valid YAML", "Regenerate the folder")


def test_invalid_json_in_the_experiment_meta(folder):
    path = folder / "meta.json"
    path.write_text('{"data_key": "mouse_A",}')
    _expect(folder, path, "not valid JSON at line 1", "fix or delete it")


# ------------------------------------------------------------------------------- wrong-shape .npy
def test_video_file_with_wrong_frame_size(folder):
    path = folder / "screen" / "data" / "00002.npy"
    np.save(path, np.zeros((30, 5, 6), np.float32))
    _expect(folder, path, "has shape (30, 5, 6)", "needs (30, 4, 6)", "Restore or regenerate")


def test_video_file_with_too_few_frames(folder):
    path = folder / "screen" / "data" / "00002.npy"
    np.save(path, np.zeros((10, 4, 6), np.float32))
    _expect(folder, path, "has shape (10, 4, 6)", "needs (30, 4, 6)")


def test_image_file_that_is_1d(folder):
    path = folder / "screen" / "data" / "00000.npy"
    np.save(path, np.zeros(24, np.float32))
    _expect(folder, path, "has 1 dimension(s)", "Restore or regenerate")


def test_sequence_data_npy_of_the_wrong_shape(folder):
    (folder / "treadmill" / "data.mem").unlink()
    path = folder / "treadmill" / "data.npy"
    np.save(path, np.zeros((50, 2)))
    meta = folder / "treadmill" / "meta.yml"
    meta.write_text(meta.read_text().replace("is_mem_mapped: true", "is_mem_mapped: false"))
    _expect(folder, path, "has shape (50, 2)", "1 signals")


def test_phase_shifts_of_the_wrong_length(folder):
    path = folder / "responses" / "meta" / "phase_shifts.npy"
    np.save(path, np.zeros(2))
    _expect(folder, path, "2 values for 3 signals")


def test_statistics_of_the_wrong_shape(folder):
    path = folder / "responses" / "meta" / "stds.npy"
    np.save(path, np.ones((1, 4)))
    config = {"screen": {"sampling_rate": 10, "chunk_size": 5, "valid_condition": {"tier": "train"},
                         "transforms": {}},
              "responses": {"sampling_rate": 5, "chunk_size": 2, "transforms": {"normalization": "normalize"}}}
    with pytest.raises(BadFileError, match=r"stds.npy: has shape \(1, 4\); expected one value per signal \(3\)"):
        ChunkDataset(folder, modality_config=config)


# ------------------------------------------------------------------------------- truncated files
def test_truncated_video_file(folder):
    path = folder / "screen" / "data" / "00002.npy"
    path.write_bytes(path.read_bytes()[:1000])
    _expect(folder, path, "truncated")


def test_truncated_memory_map(folder):
    path = folder / "treadmill" / "data.mem"
    path.write_bytes(path.read_bytes()[:100])
    _expect(folder, path, "truncated", "regenerate data.mem")


def test_truncated_timestamps(folder):
    path = folder / "screen" / "timestamps.npy"
    path.write_bytes(path.read_bytes()[:140])
    _expect(folder, path, "truncated")


# ------------------------------------------------------------------------------- pickled .npy: refused, named
def test_pickled_video_file_is_refused(folder):
    path = folder / "screen" / "data" / "00002.npy"
    np.save(path, np.array([{"frames": 1}], dtype=object), allow_pickle=True)
    _expect(folder, path, "pickled Python objects", "never loads")


def test_pickled_timestamps_are_refused(folder):
    path = folder / "screen" / "timestamps.npy"
    np.save(path, np.array([0.0, "x"], dtype=object), allow_pickle=True)
    _expect(folder, path, "pickled Python objects")


def test_pickled_sequence_data_is_refused(folder):
    (folder / "treadmill" / "data.mem").unlink()
    path = folder / "treadmill" / "data.npy"
    np.save(path, np.array([[None]] * 50, dtype=object), allow_pickle=True)
    _expect(folder, path, "pickled Python objects")


# ------------------------------------------------------------------------------- inconsistent trial tables
def test_first_frame_idx_beyond_the_timestamps(folder):
    path = folder / "screen" / "meta" / "00002.yml"
    path.write_text(path.read_text().replace("first_frame_idx: 2", "first_frame_idx: 40"))
    _expect(folder, path, "first_frame_idx=40 does not fit")
