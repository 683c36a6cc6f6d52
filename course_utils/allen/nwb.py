"""Read one Visual Behavior behaviour NWB file with plain pynwb (no AllenSDK).

The tables and dictionaries equal what AllenSDK 2.16.2's ``BehaviorSession.from_nwb_path`` returns for the
same file (names, column order, dtypes), so the Allen documentation applies: ``metadata``,
``task_parameters``, ``trials``, ``licks``, ``rewards``, ``running_speed``, ``raw_running_speed``,
``stimulus_presentations``, ``stimulus_timestamps``. The one deliberate difference is documented in
:func:`flashes_since_change` (AllenSDK's reader miscounts it on movie and grey-screen rows).

Layout read (the real files, and the course's demo files):

* ``session_description`` = session type, ``identifier`` = behaviour session id;
* ``processing/stimulus/timestamps`` (frame times), ``processing/running/{speed, speed_unfiltered, dx}``,
  ``processing/licking/licks`` (data = frame, timestamps = lick times) and
  ``processing/rewards/{volume, autorewarded}`` (both absent in passive sessions: no spout, no licks);
* ``intervals/trials`` and one ``intervals/<stimulus>_presentations`` table per stimulus: the change-detection
  images (or gratings) and, in sessions that have them, ``spontaneous`` (grey screen) and
  ``natural_movie_one``; they are merged into one table as AllenSDK merges them;
* ``general/metadata``, ``general/task_parameters`` (lab metadata) and ``general/subject``: extension
  types (``ndx-aibs-behavior-ophys`` in real files) whose specification is cached in the file, read with
  ``load_namespaces=True`` and turned into plain values field by field, so any version of the extension works.

Taught in chapter 02_allen_loading.
"""

from __future__ import annotations

import re
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from course_utils.fileio import BadFileError

from .sessions import cre_line_from_genotype, image_set_from_session_type

__all__ = [
    "INT_NULL",
    "METADATA_KEYS",
    "PRESENTATION_COLUMNS",
    "TASK_PARAMETER_KEYS",
    "TRIAL_COLUMNS",
    "BehaviorSession",
    "flashes_since_change",
    "image_change",
    "load_behavior_session",
]

#: Columns of AllenSDK's trials table, in its order (``start_time`` and ``stop_time`` lead, as in the file).
TRIAL_COLUMNS = (
    "start_time", "stop_time", "initial_image_name", "change_image_name", "is_change", "change_time", "go",
    "catch", "lick_times", "response_time", "response_latency", "reward_time", "reward_volume", "hit",
    "false_alarm", "miss", "correct_reject", "aborted", "auto_rewarded", "change_frame", "trial_length",
)
#: AllenSDK's leading columns of ``stimulus_presentations`` (those a file has, in this order; the others follow).
PRESENTATION_COLUMNS = (
    "stimulus_block", "stimulus_block_name", "image_index", "image_name", "movie_frame_index", "duration",
    "start_time", "end_time", "start_frame", "end_frame", "is_change", "is_image_novel", "omitted",
    "movie_repeat", "flashes_since_change", "trials_id",
)
#: Keys of AllenSDK's ``metadata`` dictionary, in its order.
METADATA_KEYS = (
    "equipment_name", "sex", "age_in_days", "stimulus_frame_rate", "session_type", "date_of_acquisition",
    "reporter_line", "cre_line", "behavior_session_uuid", "driver_line", "mouse_id", "project_code",
    "full_genotype", "behavior_session_id",
)
#: Keys of AllenSDK's ``task_parameters`` dictionary (alphabetical, as AllenSDK lists them).
TASK_PARAMETER_KEYS = (
    "auto_reward_volume", "blank_duration_sec", "image_set", "n_stimulus_frames", "omitted_flash_fraction",
    "response_window_sec", "reward_volume", "session_type", "stimulus", "stimulus_distribution",
    "stimulus_duration_sec", "stimulus_name", "task",
)
#: AllenSDK's "not applicable" integer (an image index on a movie frame, a trial id outside the task).
INT_NULL = -99

_TRIAL_REQUIRED = ("start_time", "stop_time", "change_time", "go", "catch", "hit", "miss", "false_alarm",
                   "correct_reject", "aborted", "auto_rewarded", "lick_times")
# Optional NWB columns of time-interval tables (tags, links to time series) that AllenSDK skips
_NWB_BOOKKEEPING = {"tags", "timeseries", "tags_index", "timeseries_index"}
_BOOL_TRIAL_COLUMNS = ("is_change", "go", "catch", "hit", "false_alarm", "miss", "correct_reject", "aborted",
                       "auto_rewarded")
# Integer columns AllenSDK fills with -99 where they do not apply
_INT_PRESENTATION_COLUMNS = ("flashes_since_change", "image_index", "movie_repeat", "movie_frame_index", "repeat",
                             "stimulus_index")
_FETCH_AGAIN = ("Delete it and download it again (python -m course_utils data fetch allen_visual_behavior --mode "
                "sample, then python -m course_utils data verify), or pass another behavior_session_<id>.nwb file.")


def _plain(value):
    """hdmf attribute -> plain Python (bytes -> str, numpy scalars -> Python, text arrays -> lists)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        items = [_plain(v) for v in value.tolist()]
        # AllenSDK stores lists of floats as text arrays (response_window_sec = ['0.15', '0.75'])
        try:
            return [float(v) for v in items]
        except (TypeError, ValueError):
            return items
    if isinstance(value, np.generic):
        return value.item()
    return value


def _fields(container) -> dict:
    if container is None:
        return {}
    return {k: _plain(v) for k, v in container.fields.items() if not hasattr(v, "fields")}


def _series_table(series, value_name: str) -> pd.DataFrame:
    return pd.DataFrame({"timestamps": np.asarray(series.timestamps[:], dtype=float),
                         value_name: np.asarray(series.data[:])})


def _module_contents(nwbfile) -> str:
    return ", ".join(f"{m}/{{{', '.join(nwbfile.processing[m].data_interfaces)}}}" for m in nwbfile.processing) or "none"


def _interface(nwbfile, module: str, name: str, path: Path):
    if module not in nwbfile.processing or name not in nwbfile.processing[module].data_interfaces:
        raise BadFileError(
            path,
            f"has no processing/{module}/{name}, which a Visual Behavior behaviour file has (its processing "
            f"modules: {_module_contents(nwbfile)}).",
            "Pass a behaviour session file (behavior_session_<id>.nwb) of the Visual Behavior project.",
        )
    return nwbfile.processing[module][name]


@dataclass
class BehaviorSession:
    """One behaviour session's data, as plain pandas tables with AllenSDK's names.

    Build it with :func:`load_behavior_session` (or ``BehaviorSession.from_nwb(path)``).

    Attributes
    ----------
    behavior_session_id : int
    metadata : dict
        AllenSDK's keys (:data:`METADATA_KEYS`): ``equipment_name``, ``sex``, ``age_in_days``,
        ``stimulus_frame_rate``, ``session_type``, ``date_of_acquisition`` (UTC), ``reporter_line``, ``cre_line``
        (derived from the genotype), ``behavior_session_uuid``, ``driver_line``, ``mouse_id`` (a string, as
        AllenSDK returns it), ``project_code``, ``full_genotype``, ``behavior_session_id``.
    task_parameters : dict
        AllenSDK's keys (:data:`TASK_PARAMETER_KEYS`): ``response_window_sec`` ([0.15, 0.75]), ``reward_volume``,
        ``auto_reward_volume`` (mL), ``stimulus_duration_sec``, ``blank_duration_sec``,
        ``omitted_flash_fraction``, ``image_set`` (derived from the session type), ...
    trials : pandas.DataFrame
        One row per trial (index ``trials_id``), columns :data:`TRIAL_COLUMNS`.
    licks : pandas.DataFrame
        ``timestamps`` (s), ``frame``; empty in passive sessions.
    rewards : pandas.DataFrame
        ``volume`` (mL), ``timestamps`` (s), ``auto_rewarded``; empty in passive sessions.
    running_speed, raw_running_speed : pandas.DataFrame
        ``timestamps`` (s), ``speed`` (cm/s; filtered, resp. unfiltered), ~60 Hz.
    stimulus_presentations : pandas.DataFrame
        One row per flash, grey screen or movie frame (index ``stimulus_presentations_id``), every stimulus
        block of the session merged in time order: ``start_time``, ``end_time``, ``duration``, ``image_name``,
        ``is_change``, ``omitted`` and ``is_image_novel`` (nullable booleans, ``<NA>`` outside image blocks),
        ``flashes_since_change``, ``stimulus_name``, ... (see :func:`load_behavior_session`).
    stimulus_timestamps : numpy.ndarray
        Time (s) of every display frame.
    path : Path
        The file it was read from.

    Taught in chapter 02_allen_loading.
    """

    behavior_session_id: int
    metadata: dict
    task_parameters: dict
    trials: pd.DataFrame
    licks: pd.DataFrame
    rewards: pd.DataFrame
    running_speed: pd.DataFrame
    raw_running_speed: pd.DataFrame
    stimulus_presentations: pd.DataFrame
    stimulus_timestamps: np.ndarray
    path: Path | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (f"BehaviorSession(behavior_session_id={self.behavior_session_id}, "
                f"session_type={self.metadata.get('session_type')!r}, trials={len(self.trials)}, "
                f"licks={len(self.licks)}, rewards={len(self.rewards)})")

    @classmethod
    def from_nwb(cls, path: str | Path) -> BehaviorSession:
        """Read a behaviour NWB file; see :func:`load_behavior_session`."""
        return load_behavior_session(path)

    def _response_window_start(self) -> float:
        window = self.task_parameters.get("response_window_sec") or [0.15, 0.75]
        return float(window[0])

    def get_rolling_performance_df(self) -> pd.DataFrame:
        """AllenSDK's name for :func:`course_utils.allen.metrics.rolling_performance` of this session."""
        from .metrics import rolling_performance

        return rolling_performance(self.trials, response_window_start_s=self._response_window_start())

    def get_reward_rate(self) -> np.ndarray:
        """AllenSDK's name for :func:`course_utils.allen.metrics.reward_rate` (rewards/min per trial)."""
        from .metrics import reward_rate

        return reward_rate(self.trials, response_window_start_s=self._response_window_start())

    def get_performance_metrics(self, engaged_trial_reward_rate_threshold: float = 2.0) -> dict:
        """AllenSDK's name for :func:`course_utils.allen.metrics.performance_metrics` of this session."""
        from .metrics import performance_metrics

        return performance_metrics(self.trials, self.rewards, engaged_trial_reward_rate_threshold,
                                   rolling=self.get_rolling_performance_df())


# Parsing the specifications cached in a file takes most of the reading time; files caching the same
# namespaces and versions share one parsed type map.
_TYPE_MAPS: dict[tuple, object] = {}


def _cached_namespaces(handle: h5py.File) -> tuple:
    spec = handle.get("specifications")
    if spec is None:
        return ()
    return tuple(sorted((name, tuple(sorted(spec[name].keys()))) for name in spec.keys()))


def _open(path: Path, key: tuple):
    from hdmf.build import BuildManager
    from pynwb import NWBHDF5IO

    if key and key in _TYPE_MAPS:
        return NWBHDF5IO(str(path), "r", manager=BuildManager(_TYPE_MAPS[key]))
    io = NWBHDF5IO(str(path), "r", load_namespaces=True)
    if key:
        _TYPE_MAPS[key] = io.manager.type_map
    return io


def _check_is_nwb(path: Path) -> tuple:
    """Refuse, with the file's name, the problem and the fix, what is not a readable NWB file.

    Returns the cached-namespace key of the file (for :func:`_open`).
    """
    if not path.is_file():
        raise FileNotFoundError(
            f"behaviour NWB file {path} does not exist. List the sessions on disk with "
            "with_nwb_files(load_session_table(folder), folder).has_nwb"
        )
    size = path.stat().st_size
    if size == 0:
        raise BadFileError(path, "is empty (0 bytes): an interrupted download or copy, not an NWB file.",
                           _FETCH_AGAIN)
    if not h5py.is_hdf5(path):
        with open(path, "rb") as handle:
            head = handle.read(64)
        looks = ("a web page or a server's error message" if head.lstrip().startswith((b"<", b"{"))
                 else "another kind of file")
        raise BadFileError(
            path,
            f"is not an NWB file: NWB files are HDF5 and this is not ({looks}; it starts with {head[:24]!r}).",
            _FETCH_AGAIN,
        )
    try:
        with h5py.File(path, "r") as handle:
            if "nwb_version" not in handle.attrs and "general" not in handle:
                raise BadFileError(
                    path,
                    f"is an HDF5 file but not an NWB file (no nwb_version attribute; top-level groups: "
                    f"{sorted(handle.keys())}).",
                    "Pass a behavior_session_<id>.nwb file of the Visual Behavior project.",
                )
            return _cached_namespaces(handle)
    except OSError as err:
        raise BadFileError(path, _damage(err, size), _FETCH_AGAIN) from err


def _damage(err: Exception, size: int) -> str:
    """Say what HDF5 found wrong, in words (a truncated file says how much is missing)."""
    text = str(err)
    stored = re.search(r"stored_eof\s*=\s*(\d+)", text)
    if "truncated" in text and stored:
        expected = int(stored.group(1))
        return (f"is truncated: {size:,} bytes on disk of the {expected:,} the file says it holds "
                f"({expected - size:,} missing), as after an interrupted download.")
    return f"is damaged: HDF5 cannot read it ({type(err).__name__}: {text.splitlines()[0] if text else ''})."


def load_behavior_session(path: str | Path) -> BehaviorSession:
    """Read one behaviour NWB file (real or demo) into a :class:`BehaviorSession`.

    What AllenSDK 2.16.2 returns for the same file, computed with plain pynwb and pandas:

    * ``trials``: the file's table (``start_time``, ``stop_time`` first), ``change_frame`` an integer with
      -99 where there is no change. Two columns are added only when a file lacks them, because chapter 5
      needs them: ``response_latency`` (first-lick time minus change time) and ``trial_length``.
    * ``rewards``: ``volume``, ``timestamps``, ``auto_rewarded``.
    * ``stimulus_presentations``: every ``*_presentations`` table merged and sorted by start time, as
      AllenSDK merges them: integer columns stay integers (-99 where they do not apply, e.g. ``image_index``
      of a movie frame), float columns holding only 0/1 become nullable booleans (so ``omitted`` and
      ``is_image_novel`` are ``<NA>`` on grey-screen and movie rows), ``"N/A"`` text becomes ``""``,
      ``stop_time`` is renamed ``end_time`` and ``image_set`` is dropped. ``is_change`` is recomputed
      (:func:`image_change`), and so is ``flashes_since_change``, over the image rows only
      (:func:`flashes_since_change` says how this differs from AllenSDK). ``active``, ``trials_id`` and
      ``is_sham_change`` come from the file; a file without them gets them computed from the trials, as
      AllenSDK does. Only when a file lacks them are ``omitted`` (``image_name == "omitted"``) and
      ``stimulus_name`` (from the table's name) filled in.
    * ``metadata`` and ``task_parameters``: AllenSDK's keys; ``cre_line`` from the genotype
      (:func:`~course_utils.allen.sessions.cre_line_from_genotype`), ``image_set`` from the session type.

    Parameters
    ----------
    path : str or Path
        A ``behavior_session_<id>.nwb`` file.

    Returns
    -------
    BehaviorSession
        Metadata, task parameters and every table, with AllenSDK's names.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    BadFileError
        (a ``ValueError``) If the file is empty, not HDF5 (a web page, a text file), HDF5 but not NWB,
        truncated (an interrupted download: the message says how many bytes are missing) or damaged, has no
        trials, or lacks a table of the Visual Behavior layout; the message names the file, what is wrong,
        and what to do.

    Examples
    --------
    >>> session = load_behavior_session(folder / "behavior_sessions" / "behavior_session_1.nwb")  # doctest: +SKIP
    >>> session.trials.head()   # doctest: +SKIP

    Taught in chapter 02_allen_loading.
    """
    path = Path(path)
    key = _check_is_nwb(path)
    with warnings.catch_warnings():
        # a namespace already loaded (a second file in the same process) is reported, harmlessly
        warnings.simplefilter("ignore")
        io = None
        try:
            io = _open(path, key)
            nwbfile = io.read()
        except Exception as err:  # pynwb/hdmf raise many kinds of error on a damaged file
            if io is not None:
                io.close()
            raise BadFileError(path, f"is damaged: pynwb cannot read it ({type(err).__name__}: {err}).",
                               _FETCH_AGAIN) from err
    try:
        return _read(nwbfile, path)
    except OSError as err:  # a dataset that HDF5 cannot read back (damaged in the middle)
        raise BadFileError(path, _damage(err, path.stat().st_size), _FETCH_AGAIN) from err
    finally:
        io.close()


# ------------------------------------------------------------------------------------------- metadata
def _age_in_days(age) -> int | None:
    """AllenSDK's reading of an ISO 8601 age code (``"P89D"`` -> 89; no leading P -> None)."""
    if not isinstance(age, str) or not age.startswith("P"):
        return None
    digits = re.search(r"\d+", age)
    return int(digits.group()) if digits else None


def _uuid(value) -> uuid.UUID | str | None:
    """AllenSDK returns the session's UUID as a ``uuid.UUID`` ("None" in the file -> None)."""
    try:
        return None if value in (None, "None") else uuid.UUID(str(value))
    except ValueError:  # not a UUID: keep the text rather than refuse the whole file
        return value


def _metadata(nwbfile) -> dict:
    lab = nwbfile.lab_meta_data
    behavior = _fields(lab.get("metadata"))
    subject = _fields(nwbfile.subject)
    started = pd.Timestamp(nwbfile.session_start_time)
    started = started.tz_localize("UTC") if started.tz is None else started.tz_convert("UTC")
    try:
        session_id = int(behavior.get("behavior_session_id", nwbfile.identifier))
    except (TypeError, ValueError):
        session_id = -1
    session_uuid = behavior.get("behavior_session_uuid")
    driver_line = subject.get("driver_line")
    genotype = subject.get("genotype")
    reporter = subject.get("reporter_line")
    mouse = subject.get("subject_id")
    values = {
        "equipment_name": behavior.get("equipment_name"),
        "sex": subject.get("sex"),
        "age_in_days": _age_in_days(subject.get("age")),
        "stimulus_frame_rate": behavior.get("stimulus_frame_rate"),
        "session_type": behavior.get("session_type", nwbfile.session_description),
        "date_of_acquisition": started,
        "reporter_line": None if reporter in (None, "None") else reporter,
        "cre_line": None if genotype is None else cre_line_from_genotype(genotype),
        "behavior_session_uuid": _uuid(session_uuid),
        "driver_line": None if driver_line is None else sorted(driver_line),
        "mouse_id": None if mouse is None else str(mouse),
        "project_code": behavior.get("project_code") or "Not Available",
        "full_genotype": None if genotype is None else str(genotype),
        "behavior_session_id": session_id,
    }
    return {key: values[key] for key in METADATA_KEYS}


def _task_parameters(nwbfile, session_type: str, path: Path) -> dict:
    stored = _fields(nwbfile.lab_meta_data.get("task_parameters"))
    values = {key: stored.get(key) for key in TASK_PARAMETER_KEYS}
    values["session_type"] = stored.get("session_type", session_type)
    try:
        values["image_set"] = image_set_from_session_type(values["session_type"])
    except ValueError as err:
        warnings.warn(f"{path}: {err}; task_parameters['image_set'] is None", stacklevel=4)
    return values


# ------------------------------------------------------------------------------------------- trials
def _trials_table(nwbfile, path: Path) -> pd.DataFrame:
    table = nwbfile.trials if nwbfile.trials is not None else nwbfile.intervals.get("trials")
    if table is None or len(table) == 0:
        raise BadFileError(
            path,
            "has no trials (intervals/trials is missing or empty), and every behaviour session has them.",
            "Check that it is a complete behavior_session_<id>.nwb. " + _FETCH_AGAIN,
        )
    trials = table.to_dataframe(exclude=_NWB_BOOKKEEPING | {"lick_events"})
    trials.index = pd.RangeIndex(len(trials), name="trials_id")
    trials = trials.rename(columns={"stimulus_change": "is_change"})  # the older name, renamed by AllenSDK too
    if "change_time" not in trials.columns and "change_time_no_display_delay" in trials.columns:
        # some releases store only the change time without the monitor's display delay
        trials["change_time"] = trials["change_time_no_display_delay"]
    missing = [c for c in _TRIAL_REQUIRED if c not in trials.columns]
    if missing:
        raise BadFileError(path, f"has a trials table without the column(s) {missing} (it has "
                                 f"{list(trials.columns)}).",
                           "Pass a behavior_session_<id>.nwb file of the Visual Behavior project.")
    trials["lick_times"] = [np.asarray(v, dtype=float) for v in trials["lick_times"]]
    for column in _BOOL_TRIAL_COLUMNS:
        if column in trials.columns:
            trials[column] = trials[column].astype(bool)
    if "change_frame" in trials.columns:
        trials["change_frame"] = trials["change_frame"].fillna(INT_NULL).astype(int)
    if "response_latency" not in trials.columns:  # chapter 5 needs it; older files lack it
        trials["response_latency"] = trials["response_time"] - trials["change_time"]
    if "trial_length" not in trials.columns:
        trials["trial_length"] = trials["stop_time"] - trials["start_time"]
    ordered = [c for c in TRIAL_COLUMNS if c in trials.columns]
    return trials[ordered + [c for c in trials.columns if c not in ordered]]


# ------------------------------------------------------------------------------------------- stimuli
def image_change(stimulus_presentations: pd.DataFrame) -> pd.Series:
    """Whether each presentation is an image change: a shown image that differs from the previous shown one.

    AllenSDK's ``is_change`` rule: only image rows that were shown count (``omitted`` is False; grey screens
    and movie frames, whose ``omitted`` is ``<NA>``, are skipped), and the first shown image is not a change.

    Parameters
    ----------
    stimulus_presentations : pandas.DataFrame
        With ``image_name`` and ``omitted``, in time order.

    Returns
    -------
    pandas.Series of bool
        ``is_change``, False on every row that is not a shown image.

    Examples
    --------
    >>> stim = pd.DataFrame({"image_name": ["a", "a", "omitted", "b", None],
    ...                      "omitted": pd.array([False, False, True, False, None], dtype="boolean")})
    >>> image_change(stim).tolist()
    [False, False, False, True, False]

    Taught in chapter 02_allen_loading.
    """
    shown = _shown_images(stimulus_presentations)
    names = stimulus_presentations.loc[shown, "image_name"]
    changed = (names != names.shift()).to_numpy().copy()
    if len(changed):
        changed[0] = False
    out = pd.Series(False, index=stimulus_presentations.index, name="is_change")
    out[shown] = changed
    return out


def _shown_images(stim: pd.DataFrame) -> np.ndarray:
    omitted = stim["omitted"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    return stim["image_name"].notna().to_numpy() & ~omitted


def flashes_since_change(stimulus_presentations: pd.DataFrame) -> pd.Series:
    """Flashes of the current image since the last change, counted over the image rows only.

    A change flash is 0, each following shown flash adds 1, an omitted flash repeats the count of the flash
    before it, as AllenSDK counts. The difference: AllenSDK 2.16.2's NWB reader recounts over the *merged*
    table, so grey-screen and movie rows (neither omitted nor changes) keep adding 1 and a 9,000-frame movie
    ends with counts in the thousands (and an image block after a leading grey screen starts at 1). Those
    numbers mean nothing, so here non-image rows get -99, AllenSDK's own "not applicable" integer (the value
    the file stores for them), and image rows get the count over the image block alone, which is also what
    AllenSDK stored in the file when it wrote it.

    Parameters
    ----------
    stimulus_presentations : pandas.DataFrame
        With ``image_name``, ``omitted`` and ``is_change``, in time order.

    Returns
    -------
    pandas.Series of int

    Examples
    --------
    >>> stim = pd.DataFrame({"image_name": ["a", "a", "omitted", "a", "b", "b", None],
    ...                      "omitted": pd.array([False, False, True, False, False, False, None], dtype="boolean"),
    ...                      "is_change": [False, False, False, False, True, False, False]})
    >>> flashes_since_change(stim).tolist()
    [0, 1, 1, 2, 0, 1, -99]

    Taught in chapter 02_allen_loading.
    """
    stim = stimulus_presentations
    out = np.full(len(stim), INT_NULL, dtype=int)
    rows = np.flatnonzero(stim["image_name"].notna().to_numpy())
    if len(rows):
        omitted = stim["omitted"].astype("boolean").fillna(False).to_numpy(dtype=bool)[rows]
        change = stim["is_change"].astype("boolean").fillna(False).to_numpy(dtype=bool)[rows]
        step = (~omitted).astype(int)
        reset = ~omitted & (change | (np.arange(len(rows)) == 0))
        counted = np.cumsum(step)
        last_reset = np.maximum.accumulate(np.where(reset, np.arange(len(rows)), -1))
        out[rows] = counted - np.where(last_reset >= 0, counted[np.maximum(last_reset, 0)], 0)
    return pd.Series(out, index=stim.index, name="flashes_since_change")


def _column_values(table, name: str):
    column = table[name]
    return column[:] if hasattr(column, "target") else column.data[:]  # a ragged column -> one list per row


def _presentation_tables(nwbfile) -> list[pd.DataFrame]:
    frames = []
    for name, table in nwbfile.intervals.items():
        if not name.endswith("_presentations"):
            continue
        columns = {c: _column_values(table, c) for c in table.colnames if c not in _NWB_BOOKKEEPING}
        columns = {"start_time": table["start_time"].data[:], "stop_time": table["stop_time"].data[:], **columns}
        frame = pd.DataFrame(columns).replace({"N/A": ""})
        if "stimulus_name" not in frame.columns:  # real files store it; a file without it gets the table's name
            frame["stimulus_name"] = name[: -len("_presentations")]
        frames.append(frame)
    return frames


def _add_trial_columns(stim: pd.DataFrame, trials: pd.DataFrame) -> pd.DataFrame:
    """AllenSDK's ``active``, ``trials_id`` and ``is_sham_change`` for a file that does not store them."""
    has_image = stim["image_name"].notna().to_numpy()
    start = stim["start_time"].to_numpy(dtype=float)
    in_task = (start > trials["start_time"].min()) & (start < trials["stop_time"].max()) & has_image
    if "active" not in stim.columns:
        active = in_task.copy()
        if "stimulus_block" in stim.columns:  # a block with any active row is active as a whole
            blocks = stim["stimulus_block"].to_numpy()
            active = np.isin(blocks, blocks[active])
        stim["active"] = active
    if "trials_id" not in stim.columns:
        # the last trial that started before the presentation (AllenSDK loops over trials to find it)
        which = np.searchsorted(trials["start_time"].to_numpy(dtype=float), start, side="left") - 1
        keep = (which >= 0) & (start < trials["stop_time"].max()) & has_image
        stim["trials_id"] = np.where(keep, trials.index.to_numpy()[np.maximum(which, 0)], INT_NULL).astype(int)
    if "is_sham_change" not in stim.columns and "change_frame" in trials.columns and "start_frame" in stim.columns:
        linked = trials.loc[trials.index.intersection(stim["trials_id"].unique())]
        sham_frames = linked.loc[linked["catch"].astype(bool), "change_frame"].unique()
        stim["is_sham_change"] = stim["start_frame"].isin(sham_frames).to_numpy()
    return stim


def _stimulus_presentations(nwbfile, trials: pd.DataFrame) -> pd.DataFrame:
    frames = _presentation_tables(nwbfile)
    if not frames:
        stim = pd.DataFrame({c: pd.Series(dtype=float) for c in ("start_time", "end_time", "duration")})
        stim.index.name = "stimulus_presentations_id"
        return stim
    stim = pd.concat(frames, sort=False)
    stim = stim.astype({c: "int64" for c in stim.select_dtypes(include="int").columns})
    # AllenSDK stores nullable booleans as floats (NaN outside their block) and turns every float column
    # holding only 0 and 1 back into a nullable boolean when it reads the file
    # (integer columns that lost their type in the merge are left to the -99 filling below)
    flags = [c for c in stim.select_dtypes(include="float").columns
             if not c.endswith("_index") and c not in _INT_PRESENTATION_COLUMNS
             and set(np.unique(stim[c].dropna())) <= {0.0, 1.0}]
    stim = stim.astype({c: "boolean" for c in flags})
    stim = stim.sort_values("start_time", kind="stable").reset_index(drop=True)
    if "image_name" not in stim.columns:
        stim["image_name"] = np.nan
    if "omitted" not in stim.columns:  # older files: an omitted flash is named "omitted"
        stim["omitted"] = pd.array(stim["image_name"].eq("omitted").to_numpy(), dtype="boolean")
    stim["is_change"] = image_change(stim)
    stim["flashes_since_change"] = flashes_since_change(stim)
    for column in _INT_PRESENTATION_COLUMNS:
        if column in stim.columns:
            stim[column] = stim[column].fillna(INT_NULL).astype(int)
    stim = _add_trial_columns(stim, trials)
    stim = stim.drop(columns=["image_set", "index"], errors="ignore").rename(columns={"stop_time": "end_time"})
    leading = [c for c in PRESENTATION_COLUMNS if c in stim.columns]
    stim = stim[leading + [c for c in stim.columns if c not in leading]]
    stim.index = pd.RangeIndex(len(stim), name="stimulus_presentations_id")
    return stim


# ------------------------------------------------------------------------------------------- licks, rewards
def _licks(nwbfile, path: Path) -> pd.DataFrame:
    if "licking" not in nwbfile.processing:  # passive sessions: no spout, no licks, no module
        return pd.DataFrame({"timestamps": pd.Series(dtype=float), "frame": pd.Series(dtype=int)})
    series = _interface(nwbfile, "licking", "licks", path)
    frames = np.asarray(series.data[:], dtype=float)
    return pd.DataFrame({"timestamps": np.asarray(series.timestamps[:], dtype=float),
                         "frame": frames.astype(int) if np.isfinite(frames).all() else frames})


def _rewards(nwbfile, path: Path) -> pd.DataFrame:
    if "rewards" not in nwbfile.processing:  # passive sessions
        return pd.DataFrame({"volume": pd.Series(dtype=float), "timestamps": pd.Series(dtype=float),
                             "auto_rewarded": pd.Series(dtype=bool)})
    auto = _interface(nwbfile, "rewards", "autorewarded", path)
    volume = _interface(nwbfile, "rewards", "volume", path)
    return pd.DataFrame({"volume": np.asarray(volume.data[:], dtype=float),
                         "timestamps": np.asarray(auto.timestamps[:], dtype=float),
                         "auto_rewarded": np.asarray(auto.data[:]).astype(bool)})


def _read(nwbfile, path: Path) -> BehaviorSession:
    metadata = _metadata(nwbfile)
    trials = _trials_table(nwbfile, path)
    frames = _interface(nwbfile, "stimulus", "timestamps", path)
    running_module = nwbfile.processing["running"].data_interfaces if "running" in nwbfile.processing else {}
    speed_name = "running_speed" if "speed" not in running_module and "running_speed" in running_module else "speed"
    running = _series_table(_interface(nwbfile, "running", speed_name, path), "speed")
    raw = (_series_table(running_module["speed_unfiltered"], "speed")
           if "speed_unfiltered" in running_module else running.copy())
    return BehaviorSession(
        behavior_session_id=metadata["behavior_session_id"],
        metadata=metadata,
        task_parameters=_task_parameters(nwbfile, metadata["session_type"], path),
        trials=trials,
        licks=_licks(nwbfile, path),
        rewards=_rewards(nwbfile, path),
        running_speed=running,
        raw_running_speed=raw,
        stimulus_presentations=_stimulus_presentations(nwbfile, trials),
        stimulus_timestamps=np.asarray(frames.timestamps[:], dtype=float),
        path=path,
    )
