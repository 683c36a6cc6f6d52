"""Read NeuroTask files (parquet from Kaggle, NWB from DANDI) into one table schema.

Every loader returns ``(df, bin_ms)``: one row per time bin, in file order (animal, session, trial), with

* ``Neuron1 .. NeuronN`` – spike counts per bin (1-based; NaN where a session has fewer units; neuron k of
  one session is not neuron k of another);
* ids – ``datasetID``, ``animal``, ``session`` (int), ``trial_id`` (float, as upstream), ``task`` and
  ``result`` (str: ``R`` rewarded, ``F`` failed, ``I`` incomplete, ``A`` aborted);
* behaviour covariates (float: ``hand_vel_x``, ``cursor_pos_y``, ``force_x``, ``target_dir``, ...);
* events – ``Event*`` booleans, True in the bin where the event happens.

Differences from upstream's ``api_neurotask.py`` (same names, defects fixed):

* :func:`load_and_filter_parquet` parses the bin size from the *file name*; upstream split the whole path on
  ``_`` and returned a wrong bin (or crashed) whenever a folder name contained ``_``.
* :func:`load_nwb` replaces upstream's ``get_dataframe``: it uses the **same** ``exclude`` convention as the
  parquet loader (upstream's NWB loader *kept* the listed codes, ``[b'R']``, the opposite convention), returns
  1-based ``Neuron`` columns (upstream: ``Neuron0..``), ``result`` as str (not bytes), adds the ``task``
  column, and renames the spelling variants found in the DANDI files to the parquet names.

Taught in chapter 01_neurotask_loading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

NEURON_PREFIX = "Neuron"
EVENT_PREFIX = "Event"
RESULT_CODES = {"R": "rewarded", "F": "failed", "I": "incomplete", "A": "aborted"}
ID_COLUMNS = ("datasetID", "animal", "session", "trial_id", "task", "result")
# Trial-level (categorical) covariates: constant within a trial; rebin keeps the first value.
CATEGORICAL_PREFIXES = ("target_", "bump_", "maze_", "correct_", "active_target_", "targets_")

# Spellings seen in the DANDI NWB files, mapped to the parquet names.
NWB_ALIASES = {
    "EventTarget_onset": "EventTarget_Onset",
    "EventGo_Cue": "EventGo_cue",
    "EventMovement_Start": "EventMovement_start",
    "EventMovement_End": "EventMovement_end",
    "targets_dir": "target_dir",
    "Target_ID": "target_ID",
    "target_id": "target_ID",
    "trial_ID": "trial_id",
    "dataset_ID": "datasetID",
    "datasetId": "datasetID",
}
# Task labels the course uses for the NeuroTask dandisets (the NWB files have no task column).
DANDISET_TASKS = {
    "001055": "RandomTarget",
    "001056": "CenterOut_Bump",
    "001057": "CenterOut",
    "001058": "TwoWorkspace",
    "001059": "KeyGrasp",
    "001060": "IsometricWrist",
}
# Preferred order of covariates and events (events in the order they happen in a trial); others follow.
COVARIATE_ORDER = (
    "hand_pos_x",
    "hand_pos_y",
    "hand_vel_x",
    "hand_vel_y",
    "hand_acc_x",
    "hand_acc_y",
    "cursor_pos_x",
    "cursor_pos_y",
    "cursor_vel_x",
    "cursor_vel_y",
    "cursor_acc_x",
    "cursor_acc_y",
    "finger_pos_x",
    "finger_pos_y",
    "finger_pos_z",
    "force_x",
    "force_y",
    "target_dir",
    "target_ID",
    "target_pos_x",
    "target_pos_y",
    "bump_dir",
    "maze_num_target",
    "maze_num_barriers",
    "maze_condition",
    "EventStart_trial",
    "EventTarget_Onset",
    "EventBump",
    "EventGo_cue",
    "EventMovement_start",
    "EventMovement_end",
    "EventEnd_trial",
)
_FILE_NAME = re.compile(r"^(?P<dataset>\d+)_(?P<bin>\d+(?:\.\d+)?)_(?P<name>[^_]+)_(?P<task>.+)$")


# ----------------------------------------------------------------------------------------- column helpers


def neuron_columns(df: pd.DataFrame) -> list[str]:
    """The spike-count columns (``Neuron1..NeuronN``) in table order.

    Examples
    --------
    >>> neuron_columns(pd.DataFrame(columns=["Neuron1", "hand_vel_x", "Neuron2"]))
    ['Neuron1', 'Neuron2']

    Taught in chapter 01_neurotask_loading.
    """
    return [c for c in df.columns if str(c).startswith(NEURON_PREFIX)]


def event_columns(df: pd.DataFrame) -> list[str]:
    """The event columns (``Event*``) in table order.

    Examples
    --------
    >>> event_columns(pd.DataFrame(columns=["EventGo_cue", "Neuron1"]))
    ['EventGo_cue']

    Taught in chapter 01_neurotask_loading.
    """
    return [c for c in df.columns if str(c).startswith(EVENT_PREFIX)]


def behavior_columns(df: pd.DataFrame) -> list[str]:
    """The behaviour covariates: every column that is not a neuron, an event or an id.

    Examples
    --------
    >>> behavior_columns(pd.DataFrame(columns=["Neuron1", "animal", "hand_vel_x", "EventGo_cue"]))
    ['hand_vel_x']

    Taught in chapter 01_neurotask_loading.
    """
    skip = set(neuron_columns(df)) | set(event_columns(df)) | set(ID_COLUMNS)
    return [c for c in df.columns if c not in skip]


def canonical_order(names: Iterable[str]) -> list[str]:
    """Order columns as the course's tables: neurons, ids, covariates, then events (in trial order).

    Examples
    --------
    >>> canonical_order(["EventGo_cue", "hand_vel_x", "EventTarget_Onset", "animal", "Neuron1"])
    ['Neuron1', 'animal', 'hand_vel_x', 'EventTarget_Onset', 'EventGo_cue']

    Taught in chapter 01_neurotask_loading.
    """
    names = list(names)
    rank = {name: i for i, name in enumerate(COVARIATE_ORDER)}

    def key(name: str) -> tuple:
        if name.startswith(NEURON_PREFIX) and name[len(NEURON_PREFIX) :].isdigit():
            return (0, int(name[len(NEURON_PREFIX) :]), "")
        if name in ID_COLUMNS:
            return (1, ID_COLUMNS.index(name), "")
        group = 3 if name.startswith(EVENT_PREFIX) else 2
        return (group, rank.get(name, len(rank)), name)

    return sorted(names, key=key)


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


# ----------------------------------------------------------------------------------------- parquet


def load_and_filter_parquet(
    path: str | Path,
    exclude: Iterable[str] | None = ("A", "I", "F"),
    columns: list[str] | None = None,
) -> tuple[pd.DataFrame, float]:
    """Load a NeuroTask parquet file, dropping trials whose ``result`` is in ``exclude``.

    The filter is pushed down to pyarrow (row groups are filtered while reading), so excluded trials never
    reach pandas.

    Parameters
    ----------
    path
        A file named ``{datasetID}_{bin_ms}_{Name}_{Task}.parquet``.
    exclude
        Result codes to drop (``A`` aborted, ``I`` incomplete, ``F`` failed, ``R`` rewarded); default keeps
        rewarded trials only. ``None`` or ``()`` keeps everything. Same convention as :func:`load_nwb`.
    columns
        Read only these columns (the default reads all).

    Returns
    -------
    df : pandas.DataFrame
        One row per time bin (see the module docstring for the schema).
    bin_ms : float
        Bin size in ms, parsed from the file *name* (upstream parsed the whole path).

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The name does not give the bin size, ``exclude`` holds an unknown code, or a column is missing.

    Examples
    --------
    >>> df, bin_ms = load_and_filter_parquet(folder / "2_10_Simulated_CObump.parquet")  # doctest: +SKIP
    >>> bin_ms, set(df["result"])                                                        # doctest: +SKIP
    (10.0, {'R'})

    Taught in chapter 01_neurotask_loading.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No NeuroTask parquet file at {path}. Check the path (get_source('neurotask'))."
        )
    bin_ms = parse_bin_ms(path)
    letters = _check_exclude(exclude)
    schema_names = pq.read_schema(path).names
    wanted = list(columns) if columns is not None else None
    if wanted is not None:
        missing = [c for c in wanted if c not in schema_names]
        if missing:
            raise ValueError(f"{path.name} has no column(s) {missing}; it has e.g. {schema_names[:8]} ...")
    if letters and "result" not in schema_names:
        raise ValueError(
            f"{path.name} has no 'result' column, so exclude={letters} cannot be applied; pass exclude=None."
        )
    filters = [("result", "not in", letters)] if letters else None
    df = pq.read_table(path, columns=wanted, filters=filters).to_pandas()
    if df.empty:
        raise ValueError(f"{path.name}: no rows left after exclude={letters}; pass exclude=None to keep all.")
    return df, bin_ms


# ----------------------------------------------------------------------------------------- NWB


def normalise_column_name(key: str) -> str:
    """The parquet spelling of an NWB series name (``EventTarget_onset`` -> ``EventTarget_Onset``).

    Examples
    --------
    >>> normalise_column_name("targets_dir")
    'target_dir'

    Taught in chapter 01_neurotask_loading.
    """
    return NWB_ALIASES.get(key, key)


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


def _infer_task(path: Path, nwbfile) -> str:
    for part in path.parts:
        if part in DANDISET_TASKS:
            return DANDISET_TASKS[part]
    return str(nwbfile.session_description)


def load_nwb(
    path: str | Path,
    exclude: Iterable[str] | None = ("A", "I", "F"),
    task: str | None = None,
) -> tuple[pd.DataFrame, float]:
    """Load a NeuroTask NWB file from DANDI into the parquet schema.

    The file holds one ``TimeSeries`` per column, grouped in processing modules ``behavior``, ``events``
    (which includes ``result``, stored as bytes), ``indices`` (``animal``, ``datasetID``, ``session``,
    ``trial_id``) and ``spikes`` (``spikes_counts``, a (time bins, neurons) series whose ``rate`` gives the
    bin: ``bin_ms = 1000 / rate``).

    Differences from upstream's ``get_dataframe`` (all deliberate):

    * ``exclude`` lists the result codes to DROP, exactly as :func:`load_and_filter_parquet`; upstream's
      ``filter_result`` listed the codes to KEEP (``[b'R']``): the opposite convention.
    * neuron columns are 1-based (``Neuron1..``) like the parquet files (upstream: ``Neuron0..``);
    * ``result`` is ``str`` (not bytes); events are ``bool``; a ``task`` column is added;
    * spelling variants (``EventTarget_onset``, ``targets_dir``, ``Target_ID``) get their parquet names.

    Parameters
    ----------
    path
        An NWB file of the NeuroTask dandisets (001055-001060).
    exclude
        Result codes to drop; default keeps rewarded trials only; ``None`` keeps all.
    task
        Value of the ``task`` column. Default: a ``task`` series if the file has one, else the label of the
        dandiset whose number appears in the path (``001056`` -> ``CenterOut_Bump``), else the file's
        ``session_description``.

    Returns
    -------
    df : pandas.DataFrame
        Same schema and column order as the parquet files: neurons, ids, covariates, events.
    bin_ms : float
        Bin size in ms, from the ``spikes_counts`` rate.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not a NeuroTask layout (a module or series missing, lengths that disagree) or an unknown code.

    Examples
    --------
    >>> df, bin_ms = load_nwb(folder / "001056/sub-Animal-1-&-2/sub-Animal-1-&-2.nwb")   # doctest: +SKIP
    >>> df["task"].iloc[0], bin_ms                                                     # doctest: +SKIP
    ('CenterOut_Bump', 10.0)

    Taught in chapter 01_neurotask_loading.
    """
    from pynwb import NWBHDF5IO

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No NWB file at {path}. Check the path (get_source('neurotask')).")
    letters = _check_exclude(exclude)
    with NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        modules = nwbfile.processing
        if "spikes" not in modules or "spikes_counts" not in modules["spikes"].data_interfaces:
            raise ValueError(
                f"{path.name} is not in the NeuroTask layout: no processing module 'spikes' with a "
                f"'spikes_counts' series (modules found: {sorted(modules)})."
            )
        spikes = modules["spikes"]["spikes_counts"]
        if not spikes.rate:
            raise ValueError(f"{path.name}: spikes_counts has no sampling rate, so the bin size is unknown.")
        bin_ms = float(np.round(1000.0 / spikes.rate, 9))
        counts = np.asarray(spikes.data[:])
        if counts.ndim == 1:
            counts = counts[:, None]
        n_rows = counts.shape[0]
        series: dict[str, np.ndarray] = {}
        for module_name in modules:
            if module_name == "spikes":
                continue
            for ts in _series_in(modules[module_name]):
                values = np.asarray(ts.data[:])
                if values.shape[0] != n_rows:
                    raise ValueError(
                        f"{path.name}: series {module_name}/{ts.name} has {values.shape[0]} rows but "
                        f"spikes_counts has {n_rows}; the file is not a NeuroTask table."
                    )
                name = normalise_column_name(ts.name)
                if values.ndim == 2:
                    for j in range(values.shape[1]):
                        series[f"{name}_{j}"] = values[:, j]
                else:
                    series[name] = values
        task_label = task or (None if "task" in series else _infer_task(path, nwbfile))
    missing = [c for c in ("animal", "session", "trial_id", "result") if c not in series]
    if missing:
        raise ValueError(
            f"{path.name} lacks the NeuroTask series {missing} (modules 'indices' and 'events')."
        )

    result = series.pop("result")
    if result.dtype.kind in "SO":
        result = np.array([r.decode() if isinstance(r, bytes) else str(r) for r in result], dtype=object)
    keep = ~np.isin(result, letters) if letters else np.ones(n_rows, dtype=bool)

    columns: dict[str, object] = {}
    for j in range(counts.shape[1]):
        columns[f"{NEURON_PREFIX}{j + 1}"] = counts[keep, j]
    for name in ("datasetID", "animal", "session"):
        if name in series:
            columns[name] = series.pop(name)[keep].astype(np.int64)
    columns["trial_id"] = series.pop("trial_id")[keep].astype(np.float64)
    columns["task"] = (
        np.asarray(series.pop("task"))[keep].astype(str)
        if "task" in series
        else np.full(keep.sum(), task_label)
    )
    columns["result"] = result[keep].astype(str)
    events = {k: v for k, v in series.items() if k.startswith(EVENT_PREFIX)}
    for name, values in series.items():
        if name not in events:
            columns[name] = values[keep]
    for name, values in events.items():
        values = values[keep]
        columns[name] = (np.nan_to_num(values.astype(float)) != 0) if values.dtype != bool else values
    df = pd.DataFrame(columns)[canonical_order(columns)]
    if df.empty:
        raise ValueError(f"{path.name}: no rows left after exclude={letters}; pass exclude=None to keep all.")
    return df, bin_ms


def load_file(path: str | Path, exclude: Iterable[str] | None = ("A", "I", "F")) -> tuple[pd.DataFrame, float]:
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
        return load_and_filter_parquet(path, exclude=exclude)
    if suffix == ".nwb":
        return load_nwb(path, exclude=exclude)
    raise ValueError(f"{path}: not a NeuroTask file (expected a .parquet or .nwb file, got {suffix or 'no suffix'!r}).")


def velocity_columns(df: pd.DataFrame) -> list[str]:
    """The velocity a decoder should predict: ``hand_vel_x/y`` where the file has them, else ``cursor_vel_x/y``.

    Examples
    --------
    >>> velocity_columns(pd.DataFrame(columns=["Neuron1", "cursor_vel_x", "cursor_vel_y"]))
    ['cursor_vel_x', 'cursor_vel_y']

    Taught in chapter 08_decoding_baselines.
    """
    for prefix in ("hand_vel", "cursor_vel"):
        if f"{prefix}_x" in df.columns and f"{prefix}_y" in df.columns:
            return [f"{prefix}_x", f"{prefix}_y"]
    raise ValueError(
        f"No hand_vel_x/y or cursor_vel_x/y columns in this table (it has {list(df.columns)[:12]}...): "
        "is it a NeuroTask task with kinematics?"
    )
