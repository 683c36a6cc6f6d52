"""Figures for Visual Behavior sessions: timeline, lick rasters, latencies, engagement, learning curves.

Every function draws on a matplotlib ``Axes`` (created if not given) and returns it, with a title and axis
labels with units.

Taught in chapters 02_allen_loading and 05_allen_behavior_analysis.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .sessions import STAGE_ORDER

__all__ = [
    "plot_engagement",
    "plot_learning_curves",
    "plot_lick_raster",
    "plot_performance_across_sessions",
    "plot_response_latencies",
    "plot_session_contents",
    "plot_session_timeline",
]

OUTCOME_COLORS = {"hit": "tab:green", "miss": "tab:gray", "false_alarm": "tab:red", "correct_reject": "tab:blue"}


def _axes(ax, figsize=(9, 3.6)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_session_timeline(session, start_s: float, end_s: float, ax=None):
    """Running speed, licks, rewards and image flashes (coloured by image) between two times.

    Parameters
    ----------
    session : BehaviorSession
        A session from :func:`course_utils.allen.load_behavior_session`.
    start_s, end_s : float
        Time window, in seconds from the start of the session.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> plot_session_timeline(session, 300, 330)   # doctest: +SKIP

    Taught in chapter 02_allen_loading.
    """
    if end_s <= start_s:
        raise ValueError(f"end_s ({end_s}) must be after start_s ({start_s})")
    ax = _axes(ax)
    run = session.running_speed
    run = run[(run["timestamps"] >= start_s) & (run["timestamps"] <= end_s)]
    ax.plot(run["timestamps"], run["speed"], color="tab:blue", lw=1, label="running speed")
    licks = session.licks["timestamps"]
    licks = licks[(licks >= start_s) & (licks <= end_s)]
    ax.plot(licks, np.zeros(len(licks)), "o", color="black", ms=4, label="licks")
    rewards = session.rewards
    rewards = rewards[(rewards["timestamps"] >= start_s) & (rewards["timestamps"] <= end_s)]
    ax.plot(rewards["timestamps"], np.zeros(len(rewards)), "d", color="tab:purple", ms=11, alpha=0.6,
            label="rewards")
    stim = session.stimulus_presentations
    # shown images only: omitted flashes are True, grey screens and movie frames <NA>
    shown = stim["image_name"].notna() & ~stim["omitted"].astype("boolean").fillna(True)
    stim = stim[shown & (stim["end_time"] >= start_s) & (stim["start_time"] <= end_s)]
    names = sorted(stim["image_name"].astype(str).unique())
    palette = plt.get_cmap("tab10")
    for i, name in enumerate(names):
        rows = stim[stim["image_name"].astype(str) == name]
        spans = list(zip(rows["start_time"], rows["end_time"] - rows["start_time"], strict=True))
        ax.broken_barh(spans, (ax.get_ylim()[0], 1e4), color=palette(i % 10), alpha=0.25, label=name)
    changes = stim[stim["is_change"].astype(bool)]
    ax.plot(changes["start_time"], np.full(len(changes), -3.0), "^", color="tab:orange", ms=7, label="change")
    ax.set_ylim(-6, max(40.0, float(run["speed"].max()) + 5 if len(run) else 40.0))
    ax.set_xlim(start_s, end_s)
    ax.set_xlabel("time in session (s)")
    ax.set_ylabel("running speed (cm/s)")
    ax.set_title(f"Session {session.behavior_session_id} ({session.metadata.get('session_type')}): "
                 f"{start_s:.1f}-{end_s:.1f} s")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return ax


def plot_session_contents(session, start_s: float | None = None, duration_s: float = 40.0):
    """What one behaviour session records, one row per stream on a shared time axis (s).

    Rows, top to bottom: image flashes (one colour per image; omitted flashes left out) with image changes
    marked, licks, rewards (earned and auto-rewards apart) and running speed. Every stream is a table the real
    NWB file holds (``stimulus_presentations``, ``licks``, ``rewards``, ``running_speed``, ``trials``). The
    default window starts 10 s before the session's first rewarded change. Taught in chapter 02_allen_loading.

    Parameters
    ----------
    session : BehaviorSession
        A session from :func:`course_utils.allen.load_behavior_session`.
    start_s : float, optional
        Start of the window, in seconds from the start of the session.
    duration_s : float
        Length of the window (s).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : numpy.ndarray of four Axes (images, licks, rewards, running)

    Examples
    --------
    >>> fig, axes = plot_session_contents(session)   # doctest: +SKIP
    """
    from ..plotting import demo_suffix

    needed = ("stimulus_presentations", "licks", "rewards", "running_speed", "trials")
    missing = [name for name in needed if not hasattr(session, name)]
    if missing:
        raise TypeError(f"plot_session_contents needs a session from course_utils.allen.load_behavior_session "
                        f"(with {list(needed)}); {type(session).__name__} lacks {missing}.")
    if not duration_s > 0:
        raise ValueError(f"duration_s must be positive; got {duration_s!r}.")
    rewards = session.rewards
    if start_s is None:
        earned = rewards[~rewards["auto_rewarded"].astype(bool)] if "auto_rewarded" in rewards else rewards
        first = earned["timestamps"].min() if len(earned) else session.running_speed["timestamps"].min()
        start_s = max(float(first) - 10.0, float(session.running_speed["timestamps"].min()))
    end_s = start_s + duration_s
    fig, axes = plt.subplots(4, 1, figsize=(9, 4.8), sharex=True, height_ratios=[1, 0.5, 0.5, 1.4])
    stim = session.stimulus_presentations
    shown = stim["image_name"].notna() & ~stim["omitted"].astype("boolean").fillna(True)
    stim = stim[shown & (stim["end_time"] >= start_s) & (stim["start_time"] <= end_s)]
    palette = plt.get_cmap("tab10")
    for i, name in enumerate(sorted(stim["image_name"].astype(str).unique())):
        rows = stim[stim["image_name"].astype(str) == name]
        spans = list(zip(rows["start_time"], rows["end_time"] - rows["start_time"], strict=True))
        axes[0].broken_barh(spans, (0, 1), color=palette(i % 10), label=name)
    changes = stim[stim["is_change"].astype(bool)]["start_time"]
    axes[0].plot(changes, np.full(len(changes), 1.3), "v", color="tab:orange", ms=7, label="change")
    axes[0].set(ylim=(0, 1.6), yticks=[], ylabel="images")
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    licks = session.licks["timestamps"]
    licks = licks[(licks >= start_s) & (licks <= end_s)]
    axes[1].eventplot([licks.to_numpy()], colors="black", linelengths=0.8)
    axes[1].set(yticks=[], ylabel="licks")
    rewards = rewards[(rewards["timestamps"] >= start_s) & (rewards["timestamps"] <= end_s)]
    auto = rewards["auto_rewarded"].astype(bool) if "auto_rewarded" in rewards else np.zeros(len(rewards), bool)
    for label, rows, color in (("earned", rewards[~auto], "tab:purple"), ("auto", rewards[auto], "tab:gray")):
        if len(rows):
            axes[2].plot(rows["timestamps"], np.zeros(len(rows)), "d", color=color, ms=9, label=label)
    axes[2].set(yticks=[], ylabel="rewards")
    if len(rewards):
        axes[2].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    run = session.running_speed
    run = run[(run["timestamps"] >= start_s) & (run["timestamps"] <= end_s)]
    axes[3].plot(run["timestamps"], run["speed"], color="tab:blue", lw=1)
    axes[3].set(ylabel="running\n(cm/s)", xlabel="time in session (s)", xlim=(start_s, end_s))
    axes[0].set_title(f"Session {session.behavior_session_id} ({session.metadata.get('session_type')}): "
                      f"what was recorded, {duration_s:g} s" + demo_suffix(), loc="left")
    fig.tight_layout()
    return fig, axes


def plot_lick_raster(trials: pd.DataFrame, window_s: tuple[float, float] = (-1.0, 3.0),
                     response_window_s: tuple[float, float] = (0.15, 0.75), max_trials: int = 150, ax=None):
    """Licks aligned to each change (and sham change), one row per trial, coloured by outcome.

    Parameters
    ----------
    trials : pandas.DataFrame
        ``BehaviorSession.trials``; aborted and auto-rewarded trials are left out.
    window_s : (float, float)
        Time window around the change, in seconds.
    response_window_s : (float, float)
        Shaded: licks in it count as responses.
    max_trials : int
        Draw at most this many trials (the first ones).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> plot_lick_raster(session.trials)   # doctest: +SKIP

    Taught in chapter 05_allen_behavior_analysis.
    """
    ax = _axes(ax, figsize=(7, 5))
    kept = trials[(trials["go"] | trials["catch"])].head(max_trials)
    for outcome, color in OUTCOME_COLORS.items():
        rows = np.flatnonzero(kept[outcome].to_numpy())
        if len(rows) == 0:
            continue
        relative = [np.asarray(kept["lick_times"].iloc[r]) - kept["change_time"].iloc[r] for r in rows]
        ax.eventplot(relative, lineoffsets=rows, linelengths=0.8, colors=color, linewidths=1.2)
        ax.plot([], [], color=color, label=f"{outcome.replace('_', ' ')} ({len(rows)})")
    ax.axvspan(*response_window_s, color="gold", alpha=0.3, label="response window")
    ax.axvline(0, color="black", lw=1)
    ax.set_xlim(*window_s)
    ax.set_ylim(len(kept), -1)
    ax.set_xlabel("time from change (s)")
    ax.set_ylabel("trial (go and catch)")
    ax.set_title("Licks aligned to image changes")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_response_latencies(trials: pd.DataFrame, bins: np.ndarray | None = None, ax=None):
    """Histogram of response latencies (first lick after the change) of hits and false alarms.

    Parameters
    ----------
    trials : pandas.DataFrame
        One session's trials, or several sessions' trials concatenated.
    bins : array, optional
        Histogram bin edges in seconds (default 0 to 1 s in 25 ms bins).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> plot_response_latencies(session.trials)   # doctest: +SKIP

    Taught in chapter 05_allen_behavior_analysis.
    """
    ax = _axes(ax)
    bins = np.arange(0, 1.0001, 0.025) if bins is None else bins
    for outcome in ("hit", "false_alarm"):
        latency = trials.loc[trials[outcome], "response_latency"].to_numpy(dtype=float)
        latency = latency[np.isfinite(latency)]
        ax.hist(latency, bins=bins, alpha=0.6, color=OUTCOME_COLORS[outcome],
                label=f"{outcome.replace('_', ' ')} (n={len(latency)})")
    ax.axvspan(0.15, 0.75, color="gold", alpha=0.15, label="response window")
    ax.set_xlabel("response latency (s)")
    ax.set_ylabel("trials")
    ax.set_title("Response latencies")
    ax.legend(fontsize=8)
    return ax


def plot_engagement(rolling: pd.DataFrame, trials: pd.DataFrame, engaged_threshold: float = 2.0, ax=None):
    """Reward rate, rolling d' and hit/false-alarm rates across one session's trials.

    Parameters
    ----------
    rolling : pandas.DataFrame
        From :func:`course_utils.allen.rolling_performance`.
    trials : pandas.DataFrame
        The same session's trials (for trial start times).
    engaged_threshold : float
        Reward rate (rewards/min) above which a trial counts as engaged.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The reward-rate axis; the rates and d' are on a twin axis.

    Examples
    --------
    >>> plot_engagement(rolling_performance(session.trials), session.trials)   # doctest: +SKIP

    Taught in chapter 05_allen_behavior_analysis.
    """
    ax = _axes(ax)
    minutes = trials["start_time"].to_numpy() / 60
    ax.plot(minutes, rolling["reward_rate"], color="tab:purple", label="reward rate")
    ax.axhline(engaged_threshold, color="tab:purple", ls="--", lw=1, label=f"engaged: > {engaged_threshold:g}/min")
    engaged = rolling["reward_rate"].to_numpy() > engaged_threshold
    ax.fill_between(minutes, 0, 1, where=engaged, transform=ax.get_xaxis_transform(), color="tab:purple",
                    alpha=0.08, step="mid")
    ax.set_xlabel("time in session (min)")
    ax.set_ylabel("reward rate (rewards/min)")
    twin = ax.twinx()
    kept = rolling["rolling_dprime"].notna().to_numpy()
    twin.plot(minutes[kept], rolling["rolling_dprime"][kept], color="black", label="rolling d'")
    twin.plot(minutes[kept], rolling["hit_rate"][kept], color=OUTCOME_COLORS["hit"], label="hit rate")
    twin.plot(minutes[kept], rolling["false_alarm_rate"][kept], color=OUTCOME_COLORS["false_alarm"],
              label="false-alarm rate")
    twin.set_ylabel("d' / rate")
    twin.grid(False)
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper right")
    ax.set_title("Engagement within a session")
    return ax


def plot_performance_across_sessions(metrics: pd.DataFrame, title: str = "", axes=None):
    """d' (top) and hit / false-alarm rates (bottom) of one mouse's sessions, with stages marked.

    Parameters
    ----------
    metrics : pandas.DataFrame
        One row per session in acquisition order, with ``session_type``, ``training_stage`` and the keys of
        :func:`course_utils.allen.performance_metrics` (e.g. from ``session_metrics_table``).
    title : str
        Figure title (e.g. the mouse id).
    axes : two matplotlib Axes, optional

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes

    Examples
    --------
    >>> plot_performance_across_sessions(mouse_metrics, "mouse 445002")   # doctest: +SKIP

    Taught in chapter 05_allen_behavior_analysis.
    """
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    x = np.arange(len(metrics))
    axes[0].plot(x, metrics["max_dprime"], "o-", color="black", label="max d'")
    axes[0].plot(x, metrics["mean_dprime_engaged"], "s--", color="tab:gray", label="mean d' (engaged)")
    axes[0].axhline(1.0, color="tab:orange", lw=1, ls=":", label="hand-off criterion d' = 1")
    axes[0].set_ylabel("d'")
    axes[1].plot(x, metrics["mean_hit_rate_engaged"], "o-", color=OUTCOME_COLORS["hit"], label="hit rate (engaged)")
    axes[1].plot(x, metrics["mean_false_alarm_rate_engaged"], "o-", color=OUTCOME_COLORS["false_alarm"],
                 label="false-alarm rate (engaged)")
    axes[1].set_ylabel("rate")
    axes[1].set_ylim(0, 1)
    stages = metrics["training_stage"].to_numpy()
    for ax in axes:
        for i in range(len(stages)):
            shade = STAGE_ORDER.get(stages[i], 0) % 2
            ax.axvspan(i - 0.5, i + 0.5, color="black" if shade else "gray", alpha=0.08)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[1].set_xticks(x)
    axes[1].set_xticklabels(metrics["session_type"], rotation=35, ha="right", fontsize=7)
    axes[1].set_xlabel("session (acquisition order)")
    axes[0].set_title(title or "Performance across sessions")
    return axes


def plot_learning_curves(metrics: pd.DataFrame, metric: str = "max_dprime", by: str = "cre_line", ax=None):
    """A metric against training stage for every mouse, coloured by a grouping column (e.g. cre line).

    Parameters
    ----------
    metrics : pandas.DataFrame
        One row per session with ``mouse_id``, ``stage_order``, ``by`` and ``metric``.
    metric : str
        Column to plot (a key of :func:`course_utils.allen.performance_metrics`).
    by : str
        Colour grouping column.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> plot_learning_curves(all_metrics, "max_dprime", by="cre_line")   # doctest: +SKIP

    Taught in chapter 05_allen_behavior_analysis.
    """
    ax = _axes(ax)
    if "passive" in metrics.columns:  # no task in passive sessions: d' is 0 by definition
        metrics = metrics[~metrics["passive"].astype(bool)]
    groups = sorted(metrics[by].astype(str).unique())
    palette = plt.get_cmap("tab10")
    for _, rows in metrics.groupby("mouse_id"):
        per_stage = rows.groupby("stage_order")[metric].mean()
        color = palette(groups.index(str(rows[by].iloc[0])) % 10)
        ax.plot(per_stage.index, per_stage.to_numpy(), "o-", color=color, alpha=0.7, ms=4)
    for i, group in enumerate(groups):
        ax.plot([], [], "o-", color=palette(i % 10), label=group)
    ax.set_xticks(list(STAGE_ORDER.values()))
    ax.set_xticklabels(list(STAGE_ORDER), rotation=35, ha="right", fontsize=8)
    ax.set_xlabel("training stage")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"{metric.replace('_', ' ')} across training, one line per mouse")
    ax.legend(fontsize=8)
    return ax
