"""The NeuroTask table schema: which columns are neurons, ids, covariates and events, and how each is typed.

Every loader of :mod:`course_utils.neurotask.io` returns this schema, whatever the file's column order and
dtypes (the real files differ: uint8 and float64 neuron columns in one parquet file, uint16 ids in the Maze
files, float counts and bytes results in the NWB files):

* ``Neuron1 .. NeuronN`` – spike counts per bin, one floating dtype (float32 by default; exact for counts
  below 2**24), NaN where a session has fewer units;
* ids – ``datasetID``, ``animal``, ``session`` (int64), ``trial_id`` (float64, as upstream), ``task`` and
  ``result`` (text: ``R`` rewarded, ``F`` failed, ``I`` incomplete, ``A`` aborted);
* behaviour covariates – float64 (``hand_vel_x``, ``cursor_pos_y``, ``force_x``, ``target_dir`` in
  **radians**, ...);
* events – ``Event*`` booleans, True in the bin where the event happens.

Columns are ordered neurons, ids, covariates, events (events in the order they happen in a trial).

Taught in chapter 01_neurotask_loading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

NEURON_PREFIX = "Neuron"
EVENT_PREFIX = "Event"
RESULT_CODES = {"R": "rewarded", "F": "failed", "I": "incomplete", "A": "aborted"}
ID_COLUMNS = ("datasetID", "animal", "session", "trial_id", "task", "result")
INTEGER_IDS = ("datasetID", "animal", "session")
# Extra per-bin ids some real files carry (DANDI 001059 has a `trials_id` series beside `trial_id`): kept,
# never treated as a behaviour covariate.
EXTRA_ID_COLUMNS = ("trials_id",)
# Trial-level (categorical) covariates: constant within a trial; rebin keeps the first value.
CATEGORICAL_PREFIXES = ("target_", "bump_", "maze_", "correct_", "active_target_", "space_")
# Continuous kinematics: must be numbers (a text column here is a broken file, not a category).
KINEMATIC_PREFIXES = ("hand_", "cursor_", "finger_", "force_")
VELOCITY_PREFIXES = ("hand_vel", "cursor_vel")
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
    "space_num",
    "maze_conditions",
    "correct_reach",
    "EventStart_trial",
    "EventTarget_Onset",
    "EventBump",
    "EventGo_cue",
    "EventMovement_start",
    "EventMovement_end",
    "EventEnd_trial",
)
_NEURON = re.compile(rf"^{NEURON_PREFIX}(\d+)$")


# ----------------------------------------------------------------------------------------- column kinds


def is_neuron(name: str) -> bool:
    """True for a spike-count column name (``Neuron1``, ``Neuron167``).

    Examples
    --------
    >>> is_neuron("Neuron12"), is_neuron("NeuronX")
    (True, False)

    Taught in chapter 01_neurotask_loading.
    """
    return _NEURON.match(str(name)) is not None


def neuron_columns(df: pd.DataFrame) -> list[str]:
    """The spike-count columns (``Neuron1..NeuronN``) in table order.

    Examples
    --------
    >>> neuron_columns(pd.DataFrame(columns=["Neuron1", "hand_vel_x", "Neuron2"]))
    ['Neuron1', 'Neuron2']

    Taught in chapter 01_neurotask_loading.
    """
    return [c for c in df.columns if is_neuron(c)]


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
    skip = set(ID_COLUMNS) | set(EXTRA_ID_COLUMNS)
    return [c for c in df.columns if not (is_neuron(c) or str(c).startswith(EVENT_PREFIX) or c in skip)]


def column_kind(name: str) -> str:
    """``"neuron"``, ``"id"``, ``"event"``, ``"categorical"`` (trial-level) or ``"covariate"``.

    Examples
    --------
    >>> [column_kind(c) for c in ("Neuron3", "trial_id", "EventGo_cue", "target_dir", "hand_vel_x")]
    ['neuron', 'id', 'event', 'categorical', 'covariate']

    Taught in chapter 01_neurotask_loading.
    """
    name = str(name)
    if is_neuron(name):
        return "neuron"
    if name in ID_COLUMNS or name in EXTRA_ID_COLUMNS:
        return "id"
    if name.startswith(EVENT_PREFIX):
        return "event"
    if name.startswith(CATEGORICAL_PREFIXES):
        return "categorical"
    return "covariate"


def canonical_order(names: Iterable[str]) -> list[str]:
    """Order columns as the course's tables: neurons, ids, covariates, then events (in trial order).

    Examples
    --------
    >>> canonical_order(["EventGo_cue", "hand_vel_x", "EventTarget_Onset", "animal", "Neuron1"])
    ['Neuron1', 'animal', 'hand_vel_x', 'EventTarget_Onset', 'EventGo_cue']

    Taught in chapter 01_neurotask_loading.
    """
    rank = {name: i for i, name in enumerate(COVARIATE_ORDER)}
    ids = ID_COLUMNS + EXTRA_ID_COLUMNS

    def key(name: str) -> tuple:
        match = _NEURON.match(name)
        if match:
            return (0, int(match[1]), "")
        if name in ids:
            return (1, ids.index(name), "")
        group = 3 if name.startswith(EVENT_PREFIX) else 2
        return (group, rank.get(name, len(rank)), name)

    return sorted((str(n) for n in names), key=key)


def describe_table(df: pd.DataFrame) -> str:
    """A short name for a table in messages: its file (when a loader made it), dataset and task.

    Examples
    --------
    >>> describe_table(pd.DataFrame({"datasetID": [4], "task": ["KeyGrasp"]}))
    'the table of dataset 4, task KeyGrasp'

    Taught in chapter 01_neurotask_loading.
    """
    parts = []
    if "datasetID" in df.columns and len(df):
        parts.append("dataset " + "/".join(str(v) for v in pd.unique(df["datasetID"])[:3]))
    if "task" in df.columns and len(df):
        parts.append("task " + "/".join(str(v) for v in pd.unique(df["task"])[:3]))
    label = ", ".join(parts)
    source = df.attrs.get("source")
    if source:
        return f"{source} ({label})" if label else str(source)
    return f"the table of {label}" if label else "the table"


def velocity_columns(df: pd.DataFrame) -> list[str]:
    """The velocity a decoder should predict: ``hand_vel_x/y`` where the table has them, else ``cursor_vel_x/y``.

    Raises
    ------
    ValueError
        Neither pair is there (Key Grasp, Isometric Wrist-like force files): the message names the
        dataset, lists its covariates and says what to do.

    Examples
    --------
    >>> velocity_columns(pd.DataFrame(columns=["Neuron1", "cursor_vel_x", "cursor_vel_y"]))
    ['cursor_vel_x', 'cursor_vel_y']

    Taught in chapter 08_decoding_baselines.
    """
    for prefix in VELOCITY_PREFIXES:
        if f"{prefix}_x" in df.columns and f"{prefix}_y" in df.columns:
            return [f"{prefix}_x", f"{prefix}_y"]
    covariates = behavior_columns(df)
    force = [c for c in covariates if c.startswith("force_")]
    hint = f"behavior_columns={force}" if force else "another covariate as behavior_columns"
    raise ValueError(
        f"{describe_table(df)} has no velocity: no hand_vel_x/y or cursor_vel_x/y columns (its covariates: "
        f"{covariates}). Decode {hint} instead, or skip this dataset for velocity decoding."
    )


# ----------------------------------------------------------------------------------------- dtypes


def _kind(dtype) -> str:
    """numpy's one-letter kind of a dtype (``"O"`` for text and other extension dtypes); a letter passes."""
    if isinstance(dtype, str) and len(dtype) == 1:
        return dtype
    try:
        return np.dtype(dtype).kind
    except TypeError:
        return "O"


def bad_dtype(name: str, dtype) -> str | None:
    """Why a column of this dtype cannot be used (None if it can): a loader's schema check.

    Spike counts, integer ids, kinematics and events must be numbers (or booleans); ``result`` and
    ``task`` text. Other covariates may be text (they are treated as trial-level categories).

    Examples
    --------
    >>> bad_dtype("Neuron1", np.dtype("uint8")) is None, bad_dtype("Neuron1", np.dtype("O"))
    (True, 'spike counts must be numbers')

    Taught in chapter 01_neurotask_loading.
    """
    kind = _kind(dtype)
    numeric = kind in "biuf"
    name = str(name)
    if is_neuron(name) and not numeric:
        return "spike counts must be numbers"
    if name in INTEGER_IDS + ("trial_id",) + EXTRA_ID_COLUMNS and not numeric:
        return "ids must be numbers"
    if name.startswith(KINEMATIC_PREFIXES) and not numeric:
        return "kinematics must be numbers"
    if name.startswith(EVENT_PREFIX) and not numeric:
        return "events must be booleans (or 0/1)"
    return None


def as_text(values: np.ndarray) -> np.ndarray:
    """Text values as a ``str`` object array (NWB stores ``result`` as bytes, ``b'R'``).

    Examples
    --------
    >>> as_text(np.array([b"R", b"F"])).tolist()
    ['R', 'F']

    Taught in chapter 01_neurotask_loading.
    """
    values = np.asarray(values)
    if values.dtype.kind == "S":
        return values.astype("U").astype(object)
    if values.dtype.kind != "O":
        return values.astype(str).astype(object)
    uniques = pd.unique(values)  # a few codes: convert each once, then map
    if all(isinstance(u, str) for u in uniques):
        return values
    mapping = {u: u.decode() if isinstance(u, bytes) else str(u) for u in uniques}
    return pd.Series(values, dtype=object).map(mapping).to_numpy(dtype=object)


def normalise_values(name: str, values: np.ndarray) -> np.ndarray:
    """One column's values in the schema's dtype (ids int64, ``trial_id`` float64, events bool, ...).

    Examples
    --------
    >>> normalise_values("animal", np.array([1, 2], dtype=np.uint16)).dtype
    dtype('int64')
    >>> normalise_values("EventGo_cue", np.array([0.0, 1.0, np.nan])).tolist()
    [False, True, False]

    Taught in chapter 01_neurotask_loading.
    """
    values = np.asarray(values)
    kind = column_kind(name)
    if name in ("result", "task"):
        return as_text(values)
    if name in INTEGER_IDS:
        return values.astype(np.int64)
    if kind == "id":
        return values.astype(np.float64)
    if kind == "event":
        if values.dtype == bool:
            return values
        return np.nan_to_num(values.astype(np.float64)) != 0
    if values.dtype.kind in "biuf":
        return values.astype(np.float64, copy=False)
    return as_text(values)


def as_schema(df: pd.DataFrame, counts_dtype=np.float32) -> pd.DataFrame:
    """A NeuroTask table read some other way (e.g. ``pd.read_parquet``) in the course's schema.

    Columns in canonical order, counts in ``counts_dtype``, ids int64 (``trial_id`` float64), events bool,
    text as str; the loaders return exactly this.

    Examples
    --------
    >>> raw = pd.DataFrame({"animal": np.array([1], np.uint16), "session": 1, "trial_id": 0.0,
    ...                     "Neuron1": np.array([2], np.uint8), "EventGo_cue": [1.0]})
    >>> as_schema(raw).dtypes.astype(str).to_dict()
    {'Neuron1': 'float32', 'animal': 'int64', 'session': 'int64', 'trial_id': 'float64', 'EventGo_cue': 'bool'}

    Taught in chapter 01_neurotask_loading.
    """
    columns = {}
    for name in canonical_order(df.columns):
        values = df[name].to_numpy()
        columns[name] = values.astype(counts_dtype) if is_neuron(name) else normalise_values(name, values)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(df)))


def reduce_rule(name: str, dtype) -> str:
    """How :func:`~course_utils.neurotask.preprocess.rebin` merges bins of a column.

    ``sum`` for spike counts, ``any`` for events, ``first`` for ids, trial-level covariates and text,
    ``mean`` for the other numbers.

    Examples
    --------
    >>> [reduce_rule(c, "f8") for c in ("Neuron1", "EventBump", "bump_dir", "hand_vel_x")]
    ['sum', 'any', 'first', 'mean']

    Taught in chapter 01_neurotask_loading.
    """
    kind, dtype_kind = column_kind(name), _kind(dtype)
    if kind == "neuron":
        return "sum"
    if kind == "event" or dtype_kind == "b":
        return "any"
    if kind in ("id", "categorical") or dtype_kind not in "iuf":
        return "first"
    return "mean"
