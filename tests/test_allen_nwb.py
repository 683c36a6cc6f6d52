"""Reading behaviour NWB files: demo layout, a real-layout variant, simulated behaviour, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.allen.nwb import TRIAL_COLUMNS, load_behavior_session
from course_utils.allen.simulate import IMAGE_SETS, simulate_session, write_behavior_nwb

ROW = {"behavior_session_id": 123, "mouse_id": 456, "sex": "F", "age_in_days": 90,
       "full_genotype": "Sst-IRES-Cre/wt;Ai148(TIT2L-GC6f-ICL-tTA2)/wt", "driver_line": "['Sst-IRES-Cre']",
       "reporter_line": "Ai148(TIT2L-GC6f-ICL-tTA2)", "equipment_name": "CAM2P.3", "image_set": "images_A",
       "date_of_acquisition": "2019-04-09 13:26:26.372000+00:00"}
TASK = {"blank_duration_sec": ["0.5", "0.5"], "stimulus_duration_sec": 0.25, "omitted_flash_fraction": 0.05,
        "response_window_sec": ["0.15", "0.75"], "reward_volume": 0.007, "auto_reward_volume": 0.005,
        "session_type": "OPHYS_1_images_A", "stimulus": "images", "stimulus_distribution": "geometric",
        "task": "change detection", "n_stimulus_frames": 1}


def _simulate(session_type="OPHYS_1_images_A", seed=0, duration=300.0, dprime=2.5):
    return simulate_session(session_type, duration, dprime, 0.0, duration * 0.8, 0.1, IMAGE_SETS["A"],
                            np.random.default_rng(seed))


def _write(path, session_type="OPHYS_1_images_A", namespace=None, sim=None, **kwargs):
    sim = sim if sim is not None else _simulate(session_type)
    row = pd.Series({**ROW, "session_type": session_type})
    extra = {"namespace": namespace} if namespace else {}
    write_behavior_nwb(path, row, sim, {**TASK, "session_type": session_type}, **extra)
    return sim


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("allen") / "behavior_session_123.nwb"
    sim = _write(path)
    return path, sim


def test_demo_file_reads_with_allen_names(demo_file):
    path, sim = demo_file
    session = load_behavior_session(path)
    assert session.behavior_session_id == 123
    assert session.metadata["session_type"] == "OPHYS_1_images_A"
    assert session.metadata["mouse_id"] == 456 and session.metadata["driver_line"] == ["Sst-IRES-Cre"]
    assert session.task_parameters["response_window_sec"] == [0.15, 0.75]
    assert list(session.trials.columns) == list(TRIAL_COLUMNS)
    assert session.trials.index.name == "trials_id"
    assert list(session.licks.columns) == ["timestamps", "frame"]
    assert list(session.rewards.columns) == ["volume", "timestamps", "autorewarded"]
    assert list(session.running_speed.columns) == ["timestamps", "speed"]
    assert session.stimulus_presentations.index.name == "stimulus_presentations_id"
    for column in ("start_time", "end_time", "image_name", "is_change", "omitted", "flashes_since_change"):
        assert column in session.stimulus_presentations.columns
    # round trip of the simulated tables
    np.testing.assert_allclose(session.licks["timestamps"], sim["licks"]["timestamps"])
    assert session.trials["hit"].sum() == sim["trials"]["hit"].sum()


def test_simulated_session_follows_the_task_rules(demo_file):
    session = load_behavior_session(demo_file[0])
    trials = session.trials
    outcomes = trials[["hit", "miss", "false_alarm", "correct_reject", "auto_rewarded", "aborted"]]
    assert (outcomes.sum(axis=1) == 1).all()  # exactly one outcome per trial
    assert not trials.loc[trials["aborted"], ["go", "catch", "auto_rewarded"]].any().any()
    assert (trials["go"] == ~trials["catch"] & ~trials["auto_rewarded"] & ~trials["aborted"]).all()
    assert set(np.round(session.rewards["volume"], 3)) <= {0.007, 0.005}
    assert (session.rewards.loc[session.rewards["autorewarded"], "volume"] == 0.005).all()
    hits = trials[trials["hit"]]
    assert ((hits["response_latency"] > 0.15) & (hits["response_latency"] <= 0.75)).all()
    assert np.median(np.diff(session.running_speed["timestamps"])) == pytest.approx(1 / 60, rel=0.01)
    stim = session.stimulus_presentations
    shown = stim[~stim["omitted"]]
    assert np.median(shown["duration"]) == pytest.approx(0.25, abs=0.01)
    assert np.median(np.diff(stim["start_time"])) == pytest.approx(0.75, abs=0.01)
    assert stim["omitted"].any() and not (stim["omitted"] & stim["is_change"]).any()
    # every go change is an image change in the presentations
    assert np.isin(np.round(trials.loc[trials["go"], "change_time"], 4), np.round(stim.loc[stim["is_change"],
                                                                                           "start_time"], 4)).all()


def test_sensitivity_shows_in_the_behaviour():
    good = _simulate(seed=1, duration=900, dprime=3.0)["trials"]
    poor = _simulate(seed=1, duration=900, dprime=0.0)["trials"]

    def rates(t):
        return t.loc[t["go"], "hit"].mean(), t.loc[t["catch"], "false_alarm"].mean()

    (hit_good, fa_good), (hit_poor, fa_poor) = rates(good), rates(poor)
    assert hit_good - fa_good > 0.4
    assert abs(hit_poor - fa_poor) < 0.3


def test_passive_session_has_no_licks_or_rewards(tmp_path):
    path = tmp_path / "passive.nwb"
    _write(path, "OPHYS_2_images_A_passive")
    session = load_behavior_session(path)
    assert len(session.licks) == 0 and len(session.rewards) == 0
    assert not session.trials["aborted"].any()
    assert session.get_performance_metrics()["max_dprime"] == 0.0


def test_real_layout_variant_gives_the_same_columns(tmp_path, demo_file):
    """The real files: ndx-aibs-behavior-ophys namespace, older 'stimulus_change', no response_latency."""
    sim = _simulate(seed=3)
    sim["trials"] = sim["trials"].drop(columns=["response_latency"]).rename(columns={"is_change": "stimulus_change"})
    sim["presentations"] = sim["presentations"].drop(columns=["duration"])
    path = tmp_path / "real_layout.nwb"
    _write(path, namespace="ndx-aibs-behavior-ophys", sim=sim)
    real = load_behavior_session(path)
    demo = load_behavior_session(demo_file[0])
    assert list(real.trials.columns) == list(demo.trials.columns)
    assert set(demo.stimulus_presentations.columns) == set(real.stimulus_presentations.columns)
    assert real.task_parameters.keys() == demo.task_parameters.keys()
    finite = np.isfinite(real.trials["response_time"])
    np.testing.assert_allclose(real.trials.loc[finite, "response_latency"],
                               (real.trials["response_time"] - real.trials["change_time"])[finite])


def test_not_nwb_is_a_clear_error(tmp_path):
    text = tmp_path / "behavior_session_1.nwb"
    text.write_text("<html>Access denied</html>")
    with pytest.raises(ValueError, match="not an NWB file"):
        load_behavior_session(text)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_behavior_session(tmp_path / "missing.nwb")


def test_session_without_trials_is_a_clear_error(tmp_path):
    sim = _simulate(seed=4, duration=60)
    sim["trials"] = None
    path = tmp_path / "no_trials.nwb"
    _write(path, sim=sim)
    with pytest.raises(ValueError, match="no trials"):
        load_behavior_session(path)


def test_trials_missing_a_column_is_a_clear_error(tmp_path):
    sim = _simulate(seed=5, duration=60)
    sim["trials"] = sim["trials"].drop(columns=["aborted"])
    path = tmp_path / "bad_trials.nwb"
    _write(path, sim=sim)
    with pytest.raises(ValueError, match="aborted"):
        load_behavior_session(path)
