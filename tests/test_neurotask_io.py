"""Loaders of NeuroTask parquet and NWB files, on small files written by the tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.neurotask.io import (
    canonical_order,
    load_and_filter_parquet,
    load_file,
    load_nwb,
    neuron_columns,
    normalise_column_name,
    parse_bin_ms,
    velocity_columns,
)
from course_utils.neurotask.simulate import DatasetSpec, simulate_dataset, write_nwb_twin

SPEC = DatasetSpec(
    2,
    10,
    "Test",
    "CObump",
    "CenterOut_Bump",
    ((1, 1, 12, (5, 5)), (2, 1, 10, (3, 3))),
    (("R", 0.5), ("F", 0.2), ("I", 0.1), ("A", 0.2)),
)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A two-session CO-bump table (5 and 3 neurons), its parquet file and its NWB twin."""
    df, _ = simulate_dataset(SPEC, seed=1)
    folder = tmp_path_factory.mktemp("my_data_folder")  # an underscore in the folder name on purpose
    parquet = folder / SPEC.file_name
    df.to_parquet(parquet, index=False)
    nwb = write_nwb_twin(df, SPEC.bin_ms, folder / "001056" / "sub-x" / "sub-x.nwb", "whatever")
    return df, parquet, nwb


def test_parse_bin_ms_reads_the_file_name_only():
    assert parse_bin_ms("a_b_c/2_10_Chowdhury_CObump.parquet") == 10.0
    assert parse_bin_ms("6_1_Churchland3_Maze.parquet") == 1.0
    assert parse_bin_ms("x/1_2.5_Name_Task_with_parts.parquet") == 2.5


@pytest.mark.parametrize(
    "name", ["data.parquet", "CObump_10.parquet", "2_x_Name_Task.parquet", "2_0_N_T.parquet"]
)
def test_parse_bin_ms_rejects_other_names(name):
    with pytest.raises(ValueError, match=name.split("/")[-1]):
        parse_bin_ms(name)


def test_parquet_default_keeps_rewarded_only(small):
    df, parquet, _ = small
    loaded, bin_ms = load_and_filter_parquet(parquet)
    assert bin_ms == 10.0
    assert set(loaded["result"]) == {"R"}
    assert len(loaded) == (df["result"] == "R").sum()


def test_parquet_exclude_none_and_custom(small):
    df, parquet, _ = small
    everything, _ = load_and_filter_parquet(parquet, exclude=None)
    pd.testing.assert_frame_equal(everything, df)
    no_aborted, _ = load_and_filter_parquet(parquet, exclude=["A"])
    assert set(no_aborted["result"]) == set(df["result"]) - {"A"}


def test_parquet_columns_subset(small):
    _, parquet, _ = small
    loaded, _ = load_and_filter_parquet(parquet, columns=["animal", "result", "Neuron1"])
    assert list(loaded.columns) == ["animal", "result", "Neuron1"]


def test_parquet_bad_inputs(small, tmp_path):
    _, parquet, _ = small
    with pytest.raises(ValueError, match="unknown result codes"):
        load_and_filter_parquet(parquet, exclude=["X"])
    with pytest.raises(ValueError, match="no column"):
        load_and_filter_parquet(parquet, columns=["nope"])
    with pytest.raises(FileNotFoundError, match="No NeuroTask parquet"):
        load_and_filter_parquet(tmp_path / "2_10_A_B.parquet")
    badly_named = tmp_path / "data.parquet"
    badly_named.write_bytes(parquet.read_bytes())
    with pytest.raises(ValueError, match="data.parquet"):
        load_and_filter_parquet(badly_named)
    with pytest.raises(ValueError, match="no rows left"):
        load_and_filter_parquet(parquet, exclude=["R", "A", "I", "F"])


def test_nwb_twin_reads_to_the_parquet_frame(small):
    _, parquet, nwb = small
    for exclude in [("A", "I", "F"), None, ["A"]]:
        from_parquet, bin_p = load_and_filter_parquet(parquet, exclude=exclude)
        from_nwb, bin_n = load_nwb(nwb, exclude=exclude)
        assert bin_p == bin_n == 10.0
        pd.testing.assert_frame_equal(from_nwb, from_parquet.reset_index(drop=True))


def test_nwb_schema_fixes(small):
    df, _, nwb = small
    loaded, _ = load_nwb(nwb, exclude=None)
    assert neuron_columns(loaded)[0] == "Neuron1"  # 1-based, as the parquet files
    assert loaded["result"].map(type).eq(str).all()  # str, not bytes
    assert "EventTarget_Onset" in loaded and "target_dir" in loaded  # spellings normalised
    assert loaded["task"].unique().tolist() == ["CenterOut_Bump"]  # from the dandiset number in the path
    named, _ = load_nwb(nwb, task="MyTask")
    assert named["task"].unique().tolist() == ["MyTask"]
    # the second session has 3 neurons: the two extra columns are NaN there, as in parquet
    second = loaded[loaded["animal"] == 2]
    assert second[["Neuron4", "Neuron5"]].isna().all().all()
    assert second[["Neuron1", "Neuron3"]].notna().all().all()


def test_nwb_file_spells_keys_like_dandi(small):
    from pynwb import NWBHDF5IO

    _, _, nwb = small
    with NWBHDF5IO(str(nwb), "r") as io:
        f = io.read()
        assert "EventTarget_onset" in f.processing["events"].data_interfaces
        assert "targets_dir" in f.processing["behavior"].data_interfaces
        assert f.processing["events"]["result"].data[0] in (b"R", b"F", b"I", b"A")
        assert f.processing["spikes"]["spikes_counts"].rate == 100.0


def test_nwb_bad_inputs(tmp_path):
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile

    with pytest.raises(FileNotFoundError, match="No NWB file"):
        load_nwb(tmp_path / "missing.nwb")
    empty = tmp_path / "empty.nwb"
    with NWBHDF5IO(str(empty), "w") as io:
        io.write(NWBFile("x", "x", datetime(2024, 1, 1, tzinfo=timezone.utc)))
    with pytest.raises(ValueError, match="spikes_counts"):
        load_nwb(empty)
    with pytest.raises(ValueError, match="unknown result codes"):
        load_nwb(empty, exclude=[b"R", "Z"])


def test_normalise_and_order():
    assert normalise_column_name("EventTarget_onset") == "EventTarget_Onset"
    assert normalise_column_name("hand_vel_x") == "hand_vel_x"
    names = ["EventMovement_end", "result", "Neuron10", "force_x", "Neuron2", "EventGo_cue", "zzz", "animal"]
    assert canonical_order(names) == [
        "Neuron2",
        "Neuron10",
        "animal",
        "result",
        "force_x",
        "zzz",
        "EventGo_cue",
        "EventMovement_end",
    ]


def test_counts_are_nan_padded_floats_in_padded_files(small):
    df, _, _ = small
    assert df["Neuron5"].dtype == np.float64
    assert df.loc[df["animal"] == 2, "Neuron5"].isna().all()


def test_load_file_dispatches_on_the_suffix(small, tmp_path):
    _, parquet, nwb = small
    for exclude in [("A", "I", "F"), None]:
        from_parquet, bin_p = load_file(parquet, exclude=exclude)
        from_nwb, bin_n = load_file(nwb, exclude=exclude)
        assert bin_p == bin_n == 10.0
        pd.testing.assert_frame_equal(from_nwb, from_parquet.reset_index(drop=True))
    with pytest.raises(ValueError, match=r"not a NeuroTask file \(expected a .parquet or .nwb"):
        load_file(tmp_path / "2_10_X_Y.csv")


def test_velocity_columns_prefers_the_hand():
    both = pd.DataFrame(columns=["hand_vel_x", "hand_vel_y", "cursor_vel_x", "cursor_vel_y"])
    assert velocity_columns(both) == ["hand_vel_x", "hand_vel_y"]
    assert velocity_columns(pd.DataFrame(columns=["cursor_vel_x", "cursor_vel_y"])) == ["cursor_vel_x", "cursor_vel_y"]
    with pytest.raises(ValueError, match="No hand_vel_x/y or cursor_vel_x/y"):
        velocity_columns(pd.DataFrame(columns=["Neuron1", "hand_vel_x"]))
