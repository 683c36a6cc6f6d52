"""Read one Visual Behavior behaviour NWB file with plain pynwb (no AllenSDK).

The tables come out with AllenSDK's names and columns, so the Allen documentation applies:
``metadata``, ``task_parameters``, ``trials``, ``licks``, ``rewards``, ``running_speed``,
``raw_running_speed``, ``stimulus_presentations``, ``stimulus_timestamps``.

Layout read (the real files, and the course's demo files):

* ``session_description`` = session type, ``identifier`` = behaviour session id;
* ``processing/stimulus/timestamps`` (frame times), ``processing/running/{speed, speed_unfiltered, dx}``,
  ``processing/licking/licks`` (data = frame, timestamps = lick times),
  ``processing/rewards/{volume, autorewarded}``;
* ``intervals/trials`` and ``intervals/<stimulus>_presentations``;
* ``general/metadata``, ``general/task_parameters`` (lab metadata) and ``general/subject``: extension
  types (``ndx-aibs-behavior-ophys`` in real files) whose specification is cached in the file, read with
  ``load_namespaces=True`` and turned into plain dicts field by field, so any version of the extension works.

Taught in chapter 02_allen_loading.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

__all__ = ["BehaviorSession", "load_behavior_session", "TRIAL_COLUMNS"]

#: Columns of AllenSDK's trials table, in its order.
TRIAL_COLUMNS = (
    "initial_image_name", "change_image_name", "is_change", "change_time", "go", "catch", "lick_times",
    "response_time", "response_latency", "reward_time", "reward_volume", "hit", "false_alarm", "miss",
    "correct_reject", "aborted", "auto_rewarded", "change_frame", "start_time", "stop_time", "trial_length",
)
_TRIAL_REQUIRED = ("start_time", "stop_time", "change_time", "go", "catch", "hit", "miss", "false_alarm",
                   "correct_reject", "aborted", "auto_rewarded", "lick_times")
# Optional NWB columns of time-interval tables (tags, links to time series) that the analyses never use
_NWB_BOOKKEEPING = {"tags", "timeseries"}
_BOOL_TRIAL_COLUMNS = ("is_change", "go", "catch", "hit", "false_alarm", "miss", "correct_reject", "aborted",
                       "auto_rewarded")


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


def _interface(nwbfile, module: str, name: str, path: Path):
    if module not in nwbfile.processing or name not in nwbfile.processing[module].data_interfaces:
        raise ValueError(
            f"{path}: no processing/{module}/{name}; is this a Visual Behavior behaviour NWB file "
            "(behavior_session_<id>.nwb)?"
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
        Session, rig and subject metadata (``session_type``, ``equipment_name``, ``stimulus_frame_rate``,
        ``mouse_id``, ``sex``, ``full_genotype``, ``driver_line``, ``reporter_line``,
        ``date_of_acquisition``, ...).
    task_parameters : dict
        ``response_window_sec`` ([0.15, 0.75]), ``reward_volume``, ``auto_reward_volume`` (mL),
        ``stimulus_duration_sec``, ``blank_duration_sec``, ``omitted_flash_fraction``, ...
    trials : pandas.DataFrame
        One row per trial (index ``trials_id``), columns :data:`TRIAL_COLUMNS`.
    licks : pandas.DataFrame
        ``timestamps`` (s), ``frame``.
    rewards : pandas.DataFrame
        ``volume`` (mL), ``timestamps`` (s), ``autorewarded``.
    running_speed, raw_running_speed : pandas.DataFrame
        ``timestamps`` (s), ``speed`` (cm/s; filtered, resp. unfiltered), ~60 Hz.
    stimulus_presentations : pandas.DataFrame
        One row per flash (index ``stimulus_presentations_id``): ``start_time``, ``end_time``,
        ``stop_time``, ``duration``, ``image_name``, ``is_change``, ``omitted``, ``flashes_since_change``, ...
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

    def get_rolling_performance_df(self) -> pd.DataFrame:
        """AllenSDK's name for :func:`course_utils.allen.metrics.rolling_performance` of this session."""
        from .metrics import rolling_performance

        start = float(self.task_parameters.get("response_window_sec", [0.15, 0.75])[0])
        return rolling_performance(self.trials, response_window_start=start)

    def get_reward_rate(self) -> np.ndarray:
        """AllenSDK's name for :func:`course_utils.allen.metrics.reward_rate` (rewards/min per trial)."""
        from .metrics import reward_rate

        start = float(self.task_parameters.get("response_window_sec", [0.15, 0.75])[0])
        return reward_rate(self.trials, response_window_start=start)

    def get_performance_metrics(self, engaged_trial_reward_rate_threshold: float = 2.0) -> dict:
        """AllenSDK's name for :func:`course_utils.allen.metrics.performance_metrics` of this session."""
        from .metrics import performance_metrics

        return performance_metrics(self.trials, self.rewards, engaged_trial_reward_rate_threshold,
                                   rolling=self.get_rolling_performance_df())


# Parsing the specifications cached in a file takes most of the reading time; files caching the same
# namespaces and versions share one parsed type map.
_TYPE_MAPS: dict[tuple, object] = {}


def _cached_namespaces(path: Path) -> tuple:
    with h5py.File(path, "r") as handle:
        spec = handle.get("specifications")
        if spec is None:
            return ()
        return tuple(sorted((name, tuple(sorted(spec[name].keys()))) for name in spec.keys()))


def _open(path: Path):
    from hdmf.build import BuildManager
    from pynwb import NWBHDF5IO

    key = _cached_namespaces(path)
    if key and key in _TYPE_MAPS:
        return NWBHDF5IO(str(path), "r", manager=BuildManager(_TYPE_MAPS[key]))
    io = NWBHDF5IO(str(path), "r", load_namespaces=True)
    if key:
        _TYPE_MAPS[key] = io.manager.type_map
    return io


def _check_is_nwb(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"behaviour NWB file {path} does not exist")
    if not h5py.is_hdf5(path):
        raise ValueError(
            f"{path} is not an NWB file (not HDF5). Pass a behavior_session_<id>.nwb file, e.g. from "
            "get_source('allen_visual_behavior') / 'behavior_sessions'; a partial download must be fetched again"
        )
    with h5py.File(path, "r") as handle:
        if "nwb_version" not in handle.attrs and "general" not in handle:
            raise ValueError(f"{path} is an HDF5 file but not an NWB file (no nwb_version attribute)")


def _trials_table(nwbfile, path: Path) -> pd.DataFrame:
    table = nwbfile.trials if nwbfile.trials is not None else nwbfile.intervals.get("trials")
    if table is None or len(table) == 0:
        raise ValueError(
            f"{path} has no trials (intervals/trials is missing or empty): a behaviour session needs a "
            "trials table; check the file is a complete behavior_session_<id>.nwb"
        )
    trials = table.to_dataframe(exclude=_NWB_BOOKKEEPING)
    trials.index = pd.RangeIndex(len(trials), name="trials_id")
    if "stimulus_change" in trials.columns and "is_change" not in trials.columns:  # older AllenSDK name
        trials = trials.rename(columns={"stimulus_change": "is_change"})
    if "change_time" not in trials.columns and "change_time_no_display_delay" in trials.columns:
        # some releases store only the change time without the monitor's display delay
        trials["change_time"] = trials["change_time_no_display_delay"]
    missing = [c for c in _TRIAL_REQUIRED if c not in trials.columns]
    if missing:
        raise ValueError(f"{path}: the trials table lacks the column(s) {missing}")
    trials["lick_times"] = [np.asarray(v, dtype=float) for v in trials["lick_times"]]
    for column in _BOOL_TRIAL_COLUMNS:
        if column in trials.columns:
            trials[column] = trials[column].astype(bool)
    if "response_latency" not in trials.columns:
        trials["response_latency"] = trials["response_time"] - trials["change_time"]
    if "trial_length" not in trials.columns:
        trials["trial_length"] = trials["stop_time"] - trials["start_time"]
    ordered = [c for c in TRIAL_COLUMNS if c in trials.columns]
    return trials[ordered + [c for c in trials.columns if c not in ordered]]


def _stimulus_presentations(nwbfile) -> pd.DataFrame:
    tables = []
    for name, table in nwbfile.intervals.items():
        if name.endswith("_presentations"):
            frame = table.to_dataframe(exclude=_NWB_BOOKKEEPING)
            if "stimulus_name" not in frame.columns:
                frame["stimulus_name"] = name[: -len("_presentations")]
            tables.append(frame)
    if not tables:
        return pd.DataFrame(columns=["start_time", "stop_time", "image_name", "is_change", "omitted"])
    stim = pd.concat(tables, ignore_index=True).sort_values("start_time", kind="stable").reset_index(drop=True)
    stim.index.name = "stimulus_presentations_id"
    stim["end_time"] = stim["stop_time"]
    if "duration" not in stim.columns:
        stim["duration"] = stim["stop_time"] - stim["start_time"]
    if "omitted" not in stim.columns:
        stim["omitted"] = stim.get("image_name", pd.Series(index=stim.index, dtype=object)).eq("omitted")
    stim["omitted"] = stim["omitted"].fillna(False).astype(bool)
    if "is_change" not in stim.columns and "image_name" in stim.columns:
        # AllenSDK's definition: a shown image that differs from the previous shown image
        shown = stim.loc[~stim["omitted"], "image_name"]
        stim["is_change"] = False
        stim.loc[shown.index, "is_change"] = (shown != shown.shift()).to_numpy() & shown.shift().notna().to_numpy()
    stim["is_change"] = stim["is_change"].fillna(False).astype(bool)
    return stim


def load_behavior_session(path: str | Path) -> BehaviorSession:
    """Read one behaviour NWB file (real or demo) into a :class:`BehaviorSession`.

    Parameters
    ----------
    path : str or Path
        A ``behavior_session_<id>.nwb`` file.

    Returns
    -------
    BehaviorSession
        Metadata, task parameters and every table, with AllenSDK's column names.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not an NWB file, has no trials, or lacks a table of the Visual Behavior layout (the
        message names the file and what is missing).

    Examples
    --------
    >>> session = load_behavior_session(folder / "behavior_sessions" / "behavior_session_1.nwb")  # doctest: +SKIP
    >>> session.trials.head()   # doctest: +SKIP

    Taught in chapter 02_allen_loading.
    """
    path = Path(path)
    _check_is_nwb(path)
    with warnings.catch_warnings():
        # a namespace already loaded (a second file in the same process) is reported, harmlessly
        warnings.simplefilter("ignore")
        io = _open(path)
        try:
            nwbfile = io.read()
            session = _read(nwbfile, path)
        finally:
            io.close()
    return session


def _read(nwbfile, path: Path) -> BehaviorSession:
    lab = nwbfile.lab_meta_data
    metadata = _fields(lab.get("metadata"))
    task_parameters = _fields(lab.get("task_parameters"))
    subject = _fields(nwbfile.subject)
    metadata.setdefault("session_type", nwbfile.session_description)
    started = pd.Timestamp(nwbfile.session_start_time)
    metadata["date_of_acquisition"] = started.tz_localize("UTC") if started.tz is None else started.tz_convert("UTC")
    if subject:
        mouse = str(subject.get("subject_id", ""))
        metadata["mouse_id"] = int(mouse) if mouse.isdigit() else mouse
        metadata["full_genotype"] = subject.get("genotype")
        for key in ("sex", "driver_line", "reporter_line", "age"):
            if key in subject:
                metadata[key] = subject[key]
        if "age_in_days" in subject or "age" in subject:
            age = str(subject.get("age_in_days", subject.get("age", "")))
            metadata["age_in_days"] = int("".join(ch for ch in age if ch.isdigit()) or -1)
    try:
        session_id = int(metadata.get("behavior_session_id", nwbfile.identifier))
    except (TypeError, ValueError):
        session_id = -1
    metadata["behavior_session_id"] = session_id

    trials = _trials_table(nwbfile, path)
    frames = _interface(nwbfile, "stimulus", "timestamps", path)
    stimulus_timestamps = np.asarray(frames.timestamps[:], dtype=float)
    licks_series = _interface(nwbfile, "licking", "licks", path)
    lick_frames = np.asarray(licks_series.data[:], dtype=float)
    licks = pd.DataFrame({"timestamps": np.asarray(licks_series.timestamps[:], dtype=float),
                          "frame": lick_frames.astype(int) if np.isfinite(lick_frames).all() else lick_frames})
    volume = _interface(nwbfile, "rewards", "volume", path)
    auto = _interface(nwbfile, "rewards", "autorewarded", path)
    rewards = pd.DataFrame({"volume": np.asarray(volume.data[:], dtype=float),
                            "timestamps": np.asarray(volume.timestamps[:], dtype=float),
                            "autorewarded": np.asarray(auto.data[:]).astype(bool)})
    running_module = nwbfile.processing["running"].data_interfaces if "running" in nwbfile.processing else {}
    speed_name = "running_speed" if "speed" not in running_module and "running_speed" in running_module else "speed"
    running = _series_table(_interface(nwbfile, "running", speed_name, path), "speed")
    raw = (_series_table(running_module["speed_unfiltered"], "speed")
           if "speed_unfiltered" in running_module else running.copy())
    return BehaviorSession(
        behavior_session_id=session_id,
        metadata=metadata,
        task_parameters=task_parameters,
        trials=trials,
        licks=licks,
        rewards=rewards,
        running_speed=running,
        raw_running_speed=raw,
        stimulus_presentations=_stimulus_presentations(nwbfile),
        stimulus_timestamps=stimulus_timestamps,
        path=path,
    )
