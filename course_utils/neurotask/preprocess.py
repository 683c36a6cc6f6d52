"""Reshape NeuroTask tables: rebin, align to an event, one row per trial, and decoding arrays.

The names and main semantics are those of upstream's ``api_neurotask.py``; its defects are fixed, and each
function's docstring lists the differences. Everything is vectorised (gathers over trial-aligned segments, ``sliding_window_view`` for spike history): no Python loop over rows or trials.

Taught in chapter 01_neurotask_loading.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from .io import CATEGORICAL_PREFIXES, EVENT_PREFIX, ID_COLUMNS, event_columns, neuron_columns

TRIAL_KEYS = ("datasetID", "animal", "session", "trial_id")
SESSION_KEYS = ("datasetID", "animal", "session")


# ----------------------------------------------------------------------------------------- trials


def _require(df: pd.DataFrame, columns: Sequence[str], function: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{function}: the table has no column(s) {missing}. It needs NeuroTask's ids "
            f"{list(TRIAL_KEYS[1:])}; load it with load_and_filter_parquet or load_nwb."
        )


def trial_bounds(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row positions where each trial starts and ends (exclusive), for a table in file order.

    A trial is a run of consecutive rows with the same (datasetID, animal, session, trial_id).

    Returns
    -------
    starts, ends : numpy.ndarray
        Integer positions, one per trial, in table order.

    Raises
    ------
    ValueError
        Missing id columns, NaN trial ids, or a trial whose rows are not contiguous.

    Examples
    --------
    >>> df = pd.DataFrame({"animal": 1, "session": 1, "trial_id": [1.0, 1.0, 2.0]})
    >>> trial_bounds(df)
    (array([0, 2]), array([2, 3]))

    Taught in chapter 01_neurotask_loading.
    """
    _require(df, TRIAL_KEYS[1:], "trial_bounds")
    keys = [k for k in TRIAL_KEYS if k in df.columns]
    n = len(df)
    if n == 0:
        raise ValueError("The table is empty: no trials to work on.")
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for key in keys:
        values = df[key].to_numpy()
        if values.dtype.kind == "f" and np.isnan(values).any():
            raise ValueError(f"Column {key!r} has NaN values; every row needs its trial ids.")
        change[1:] |= values[1:] != values[:-1]
    starts = np.flatnonzero(change)
    if df.iloc[starts][keys].duplicated().any():
        raise ValueError(
            "The rows of some trial are not contiguous (the table was shuffled or concatenated out of order). "
            f"Sort it first: df.sort_values({keys}, kind='stable')."
        )
    ends = np.append(starts[1:], n)
    return starts, ends


def trial_table(df: pd.DataFrame, bin_ms: float) -> pd.DataFrame:
    """One row per trial: ids, result, duration, the time of each event and the trial's target.

    Parameters
    ----------
    df
        A NeuroTask table (one row per bin).
    bin_ms
        Its bin size in ms.

    Returns
    -------
    pandas.DataFrame
        Columns: the ids, ``task``, ``result``, ``n_bins``, ``duration_ms``, ``<Event>_ms`` (time of the
        event's first occurrence from the trial's first bin, NaN if absent) and the first value of each
        trial-level covariate (``target_dir``, ``target_ID``, ``bump_dir``, ``target_pos_x``, ...).

    Examples
    --------
    >>> df = pd.DataFrame({"animal": 1, "session": 1, "trial_id": [1.0, 1, 1, 2, 2],
    ...                    "EventGo_cue": [False, True, False, True, False]})
    >>> trial_table(df, bin_ms=10)["EventGo_cue_ms"].tolist()
    [10.0, 0.0]

    Taught in chapter 01_neurotask_loading.
    """
    if bin_ms <= 0:
        raise ValueError(f"bin_ms must be positive, got {bin_ms}.")
    starts, ends = trial_bounds(df)
    first_cols = [c for c in df.columns if c in ID_COLUMNS or str(c).startswith(CATEGORICAL_PREFIXES)]
    out = df.iloc[starts][first_cols].reset_index(drop=True)
    out["n_bins"] = ends - starts
    out["duration_ms"] = (ends - starts) * float(bin_ms)
    trial_of_row = np.repeat(np.arange(len(starts)), ends - starts)
    for name in event_columns(df):
        pos = np.flatnonzero(df[name].fillna(False).to_numpy(dtype=bool))
        when = np.full(len(starts), np.nan)
        trials, first = np.unique(trial_of_row[pos], return_index=True)
        when[trials] = (pos[first] - starts[trials]) * float(bin_ms)
        out[f"{name}_ms"] = when
    return out


# ----------------------------------------------------------------------------------------- rebin


def _column_rule(df: pd.DataFrame, name: str) -> str:
    values = df[name]
    if str(name).startswith("Neuron"):
        return "sum"
    if str(name).startswith(EVENT_PREFIX) or values.dtype == bool:
        return "any"
    if name in ID_COLUMNS or str(name).startswith(CATEGORICAL_PREFIXES) or values.dtype.kind not in "fiu":
        return "first"
    return "mean"


def rebin(
    df: pd.DataFrame,
    prev_bin_size: float,
    new_bin_size: float,
    drop_partial: bool = True,
    how: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Merge ``new_bin_size / prev_bin_size`` consecutive bins of each trial into one.

    Rules per column: spike counts (``Neuron*``) are **summed**; continuous covariates (hand/cursor/finger
    position and velocity, force, ...) are **averaged** over the bin (NaN ignored); events are **any** (True
    if the event happened in one of the merged bins); ids and trial-level covariates (``target_*``,
    ``bump_dir``, ``maze_*``, ``result``, ``task``) keep their **first** value. ``how`` overrides a column's
    rule (``"sum"``, ``"mean"``, ``"any"``, ``"first"``).

    Differences from upstream's ``rebin`` (defects fixed):

    * bins are cut **within each trial**, starting at its first bin; upstream cut chunks from the global row
      position, so bins straddled trial boundaries and partial bins appeared at both trial edges;
    * a trial's last, incomplete bin is dropped (``drop_partial=True``; its counts would cover less time);
      ``drop_partial=False`` keeps it;
    * row order (animal, session, trial) is preserved; upstream sorted by (session, trial_id), interleaving
      animals;
    * all-NaN neuron columns stay NaN (upstream's sum turned them into 0, inventing silent neurons);
    * covariates are the plain bin mean; upstream used ``scipy.signal.decimate(x).mean()`` for chunks longer
      than 27 rows, a filtered edge sample rather than the mean;
    * the ratio must be an integer (upstream silently floored 25/10 to 2).

    Parameters
    ----------
    df
        A NeuroTask table in file order.
    prev_bin_size, new_bin_size
        Old and new bin size in ms; ``new_bin_size`` must be a whole multiple of ``prev_bin_size``.
    drop_partial
        Drop each trial's trailing bin when it has fewer than ``new/prev`` rows.
    how
        Per-column rule overrides.

    Returns
    -------
    pandas.DataFrame
        Same columns, one row per new bin, a fresh RangeIndex. Integer counts come out as int64.

    Raises
    ------
    ValueError
        Non-positive sizes, a non-integer ratio, an unknown rule, missing id columns.

    Examples
    --------
    >>> df = pd.DataFrame({"animal": 1, "session": 1, "trial_id": [1.0, 1, 1, 2, 2],
    ...                    "Neuron1": [1, 2, 3, 4, 5], "hand_vel_x": [0.0, 2, 9, 1, 3]})
    >>> rebin(df, 10, 20)[["trial_id", "Neuron1", "hand_vel_x"]].values.tolist()
    [[1.0, 3.0, 1.0], [2.0, 9.0, 2.0]]

    Taught in chapter 01_neurotask_loading.
    """
    if prev_bin_size <= 0 or new_bin_size <= 0:
        raise ValueError(
            f"Bin sizes must be positive, got prev_bin_size={prev_bin_size}, new_bin_size={new_bin_size}."
        )
    ratio = new_bin_size / prev_bin_size
    k = int(round(ratio))
    if k < 1 or abs(ratio - k) > 1e-9:
        raise ValueError(
            f"new_bin_size / prev_bin_size = {new_bin_size}/{prev_bin_size} = {ratio:g} is not a whole number; "
            f"choose a multiple of {prev_bin_size} ms (e.g. {prev_bin_size * max(1, int(ratio))} or "
            f"{prev_bin_size * (int(ratio) + 1)})."
        )
    rules = {c: _column_rule(df, c) for c in df.columns}
    for name, rule in (how or {}).items():
        if name not in df.columns:
            raise ValueError(f"how= names a column {name!r} the table does not have.")
        if rule not in ("sum", "mean", "any", "first"):
            raise ValueError(f"how[{name!r}]={rule!r}: choose 'sum', 'mean', 'any' or 'first'.")
        rules[name] = rule
    starts, ends = trial_bounds(df)
    lengths = ends - starts
    n_bins = -(-lengths // k)  # every segment, partial ones included, so no bin mixes two trials
    first_bin = np.cumsum(n_bins) - n_bins
    offsets = np.arange(n_bins.sum()) - np.repeat(first_bin, n_bins)
    seg_start = np.repeat(starts, n_bins) + offsets * k
    seg_len = np.minimum(k, np.repeat(ends, n_bins) - seg_start)
    keep = seg_len == k if drop_partial else np.ones(len(seg_start), dtype=bool)
    if not keep.any():
        raise ValueError(
            f"Every trial is shorter than {k} bins: nothing left after rebinning to {new_bin_size} ms."
        )

    starts_kept, lens_kept = seg_start[keep], seg_len[keep]
    partial = bool((lens_kept < k).any())
    last_row = len(df) - 1

    def block(cols: list[str], dtype=None) -> np.ndarray:
        # (columns, rows), C-ordered: each np.take below gathers along contiguous memory
        return np.ascontiguousarray(df[cols].to_numpy(dtype=dtype).T)

    def segment_sum(values: np.ndarray) -> np.ndarray:
        """Sum of each kept segment: k gathers (k = the bin ratio), not one Python step per bin."""
        total = np.take(values, starts_kept, axis=1)
        for j in range(1, k):
            part = np.take(values, np.minimum(starts_kept + j, last_row), axis=1)
            if partial:
                part = np.where(j < lens_kept, part, 0)
            total += part
        return total

    out: dict[str, np.ndarray] = {}
    groups = {r: [c for c in df.columns if rules[c] == r] for r in ("sum", "mean", "any", "first")}
    if groups["sum"]:
        values = block(groups["sum"])
        if values.dtype.kind in "iub":
            values = values.astype(np.int64)
        out.update(zip(groups["sum"], segment_sum(values), strict=True))
    if groups["mean"]:
        values = block(groups["mean"], dtype=np.float64)
        finite = np.isfinite(values)
        total = segment_sum(np.where(finite, values, 0.0))
        count = segment_sum(finite.astype(np.int64))
        with np.errstate(invalid="ignore", divide="ignore"):
            out.update(zip(groups["mean"], total / count, strict=True))
    if groups["any"]:
        values = block(groups["any"], dtype=np.float64)
        hits = segment_sum((np.nan_to_num(values) != 0).astype(np.int64)) > 0
        out.update(zip(groups["any"], hits, strict=True))
    firsts = df[groups["first"]].iloc[starts_kept].reset_index(drop=True)
    result = pd.concat(
        [pd.DataFrame({name: out[name] for name in df.columns if name in out}), firsts], axis=1
    )
    return result if list(result.columns) == list(df.columns) else result[list(df.columns)]


# ----------------------------------------------------------------------------------------- align


def align_event(
    df: pd.DataFrame,
    start_event: str,
    bin_size: float,
    offset_min: float | None = None,
    offset_max: float | None = None,
    pad: bool = False,
    time_column: str = "time_from_event_ms",
) -> pd.DataFrame:
    """Keep, in each trial, the bins from ``offset_min`` to ``offset_max`` ms around an event.

    Window semantics are upstream's: with ``b = bin_size``, each trial keeps the bins from
    ``event - (-offset_min // b)`` to ``event + offset_max // b`` (both included), clipped to the trial;
    trials without the event are dropped; a repeated event gives the union of its windows; ``offset_max``
    None or 0 means "to the end of the trial". The README example (-20, 400 ms at 20 ms bins) keeps 22 bins.

    Additions (not in upstream):

    * a column ``time_column`` with each bin's time from the event in ms (from the latest event whose
      window contains the bin, else the next one), so a PSTH is ``groupby(time_column).mean()``;
    * ``pad=True``: one fixed-length window per event occurrence; bins outside the trial are padding rows
      (neuron counts and covariates NaN, events False, ids of the trial), so every window has
      ``-offset_min // b + offset_max // b + 1`` rows. Windows of repeated events may overlap (rows repeat).
    * clear errors instead of ``assert`` (wrong-sign offsets, an unknown event, nothing left).

    Parameters
    ----------
    df
        A NeuroTask table in file order.
    start_event
        An event column, e.g. ``"EventGo_cue"``.
    bin_size
        The table's bin size in ms.
    offset_min
        Start of the window in ms (<= 0); None means the event's bin.
    offset_max
        End of the window in ms (>= 0); None or 0 means the end of the trial (not allowed with ``pad``).
    pad
        Fixed-length windows (see above).
    time_column
        Name of the added time column.

    Returns
    -------
    pandas.DataFrame
        The kept rows in table order (original index kept; a fresh index with ``pad=True``) plus
        ``time_column``.

    Examples
    --------
    >>> df = pd.DataFrame({"animal": 1, "session": 1, "trial_id": 1.0, "Neuron1": range(6),
    ...                    "EventGo_cue": [False, False, True, False, False, False]})
    >>> align_event(df, "EventGo_cue", 10, -10, 20)["time_from_event_ms"].tolist()
    [-10.0, 0.0, 10.0, 20.0]

    Taught in chapter 01_neurotask_loading.
    """
    if start_event not in df.columns:
        raise ValueError(
            f"Unknown event {start_event!r}: the table's events are {event_columns(df)}. Spellings differ between "
            "files; load NWB files with load_nwb, which normalises them."
        )
    if bin_size <= 0:
        raise ValueError(f"bin_size must be positive (ms), got {bin_size}.")
    if offset_min is not None and offset_min > 0:
        raise ValueError(
            f"offset_min={offset_min} must be <= 0 (ms before the event); use e.g. -{offset_min}."
        )
    if offset_max is not None and offset_max < 0:
        raise ValueError(
            f"offset_max={offset_max} must be >= 0 (ms after the event); use e.g. {-offset_max}."
        )
    if pad and not offset_max:
        raise ValueError("pad=True needs a finite window: give offset_max > 0 (ms after the event).")
    if time_column in df.columns:
        raise ValueError(f"The table already has a column {time_column!r}; pass another time_column=.")
    n_before = int((-offset_min) // bin_size) if offset_min else 0
    n_after = int(offset_max // bin_size) if offset_max else None
    starts, ends = trial_bounds(df)
    n = len(df)
    lengths = ends - starts
    row_start = np.repeat(starts, lengths)
    row_end = np.repeat(ends, lengths)
    flags = df[start_event].fillna(False).to_numpy(dtype=bool)
    events = np.flatnonzero(flags)
    if len(events) == 0:
        raise ValueError(f"No trial has the event {start_event!r} (after filtering): nothing to align.")

    if pad:
        rel = np.arange(-n_before, n_after + 1)
        pos = events[:, None] + rel[None, :]
        inside = ((pos >= row_start[events, None]) & (pos < row_end[events, None])).ravel()
        take = np.clip(pos, row_start[events, None], row_end[events, None] - 1).ravel()
        out = df.iloc[take].reset_index(drop=True)
        for name in out.columns:
            if name in ID_COLUMNS or str(name).startswith(CATEGORICAL_PREFIXES):
                continue
            if str(name).startswith(EVENT_PREFIX) or out[name].dtype == bool:
                out[name] = out[name].fillna(False).to_numpy(dtype=bool) & inside
            elif out[name].dtype.kind in "fiu":
                out[name] = np.where(inside, out[name].to_numpy(dtype=np.float64), np.nan)
        out[time_column] = np.tile(rel * float(bin_size), len(events))
        return out

    cover = np.zeros(n + 1, dtype=np.int64)
    lo = np.maximum(events - n_before, row_start[events])
    hi = row_end[events] if n_after is None else np.minimum(events + n_after + 1, row_end[events])
    np.add.at(cover, lo, 1)
    np.add.at(cover, hi, -1)
    keep = np.cumsum(cover[:-1]) > 0
    index = np.arange(n)
    prev = np.maximum.accumulate(np.where(flags, index, -1))
    nxt = np.minimum.accumulate(np.where(flags, index, n)[::-1])[::-1]
    prev_ok = prev >= row_start
    if n_after is not None:
        prev_ok &= (index - prev) <= n_after
    ref = np.where(prev_ok, prev, nxt)
    out = df.iloc[np.flatnonzero(keep)].copy()
    out[time_column] = ((index - ref) * float(bin_size))[keep]
    return out


# ----------------------------------------------------------------------------------------- decoding arrays


class DecodingArrays(tuple):
    """``(X_train, y_train, X_val, y_val, X_test, y_test)`` lists, as upstream, plus ``sessions``.

    Unpacks like upstream's 6-tuple. ``sessions[i]`` describes list position i: ``key`` (datasetID,
    animal, session), ``neurons`` (the kept columns), ``rows`` per split, and the z-scoring statistics.
    """

    def __new__(cls, lists: Sequence[list], sessions: list[dict]):
        obj = super().__new__(cls, tuple(lists))
        obj.sessions = sessions
        return obj

    X_train = property(lambda self: self[0])
    y_train = property(lambda self: self[1])
    X_val = property(lambda self: self[2])
    y_val = property(lambda self: self[3])
    X_test = property(lambda self: self[4])
    y_test = property(lambda self: self[5])


def _check_range(name: str, value: Sequence[float]) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair [start, end] of fractions, got {value!r}.") from None
    if not 0.0 <= a < b <= 1.0:
        raise ValueError(
            f"{name}={list(value)} must satisfy 0 <= start < end <= 1 (fractions of each session)."
        )
    return a, b


def _session_rows(df: pd.DataFrame) -> list[tuple[tuple, np.ndarray]]:
    keys = [k for k in SESSION_KEYS if k in df.columns]
    groups = df.groupby(keys, sort=False).indices
    return [(key if isinstance(key, tuple) else (key,), rows) for key, rows in groups.items()]


def process_data(
    df: pd.DataFrame,
    bins_before: int,
    training_range: Sequence[float],
    valid_range: Sequence[float],
    testing_range: Sequence[float],
    behavior_columns: Sequence[str],
    zscore: bool = False,
    bins_after: int = 1,
    respect_trials: bool = True,
    dtype: type = np.float32,
) -> DecodingArrays:
    """Decoding arrays per session: spike history ``X`` and behaviour ``y``, split chronologically.

    For each (datasetID, animal, session), in order of appearance: neuron columns that are NaN in that
    session are dropped, then those that never fire; ``X[i] = spikes[t-bins_before .. t]`` (the current bin
    included), shape ``(n, bins_before + 1, n_neurons)``; ``y[i] = behaviour[t]`` (the **concurrent** bin),
    shape ``(n, n_behaviour)``, or ``behaviour[t .. t+bins_after-1]`` with shape ``(n, bins_after,
    n_behaviour)`` when ``bins_after > 1``. The splits are contiguous fractions of the session's bins
    (chronological, e.g. 7:1:2): a split's first ``bins_before`` bins only serve as history, so no window
    reaches into the previous split.

    Differences from upstream's ``process_data``:

    * ``y`` is 2-D when ``bins_after == 1`` (upstream's 3-D ``(n, 1, k)`` is rejected by scikit-learn);
      upstream's README calls it "next step", but the target is the concurrent bin in both;
    * ``X`` is ``dtype`` (float32) built with ``sliding_window_view``; upstream filled a float64
      ``(T, lags, N)`` array in a Python loop. With ``respect_trials=False`` the splits are read-only
      *views* of one float32 copy of the counts (no per-lag copy; ``np.array(X)`` gives a writable copy);
    * ``respect_trials=True`` (default) keeps only bins whose whole history (and future, for
      ``bins_after > 1``) lies in the same trial; upstream's windows crossed trial boundaries (and, for
      ``bins_after > 1``, its last test targets were NaN);
    * ``zscore`` uses the training bins' mean and std per neuron (upstream: per lag and neuron over
      ``X_train``; the same up to edge bins) and centres ``y`` on the training mean, as upstream;
    * overlapping ranges raise an error (train/test leakage); a neuron that is NaN in only some rows (a
      padded ``align_event`` frame) raises instead of silently dropping the neuron;
    * upstream's ``scale`` (a MinMaxScaler refitted on the test set) is not offered: scale with scikit-learn
      fitted on ``X_train``.

    Parameters
    ----------
    df
        A NeuroTask table (rebinned and aligned as you like), in file order.
    bins_before
        History length in bins (0 = current bin only).
    training_range, valid_range, testing_range
        ``[start, end]`` fractions of each session's bins.
    behavior_columns
        The decoding targets, e.g. ``["hand_vel_x", "hand_vel_y"]``.
    zscore
        Standardise X with training statistics and centre y on its training mean.
    bins_after
        Number of behaviour bins per target (1 = the concurrent bin).
    respect_trials
        Never let a window cross a trial boundary (see above).
    dtype
        Floating type of X and y.

    Returns
    -------
    DecodingArrays
        Unpacks as ``X_train, y_train, X_val, y_val, X_test, y_test`` (lists, one array per session);
        ``.sessions`` says which session each position is and which neurons it kept.

    Raises
    ------
    ValueError
        Missing columns, bad ranges or bin counts, NaN in a behaviour column, or a split left empty.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"animal": 1, "session": 1, "trial_id": np.repeat([1.0, 2.0], 50),
    ...                    "Neuron1": rng.poisson(2, 100), "hand_vel_x": rng.normal(size=100)})
    >>> X_tr, y_tr, *_ = process_data(df, 2, [0, .7], [.7, .8], [.8, 1], ["hand_vel_x"])
    >>> X_tr[0].shape, y_tr[0].shape
    ((66, 3, 1), (66, 1))

    Taught in chapter 01_neurotask_loading.
    """
    behavior_columns = [behavior_columns] if isinstance(behavior_columns, str) else list(behavior_columns)
    _require(df, ["animal", "session", "trial_id", *behavior_columns], "process_data")
    if not behavior_columns:
        raise ValueError(
            "behavior_columns is empty: name the covariates to decode, e.g. ['hand_vel_x', 'hand_vel_y']."
        )
    if int(bins_before) != bins_before or bins_before < 0:
        raise ValueError(f"bins_before must be an integer >= 0, got {bins_before}.")
    if int(bins_after) != bins_after or bins_after < 1:
        raise ValueError(f"bins_after must be an integer >= 1 (1 = the concurrent bin), got {bins_after}.")
    bins_before, bins_after = int(bins_before), int(bins_after)
    ranges = {
        "training_range": _check_range("training_range", training_range),
        "valid_range": _check_range("valid_range", valid_range),
        "testing_range": _check_range("testing_range", testing_range),
    }
    ordered = sorted(ranges.items(), key=lambda kv: kv[1])
    for (name_a, (_, end_a)), (name_b, (start_b, _)) in zip(ordered, ordered[1:], strict=False):
        if start_b < end_a:
            raise ValueError(
                f"{name_a} and {name_b} overlap: the same bins would be in two splits (leakage)."
            )
    neurons = neuron_columns(df)
    if not neurons:
        raise ValueError("The table has no Neuron* columns: nothing to decode from.")
    starts_all, ends_all = trial_bounds(df) if respect_trials else (None, None)
    trial_start_of_row = np.repeat(starts_all, ends_all - starts_all) if respect_trials else None
    trial_end_of_row = np.repeat(ends_all, ends_all - starts_all) if respect_trials else None

    lists: list[list[np.ndarray]] = [[] for _ in range(6)]
    sessions: list[dict] = []
    for key, rows in _session_rows(df):
        n_rows = len(rows)
        contiguous = rows[-1] - rows[0] + 1 == n_rows
        pick = slice(rows[0], rows[-1] + 1) if contiguous else rows
        kept, columns = [], []
        for name in neurons:  # a loop over columns (tens to hundreds), each step vectorised over rows
            values = df[name].to_numpy()[pick]
            isnan = np.isnan(values) if values.dtype.kind == "f" else np.zeros(1, dtype=bool)
            if isnan.any():
                if isnan.all():
                    continue
                raise ValueError(
                    f"{name} is NaN in some but not all rows of session {key}: the frame has padding rows "
                    "(align_event(pad=True)); drop them (df.dropna(subset=neuron_columns(df))) first."
                )
            if not values.any():
                continue
            kept.append(name)
            columns.append(values)
        if not kept:
            raise ValueError(f"Session {key} has no neuron that fires: nothing to decode from.")
        base = np.empty((n_rows, len(kept)), dtype=dtype)
        for j, values in enumerate(columns):
            base[:, j] = values
        del columns
        beh = df[behavior_columns].to_numpy(dtype=np.float64)[pick].astype(dtype)
        if np.isnan(beh).any():
            bad = [c for c, col in zip(behavior_columns, np.isnan(beh).any(axis=0), strict=True) if col]
            raise ValueError(
                f"Behaviour column(s) {bad} have NaN in session {key}; drop or fill those rows first."
            )

        local = np.arange(n_rows)
        ok = (local >= bins_before) & (local + bins_after - 1 < n_rows)
        if respect_trials:
            t_start = trial_start_of_row[rows] - rows[0] if contiguous else None
            if not contiguous:
                raise ValueError(
                    f"The rows of session {key} are not contiguous; sort the table by its ids first."
                )
            t_end = trial_end_of_row[rows] - rows[0]
            ok &= (local - bins_before >= t_start) & (local + bins_after - 1 < t_end)

        bounds = {}
        for name, (a, b) in ranges.items():
            lo, hi = int(np.round(a * n_rows)), int(np.round(b * n_rows))
            targets = (
                np.flatnonzero(
                    ok[lo:hi] & (local[lo:hi] - bins_before >= lo) & (local[lo:hi] + bins_after - 1 < hi)
                )
                + lo
            )
            if len(targets) == 0:
                raise ValueError(
                    f"{name} {list(ranges[name])} leaves no bins in session {key} ({n_rows} bins, "
                    f"bins_before={bins_before}): widen the range or shorten the history."
                )
            bounds[name] = (lo, hi, targets)

        stats = {}
        if zscore:
            lo, hi, _ = bounds["training_range"]
            mean = base[lo:hi].mean(axis=0)
            std = base[lo:hi].std(axis=0)
            std[std == 0] = 1.0
            base -= mean
            base /= std
            y_mean = beh[bounds["training_range"][2]].mean(axis=0)
            beh -= y_mean
            stats = {"x_mean": mean, "x_std": std, "y_mean": y_mean}
        windows = sliding_window_view(base, bins_before + 1, axis=0).transpose(0, 2, 1)  # (T - bb, L, N) view
        y_windows = (
            None if bins_after == 1 else sliding_window_view(beh, bins_after, axis=0).transpose(0, 2, 1)
        )
        for slot, name in enumerate(("training_range", "valid_range", "testing_range")):
            _, _, targets = bounds[name]
            is_run = targets[-1] - targets[0] + 1 == len(targets)
            sel = slice(targets[0], targets[-1] + 1) if is_run else targets
            if is_run:
                X = windows[targets[0] - bins_before : targets[-1] + 1 - bins_before]
            else:
                X = windows[targets - bins_before]
            y = beh[sel] if y_windows is None else y_windows[sel]
            lists[2 * slot].append(X)
            lists[2 * slot + 1].append(np.ascontiguousarray(y))
        sessions.append(
            {
                "key": dict(zip([k for k in SESSION_KEYS if k in df.columns], key, strict=True)),
                "neurons": kept,
                "rows": {name: len(bounds[name][2]) for name in bounds},
                **stats,
            }
        )
    return DecodingArrays(lists, sessions)
