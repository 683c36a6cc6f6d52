"""``python -m course_utils sensorium score``: a submission scored against the demo's withheld responses."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.cli import main
from course_utils.sensorium import read_mice, write_demo_mice, write_submission
from course_utils.sensorium.scoring import SubmissionRejected, score_submission
from course_utils.sensorium.simulate import load_ground_truth

MAIN_TIERS = ("live_test_main", "final_test_main")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sensorium_score")
    write_demo_mice(folder, seed=4, n_mice=2, n_neurons=6, n_train=2, n_oracle_clips=1, n_repeats=2,
                    max_frames=60, min_frames=56)
    return folder


def _submission(root, out, predict):
    """A main-track zip whose prediction for each test trial is ``predict(mouse, trial, truth)``."""
    mice, truth = read_mice(root), load_ground_truth(root)
    predictions = {
        tier: {name: {int(t): predict(m, int(t), truth[name]) for t in m.trials(tier)} for name, m in mice.items()}
        for tier in MAIN_TIERS
    }
    return write_submission(predictions, {name: m.unit_ids for name, m in mice.items()}, out, "main")[0]


def _withheld(mouse, trial, truth):
    return truth["withheld_responses"][trial][:, : mouse.trial_lengths[trial]]


def test_predicting_the_withheld_responses_scores_one_and_noise_scores_near_zero(root, tmp_path):
    perfect = score_submission(_submission(root, tmp_path / "perfect", _withheld), root)
    assert set(perfect) == set(MAIN_TIERS)
    for tier in MAIN_TIERS:
        for metric in ("single_trial_correlation", "correlation_to_average"):
            scores = perfect[tier][metric]
            assert set(scores) == {*read_mice(root), "mean_over_mice", "pooled"}
            # not exactly 1: the metric adds eps=1e-8 to each std, which counts for near-silent neurons
            assert 0.99 < scores["mean_over_mice"] <= 1.0, (tier, metric, scores)
    rng = np.random.default_rng(0)
    noise = score_submission(
        _submission(root, tmp_path / "noise", lambda m, t, truth: rng.random((m.n_neurons, m.trial_lengths[t]))), root)
    assert abs(noise["final_test_main"]["single_trial_correlation"]["mean_over_mice"]) < 0.2


def test_shifted_predictions_score_lower_so_frames_are_aligned(root, tmp_path):
    def late(mouse, trial, truth):
        return np.roll(_withheld(mouse, trial, truth), 3, axis=1)

    scores = score_submission(_submission(root, tmp_path / "late", late), root)
    assert scores["final_test_main"]["single_trial_correlation"]["mean_over_mice"] < 0.9


def test_the_command_prints_a_leaderboard_row(root, tmp_path, capsys):
    path = _submission(root, tmp_path / "row", _withheld)
    assert main(["sensorium", "score", str(path), "--truth", str(root), "--team", "oracle-team"]) == 0
    header, row = capsys.readouterr().out.strip().splitlines()
    assert header.split()[:3] == ["team", "live_test_main", "single-trial"]
    assert row.split()[0] == "oracle-team"
    assert all(0.99 < float(x) <= 1.0 for x in row.split()[1:]) and len(row.split()) == 5


def test_bad_input_names_the_file_and_the_fix(root, tmp_path, capsys):
    assert main(["sensorium", "score", str(tmp_path / "missing.zip"), "--truth", str(root)]) == 1
    err = capsys.readouterr().err
    assert "missing.zip" in err and "does not exist" in err and "Traceback" not in err
    path = _submission(root, tmp_path / "ok", _withheld)
    real = tmp_path / "real"  # the same mouse folders without the simulator's ground truth
    real.mkdir()
    for mouse in root.glob("dynamic*"):
        (real / mouse.name).symlink_to(mouse)
    assert main(["sensorium", "score", str(path), "--truth", str(real)]) == 1
    assert "ground truth" in capsys.readouterr().err
    with pytest.raises(SubmissionRejected, match="missing.zip"):
        score_submission(tmp_path / "missing.zip", root)
