"""Loaders of NeuroTask parquet and NWB files: the real layouts, one schema, batches, rebin while reading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from neurotask_helpers import layout_table

from course_utils.neurotask import align_event, rebin
from course_utils.neurotask.io import (
    file_columns,
    load_and_filter_parquet,
    load_file,
    load_nwb,
    parse_bin_ms,
)
from course_utils.neurotask.schema import (
    as_schema,
    behavior_columns,
    canonical_order,
    event_columns,
    neuron_columns,
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
MAZE = DatasetSpec(6, 1, "Test", "Maze", "Maze", ((1, 4, 4, (4, 4)), (1, 5, 4, (3, 3))), (("R", 0.8), ("F", 0.2)),
                   first_trial_id=0, id_dtype="uint16")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A two-session CO-bump table (5 and 3 neurons) as its file holds it, the parquet file and the NWB twin."""
    df, _ = simulate_dataset(SPEC, seed=1)
    folder = tmp_path_factory.mktemp("my_data_folder")  # an underscore in the folder name on purpose
    parquet = folder / SPEC.file_name
    df.to_parquet(parquet, index=False, row_group_size=500)
    nwb = write_nwb_twin(df, SPEC.bin_ms, folder / "001056" / "sub-x" / "sub-x.nwb", "whatever")
    return df, parquet, nwb


@pytest.fixture(scope="module")
def maze(tmp_path_factory):
    df, _ = simulate_dataset(MAZE, seed=2)
    path = tmp_path_factory.mktemp("maze") / MAZE.file_name
    df.to_parquet(path, index=False, row_group_size=3000)
    return df, path


# ----------------------------------------------------------------------------------------- names


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


# ----------------------------------------------------------------------------------------- one schema


def test_the_file_holds_the_real_parquet_layout(small):
    """As the real CO-bump file: mixed uint8/float64 counts, float64 trial_id, events before the ids."""
    df, _, _ = small
    assert df["Neuron1"].dtype == np.uint8 and df["Neuron5"].dtype == np.float64  # Neuron4-5: NaN padded
    assert df.loc[df["animal"] == 2, "Neuron5"].isna().all()
    assert df["trial_id"].dtype == np.float64
    assert list(df.columns[5:]) == ["trial_id", "hand_pos_x", "hand_pos_y", "hand_vel_x", "hand_vel_y", "result",
                                    "bump_dir", "target_dir", "EventTarget_Onset", "EventGo_cue", "EventBump",
                                    "datasetID", "session", "animal", "task"]


def test_parquet_gives_the_schema(small):
    df, parquet, _ = small
    everything, bin_ms = load_and_filter_parquet(parquet, exclude=None)
    assert bin_ms == 10.0
    pd.testing.assert_frame_equal(everything, as_schema(df))
    assert list(everything.columns) == canonical_order(df.columns)
    assert {str(everything[c].dtype) for c in neuron_columns(everything)} == {"float32"}
    assert everything["animal"].dtype == np.int64 and everything["EventGo_cue"].dtype == bool
    assert everything.attrs["source"] == parquet.name


def test_parquet_default_keeps_rewarded_only_and_custom_exclude(small):
    df, parquet, _ = small
    loaded, _ = load_and_filter_parquet(parquet)
    assert set(loaded["result"]) == {"R"}
    pd.testing.assert_frame_equal(loaded, as_schema(df[df["result"] == "R"].reset_index(drop=True)))
    no_aborted, _ = load_and_filter_parquet(parquet, exclude=["A"])
    assert set(no_aborted["result"]) == set(df["result"]) - {"A"}


def test_columns_reads_the_ids_too(small):
    _, parquet, nwb = small
    for loader, path in ((load_and_filter_parquet, parquet), (load_nwb, nwb)):
        loaded, _ = loader(path, columns=["hand_vel_x", "Neuron2"])
        assert list(loaded.columns) == ["Neuron2", "datasetID", "animal", "session", "trial_id", "task", "result",
                                        "hand_vel_x"]


def test_nwb_twin_reads_to_the_parquet_frame(small):
    _, parquet, nwb = small
    for exclude in [("A", "I", "F"), None, ["A"]]:
        from_parquet, bin_p = load_and_filter_parquet(parquet, exclude=exclude)
        from_nwb, bin_n = load_nwb(nwb, exclude=exclude)
        assert bin_p == bin_n == 10.0
        pd.testing.assert_frame_equal(from_nwb, from_parquet)  # same order and dtypes too


def test_nwb_twin_has_exactly_001056s_series(small, shared_dir):
    """The twin holds what the real 001056 file holds, no more: the facts in real_layouts.yaml."""
    from pynwb import NWBHDF5IO

    real = yaml.safe_load((shared_dir / "data/neurotask/real_layouts.yaml").read_text())["dandisets"]["001056"]
    _, _, nwb = small
    with NWBHDF5IO(str(nwb), "r") as io:
        f = io.read()
        assert sorted(f.processing) == ["behavior", "events", "indices", "spikes"]
        assert sorted(f.processing["behavior"].data_interfaces) == sorted(real["behavior"])
        assert sorted(f.processing["events"].data_interfaces) == sorted([*real["events"], "result"])
        assert sorted(f.processing["indices"].data_interfaces) == ["animal", "datasetID", "session", "trial_id"]
        assert f.processing["events"]["result"].data[0] in (b"R", b"F", b"I", b"A")
        assert f.processing["spikes"]["spikes_counts"].data.dtype.kind == "f"  # float counts, as the real file
        assert f.processing["spikes"]["spikes_counts"].rate == 100.0


def test_nwb_schema_fixes(small):
    _, _, nwb = small
    loaded, _ = load_nwb(nwb, exclude=None)
    assert neuron_columns(loaded)[0] == "Neuron1"  # 1-based, as the parquet files
    assert loaded["result"].map(type).eq(str).all()  # str, not bytes
    assert loaded["task"].unique().tolist() == ["CenterOut_Bump"]  # from the dandiset number in the path
    named, _ = load_nwb(nwb, task="MyTask")
    assert named["task"].unique().tolist() == ["MyTask"]
    second = loaded[loaded["animal"] == 2]
    assert second[["Neuron4", "Neuron5"]].isna().all().all()
    assert second[["Neuron1", "Neuron3"]].notna().all().all()


def test_angles_are_radians(small):
    _, parquet, _ = small
    loaded, _ = load_and_filter_parquet(parquet, exclude=None)
    directions = np.unique(loaded["target_dir"])
    assert directions.max() < 2 * np.pi
    assert np.allclose(directions / (np.pi / 4), np.round(directions / (np.pi / 4)))


def test_file_columns_without_reading(small):
    _, parquet, nwb = small
    loaded, _ = load_and_filter_parquet(parquet)
    assert file_columns(parquet) == list(loaded.columns)
    assert file_columns(nwb) == list(loaded.columns)


def test_load_file_dispatches_on_the_suffix(small, tmp_path):
    _, parquet, nwb = small
    for exclude in [("A", "I", "F"), None]:
        from_parquet, bin_p = load_file(parquet, exclude=exclude, bin_ms=20)
        from_nwb, bin_n = load_file(nwb, exclude=exclude, bin_ms=20)
        assert bin_p == bin_n == 20.0
        pd.testing.assert_frame_equal(from_nwb, from_parquet)
    with pytest.raises(ValueError, match=r"not a NeuroTask file \(expected a .parquet or .nwb"):
        load_file(tmp_path / "2_10_X_Y.csv")


# ----------------------------------------------------------------------------------------- batches and bin_ms


@pytest.mark.parametrize("batch_rows", [37, 1000, None])
@pytest.mark.parametrize("exclude", [None, ("A", "I", "F")])
def test_rebin_while_reading_equals_rebin_after(small, batch_rows, exclude):
    """Batches cut trials anywhere; the result is exactly rebin() on the whole frame."""
    _, parquet, nwb = small
    whole, _ = load_and_filter_parquet(parquet, exclude=exclude)
    expected = rebin(whole, 10, 30)
    for loader, path in ((load_and_filter_parquet, parquet), (load_nwb, nwb)):
        got, bin_ms = loader(path, exclude=exclude, bin_ms=30, batch_rows=batch_rows)
        assert bin_ms == 30.0
        pd.testing.assert_frame_equal(got, expected)
        again, _ = loader(path, exclude=exclude, batch_rows=batch_rows)  # and at the file's bin
        pd.testing.assert_frame_equal(again, whole)


def test_maze_layout_1ms_uint16_ids_sessions_4_5_trials_from_0(maze):
    df, path = maze
    assert df["animal"].dtype == np.uint16 and df["Neuron1"].dtype == np.float64
    assert sorted(df["session"].unique()) == [4, 5] and df["trial_id"].min() == 0
    assert list(df.columns[-3:]) == ["EventGo_cue", "EventMovement_start", "EventMovement_end"]  # after the ids
    loaded, bin_ms = load_and_filter_parquet(path, exclude=None, bin_ms=20, batch_rows=999)
    assert bin_ms == 20.0
    assert loaded["session"].dtype == np.int64 and loaded["trial_id"].min() == 0
    pd.testing.assert_frame_equal(loaded, rebin(as_schema(df), 1, 20))
    assert velocity_columns(loaded) == ["cursor_vel_x", "cursor_vel_y"]
    assert "EventTarget_Onset" not in loaded


def test_bin_ms_must_be_a_multiple(small):
    _, parquet, _ = small
    with pytest.raises(ValueError, match="not a whole number"):
        load_and_filter_parquet(parquet, bin_ms=25)


def _layout_frame(behavior: list[str], events: list[str]) -> pd.DataFrame:
    """A small table with exactly these series (values are placeholders; the layout is what is tested)."""
    return layout_table(behavior, events)


def _real_nwb_layouts(shared_dir) -> list[tuple[str, dict]]:
    facts = yaml.safe_load((shared_dir / "data/neurotask/real_layouts.yaml").read_text())["dandisets"]
    layouts = []
    for dandiset, info in facts.items():
        for kind, layout in (info.get("kinds") or {"": info}).items():
            layouts.append((f"{dandiset}{kind}", {**layout, "extra": info.get("extra_event_series", [])}))
    return layouts


def test_nwb_loader_reads_every_real_layout(shared_dir, tmp_path):
    """All six dandisets' series lists (001057's three kinds, 001059's extra trials_id) load into the schema."""
    layouts = _real_nwb_layouts(shared_dir)
    assert len(layouts) == 8
    for name, layout in layouts:
        df = _layout_frame(layout["behavior"], layout["events"])
        extra = {s: df["trial_id"].to_numpy() for s in layout["extra"]}
        path = write_nwb_twin(df, 10, tmp_path / name[:6] / f"{name}.nwb", name, extra_events=extra)
        loaded, bin_ms = load_nwb(path, exclude=None)
        assert bin_ms == 10.0
        assert sorted(behavior_columns(loaded)) == sorted(layout["behavior"]), name
        assert sorted(event_columns(loaded)) == sorted(layout["events"]), name
        assert "trials_id" in loaded.columns if layout["extra"] else "trials_id" not in loaded.columns
        assert loaded["trial_id"].min() == 0 and len(loaded) == len(df)
        rewarded, _ = load_nwb(path, bin_ms=20)  # the default exclude and rebinning work on every layout
        assert set(rewarded["result"]) == {"R"} and len(rewarded) == (7 // 2 + 8 // 2)
        if layout["events"]:
            aligned = align_event(loaded, layout["events"][0], 10, -10, 20)
            assert len(aligned) > 0


def test_churchland3_extras_load_as_numbers_or_text(tmp_path):
    """maze_conditions/correct_reach (their real dtype is not on record): numbers or text both load."""
    for values in (np.arange(24) % 3, np.array(["a", "b", "c"] * 8)):
        df = _layout_frame(["cursor_vel_x", "cursor_vel_y"], ["EventGo_cue"])
        df["maze_conditions"], df["correct_reach"] = values, np.ones(24)
        path = tmp_path / "6_1_Churchland3_Maze.parquet"
        df.to_parquet(path)
        loaded, _ = load_and_filter_parquet(path, exclude=None, bin_ms=2)
        assert "maze_conditions" in behavior_columns(loaded)


# ----------------------------------------------------------------------------------------- velocity


def test_velocity_columns_prefers_the_hand_and_names_the_dataset_without_one():
    both = pd.DataFrame(columns=["hand_vel_x", "hand_vel_y", "cursor_vel_x", "cursor_vel_y"])
    assert velocity_columns(both) == ["hand_vel_x", "hand_vel_y"]
    assert velocity_columns(pd.DataFrame(columns=["cursor_vel_x", "cursor_vel_y"])) == ["cursor_vel_x", "cursor_vel_y"]
    grasp = pd.DataFrame({"datasetID": [4], "task": ["KeyGrasp"], "force_x": [0.0], "force_y": [0.0],
                          "target_dir": [0.0]})
    grasp.attrs["source"] = "4_10_X_KeyGrasp.parquet"
    with pytest.raises(ValueError, match=r"4_10_X_KeyGrasp.parquet \(dataset 4, task KeyGrasp\) has no velocity") as err:
        velocity_columns(grasp)
    assert "behavior_columns=['force_x', 'force_y']" in str(err.value)
