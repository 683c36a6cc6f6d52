"""course_utils.tasks: the installation check, the training loop, evaluation, protocols and the custom task."""

from __future__ import annotations

import neurogym  # noqa: F401  (no skip: fail loudly if the course's install step was skipped)
import numpy as np
import pandas as pd
import pytest
import torch

from course_utils.tasks import (
    RecurrentNetwork,
    Stage,
    apply_task_settings,
    decision_accuracy,
    make_dataset,
    make_task,
    run_trials,
    sample_trials,
    set_seed,
    train_network,
    trials_to_criterion,
)


def test_batches_work_with_installed_gymnasium():
    ds = make_dataset("PerceptualDecisionMaking-v0", batch_size=3, seq_len=50, seed=0)
    inputs, targets = ds()
    assert inputs.shape == (50, 3, 3) and targets.shape == (50, 3)
    # the same seed gives the same first batch (make_dataset refills the cache after seeding)
    again, _ = make_dataset("PerceptualDecisionMaking-v0", batch_size=3, seq_len=50, seed=0)()
    np.testing.assert_array_equal(inputs, again)


def test_unknown_task_is_named():
    with pytest.raises(ValueError, match="Unknown task 'PerceptualDecisionMakin-v0'"):
        make_task("PerceptualDecisionMakin-v0")


def test_perceptual_decision_making_trial_structure_by_hand():
    env = make_task("PerceptualDecisionMaking-v0", dt=100)
    table = sample_trials(env, 200, seed=1)
    # defaults: fixation 100 + stimulus 2000 + decision 100 ms at dt=100 -> 22 steps
    assert (table["n_steps"] == 22).all() and (table["duration_ms"] == 2200).all()
    assert set(table["coh"]) <= {0, 6.4, 12.8, 25.6, 51.2}
    assert set(table["ground_truth"]) == {0, 1}


def test_training_loop_learns_a_trivial_task():
    """A task whose answer is written in the input: after a little training the network copies it."""
    from course_utils.tasks.custom import ChangeDetection

    env = ChangeDetection(n_images=2, catch_prob=0.5, sigma=0.0, timing={"baseline": 300, "decision": 200})
    set_seed(0)
    net = RecurrentNetwork(2, 2, hidden_size=16, cell="gru")
    before = run_trials(net, env, 200, seed=5)["correct"].mean()
    hist = train_network(net, make_dataset(env, 16, 40, seed=0), n_steps=150, progress=False, seed=0)
    after = run_trials(net, env, 200, seed=5)["correct"].mean()
    assert hist.loss[-1] < 0.5 * hist.loss[0]
    assert after > 0.95 and after > before
    assert hist.trials_seen > 0


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_network_cells_give_action_scores(cell):
    net = RecurrentNetwork(3, 4, hidden_size=5, cell=cell)
    assert net(torch.zeros(7, 2, 3)).shape == (7, 2, 4)


def test_bad_training_arguments_are_named():
    with pytest.raises(ValueError, match="cell must be one of"):
        RecurrentNetwork(3, 3, cell="transformer")
    ds = make_dataset("PerceptualDecisionMaking-v0", 2, 10, seed=0)
    with pytest.raises(ValueError, match="class_weights"):
        train_network(RecurrentNetwork(3, 3, 4), ds, 1, class_weights="inverse", progress=False)
    with pytest.raises(ValueError, match="no period 'response'"):
        run_trials(RecurrentNetwork(3, 3, 4), make_task("PerceptualDecisionMaking-v0"), 2, decision_period="response")


def test_change_detection_periods_and_ground_truth():
    from course_utils.tasks.custom import TASK_ID, ChangeDetection

    env = ChangeDetection(dt=100, n_images=4, catch_prob=0.3, timing={"baseline": 800, "decision": 500}, sigma=0.0)
    env.seed(3)
    n_change = 0
    for _ in range(300):
        trial = env.new_trial()
        assert env.ob.shape == (13, 4)  # 800 + 500 ms at 100 ms steps
        assert env.start_ind["decision"] == 8 and env.end_ind["decision"] == 13
        # the image shown is one-hot: before the change image_before, after it image_after
        assert np.all(env.ob[:8].argmax(1) == trial["image_before"])
        assert np.all(env.ob[8:].argmax(1) == trial["image_after"])
        assert (trial["image_after"] != trial["image_before"]) == trial["change"]
        # ground truth: withhold before the change; lick in the window only after a change
        assert np.all(env.gt[:8] == 0)
        assert np.all(env.gt[8:] == int(trial["change"]))
        n_change += trial["change"]
    assert 0.6 < n_change / 300 < 0.8  # catch_prob 0.3
    # registered like a built-in task
    made = make_task(TASK_ID, catch_prob=1.0)
    assert isinstance(made, ChangeDetection)
    assert not sample_trials(made, 20, seed=0)["change"].any()


def test_change_detection_rewards_the_mouse_way():
    from course_utils.tasks.custom import ChangeDetection

    env = ChangeDetection(catch_prob=0.0, timing={"baseline": 300, "decision": 200})
    env.seed(0)
    env.new_trial()
    # withhold through the 3 baseline steps, then lick in the window: a hit, and the trial ends
    rewards = [env.step(0)[1] for _ in range(3)]
    _, reward, _, _, info = env.step(1)
    assert rewards == [0.0, 0.0, 0.0] and reward == 1.0 and info["new_trial"]
    # licking during the baseline of the next trial is an early lick: penalised, trial aborted
    _, reward, _, _, info = env.step(1)
    assert reward == -0.5 and info["new_trial"]


def test_change_detection_bad_parameters():
    from course_utils.tasks.custom import ChangeDetection

    with pytest.raises(ValueError, match="n_images"):
        ChangeDetection(n_images=1)
    with pytest.raises(ValueError, match="catch_prob"):
        ChangeDetection(catch_prob=1.5)


def test_apply_task_settings_and_annubes_session():
    env = make_task("PerceptualDecisionMaking-v0")
    apply_task_settings(env, {"cohs": [51.2]})
    assert set(sample_trials(env, 30, seed=0)["coh"]) == {51.2}
    with pytest.raises(AttributeError, match="no attribute 'coherences'"):
        apply_task_settings(env, {"coherences": [1]})
    annubes = make_task("AnnubesEnv-v0", session={"v": 0.5, "a": 0.5}, catch_prob=0.0, random_seed=0)
    apply_task_settings(annubes, {"session": {"v": 1, "a": 0}})
    kinds = {tuple(t["stim_types"]) for t in (annubes.new_trial() for _ in range(50))}
    assert kinds == {("v",)}


def test_trials_to_criterion_by_hand():
    curves = pd.DataFrame({
        "protocol": ["a"] * 4 + ["b"] * 4, "seed": 0,
        "trials_seen": [0, 100, 200, 300] * 2,
        "accuracy": [0.5, 0.7, 0.82, 0.9, 0.5, 0.6, 0.7, 0.75],
    })
    out = trials_to_criterion(curves, 0.8).set_index("protocol")
    assert out.loc["a", "trials_to_criterion"] == 200 and np.isnan(out.loc["b", "trials_to_criterion"])
    assert out.loc["b", "final_accuracy"] == 0.75


def test_stage_settings_reach_the_training_trials():
    from course_utils.tasks import run_protocol

    env = make_task("PerceptualDecisionMaking-v0")
    curve = run_protocol(env, [Stage("easy", 2, {"cohs": [51.2]}), Stage("all", 2)], hidden_size=4, seq_len=30,
                         probe_trials=20, eval_every=1)
    assert list(curve["stage"]) == ["easy", "easy", "easy", "all", "all"]
    assert curve["trials_seen"].is_monotonic_increasing
    assert env.cohs == [0, 6.4, 12.8, 25.6, 51.2]  # the caller's task is not modified


def test_fixed_probe_is_the_run_trials_table_and_ignores_later_changes():
    from course_utils.tasks import ProbeTrials, run_protocol

    env = make_task("PerceptualDecisionMaking-v0")
    set_seed(0)
    net = RecurrentNetwork(3, 3, hidden_size=8, cell="gru")
    probe = ProbeTrials(env, 40, seed=7)
    apply_task_settings(env, {"cohs": [51.2]})  # the probe was drawn before: it keeps every coherence
    expected = run_trials(net, make_task("PerceptualDecisionMaking-v0"), 40, seed=7)
    pd.testing.assert_frame_equal(probe.run(net), expected)
    assert len(probe) == 40 and probe.accuracy(net) == expected["correct"].mean()
    with pytest.raises(ValueError, match="no period 'response'"):
        ProbeTrials(env, 5, decision_period="response")
    with pytest.raises(ValueError, match="probe_trials"):
        run_protocol(env, [Stage("all", 1)], probe_trials=0)
    # run_protocol's first probe (before training) is decision_accuracy of the same initial network
    curve = run_protocol(make_task("PerceptualDecisionMaking-v0"), [Stage("all", 2)], seed=3, hidden_size=4,
                         seq_len=30, probe_trials=30, eval_every=1)
    set_seed(3)
    untrained = RecurrentNetwork(3, 3, 4, "lstm")
    first = decision_accuracy(untrained, make_task("PerceptualDecisionMaking-v0"), 30, seed=10_003)
    assert len(curve) == 3 and curve["accuracy"].iloc[0] == first


@pytest.mark.parametrize("version", ["0.29.1", "1.0.0", "1.3.0", "1.4.0rc1"])
def test_gymnasium_0_29_and_1_x_are_accepted(monkeypatch, version):
    import gymnasium

    from course_utils.tasks import require_neurogym

    monkeypatch.setattr(gymnasium, "__version__", version)
    assert require_neurogym().__name__ == "neurogym"


def test_too_old_gymnasium_is_refused_with_the_fix(monkeypatch):
    import gymnasium

    from course_utils.tasks import require_neurogym

    monkeypatch.setattr(gymnasium, "__version__", "0.28.1")
    with pytest.raises(ImportError, match=r'0.29.1 or newer.*pip install --no-deps "neurogym'):
        require_neurogym()


def test_fast_mode_is_the_course_wide_switch(monkeypatch):
    import course_utils
    from course_utils.tasks import fast_mode

    assert fast_mode is course_utils.fast_mode
    monkeypatch.setenv("COURSE_FAST", "1")
    assert fast_mode()
    monkeypatch.setenv("COURSE_FAST", "0")
    assert not fast_mode()
    monkeypatch.delenv("COURSE_FAST")
    assert not fast_mode()
