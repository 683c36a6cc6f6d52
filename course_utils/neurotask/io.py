"""Read NeuroTask files (parquet from Kaggle, NWB from DANDI) into one table schema, in batches.

Every loader returns ``(df, bin_ms)``: one row per time bin, in file order (animal, session, trial), in the
schema of :mod:`course_utils.neurotask.schema` (neurons, ids, covariates, events; counts float32 by default,
angles in radians as in the files).

Real sizes decide the design: a 1 ms Maze parquet holds up to 8.3 million rows x ~200 neurons and the CO-bump
NWB file ~0.77 million bins x 167 units. Both loaders therefore

* read in **batches** (pyarrow record batches of the row groups; HDF5 slices of the NWB datasets) into
  arrays allocated once at their final size, so the peak memory stays close to the returned frame;
* accept ``columns=`` (read only those, plus the ids) and ``bin_ms=`` (**rebin while reading**, with the
  rules and the per-trial bins of :func:`~course_utils.neurotask.preprocess.rebin`): the 8.3 M-row Maze
  session rebinned to 20 ms fits in a few hundred MB;
* check the file before reading it: a file that is not parquet/NWB, is cut short, has text where counts or
  kinematics should be, or lacks the NeuroTask ids gets a :class:`~course_utils.fileio.BadFileError` that
  names the file, says what it has, and what to do.

Differences from upstream's ``api_neurotask.py`` (same names, defects fixed):

* :func:`load_and_filter_parquet` parses the bin size from the *file name*; upstream split the whole path on
  ``_`` and returned a wrong bin (or crashed) whenever a folder name contained ``_``;
* :func:`load_nwb` replaces upstream's ``get_dataframe``: it uses the **same** ``exclude`` convention as the
  parquet loader (upstream's NWB loader *kept* the listed codes, ``[b'R']``, the opposite convention), returns
  1-based ``Neuron`` columns (upstream: ``Neuron0..``), ``result`` as str (not bytes) and adds the ``task``
  column; both loaders return the same column order and dtypes, so code written for one runs on the other.

Taught in chapter 01_neurotask_loading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..fileio import BadFileError
from .preprocess import bin_ratio, bin_segments, frame_from_columns, reduce_segments
from .schema import (
    ID_COLUMNS,
    INTEGER_IDS,
    NEURON_PREFIX,
    RESULT_CODES,
    as_text,
    bad_dtype,
    canonical_order,
    column_kind,
    is_neuron,
    normalise_values,
    reduce_rule,
)

__all__ = ["file_columns", "load_and_filter_parquet", "load_file", "load_nwb", "parse_bin_ms"]

# Task labels the course uses for the NeuroTask dandisets (the NWB files have no task column). 001056's is
# the parquet file's own label; the others are ours.
DANDISET_TASKS = {
    "001055": "RandomTarget",
    "001056": "CenterOut_Bump",
    "001057": "CenterOut",
    "001058": "TwoWorkspace",
    "001059": "KeyGrasp",
    "001060": "IsometricWrist",
}
TRIAL_ID_COLUMNS = ("datasetID", "animal", "session", "trial_id")
# Values per batch: the readers' transient memory is a few times this (pyarrow's decoded pages, the batch's
# arrays, the rebin of its trials); 8 MB keeps it small beside the frame and costs ~20 % in speed vs 32 MB.
BATCH_BYTES = 8_000_000
_FILE_NAME = re.compile(r"^(?P<dataset>\d+)_(?P<bin>\d+(?:\.\d+)?)_(?P<name>[^_]+)_(?P<task>.+)$")
_COUNTS = "__counts__"
_REFETCH = (
    "Download it again: the course's copy with `python -m course_utils data clean neurotask --mode sample` then "
    "`python -m course_utils data fetch neurotask --mode sample` (`--mode demo` regenerates the demo files); "
    "your own copy from Kaggle or DANDI."
)


# ----------------------------------------------------------------------------------------- names and codes


def parse_bin_ms(path: str | Path) -> float:
    """Bin size in ms from a NeuroTask parquet file name ``{datasetID}_{bin_ms}_{Name}_{Task}.parquet``.

    Only the file name is read, so folders with ``_`` in their names are harmless (upstream split the
    whole path and broke on them).

    Parameters
    ----------
    path
        The file's path.

    Returns
    -------
    float
        The bin size in milliseconds.

    Raises
    ------
    ValueError
        The name does not follow the pattern (the message shows it).

    Examples
    --------
    >>> parse_bin_ms("my_data/2_10_Chowdhury_CObump.parquet")
    10.0

    Taught in chapter 01_neurotask_loading.
    """
    stem = Path(path).name
    if stem.endswith(".parquet"):
        stem = stem[: -len(".parquet")]
    match = _FILE_NAME.match(stem)
    if match is None or float(match["bin"]) <= 0:
        raise ValueError(
            f"Cannot read the bin size from the file name {Path(path).name!r}: NeuroTask files are named "
            "'{datasetID}_{bin_ms}_{Name}_{Task}.parquet', e.g. '2_10_Chowdhury_CObump.parquet'. "
            "Rename the file to follow that pattern."
        )
    return float(match["bin"])


def _check_exclude(exclude: Iterable[str] | None, argument: str = "exclude") -> list[str]:
    if exclude is None:
        return []
    if isinstance(exclude, bytes):
        exclude = exclude.decode()
    letters = [x.decode() if isinstance(x, bytes) else str(x) for x in exclude]
    unknown = sorted(set(letters) - set(RESULT_CODES))
    if unknown:
        raise ValueError(
            f"{argument}={exclude!r} contains unknown result codes {unknown}; NeuroTask's codes are "
            f"{RESULT_CODES}. Pass the codes to DROP, e.g. exclude=('A', 'I', 'F') keeps rewarded trials."
        )
    return letters


def _sniff(path: Path) -> str:
    """What a file that failed to open looks like, for the error message."""
    size = path.stat().st_size
    if size == 0:
        return "it is empty (0 bytes)"
    with open(path, "rb") as f:
        head = f.read(64)
        f.seek(max(0, size - 4))
        tail = f.read(4)
    if head.startswith(b"PAR1"):
        return f"it starts like a parquet file but its {size:,} bytes end without the parquet footer (cut short?)"
    if head.startswith(b"\x89HDF"):
        return f"it is an HDF5 file of {size:,} bytes"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"it holds {size:,} bytes of other binary data (starting {head[:8]!r}, ending {tail!r})"
    first = text.splitlines()[0][:40] if text.strip() else text[:40]
    kind = "a CSV table" if "," in first else "text"
    return f"it looks like {kind} ({size:,} bytes, starting {first!r})"


# ----------------------------------------------------------------------------------------- readers


class _ParquetReader:
    """Column names, dtype kinds and row batches of a parquet file (pyarrow record batches)."""

    def __init__(self, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = path
        try:
            self.file = pq.ParquetFile(path)
            schema = self.file.schema_arrow
        except (pa.ArrowException, OSError) as err:
            raise BadFileError(
                path,
                f"is not a readable parquet file: {_sniff(path)} ({type(err).__name__}: {err}).",
                "NeuroTask's parquet files come from Kaggle (see data_manifest.yaml's full mode). If you have "
                f"a CSV, convert it: pd.read_csv(csv).to_parquet(path). Otherwise: {_REFETCH}",
            ) from err
        self.n_rows = self.file.metadata.num_rows
        self.names = [str(n) for n in schema.names]
        self.column_group = 16  # columns per pass (see _read): 32 measured ~1.4-1.5x the frame, 16 ~1.2x, same speed
        self.kinds = {str(f.name): _arrow_kind(f.type) for f in schema}

    def batches(self, names: list[str], batch_rows: int) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        import pyarrow as pa

        neurons = [n for n in names if is_neuron(n)]
        others = [n for n in names if not is_neuron(n)]
        start = 0
        try:
            for batch in self.file.iter_batches(batch_size=batch_rows, columns=neurons + others, use_threads=True):
                n = batch.num_rows
                out = {name: _arrow_to_numpy(batch.column(name)) for name in others}
                if neurons:
                    block = np.empty((len(neurons), n), dtype=self.counts_dtype)
                    for j, name in enumerate(neurons):
                        block[j] = _arrow_to_numpy(batch.column(name))
                    out[_COUNTS] = block
                yield start, out
                start += n
        except (pa.ArrowException, OSError) as err:
            raise BadFileError(
                self.path,
                f"could not be read past row {start:,} of {self.n_rows:,} ({type(err).__name__}: {err}); "
                "the file is damaged or cut short.",
                _REFETCH,
            ) from err


def _arrow_kind(arrow_type) -> str:
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        return _arrow_kind(arrow_type.value_type)
    if pa.types.is_boolean(arrow_type):
        return "b"
    if pa.types.is_unsigned_integer(arrow_type):
        return "u"
    if pa.types.is_integer(arrow_type):
        return "i"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type) or pa.types.is_null(arrow_type):
        return "f"
    return "O"


def _arrow_to_numpy(column) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        return _arrow_to_numpy(column.dictionary_decode())
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) or pa.types.is_binary(column.type):
        # few distinct values (result, task): decode each once and gather
        encoded = column.dictionary_encode()
        values = np.asarray(encoded.dictionary.to_pylist() + [None], dtype=object)
        codes = encoded.indices.fill_null(len(values) - 1).to_numpy(zero_copy_only=False)
        return values[codes]
    if column.null_count:
        if pa.types.is_boolean(column.type):
            column = pc.fill_null(column, False)
        else:
            column = column.cast(pa.float64())
    return column.to_numpy(zero_copy_only=False)


class _NwbReader:
    """Series names, dtype kinds and row slices of a NeuroTask NWB file (h5py datasets through pynwb)."""

    def __init__(self, path: Path) -> None:
        from pynwb import NWBHDF5IO

        self.path = path
        try:
            self.io = NWBHDF5IO(str(path), "r")
            self.nwbfile = self.io.read()
        except Exception as err:  # h5py, hdmf and pynwb raise many types for a file that is not NWB
            if hasattr(self, "io"):
                self.io.close()
            raise BadFileError(
                path,
                f"is not a readable NWB file: {_sniff(path)} ({type(err).__name__}: {err}).",
                f"NeuroTask's NWB files come from DANDI (dandisets 001055-001060). {_REFETCH}",
            ) from err
        modules = self.nwbfile.processing
        if "spikes" not in modules or "spikes_counts" not in modules["spikes"].data_interfaces:
            self.close()
            raise BadFileError(
                path,
                "is an NWB file but not in the NeuroTask layout: it has no processing module 'spikes' with a "
                f"'spikes_counts' series (its modules: {sorted(modules)}).",
                "NeuroTask's NWB files (DANDI 001055-001060) have the modules behavior, events, indices and "
                "spikes; open other NWB files with pynwb directly.",
            )
        spikes = modules["spikes"]["spikes_counts"]
        if not spikes.rate:
            self.close()
            raise BadFileError(path, "spikes_counts has no sampling rate, so the bin size is unknown.",
                               "NeuroTask files store the bin as the series' rate (bin_ms = 1000 / rate).")
        self.bin_ms = float(np.round(1000.0 / spikes.rate, 9))
        self.counts = spikes.data
        shape = self.counts.shape
        self.n_rows = shape[0]
        n_units = shape[1] if len(shape) > 1 else 1
        self.datasets: dict[str, tuple] = {}
        for module_name in modules:
            if module_name == "spikes":
                continue
            for ts in _series_in(modules[module_name]):
                data = ts.data
                if data.shape[0] != self.n_rows:
                    self.close()
                    raise BadFileError(
                        path,
                        f"series {module_name}/{ts.name} has {data.shape[0]:,} rows but spikes_counts has "
                        f"{self.n_rows:,}: it is not one NeuroTask table.",
                        _REFETCH,
                    )
                if len(data.shape) == 2:
                    for j in range(data.shape[1]):
                        self.datasets[f"{ts.name}_{j}"] = (data, j)
                else:
                    self.datasets[ts.name] = (data, None)
        self.neuron_names = [f"{NEURON_PREFIX}{j + 1}" for j in range(n_units)]
        self.names = self.neuron_names + list(self.datasets)
        kinds = {name: _h5_kind(data.dtype) for name, (data, _) in self.datasets.items()}
        self.kinds = {**dict.fromkeys(self.neuron_names, _h5_kind(self.counts.dtype)), **kinds}
        self.chunk_rows = (self.counts.chunks or (1,))[0] if hasattr(self.counts, "chunks") else 1
        self.column_group = None  # one pass: an HDF5 chunk holds every unit, re-reading it per group is slow

    def close(self) -> None:
        self.io.close()

    def batches(self, names: list[str], batch_rows: int) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        neurons = [int(n[len(NEURON_PREFIX):]) - 1 for n in names if is_neuron(n)]
        others = [n for n in names if not is_neuron(n)]
        all_units = neurons == list(range(len(self.neuron_names)))
        batch_rows = max(1, round(batch_rows / self.chunk_rows)) * self.chunk_rows  # whole HDF5 chunks
        buffer = None
        if neurons and hasattr(self.counts, "read_direct") and len(self.counts.shape) == 2:
            buffer = np.empty((min(batch_rows, self.n_rows), self.counts.shape[1]), dtype=self.counts.dtype)
        for start in range(0, self.n_rows, batch_rows):
            stop = min(start + batch_rows, self.n_rows)
            try:
                out = {}
                for name in others:
                    data, column = self.datasets[name]
                    values = np.asarray(data[start:stop] if column is None else data[start:stop, column])
                    out[name] = as_text(values) if values.dtype.kind in "SO" else values  # result: b'R
                if neurons:
                    if buffer is not None:  # into one reused buffer: no new array per slice
                        self.counts.read_direct(buffer, np.s_[start:stop], np.s_[0 : stop - start])
                        raw = buffer[: stop - start]
                    else:
                        raw = np.asarray(self.counts[start:stop])
                        raw = raw[:, None] if raw.ndim == 1 else raw
                    out[_COUNTS] = np.ascontiguousarray((raw if all_units else raw[:, neurons]).T, dtype=self.counts_dtype)
            except OSError as err:
                raise BadFileError(
                    self.path,
                    f"could not be read at rows {start:,}-{stop:,} of {self.n_rows:,} ({err}); the file is "
                    "damaged or cut short.",
                    _REFETCH,
                ) from err
            yield start, out


def _h5_kind(dtype) -> str:
    kind = np.dtype(dtype).kind
    return "O" if kind in "SUO" else kind


def _series_in(container) -> list:
    """TimeSeries inside a processing module, also inside containers such as BehavioralTimeSeries."""
    found = []
    for obj in container.data_interfaces.values():
        if hasattr(obj, "data") and hasattr(obj, "rate"):
            found.append(obj)
        else:
            for attr in ("time_series", "spatial_series"):
                inner = getattr(obj, attr, None)
                if isinstance(inner, dict):
                    found.extend(inner.values())
    return found


# ----------------------------------------------------------------------------------------- the reading loop


def _select(reader, columns: Iterable[str] | None, letters: list[str]) -> list[str]:
    """The columns to read (ids always), after checking they exist and have usable dtypes."""
    path, names = reader.path, reader.names
    missing_ids = [c for c in ("animal", "session", "trial_id") if c not in names]
    if missing_ids:
        raise BadFileError(
            path,
            f"is not a NeuroTask table: it lacks the id column(s) {missing_ids} (it has {len(names)} columns, "
            f"e.g. {names[:8]}).",
            "NeuroTask files have one row per bin with animal, session and trial_id; "
            "check that this is a NeuroTask file.",
        )
    if letters and "result" not in names:
        raise ValueError(f"{path.name} has no 'result' column, so exclude={letters} cannot be applied; pass exclude=None.")
    if columns is None:
        wanted = list(names)
    else:
        columns = [columns] if isinstance(columns, str) else list(columns)
        unknown = [c for c in columns if c not in names]
        if unknown:
            others = [c for c in names if not is_neuron(c)]
            raise ValueError(
                f"{path.name} has no column(s) {unknown}. It has Neuron1..Neuron{sum(map(is_neuron, names))} and "
                f"{others}. Pick names from file_columns(path)."
            )
        ids = [c for c in ID_COLUMNS if c in names and c not in columns]
        wanted = list(dict.fromkeys(ids + columns))
    bad = [f"{c} ({reader.kinds[c]!r}: {why})" for c in wanted if (why := bad_dtype(c, reader.kinds[c]))]
    if bad:
        raise BadFileError(
            path,
            f"has column(s) of the wrong type: {', '.join(bad[:6])}{' ...' if len(bad) > 6 else ''} "
            "('O' = text). Rebinning or decoding them would give garbage.",
            "The file was probably written from a table whose numbers were text (e.g. a CSV read without "
            "dtypes): convert them (df[cols] = df[cols].apply(pd.to_numeric)) and write the file again, or "
            "download the original.",
        )
    return wanted


def _trial_structure(reader, letters: list[str], batch_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First pass over the ids only: rows kept by ``exclude``, and where each kept trial starts and ends."""
    path = reader.path
    keys = [c for c in TRIAL_ID_COLUMNS if c in reader.names]
    keep = np.ones(reader.n_rows, dtype=bool)
    starts, start_keys, previous, n_kept = [], [], None, 0
    for start, arrays in reader.batches(keys + (["result"] if letters else []), batch_rows):
        n = len(arrays[keys[0]])
        if letters:
            mask = ~pd.Series(arrays["result"], dtype=object).isin(letters).to_numpy()
            keep[start : start + n] = mask
        values = [np.asarray(arrays[k], dtype=np.float64) for k in keys]
        if letters and not mask.all():
            values = [v[mask] for v in values]
        m = len(values[0])
        if m == 0:
            continue
        for key, v in zip(keys, values, strict=True):
            if np.isnan(v).any():
                row = start + int(np.flatnonzero(np.isnan(v))[0])
                raise BadFileError(path, f"has NaN in its id column {key!r} (first at row {row:,}).",
                                   f"Every row needs its trial ids. {_REFETCH}")
        change = np.zeros(m, dtype=bool)
        change[0] = previous is None or any(v[0] != p for v, p in zip(values, previous, strict=True))
        for v in values:
            change[1:] |= v[1:] != v[:-1]
        starts.append(np.flatnonzero(change) + n_kept)
        start_keys.append(np.column_stack([v[change] for v in values]))
        previous = [v[-1] for v in values]
        n_kept += m
    if n_kept == 0:
        raise ValueError(f"{path.name}: no rows left after exclude={letters}; pass exclude=None to keep all.")
    starts = np.concatenate(starts)
    first_keys = np.concatenate(start_keys)
    if len(np.unique(first_keys, axis=0)) != len(first_keys):
        _, index, counts = np.unique(first_keys, axis=0, return_index=True, return_counts=True)
        twice = dict(zip(keys, first_keys[index[counts > 1][0]], strict=True))
        raise BadFileError(
            path,
            f"has the rows of trial {twice} in more than one place: a trial's rows must be consecutive.",
            "The file was written from a shuffled or wrongly concatenated table: sort it by "
            f"{keys} (kind='stable') and write it again.",
        )
    ends = np.append(starts[1:], n_kept)
    return keep, starts, ends


def _batch_rows(n_columns: int, batch_rows: int | None) -> int:
    return int(batch_rows) if batch_rows else max(4096, BATCH_BYTES // (8 * max(n_columns, 1)))


def _fill(reader, names, out_dtype, keep, starts, ends, k, block, out, rows_per_batch) -> int:
    """One pass over the file for ``names``: filter, normalise and (with ``k``) rebin each batch into place.

    ``block`` receives the neurons of ``names`` (in order), ``out`` the other columns; returns the rows written.
    """
    neurons = [c for c in names if is_neuron(c)]
    others = [c for c in names if not is_neuron(c)]
    # columns reduced together when rebinning: one 2-D array per rule (the readers give text as str already)
    by_rule = {rule: [c for c in others if reduce_rule(c, out_dtype[c]) == rule] for rule in ("mean", "any", "first")}
    written, kept_seen, pending_rows = 0, 0, 0
    pending: dict[str, np.ndarray] | None = None
    for start, arrays in reader.batches(names, rows_per_batch):
        n = len(arrays[others[0]]) if others else arrays[_COUNTS].shape[1]
        mask = keep[start : start + n]
        subset = not mask.all()
        batch = {}
        for c in others:
            values = arrays[c][mask] if subset else arrays[c]
            batch[c] = values if out_dtype[c].kind == "O" else normalise_values(c, values)
        if neurons:
            batch[_COUNTS] = arrays[_COUNTS][:, mask] if subset else arrays[_COUNTS]
        del arrays
        m = int(mask.sum())
        if k is None:
            for c in others:
                out[c][written : written + m] = batch[c]
            if neurons:
                block[:, written : written + m] = batch[_COUNTS]
            written += m
            continue
        # Rebin while reading: whole trials only; the last (maybe unfinished) trial waits for the next batch.
        if pending is not None and pending_rows:
            batch = {c: np.concatenate([pending[c], batch[c]], axis=-1) for c in batch}
        first = kept_seen - pending_rows
        last = kept_seen + m
        kept_seen = last
        t0 = np.searchsorted(starts, first)
        t1 = np.searchsorted(ends, last, side="right")
        cut = int(ends[t1 - 1] - first) if t1 > t0 else 0
        if cut:
            seg_start, seg_len = bin_segments(starts[t0:t1] - first, ends[t0:t1] - first, k)
            done = slice(written, written + len(seg_start))
            if neurons:
                block[:, done] = reduce_segments(batch[_COUNTS][:, :cut], seg_start, seg_len, k, "sum")
            for rule, columns in by_rule.items():
                if columns:
                    values = np.stack([batch[c][:cut] for c in columns])
                    for c, reduced in zip(columns, reduce_segments(values, seg_start, seg_len, k, rule), strict=True):
                        out[c][done] = reduced
            written = done.stop
        pending = {c: v[..., cut:] for c, v in batch.items()}
        pending_rows = last - first - cut
    return written


def _read(
    reader,
    exclude: Iterable[str] | None,
    columns: Iterable[str] | None,
    file_bin_ms: float,
    bin_ms: float | None,
    counts_dtype,
    batch_rows: int | None,
    constants: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, float]:
    letters = _check_exclude(exclude)
    wanted = _select(reader, columns, letters)
    reader.counts_dtype = np.dtype(counts_dtype)
    if reader.counts_dtype.kind != "f":
        raise ValueError(f"counts_dtype={counts_dtype!r} must be a floating type (NaN marks absent units).")
    k = None if bin_ms is None else bin_ratio(file_bin_ms, bin_ms)
    keep, starts, ends = _trial_structure(reader, letters, _batch_rows(5, batch_rows))
    n_kept = int(ends[-1])
    if k is None:
        n_out = n_kept
    else:
        n_out = int(((ends - starts) // k).sum())
        if n_out == 0:
            raise ValueError(f"{reader.path.name}: every trial is shorter than {k} bins, nothing is left at {bin_ms} ms.")

    neurons = [c for c in wanted if is_neuron(c)]
    others = [c for c in wanted if not is_neuron(c)]
    out_dtype = {c: _schema_dtype(c, reader.kinds[c]) for c in others}
    block = np.empty((len(neurons), n_out), dtype=reader.counts_dtype)
    out = {c: np.empty(n_out, dtype=out_dtype[c]) for c in others}
    # Columns in groups: a parquet reader holds a decoded page per column it reads, so reading a few dozen
    # columns at a time (every group a pass over the file) keeps that memory small for 200-unit files.
    size = reader.column_group or len(neurons) or 1
    groups = [neurons[i : i + size] for i in range(0, len(neurons), size)] or [[]]
    for g, group in enumerate(groups):
        rows = slice(neurons.index(group[0]), neurons.index(group[0]) + len(group)) if group else slice(0, 0)
        names = group + (others if g == 0 else [])
        written = _fill(reader, names, out_dtype, keep, starts, ends, k, block[rows], out,
                        _batch_rows(len(names), batch_rows))
        if written != n_out:  # the first pass and this one disagree: the file changed while we read it
            raise BadFileError(reader.path, f"gave {written:,} rows where {n_out:,} were expected.", _REFETCH)

    for name, value in (constants or {}).items():
        others.append(name)
        out[name] = np.full(n_out, value, dtype=object)
    order = canonical_order(neurons + others)
    df = frame_from_columns(order, neurons, block, out, insert=True)  # no copy of millions of rows
    out_bin = float(bin_ms if k is not None else file_bin_ms)
    df.attrs.update(source=reader.path.name, bin_ms=out_bin)
    return df, out_bin


def _schema_dtype(name: str, kind: str) -> np.dtype:
    """The dtype a column gets in the schema (see :func:`~course_utils.neurotask.schema.normalise_values`)."""
    if name in ("result", "task"):
        return np.dtype(object)
    if name in INTEGER_IDS:
        return np.dtype(np.int64)
    if column_kind(name) == "id":
        return np.dtype(np.float64)
    if column_kind(name) == "event":
        return np.dtype(bool)
    return np.dtype(np.float64) if kind in "biuf" else np.dtype(object)


# ----------------------------------------------------------------------------------------- public loaders


def load_and_filter_parquet(
    path: str | Path,
    exclude: Iterable[str] | None = ("A", "I", "F"),
    columns: Iterable[str] | None = None,
    bin_ms: float | None = None,
    *,
    counts_dtype=np.float32,
    batch_rows: int | None = None,
) -> tuple[pd.DataFrame, float]:
    """Load a NeuroTask parquet file, dropping trials whose ``result`` is in ``exclude``.

    The file is read in record batches into arrays allocated once, so the peak memory is close to the
    frame returned; with ``bin_ms`` each batch is rebinned as it arrives, so a 1 ms file never exists at
    1 ms resolution in memory.

    Parameters
    ----------
    path
        A file named ``{datasetID}_{bin_ms}_{Name}_{Task}.parquet``.
    exclude
        Result codes to drop (``A`` aborted, ``I`` incomplete, ``F`` failed, ``R`` rewarded); default keeps
        rewarded trials only. ``None`` or ``()`` keeps everything. Same convention as :func:`load_nwb`.
    columns
        Read only these columns; the ids (``datasetID``, ``animal``, ``session``, ``trial_id``, ``task``,
        ``result``) are always read, because rebinning, aligning and splitting need them. Default: all.
    bin_ms
        Rebin to this bin size (ms) while reading, exactly as
        :func:`~course_utils.neurotask.preprocess.rebin` with ``drop_partial=True`` would; a multiple of the
        file's bin. Default: the file's bin.
    counts_dtype
        Floating dtype of the spike counts (the files mix uint8 and float64 columns; float32 holds every
        count exactly, NaN for absent units, in half the memory of float64).
    batch_rows
        Rows per batch (default: about 32 MB of values).

    Returns
    -------
    df : pandas.DataFrame
        One row per time bin in the schema of :mod:`course_utils.neurotask.schema` (neurons, ids,
        covariates, events, whatever the file's column order); ``df.attrs`` holds ``source`` (the file name)
        and ``bin_ms``.
    bin_ms : float
        The bin size of ``df`` in ms: ``bin_ms`` if given, else the one in the file *name* (upstream parsed
        the whole path).

    Raises
    ------
    FileNotFoundError
        No such file.
    BadFileError
        Not a parquet file (empty, text, cut short), not a NeuroTask table, or text where numbers belong.
    ValueError
        The name does not give the bin size, ``exclude`` holds an unknown code, a column is missing,
        ``bin_ms`` is not a multiple of the file's bin, or nothing is left.

    Examples
    --------
    >>> df, bin_ms = load_and_filter_parquet(folder / "2_10_Simulated_CObump.parquet")  # doctest: +SKIP
    >>> bin_ms, set(df["result"])                                                        # doctest: +SKIP
    (10.0, {'R'})
    >>> maze, bin_ms = load_and_filter_parquet(folder / "6_1_Simulated_Maze.parquet", bin_ms=20)  # doctest: +SKIP

    Taught in chapter 01_neurotask_loading.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No NeuroTask parquet file at {path}. Check the path (get_source('neurotask'))."
        )
    file_bin_ms = parse_bin_ms(path)
    reader = _ParquetReader(path)
    if reader.n_rows == 0:
        raise BadFileError(path, "is a parquet file with no rows.", _REFETCH)
    return _read(reader, exclude, columns, file_bin_ms, bin_ms, counts_dtype, batch_rows)


def _infer_task(path: Path, nwbfile) -> str:
    for part in path.parts:
        if part in DANDISET_TASKS:
            return DANDISET_TASKS[part]
    return str(nwbfile.session_description)


def load_nwb(
    path: str | Path,
    exclude: Iterable[str] | None = ("A", "I", "F"),
    task: str | None = None,
    columns: Iterable[str] | None = None,
    bin_ms: float | None = None,
    *,
    counts_dtype=np.float32,
    batch_rows: int | None = None,
) -> tuple[pd.DataFrame, float]:
    """Load a NeuroTask NWB file from DANDI into the same table as :func:`load_and_filter_parquet`.

    The file holds one ``TimeSeries`` per column, grouped in processing modules ``behavior``, ``events``
    (which includes ``result``, stored as bytes), ``indices`` (``animal``, ``datasetID``, ``session``,
    ``trial_id``) and ``spikes`` (``spikes_counts``, a (time bins, units) series of float counts whose
    ``rate`` gives the bin: ``bin_ms = 1000 / rate``). The datasets are read in HDF5 slices into arrays
    allocated once (``bin_ms`` rebins each slice as it arrives).

    Differences from upstream's ``get_dataframe`` (all deliberate):

    * ``exclude`` lists the result codes to DROP, exactly as :func:`load_and_filter_parquet`; upstream's
      ``filter_result`` listed the codes to KEEP (``[b'R']``): the opposite convention.
    * neuron columns are 1-based (``Neuron1..``) like the parquet files (upstream: ``Neuron0..``);
    * ``result`` is text (not bytes); events are ``bool``; a ``task`` column is added; the column order and
      dtypes are those of the parquet loader.

    Parameters
    ----------
    path
        An NWB file of the NeuroTask dandisets (001055-001060).
    exclude
        Result codes to drop; default keeps rewarded trials only; ``None`` keeps all.
    task
        Value of the ``task`` column. Default: the label of the dandiset whose number appears in the path
        (``001056`` -> ``CenterOut_Bump``), else the file's ``session_description``.
    columns, bin_ms, counts_dtype, batch_rows
        As in :func:`load_and_filter_parquet` (``columns`` are series names, ``Neuron1..`` for units).

    Returns
    -------
    df : pandas.DataFrame
        Same schema and column order as the parquet loader's.
    bin_ms : float
        Bin size of ``df`` in ms (``bin_ms`` if given, else from the ``spikes_counts`` rate).

    Raises
    ------
    FileNotFoundError
        No such file.
    BadFileError
        Not an NWB file (text, empty, cut short), an NWB file of another layout (the message lists its
        modules), series of different lengths, text where numbers belong.
    ValueError
        An unknown code or column, or nothing left.

    Examples
    --------
    >>> df, bin_ms = load_nwb(folder / "001056/sub-Animal-1-&-2/sub-Animal-1-&-2.nwb")   # doctest: +SKIP
    >>> df["task"].iloc[0], bin_ms                                                     # doctest: +SKIP
    ('CenterOut_Bump', 10.0)

    Taught in chapter 01_neurotask_loading.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No NWB file at {path}. Check the path (get_source('neurotask')).")
    _check_exclude(exclude)
    reader = _NwbReader(path)
    try:
        label = task or ("" if "task" in reader.names else _infer_task(path, reader.nwbfile))
        constants = {} if "task" in reader.names else {"task": label}
        df, out_bin = _read(reader, exclude, columns, reader.bin_ms, bin_ms, counts_dtype, batch_rows, constants)
    finally:
        reader.close()
    if task and "task" in reader.names:
        df["task"] = task
    return df, out_bin


def load_file(
    path: str | Path,
    exclude: Iterable[str] | None = ("A", "I", "F"),
    columns: Iterable[str] | None = None,
    bin_ms: float | None = None,
) -> tuple[pd.DataFrame, float]:
    """Load one NeuroTask file, parquet or NWB, into the same table: ``(df, bin_ms)``.

    Dispatches on the suffix to :func:`load_and_filter_parquet` or :func:`load_nwb`, with the same
    ``exclude`` convention for both (upstream's two loaders used opposite ones).

    Examples
    --------
    >>> from course_utils.data import get_source
    >>> df, bin_ms = load_file(sorted(get_source("neurotask").glob("*.parquet"))[0])  # doctest: +SKIP

    Taught in chapters 01_neurotask_loading and 08_decoding_baselines.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return load_and_filter_parquet(path, exclude=exclude, columns=columns, bin_ms=bin_ms)
    if suffix == ".nwb":
        return load_nwb(path, exclude=exclude, columns=columns, bin_ms=bin_ms)
    raise ValueError(f"{path}: not a NeuroTask file (expected a .parquet or .nwb file, got {suffix or 'no suffix'!r}).")


def file_columns(path: str | Path) -> list[str]:
    """The columns a NeuroTask file would give, in the schema's order, without reading its data.

    Useful before loading a large file: pick ``columns=`` and see which events and covariates it has.

    Examples
    --------
    >>> names = file_columns(folder / "2_10_Simulated_CObump.parquet")   # doctest: +SKIP
    >>> [c for c in names if c.startswith("Event")]                      # doctest: +SKIP
    ['EventTarget_Onset', 'EventBump', 'EventGo_cue']

    Taught in chapter 01_neurotask_loading.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No NeuroTask file at {path}. Check the path (get_source('neurotask')).")
    if path.suffix.lower() == ".nwb":
        reader = _NwbReader(path)
        reader.close()
        return canonical_order(reader.names + ([] if "task" in reader.names else ["task"]))
    if path.suffix.lower() == ".parquet":
        return canonical_order(_ParquetReader(path).names)
    raise ValueError(f"{path}: not a NeuroTask file (expected a .parquet or .nwb file).")
