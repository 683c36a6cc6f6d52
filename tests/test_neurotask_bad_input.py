"""Bad NeuroTask input (issues 12 and 14): every error names the file, says what it has and what to do.

Each case failed before this change: the loaders passed text columns on to rebin (garbage out), or let the
library's own message through without the file's name (pyarrow's "magic bytes", h5py's "file signature").
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from course_utils.fileio import BadFileError
from course_utils.neurotask import align_event, load_and_filter_parquet, load_nwb, rebin, velocity_columns
from course_utils.neurotask.simulate import DatasetSpec, simulate_dataset, write_nwb_twin

SPEC = DatasetSpec(2, 10, "Bad", "CObump", "CenterOut_Bump", ((1, 1, 6, (4, 4)),), (("R", 0.7), ("F", 0.3)))
NAME = SPEC.file_name


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    df, _ = simulate_dataset(SPEC, seed=3)
    folder = tmp_path_factory.mktemp("good")
    parquet = folder / NAME
    df.to_parquet(parquet, index=False)
    nwb = write_nwb_twin(df, 10, folder / "001056" / "good.nwb", "CenterOut_Bump")
    return df, parquet, nwb


def _messages(err: pytest.ExceptionInfo) -> str:
    return str(err.value)


# ----------------------------------------------------------------------------------------- parquet


def test_text_neuron_columns_are_refused_before_they_reach_rebin(good, tmp_path):
    df, _, _ = good
    bad = df.copy()
    bad["Neuron2"] = bad["Neuron2"].astype(str)  # e.g. a CSV read without dtypes, written back
    path = tmp_path / NAME
    bad.to_parquet(path)
    with pytest.raises(BadFileError) as err:
        load_and_filter_parquet(path)
    message = _messages(err)
    assert str(path) in message and "Neuron2" in message and "spike counts must be numbers" in message
    assert "pd.to_numeric" in message  # what to do
    assert err.value.path == path


def test_text_kinematics_are_refused(good, tmp_path):
    df, _, _ = good
    bad = df.copy()
    bad["hand_vel_x"] = bad["hand_vel_x"].map("{:.3f}".format)
    path = tmp_path / NAME
    bad.to_parquet(path)
    with pytest.raises(BadFileError, match=r"hand_vel_x .*kinematics must be numbers"):
        load_and_filter_parquet(path, bin_ms=20)


def test_rebin_refuses_text_counts_given_directly(good):
    """A frame read some other way (pd.read_csv) never comes out of rebin as concatenated strings."""
    df, _, _ = good
    bad = df.copy()
    bad["Neuron1"] = bad["Neuron1"].astype(str)
    with pytest.raises(ValueError, match=r"rebin: column\(s\) \['Neuron1 \(str\)'\].*hold text.*pd.to_numeric"):
        rebin(bad, 10, 20)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"Neuron1,Neuron2,trial_id\n1,0,1.0\n", "it looks like a CSV table"),
        (b"", "it is empty \\(0 bytes\\)"),
    ],
    ids=["csv", "empty"],
)
def test_not_a_parquet_file(tmp_path, content, what):
    path = tmp_path / NAME
    path.write_bytes(content)
    with pytest.raises(BadFileError, match=f"{NAME}: is not a readable parquet file: {what}") as err:
        load_and_filter_parquet(path)
    assert "Download it again" in _messages(err) and "to_parquet" in _messages(err)


def test_truncated_parquet(good, tmp_path):
    _, parquet, _ = good
    path = tmp_path / NAME
    path.write_bytes(parquet.read_bytes()[: parquet.stat().st_size // 2])
    with pytest.raises(BadFileError, match=f"{NAME}: is not a readable parquet file: .*without the parquet footer"):
        load_and_filter_parquet(path)


def test_a_parquet_that_is_not_neurotask(tmp_path):
    path = tmp_path / NAME
    pd.DataFrame({"x": [1, 2], "y": [3.0, 4.0]}).to_parquet(path)
    with pytest.raises(BadFileError, match=r"is not a NeuroTask table: it lacks the id column\(s\) \['animal'"):
        load_and_filter_parquet(path)


def test_shuffled_trials_are_named(good, tmp_path):
    df, _, _ = good
    path = tmp_path / NAME
    df.iloc[::-1].to_parquet(path)  # every trial's rows still consecutive, but reversed: fine
    load_and_filter_parquet(path, exclude=None)
    df.sample(frac=1.0, random_state=0).to_parquet(path)
    with pytest.raises(BadFileError, match=r"has the rows of trial .* in more than one place.*sort it by"):
        load_and_filter_parquet(path, exclude=None)


# ----------------------------------------------------------------------------------------- NWB


def test_text_file_named_nwb(tmp_path):
    path = tmp_path / "sub-1.nwb"
    path.write_text("this is not HDF5\n")
    with pytest.raises(BadFileError, match=r"sub-1.nwb: is not a readable NWB file: it looks like text") as err:
        load_nwb(path)
    assert "DANDI" in _messages(err) and "Download it again" in _messages(err)


def test_truncated_nwb(good, tmp_path):
    _, _, nwb = good
    path = tmp_path / "cut.nwb"
    path.write_bytes(nwb.read_bytes()[: nwb.stat().st_size // 2])
    with pytest.raises(BadFileError) as err:
        load_nwb(path)
    message = _messages(err)
    assert str(path) in message and "Download it again" in message
    assert "not a readable NWB file" in message or "damaged or cut short" in message


def test_nwb_of_another_layout_lists_its_modules(tmp_path):
    from pynwb import NWBHDF5IO, NWBFile

    path = tmp_path / "other.nwb"
    nwbfile = NWBFile("x", "x", datetime(2024, 1, 1, tzinfo=timezone.utc))
    nwbfile.create_processing_module("running", "not NeuroTask")
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    with pytest.raises(BadFileError, match=r"other.nwb: is an NWB file but not in the NeuroTask layout.*\['running'\]"):
        load_nwb(path)
    with pytest.raises(ValueError, match="unknown result codes"):
        load_nwb(path, exclude=[b"R", "Z"])


# ----------------------------------------------------------------------------------------- what a step needs


def test_missing_event_names_the_file_and_its_events(good):
    _, parquet, _ = good
    df, _ = load_and_filter_parquet(parquet)
    with pytest.raises(ValueError) as err:
        align_event(df, "EventMovement_start", 10, -100, 300)  # 001056 has no movement events
    message = _messages(err)
    assert NAME in message and "['EventTarget_Onset', 'EventBump', 'EventGo_cue']" in message
    assert "Align on one of those" in message


def test_file_without_events_says_so(tmp_path):
    df, _ = simulate_dataset(DatasetSpec(1, 20, "X", "RandomTarget", "RandomTarget", ((1, 1, 4, (3, 3)),),
                                         (("R", 1.0),)))
    path = tmp_path / "1_20_X_RandomTarget.parquet"
    df.to_parquet(path)
    loaded, _ = load_and_filter_parquet(path)
    with pytest.raises(ValueError, match=r"1_20_X_RandomTarget.parquet .* no event series at all"):
        align_event(loaded, "EventGo_cue", 20, -100, 300)


def test_no_velocity_names_the_dataset(tmp_path):
    df, _ = simulate_dataset(DatasetSpec(4, 10, "X", "KeyGrasp", "KeyGrasp", ((1, 1, 4, (3, 3)),), (("R", 1.0),)))
    path = tmp_path / "4_10_X_KeyGrasp.parquet"
    df.to_parquet(path)
    loaded, _ = load_and_filter_parquet(path)
    with pytest.raises(ValueError, match=r"4_10_X_KeyGrasp.parquet \(dataset 4, task KeyGrasp\) has no velocity"):
        velocity_columns(loaded)
    assert np.isfinite(loaded["force_x"]).all()
