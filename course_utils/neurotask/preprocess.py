"""Reshape NeuroTask tables: rebin, align to an event, one row per trial, and decoding arrays.

The names and main semantics are those of upstream's ``api_neurotask.py``; its defects are fixed, and each
function's docstring lists the differences. Everything is vectorised (reduceat or gathers over trial-aligned
segments, ``sliding_window_view`` for spike history): no Python loop over rows or bins (only long runs of a
trial's bins get one matrix product each). The segment kernels
(:func:`bin_segments`, :func:`reduce_segments`) are shared with the loaders, which rebin while reading.

Taught in chapter 01_neurotask_loading.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from .schema import (
    CATEGORICAL_PREFIXES,
    EVENT_PREFIX,
    ID_COLUMNS,
    describe_table,
    event_columns,
    neuron_columns,
    reduce_rule,
)

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
    columns = []
    for key in keys:
        values = df[key].to_numpy()
        if values.dtype.kind == "f" and np.isnan(values).any():
            raise ValueError(f"Column {key!r} has NaN values; every row needs its trial ids.")
        change[1:] |= values[1:] != values[:-1]
        columns.append(values)
    starts = np.flatnonzero(change)
    first_keys = np.column_stack([np.asarray(v[starts], dtype=np.float64) for v in columns])
    ordered = first_keys[np.lexsort(first_keys.T[::-1])]  # a trial that comes back repeats its keys
    if (ordered[1:] == ordered[:-1]).all(axis=1).any():
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


RULES = ("sum", "mean", "any", "first")


def bin_ratio(prev_bin_size: float, new_bin_size: float) -> int:
    """The whole number of old bins in a new one; a clear error for anything else.

    Examples
    --------
    >>> bin_ratio(1, 20)
    20

    Taught in chapter 01_neurotask_loading.
    """
    if not prev_bin_size > 0 or not new_bin_size > 0:
        raise ValueError(
            f"Bin sizes must be positive, got prev_bin_size={prev_bin_size}, new_bin_size={new_bin_size}."
        )
    ratio = new_bin_size / prev_bin_size
    k = int(round(ratio))
    if k < 1 or abs(ratio - k) > 1e-9:
        raise ValueError(
            f"new_bin_size / prev_bin_size = {new_bin_size}/{prev_bin_size} = {ratio:g} is not a whole number; "
            f"choose a multiple of {prev_bin_size:g} ms (e.g. {prev_bin_size * max(1, int(ratio)):g} or "
            f"{prev_bin_size * (int(ratio) + 1):g})."
        )
    return k


def bin_segments(
    starts: np.ndarray, ends: np.ndarray, k: int, drop_partial: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Start row and length of every new bin: ``k`` rows at a time from each trial's first row.

    Parameters
    ----------
    starts, ends
        Each trial's first row and end (exclusive), as :func:`trial_bounds` returns them.
    k
        Old bins per new bin.
    drop_partial
        Leave out each trial's trailing bin when it has fewer than ``k`` rows.

    Examples
    --------
    >>> bin_segments(np.array([0, 5]), np.array([5, 8]), 2)
    (array([0, 2, 5]), array([2, 2, 2]))

    Taught in chapter 01_neurotask_loading.
    """
    lengths = ends - starts
    n_bins = lengths // k if drop_partial else -(-lengths // k)
    first_bin = np.cumsum(n_bins) - n_bins
    offsets = np.arange(n_bins.sum()) - np.repeat(first_bin, n_bins)
    seg_start = np.repeat(starts, n_bins) + offsets * k
    seg_len = np.minimum(k, np.repeat(ends, n_bins) - seg_start)
    return seg_start, seg_len


def _gather(values: np.ndarray, columns: np.ndarray) -> np.ndarray:
    # np.take is fastest on a C-contiguous array but copies a strided view each call; indexing never does
    return np.take(values, columns, axis=1) if values.flags.c_contiguous else values[:, columns]


def _reduceat_index(seg_start: np.ndarray, seg_len: np.ndarray, n: int) -> np.ndarray | None:
    """Indices for ``ufunc.reduceat``: segment j is reduced into output 2j (the odd outputs are the gaps).

    None when reduceat cannot express the segments (an empty segment, or one ending at the last row that is
    not the last segment).
    """
    if len(seg_start) == 0 or (seg_len < 1).any():
        return None
    index = np.empty(2 * len(seg_start), dtype=np.intp)
    index[0::2] = seg_start
    index[1::2] = seg_start + seg_len
    if index[-1] == n:  # the last segment runs to the end: reduceat's last output does exactly that
        index = index[:-1]
    return index if index.max(initial=0) < n else None


# Below this many rows per bin, k gathers of the output's size beat reduceat's per-segment cost.
REDUCEAT_MIN_K = 5
# A run of back-to-back full bins is summed by one matrix product when it holds at least this many values
# (columns x bins, on average): then the product's per-call cost is small beside reduceat's per-bin cost.
RUN_PRODUCT_MIN_VALUES = 2048


def reduce_segments(values: np.ndarray, seg_start: np.ndarray, seg_len: np.ndarray, k: int, rule: str) -> np.ndarray:
    """Reduce each segment of the columns of ``values`` (shape ``(columns, rows)``) with one rule.

    ``sum`` (integers summed as int64, floats in their dtype; NaN stays NaN), ``mean`` (NaN ignored),
    ``any`` (non-zero anywhere), ``first``. Bins of ``k >= REDUCEAT_MIN_K`` rows: one ``ufunc.reduceat``
    over all segments (no copy of the rows); float sums over long runs of back-to-back full bins (a trial's
    bins): one matrix-vector product per run, on a ``(columns, bins, k)`` view (at least
    ``RUN_PRODUCT_MIN_VALUES`` values per product on average); shorter bins (or segments reduceat cannot
    express): ``k`` gathers of the output's size. Never a Python step per bin.

    Returns
    -------
    numpy.ndarray
        Shape ``(columns, segments)``.

    Examples
    --------
    >>> reduce_segments(np.array([[1, 2, 3, 4, 5]]), np.array([0, 2]), np.array([2, 2]), 2, "sum")
    array([[3, 7]])

    Taught in chapter 01_neurotask_loading.
    """
    if rule not in RULES:
        raise ValueError(f"Unknown rule {rule!r}: choose one of {RULES}.")
    if rule == "first":
        return _gather(values, seg_start)
    if rule == "mean":
        values = values.astype(np.float64, copy=False)
        finite = np.isfinite(values)
        if finite.all():  # the usual case: no NaN to skip, every bin averages seg_len values
            return reduce_segments(values, seg_start, seg_len, k, "sum") / seg_len
        total = reduce_segments(np.where(finite, values, 0.0), seg_start, seg_len, k, "sum")
        count = reduce_segments(finite, seg_start, seg_len, k, "sum")
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / count
    if rule == "any":
        values = values if values.dtype == bool else np.nan_to_num(values.astype(np.float64)) != 0
        ufunc, dtype = np.logical_or, None
    else:
        ufunc, dtype = np.add, np.int64 if values.dtype.kind in "iub" else None
    if ufunc is np.add and values.dtype.kind == "f" and k >= REDUCEAT_MIN_K:
        runs = _bin_runs(values, seg_start, seg_len, k)
        if runs is not None:
            return _run_products(values, *runs, k)
    index = _reduceat_index(seg_start, seg_len, values.shape[1]) if k >= REDUCEAT_MIN_K else None
    if index is not None:
        return np.ascontiguousarray(ufunc.reduceat(values, index, axis=1, dtype=dtype)[:, ::2])
    return _gathered_reduce(ufunc, values, seg_start, seg_len, k, dtype)


def _bin_runs(
    values: np.ndarray, seg_start: np.ndarray, seg_len: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """First row, first bin and number of bins of each run of back-to-back full bins; None if the runs are
    too short for :func:`_run_products` to pay, a bin is partial, or the rows are not contiguous."""
    if len(seg_start) == 0 or values.strides[1] != values.itemsize or (seg_len != k).any():
        return None
    first = np.flatnonzero(np.diff(seg_start, prepend=-k - 1) != k)  # bin 0 always starts a run
    if values.shape[0] * len(seg_start) < RUN_PRODUCT_MIN_VALUES * len(first):
        return None
    return seg_start[first], first, np.diff(first, append=len(seg_start))


def _run_products(values: np.ndarray, rows: np.ndarray, first: np.ndarray, bins: np.ndarray, k: int) -> np.ndarray:
    """Sum of every bin, one matrix-vector product per run (a view of the run's rows as (columns, bins, k))."""
    out = np.empty((values.shape[0], int(first[-1] + bins[-1])), dtype=values.dtype)
    ones = np.ones(k, dtype=values.dtype)
    for row, b, m in zip(rows.tolist(), first.tolist(), bins.tolist(), strict=True):  # a loop over runs
        out[:, b : b + m] = values[:, row : row + m * k].reshape(values.shape[0], m, k) @ ones
    return out


def _gathered_reduce(ufunc, values: np.ndarray, seg_start: np.ndarray, seg_len: np.ndarray, k: int,
                     dtype=None) -> np.ndarray:
    """Reduce each segment by ``k`` gathers of the output's size (short bins, and the general path)."""
    total = _gather(values, seg_start).astype(dtype or values.dtype, copy=False)  # a fresh array
    last_row = values.shape[1] - 1
    partial = bool((seg_len < k).any())
    for j in range(1, k):
        part = _gather(values, np.minimum(seg_start + j, last_row))
        if partial:
            part = np.where(j < seg_len, part, 0)
        if part.dtype != total.dtype:  # e.g. uint64 counts into int64 (NumPy would add them as float64)
            part = part.astype(total.dtype)
        ufunc(total, part, out=total)
    return total


def frame_from_columns(
    order: list[str], block_names: list[str], block: np.ndarray | None, columns: dict, insert: bool = False
) -> pd.DataFrame:
    """A DataFrame in ``order`` from one 2-D block ``(columns, rows)`` (wrapped, not copied) plus 1-D columns.

    ``insert=False`` builds the 1-D columns into a frame of their own and joins it (fast; copies those
    columns once); ``insert=True`` adds them one by one without copying (slower, for the loaders, where the
    columns can be millions of rows long).

    Examples
    --------
    >>> frame_from_columns(["N1", "x"], ["N1"], np.array([[1.0, 2.0]]), {"x": np.array([3, 4])}).values.tolist()
    [[1.0, 3.0], [2.0, 4.0]]

    Taught in chapter 01_neurotask_loading.
    """
    n = block.shape[1] if block_names else len(next(iter(columns.values()))) if columns else 0
    head = pd.DataFrame(block.T, columns=block_names, copy=False) if block_names else None
    in_block = set(block_names)
    rest = [name for name in order if name not in in_block]
    if head is not None and insert:
        df = head
        for name in rest:
            df[name] = columns[name]
    else:
        tail = pd.DataFrame({name: columns[name] for name in rest}, index=pd.RangeIndex(n))
        df = tail if head is None else pd.concat([head, tail], axis=1) if rest else head
    return df if list(df.columns) == list(order) else df[list(order)]


def rebin(
    df: pd.DataFrame,
    prev_bin_size: float | None = None,
    new_bin_size: float | None = None,
    drop_partial: bool = True,
    how: dict[str, str] | None = None,
    *,
    bin_ms: float | None = None,
) -> pd.DataFrame:
    """Merge ``new_bin_size / prev_bin_size`` consecutive bins of each trial into one.

    Rules per column: spike counts (``Neuron*``) are **summed**; continuous covariates (hand/cursor/finger
    position and velocity, force, ...) are **averaged** over the bin (NaN ignored); events are **any** (True
    if the event happened in one of the merged bins); ids and trial-level covariates (``target_*``,
    ``bump_dir``, ``maze_*``, ``result``, ``task``) keep their **first** value. ``how`` overrides a column's
    rule (``"sum"``, ``"mean"``, ``"any"``, ``"first"``).

    Differences from upstream's ``rebin`` (defects fixed):

    * bins start at **each trial's first bin**; upstream cut chunks at global row positions (multiples of
      the ratio), so a trial that did not start on such a position got a *separate, shorter* bin at its
      start and another at its end (it never merged two trials into one bin, but its partial bins
      covered less time than the others and sat at varying offsets from the trial's start);
    * a trial's last, incomplete bin is dropped (``drop_partial=True``; its counts would cover less time);
      ``drop_partial=False`` keeps it;
    * row order (animal, session, trial) is preserved; upstream sorted by (session, trial_id), interleaving
      animals;
    * all-NaN neuron columns stay NaN (upstream's sum turned them into 0, inventing silent neurons);
    * covariates are the plain bin mean; upstream used ``scipy.signal.decimate(x).mean()`` for chunks longer
      than 27 rows, a filtered edge sample rather than the mean (and that branch crashes with the float bin
      size upstream's own loader returns);
    * the ratio must be an integer (upstream silently floored 25/10 to 2);
    * non-numeric spike counts or kinematics raise an error (upstream summed text into garbage).

    Parameters
    ----------
    df
        A NeuroTask table in file order.
    prev_bin_size, new_bin_size
        Old and new bin size in ms (upstream's names); ``new_bin_size`` must be a whole multiple of
        ``prev_bin_size``. ``prev_bin_size`` may be left out when the table carries ``df.attrs["bin_ms"]``
        (the loaders set it, and so does this function on its result).
    drop_partial
        Drop each trial's trailing bin when it has fewer than ``new/prev`` rows.
    how
        Per-column rule overrides.
    bin_ms
        The course's name for ``new_bin_size`` (every bin size in the course is ``bin_ms``, in ms):
        ``rebin(df, bin_ms=20)`` on a loaded table.

    Returns
    -------
    pandas.DataFrame
        Same columns, one row per new bin, a fresh RangeIndex, ``attrs["bin_ms"]`` the new bin size. Float
        counts keep their dtype; integer counts come out as int64.

    Raises
    ------
    ValueError
        Non-positive sizes, a non-integer ratio, an unknown rule, missing id columns, text counts.

    Examples
    --------
    >>> df = pd.DataFrame({"animal": 1, "session": 1, "trial_id": [1.0, 1, 1, 2, 2],
    ...                    "Neuron1": [1, 2, 3, 4, 5], "hand_vel_x": [0.0, 2, 9, 1, 3]})
    >>> rebin(df, 10, 20)[["trial_id", "Neuron1", "hand_vel_x"]].values.tolist()
    [[1.0, 3.0, 1.0], [2.0, 9.0, 2.0]]
    >>> df.attrs["bin_ms"] = 10  # as the loaders set it
    >>> rebin(df, bin_ms=20).attrs["bin_ms"]
    20.0

    Taught in chapter 01_neurotask_loading.
    """
    if bin_ms is not None and new_bin_size is not None and float(bin_ms) != float(new_bin_size):
        raise ValueError(f"rebin: new_bin_size={new_bin_size} and bin_ms={bin_ms} disagree; give one of them.")
    new_bin_size = bin_ms if new_bin_size is None else new_bin_size
    if new_bin_size is None:
        raise ValueError("rebin: give the new bin size, e.g. rebin(df, bin_ms=20) (ms).")
    prev_bin_size = table_bin_ms(df, prev_bin_size, "prev_bin_size")
    k = bin_ratio(prev_bin_size, new_bin_size)
    names, dtypes = df.columns.tolist(), df.dtypes.tolist()
    rules = dict(zip(names, map(reduce_rule, names, dtypes), strict=True))
    for name, rule in (how or {}).items():
        if name not in rules:
            raise ValueError(f"how= names a column {name!r} the table does not have.")
        if rule not in RULES:
            raise ValueError(f"how[{name!r}]={rule!r}: choose 'sum', 'mean', 'any' or 'first'.")
        rules[name] = rule
    _check_numeric(df, [c for c, r in rules.items() if r in ("sum", "mean")], "rebin",
                   dict(zip(names, dtypes, strict=True)))
    starts, ends = trial_bounds(df)
    seg_start, seg_len = bin_segments(starts, ends, k, drop_partial)
    if len(seg_start) == 0:
        raise ValueError(
            f"Every trial is shorter than {k} bins: nothing left after rebinning to {new_bin_size} ms."
        )
    out = _rebin_columns(df, names, rules, seg_start, seg_len, k)
    out.attrs.update(df.attrs)
    out.attrs["bin_ms"] = float(new_bin_size)
    return out


def _rebin_columns(
    df: pd.DataFrame, names: list[str], rules: dict[str, str], seg_start: np.ndarray, seg_len: np.ndarray, k: int
) -> pd.DataFrame:
    """The rebinned frame: one reduction of the summed block, one per other numeric column, a take for the rest.

    Each column is read in place (no frame of the selected columns, no stacked copy); the output is built once.
    """
    block_names = [c for c in names if rules[c] == "sum"]
    block = reduce_segments(_block(df, block_names), seg_start, seg_len, k, "sum") if block_names else None
    columns: dict[str, object] = {}
    for name in names:
        rule = rules[name]
        if rule == "sum":
            continue
        series = df[name]
        if rule == "first":  # numpy-backed or an extension array (text): take keeps its type
            columns[name] = series.array.take(seg_start) if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) \
                else series.to_numpy()[seg_start]
        else:
            values = series.to_numpy(dtype=np.float64 if rule == "mean" else None)[None, :]
            columns[name] = reduce_segments(values, seg_start, seg_len, k, rule)[0]
    return frame_from_columns(names, block_names, block, columns)


def table_bin_ms(df: pd.DataFrame, given: float | None = None, argument: str = "bin_ms") -> float:
    """The bin size (ms) of a NeuroTask table: ``given`` if not None, else ``df.attrs["bin_ms"]``.

    The loaders (:func:`~course_utils.neurotask.load_file` and friends) and :func:`rebin` record the bin size
    in ``df.attrs["bin_ms"]``, so later calls need not be told again. A ``given`` value that contradicts the
    recorded one is an error (a table rebinned to 20 ms passed with ``10``).

    Examples
    --------
    >>> df = pd.DataFrame({"Neuron1": [1, 2]}); df.attrs["bin_ms"] = 10.0
    >>> table_bin_ms(df), table_bin_ms(df, 10)
    (10.0, 10.0)

    Taught in chapter 01_neurotask_loading.
    """
    recorded = df.attrs.get("bin_ms")
    if given is None:
        if recorded is None:
            raise ValueError(
                f"{argument}: this table does not record its bin size (no df.attrs['bin_ms']; the course's loaders "
                f"set it). Give it: {argument}=10 for a 10 ms file (the number in the file name, "
                "'2_10_Chowdhury_CObump.parquet')."
            )
        return float(recorded)
    if recorded is not None and float(recorded) != float(given):
        raise ValueError(
            f"{argument}={given} ms, but the table records df.attrs['bin_ms'] = {recorded} ms (it was loaded or "
            f"rebinned at that size). Leave {argument} out to use the recorded size."
        )
    return float(given)


def _check_numeric(df: pd.DataFrame, names: list[str], function: str, dtypes: dict | None = None) -> None:
    dtypes = dict(df.dtypes.items()) if dtypes is None else dtypes
    bad = [f"{c} ({dtypes[c]})" for c in names if getattr(dtypes[c], "kind", "O") not in "biuf"]
    if bad:
        raise ValueError(
            f"{function}: column(s) {bad[:5]} of {describe_table(df)} hold text, not numbers, so they cannot be "
            "summed or averaged. Convert them first (df[cols] = df[cols].apply(pd.to_numeric)) or reload the "
            "file with load_and_filter_parquet / load_nwb, which check the file's column types."
        )


# ----------------------------------------------------------------------------------------- align


def align_event(
    df: pd.DataFrame,
    start_event: str,
    bin_size: float | None = None,
    offset_min: float | None = None,
    offset_max: float | None = None,
    pad: bool = False,
    time_column: str = "time_from_event_ms",
    *,
    bin_ms: float | None = None,
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
        The table's bin size in ms (upstream's name); None: ``df.attrs["bin_ms"]``, which the loaders and
        :func:`rebin` set.
    offset_min
        Start of the window in ms (<= 0); None means the event's bin.
    offset_max
        End of the window in ms (>= 0); None or 0 means the end of the trial (not allowed with ``pad``).
    pad
        Fixed-length windows (see above).
    time_column
        Name of the added time column.
    bin_ms
        The course's name for ``bin_size``.

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
        events = event_columns(df)
        advice = (
            f"Align on one of those (e.g. {events[0]!r}), or pick the event from event_columns(df)."
            if events
            else "This file has no event series at all (like DANDI 001055 and 001057): align on something "
            "else (e.g. a speed threshold) or use another dataset."
        )
        raise ValueError(f"{describe_table(df)} has no event {start_event!r}; its events are {events}. {advice}")
    if bin_ms is not None and bin_size is not None and float(bin_ms) != float(bin_size):
        raise ValueError(f"align_event: bin_size={bin_size} and bin_ms={bin_ms} disagree; give one of them.")
    bin_size = table_bin_ms(df, bin_ms if bin_size is None else bin_size, "bin_size")
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
    lengths = ends - starts
    row_start = np.repeat(starts, lengths)
    row_end = np.repeat(ends, lengths)
    flags = df[start_event].fillna(False).to_numpy(dtype=bool)
    events = np.flatnonzero(flags)
    if len(events) == 0:
        raise ValueError(
            f"No trial of {describe_table(df)} has the event {start_event!r} (after filtering): nothing to "
            "align. Load with exclude=None to keep every trial, or choose another event."
        )

    if pad:
        return _padded_windows(df, events, row_start, row_end, n_before, n_after, bin_size, time_column)
    return _union_of_windows(df, flags, events, row_start, row_end, n_before, n_after, bin_size, time_column)


def _padded_windows(
    df: pd.DataFrame, events: np.ndarray, row_start: np.ndarray, row_end: np.ndarray, n_before: int, n_after: int,
    bin_size: float, time_column: str
) -> pd.DataFrame:
    """align_event(pad=True): one window of fixed length per event; rows outside the trial are padding."""
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
    out.attrs.update(df.attrs, bin_ms=float(bin_size))
    return out


def _union_of_windows(
    df: pd.DataFrame, flags: np.ndarray, events: np.ndarray, row_start: np.ndarray, row_end: np.ndarray,
    n_before: int, n_after: int | None, bin_size: float, time_column: str
) -> pd.DataFrame:
    """align_event: the rows of each trial inside any window, timed from the nearest event (see there)."""
    n = len(df)
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
    out = df.iloc[np.flatnonzero(keep)]
    out[time_column] = ((index - ref) * float(bin_size))[keep]
    out.attrs.update(df.attrs, bin_ms=float(bin_size))
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
    """(key, row positions) per (datasetID, animal, session), in order of first appearance."""
    keys = [k for k in SESSION_KEYS if k in df.columns]
    values = [df[k].to_numpy() for k in keys]
    change = np.zeros(len(df), dtype=bool)
    change[0] = True
    for v in values:
        change[1:] |= v[1:] != v[:-1]
    starts = np.flatnonzero(change)  # runs of one session; a session may come back later (not contiguous)
    ends = np.append(starts[1:], len(df))
    run_keys = [tuple(v[a].item() for v in values) for a in starts]
    sessions: dict[tuple, list] = {}
    for key, a, b in zip(run_keys, starts, ends, strict=True):
        sessions.setdefault(key, []).append(np.arange(a, b))
    return [(key, np.concatenate(parts)) for key, parts in sessions.items()]


def _block(df: pd.DataFrame, names: list[str], dtype=None) -> np.ndarray:
    """``df[names]`` as a (columns, rows) array: a view when the names are consecutive columns of one dtype."""
    position = {name: i for i, name in enumerate(df.columns.tolist())}  # (label look-ups are slow with str columns)
    first = position[names[0]] if names else 0
    if names and all(position[name] == first + i for i, name in enumerate(names)):
        values = df.iloc[:, first : first + len(names)].to_numpy(dtype=dtype)
    else:
        values = df[names].to_numpy(dtype=dtype)
    return values.T


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
    bins_before, bins_after, ranges = _check_decoding_args(behavior_columns, bins_before, bins_after, {
        "training_range": training_range, "valid_range": valid_range, "testing_range": testing_range})
    neurons = neuron_columns(df)
    if not neurons:
        raise ValueError("The table has no Neuron* columns: nothing to decode from.")
    _check_numeric(df, neurons + behavior_columns, "process_data")
    all_counts = _block(df, neurons).T
    all_beh = np.column_stack([df[c].to_numpy(dtype=np.float64) for c in behavior_columns])  # no sub-frame
    if respect_trials:
        starts_all, ends_all = trial_bounds(df)
        trial_start_of_row = np.repeat(starts_all, ends_all - starts_all)
        trial_end_of_row = np.repeat(ends_all, ends_all - starts_all)

    lists: list[list[np.ndarray]] = [[] for _ in range(6)]
    sessions: list[dict] = []
    for key, rows in _session_rows(df):
        n_rows = len(rows)
        contiguous = rows[-1] - rows[0] + 1 == n_rows
        pick = slice(rows[0], rows[-1] + 1) if contiguous else rows
        counts = all_counts[pick]  # (rows, neurons); a view of the table's block when it is one
        fires = _firing_columns(counts, neurons, key)
        base = np.ascontiguousarray(counts[:, fires], dtype=dtype)
        del counts
        beh = all_beh[pick].astype(dtype)
        if np.isnan(beh).any():
            bad = [c for c, col in zip(behavior_columns, np.isnan(beh).any(axis=0), strict=True) if col]
            raise ValueError(
                f"Behaviour column(s) {bad} have NaN in session {key}; drop or fill those rows first."
            )
        local = np.arange(n_rows)
        ok = (local >= bins_before) & (local + bins_after - 1 < n_rows)
        if respect_trials:
            if not contiguous:
                raise ValueError(
                    f"The rows of session {key} are not contiguous; sort the table by its ids first."
                )
            t_start, t_end = trial_start_of_row[pick] - rows[0], trial_end_of_row[pick] - rows[0]
            ok &= (local - bins_before >= t_start) & (local + bins_after - 1 < t_end)
        bounds = _split_targets(ok, ranges, bins_before, bins_after, key)
        stats = _zscore_in_place(base, beh, bounds["training_range"]) if zscore else {}
        for slot, (X, y) in enumerate(_split_windows(base, beh, bounds, bins_before, bins_after)):
            lists[2 * slot].append(X)
            lists[2 * slot + 1].append(y)
        sessions.append(
            {
                "key": dict(zip([k for k in SESSION_KEYS if k in df.columns], key, strict=True)),
                "neurons": [name for name, on in zip(neurons, fires, strict=True) if on],
                "rows": {name: len(bounds[name][2]) for name in bounds},
                **stats,
            }
        )
    return DecodingArrays(lists, sessions)


def _check_decoding_args(
    behavior_columns: list[str], bins_before: int, bins_after: int, ranges: dict[str, Sequence[float]]
) -> tuple[int, int, dict[str, tuple[float, float]]]:
    """process_data's argument checks: history lengths, and three split ranges that do not overlap."""
    if not behavior_columns:
        raise ValueError(
            "behavior_columns is empty: name the covariates to decode, e.g. ['hand_vel_x', 'hand_vel_y']."
        )
    if int(bins_before) != bins_before or bins_before < 0:
        raise ValueError(f"bins_before must be an integer >= 0, got {bins_before}.")
    if int(bins_after) != bins_after or bins_after < 1:
        raise ValueError(f"bins_after must be an integer >= 1 (1 = the concurrent bin), got {bins_after}.")
    checked = {name: _check_range(name, value) for name, value in ranges.items()}
    ordered = sorted(checked.items(), key=lambda kv: kv[1])
    for (name_a, (_, end_a)), (name_b, (start_b, _)) in zip(ordered, ordered[1:], strict=False):
        if start_b < end_a:
            raise ValueError(
                f"{name_a} and {name_b} overlap: the same bins would be in two splits (leakage)."
            )
    return int(bins_before), int(bins_after), checked


def _firing_columns(counts: np.ndarray, neurons: list[str], key: tuple) -> np.ndarray:
    """Which neuron columns of one session to keep: not NaN (absent unit) and not silent."""
    # One pass: a column's sum is NaN if it has a NaN, 0 if it never fires (counts are >= 0).
    sums = counts.sum(axis=0, dtype=np.float64)
    absent = np.isnan(sums)
    if absent.any():
        all_nan = np.isnan(counts[:, absent]).all(axis=0)
        if not all_nan.all():
            name = neurons[int(np.flatnonzero(absent)[np.argmin(all_nan)])]
            raise ValueError(
                f"{name} is NaN in some but not all rows of session {key}: the frame has padding rows "
                "(align_event(pad=True)); drop them (df.dropna(subset=neuron_columns(df))) first."
            )
    fires = ~absent & (sums != 0)
    unsure = ~absent & (sums == 0)  # all zero, or (not counts) values that cancel out
    if unsure.any():
        fires[unsure] = (counts[:, unsure] != 0).any(axis=0)
    if not fires.any():
        raise ValueError(f"Session {key} has no neuron that fires: nothing to decode from.")
    return fires


def _split_targets(
    ok: np.ndarray, ranges: dict[str, tuple[float, float]], bins_before: int, bins_after: int, key: tuple
) -> dict[str, tuple[int, int, np.ndarray]]:
    """Per split: its first and end bin, and the target bins whose window lies inside the split."""
    n_rows = len(ok)
    bounds = {}
    for name, (a, b) in ranges.items():
        lo, hi = int(np.round(a * n_rows)), int(np.round(b * n_rows))
        # a window [t - bins_before, t + bins_after - 1] must not reach into the previous or next split
        first, last = lo + bins_before, hi - bins_after + 1
        targets = np.flatnonzero(ok[first:last]) + first if last > first else np.zeros(0, dtype=np.intp)
        if len(targets) == 0:
            raise ValueError(
                f"{name} {list(ranges[name])} leaves no bins in session {key} ({n_rows} bins, "
                f"bins_before={bins_before}): widen the range or shorten the history."
            )
        bounds[name] = (lo, hi, targets)
    return bounds


def _zscore_in_place(base: np.ndarray, beh: np.ndarray, training: tuple[int, int, np.ndarray]) -> dict:
    """Standardise the counts with the training bins' statistics; centre the behaviour on its training mean."""
    lo, hi, targets = training
    mean = base[lo:hi].mean(axis=0)
    std = base[lo:hi].std(axis=0)
    std[std == 0] = 1.0
    base -= mean
    base /= std
    y_mean = beh[targets].mean(axis=0)
    beh -= y_mean
    return {"x_mean": mean, "x_std": std, "y_mean": y_mean}


def _split_windows(base: np.ndarray, beh: np.ndarray, bounds: dict, bins_before: int, bins_after: int):
    """(X, y) of each split: spike-history windows (views where the targets are a run) and behaviour."""
    windows = sliding_window_view(base, bins_before + 1, axis=0).transpose(0, 2, 1)  # (T - bb, L, N) view
    y_windows = None if bins_after == 1 else sliding_window_view(beh, bins_after, axis=0).transpose(0, 2, 1)
    for name in ("training_range", "valid_range", "testing_range"):
        _, _, targets = bounds[name]
        is_run = targets[-1] - targets[0] + 1 == len(targets)
        sel = slice(targets[0], targets[-1] + 1) if is_run else targets
        if is_run:
            X = windows[targets[0] - bins_before : targets[-1] + 1 - bins_before]
        else:
            X = windows[targets - bins_before]
        y = beh[sel] if y_windows is None else y_windows[sel]
        yield X, np.ascontiguousarray(y)
