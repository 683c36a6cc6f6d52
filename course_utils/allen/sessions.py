"""The Visual Behavior session table: loading, derived columns, one mouse's sessions, per-mouse summaries.

Taught in chapter 02_allen_loading.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.fileio import BadFileError

__all__ = [
    "STAGE_ORDER",
    "add_derived_columns",
    "behavior_nwb_path",
    "cre_line_from_genotype",
    "image_set_from_session_type",
    "with_nwb_files",
    "load_session_table",
    "mouse_sessions",
    "mouse_summary",
    "parse_session_type",
]

#: Training stages in the order a mouse goes through them (TRAINING_0 ... OPHYS_6), with their rank.
STAGE_ORDER: dict[str, int] = {
    **{f"TRAINING_{k}": k for k in range(6)},
    **{f"OPHYS_{k}": 6 + k for k in range(7)},
}

_SESSION_TYPE = re.compile(r"^(?P<stage>(?:TRAINING|OPHYS)_(?P<number>\d))_(?P<rest>.+)$")
_IMAGE_SET = re.compile(r"^(?P<set>gratings|images_[A-Z])(?:_(?P<suffix>.*))?$")

REQUIRED_COLUMNS = ("behavior_session_id", "mouse_id", "session_type", "date_of_acquisition")
_TABLE_FIX = ("Delete it and fetch it again (python -m course_utils data fetch allen_visual_behavior --mode sample), "
              "or use the demo project (mode='demo'), which is regenerated when missing.")


def parse_session_type(session_type: str) -> dict[str, object]:
    """Split a session type such as ``"TRAINING_5_images_A_handoff_ready"`` into its parts.

    Parameters
    ----------
    session_type : str
        A ``session_type`` of the session table (also the NWB file's ``session_description``).

    Returns
    -------
    dict
        ``training_stage`` ("TRAINING_5"), ``stage_order`` (0-12, TRAINING_0 = 0, OPHYS_0 = 6),
        ``image_set`` ("images_A" or "gratings"), ``stage_detail`` (what follows the image set:
        "handoff_ready", "passive", "" ...), ``passive`` (bool: an OPHYS session without a task),
        ``session_number`` (the OPHYS number, NaN for training) and ``phase`` ("training", "habituation"
        or "ophys").

    Raises
    ------
    ValueError
        If the string does not look like a Visual Behavior session type.

    Examples
    --------
    >>> parse_session_type("OPHYS_2_images_A_passive")["passive"]
    True
    >>> parse_session_type("TRAINING_3_images_B_10uL_reward")["stage_order"]
    3

    Taught in chapter 02_allen_loading.
    """
    match = _SESSION_TYPE.match(str(session_type))
    image = _IMAGE_SET.match(match["rest"]) if match else None
    if match is None or image is None:
        raise ValueError(
            f"session_type {session_type!r} is not a Visual Behavior session type: expected "
            "'TRAINING_<n>_<gratings|images_X>[_detail]' or 'OPHYS_<n>_images_X[_detail]', e.g. "
            "'TRAINING_5_images_A_handoff_ready'"
        )
    stage = match["stage"]
    is_ophys = stage.startswith("OPHYS")
    number = int(match["number"])
    detail = image["suffix"] or ""
    if stage not in STAGE_ORDER:
        raise ValueError(f"session_type {session_type!r}: unknown stage {stage!r}; known: {list(STAGE_ORDER)}")
    return {
        "training_stage": stage,
        "stage_order": STAGE_ORDER[stage],
        "image_set": image["set"],
        "stage_detail": detail,
        # SOURCES: passive_viewing when the type has both "OPHYS" and "passive"
        "passive": bool(is_ophys and "passive" in str(session_type)),
        "session_number": float(number) if is_ophys else np.nan,
        "phase": ("habituation" if number == 0 else "ophys") if is_ophys else "training",
    }


def image_set_from_session_type(session_type: str) -> str:
    """The image set a session type names: ``"images_A"`` ... ``"images_H"`` or ``"gratings"``.

    AllenSDK's rule (``parse_stimulus_set``), which gives the session table's ``image_set`` column and
    ``task_parameters["image_set"]``: the third ``_``-separated token, ``images`` followed by its letter, or
    ``gratings``.

    Parameters
    ----------
    session_type : str
        E.g. ``"OPHYS_4_images_B"``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If the third token is neither ``images`` nor ``gratings`` (the message names the session type).

    Examples
    --------
    >>> image_set_from_session_type("TRAINING_5_images_A_handoff_ready")
    'images_A'
    >>> image_set_from_session_type("TRAINING_1_gratings")
    'gratings'

    Taught in chapter 02_allen_loading.
    """
    tokens = str(session_type).split("_")
    if len(tokens) > 3 and tokens[2] == "images":
        return f"images_{tokens[3]}"
    if len(tokens) > 2 and tokens[2] == "gratings":
        return "gratings"
    raise ValueError(
        f"session_type {session_type!r} names no image set: expected 'images_<letter>' or 'gratings' as its "
        "third and fourth '_' tokens, e.g. 'OPHYS_1_images_A'"
    )


def cre_line_from_genotype(full_genotype: str) -> str | None:
    """The Cre driver line of a full genotype, as AllenSDK derives ``metadata["cre_line"]``.

    The first ``;``-separated part without its ``/wt`` suffix; ``None`` when the genotype has no ``;``
    (AllenSDK then warns and returns None too). On the real session table this reproduces the
    ``cre_line`` column for all 4,787 sessions.

    Parameters
    ----------
    full_genotype : str
        E.g. ``"Vip-IRES-Cre/wt;Ai148(TIT2L-GC6f-ICL-tTA2)/wt"``.

    Returns
    -------
    str or None

    Examples
    --------
    >>> cre_line_from_genotype("Slc17a7-IRES2-Cre/wt;Camk2a-tTA/wt;Ai93(TITL-GCaMP6f)/wt")
    'Slc17a7-IRES2-Cre'
    >>> cre_line_from_genotype("wt/wt") is None
    True

    Taught in chapter 02_allen_loading.
    """
    text = str(full_genotype)
    if ";" not in text:
        return None
    return text.split(";")[0].replace("/wt", "")


def _experience_level(parsed: pd.DataFrame, prior_exposures_to_image_set: pd.Series) -> pd.Series:
    # OPHYS_0-3 show the training images (Familiar); OPHYS_4-6 a new set, "Novel 1" on its first day.
    level = pd.Series("Training", index=parsed.index, dtype=object)
    ophys = parsed["phase"] != "training"
    novel = ophys & (parsed["session_number"] >= 4)
    level[ophys & ~novel] = "Familiar"
    first = prior_exposures_to_image_set.fillna(0).to_numpy() == 0
    level[novel & first] = "Novel 1"
    level[novel & ~first] = "Novel >1"
    return level


def add_derived_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Add the columns derived from ``session_type`` (and check those the table already has).

    Adds ``training_stage``, ``stage_order``, ``stage_detail``, ``phase``, ``passive`` and, where missing,
    ``image_set``, ``session_number``, ``behavior_type`` ("active_behavior"/"passive_viewing") and
    ``experience_level`` ("Training", "Familiar", "Novel 1", "Novel >1"). ``date_of_acquisition`` becomes
    a timezone-aware datetime.

    Parameters
    ----------
    table : pandas.DataFrame
        A session table with at least ``session_type``.

    Returns
    -------
    pandas.DataFrame
        A copy with the derived columns.

    Raises
    ------
    ValueError
        If ``session_type`` is missing or one of its values cannot be parsed (the message names it).

    Examples
    --------
    >>> t = pd.DataFrame({"session_type": ["TRAINING_1_gratings", "OPHYS_4_images_B"]})
    >>> add_derived_columns(t)[["training_stage", "experience_level"]].values.tolist()
    [['TRAINING_1', 'Training'], ['OPHYS_4', 'Novel 1']]

    Taught in chapter 02_allen_loading.
    """
    if "session_type" not in table.columns:
        raise ValueError(f"the session table has no 'session_type' column (columns: {list(table.columns)})")
    out = table.copy()
    types = out["session_type"].astype(str)
    lookup = {name: parse_session_type(name) for name in types.unique()}
    parsed = pd.DataFrame([lookup[name] for name in types], index=out.index)
    for column in ("training_stage", "stage_order", "stage_detail", "phase", "passive"):
        out[column] = parsed[column]
    if "image_set" not in out.columns:
        out["image_set"] = parsed["image_set"]
    if "session_number" not in out.columns:
        out["session_number"] = parsed["session_number"]
    if "behavior_type" not in out.columns:
        out["behavior_type"] = np.where(parsed["passive"], "passive_viewing", "active_behavior")
    if "experience_level" not in out.columns:
        prior = out.get("prior_exposures_to_image_set", pd.Series(0, index=out.index))
        out["experience_level"] = _experience_level(parsed, prior)
    if "date_of_acquisition" in out.columns:
        out["date_of_acquisition"] = _parse_dates(out["date_of_acquisition"], out.get("behavior_session_id"))
    return out


def _parse_dates(values: pd.Series, session_ids: pd.Series | None = None) -> pd.Series:
    parsed = pd.to_datetime(values, utc=True, format="mixed", errors="coerce")
    bad = np.flatnonzero((parsed.isna() & values.notna()).to_numpy())
    if len(bad):
        where = (f"behavior_session_id {session_ids.iloc[i]}" if session_ids is not None else f"row {values.index[i]!r}"
                 for i in bad[:3])
        examples = ", ".join(f"{w}: {values.iloc[i]!r}" for w, i in zip(where, bad[:3], strict=False))
        raise ValueError(
            f"date_of_acquisition has {len(bad)} value(s) that are not dates ({examples}); expected e.g. "
            "'2019-03-15 14:49:24.015000+00:00'"
        )
    return parsed


def load_session_table(path: str | Path) -> pd.DataFrame:
    """Read ``behavior_session_table.csv`` and add the derived columns.

    Parameters
    ----------
    path : str or Path
        The CSV file, or the folder holding it (the project folder or its ``project_metadata/``).

    Returns
    -------
    pandas.DataFrame
        One row per behaviour session, indexed by ``behavior_session_id``, sorted by mouse then date, with
        the columns of :func:`add_derived_columns`.

    Raises
    ------
    FileNotFoundError
        If no table is found at ``path``.
    BadFileError
        (a ``ValueError``) If the file is empty, not a CSV, has only a header, lacks a required column, or has
        a session type or date that cannot be parsed; the message names the file, the bad row and the fix.

    Examples
    --------
    >>> table = load_session_table(get_source("allen_visual_behavior"))   # doctest: +SKIP

    Taught in chapter 02_allen_loading.
    """
    path = Path(path)
    if path.is_dir():
        candidates = [path / "behavior_session_table.csv", path / "project_metadata" / "behavior_session_table.csv"]
        found = [c for c in candidates if c.is_file()]
        if not found:
            raise FileNotFoundError(
                f"no behavior_session_table.csv in {path} or {path / 'project_metadata'}; pass the CSV file "
                "itself, or the folder from get_source('allen_visual_behavior')"
            )
        path = found[0]
    if not path.is_file():
        raise FileNotFoundError(f"session table {path} does not exist")
    fix = _TABLE_FIX
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError as err:
        raise BadFileError(path, "is empty (no header, no sessions): it is not a behavior_session_table.csv.",
                           fix) from err
    except (UnicodeDecodeError, pd.errors.ParserError) as err:
        raise BadFileError(path, f"is not a readable CSV table ({type(err).__name__}: {err}).", fix) from err
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise BadFileError(path, f"lacks the column(s) {missing}; is it a Visual Behavior behavior_session_table?",
                           fix)
    if table.empty:
        raise BadFileError(path, "has the header of a session table but no sessions (no rows below it).", fix)
    try:
        table = add_derived_columns(table)
    except ValueError as err:
        raise BadFileError(path, f"has a bad value: {err}.", "Correct that row, or: " + fix) from err
    table = table.sort_values(["mouse_id", "date_of_acquisition"], kind="stable")
    return table.set_index("behavior_session_id")


def mouse_sessions(table: pd.DataFrame, mouse_id: int) -> pd.DataFrame:
    """One mouse's sessions in acquisition order, with a ``day`` column (days since its first session).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`load_session_table`.
    mouse_id : int
        The mouse (``table.mouse_id.unique()`` lists them).

    Returns
    -------
    pandas.DataFrame
        The mouse's rows sorted by ``date_of_acquisition``, plus ``day`` (int) and ``session_index`` (0, 1, ...).

    Raises
    ------
    KeyError
        If the mouse is not in the table.

    Examples
    --------
    >>> mouse = mouse_sessions(table, 445002)   # doctest: +SKIP

    Taught in chapter 02_allen_loading.
    """
    rows = table[table["mouse_id"] == mouse_id]
    if rows.empty:
        some = sorted(table["mouse_id"].unique())[:5]
        raise KeyError(f"mouse_id {mouse_id!r} is not in the session table (e.g. {some})")
    rows = rows.sort_values("date_of_acquisition", kind="stable").copy()
    dates = pd.to_datetime(rows["date_of_acquisition"], utc=True).dt.normalize()
    rows["day"] = (dates - dates.iloc[0]).dt.days.astype(int)
    rows["session_index"] = np.arange(len(rows))
    return rows


def mouse_summary(table: pd.DataFrame) -> pd.DataFrame:
    """A tidy summary per mouse: sessions per stage, days in training, hand-off date.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`load_session_table` (derived columns needed).

    Returns
    -------
    pandas.DataFrame
        One row per mouse: ``cre_line``, ``n_sessions``, ``first_session``, ``first_handoff_ready``
        (date of the first ``handoff_ready`` session, when d' > 1 on 2 of 3 consecutive days was reached),
        ``handoff_date`` (first OPHYS session: the mouse moved to the imaging rig), ``training_days``
        (calendar days from the first session to the hand-off), and one ``sessions_<stage>`` column per
        stage (number of sessions the mouse spent in it).

    Examples
    --------
    >>> summary = mouse_summary(table)   # doctest: +SKIP

    Taught in chapter 02_allen_loading.
    """
    if "training_stage" not in table.columns:
        table = add_derived_columns(table)
    frame = table.reset_index()
    dates = pd.to_datetime(frame["date_of_acquisition"], utc=True)
    frame = frame.assign(_date=dates)
    grouped = frame.groupby("mouse_id")
    summary = pd.DataFrame(
        {
            "cre_line": grouped["cre_line"].first() if "cre_line" in frame else np.nan,
            "n_sessions": grouped.size(),
            "first_session": grouped["_date"].min(),
        }
    )
    ready = frame[frame["stage_detail"].astype(str).str.contains("handoff_ready")]
    summary["first_handoff_ready"] = ready.groupby("mouse_id")["_date"].min()
    summary["handoff_date"] = frame[frame["phase"] != "training"].groupby("mouse_id")["_date"].min()
    summary["training_days"] = (
        summary["handoff_date"].dt.normalize() - summary["first_session"].dt.normalize()
    ).dt.days
    counts = pd.crosstab(frame["mouse_id"], frame["training_stage"])
    counts = counts.reindex(columns=[s for s in STAGE_ORDER if s in counts.columns])
    counts.columns = [f"sessions_{c}" for c in counts.columns]
    return summary.join(counts).fillna({c: 0 for c in counts.columns})


def behavior_nwb_path(folder: str | Path, behavior_session_id: int) -> Path:
    """Where a behaviour session's NWB file lives in a project folder (the S3 bucket's layout).

    Parameters
    ----------
    folder : str or Path
        The project folder (``get_source("allen_visual_behavior")``).
    behavior_session_id : int

    Returns
    -------
    Path
        ``folder / "behavior_sessions" / f"behavior_session_{id}.nwb"`` (it may not exist: sample mode has
        only a few files; see :func:`with_nwb_files`).

    Examples
    --------
    >>> behavior_nwb_path("project", 870987812).as_posix()
    'project/behavior_sessions/behavior_session_870987812.nwb'

    Taught in chapter 02_allen_loading.
    """
    return Path(folder) / "behavior_sessions" / f"behavior_session_{int(behavior_session_id)}.nwb"


def with_nwb_files(table: pd.DataFrame, folder: str | Path) -> pd.DataFrame:
    """Add ``nwb_file`` (the local path) and ``has_nwb`` (whether it is on disk) to a session table.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by ``behavior_session_id`` (from :func:`load_session_table`).
    folder : str or Path
        The project folder.

    Returns
    -------
    pandas.DataFrame
        A copy with the two columns.

    Examples
    --------
    >>> table = with_nwb_files(load_session_table(folder), folder)   # doctest: +SKIP
    >>> table[table.has_nwb].mouse_id.value_counts()   # doctest: +SKIP

    Taught in chapter 02_allen_loading.
    """
    out = table.copy()
    paths = [behavior_nwb_path(folder, sid) for sid in out.index]
    out["nwb_file"] = paths
    out["has_nwb"] = [p.is_file() for p in paths]
    return out
