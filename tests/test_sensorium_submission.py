"""Sensorium 2023 submissions: the writer makes valid files; the validator catches each kind of mistake."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course_utils.sensorium import (
    SUBMISSION_FRAME_RULE,
    TOP_TEAMS_FRAME_RULE,
    read_mice,
    submission_frame,
    validate_submission,
    write_demo_mice,
    write_submission,
)
from course_utils.sensorium.submission import TRACK_FILES, write_parquet
from course_utils.sensorium.validate import main as validate_main

REPO = Path(__file__).resolve().parents[1]
MAIN_TIERS = ("live_test_main", "final_test_main")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sensorium_sub")
    write_demo_mice(folder, seed=2, n_mice=2, n_neurons=5, n_train=2, n_oracle_clips=1, n_repeats=2,
                    max_frames=58, min_frames=53)
    return folder


@pytest.fixture(scope="module")
def mice(root):
    return read_mice(root)


def _predictions(mice, tiers, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    return {tier: {name: {int(t): rng.random((m.n_neurons, int(m.trial_lengths[t]))) for t in m.trials(tier)}
                   for name, m in mice.items()} for tier in tiers}


def _ids(mice):
    return {name: m.unit_ids for name, m in mice.items()}


def _frames(mice, tier="final_test_main"):
    return submission_frame(_predictions(mice, [tier])[tier], _ids(mice))


def _zip(path: Path, members: dict[str, Path]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for arcname, file in members.items():
            archive.write(file, arcname=arcname)
    return path


def _main_zip(tmp_path, mice, final: pd.DataFrame | None = None, name="predictions_final_main.parquet.brotli",
              **to_parquet) -> Path:
    live = write_parquet(_frames(mice, "live_test_main"), tmp_path / "predictions_live_main.parquet.brotli")
    final_path = tmp_path / name
    (final if final is not None else _frames(mice)).to_parquet(
        final_path, engine="pyarrow", **({"compression": "brotli", "index": False} | to_parquet))
    return _zip(tmp_path / "sub.zip", {live.name: live, name: final_path})


def _kinds(report) -> set[str]:
    return set(report.kinds())


def test_valid_main_and_bonus_submissions(tmp_path, root, mice):
    zips = write_submission(_predictions(mice, MAIN_TIERS), _ids(mice), tmp_path, "main")
    assert len(zips) == 1
    with zipfile.ZipFile(zips[0]) as archive:
        assert sorted(archive.namelist()) == sorted(TRACK_FILES["main"].values())
    report = validate_submission(zips[0], root)
    assert report.ok, str(report)
    expected_rows = sum(len(m.trials(t)) for m in mice.values() for t in MAIN_TIERS)
    assert report.rows == expected_rows
    frame = pd.read_parquet(tmp_path / "predictions_final_main.parquet.brotli")
    assert list(frame.columns) == ["mouse", "trial_indices", "prediction", "neuron_ids"]
    row = frame.iloc[0]
    mouse = mice[row["mouse"]]
    assert len(row["prediction"]) == mouse.n_neurons
    assert len(row["prediction"][0]) == mouse.trial_lengths[row["trial_indices"]] - 50
    bonus = write_submission(_predictions(mice, ("live_test_bonus", "final_test_bonus")), _ids(mice), tmp_path, "bonus")
    assert len(bonus) == 2
    assert all(validate_submission(z, root).ok for z in bonus)


def test_frame_rule_is_t_minus_50_and_t51_is_reported_per_trial(tmp_path, root, mice):
    assert str(SUBMISSION_FRAME_RULE) == "T-50" and str(TOP_TEAMS_FRAME_RULE) == "T-51"
    final = submission_frame(_predictions(mice, ["final_test_main"])["final_test_main"], _ids(mice),
                             TOP_TEAMS_FRAME_RULE)
    report = validate_submission(_main_zip(tmp_path, mice, final), root)
    frame_problems = [p for p in report.problems if p.message.startswith("frame count")]
    n_trials = sum(len(m.trials("final_test_main")) for m in mice.values())
    assert len(frame_problems) == n_trials
    assert all(p.mouse in mice and p.trial is not None and "T-51" in p.message for p in frame_problems)
    # under the top teams' rule the same final file is valid (and the T-50 live file is not)
    under_t51 = validate_submission(_main_zip(tmp_path, mice, final), root, TOP_TEAMS_FRAME_RULE)
    assert {p.file for p in under_t51.problems} == {"predictions_live_main.parquet.brotli"}


def test_wrong_neuron_order_and_count(tmp_path, root, mice):
    final = _frames(mice)
    final.at[0, "neuron_ids"] = list(reversed(final.at[0, "neuron_ids"]))
    final.at[1, "prediction"] = final.at[1, "prediction"][:-1]
    report = validate_submission(_main_zip(tmp_path, mice, final), root)
    messages = [str(p) for p in report.problems]
    assert any("wrong order" in m and f"trial {final.at[0, 'trial_indices']}" in m for m in messages)
    assert "neuron count" in _kinds(report)


def test_missing_duplicate_wrong_and_unknown_trials(tmp_path, root, mice):
    final = _frames(mice)
    dropped = final.iloc[0]
    train_mouse = next(iter(mice.values()))
    wrong = final.iloc[[1]].copy()
    wrong["trial_indices"] = int(train_mouse.trials("train")[0])
    wrong["mouse"] = train_mouse.name
    unknown = final.iloc[[1]].copy()
    unknown["mouse"] = "dynamic0-0-0-Video-nope"
    broken = pd.concat([final.iloc[1:], final.iloc[[2]], wrong, unknown], ignore_index=True)
    report = validate_submission(_main_zip(tmp_path, mice, broken), root)
    kinds = _kinds(report)
    assert {"missing trial", "duplicate trial", "wrong trial", "unknown mouse"} <= kinds
    missing = [p for p in report.problems if p.message.startswith("missing trial")]
    assert [(p.mouse, p.trial) for p in missing] == [(dropped["mouse"], int(dropped["trial_indices"]))]


def test_nan_and_inf_values(tmp_path, root, mice):
    final = _frames(mice)
    pred = final.at[0, "prediction"]
    pred[0][0] = float("nan")
    pred[1][2] = float("inf")
    report = validate_submission(_main_zip(tmp_path, mice, final), root)
    bad = [p for p in report.problems if p.message.startswith("non-finite")]
    assert len(bad) == 1 and "2 NaN/inf" in bad[0].message


def test_column_and_dtype_mistakes(tmp_path, root, mice):
    final = _frames(mice)
    as_strings = final.assign(trial_indices=[f"{t}.npy" for t in final["trial_indices"]])
    report = validate_submission(_main_zip(tmp_path, mice, as_strings), root)
    assert any("trial_indices" in p.message and "'1.npy'" in p.message for p in report.problems)
    renamed = final.rename(columns={"neuron_ids": "neurons"})
    assert "missing columns" in _kinds(validate_submission(_main_zip(tmp_path, mice, renamed), root))
    with_index = final.iloc[::-1]  # not a RangeIndex any more: index=True writes it as a column
    report = validate_submission(_main_zip(tmp_path, mice, with_index, index=True), root)
    assert any(p.message.startswith("extra columns") and "index=False" in p.message for p in report.problems)
    flat = final.assign(prediction=[np.ravel(p).tolist() for p in final["prediction"]])
    assert "wrong dtype" in _kinds(validate_submission(_main_zip(tmp_path, mice, flat), root))
    snappy = validate_submission(_main_zip(tmp_path, mice, final, compression="snappy"), root)
    assert "wrong compression" in _kinds(snappy)


def test_file_name_and_zip_layout_mistakes(tmp_path, root, mice):
    final = write_parquet(_frames(mice), tmp_path / "predictions_final_main.parquet.brotli")
    live = write_parquet(_frames(mice, "live_test_main"), tmp_path / "predictions_live_main.parquet.brotli")
    nested = _zip(tmp_path / "nested.zip", {f"submission/{live.name}": live, f"submission/{final.name}": final})
    assert "zip not flat" in _kinds(validate_submission(nested, root))
    only_final = _zip(tmp_path / "only_final.zip", {final.name: final})
    assert "missing file" in _kinds(validate_submission(only_final, root))
    renamed = _zip(tmp_path / "renamed.zip", {live.name: live, "predictions_final_main.parquet": final})
    kinds = _kinds(validate_submission(renamed, root))
    assert {"wrong file name", "missing file"} <= kinds
    bonus = write_submission(_predictions(mice, ("live_test_bonus", "final_test_bonus")), _ids(mice),
                             tmp_path / "bonus", "bonus")
    files = {p.name: p for p in (tmp_path / "bonus").glob("*.brotli")}
    together = _zip(tmp_path / "together.zip", files)
    assert "bonus files together" in _kinds(validate_submission(together, root))
    not_zip = tmp_path / "broken.zip"
    not_zip.write_text("not a zip")
    assert "bad zip" in _kinds(validate_submission(not_zip, root))
    assert len(bonus) == 2


def test_command_line_exit_codes(tmp_path, root, mice, capsys):
    good = write_submission(_predictions(mice, MAIN_TIERS), _ids(mice), tmp_path / "good", "main")[0]
    assert validate_main([str(good), str(root)]) == 0
    assert "valid" in capsys.readouterr().out
    t51 = write_submission(_predictions(mice, MAIN_TIERS), _ids(mice), tmp_path / "t51", "main",
                           TOP_TEAMS_FRAME_RULE)[0]
    assert validate_main([str(t51), str(root)]) == 1
    assert "frame count" in capsys.readouterr().out
    assert validate_main([str(t51), str(root), "--skip-last", "1"]) == 0
    result = subprocess.run([sys.executable, "-m", "course_utils.sensorium.validate", str(good), str(root)],
                            capture_output=True, text=True, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": ""})
    assert result.returncode == 0, result.stderr
