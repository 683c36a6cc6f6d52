"""The "what was recorded" figures: each draws its labelled axes from a source's data, real layouts included,
and refuses the wrong input with an error that says what it needs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from neurotask_helpers import layout_table  # noqa: E402

from course_utils.plotting import (  # noqa: E402
    plot_experiment_modalities,
    plot_neurotask_trial,
    plot_sensorium_trial,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labels(axes) -> list[str]:
    return [ax.get_ylabel() for ax in axes]


# ------------------------------------------------------------------------------------------------ NeuroTask
def _neurotask_table(behavior: list[str], events: list[str]) -> pd.DataFrame:
    """Three trials of 30 bins, 50 units (5 recorded by another session), trial 0 failed (the real layouts
    come from real_layouts.yaml)."""
    return layout_table(behavior, events, (30, 30, 30), n_units=50, rate=0.3, nan_units=5, failed_trial=0,
                        event_row=4, dtype=np.float32)


def test_neurotask_trial_figure_on_the_demo_bump_layout():
    df = _neurotask_table(["hand_vel_x", "hand_vel_y", "target_dir"], ["EventTarget_Onset", "EventGo_cue"])
    fig, axes = plot_neurotask_trial(df, 10.0, n_units=40)
    assert axes[0].get_ylabel() == "unit (40 most active)"
    assert axes[1].get_ylabel() == "hand velocity (cm/s)"
    assert axes[1].get_xlabel() == "time from trial start (s)"
    assert "trial 1" in axes[0].get_title()  # the first rewarded trial (trial 0 failed)
    legend = [t.get_text() for t in axes[1].get_legend().get_texts()]
    assert legend == ["hand_vel_x", "hand_vel_y", "Target_Onset", "Go_cue"]
    assert axes[1].lines[0].get_xdata()[-1] == pytest.approx(0.29)  # 30 bins of 10 ms, in seconds


def test_neurotask_trial_figure_on_every_real_nwb_layout(shared_dir):
    """Files without events, without velocity (Key Grasp: force) still draw, with honest labels."""
    facts = yaml.safe_load((shared_dir / "data/neurotask/real_layouts.yaml").read_text())["dandisets"]
    for dandiset, info in facts.items():
        for kind, layout in (info.get("kinds") or {"": info}).items():
            df = _neurotask_table(layout["behavior"], layout["events"])
            fig, axes = plot_neurotask_trial(df, 10.0)
            label = axes[1].get_ylabel()
            if any(c.endswith("vel_x") for c in layout["behavior"]):
                assert label.endswith("(cm/s)"), (dandiset, kind, label)
            elif any(c.startswith("force_") for c in layout["behavior"]):
                assert label == "force (a.u.)", (dandiset, kind, label)
            drawn = {t.get_text() for t in axes[1].get_legend().get_texts()} if axes[1].get_legend() else set()
            assert {e.removeprefix("Event") for e in layout["events"]} <= drawn, (dandiset, kind)
            plt.close(fig)


def test_neurotask_trial_figure_refuses_wrong_input():
    df = _neurotask_table(["hand_vel_x", "hand_vel_y"], [])
    with pytest.raises(ValueError, match="No trial .* pick one of"):
        plot_neurotask_trial(df, 10.0, trial=(1, 1, 99.0))
    with pytest.raises(ValueError, match="needs a NeuroTask table"):
        plot_neurotask_trial(df.drop(columns="trial_id"), 10.0)
    with pytest.raises(ValueError, match="bin_ms must be"):
        plot_neurotask_trial(df, 0)
    with pytest.raises(ValueError, match="does not record its bin size"):
        plot_neurotask_trial(df)
    df.attrs["bin_ms"] = 20.0
    with pytest.raises(ValueError, match=r"bin_ms=10.0 ms, but the table records"):
        plot_neurotask_trial(df, 10.0)


def test_neurotask_trial_figure_reads_the_recorded_bin_and_keeps_to_one_file():
    one = _neurotask_table(["hand_vel_x", "hand_vel_y"], [])
    other = one.assign(datasetID=8, Neuron1=np.nan)  # a second file with the same animal/session/trial ids
    joined = pd.concat([one, other], ignore_index=True)
    joined.attrs["bin_ms"] = 20.0
    fig, axes = plot_neurotask_trial(joined, trial=(1, 1, 1.0))
    x = axes[1].lines[0].get_xdata()
    assert len(x) == 30 and x[-1] == pytest.approx(0.58)  # one file's 30 bins of 20 ms
    plt.close(fig)


# ------------------------------------------------------------------------------------------------ Sensorium
@pytest.fixture(scope="module")
def sensorium_mouse(tmp_path_factory):
    from course_utils.sensorium import list_mice, read_mouse, write_demo_mice

    root = tmp_path_factory.mktemp("sensorium")
    write_demo_mice(root, seed=1, n_mice=1, n_neurons=6, n_train=2, n_oracle_clips=1, n_repeats=2,
                    max_frames=60, min_frames=55)
    return read_mouse(list_mice(root)[0])


def test_sensorium_trial_figure(sensorium_mouse):
    trial = int(sensorium_mouse.trials("train")[0])
    fig, axes = plot_sensorium_trial(sensorium_mouse, trial, n_neurons=3)
    assert len(axes["frames"]) == 4
    assert _labels([axes["behavior"], axes["eye"], axes["responses"]]) == [
        "behaviour (a.u.)", "eye position (a.u.)", "activity (a.u.)"]
    assert axes["responses"].get_xlabel() == "time in trial (s)"
    assert len(axes["responses"].lines) == 3
    n_frames = sensorium_mouse.trial_lengths[trial]
    assert axes["behavior"].lines[0].get_xdata()[-1] == pytest.approx((n_frames - 1) / 30)  # padding cut


def test_sensorium_trial_figure_refuses_wrong_input(sensorium_mouse):
    with pytest.raises(TypeError, match="read_mouse"):
        plot_sensorium_trial("data/sensorium/mouse1", 0)
    with pytest.raises(IndexError, match="does not exist"):
        plot_sensorium_trial(sensorium_mouse, 10_000)


# ------------------------------------------------------------------------------------------------ Experanto
@pytest.fixture(scope="module")
def converted_mouse(tmp_path_factory, sensorium_mouse):
    """A Sensorium mouse converted to an experiment folder: what sample mode's real mouse becomes."""
    from course_utils.experanto import Experiment
    from course_utils.experanto.convert import convert_sensorium_mouse

    out = tmp_path_factory.mktemp("experanto") / sensorium_mouse.name
    with pytest.MonkeyPatch.context() as patch:  # a private start-up cache, as in the Experanto tests
        patch.setenv("COURSE_EXPERANTO_CACHE", str(out.parent / "index_cache"))
        convert_sensorium_mouse(sensorium_mouse.folder, out)
        yield Experiment(out)


def test_experiment_modalities_figure(converted_mouse):
    start = converted_mouse.start_time
    fig, axes = plot_experiment_modalities(converted_mouse, start + 0.5, duration_s=2.0, n_signals=2)
    assert len(axes) == len(converted_mouse.devices)
    assert axes[-1].get_xlabel() == "time (s)"
    for ax, name in zip(axes, converted_mouse.devices, strict=True):
        assert ax.get_ylabel().startswith(name)
        rate = converted_mouse.devices[name].sampling_rate
        assert any(t.get_text() == f"{rate:g} Hz" for t in ax.texts), name
        xs = np.concatenate([line.get_xdata() for line in ax.lines])
        assert len(xs) and xs.min() >= start + 0.5 and xs.max() <= start + 2.5, name


def test_experiment_modalities_figure_refuses_wrong_input(converted_mouse):
    with pytest.raises(ValueError, match="not inside the range every modality covers"):
        plot_experiment_modalities(converted_mouse, converted_mouse.end_time - 1.0, duration_s=5.0)
    with pytest.raises(TypeError, match="Experiment"):
        plot_experiment_modalities("experiments/mixed")


# ------------------------------------------------------------------------------------------------ Allen
@pytest.fixture(scope="module")
def allen_session(tmp_path_factory):
    from course_utils.allen import load_behavior_session
    from course_utils.allen.simulate import IMAGE_SETS, simulate_session, task_parameters, write_behavior_nwb

    sim = simulate_session("OPHYS_1_images_A", 120.0, 2.5, 0.0, 100.0, 0.1, IMAGE_SETS["A"],
                           np.random.default_rng(0))
    row = pd.Series({"behavior_session_id": 123, "mouse_id": 456, "sex": "F", "age_in_days": 90,
                     "full_genotype": "Sst-IRES-Cre/wt;Ai148(TIT2L-GC6f-ICL-tTA2)/wt",
                     "driver_line": "['Sst-IRES-Cre']", "reporter_line": "Ai148(TIT2L-GC6f-ICL-tTA2)",
                     "equipment_name": "CAM2P.3", "image_set": "images_A", "project_code": "VisualBehaviorTask1B",
                     "date_of_acquisition": "2019-04-09 13:26:26.372000+00:00", "session_type": "OPHYS_1_images_A"})
    path = tmp_path_factory.mktemp("allen") / "behavior_session_123.nwb"
    write_behavior_nwb(path, row, sim, task_parameters("OPHYS_1_images_A", len(sim["frame_times"])))
    return load_behavior_session(path)


def test_allen_session_contents_figure(allen_session):
    from course_utils.allen.plots import plot_session_contents

    fig, axes = plot_session_contents(allen_session, duration_s=30)
    assert _labels(axes) == ["images", "licks", "rewards", "running\n(cm/s)"]
    assert axes[-1].get_xlabel() == "time in session (s)"
    start, end = axes[-1].get_xlim()
    assert end - start == pytest.approx(30)
    earned = allen_session.rewards[~allen_session.rewards["auto_rewarded"]]["timestamps"]
    assert start <= earned.min() <= end  # the default window holds the first earned reward
    assert len(axes[1].collections[0].get_positions()) > 0  # licks drawn


def test_allen_session_contents_figure_refuses_wrong_input(allen_session):
    from course_utils.allen.plots import plot_session_contents

    with pytest.raises(TypeError, match="load_behavior_session"):
        plot_session_contents(allen_session.trials)
    with pytest.raises(ValueError, match="duration_s must be positive"):
        plot_session_contents(allen_session, duration_s=0)
