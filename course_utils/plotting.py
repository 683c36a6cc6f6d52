"""Plot style and small plotting helpers shared by all chapters.

Taught implicitly in every chapter: figures have titles, axis labels with units, and a legend when they
have more than one line.
"""

from __future__ import annotations

import matplotlib as mpl

COURSE_STYLE = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def use_course_style() -> None:
    """Apply the course's matplotlib defaults (figure size, grid, no top/right spines).

    Examples
    --------
    >>> use_course_style()
    >>> import matplotlib as mpl; mpl.rcParams["axes.grid"]
    True
    """
    mpl.rcParams.update(COURSE_STYLE)


def demo_suffix(source: str | None = None) -> str:
    """`` (demo)`` when the data come from the simulators, else ``""``: add it to figure titles.

    A figure drawn from simulated data shows what the simulator builds in, not a finding about the brain;
    its title says so. ``source`` is accepted for readability at the call site (the mode is global).

    Examples
    --------
    >>> demo_suffix() in ("", " (demo)")
    True
    """
    from .data import data_mode

    return " (demo)" if data_mode() == "demo" else ""


def direction_colors(angles_rad) -> dict:
    """One distinct colour per movement direction, in angle order: ``{angle: colour}``.

    Up to 10 directions get the qualitative ``tab10`` colours (every pair clearly distinct, so 0° and 315°
    never look alike); more directions sample the cyclic ``hsv`` map at ``angle / 2π``, which never gives 0
    and 2π-ε the same colour the way sampling a cyclic map on ``linspace(0, 1, n)`` (pandas' ``colormap=``)
    does. Taught in chapter 01_neurotask_loading.

    Parameters
    ----------
    angles_rad
        Directions in radians (any iterable; duplicates are merged).

    Returns
    -------
    dict
        Each distinct angle mapped to an RGBA tuple.

    Examples
    --------
    >>> import numpy as np
    >>> colors = direction_colors(np.deg2rad(np.arange(0, 360, 45)))
    >>> len(set(colors.values()))
    8
    """
    import numpy as np

    angles = np.unique(np.asarray(list(angles_rad), dtype=float))
    if len(angles) <= 10:
        cmap = mpl.colormaps["tab10"]
        return {float(a): cmap(i) for i, a in enumerate(angles)}
    cmap = mpl.colormaps["hsv"]
    return {float(a): cmap(float(np.mod(a, 2 * np.pi) / (2 * np.pi))) for a in angles}


# ------------------------------------------------------------------------------ what was recorded, per source


def _first_rewarded_trial(df, keys: list[str]) -> tuple:
    """The (animal, session, trial_id) of the first rewarded trial, else of the first trial."""
    import numpy as np

    rewarded = np.flatnonzero(df["result"].to_numpy() == "R") if "result" in df.columns else []
    row = df.iloc[int(rewarded[0]) if len(rewarded) else 0]  # one row: no copy of the rewarded rows
    return tuple(row[k] for k in keys)


def plot_neurotask_trial(df, bin_ms: float | None = None, trial: tuple | None = None, n_units: int = 40):
    """What one NeuroTask trial holds: a spike raster, the hand (or cursor, or force) trace and the events.

    The raster shows the ``n_units`` most active units of the trial (one tick per bin with at least one
    spike); below it the velocity columns of :func:`~course_utils.neurotask.velocity_columns`, or the force
    where the file has no velocity (Key Grasp), or a note where it has neither. Every event column the trial
    sets (``Event*``) is a dashed line on both panels; files without events simply have none. Time is in
    seconds from the trial's first bin. Taught in chapter 01_neurotask_loading.

    Parameters
    ----------
    df : pandas.DataFrame
        A NeuroTask table from ``load_nwb`` or ``load_and_filter_parquet`` (``Neuron*``, id columns, ...).
    bin_ms : float, optional
        The table's bin size in milliseconds; default: the one the loaders and ``rebin`` record in
        ``df.attrs["bin_ms"]`` (a value that contradicts it is an error).
    trial : tuple, optional
        ``(animal, session, trial_id)``; default: the first rewarded trial (the first trial if none is). In a
        table joined from several files (``datasetID``), the trial of the first file that has it.
    n_units : int
        How many units to draw (the most active ones in this trial).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : numpy.ndarray of two Axes (raster, behaviour)

    Examples
    --------
    >>> fig, axes = plot_neurotask_trial(df, bin_ms)   # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from .neurotask import behavior_columns, event_columns, neuron_columns, table_bin_ms, velocity_columns

    keys = ["animal", "session", "trial_id"]
    neurons = neuron_columns(df) if hasattr(df, "columns") else []
    missing = [k for k in keys if not hasattr(df, "columns") or k not in df.columns]
    if not neurons or missing:
        raise ValueError(f"plot_neurotask_trial needs a NeuroTask table (Neuron* and {keys} columns); this one "
                         f"lacks {missing or 'Neuron* columns'}. Load one with load_nwb or load_and_filter_parquet.")
    bin_ms = table_bin_ms(df, bin_ms)
    if not bin_ms > 0:
        raise ValueError(f"bin_ms must be a positive bin size in ms (the loaders return it); got {bin_ms!r}.")
    trial = _first_rewarded_trial(df, keys) if trial is None else tuple(trial)
    mask = (df["animal"] == trial[0]) & (df["session"] == trial[1]) & (df["trial_id"] == trial[2])
    rows = df[mask]
    if "datasetID" in rows.columns and rows["datasetID"].nunique() > 1:  # two files' trials share the ids
        rows = rows[rows["datasetID"] == rows["datasetID"].iloc[0]]
    if rows.empty:
        raise ValueError(f"No trial {dict(zip(keys, trial, strict=True))} in this table; pick one of "
                         f"df[{keys}].drop_duplicates().")
    time_s = np.arange(len(rows)) * bin_ms / 1000
    counts = rows[neurons].to_numpy(dtype=np.float32)
    recorded = ~np.isnan(counts).all(axis=0)  # units this session recorded (NaN: another session's unit)
    totals = np.where(recorded, np.nansum(counts, axis=0), -1)
    shown = np.argsort(totals, kind="stable")[::-1][: min(n_units, int(recorded.sum()))]
    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True, height_ratios=[2, 1])
    spikes = [time_s[counts[:, j] > 0] for j in shown]
    axes[0].eventplot(spikes, colors="black", linelengths=0.8, linewidths=0.8)
    axes[0].set(ylabel=f"unit ({len(shown)} most active)", ylim=(-1, max(len(shown), 1)))
    axes[0].set_title(f"Animal {trial[0]}, session {trial[1]}, trial {trial[2]:g}: what was recorded"
                      + demo_suffix())
    try:
        traces, unit = velocity_columns(rows), "cm/s"
    except ValueError:
        traces, unit = [c for c in behavior_columns(rows) if c.startswith("force_")], "a.u."
    for name in traces:
        axes[1].plot(time_s, rows[name].to_numpy(dtype=float), label=name)
    if traces:
        axes[1].set_ylabel(f"{traces[0].rsplit('_', 1)[0].replace('_vel', ' velocity')} ({unit})")
    else:
        axes[1].text(0.5, 0.5, "no velocity or force in this file", transform=axes[1].transAxes, ha="center")
        axes[1].set_ylabel("behaviour")
    for i, name in enumerate(event_columns(rows)):
        on = rows[name].to_numpy(dtype=bool)
        for t in time_s[on][:1]:  # an event's first bin in the trial
            for ax in axes:
                ax.axvline(t, color=f"C{i + 2}", ls="--", lw=1.2, label=name.removeprefix("Event") if ax is axes[1]
                           else None)
    axes[1].set_xlabel("time from trial start (s)")
    if axes[1].get_legend_handles_labels()[0]:
        axes[1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig, axes


def plot_sensorium_trial(mouse, trial: int, n_neurons: int = 5, n_frames_shown: int = 4):
    """What one Sensorium trial holds: video frames, behaviour, eye position and a few neurons, one time axis.

    Top row: ``n_frames_shown`` frames of the video, evenly spaced over the trial. Below, on one time axis in
    seconds (30 Hz frames, NaN padding cut): pupil dilation and running speed (``behavior``), the eye position
    (``pupil_center``) and the responses of the ``n_neurons`` most active neurons of the trial. Every array
    drawn is one of the four files a real mouse folder holds per trial. Taught in chapter 03_sensorium_data.

    Parameters
    ----------
    mouse : SensoriumMouse
        From :func:`course_utils.sensorium.read_mouse`.
    trial : int
        The trial's file number (``mouse.trials("train")[0]``, ...).
    n_neurons, n_frames_shown : int
        How many neurons' traces and how many video frames to draw.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : dict of Axes: ``"frames"`` (a list), ``"behavior"``, ``"eye"``, ``"responses"``

    Examples
    --------
    >>> fig, axes = plot_sensorium_trial(read_mouse(folder), 0)   # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if not hasattr(mouse, "load_trial"):
        raise TypeError(f"plot_sensorium_trial needs a mouse from course_utils.sensorium.read_mouse(folder); "
                        f"got {type(mouse).__name__}.")
    from .sensorium.reader import SENSORIUM_FRAME_RATE_HZ as rate

    arrays = mouse.load_trial(trial)  # padding removed; names the trial range on a bad index
    video, responses = arrays["videos"], arrays["responses"]
    n_frames = video.shape[-1]
    time_s = np.arange(n_frames) / rate
    fig = plt.figure(figsize=(9, 7.2))
    grid = fig.add_gridspec(4, n_frames_shown, height_ratios=[1.1, 1, 1, 1.4])
    frame_axes = [fig.add_subplot(grid[0, i]) for i in range(n_frames_shown)]
    for ax, frame in zip(frame_axes, np.linspace(0, n_frames - 1, n_frames_shown).astype(int), strict=True):
        ax.imshow(video[:, :, frame], cmap="gray", vmin=0, vmax=255)
        ax.set(title=f"{frame / rate:.2f} s", xticks=[], yticks=[])
        ax.grid(False)
    ax_b = fig.add_subplot(grid[1, :])
    ax_e = fig.add_subplot(grid[2, :], sharex=ax_b)
    ax_r = fig.add_subplot(grid[3, :], sharex=ax_b)
    for row, label in enumerate(("pupil dilation", "running speed")):
        ax_b.plot(time_s, arrays["behavior"][row], label=label)
    ax_b.set(ylabel="behaviour (a.u.)")
    for row, label in enumerate(("eye x", "eye y")):
        ax_e.plot(time_s, arrays["pupil_center"][row], label=label)
    ax_e.set(ylabel="eye position (a.u.)")
    active = np.argsort(responses.mean(axis=1), kind="stable")[::-1][:n_neurons]
    for j in active:
        ax_r.plot(time_s, responses[j], lw=1, label=f"neuron {j}")
    ax_r.set(xlabel="time in trial (s)", ylabel="activity (a.u.)")
    for ax in (ax_b, ax_e, ax_r):
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.suptitle(f"Trial {trial}: {n_frames} frames at {rate:g} Hz, {len(active)} of {mouse.n_neurons} neurons shown"
                 + demo_suffix())
    fig.tight_layout()
    return fig, {"frames": frame_axes, "behavior": ax_b, "eye": ax_e, "responses": ax_r}


def plot_experiment_modalities(experiment, start_s: float | None = None, duration_s: float = 4.0,
                               n_signals: int = 3):
    """Every modality of an Experanto experiment on one time axis, each sample where its own clock put it.

    One row per modality: the screen's mean luminance at each stored frame time, and the first ``n_signals``
    signals of every sequence modality (responses, eye tracker, treadmill, ...) at their raw sample times,
    labelled with the modality's sampling rate. Nothing is interpolated onto a common grid: the figure shows
    the clocks as recorded. Taught in chapter 04_experanto_chunks.

    Parameters
    ----------
    experiment : Experiment
        From :class:`course_utils.experanto.Experiment`.
    start_s : float, optional
        Start of the window in seconds (default: 10 s into the range all modalities cover).
    duration_s : float
        Length of the window (s).
    n_signals : int
        Signals drawn per sequence modality.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : numpy.ndarray of Axes, one per modality in ``experiment.modalities`` order

    Examples
    --------
    >>> fig, axes = plot_experiment_modalities(Experiment(folder), 30.0)   # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if not hasattr(experiment, "devices"):
        raise TypeError(f"plot_experiment_modalities needs a course_utils.experanto.Experiment; got "
                        f"{type(experiment).__name__}.")
    lo, hi = experiment.start_time, experiment.end_time
    start_s = min(lo + 10.0, hi - duration_s) if start_s is None else float(start_s)
    if not duration_s > 0 or start_s < lo or start_s + duration_s > hi:
        raise ValueError(f"The window {start_s:.2f}-{start_s + duration_s:.2f} s is not inside the range every "
                         f"modality covers, {lo:.2f}-{hi:.2f} s: choose start_s and duration_s > 0 inside it.")
    end_s = start_s + duration_s
    names = list(experiment.devices)
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 1.5 * len(names) + 0.6), sharex=True, squeeze=False)
    axes = axes[:, 0]
    for ax, name in zip(axes, names, strict=True):
        device = experiment.devices[name]
        if name == "screen":
            times = device.timestamps[(device.timestamps >= start_s) & (device.timestamps < end_s)]
            frames, _ = device.interpolate(times)
            # a frame stays on screen until the next timestamp (an image or blank has one): steps, not ramps
            ax.plot(times, frames.mean(axis=(1, 2)), ".-", ms=3, lw=0.8, color="black", drawstyle="steps-post")
            ax.set_ylabel("screen\nmean pixel", fontsize=8)
        else:
            first = max(int(np.ceil((start_s - device.start_time) * device.sampling_rate)), 0)
            last = min(int(np.floor((end_s - device.start_time) * device.sampling_rate)), device.n_timestamps - 1)
            rows = np.arange(first, last + 1)
            values = np.asarray(device.data[first : last + 1, :n_signals], dtype=float)
            for j in range(values.shape[1]):
                shift = 0.0 if device.phase_shifts is None else float(device.phase_shifts[j])
                ax.plot(device.start_time + rows / device.sampling_rate + shift, values[:, j], ".-", ms=3, lw=0.8)
            ax.set_ylabel(f"{name}\n({values.shape[1]} of {device.n_signals})", fontsize=8)
        ax.text(1.0, 1.0, f"{device.sampling_rate:g} Hz", transform=ax.transAxes, ha="right", va="bottom",
                fontsize=8)
    axes[-1].set(xlabel="time (s)", xlim=(start_s, end_s))
    axes[0].set_title(f"{experiment.data_key}: every modality on its own clock" + demo_suffix(), loc="left")
    fig.tight_layout()
    return fig, axes
