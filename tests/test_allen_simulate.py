"""The demo project: real table columns, one NWB per session, a progression with known ground truth."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from course_utils.allen import load_behavior_session, load_session_table, mouse_summary, performance_metrics
from course_utils.allen.simulate import IMAGE_SETS, simulate_session, write_demo_project
from course_utils.data import get_source
from course_utils.manifest import load_manifest

REAL_COLUMNS = [
    "behavior_session_id", "ophys_session_id", "ophys_container_id", "mouse_id", "indicator", "full_genotype",
    "driver_line", "cre_line", "reporter_line", "sex", "age_in_days", "project_code", "session_type",
    "session_number", "image_set", "behavior_type", "experience_level", "prior_exposures_to_session_type",
    "prior_exposures_to_image_set", "prior_exposures_to_omissions", "date_of_acquisition", "equipment_name",
    "imaging_plane_group_count", "num_depths_per_area", "num_targeted_structures", "ophys_experiment_id",
    "file_id", "file_path",
]

# several tests read the same session (TRAINING_0, TRAINING_3, OPHYS_4): read each file once (tests only read)
_load = functools.lru_cache(maxsize=None)(load_behavior_session)


@pytest.fixture(scope="module")
def project():
    """The demo project as a learner and the chapters get it: the manifest's generator through get_source.

    It is the folder `make test`'s demo-data step (``python -m course_utils data prepare``) has already built,
    so it is not simulated a second time here (built now if it is missing, as a chapter would build it, in
    ``$COURSE_DATA_DIR`` or the platform's cache: the same cached demo set that tests/test_sources.py reads).
    """
    return get_source("allen_visual_behavior", "demo")


@pytest.fixture(scope="module")
def table(project):
    """The sessions of the project's Slc17a7 mouse (trained on images A, B when novel)."""
    full = load_session_table(project)
    table = full[full["cre_line"] == "Slc17a7-IRES2-Cre"]
    assert table["mouse_id"].nunique() == 1
    return table


def test_table_has_the_real_columns(project):
    raw = pd.read_csv(project / "project_metadata" / "behavior_session_table.csv")
    assert list(raw.columns) == REAL_COLUMNS


def test_table_columns_match_the_real_table(project, shared_dir):
    real = pd.read_csv(shared_dir / "data" / "allen" / "behavior_session_table.csv", nrows=5)
    demo = pd.read_csv(project / "project_metadata" / "behavior_session_table.csv")
    assert list(demo.columns) == list(real.columns)


def test_progression_and_files(project):
    full = load_session_table(project)
    params = load_manifest()["sources"]["allen_visual_behavior"]["modes"]["demo"]["params"]
    assert full["mouse_id"].nunique() == params["n_mice"]
    for _, table in full.groupby("mouse_id"):
        order = table["stage_order"].to_numpy()
        assert order[0] == 0 and order[-1] == 12 and (np.diff(order) >= 0).all()
        assert set(table["training_stage"]) == ({f"TRAINING_{k}" for k in range(6)}
                                                | {f"OPHYS_{k}" for k in range(7)})
    for path in full["file_path"]:
        file = project / path
        assert file.is_file() and file.stat().st_size < 5e6
    for _, summary in mouse_summary(full).iterrows():
        assert summary["first_handoff_ready"] < summary["handoff_date"]


def test_ground_truth_learning_shows_in_the_metrics(project, table):
    truth = pd.read_csv(project / "demo_ground_truth.csv", index_col="behavior_session_id")
    active = table[(table["training_stage"] != "TRAINING_0") & ~table["passive"]]
    early, late = active.index[0], active[active["training_stage"] == "OPHYS_3"].index[0]
    assert truth.loc[late, "dprime_true"] > truth.loc[early, "dprime_true"] + 1.0
    metric = {}
    for sid, path in active.loc[[early, late], "file_path"].items():
        session = _load(project / path)
        metric[sid] = performance_metrics(session.trials, session.rewards)
    assert metric[late]["mean_dprime_engaged"] > metric[early]["mean_dprime_engaged"]
    passive = table[table["passive"]].index[0]
    session = _load(project / table.loc[passive, "file_path"])
    assert len(session.licks) == 0 and session.get_performance_metrics()["max_dprime"] == 0.0


def test_training_0_is_all_autorewards_and_t3_gives_10_ul(project, table):
    t0 = _load(project / table[table["training_stage"] == "TRAINING_0"]["file_path"].iloc[0])
    assert t0.trials["auto_rewarded"].all() and (t0.rewards["volume"] == 0.005).all()
    t3 = _load(project / table[table["training_stage"] == "TRAINING_3"]["file_path"].iloc[0])
    assert set(t3.rewards.loc[~t3.rewards["auto_rewarded"], "volume"]) == {0.010}


def test_sessions_have_the_stimulus_blocks_of_real_sessions(project, table):
    """TRAINING_5 and OPHYS sessions add a grey screen and a natural movie (so the merge is exercised)."""
    for stage, blocks in (("TRAINING_0", {"grating"}), ("TRAINING_4", {"Natural_Images_Lum_Matched_set_images_A"}),
                          ("TRAINING_5", {"Natural_Images_Lum_Matched_set_images_A", "spontaneous",
                                          "natural_movie_one"}),
                          ("OPHYS_4", {"Natural_Images_Lum_Matched_set_images_B", "spontaneous", "natural_movie_one"})):
        path = project / table[table["training_stage"] == stage]["file_path"].iloc[0]
        stim = _load(path).stimulus_presentations
        assert set(stim["stimulus_name"]) == blocks, stage


def test_image_novelty_follows_the_mouse_history(project, table):

    def novelty(stage):
        path = project / table[table["training_stage"] == stage]["file_path"].iloc[0]
        stim = _load(path).stimulus_presentations
        shown = stim[stim["image_name"].notna() & ~stim["omitted"].astype("boolean").fillna(True)]
        return set(shown["is_image_novel"])

    assert novelty("TRAINING_3") == {True}  # the first images the mouse sees
    assert novelty("OPHYS_1") == {False}  # its training images
    assert novelty("OPHYS_4") == {True}  # the novel set, first day
    assert novelty("OPHYS_6") == {False}


def test_simulation_is_reproducible():
    def run():
        return simulate_session("OPHYS_3_images_A", 120, 2.0, 0.0, 90, 0.1, IMAGE_SETS["A"],
                                np.random.default_rng(7))

    a, b = run(), run()
    pd.testing.assert_frame_equal(a["trials"], b["trials"])
    np.testing.assert_array_equal(a["speed"], b["speed"])


def test_bad_n_mice():
    with pytest.raises(ValueError, match="n_mice"):
        write_demo_project("unused", n_mice=0)
