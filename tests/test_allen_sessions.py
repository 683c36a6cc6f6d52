"""Session tables: parsing every real session type, derived columns, one mouse's progression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.allen.sessions import (
    STAGE_ORDER,
    add_derived_columns,
    cre_line_from_genotype,
    image_set_from_session_type,
    load_session_table,
    mouse_sessions,
    mouse_summary,
    parse_session_type,
)
from course_utils.fileio import BadFileError

REAL_TABLE = ("data", "allen", "behavior_session_table.csv")


def test_parse_session_type_parts():
    parsed = parse_session_type("TRAINING_5_images_A_handoff_ready")
    assert parsed["training_stage"] == "TRAINING_5" and parsed["stage_order"] == 5
    assert parsed["image_set"] == "images_A" and parsed["stage_detail"] == "handoff_ready"
    assert parsed["passive"] is False and np.isnan(parsed["session_number"])
    passive = parse_session_type("OPHYS_5_images_B_passive")
    assert passive["passive"] is True and passive["session_number"] == 5.0 and passive["stage_order"] == 11
    assert parse_session_type("TRAINING_0_gratings_autorewards_15min")["image_set"] == "gratings"
    assert parse_session_type("OPHYS_0_images_G_habituation")["phase"] == "habituation"


@pytest.mark.parametrize("bad", ["", "OPHYS_images_A", "TRAINING_9_images_A", "RECEPTIVE_FIELD_MAPPING"])
def test_parse_session_type_rejects_junk(bad):
    with pytest.raises(ValueError, match="session_type"):
        parse_session_type(bad)


def test_stage_order_is_training_then_ophys():
    assert list(STAGE_ORDER) == [f"TRAINING_{k}" for k in range(6)] + [f"OPHYS_{k}" for k in range(7)]
    assert list(STAGE_ORDER.values()) == list(range(13))


def test_real_table_every_type_parses_and_matches_allen_columns(shared_dir):
    table = load_session_table(shared_dir.joinpath(*REAL_TABLE))
    assert len(table) == 4787 and table["mouse_id"].nunique() == 107
    raw = pd.read_csv(shared_dir / "data" / "allen" / "behavior_session_table.csv")
    # our derivations agree with the columns the Allen Institute computed
    derived = add_derived_columns(raw.drop(columns=["image_set", "session_number", "behavior_type",
                                                    "experience_level"]))
    assert (derived["image_set"] == raw["image_set"]).all()
    np.testing.assert_array_equal(derived["session_number"].to_numpy(), raw["session_number"].to_numpy())
    assert (derived["behavior_type"] == raw["behavior_type"]).all()
    agree = (derived["experience_level"] == raw["experience_level"]).mean()
    assert agree == 1.0


def test_real_stage_order_of_full_progressions(shared_dir):
    table = load_session_table(shared_dir / "data" / "allen")
    checked = 0
    for mouse_id, rows in table.groupby("mouse_id"):
        stages = set(rows["training_stage"])
        if not set(STAGE_ORDER) <= stages:
            continue
        mouse = mouse_sessions(table, mouse_id)
        # the first session is TRAINING_0 and the mouse is on an ophys rig after its last training session
        assert mouse["training_stage"].iloc[0] == "TRAINING_0"
        order = mouse["stage_order"].to_numpy()
        last_training = np.flatnonzero(order < 6).max()
        assert (order[last_training + 1:] >= 6).all()
        # training stages never go back by more than one stage (lapses) and reach TRAINING_5 before ophys
        assert (np.diff(order[: last_training + 1]) >= -1).all()
        checked += 1
    assert checked >= 20


def test_seed_mouse_445002(shared_dir):
    table = load_session_table(shared_dir / "data" / "allen")
    mouse = mouse_sessions(table, 445002)
    assert len(mouse) == 24
    assert mouse["session_type"].iloc[0] == "TRAINING_0_gratings_autorewards_15min"
    # OPHYS_1 ... OPHYS_6, then the OPHYS_5 retake the seed notebook points out
    assert list(mouse["stage_order"].iloc[-7:]) == [7, 8, 9, 10, 11, 12, 11]
    assert list(mouse["training_stage"].iloc[14:17]) == ["OPHYS_0"] * 3
    summary = mouse_summary(table).loc[445002]
    assert str(summary["handoff_date"].date()) == "2019-04-04"
    assert str(summary["first_handoff_ready"].date()) == "2019-04-01"
    assert summary["training_days"] == 20
    assert summary["sessions_TRAINING_1"] == 3 and summary["sessions_OPHYS_5"] == 2


def test_mouse_sessions_unknown_mouse():
    table = add_derived_columns(pd.DataFrame({"session_type": ["TRAINING_1_gratings"], "mouse_id": [1],
                                              "date_of_acquisition": ["2019-01-01"]}))
    with pytest.raises(KeyError, match="mouse_id"):
        mouse_sessions(table, 2)


def test_load_session_table_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="behavior_session_table"):
        load_session_table(tmp_path)
    bad = tmp_path / "behavior_session_table.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(BadFileError, match="session_type"):
        load_session_table(bad)


def test_derivations_reproduce_the_real_table(shared_dir):
    """cre_line from the genotype (AllenSDK's metadata rule) and image_set from the session type (its
    parse_stimulus_set): both give the Allen Institute's own columns on all 4,787 real sessions."""
    raw = pd.read_csv(shared_dir.joinpath(*REAL_TABLE))
    assert [cre_line_from_genotype(g) for g in raw["full_genotype"]] == raw["cre_line"].tolist()
    assert [image_set_from_session_type(t) for t in raw["session_type"]] == raw["image_set"].tolist()
    assert cre_line_from_genotype("wt/wt") is None
    with pytest.raises(ValueError, match="RECEPTIVE_FIELD_MAPPING"):
        image_set_from_session_type("RECEPTIVE_FIELD_MAPPING")


def _real_rows(shared_dir, n=6) -> str:
    lines = shared_dir.joinpath(*REAL_TABLE).read_text().splitlines()
    return "\n".join(lines[: n + 1]) + "\n"


def _assert_names_file_and_fix(err, path):
    message = str(err.value)
    assert err.value.path == path and str(path) in message
    assert "fetch it again" in message  # what to do


def test_empty_session_table(tmp_path):
    path = tmp_path / "behavior_session_table.csv"
    path.write_bytes(b"")
    with pytest.raises(BadFileError, match="is empty") as err:
        load_session_table(path)
    _assert_names_file_and_fix(err, path)


def test_header_only_session_table(tmp_path, shared_dir):
    path = tmp_path / "behavior_session_table.csv"
    path.write_text(_real_rows(shared_dir, n=0))
    with pytest.raises(BadFileError, match="header of a session table but no sessions") as err:
        load_session_table(path)
    _assert_names_file_and_fix(err, path)


def test_bad_date_names_the_session_and_the_value(tmp_path, shared_dir):
    text = _real_rows(shared_dir)
    session_id = text.splitlines()[3].split(",")[0]
    lines = text.splitlines()
    lines[3] = lines[3].replace("2019-05-", "2019-13-", 1)  # month 13
    path = tmp_path / "behavior_session_table.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadFileError, match=rf"date_of_acquisition .*behavior_session_id {session_id}: "
                                           r"'2019-13-") as err:
        load_session_table(path)
    _assert_names_file_and_fix(err, path)
    assert "Correct that row" in str(err.value)


def test_binary_file_as_session_table(tmp_path):
    path = tmp_path / "behavior_session_table.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(BadFileError, match="not a readable CSV|lacks the column") as err:
        load_session_table(path)
    _assert_names_file_and_fix(err, path)


def test_chapter_2_claim_about_training_days(shared_dir):
    """Chapter 2: mice need two weeks to four months to reach the microscope, a median of five to nine and a
    half weeks depending on the cre line (measured here on the real table)."""
    summary = mouse_summary(load_session_table(shared_dir.joinpath(*REAL_TABLE)))
    days = summary["training_days"]
    assert days.min() >= 14 and days.max() <= 4 * 31
    medians_weeks = summary.groupby("cre_line")["training_days"].median() / 7
    assert medians_weeks.min().round() == 5 and 9 <= medians_weeks.max() <= 9.5
