"""The NeuroTask demo simulator: real layout, sensible trials, and recoverable ground truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from course_utils.neurotask import (
    behavior_columns,
    event_columns,
    load_and_filter_parquet,
    load_nwb,
    neuron_columns,
    parse_bin_ms,
    trial_table,
    velocity_columns,
)
from course_utils.neurotask.simulate import (
    DEMO_SPECS,
    GROUND_TRUTH_FILE,
    LAG_MS,
    LAYOUTS,
    NWB_TWIN,
    DatasetSpec,
    load_ground_truth,
    simulate_dataset,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo folder, made the way chapters get it: through the manifest's generator and the data layer."""
    from course_utils.data import get_source

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        mp.delenv("COURSE_DATA_MODE", raising=False)
        return get_source("neurotask", "demo")


def test_demo_files_and_names(demo):
    names = sorted(p.name for p in demo.glob("*.parquet"))
    assert names == sorted(spec.file_name for spec in DEMO_SPECS)
    assert {parse_bin_ms(n) for n in names} == {1.0, 10.0, 20.0}
    assert (demo / NWB_TWIN).is_file()
    total_mb = sum(p.stat().st_size for p in demo.rglob("*") if p.is_file()) / 1e6
    assert total_mb < 60


def test_each_demo_file_has_its_real_familys_series(demo, shared_dir):
    """The layouts follow shared/data/neurotask/real_layouts.yaml, never the other way round."""
    import yaml

    facts = yaml.safe_load((shared_dir / "data/neurotask/real_layouts.yaml").read_text())
    expected = {
        "CenterOut_Bump": facts["dandisets"]["001056"],
        "RandomTarget": facts["dandisets"]["001055"],
        "Maze": facts["parquet_only"]["maze"],
        "KeyGrasp": facts["dandisets"]["001059"],
    }
    assert sorted(expected) == sorted(spec.task for spec in DEMO_SPECS)
    for spec in DEMO_SPECS:
        df, _ = load_and_filter_parquet(demo / spec.file_name, exclude=None)
        assert sorted(behavior_columns(df)) == sorted(expected[spec.task]["behavior"]), spec.task
        assert sorted(event_columns(df)) == sorted(expected[spec.task]["events"]), spec.task
    assert LAYOUTS.keys() >= expected.keys()


def test_the_demo_set_covers_what_the_chapters_meet(demo):
    """001056's series (no movement events, no force), a file without events, a 1 ms Maze, one without velocity."""
    frames = {spec.task: load_and_filter_parquet(demo / spec.file_name, exclude=None)[0] for spec in DEMO_SPECS}
    cobump = frames["CenterOut_Bump"]
    assert "EventMovement_start" not in cobump and not any(c.startswith("force") for c in cobump)
    assert event_columns(frames["RandomTarget"]) == []
    maze = frames["Maze"]
    assert sorted(maze["session"].unique()) == [4, 5] and maze["trial_id"].min() == 0
    assert "EventTarget_Onset" not in maze and velocity_columns(maze) == ["cursor_vel_x", "cursor_vel_y"]
    with pytest.raises(ValueError, match="has no velocity"):
        velocity_columns(frames["KeyGrasp"])


def test_the_files_store_the_real_dtypes(demo):
    import pyarrow.parquet as pq

    types = {spec.task: dict(zip(*[pq.read_schema(demo / spec.file_name).names,
                                    map(str, pq.read_schema(demo / spec.file_name).types)], strict=True))
             for spec in DEMO_SPECS}
    cobump = types["CenterOut_Bump"]
    assert {t for c, t in cobump.items() if c.startswith("Neuron")} == {"uint8", "double"}  # mixed, as real
    assert cobump["trial_id"] == "double" and cobump["datasetID"] == "int64"
    maze = types["Maze"]
    assert {t for c, t in maze.items() if c.startswith("Neuron")} == {"double"}  # float counts at 1 ms
    assert maze["animal"] == maze["session"] == maze["datasetID"] == "uint16"


def test_ground_truth_is_plain_json(demo):
    truth = load_ground_truth(demo)
    assert json.loads((demo / GROUND_TRUTH_FILE).read_text()) == truth
    cobump = truth["datasets"]["2_10_Simulated_CObump.parquet"]
    assert cobump["lag_ms"] == LAG_MS and len(cobump["sessions"]) == 4
    with pytest.raises(FileNotFoundError, match="(?i)only the simulated"):
        load_ground_truth(demo / "001056")


def test_sessions_have_their_own_neuron_counts(demo):
    df, _ = load_and_filter_parquet(demo / "2_10_Simulated_CObump.parquet", exclude=None)
    truth = load_ground_truth(demo)["datasets"]["2_10_Simulated_CObump.parquet"]["sessions"]
    neurons = neuron_columns(df)
    for session in truth:
        rows = df[(df["animal"] == session["animal"]) & (df["session"] == session["session"])]
        present = rows[neurons].notna().all().to_numpy()
        assert present.sum() == session["n_neurons"]
        assert present[: session["n_neurons"]].all()  # the extra columns are the NaN-padded tail
    assert len({s["n_neurons"] for s in truth}) > 1


def test_maze_is_a_1ms_file(demo):
    df, bin_ms = load_and_filter_parquet(demo / "6_1_Simulated_Maze.parquet", exclude=None)
    assert bin_ms == 1.0 and len(df) > 50_000


@pytest.mark.parametrize("spec", DEMO_SPECS, ids=lambda s: s.task)
def test_events_in_order_and_results_realistic(demo, spec):
    df, bin_ms = load_and_filter_parquet(demo / spec.file_name, exclude=None)
    trials = trial_table(df, bin_ms)
    order = [
        c
        for c in (
            "EventTarget_Onset_ms",
            "EventBump_ms",
            "EventGo_cue_ms",
            "EventMovement_start_ms",
            "EventMovement_end_ms",
        )
        if c in trials
    ]
    times = trials[order].to_numpy()
    for a in range(len(order)):
        for b in range(a + 1, len(order)):
            both = np.isfinite(times[:, a]) & np.isfinite(times[:, b])
            assert (times[both, a] < times[both, b]).all(), (order[a], order[b])
    rates = trials["result"].value_counts(normalize=True)
    assert 0.6 < rates["R"] < 0.98
    assert set(trials["result"]) == {code for code, _ in spec.result_probs}
    rewarded = trials[trials["result"] == "R"]
    if "EventMovement_end_ms" in trials:
        assert rewarded["EventMovement_end_ms"].notna().all()
    if "EventGo_cue_ms" in trials:
        assert rewarded["EventGo_cue_ms"].notna().all()
        if "A" in set(trials["result"]):  # aborted before the go cue
            assert trials.loc[trials["result"] == "A", "EventGo_cue_ms"].isna().all()


def test_nwb_twin_matches_parquet(demo):
    parquet, bin_p = load_and_filter_parquet(demo / "2_10_Simulated_CObump.parquet")
    nwb, bin_n = load_nwb(demo / NWB_TWIN)
    assert bin_p == bin_n
    pd.testing.assert_frame_equal(nwb, parquet.reset_index(drop=True))


def test_reaches_go_to_the_target(demo):
    df, bin_ms = load_and_filter_parquet(demo / "2_10_Simulated_CObump.parquet")
    trials = trial_table(df, bin_ms)
    last = df.groupby(["animal", "session", "trial_id"], sort=False)[["hand_pos_x", "hand_pos_y"]].last()
    angle = np.arctan2(last["hand_pos_y"], last["hand_pos_x"]).to_numpy()
    error = np.angle(np.exp(1j * (angle - trials["target_dir"].to_numpy())))  # radians, circular
    assert np.rad2deg(np.abs(error)).max() < 3


def test_preferred_directions_are_recoverable(demo):
    """Regress each neuron's counts on the velocity LAG_MS later: the fitted direction is the true one."""
    name = "2_10_Simulated_CObump.parquet"
    df, bin_ms = load_and_filter_parquet(demo / name)
    truth = load_ground_truth(demo)["datasets"][name]["sessions"][0]
    rows = df[(df["animal"] == truth["animal"]) & (df["session"] == truth["session"])]
    shift = int(LAG_MS // bin_ms)
    vel = rows[["hand_vel_x", "hand_vel_y"]].to_numpy()[shift:]
    counts = rows[neuron_columns(df)[: truth["n_neurons"]]].to_numpy()[:-shift]
    design = np.column_stack([np.ones(len(vel)), vel])
    coef, *_ = np.linalg.lstsq(design, np.log1p(counts), rcond=None)
    fitted = np.arctan2(coef[2], coef[1])
    true = np.asarray(truth["preferred_direction_rad"])
    tuned = np.asarray(truth["modulation_depth"]) > 0.7
    error = np.abs(np.angle(np.exp(1j * (fitted - true))))[tuned]
    assert np.median(np.rad2deg(error)) < 15


def test_same_seed_same_data_and_small_specs():
    spec = DatasetSpec(3, 10, "T", "CenterOut", "CenterOut", ((1, 1, 6, (4, 4)),), (("R", 1.0),))
    with pytest.raises(ValueError, match="Unknown task"):
        simulate_dataset(DatasetSpec(3, 10, "T", "X", "Nope", ((1, 1, 6, (4, 4)),), (("R", 1.0),)))
    a, truth_a = simulate_dataset(spec, seed=3)
    b, truth_b = simulate_dataset(spec, seed=3)
    c, _ = simulate_dataset(spec, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert truth_a == truth_b
    assert not a["Neuron1"].equals(c["Neuron1"])
