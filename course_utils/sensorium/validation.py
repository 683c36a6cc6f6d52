"""Check a Sensorium 2023 submission against a dataset folder before uploading it.

:func:`validate_submission` reports *every* problem it finds, each with its file, mouse and trial: file names
and zip layout, columns and their types, each test trial present exactly once, neuron ids, the number of
frames, and NaN/inf/null values. It accepts what the real server scored:

* the starter kit's T-50 of the first 300 frames and the winners' 249-frame T-51 (:data:`ACCEPTED_FRAME_RULES`);
* prediction rows in any order, as long as ``neuron_ids`` lists them in that order (ids of any integer type:
  the starter kit writes uint32);
* a submission holding only the scored mice (:data:`SCORED_MICE`; every mouse of a demo or unknown dataset).

A submission is read a few rows at a time, straight from the parquet columns (never as Python lists), so a
full-size file is checked in bounded memory (``benchmarks/bench_sensorium.py`` prints the peak). On the
command line::

    python -m course_utils sensorium validate submission_main.zip DATASET_ROOT
    python -m course_utils sensorium validate predictions_final_main.parquet.brotli DATASET_ROOT

exits with status 0 when the submission is valid and 1 otherwise.

Taught in chapter 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..fileio import BadFileError
from .reader import SCORED_FRAMES, SensoriumMouse, read_mice
from .submission import (
    ACCEPTED_FRAME_RULES,
    COLUMNS,
    SCORED_MICE,
    SUBMISSION_FRAME_RULE,
    TOP_TEAMS_FRAME_RULE,
    TRACK_FILES,
    FrameRule,
)

FILE_TIERS = {name: tier for track in TRACK_FILES.values() for tier, name in track.items()}
FILE_TRACK = {name: track for track, files in TRACK_FILES.items() for name in files.values()}
BATCH_BYTES = 16 << 20  # decoded prediction bytes per batch of rows (a real trial: 8,000 x 250 doubles)


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


def _members(path: Path, report: SubmissionReport, workdir: Path) -> list[tuple[str, Path]]:
    """The parquet files of a submission (a zip, extracted into ``workdir``, or one parquet file)."""
    if not path.exists():
        report.add(f"not found: {path} does not exist; check the path (and that the zip was written)")
        return []
    if not path.is_file():
        report.add(f"not a file: {path} is a folder; pass the zip (or one predictions_*.parquet.brotli file)")
        return []
    if path.suffix != ".zip":
        return [(path.name, path)]
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        report.add(f"bad zip: {path.name} is not a readable zip file")
        return []
    members = []
    with archive:
        for number, info in enumerate(archive.infolist()):
            if info.is_dir():
                continue
            name, base = info.filename, info.filename.rsplit("/", 1)[-1]
            if "/" in name:
                report.add(f"zip not flat: {name!r} is inside a folder; put the files directly in the zip "
                           "(zip -j, or arcname=file name)", file=name)
            if base.startswith("__MACOSX") or base.startswith(".") or name.startswith("__MACOSX"):
                report.add(f"stray file: {name!r} (a system file) must not be in the zip", file=name)
                continue
            target = workdir / f"{number}-{base}"  # streamed to disk: the member is never held in memory
            try:
                with archive.open(info) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
            except (zipfile.BadZipFile, OSError, EOFError) as err:
                report.add(f"bad zip: member {name!r} cannot be extracted ({err})", file=base)
                continue
            members.append((base, target))
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


def _is_str(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t)


def _check_types(schema: pa.Schema, name: str, report: SubmissionReport) -> bool:
    names = list(schema.names)
    missing = [c for c in COLUMNS if c not in names]
    extra = [c for c in names if c not in COLUMNS]
    if missing:
        report.add(f"missing columns: {missing}; the columns must be exactly {list(COLUMNS)}", file=name)
    if extra:
        hint = " (an index was written: use index=False)" if any("index" in c for c in extra) else ""
        report.add(f"extra columns: {extra}{hint}", file=name)
    if missing:
        return False
    ok = True
    if not _is_str(schema.field("mouse").type):
        report.add(f"wrong dtype: column 'mouse' is {schema.field('mouse').type}, must be str", file=name)
        ok = False
    t = schema.field("trial_indices").type
    if not pa.types.is_integer(t):
        hint = " (e.g. '1.npy' strings as in the README's toy example)" if _is_str(t) else ""
        report.add(f"wrong dtype: column 'trial_indices' is {t}{hint}, must be int (the trial's file number)", file=name)
        ok = False
    p = schema.field("prediction").type
    if not (_is_list(p) and _is_list(p.value_type) and pa.types.is_floating(p.value_type.value_type)):
        report.add(f"wrong dtype: column 'prediction' is {p}, must be a list of lists of floats "
                   "(neurons x frames; use array.tolist())", file=name)
        ok = False
    n = schema.field("neuron_ids").type
    if not (_is_list(n) and pa.types.is_integer(n.value_type)):
        report.add(f"wrong dtype: column 'neuron_ids' is {n}, must be a list of ints", file=name)
        ok = False
    return ok


def _lengths(array: pa.Array) -> np.ndarray:
    return np.asarray(array.value_lengths().fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _starts(lengths: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


class _FileCheck:
    """The row checks of one prediction file, fed a few rows at a time."""

    def __init__(self, name: str, tier: str, mice: dict[str, SensoriumMouse], rules: Sequence[FrameRule],
                 report: SubmissionReport) -> None:
        self.name, self.tier, self.mice, self.rules, self.report = name, tier, mice, tuple(rules), report
        self.expected = {(m.name, int(t)) for m in mice.values() for t in m.trials(tier)}
        self.seen: dict[tuple[str, int], int] = {}
        self.present: set[str] = set()
        self.units = {n: np.asarray(m.unit_ids, dtype=np.int64) for n, m in mice.items()}
        self.sorted_units = {n: np.sort(u) for n, u in self.units.items()}

    def add(self, message: str, mouse: str | None = None, trial: int | None = None) -> None:
        self.report.add(message, file=self.name, mouse=mouse, trial=trial)

    def row_key(self, row: int, mouse: str | None, trial: int | None) -> tuple[str, int] | None:
        """The (mouse, trial) a row predicts, or None (after reporting why) when its content is not checked."""
        if mouse is None:
            self.add(f"missing mouse name: row {row} has a null 'mouse'", trial=trial)
            return None
        if trial is None:
            self.add(f"missing trial index: row {row} has a null 'trial_indices'", mouse=mouse)
            return None
        if mouse not in self.mice:
            self.add(f"unknown mouse: {mouse!r} is not a mouse folder of the dataset", mouse=mouse, trial=trial)
            return None
        self.present.add(mouse)
        key = (mouse, trial)
        self.seen[key] = self.seen.get(key, 0) + 1
        if self.seen[key] == 2:
            self.add("duplicate trial: this trial appears more than once", mouse=mouse, trial=trial)
        if self.seen[key] > 1:
            return None
        if key not in self.expected:
            m = self.mice[mouse]
            actual = m.tiers[trial] if 0 <= trial < m.n_trials else "no such trial"
            self.add(f"wrong trial: it is not a {self.tier} trial (its tier: {actual})", mouse=mouse, trial=trial)
            return None
        return key

    def check_ids(self, mouse: str, trial: int, ids: pa.Array | None) -> None:
        units = self.units[mouse]
        if ids is None:
            self.add("neuron ids: the row has no neuron_ids (null); list the mouse's unit_ids", mouse, trial)
            return
        if ids.null_count:
            self.add(f"neuron ids: {ids.null_count} null id(s) in neuron_ids; every id must be an integer of "
                     "unit_ids.npy", mouse, trial)
            return
        given = np.asarray(ids.to_numpy(zero_copy_only=False)).astype(np.int64)
        if len(given) != len(units):
            self.add(f"neuron ids: {len(given)} given, the mouse has {len(units)} neurons", mouse, trial)
        elif not np.array_equal(given, units):  # another order is fine if it is the same set of ids
            ordered = np.sort(given)
            if not np.array_equal(ordered, self.sorted_units[mouse]):
                repeated = int(np.count_nonzero(np.diff(ordered) == 0))
                unknown = int(np.count_nonzero(~np.isin(given, units)))
                what = f"{unknown} ids are not in unit_ids.npy" if unknown else f"{repeated} ids appear twice"
                self.add(f"neuron ids: {what}", mouse, trial)

    def check_batch(self, keys: list[tuple[str, int] | None], batch: pa.RecordBatch) -> None:
        pred, ids = batch.column(0), batch.column(1)
        neurons_per_row = _lengths(pred)
        inner = pred.flatten()
        frames_per_neuron = _lengths(inner)
        values = inner.flatten()
        null_values = values.null_count
        numbers = np.asarray(values.to_numpy(zero_copy_only=False))  # zero-copy unless there are nulls
        row_start, value_start = _starts(neurons_per_row), _starts(frames_per_neuron)
        id_null = np.asarray(ids.is_null().to_numpy(zero_copy_only=False))
        for r, key in enumerate(keys):
            if key is None:
                continue
            mouse, trial = key
            self.check_ids(mouse, trial, None if id_null[r] else ids[r].values)
            n_units = len(self.units[mouse])
            if neurons_per_row[r] != n_units:
                self.add(f"neuron count: prediction has {neurons_per_row[r]} rows, the mouse has {n_units} neurons",
                         mouse, trial)
            frames = frames_per_neuron[row_start[r] : row_start[r + 1]]
            self.check_frames(mouse, trial, frames)
            chunk = numbers[value_start[row_start[r]] : value_start[row_start[r + 1]]]
            bad = int(chunk.size - np.count_nonzero(np.isfinite(chunk)))
            if bad:
                nulls = " (some are nulls)" if null_values else ""
                self.add(f"non-finite values: {bad} NaN/inf values in the prediction{nulls}", mouse, trial)

    def check_frames(self, mouse: str, trial: int, frames: np.ndarray) -> None:
        if not frames.size:
            return
        trial_frames = int(self.mice[mouse].trial_lengths[trial])
        accepted = sorted({rule.n_frames(trial_frames) for rule in self.rules})
        got = sorted(set(frames.tolist())) if frames.min() != frames.max() else [int(frames[0])]
        if len(got) == 1 and got[0] in accepted:
            return
        rules = " or ".join(f"{rule.n_frames(trial_frames)} ({rule})" for rule in self.rules)
        hint = ""
        if len(got) > 1:
            hint = "; the neurons of one trial must all have the same number of frames"
        elif got == [TOP_TEAMS_FRAME_RULE.n_frames(trial_frames)] and TOP_TEAMS_FRAME_RULE not in self.rules:
            hint = f"; that is the winners' {TOP_TEAMS_FRAME_RULE} rule"
        elif got == [SUBMISSION_FRAME_RULE.n_frames(trial_frames)] and SUBMISSION_FRAME_RULE not in self.rules:
            hint = f"; that is the starter kit's {SUBMISSION_FRAME_RULE} rule"
        elif got == [trial_frames]:
            hint = "; that is the whole trial: drop the first 50 frames"
        elif trial_frames > SCORED_FRAMES and got == [trial_frames - 50]:
            hint = f"; only the first {SCORED_FRAMES} frames count: cut the prediction there"
        shown = got if len(got) <= 4 else [got[0], "...", got[-1]]
        self.add(f"frame count: {shown} frames per neuron, expected {rules} for a trial of {trial_frames} frames "
                 f"(from frame 50, of the first {SCORED_FRAMES}){hint}", mouse, trial)

    def finish(self, scored: Collection[str]) -> None:
        missing: dict[str, list[int]] = {}
        for mouse, trial in sorted(self.expected - set(self.seen)):
            missing.setdefault(mouse, []).append(trial)
        for mouse, trials in missing.items():
            if mouse in self.present:
                for trial in trials:
                    self.add(f"missing trial: this {self.tier} trial has no row", mouse, trial)
            elif mouse in scored:
                self.add(f"missing mouse: no rows for this scored mouse (it has {len(trials)} {self.tier} trials)",
                         mouse)


def _batch_rows(meta: pq.FileMetaData) -> int:
    """Rows per batch so that a batch decodes to about BATCH_BYTES, from the leaf-value counts in the footer.

    The footer's byte sizes are of encoded data (a constant prediction compresses 12 M values into 2 kB), so
    the count of values is used: each decodes to 8 bytes plus two 2-byte list levels.
    """
    values = sum(rg.column(j).num_values for rg in (meta.row_group(i) for i in range(meta.num_row_groups))
                 for j in range(rg.num_columns) if rg.column(j).path_in_schema.startswith("prediction"))
    per_row = 12.0 * values / max(meta.num_rows, 1)
    return int(min(max(BATCH_BYTES // max(per_row, 1.0), 1), 4096))


def _check_file(name: str, file: Path, mice: dict[str, SensoriumMouse], rules: Sequence[FrameRule],
                scored: Collection[str], report: SubmissionReport) -> None:
    if name not in FILE_TIERS:
        report.add(f"wrong file name: {name!r}; the names are {sorted(FILE_TIERS)}", file=name)
        return
    report.files.append(name)
    try:
        # buffered reads, no pre-buffering: memory stays at a batch of rows, whatever the file's size
        parquet = pq.ParquetFile(file, buffer_size=1 << 20, pre_buffer=False)
        schema = parquet.schema_arrow
    except (pa.ArrowInvalid, OSError) as err:
        report.add(f"not parquet: the file cannot be read as parquet ({err})", file=name)
        return
    meta = parquet.metadata
    if meta.num_row_groups and meta.num_columns:
        codec = meta.row_group(0).column(0).compression
        if codec.upper() != "BROTLI":
            report.add(f"wrong compression: {codec}; write with compression='brotli'", file=name)
    report.rows += meta.num_rows
    if not _check_types(schema, name, report):
        return
    check = _FileCheck(name, FILE_TIERS[name], mice, rules, report)
    try:
        keys_table = parquet.read(columns=["mouse", "trial_indices"])  # one string and one int per row
        mouse_col = keys_table.column("mouse").to_pylist()
        trial_col = keys_table.column("trial_indices").to_pylist()
        batch_rows = _batch_rows(meta)
        row = 0
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=["prediction", "neuron_ids"]):
            keys = [check.row_key(row + r, mouse_col[row + r], trial_col[row + r]) for r in range(batch.num_rows)]
            check.check_batch(keys, batch)
            row += batch.num_rows
    except (pa.ArrowInvalid, OSError) as err:
        report.add(f"not parquet: the file is damaged or truncated ({err})", file=name)
        return
    check.finish(scored)


def validate_submission(
    path: str | Path,
    dataset_root: str | Path,
    frame_rule: FrameRule | Sequence[FrameRule] | None = None,
    scored_mice: Collection[str] | None = None,
) -> SubmissionReport:
    """Check a submission zip (or one parquet file) against the dataset; every problem is reported.

    Parameters
    ----------
    path
        ``submission_main.zip`` / a bonus zip / a single ``predictions_*.parquet.brotli`` file.
    dataset_root
        The folder holding the ``dynamic*`` mouse folders the predictions are for.
    frame_rule
        The frame rule(s) to accept; by default :data:`~course_utils.sensorium.submission.ACCEPTED_FRAME_RULES`
        (T-50 and the winners' T-51, both of the first 300 frames, both scored by the server).
    scored_mice
        The mice a submission must cover; others may be left out (if present, they are checked like the rest).
        By default the competition's :data:`~course_utils.sensorium.submission.SCORED_MICE` that the dataset
        holds, or every mouse of a dataset that holds none of them (the demo).

    Returns
    -------
    SubmissionReport
        ``report.ok``, ``report.problems`` (each with file, mouse and trial), ``print(report)``. A missing
        submission, a wrong dataset folder or a damaged file are problems in the report, never a traceback.

    Examples
    --------
    >>> report = validate_submission("submission_main.zip", get_source("sensorium2023"))  # doctest: +SKIP
    >>> report.ok                                                                          # doctest: +SKIP
    True

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    path = Path(path)
    rules = ACCEPTED_FRAME_RULES if frame_rule is None else (
        (frame_rule,) if isinstance(frame_rule, FrameRule) else tuple(frame_rule))
    report = SubmissionReport(path)
    try:
        mice = read_mice(dataset_root, cache_bytes=0)
    except (FileNotFoundError, BadFileError) as err:
        report.add(f"dataset: {err}")
        mice = None
    if scored_mice is None:
        known = [] if mice is None else [m for m in SCORED_MICE if m in mice]
        scored = set(known) if known else set(mice or ())
    else:
        scored = {str(m) for m in scored_mice}
        unknown = sorted(scored - set(mice or ()))
        if mice is not None and unknown:
            report.add(f"scored mice: {unknown} are not mouse folders of the dataset {dataset_root}")
    with tempfile.TemporaryDirectory(prefix="sensorium_submission_") as workdir:
        members = _members(path, report, Path(workdir))
        if not members and report.ok:
            report.add("empty submission: no prediction file found")
        if mice is None:
            return report
        for name, file in members:
            try:
                _check_file(name, file, mice, rules, scored, report)
            except (FileNotFoundError, BadFileError) as err:  # a damaged mouse folder the check needed
                report.add(f"dataset: {err}", file=name)
    return report
