"""Rolling performance and session performance metrics, reproducing AllenSDK 2.16.2 exactly.

AllenSDK's ``BehaviorSession.get_rolling_performance_df``, ``get_reward_rate`` and
``get_performance_metrics`` are re-implemented here on a plain trials table (vectorised, no AllenSDK), with
the same definitions (see SOURCES.md of the course, section 2):

* rates use the last 100 **non-aborted** trials, with the 1/(2N) correction (N = responses of that kind in
  the window, N = 0 -> NaN), and d' with both rates clipped to [0.01, 0.99] (so d' <= 4.6527);
* the reward rate (rewards/min) uses a centred window of ~50 trials over **all** trials; the first 10 trials
  are NaN; a trial is "engaged" when its reward rate is strictly above 2 rewards/min;
* passive sessions (no reward volume, no licks) have a rolling d' of 0.

Taught in chapter 05_allen_behavior_analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from course_utils.behavior.sdt import corrected_rate, dprime

__all__ = [
    "ROLLING_COLUMNS",
    "TRIAL_COLUMNS_NEEDED",
    "performance_metrics",
    "response_latency",
    "reward_rate",
    "rolling_performance",
    "handoff_criterion_met",
    "session_metrics_table",
    "trial_outcomes",
]

TRIAL_COLUMNS_NEEDED = (
    "start_time", "change_time", "lick_times", "reward_volume", "aborted", "go", "catch",
    "hit", "miss", "false_alarm", "correct_reject", "auto_rewarded",
)
ROLLING_COLUMNS = (
    "reward_rate", "hit_rate_raw", "hit_rate", "false_alarm_rate_raw", "false_alarm_rate", "rolling_dprime",
)


def _check_trials(trials: pd.DataFrame, needed=TRIAL_COLUMNS_NEEDED) -> None:
    if not isinstance(trials, pd.DataFrame):
        raise TypeError(f"trials must be a pandas DataFrame (BehaviorSession.trials), not {type(trials).__name__}")
    missing = [c for c in needed if c not in trials.columns]
    if missing:
        raise ValueError(
            f"the trials table lacks the column(s) {missing}; it needs {list(needed)} as in "
            "BehaviorSession(...).trials (AllenSDK's column names)"
        )


def _seconds(value_s: float, allensdk_value: float | None) -> float:
    """``value_s`` (the course's ``_s`` name), or the value passed under AllenSDK's name."""
    return float(value_s if allensdk_value is None else allensdk_value)


def response_latency(
    trials: pd.DataFrame, response_window_start_s: float = 0.15, *, response_window_start: float | None = None
) -> np.ndarray:
    """Latency (s) of the first lick more than ``response_window_start_s`` after each trial's change.

    Parameters
    ----------
    trials : pandas.DataFrame
        With ``change_time`` (NaN on aborted trials) and ``lick_times`` (an array of lick times per trial).
    response_window_start_s : float, default 0.15
        Licks at most this long (s) after the change are not counted (too fast to be a response).
    response_window_start : float, optional
        AllenSDK's name for ``response_window_start_s`` (the course suffixes seconds with ``_s``).

    Returns
    -------
    numpy.ndarray
        One latency per trial; ``inf`` when there is no such lick (or no change time).

    Examples
    --------
    >>> t = pd.DataFrame({"change_time": [1.0, 1.0], "lick_times": [[1.1, 1.4], []]})
    >>> response_latency(t).round(2).tolist()
    [0.4, inf]

    Taught in chapter 05_allen_behavior_analysis.
    """
    _check_trials(trials, ("change_time", "lick_times"))
    licks = [np.asarray(v, dtype=float).ravel() for v in trials["lick_times"]]
    counts = np.array([len(v) for v in licks], dtype=int)
    if counts.sum() == 0:
        return np.full(len(trials), np.inf)
    flat = np.concatenate(licks)
    trial_of_lick = np.repeat(np.arange(len(trials)), counts)
    change = trials["change_time"].to_numpy(dtype=float)[trial_of_lick]
    start_s = _seconds(response_window_start_s, response_window_start)
    delta = np.where(flat - change > start_s, flat - change, np.inf)  # NaN change -> inf
    latency = np.full(len(trials), np.inf)
    # licks are sorted within a trial, so the first valid one is the minimum delta
    np.minimum.at(latency, trial_of_lick, delta)
    return latency


def reward_rate(
    trials: pd.DataFrame,
    response_window_start_s: float = 0.15,
    reward_latency_window_s: float = 0.75,
    trial_window: int = 25,
    initial_trials: int = 10,
    *,
    response_window_start: float | None = None,
) -> np.ndarray:
    """Rewards per minute around each trial (AllenSDK's ``get_reward_rate``).

    For trial ``t`` the window is ``trials.iloc[max(0, t - 25) : min(t + 25, n)]`` (every trial, aborted ones
    included); the rate is the number of trials in it with a response latency below 0.75 s, divided by the
    time between the first and last trial starts, times 60. The first ``initial_trials`` are NaN.

    Parameters
    ----------
    trials : pandas.DataFrame
        With ``start_time``, ``change_time``, ``lick_times``.
    response_window_start_s : float, default 0.15
        Passed to :func:`response_latency` (s).
    response_window_start : float, optional
        AllenSDK's name for ``response_window_start_s``.
    reward_latency_window_s : float, default 0.75
        A trial counts as rewarded when its latency is below this.
    trial_window : int, default 25
        Half-width of the centred window, in trials.
    initial_trials : int, default 10
        Leading trials set to NaN (too few trials to estimate a rate).

    Returns
    -------
    numpy.ndarray
        Reward rate in rewards/min, one per trial.

    Examples
    --------
    >>> rates = reward_rate(trials)   # doctest: +SKIP

    Taught in chapter 05_allen_behavior_analysis.
    """
    _check_trials(trials, ("start_time", "change_time", "lick_times"))
    n = len(trials)
    start_s = _seconds(response_window_start_s, response_window_start)
    rewarded = (response_latency(trials, start_s) < reward_latency_window_s).astype(float)
    start = trials["start_time"].to_numpy(dtype=float)
    t = np.arange(n)
    first = np.maximum(0, t - trial_window)
    last = np.minimum(t + trial_window, n)  # exclusive, as in iloc
    cumulative = np.concatenate([[0.0], np.cumsum(rewarded)])
    count = cumulative[last] - cumulative[first]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = count / (start[np.maximum(last - 1, 0)] - start[first]) * 60.0 if n else np.array([])
    rate = np.asarray(rate, dtype=float)
    rate[:initial_trials] = np.nan
    return rate


def _is_passive(trials: pd.DataFrame) -> bool:
    no_reward = bool((trials["reward_volume"].fillna(0).to_numpy(dtype=float) == 0).all())
    no_licks = all(len(np.asarray(v).ravel()) == 0 for v in trials["lick_times"])
    return no_reward and no_licks


def rolling_performance(
    trials: pd.DataFrame,
    response_window_start_s: float = 0.15,
    window: int = 100,
    trial_window: int = 25,
    initial_trials: int = 10,
    *,
    response_window_start: float | None = None,
) -> pd.DataFrame:
    """Rolling hit rate, false-alarm rate, d' and reward rate per trial (AllenSDK's rolling performance).

    Parameters
    ----------
    trials : pandas.DataFrame
        A trials table (``BehaviorSession.trials``) with the columns of :data:`TRIAL_COLUMNS_NEEDED`.
    response_window_start_s : float, default 0.15
        Start of the response window (s), for the reward rate.
    response_window_start : float, optional
        AllenSDK's name for ``response_window_start_s``.
    window : int, default 100
        Number of non-aborted trials in the rolling window.
    trial_window, initial_trials : int
        See :func:`reward_rate`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``trials`` (``trials_id``), columns ``reward_rate`` (every trial), ``hit_rate_raw``,
        ``hit_rate`` (1/(2N)-corrected), ``false_alarm_rate_raw``, ``false_alarm_rate``, ``rolling_dprime``
        (NaN on aborted trials; all 0 in a passive session).

    Raises
    ------
    ValueError
        If a needed column is missing (the message lists them).

    Examples
    --------
    >>> rolling = rolling_performance(session.trials)   # doctest: +SKIP
    >>> rolling["rolling_dprime"].max()   # doctest: +SKIP

    Taught in chapter 05_allen_behavior_analysis.
    """
    _check_trials(trials)
    out = pd.DataFrame(index=trials.index)
    out.index.name = "trials_id"
    out["reward_rate"] = reward_rate(trials, _seconds(response_window_start_s, response_window_start),
                                     trial_window=trial_window,
                                     initial_trials=initial_trials)
    kept = trials[~trials["aborted"].astype(bool)]
    go = kept["go"].astype(bool).to_numpy()
    catch = kept["catch"].astype(bool).to_numpy()
    go_response = pd.Series(np.where(go, kept["hit"].astype(float), np.nan), index=kept.index)
    catch_response = pd.Series(np.where(catch, kept["false_alarm"].astype(float), np.nan), index=kept.index)
    columns = {}
    for name, responses in (("hit_rate", go_response), ("false_alarm_rate", catch_response)):
        rolling = responses.rolling(window=window, min_periods=0)
        raw = rolling.mean()
        columns[f"{name}_raw"] = raw
        columns[name] = pd.Series(corrected_rate(raw.to_numpy(), rolling.count().to_numpy()), index=kept.index)
    if _is_passive(trials):
        columns["rolling_dprime"] = pd.Series(0.0, index=kept.index)
    else:
        columns["rolling_dprime"] = pd.Series(
            np.asarray(dprime(columns["hit_rate"].to_numpy(), columns["false_alarm_rate"].to_numpy())),
            index=kept.index,
        )
    for name in ROLLING_COLUMNS[1:]:
        out[name] = columns[name].reindex(trials.index).astype(float)
    return out


def performance_metrics(
    trials: pd.DataFrame,
    rewards: pd.DataFrame,
    engaged_threshold: float = 2.0,
    rolling: pd.DataFrame | None = None,
) -> dict[str, float]:
    """Session summary metrics, as AllenSDK 2.16.2's ``get_performance_metrics``.

    Parameters
    ----------
    trials : pandas.DataFrame
        ``BehaviorSession.trials``.
    rewards : pandas.DataFrame
        ``BehaviorSession.rewards`` (one row per reward, column ``volume`` in mL).
    engaged_threshold : float, default 2.0
        A trial is engaged when its reward rate is strictly above this (rewards/min).
    rolling : pandas.DataFrame, optional
        A precomputed :func:`rolling_performance` of ``trials`` (computed if omitted).

    Returns
    -------
    dict
        ``trial_count`` (aborted included), ``go_trial_count``, ``catch_trial_count``, ``hit_trial_count``,
        ``miss_trial_count``, ``false_alarm_trial_count``, ``correct_reject_trial_count``,
        ``auto_reward_count``, ``earned_reward_count`` (= hits), ``total_reward_count`` (= rows of
        ``rewards``), ``total_reward_volume`` (mL), ``maximum_reward_rate`` (rewards/min),
        ``engaged_trial_count``, ``mean_hit_rate``, ``mean_hit_rate_uncorrected``, ``mean_hit_rate_engaged``,
        ``mean_false_alarm_rate``, ``mean_false_alarm_rate_uncorrected``, ``mean_false_alarm_rate_engaged``,
        ``mean_dprime``, ``mean_dprime_engaged``, ``max_dprime``, ``max_dprime_engaged``. Means and maxima
        skip NaN (NaN when nothing is left).

    Examples
    --------
    >>> metrics = performance_metrics(session.trials, session.rewards)   # doctest: +SKIP
    >>> metrics["max_dprime"]   # doctest: +SKIP

    Taught in chapter 05_allen_behavior_analysis.
    """
    _check_trials(trials)
    if not isinstance(rewards, pd.DataFrame) or "volume" not in rewards.columns:
        raise ValueError("rewards must be a DataFrame with a 'volume' column (mL), e.g. BehaviorSession.rewards")
    if rolling is None:
        rolling = rolling_performance(trials)
    engaged = rolling["reward_rate"].to_numpy() > engaged_threshold
    rate = rolling["reward_rate"].to_numpy(dtype=float)

    def count(column: str) -> int:
        return int(trials[column].astype(bool).sum())

    return {
        "trial_count": int(len(trials)),
        "go_trial_count": count("go"),
        "catch_trial_count": count("catch"),
        "hit_trial_count": count("hit"),
        "miss_trial_count": count("miss"),
        "false_alarm_trial_count": count("false_alarm"),
        "correct_reject_trial_count": count("correct_reject"),
        "auto_reward_count": count("auto_rewarded"),
        "earned_reward_count": count("hit"),
        "total_reward_count": int(len(rewards)),
        "total_reward_volume": float(rewards["volume"].sum()),
        "maximum_reward_rate": float(np.nanmax(rate)) if (~np.isnan(rate)).any() else float("nan"),
        "engaged_trial_count": int(engaged.sum()),
        "mean_hit_rate": float(rolling["hit_rate"].mean()),
        "mean_hit_rate_uncorrected": float(rolling["hit_rate_raw"].mean()),
        "mean_hit_rate_engaged": float(rolling["hit_rate"][engaged].mean()),
        "mean_false_alarm_rate": float(rolling["false_alarm_rate"].mean()),
        "mean_false_alarm_rate_uncorrected": float(rolling["false_alarm_rate_raw"].mean()),
        "mean_false_alarm_rate_engaged": float(rolling["false_alarm_rate"][engaged].mean()),
        "mean_dprime": float(rolling["rolling_dprime"].mean()),
        "mean_dprime_engaged": float(rolling["rolling_dprime"][engaged].mean()),
        "max_dprime": float(rolling["rolling_dprime"].max()),
        "max_dprime_engaged": float(rolling["rolling_dprime"][engaged].max()),
    }


def session_metrics_table(sessions: dict, session_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Performance metrics of many sessions, one row each (the seed notebook's per-session table).

    Parameters
    ----------
    sessions : dict
        ``{behavior_session_id: BehaviorSession}`` (anything with ``trials`` and ``rewards`` tables).
    session_table : pandas.DataFrame, optional
        A session table indexed by ``behavior_session_id``; its columns are joined to the metrics.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``behavior_session_id``, one column per key of :func:`performance_metrics`.

    Examples
    --------
    >>> table = session_metrics_table({sid: load_behavior_session(p) for sid, p in files.items()})  # doctest: +SKIP

    Taught in chapter 05_allen_behavior_analysis.
    """
    rows = {sid: performance_metrics(s.trials, s.rewards) for sid, s in sessions.items()}
    metrics = pd.DataFrame.from_dict(rows, orient="index")
    metrics.index.name = "behavior_session_id"
    if session_table is not None:
        metrics = session_table.join(metrics, how="inner")
    return metrics


OUTCOMES = ("hit", "miss", "false_alarm", "correct_reject", "auto_rewarded", "aborted")


def trial_outcomes(trials: pd.DataFrame) -> pd.Series:
    """One outcome label per trial: hit, miss, false_alarm, correct_reject, auto_rewarded or aborted.

    Parameters
    ----------
    trials : pandas.DataFrame
        With the six boolean outcome columns (exactly one is true per trial).

    Returns
    -------
    pandas.Series
        Categorical labels, indexed like ``trials``.

    Raises
    ------
    ValueError
        If a trial has no outcome or more than one.

    Examples
    --------
    >>> t = pd.DataFrame({k: [k == "hit", k == "aborted"] for k in OUTCOMES})
    >>> trial_outcomes(t).tolist()
    ['hit', 'aborted']

    Taught in chapter 05_allen_behavior_analysis.
    """
    _check_trials(trials, OUTCOMES)
    flags = trials[list(OUTCOMES)].astype(bool).to_numpy()
    counts = flags.sum(axis=1)
    if (counts != 1).any():
        bad = trials.index[counts != 1][:5].tolist()
        raise ValueError(f"trials {bad} have {sorted(set(counts[counts != 1]))} outcomes; each needs exactly one")
    labels = np.array(OUTCOMES)[flags.argmax(axis=1)]
    return pd.Series(pd.Categorical(labels, categories=OUTCOMES), index=trials.index, name="outcome")


def handoff_criterion_met(dprime_per_session, threshold: float = 1.0, days: int = 3, needed: int = 2) -> np.ndarray:
    """Whether the hand-off criterion is met after each session: d' > 1 on 2 of the last 3 sessions.

    Parameters
    ----------
    dprime_per_session : array_like
        One d' per session in acquisition order (e.g. ``max_dprime`` of the performance metrics); NaN counts
        as not above threshold.
    threshold : float, default 1.0
        d' must be strictly above this.
    days, needed : int, default 3 and 2
        At least ``needed`` of the last ``days`` sessions must pass.

    Returns
    -------
    numpy.ndarray of bool
        One value per session.

    Examples
    --------
    >>> handoff_criterion_met([0.5, 1.2, 0.8, 1.5, 2.0]).tolist()
    [False, False, False, True, True]

    Taught in chapter 05_allen_behavior_analysis.
    """
    passed = np.nan_to_num(np.asarray(dprime_per_session, dtype=float), nan=-np.inf) > threshold
    counts = np.convolve(passed.astype(int), np.ones(days, dtype=int), mode="full")[: len(passed)]
    return counts >= needed
