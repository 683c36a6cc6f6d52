"""Reading behaviour NWB files: AllenSDK 2.16.2's tables from plain pynwb, the real layout, bad input."""

from __future__ import annotations

import shutil
import uuid

import h5py
import numpy as np
import pandas as pd
import pytest

from course_utils.allen.nwb import (
    INT_NULL,
    METADATA_KEYS,
    PRESENTATION_COLUMNS,
    TASK_PARAMETER_KEYS,
    TRIAL_COLUMNS,
    flashes_since_change,
    image_change,
    load_behavior_session,
)
from course_utils.allen.simulate import IMAGE_SETS, simulate_session, task_parameters, write_behavior_nwb
from course_utils.fileio import BadFileError

ROW = {"behavior_session_id": 123, "mouse_id": 456, "sex": "F", "age_in_days": 90,
       "full_genotype": "Sst-IRES-Cre/wt;Ai148(TIT2L-GC6f-ICL-tTA2)/wt", "driver_line": "['Sst-IRES-Cre']",
       "reporter_line": "Ai148(TIT2L-GC6f-ICL-tTA2)", "equipment_name": "CAM2P.3", "image_set": "images_A",
       "project_code": "VisualBehaviorTask1B", "date_of_acquisition": "2019-04-09 13:26:26.372000+00:00"}


def _simulate(session_type="OPHYS_1_images_A", seed=0, duration=300.0, dprime=2.5, **kwargs):
    return simulate_session(session_type, duration, dprime, 0.0, duration * 0.8, 0.1, IMAGE_SETS["A"],
                            np.random.default_rng(seed), **kwargs)


def _write(path, session_type="OPHYS_1_images_A", namespace=None, sim=None, **kwargs):
    sim = sim if sim is not None else _simulate(session_type, **kwargs)
    row = pd.Series({**ROW, "session_type": session_type})
    extra = {"namespace": namespace} if namespace else {}
    write_behavior_nwb(path, row, sim, task_parameters(session_type, len(sim["frame_times"])), **extra)
    return sim


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("allen") / "behavior_session_123.nwb"
    sim = _write(path, prior_images=IMAGE_SETS["A"][:4])
    return path, sim


@pytest.fixture(scope="module")
def demo_session(demo_file):
    return load_behavior_session(demo_file[0])


def test_metadata_and_task_parameters_are_allensdks(demo_session):
    meta = demo_session.metadata
    assert tuple(meta) == METADATA_KEYS  # AllenSDK's keys in its order: no "age", a "cre_line"
    assert meta["mouse_id"] == "456"  # a string, as AllenSDK returns it
    assert meta["cre_line"] == "Sst-IRES-Cre"  # derived from the genotype
    assert meta["driver_line"] == ["Sst-IRES-Cre"] and meta["age_in_days"] == 90
    assert meta["behavior_session_uuid"] == uuid.UUID(int=123) and meta["behavior_session_id"] == 123
    assert meta["project_code"] == "VisualBehaviorTask1B" and meta["stimulus_frame_rate"] == 60.0
    assert str(meta["date_of_acquisition"]) == "2019-04-09 13:26:26.372000+00:00"
    task = demo_session.task_parameters
    assert tuple(task) == TASK_PARAMETER_KEYS
    assert task["image_set"] == "images_A"  # derived from the session type
    assert task["response_window_sec"] == [0.15, 0.75] and task["blank_duration_sec"] == [0.5, 0.5]


def test_tables_have_allensdks_columns(demo_file, demo_session):
    _, sim = demo_file
    session = demo_session
    assert list(session.trials.columns) == list(TRIAL_COLUMNS)
    assert list(session.trials.columns[:2]) == ["start_time", "stop_time"]
    assert session.trials.index.name == "trials_id"
    assert session.trials["change_frame"].dtype == np.int64
    aborted = session.trials["aborted"]
    assert (session.trials.loc[aborted, "change_frame"] == INT_NULL).all()
    assert (session.trials.loc[~aborted, "change_frame"] >= 0).all()
    assert list(session.licks.columns) == ["timestamps", "frame"]
    assert list(session.rewards.columns) == ["volume", "timestamps", "auto_rewarded"]
    assert session.rewards["auto_rewarded"].dtype == bool
    assert list(session.running_speed.columns) == ["timestamps", "speed"]
    stim = session.stimulus_presentations
    assert stim.index.name == "stimulus_presentations_id" and (stim.index == np.arange(len(stim))).all()
    assert "end_time" in stim.columns and "stop_time" not in stim.columns and "image_set" not in stim.columns
    leading = [c for c in stim.columns if c in PRESENTATION_COLUMNS]
    assert leading == [c for c in PRESENTATION_COLUMNS if c in stim.columns] == list(stim.columns[:len(leading)])
    # round trip of the simulated tables
    np.testing.assert_allclose(session.licks["timestamps"], sim["licks"]["timestamps"])
    assert session.trials["hit"].sum() == sim["trials"]["hit"].sum()


def test_presentation_blocks_merged_as_allensdk_merges_them(demo_file, demo_session):
    path, sim = demo_file
    with h5py.File(path, "r") as handle:  # the file holds one table per stimulus, like a real file
        tables = sorted(k for k in handle["intervals"] if k.endswith("_presentations"))
    assert tables == ["Natural_Images_Lum_Matched_set_images_A_presentations", "natural_movie_one_presentations",
                      "spontaneous_presentations"]
    stim = demo_session.stimulus_presentations
    assert len(stim) == len(sim["presentations"])
    assert (np.diff(stim["start_time"]) >= 0).all()
    images = stim["image_name"].notna().to_numpy()
    assert stim.loc[~images, "stimulus_name"].isin(["spontaneous", "natural_movie_one"]).all()
    assert stim.loc[images, "stimulus_name"].eq("Natural_Images_Lum_Matched_set_images_A").all()
    for column in ("omitted", "is_image_novel"):  # nullable booleans, NA exactly on the non-image rows
        assert isinstance(stim[column].dtype, pd.BooleanDtype)
        assert stim.loc[~images, column].isna().all()
    assert stim.loc[images, "omitted"].notna().all()
    assert stim["omitted"].sum() > 0
    # "omitted" is no image: its novelty is NA; the mouse saw four of the eight images before
    shown = images & ~stim["omitted"].fillna(True).to_numpy()
    assert stim.loc[images & ~shown, "is_image_novel"].isna().all()
    novel = stim[shown].groupby("image_name")["is_image_novel"].first()
    assert novel.to_dict() == {name: name not in IMAGE_SETS["A"][:4] for name in novel.index}
    assert stim["is_change"].dtype == bool and not stim.loc[~images, "is_change"].any()
    for column in ("image_index", "flashes_since_change", "trials_id"):
        assert stim[column].dtype == np.int64 and (stim.loc[~images, column] == INT_NULL).all()
    movie = stim[stim["stimulus_name"] == "natural_movie_one"]
    assert (movie["movie_frame_index"] >= 0).all() and movie["movie_repeat"].nunique() > 1
    assert (stim.loc[images, "movie_frame_index"] == INT_NULL).all()
    # every go change of the trials is an image change of the presentations
    trials = demo_session.trials
    changes = np.round(stim.loc[stim["is_change"], "start_time"], 4)
    assert np.isin(np.round(trials.loc[trials["go"] | trials["auto_rewarded"], "change_time"], 4), changes).all()
    assert stim.loc[images, "active"].all() and not stim.loc[~images, "active"].any()
    linked = stim.loc[stim["trials_id"] >= 0, ["trials_id", "start_time"]]
    starts = trials["start_time"].to_numpy()
    assert (starts[linked["trials_id"]] < linked["start_time"]).all()


def _allensdk_flashes_since_change(stim: pd.DataFrame) -> np.ndarray:
    """AllenSDK 2.16.2's count as its NWB reader computes it: one pass over every row of the merged table."""
    out = np.zeros(len(stim), dtype=int)
    for i, (name, omitted, change) in enumerate(zip(stim["image_name"], stim["omitted"], stim["is_change"],
                                                   strict=True)):
        omitted = False if pd.isna(omitted) else bool(omitted)
        if name == "omitted" or omitted:
            out[i] = out[i - 1]
        elif change or i == 0:
            out[i] = 0
        else:
            out[i] = out[i - 1] + 1
    return out


def test_flashes_since_change_is_counted_over_the_image_rows_only(demo_file, demo_session):
    path, _ = demo_file
    stim = demo_session.stimulus_presentations
    ours = stim["flashes_since_change"].to_numpy()
    theirs = _allensdk_flashes_since_change(stim)
    images = stim["image_name"].notna().to_numpy()
    after_first_change = images & (np.arange(len(stim)) >= np.flatnonzero(stim["is_change"])[0])
    # the same count as AllenSDK on the image rows once the first change has reset it ...
    np.testing.assert_array_equal(ours[after_first_change], theirs[after_first_change])
    # ... the count AllenSDK stored in the file when it wrote the image block ...
    with h5py.File(path, "r") as handle:
        stored = handle["intervals/Natural_Images_Lum_Matched_set_images_A_presentations/flashes_since_change"][:]
    np.testing.assert_array_equal(ours[images], stored)
    # ... but -99 on grey-screen and movie rows, where AllenSDK's reader keeps counting (and an image block
    # after a leading grey screen starts at 1 there)
    assert (ours[~images] == INT_NULL).all() and theirs[~images].max() > 100
    first_image = np.flatnonzero(images)[0]
    assert ours[first_image] == 0 and theirs[first_image] == 1


def test_image_change_and_flash_count_on_hand_made_rows():
    stim = pd.DataFrame({
        "image_name": [None, "a", "a", "omitted", "a", "b", "b", None, "b", "c"],
        "omitted": pd.array([None, False, False, True, False, False, False, None, False, False], dtype="boolean"),
    })
    stim["is_change"] = image_change(stim)
    assert stim["is_change"].tolist() == [False, False, False, False, False, True, False, False, False, True]
    assert flashes_since_change(stim).tolist() == [-99, 0, 1, 1, 2, 0, 1, -99, 2, 0]


def test_session_without_other_blocks_has_plain_flags(tmp_path):
    path = tmp_path / "training.nwb"
    _write(path, "TRAINING_4_images_A_training", extra_blocks=False)
    stim = load_behavior_session(path).stimulus_presentations
    assert stim["stimulus_name"].nunique() == 1 and stim["image_name"].notna().all()
    assert stim["omitted"].dtype == bool and not stim["omitted"].any()  # no omissions in training, no gaps
    assert stim["stimulus_block_name"].eq("change_detection_behavior").all()


def test_gratings_session(tmp_path):
    path = tmp_path / "gratings.nwb"
    _write(path, "TRAINING_1_gratings")
    session = load_behavior_session(path)
    assert session.task_parameters["image_set"] == "gratings"
    stim = session.stimulus_presentations
    assert set(stim["image_name"]) <= {"gratings_0.0", "gratings_90.0", "gratings_180.0", "gratings_270.0"}
    np.testing.assert_allclose(stim["orientation"], stim["image_name"].str.split("_").str[1].astype(float))


def test_sensitivity_shows_in_the_behaviour():
    good = _simulate(seed=1, duration=900, dprime=3.0)["trials"]
    poor = _simulate(seed=1, duration=900, dprime=0.0)["trials"]

    def rates(t):
        return t.loc[t["go"], "hit"].mean(), t.loc[t["catch"], "false_alarm"].mean()

    (hit_good, fa_good), (hit_poor, fa_poor) = rates(good), rates(poor)
    assert hit_good - fa_good > 0.4
    assert abs(hit_poor - fa_poor) < 0.3


def test_simulated_session_follows_the_task_rules(demo_session):
    session = demo_session
    trials = session.trials
    outcomes = trials[["hit", "miss", "false_alarm", "correct_reject", "auto_rewarded", "aborted"]]
    assert (outcomes.sum(axis=1) == 1).all()  # exactly one outcome per trial
    assert not trials.loc[trials["aborted"], ["go", "catch", "auto_rewarded"]].any().any()
    assert (trials["go"] == ~trials["catch"] & ~trials["auto_rewarded"] & ~trials["aborted"]).all()
    assert set(np.round(session.rewards["volume"], 3)) <= {0.007, 0.005}
    assert (session.rewards.loc[session.rewards["auto_rewarded"], "volume"] == 0.005).all()
    hits = trials[trials["hit"]]
    assert ((hits["response_latency"] > 0.15) & (hits["response_latency"] <= 0.75)).all()
    assert np.median(np.diff(session.running_speed["timestamps"])) == pytest.approx(1 / 60, rel=0.01)
    stim = session.stimulus_presentations
    images = stim[stim["image_name"].notna()]
    shown = images[~images["omitted"].astype(bool)]
    assert np.median(shown["duration"]) == pytest.approx(0.25, abs=0.01)
    assert np.median(np.diff(images["start_time"])) == pytest.approx(0.75, abs=0.01)
    assert (images.loc[images["omitted"].astype(bool), "duration"] == 0.25).all()
    assert not (images["omitted"].astype(bool) & images["is_change"]).any()


def test_passive_session_has_no_lick_or_reward_modules(tmp_path):
    path = tmp_path / "passive.nwb"
    _write(path, "OPHYS_2_images_A_passive")
    with h5py.File(path, "r") as handle:  # AllenSDK writes no licking/rewards module without licks/rewards
        assert "licking" not in handle["processing"] and "rewards" not in handle["processing"]
    session = load_behavior_session(path)
    assert len(session.licks) == 0 and len(session.rewards) == 0
    assert list(session.rewards.columns) == ["volume", "timestamps", "auto_rewarded"]
    assert not session.trials["aborted"].any()
    assert session.get_performance_metrics()["max_dprime"] == 0.0
    assert session.stimulus_presentations["stimulus_block_name"].str.contains("change_detection_passive").any()


def test_real_layout_variant_gives_the_same_tables(tmp_path, demo_session):
    """The real namespace, the older 'stimulus_change', no response_latency, and presentations without the
    columns AllenSDK computes from the trials when a file lacks them (active, trials_id, is_sham_change)."""
    sim = _simulate(seed=3)
    full = sim["presentations"].copy()
    sim["trials"] = sim["trials"].drop(columns=["response_latency"]).rename(columns={"is_change": "stimulus_change"})
    sim["presentations"] = full.drop(columns=["active", "trials_id", "is_sham_change"])
    path = tmp_path / "real_layout.nwb"
    _write(path, namespace="ndx-aibs-behavior-ophys", sim=sim)
    real = load_behavior_session(path)
    assert list(real.trials.columns) == list(demo_session.trials.columns)
    assert set(demo_session.stimulus_presentations.columns) == set(real.stimulus_presentations.columns)
    assert tuple(real.task_parameters) == TASK_PARAMETER_KEYS and tuple(real.metadata) == METADATA_KEYS
    finite = np.isfinite(real.trials["response_time"])
    np.testing.assert_allclose(real.trials.loc[finite, "response_latency"],
                               (real.trials["response_time"] - real.trials["change_time"])[finite])
    stim = real.stimulus_presentations
    for column in ("active", "trials_id", "is_sham_change"):  # computed = what the writer computed
        np.testing.assert_array_equal(stim[column].to_numpy(), full[column].to_numpy(), err_msg=column)
    assert stim["is_sham_change"].sum() == real.trials["catch"].sum()


# ------------------------------------------------------------------------------------------- bad input
def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_behavior_session(tmp_path / "missing.nwb")


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "is empty"),
    (b"<html>Access denied</html>", "not an NWB file.*web page"),
    (b"behavior_session_id,mouse_id\n1,2\n", "not an NWB file.*another kind of file"),
])
def test_non_nwb_file_names_the_file_and_the_fix(tmp_path, content, problem):
    path = tmp_path / "behavior_session_1.nwb"
    path.write_bytes(content)
    with pytest.raises(BadFileError, match=problem) as info:
        load_behavior_session(path)
    assert info.value.path == path and str(path) in str(info.value)
    assert "download it again" in str(info.value)


def test_hdf5_that_is_not_nwb(tmp_path):
    path = tmp_path / "behavior_session_1.nwb"
    with h5py.File(path, "w") as handle:
        handle["x"] = np.arange(3)
    with pytest.raises(BadFileError, match=r"HDF5 file but not an NWB file.*\['x'\]") as info:
        load_behavior_session(path)
    assert str(path) in str(info.value) and "Pass a behavior_session" in str(info.value)


def test_truncated_nwb_says_how_much_is_missing(tmp_path, demo_file):
    path = tmp_path / "behavior_session_123.nwb"
    shutil.copy(demo_file[0], path)
    size = path.stat().st_size
    with open(path, "r+b") as handle:  # an interrupted download
        handle.truncate(size // 2)
    with pytest.raises(BadFileError, match="is truncated") as info:
        load_behavior_session(path)
    message = str(info.value)
    assert str(path) in message and f"{size // 2:,} bytes on disk" in message and f"{size:,}" in message
    assert "download it again" in message


def test_session_without_trials_is_a_clear_error(tmp_path):
    sim = _simulate(seed=4, duration=60)
    sim["trials"] = None
    path = tmp_path / "no_trials.nwb"
    _write(path, sim=sim)
    with pytest.raises(BadFileError, match="has no trials") as info:
        load_behavior_session(path)
    assert str(path) in str(info.value)


def test_trials_missing_a_column_is_a_clear_error(tmp_path):
    sim = _simulate(seed=5, duration=60)
    sim["trials"] = sim["trials"].drop(columns=["aborted"])
    path = tmp_path / "bad_trials.nwb"
    _write(path, sim=sim)
    with pytest.raises(BadFileError, match="aborted") as info:
        load_behavior_session(path)
    assert str(path) in str(info.value)
