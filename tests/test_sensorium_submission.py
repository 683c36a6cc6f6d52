"""Sensorium 2023 submissions: the writer makes valid files; the validator catches each kind of mistake."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
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
from course_utils.sensorium.commands import validate as validate_main
from course_utils.sensorium.submission import TRACK_FILES, FrameRule, write_parquet

REPO = Path(__file__).resolve().parents[1]
MAIN_TIERS = ("live_test_main", "final_test_main")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sensorium_sub")
    write_demo_mice(folder, seed=2, n_mice=2, n_neurons=5, n_train=2, n_oracle_clips=1, n_repeats=2,
                    max_frames=58, min_frames=55)
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


def test_both_frame_rules_the_server_scored_are_accepted_and_a_chosen_rule_is_enforced(tmp_path, root, mice):
    assert str(SUBMISSION_FRAME_RULE) == "T-50" and str(TOP_TEAMS_FRAME_RULE) == "T-51"
    final = submission_frame(_predictions(mice, ["final_test_main"])["final_test_main"], _ids(mice),
                             TOP_TEAMS_FRAME_RULE)
    assert validate_submission(_main_zip(tmp_path, mice, final), root).ok  # the winners' format scored
    # asked to enforce T-50 only, every T-51 trial is reported, with the rule it matches
    report = validate_submission(_main_zip(tmp_path, mice, final), root, SUBMISSION_FRAME_RULE)
    frame_problems = [p for p in report.problems if p.message.startswith("frame count")]
    n_trials = sum(len(m.trials("final_test_main")) for m in mice.values())
    assert len(frame_problems) == n_trials
    assert all(p.mouse in mice and p.trial is not None and "T-51" in p.message for p in frame_problems)
    # under the winners' rule alone the same final file is valid (and the T-50 live file is not)
    under_t51 = validate_submission(_main_zip(tmp_path, mice, final), root, TOP_TEAMS_FRAME_RULE)
    assert {p.file for p in under_t51.problems} == {"predictions_live_main.parquet.brotli"}
    # other counts stay errors: the whole trial, or T-52
    whole = final.assign(prediction=[np.zeros((5, mice[m].trial_lengths[t])).tolist()
                                     for m, t in zip(final["mouse"], final["trial_indices"], strict=True)])
    assert "frame count" in _kinds(validate_submission(_main_zip(tmp_path, mice, whole), root))
    short = final.assign(prediction=[[row[:-1] for row in p] for p in final["prediction"]])
    assert "frame count" in _kinds(validate_submission(_main_zip(tmp_path, mice, short), root))


def test_neuron_ids_may_be_permuted_with_their_rows_but_not_wrong(tmp_path, root, mice):
    final = _frames(mice)
    order = [4, 2, 0, 1, 3]
    permuted = final.assign(prediction=[[p[i] for i in order] for p in final["prediction"]],
                            neuron_ids=[[ids[i] for i in order] for ids in final["neuron_ids"]])
    assert validate_submission(_main_zip(tmp_path, mice, permuted), root).ok
    unsigned = final.assign(neuron_ids=[np.asarray(ids, dtype=np.uint32) for ids in final["neuron_ids"]])
    path = _main_zip(tmp_path, mice, unsigned)
    assert validate_submission(path, root).ok  # the starter kit writes uint32 ids
    with zipfile.ZipFile(path) as archive:
        archive.extract("predictions_final_main.parquet.brotli", tmp_path / "x")
    schema = pq.read_schema(tmp_path / "x" / "predictions_final_main.parquet.brotli")
    assert pa.types.is_uint32(schema.field("neuron_ids").type.value_type)
    # still wrong: a repeated id, an unknown id, one id too few, fewer prediction rows than neurons
    final.at[0, "neuron_ids"] = [final.at[0, "neuron_ids"][0]] * 2 + list(final.at[0, "neuron_ids"][2:])
    final.at[1, "neuron_ids"] = [999999] + list(final.at[1, "neuron_ids"][1:])
    final.at[2, "neuron_ids"] = list(final.at[2, "neuron_ids"][1:])
    final.at[3, "prediction"] = final.at[3, "prediction"][:-1]
    report = validate_submission(_main_zip(tmp_path, mice, final), root)
    messages = [str(p) for p in report.problems]
    trial = {k: f"trial {final.at[k, 'trial_indices']}" for k in range(4)}
    assert any("appear twice" in m and trial[0] in m for m in messages)
    assert any("not in unit_ids" in m and trial[1] in m for m in messages)
    assert any("4 given" in m and trial[2] in m for m in messages)
    assert any("neuron count" in m and trial[3] in m for m in messages)


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
    assert validate_main([str(t51), str(root)]) == 0  # both rules the server scored
    capsys.readouterr()
    assert validate_main([str(t51), str(root), "--skip-last", "0"]) == 1
    assert "frame count" in capsys.readouterr().out
    assert validate_main([str(t51), str(root), "--skip-last", "1"]) == 0
    assert validate_main([str(tmp_path / "nothing.zip"), str(root)]) == 1  # a message, not a traceback
    assert "does not exist" in capsys.readouterr().out
    result = subprocess.run([sys.executable, "-m", "course_utils", "sensorium", "validate", str(good), str(root)],
                            capture_output=True, text=True, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": ""})
    assert result.returncode == 0, result.stderr


def _assert_named(report, kind: str, mouse: str | None = None, trial: int | None = None) -> None:
    found = [p for p in report.problems if p.message.startswith(kind)]
    assert found, f"no {kind!r} problem in:\n{report}"
    assert all(p.file for p in found)
    if mouse is not None:
        assert any(p.mouse == mouse and (trial is None or p.trial == trial) for p in found), str(report)


def test_bad_rows_are_reported_not_crashed(tmp_path, root, mice):
    """Each of these crashed the validator; now each is a problem naming file, mouse and trial."""
    final = _frames(mice)
    mouse0, trial0 = final.at[0, "mouse"], int(final.at[0, "trial_indices"])
    nullable = final.assign(trial_indices=pd.array(final["trial_indices"], dtype="Int64"))
    nullable.loc[0, "trial_indices"] = pd.NA
    report = validate_submission(_main_zip(tmp_path, mice, nullable), root)
    _assert_named(report, "missing trial index", mouse0)
    _assert_named(report, "missing trial", mouse0, trial0)  # and the trial it should have been is missing

    empty = final.copy()
    empty.at[0, "neuron_ids"], empty.at[0, "prediction"] = [], []
    last = len(empty) - 1
    rows = [list(r) for r in empty.at[last, "prediction"]]
    rows[-1] = []  # the last neuron of the last row has no frames
    empty.at[last, "prediction"] = rows
    report = validate_submission(_main_zip(tmp_path, mice, empty), root)
    _assert_named(report, "neuron ids", mouse0, trial0)
    _assert_named(report, "neuron count", mouse0, trial0)
    _assert_named(report, "frame count", empty.at[last, "mouse"], int(empty.at[last, "trial_indices"]))

    null_id = final.copy()
    null_id.at[1, "neuron_ids"] = [None, *final.at[1, "neuron_ids"][1:]]
    null_id.at[2, "neuron_ids"] = None
    report = validate_submission(_main_zip(tmp_path, mice, null_id), root)
    messages = [str(p) for p in report.problems]
    assert any("1 null id" in m and f"trial {final.at[1, 'trial_indices']}" in m for m in messages), messages
    assert any("no neuron_ids (null)" in m and f"trial {final.at[2, 'trial_indices']}" in m for m in messages)

    nameless = final.copy()
    nameless.at[0, "mouse"] = None
    _assert_named(validate_submission(_main_zip(tmp_path, mice, nameless), root), "missing mouse name")


def test_missing_zip_and_wrong_dataset_root_are_messages(tmp_path, root, mice):
    zip_path = write_submission(_predictions(mice, MAIN_TIERS), _ids(mice), tmp_path, "main")[0]
    missing = validate_submission(tmp_path / "no_such.zip", root)
    assert missing.kinds() == ["not found"] and "no_such.zip" in str(missing)
    mouse_folder = next(iter(mice.values())).folder
    inside = validate_submission(zip_path, mouse_folder)  # a mouse folder instead of the dataset folder
    assert inside.kinds() == ["dataset"] and f"pass its parent folder, {root}" in str(inside)
    above = validate_submission(zip_path, root.parent)
    assert above.kinds() == ["dataset"] and "one level down" in str(above)
    nowhere = validate_submission(zip_path, tmp_path / "nope")
    assert nowhere.kinds() == ["dataset"] and "does not exist" in str(nowhere)


def test_a_submission_of_the_scored_mice_only_is_complete(tmp_path, root, mice):
    """Only the five new mice were scored: a submission may leave the others out."""
    from course_utils.sensorium import SCORED_MICE

    renamed = tmp_path / "data"
    first, second = sorted(mice)
    shutil.copytree(root / first, renamed / SCORED_MICE[0])  # a scored mouse, as the real dataset names it
    shutil.copytree(root / second, renamed / second)  # an unscored one
    scored = read_mice(renamed)
    preds = {tier: {SCORED_MICE[0]: {int(t): np.zeros((5, int(scored[SCORED_MICE[0]].trial_lengths[t])))
                                     for t in scored[SCORED_MICE[0]].trials(tier)}} for tier in MAIN_TIERS}
    only_scored = write_submission(preds, {SCORED_MICE[0]: scored[SCORED_MICE[0]].unit_ids}, tmp_path / "s")[0]
    assert validate_submission(only_scored, renamed).ok
    without = write_submission(_predictions({second: scored[second]}, MAIN_TIERS), _ids({second: scored[second]}),
                               tmp_path / "w")[0]
    report = validate_submission(without, renamed)
    assert set(report.kinds()) == {"missing mouse"} and {p.mouse for p in report.problems} == {SCORED_MICE[0]}
    # a demo dataset (none of the real scored mice): every mouse counts, unless told otherwise
    partial = write_submission(_predictions({first: mice[first]}, MAIN_TIERS), _ids({first: mice[first]}),
                               tmp_path / "p")[0]
    assert "missing mouse" in _kinds(validate_submission(partial, root))
    assert validate_submission(partial, root, scored_mice=[first]).ok
    assert "scored mice" in _kinds(validate_submission(partial, root, scored_mice=["dynamic0-nope"]))


@pytest.fixture(scope="module")
def long_root(tmp_path_factory) -> Path:
    """Trials longer than 300 frames: only the first 300 count."""
    folder = tmp_path_factory.mktemp("sensorium_long")
    write_demo_mice(folder, seed=4, n_mice=1, n_neurons=3, n_train=1, n_oracle_clips=1, n_repeats=2,
                    max_frames=312, min_frames=306)
    return folder


def test_long_trials_take_250_or_249_frames_of_the_first_300(tmp_path, long_root):
    mice = read_mice(long_root)
    mouse = next(iter(mice.values()))
    assert mouse.trial_lengths.min() > 300
    for rule, n in [(SUBMISSION_FRAME_RULE, 250), (TOP_TEAMS_FRAME_RULE, 249)]:
        zips = write_submission(_predictions(mice, MAIN_TIERS), _ids(mice), tmp_path / str(rule), "main", rule)
        report = validate_submission(zips[0], long_root)
        assert report.ok, str(report)
        frame = pd.read_parquet(tmp_path / str(rule) / "predictions_final_main.parquet.brotli")
        assert {len(p[0]) for p in frame["prediction"]} == {n}
    full = {t: np.zeros((3, int(mouse.trial_lengths[t]))) for t in mouse.trials("final_test_main")}
    uncut = submission_frame({mouse.name: full}, _ids(mice), FrameRule(50, 0, max_frames=None))  # T-50 of all T
    report = validate_submission(_main_zip(tmp_path, mice, uncut), long_root)
    assert "frame count" in _kinds(report) and "first 300 frames" in str(report)
