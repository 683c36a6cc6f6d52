"""Check a Sensorium 2023 submission against a dataset folder before uploading it.

:func:`validate_submission` reports *every* problem it finds, each with its file, mouse and trial: file names
and zip layout, columns and their types, each test trial present exactly once, neuron ids and their order,
the number of frames (the frame rule), and NaN/inf values. On the command line::

    python -m course_utils.sensorium.validate submission_main.zip DATASET_ROOT
    python -m course_utils.sensorium.validate predictions_final_main.parquet.brotli DATASET_ROOT

exits with status 0 when the submission is valid and 1 otherwise.

Taught in chapter 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .reader import read_mice
from .submission import COLUMNS, SUBMISSION_FRAME_RULE, TOP_TEAMS_FRAME_RULE, TRACK_FILES, FrameRule

FILE_TIERS = {name: tier for track in TRACK_FILES.values() for tier, name in track.items()}
FILE_TRACK = {name: track for track, files in TRACK_FILES.items() for name in files.values()}


@dataclass
class Problem:
    """One thing wrong with a submission."""

    message: str
    file: str | None = None
    mouse: str | None = None
    trial: int | None = None

    def __str__(self) -> str:
        where = [f"file {self.file}" if self.file else "", f"mouse {self.mouse}" if self.mouse else "",
                 f"trial {self.trial}" if self.trial is not None else ""]
        where_text = ", ".join(w for w in where if w)
        return f"[{where_text}] {self.message}" if where_text else self.message


@dataclass
class SubmissionReport:
    """What :func:`validate_submission` found: ``ok`` is True when ``problems`` is empty."""

    path: Path
    files: list[str] = field(default_factory=list)
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, message: str, file: str | None = None, mouse: str | None = None, trial: int | None = None) -> None:
        self.problems.append(Problem(message, file, mouse, trial))

    def kinds(self) -> list[str]:
        """Short codes of the problems (the text before the first colon), for tests and summaries."""
        return [p.message.split(":")[0] for p in self.problems]

    def __str__(self) -> str:
        head = f"Submission {self.path.name}: {len(self.files)} file(s), {self.rows} row(s)"
        if self.ok:
            return head + " — valid."
        lines = [head + f" — {len(self.problems)} problem(s):"] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


def _read_members(path: Path, report: SubmissionReport) -> list[tuple[str, bytes]]:
    """The parquet files of a submission (a zip or a single parquet file), checking names and zip layout."""
    if path.suffix == ".zip":
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            report.add(f"bad zip: {path.name} is not a readable zip file")
            return []
        with archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            members = []
            for name in names:
                base = name.rsplit("/", 1)[-1]
                if "/" in name:
                    report.add(f"zip not flat: {name!r} is inside a folder; put the files directly in the zip "
                               "(zip -j, or arcname=file name)", file=name)
                if base.startswith("__MACOSX") or base.startswith("."):
                    report.add(f"stray file: {name!r} (a system file) must not be in the zip", file=name)
                    continue
                members.append((base, archive.read(name)))
        present = {base for base, _ in members}
        tracks = {FILE_TRACK[n] for n in present if n in FILE_TRACK}
        if len(tracks) > 1:
            report.add("mixed tracks: main and bonus files are in one zip; upload each track separately")
        if "main" in tracks:
            for name in TRACK_FILES["main"].values():
                if name not in present:
                    report.add(f"missing file: the main-track zip must contain {name}")
        bonus = [n for n in present if FILE_TRACK.get(n) == "bonus"]
        if len(bonus) > 1:
            report.add("bonus files together: zip and upload the live and final bonus files separately")
        return members
    if not path.is_file():
        report.add(f"not found: {path} does not exist")
        return []
    return [(path.name, path.read_bytes())]


def _check_types(table: pa.Table, name: str, report: SubmissionReport) -> bool:
    names = list(table.column_names)
    ok = True
    missing = [c for c in COLUMNS if c not in names]
    extra = [c for c in names if c not in COLUMNS]
    if missing:
        report.add(f"missing columns: {missing}; the columns must be exactly {list(COLUMNS)}", file=name)
        ok = False
    if extra:
        hint = " (an index was written: use index=False)" if any("index" in c for c in extra) else ""
        report.add(f"extra columns: {extra}{hint}", file=name)
    if not ok:
        return False
    schema = table.schema

    def is_str(x):
        return pa.types.is_string(x) or pa.types.is_large_string(x)

    if not is_str(schema.field("mouse").type):
        report.add(f"wrong dtype: column 'mouse' is {schema.field('mouse').type}, must be str", file=name)
        ok = False
    t = schema.field("trial_indices").type
    if not pa.types.is_integer(t):
        hint = " (e.g. '1.npy' strings as in the README's toy example)" if is_str(t) else ""
        report.add(f"wrong dtype: column 'trial_indices' is {t}{hint}, must be int (the trial's file number)", file=name)
        ok = False

    def is_list(x):
        return pa.types.is_list(x) or pa.types.is_large_list(x)

    p = schema.field("prediction").type
    if not (is_list(p) and is_list(p.value_type) and pa.types.is_floating(p.value_type.value_type)):
        report.add(f"wrong dtype: column 'prediction' is {p}, must be a list of lists of floats "
                   "(neurons x frames; use array.tolist())", file=name)
        ok = False
    n = schema.field("neuron_ids").type
    if not (is_list(n) and pa.types.is_integer(n.value_type)):
        report.add(f"wrong dtype: column 'neuron_ids' is {n}, must be a list of ints", file=name)
        ok = False
    return ok


def _lengths(array: pa.Array) -> np.ndarray:
    return np.asarray(array.value_lengths().fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _check_file(name: str, data: bytes, mice, frame_rule: FrameRule, report: SubmissionReport) -> None:
    if name not in FILE_TIERS:
        report.add(f"wrong file name: {name!r}; the names are {sorted(FILE_TIERS)}", file=name)
        return
    tier = FILE_TIERS[name]
    report.files.append(name)
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        table = parquet.read()
    except (pa.ArrowInvalid, OSError) as err:
        report.add(f"not parquet: the file cannot be read as parquet ({err})", file=name)
        return
    if parquet.metadata.num_row_groups and parquet.metadata.num_columns:
        codec = parquet.metadata.row_group(0).column(0).compression
        if codec.upper() != "BROTLI":
            report.add(f"wrong compression: {codec}; write with compression='brotli'", file=name)
    report.rows += table.num_rows
    if not _check_types(table, name, report):
        return
    mouse_col = table.column("mouse").to_pylist()
    trial_col = np.asarray(table.column("trial_indices").to_numpy(zero_copy_only=False))
    ids_col = table.column("neuron_ids").to_pylist()
    pred = table.column("prediction").combine_chunks()
    neurons_per_row = _lengths(pred)
    inner = pred.flatten()
    frames_per_neuron = _lengths(inner)
    values = np.asarray(inner.flatten().to_numpy(zero_copy_only=False), dtype=np.float64)
    # offsets: neuron rows of trial k are inner[row_start[k]:row_start[k+1]]
    row_start = np.concatenate([[0], np.cumsum(neurons_per_row)])
    value_start = np.concatenate([[0], np.cumsum(frames_per_neuron)])
    bad_per_neuron = np.add.reduceat(~np.isfinite(values), value_start[:-1]) if values.size else np.zeros(0)
    bad_per_neuron = np.where(frames_per_neuron > 0, bad_per_neuron, 0) if values.size else np.zeros(len(frames_per_neuron))

    expected = {(m.name, int(t)) for m in mice.values() for t in m.trials(tier)}
    seen: dict[tuple[str, int], int] = {}
    for k, (mouse_name, trial) in enumerate(zip(mouse_col, trial_col.tolist(), strict=True)):
        key = (mouse_name, int(trial))
        if mouse_name not in mice:
            report.add(f"unknown mouse: {mouse_name!r} is not a mouse folder of the dataset", file=name,
                       mouse=mouse_name, trial=int(trial))
            continue
        mouse = mice[mouse_name]
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            report.add("duplicate trial: this trial appears more than once", file=name, mouse=mouse_name, trial=int(trial))
        if seen[key] > 1:
            continue
        if key not in expected:
            actual = mouse.tiers[int(trial)] if 0 <= int(trial) < mouse.n_trials else "no such trial"
            report.add(f"wrong trial: it is not a {tier} trial (its tier: {actual})", file=name,
                       mouse=mouse_name, trial=int(trial))
            continue
        ids = np.asarray(ids_col[k] if ids_col[k] is not None else [], dtype=np.int64)
        units = np.asarray(mouse.unit_ids, dtype=np.int64)
        if len(ids) != len(units) or not np.array_equal(ids, units):
            if len(ids) != len(units):
                msg = f"neuron ids: {len(ids)} given, the mouse has {len(units)} neurons"
            elif set(ids.tolist()) == set(units.tolist()):
                msg = "neuron ids: the right ids in the wrong order; use meta/neurons/unit_ids.npy's order"
            else:
                msg = f"neuron ids: {len(set(ids.tolist()) - set(units.tolist()))} ids are not in unit_ids.npy"
            report.add(msg, file=name, mouse=mouse_name, trial=int(trial))
        if neurons_per_row[k] != len(units):
            report.add(f"neuron count: prediction has {neurons_per_row[k]} rows, the mouse has {len(units)} neurons",
                       file=name, mouse=mouse_name, trial=int(trial))
        frames = frames_per_neuron[row_start[k] : row_start[k + 1]]
        trial_frames = int(mouse.trial_lengths[int(trial)])
        want = frame_rule.n_frames(trial_frames)
        if frames.size and (frames != want).any():
            got = sorted(set(frames.tolist()))
            hint = ""
            if got == [TOP_TEAMS_FRAME_RULE.n_frames(trial_frames)] and frame_rule != TOP_TEAMS_FRAME_RULE:
                hint = f" (that is the top teams' {TOP_TEAMS_FRAME_RULE} rule)"
            elif got == [trial_frames]:
                hint = " (the whole trial: drop the first frames)"
            report.add(f"frame count: {got} frames per neuron, expected {want} ({frame_rule} for a trial of "
                       f"{trial_frames} frames){hint}", file=name, mouse=mouse_name, trial=int(trial))
        bad = int(bad_per_neuron[row_start[k] : row_start[k + 1]].sum())
        if bad:
            report.add(f"non-finite values: {bad} NaN/inf values in the prediction", file=name,
                       mouse=mouse_name, trial=int(trial))
    for mouse_name, trial in sorted(expected - set(seen)):
        report.add(f"missing trial: this {tier} trial has no row", file=name, mouse=mouse_name, trial=trial)


def validate_submission(
    path: str | Path, dataset_root: str | Path, frame_rule: FrameRule = SUBMISSION_FRAME_RULE
) -> SubmissionReport:
    """Check a submission zip (or one parquet file) against the dataset; every problem is reported.

    Parameters
    ----------
    path
        ``submission_main.zip`` / a bonus zip / a single ``predictions_*.parquet.brotli`` file.
    dataset_root
        The folder holding the ``dynamic*`` mouse folders the predictions are for.
    frame_rule
        The frame rule to check against (:data:`~course_utils.sensorium.submission.SUBMISSION_FRAME_RULE`).

    Returns
    -------
    SubmissionReport
        ``report.ok``, ``report.problems`` (each with file, mouse and trial), ``print(report)``.

    Examples
    --------
    >>> report = validate_submission("submission_main.zip", get_source("sensorium2023"))  # doctest: +SKIP
    >>> report.ok                                                                          # doctest: +SKIP
    True

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    path = Path(path)
    mice = read_mice(dataset_root)
    report = SubmissionReport(path)
    members = _read_members(path, report)
    if not members and report.ok:
        report.add("empty submission: no prediction file found")
    for name, data in members:
        _check_file(name, data, mice, frame_rule, report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_utils.sensorium.validate SUBMISSION DATASET_ROOT [--t-minus 51]``."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.sensorium.validate",
                                     description="Check a Sensorium 2023 submission before uploading it.")
    parser.add_argument("submission", help="the zip (or one predictions_*.parquet.brotli file)")
    parser.add_argument("dataset_root", help="folder holding the dynamic*-Video-* mouse folders")
    parser.add_argument("--skip-last", type=int, default=SUBMISSION_FRAME_RULE.skip_last,
                        help="frames dropped at the end (0: the course's T-50 rule; 1: the top teams' T-51)")
    args = parser.parse_args(argv)
    report = validate_submission(args.submission, args.dataset_root,
                                 FrameRule(SUBMISSION_FRAME_RULE.skip_first, args.skip_last))
    print(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
