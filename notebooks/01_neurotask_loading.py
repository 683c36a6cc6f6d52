# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version,-jupytext.formats
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Loading NeuroTask: spikes, kinematics and trials
#
# **Goals:** know what the NeuroTask benchmark contains; load its parquet and NWB files into one table;
# read its schema (neurons, ids, covariates, events); describe the behaviour (outcomes, reaches, reaction
# times); align spikes to events for rasters and PSTHs; rebin; and build the arrays a decoder needs.
# **Time:** ~90 min. **Prerequisites:** chapter 0 (setup and data); pandas and NumPy basics.
# **Data:** NeuroTask {cite:p}`filipe2024neurotask` (demo: simulated files in the real layouts; sample: the
# center-out-with-bump NWB file of DANDI 001056).
#
# **Builds on:** `get_source` and the three data modes of {doc}`chapter 0 <00_setup_and_data>`, used here to
# find the NeuroTask files.
#
# NeuroTask gathers {term}`motor-cortex <Motor cortex>` recordings of monkeys doing reaching tasks in six labs
# into **one table format**: one row per time bin, spike counts of every recorded {term}`unit <Unit>`, hand or
# cursor kinematics, and flags for trial events. It comes with a small API (`api_neurotask.py`) whose function
# names we keep: `load_and_filter_parquet`, `rebin`, `align_event`, `process_data`. The course's versions live
# in `course_utils.neurotask`; they fix several defects of the originals (each collapsed "for maintainers" note
# says which).
#
# ```{admonition} Demo vs real
# :class: tip
# **Demo.** The simulator gives every unit a *cosine tuning* to movement direction (its log firing rate is a
# cosine of the direction, scaled by speed) with a known preferred direction and depth of modulation (about
# 10 % of units untuned), Poisson spike counts, minimum-jerk reaches (bell-shaped speed) and gamma-distributed
# reaction times. When this chapter recovers preferred directions it checks the analysis code against that
# ground truth; it is not a finding about motor cortex. **Real.** The sample file (DANDI 001056, 54 MB) holds
# two monkeys, about 0.77 million 10 ms bins by 167 units (NaN where a session did not record a unit), and
# 2,766 rewarded of 3,686 trials; real units are broadly, not perfectly, cosine-tuned, and many are barely
# tuned at all. Figures drawn from demo data say "(demo)" in their title.
# ```

# %% tags=["setup"]
# Colab: install the course package once per runtime, from a prebuilt wheel (seconds). Packages Colab
# already has (numpy, pandas, torch, ...) stay as they are: no restart. Elsewhere: nothing to do.
import subprocess
import sys

if "google.colab" in sys.modules:
    wheel = "https://neural-data-ml.github.io/course/wheels/course_utils-0.1.0-py3-none-any.whl"
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    if subprocess.run([*pip, f"course-utils @ {wheel}"]).returncode != 0:
        print("No prebuilt wheel for this version: building the package from GitHub (a minute or two).")
        subprocess.run([*pip, "course-utils @ git+https://github.com/neural-data-ml/course"], check=True)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import course_utils
from course_utils.data import get_source
from course_utils.exercises import check_exercise
from course_utils.neurotask import (
    align_event,
    behavior_columns,
    event_columns,
    file_columns,
    load_and_filter_parquet,
    load_nwb,
    neuron_columns,
    parse_bin_ms,
    process_data,
    rebin,
    trial_table,
    velocity_columns,
)
from course_utils.plotting import demo_suffix, direction_colors, plot_neurotask_trial, use_course_style

use_course_style()
course_utils.banner("neurotask")

# %% [markdown]
# ## 1.1 The benchmark and its datasets
#
# | ID | task | subjects | sessions | neurons | trials | lab |
# |---|---|---|---|---|---|---|
# | 1 | Random Target | 2 | 47 | 18406 | 25483 | Makin / O'Doherty |
# | 2 | Center-Out with Bump | 2 | 4 | 461 | 2766 | Chowdhury |
# | 2 | Two-Workspace | 3 | 9 | 629 | 4515 | Chowdhury |
# | 3 | Center-Out | 4 | 30 | 1827 | 9226 | Gallego |
# | 4 | Center-Out / Wrist Isometric / Key Grasp | 2/1/1 | 23/13/9 | 2194/899/864 | 4712/2766/903 | Ma Xuan |
# | 5 | Center-Out / Random Target | 4 | 117 | 11557 | 22317 | Perich |
# | 6 | Maze | 2 | 9 | 1728 | 23117 | Churchland |
#
# In all: 6 datasets, 7 tasks, 19 monkeys and 261 sessions by the datasheet (the README says 148). The
# data come twice: as **parquet** files on Kaggle (`{datasetID}_{bin_ms}_{Name}_{Task}.parquet`, e.g.
# `2_10_Chowdhury_CObump.parquet` has 10 ms bins) and as **NWB** files on DANDI (dandisets 001055-001060,
# one per task). The license is CC BY-NC 4.0 by the README and CC BY-NC-ND 4.0 by the datasheet: follow the
# stricter one, and cite the datasheet.
#
# The datasets do not all record the same things. What the real files hold (from their public summaries):
#
# | files | behaviour | events besides `result` |
# |---|---|---|
# | DANDI 001055 Random Target, 001057 Center-Out | cursor or hand kinematics, targets | **none** |
# | DANDI 001056 CO-bump (the sample file) | `hand_pos/vel_x/y`, `target_dir`, `bump_dir` | `EventTarget_Onset`, `EventGo_cue`, `EventBump` |
# | DANDI 001058 Two-Workspace | hand position and velocity, `space_num` | start/end of trial, target onset, go cue |
# | DANDI 001059 Key Grasp | `force_x/y`, `target_dir` (**no velocity**) | go cue, movement start, target onset |
# | DANDI 001060 Isometric Wrist | cursor kinematics, force | go cue, target onset |
# | Kaggle Maze (1 ms bins) | `cursor_vel_x/y` only | go cue, movement start, movement end (no target onset) |
#
# So code that hard-codes an event or a velocity column breaks on some file; this chapter always asks the
# table what it has. Angles (`target_dir`, `bump_dir`) are in **radians** in every file.
#
# `get_source("neurotask")` returns the folder for the current data mode. The demo folder mirrors those real
# layouts with four simulated parquet files (a 10 ms center-out-with-bump file with exactly 001056's series, a
# 20 ms random-target file without events, a 1 ms maze file and a 10 ms key-grasp file without velocity) and
# the bump dataset's NWB twin in the DANDI layout. In sample mode you get the real NWB file of dandiset 001056
# only.

# %%
folder = get_source("neurotask")
parquet_files = sorted(folder.glob("*.parquet"))
nwb_files = sorted(folder.rglob("*.nwb"))
for path in parquet_files + nwb_files:
    print(f"{str(path.relative_to(folder)):50s} {path.stat().st_size / 1e6:6.1f} MB")

# %% [markdown]
# ## 1.2 Loading parquet files
#
# `load_and_filter_parquet(path, exclude=...)` reads a file and drops the trials whose `result` code is in
# `exclude` (`A` aborted, `I` incomplete, `F` failed, `R` rewarded). The default, `('A', 'I', 'F')`, keeps
# rewarded trials, as the upstream tutorials do. The bin size comes from the *file name*.
#
# ```{admonition} For maintainers: the bin size in upstream's loader
# :class: dropdown
# Upstream split the whole path on `_` and got the bin size wrong whenever a folder name contained an
# underscore; `parse_bin_ms` reads the file name only.
# ```
#
# Every loader returns the same schema whatever the file stores: the real files mix `uint8` and `float64`
# neuron columns in one file (a unit missing from a session is `NaN`, which forces `float64`), store ids as
# `int64` or `uint16`, and order their columns differently. The loaded table has `float32` counts (exact for
# any count, half the memory of `float64`), `int64` ids, and the columns in one order: neurons, ids, covariates,
# events. `file_columns(path)` lists them without reading the data.
#
# Here every parquet dataset of the folder (sample mode has none), with all trials kept (`exclude=None`):

# %%
overview = []
for path in parquet_files:
    table, file_bin_ms = load_and_filter_parquet(path, exclude=None)
    try:
        velocity = ", ".join(velocity_columns(table))
    except ValueError:
        velocity = "none"
    overview.append(
        {
            "file": path.name,
            "task": table["task"].iloc[0],
            "bin_ms": file_bin_ms,
            "rows": len(table),
            "columns": len(file_columns(path)),
            "neuron columns": len(neuron_columns(table)),
            "sessions": table.groupby(["animal", "session"]).ngroups,
            "trials": table.groupby(["animal", "session", "trial_id"]).ngroups,
            "events": ", ".join(e.removeprefix("Event") for e in event_columns(table)) or "none",
            "velocity": velocity,
        }
    )
pd.DataFrame(overview) if overview else print("No parquet files in this mode (sample mode has the NWB file only).")

# %% tags=["remove-cell"]
# Guards the text below: the 1 ms file has many more rows per trial than the others.
if overview:
    per_trial = pd.DataFrame(overview).assign(rows_per_trial=lambda t: t["rows"] / t["trials"]).set_index("bin_ms")
    if 1 in per_trial.index:
        assert per_trial.loc[1, "rows_per_trial"] > 5 * per_trial.drop(1)["rows_per_trial"].max(), per_trial

# %% [markdown]
# The 1 ms maze file has many more rows for the same recording time. A real Maze session holds up to 8.3
# million rows by ~200 units: about 6.6 GB as a `float32` table, too much for a 12 GB Colab runtime once you
# start computing on it. Two arguments keep it small, because both loaders read the file in batches into
# arrays allocated once:
#
# * `columns=[...]` reads only those columns (the ids always come along);
# * `bin_ms=20` **rebins while reading** (section 1.8 explains rebinning): each batch is summed into 20 ms bins
#   as it arrives, so the 1 ms table never exists in memory.

# %%
fine_files = [p for p in parquet_files if parse_bin_ms(p) == 1]
if fine_files:
    fine, fine_bin = load_and_filter_parquet(fine_files[0])
    coarse, coarse_bin = load_and_filter_parquet(fine_files[0], bin_ms=20)
    for label, table, size in (("as stored", fine, fine_bin), ("bin_ms=20", coarse, coarse_bin)):
        print(f"{label:10s} {len(table):9,} rows of {size:g} ms, {table.memory_usage(deep=True).sum() / 1e6:6.1f} MB")
    del fine, coarse

# %% [markdown]
# ## 1.3 Loading NWB files
#
# An NWB file {cite:p}`rubel2022nwb` of NeuroTask stores each column as a `TimeSeries`, grouped in four
# processing modules: `behavior` (covariates), `events` (events and the `result` code, as bytes), `indices`
# (animal, dataset, session and trial ids) and `spikes` (`spikes_counts`, a time x units matrix whose sampling
# `rate` gives the bin size). A look inside with PyNWB:

# %%
from pynwb import NWBHDF5IO

nwb_path = nwb_files[0]
with NWBHDF5IO(str(nwb_path), "r") as io:
    nwbfile = io.read()
    for module_name, module in nwbfile.processing.items():
        print(f"{module_name:9s} {sorted(module.data_interfaces)}")
    print("spikes_counts rate:", nwbfile.processing["spikes"]["spikes_counts"].rate, "Hz")

# %% [markdown]
# `load_nwb` turns that into the same table as the parquet loader: `exclude` lists the codes to **drop**,
# neuron columns are `Neuron1..`, `result` is text and events are booleans, in the parquet loader's column
# order and dtypes.
#
# ```{admonition} For maintainers: where upstream's NWB loader differed
# :class: dropdown
# * `exclude` lists the codes to drop, as for parquet (upstream's `filter_result=[b'R']` listed the codes to
#   *keep*: the opposite convention, and in bytes);
# * neuron columns are 1-based (`Neuron1..`), as in parquet (upstream: `Neuron0..`);
# * `result` is text (the file stores bytes, `b'R'`), events are booleans, and a `task` column is added;
# * columns come in the parquet loader's order and dtypes (the file stores float counts).
# ```
#
# We use this table, **all trials kept**, for the rest of the chapter.

# %%
df, bin_ms = load_nwb(nwb_path, exclude=None)
print(f"{nwb_path.name}: {len(df):,} bins x {df.shape[1]} columns, {bin_ms:g} ms bins")

# %% [markdown]
# When the folder also holds the parquet file of the same dataset (demo mode), the two loaders must agree
# exactly, dtypes included:

# %%
twins = [p for p in parquet_files if p.name.split("_")[0] == str(df["datasetID"].iloc[0])]
if twins:
    twin, _ = load_and_filter_parquet(twins[0], exclude=None)
    pd.testing.assert_frame_equal(df, twin)
    print(f"{nwb_path.name} and {twins[0].name} give identical tables")

# %% [markdown]
# ### What one trial holds
#
# Before the schema in detail, one glance at what was recorded in a single trial: `plot_neurotask_trial` draws
# the spikes of the trial's most active units (one tick per bin with a spike), the hand velocity below (the force
# in a file without velocity), and a dashed line at each event the file records, on one time axis in seconds.

# %%
fig, axes = plot_neurotask_trial(df, bin_ms, n_units=40)
plt.show()

# %% [markdown]
# Everything this chapter does is a way of slicing this picture: across units (section 1.4), across trials
# (1.5), along the movement (1.6), around an event (1.7) and into coarser bins (1.8).

# %% [markdown]
# ## 1.4 The schema
#
# Four kinds of columns: spike counts (`Neuron1..N`), ids (`datasetID`, `animal`, `session`, `trial_id`,
# `task`, `result`), behaviour covariates (floats; positions in cm, velocities in cm/s, angles in radians),
# and events (booleans, True in the bin where the event happens). Each row is one time bin; rows are in
# recording order, trial after trial.

# %%
neurons = neuron_columns(df)
covariates = behavior_columns(df)
events = event_columns(df)
print(f"{len(neurons)} neuron columns, covariates: {covariates}")
print(f"events: {events}")
print("dtypes:", df.dtypes.astype(str).value_counts().to_dict())
df[["animal", "session", "trial_id", "result", *covariates[:4], *events[:2]]].head()

# %% [markdown]
# A warning that matters for every analysis: **`Neuron7` of one session is not `Neuron7` of another.** Each
# session has its own population, and the file has as many neuron columns as its largest session; the
# others are `NaN` in the columns they did not record.
#
# ### Exercise 1.1 — Neurons per session
# Compute `n_neurons`: a Series indexed by (`animal`, `session`) with the number of units recorded in each
# session of `df`.

# %% tags=["solution"]
recorded_units = df.groupby(["animal", "session"])[neurons].apply(lambda g: g.notna().any())
n_neurons = recorded_units.sum(axis=1)

# %%
check_exercise("1.1", n_neurons, df)

# %%
present = df.groupby(["animal", "session"])[neurons].apply(lambda g: g.notna().any())
fig, ax = plt.subplots(figsize=(7, 1.8))
ax.imshow(present.to_numpy(), aspect="auto", cmap="Greys", interpolation="nearest")
ax.set_yticks(range(len(present)), [f"animal {a}, session {s}" for a, s in present.index])
ax.set(xlabel="neuron column (0 = Neuron1)", title="Neuron columns that hold data (black) in each session" + demo_suffix())
ax.grid(False)
plt.show()

# %% tags=["remove-cell"]
# Guards the text below: "each session fills the first columns and leaves the rest NaN".
for _, row in present.iterrows():
    filled = row.to_numpy()
    assert not filled[filled.argmin():].any() or filled.all(), "a session's recorded columns are not the first ones"

# %% [markdown]
# Each session fills the first columns and leaves the rest `NaN`. Decoders must therefore be trained per
# session, or with a per-session input layer.

# %% [markdown]
# ## 1.5 Trials and their outcomes
#
# `trial_table(df, bin_ms)` summarises the bins into one row per trial: ids, `result`, duration, the time
# of each event from the trial's start (`NaN` when the event did not happen), and trial-level covariates such
# as `target_dir`.

# %%
trials = trial_table(df, bin_ms)
trials.head()

# %% [markdown]
# ### Exercise 1.2 — Rewarded fraction per session
# Compute `rewarded_fraction`: a Series indexed by (`animal`, `session`) with the fraction of **trials**
# whose result is `R`.

# %% tags=["solution"]
rewarded_fraction = trials.assign(rewarded=trials["result"] == "R").groupby(["animal", "session"])["rewarded"].mean()

# %%
check_exercise("1.2", rewarded_fraction, trials, df)

# %%
outcomes = pd.crosstab([trials["animal"], trials["session"]], trials["result"], normalize="index")
ax = outcomes.plot.bar(stacked=True, figsize=(7, 3), colormap="viridis")
ax.set(xlabel="(animal, session)", ylabel="fraction of trials", title="Trial outcomes per session" + demo_suffix())
ax.legend(title="result", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% tags=["remove-cell"]
# Guards the text below: "most trials are rewarded" in every session.
assert (outcomes.get("R", 0) > 0.5).all(), outcomes

# %% [markdown]
# Most trials are rewarded, but the rest differ between sessions and animals. Loading with the default
# `exclude` keeps only the `R` trials, which is what decoding usually wants; outcome statistics need
# `exclude=None`.

# %% [markdown]
# ## 1.6 Kinematics: reaches and reaction times
#
# The covariates tell what the arm did. `velocity_columns(df)` picks the velocity a file records (hand, else
# cursor; it raises an error naming the dataset for files without any, such as Key Grasp). First the hand
# speed in a few rewarded trials, with the events marked:

# %%
vel_cols = velocity_columns(df)
pos_cols = [c.replace("_vel_", "_pos_") for c in vel_cols]
first_trials = trials[trials["result"] == "R"].head(3)
fig, axes = plt.subplots(1, 3, figsize=(9, 2.6), sharey=True)
legend_lines = {}  # one legend for the whole figure: every event drawn in any panel
for ax, (_, trial) in zip(axes, first_trials.iterrows(), strict=False):
    rows = df[(df["animal"] == trial["animal"]) & (df["session"] == trial["session"]) & (df["trial_id"] == trial["trial_id"])]
    time_ms = np.arange(len(rows)) * bin_ms
    ax.plot(time_ms, np.hypot(rows[vel_cols[0]], rows[vel_cols[1]]), color="k")
    for name in events:
        if np.isfinite(trial[f"{name}_ms"]):
            line = ax.axvline(trial[f"{name}_ms"], color=f"C{events.index(name)}", ls="--")
            legend_lines.setdefault(name.removeprefix("Event"), line)
    ax.set(xlabel="time in trial (ms)", title=f"trial {trial['trial_id']:.0f}")
axes[0].set_ylabel("speed (cm/s)")
fig.legend(legend_lines.values(), legend_lines.keys(), title="event", fontsize=7, loc="upper left",
           bbox_to_anchor=(0.9, 0.9))
fig.suptitle("Hand speed in three rewarded trials" + demo_suffix(), y=1.02)
plt.show()

# %% tags=["remove-cell"]
# Guards the figure: its one legend names every event drawn in any of the three panels.
drawn = {name.removeprefix("Event") for name in events for _, trial in first_trials.iterrows()
         if np.isfinite(trial[f"{name}_ms"])}
assert set(legend_lines) == drawn, (set(legend_lines), drawn)

# %% [markdown]
# The events of this file mark the target and the go cue (and, in some trials, a bump that pushes the hand);
# the reach itself is the bell-shaped rise of speed after the go cue. 001056 has **no movement-start event**,
# so we align reaches on an event the file does have. We pick it from a preference list and print the choice,
# so the same code runs on any NeuroTask file with events:

# %%
ALIGN_PREFERENCE = ("EventGo_cue", "EventMovement_start", "EventTarget_Onset")
align_on = next((e for e in ALIGN_PREFERENCE if e in events), None)
if align_on is None:
    raise ValueError(f"{nwb_path.name} has no event to align on ({events}); choose another file.")
print(f"aligning on {align_on} (this file's events: {events})")

# %% [markdown]
# Reach **trajectories by target**: align the rewarded trials on that event and average the hand position per
# target direction. `target_dir` is in radians, as in the files; we convert to degrees only to label the plot.

# %%
rewarded_bins = df[df["result"] == "R"]
reaches = align_event(rewarded_bins, align_on, bin_ms, offset_min=-100, offset_max=900)
mean_paths = reaches.groupby(["target_dir", "time_from_event_ms"])[pos_cols].mean()
target_colors = direction_colors(trials["target_dir"].dropna())  # one distinct colour per target, reused below
fig, ax = plt.subplots(figsize=(4.2, 4.2))
for direction, path in mean_paths.groupby(level="target_dir"):
    ax.plot(path[pos_cols[0]], path[pos_cols[1]], label=f"{np.rad2deg(direction):.0f}°", color=target_colors[direction])
ax.set(xlabel=f"{pos_cols[0]} (cm)", ylabel=f"{pos_cols[1]} (cm)", title="Mean reach path per target" + demo_suffix(),
       aspect="equal")
ax.legend(fontsize=7, title="target (degrees)", loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown]
# One path per target, from the center outwards. The **reaction time** is the time from the go cue to the
# start of the movement. Without a movement-start event we measure it from the kinematics, as is common for
# these recordings: the movement starts in the first bin after the go cue where the speed reaches 30 % of
# that trial's peak speed.
#
# ### Exercise 1.3 — Reaction times from the kinematics
# `after_go` holds the rewarded trials from the go cue to 1 s after it, with a `speed` column (cm/s). Compute
# `mean_rt_ms`: a Series indexed by `animal` with the mean reaction time (ms) over that animal's trials, where
# a trial's reaction time is the first `time_from_event_ms` at which `speed` reaches 30 % of the trial's peak.

# %%
after_go = align_event(rewarded_bins, "EventGo_cue", bin_ms, offset_min=0, offset_max=1000)
after_go["speed"] = np.hypot(after_go[vel_cols[0]], after_go[vel_cols[1]])
trial_keys = ["animal", "session", "trial_id"]

# %% tags=["solution"]
peak = after_go.groupby(trial_keys)["speed"].transform("max")
onset_ms = after_go[after_go["speed"] >= 0.3 * peak].groupby(trial_keys)["time_from_event_ms"].min()
mean_rt_ms = onset_ms.groupby(level="animal").mean()

# %%
check_exercise("1.3", mean_rt_ms, after_go)

# %%
peak_speed = after_go.groupby(trial_keys)["speed"].transform("max")
reaction_ms = after_go[after_go["speed"] >= 0.3 * peak_speed].groupby(trial_keys)["time_from_event_ms"].min()
fig, ax = plt.subplots(figsize=(6, 2.8))
for animal, values in reaction_ms.groupby(level="animal"):
    ax.hist(values, bins=np.arange(0, 1000 + bin_ms, 2 * bin_ms), alpha=0.6, label=f"animal {animal}")
ax.set(xlabel="reaction time (ms, go cue to 30 % of peak speed)", ylabel="trials",
       title="Reaction times of rewarded trials" + demo_suffix())
ax.legend()
plt.show()
print("median reaction time per animal (ms):", reaction_ms.groupby(level="animal").median().to_dict())

# %%
skew = reaction_ms.groupby(level="animal").agg(["mean", "median"])
skew["tail of slow reactions"] = skew["mean"] > skew["median"]
skew

# %% [markdown]
# Reaction-time distributions typically have a tail of slow reactions: the mean lies above the median. The
# table says, per animal, whether that holds here. The 30 % threshold adds a delay of its own (the speed
# needs time to reach it), so compare animals or conditions with one threshold, not with other studies'
# numbers.

# %% [markdown]
# ## 1.7 Rasters and PSTHs aligned to events
#
# `align_event(df, event, bin_size, offset_min, offset_max)` keeps, in each trial, the bins from
# `offset_min` to `offset_max` ms around the event (upstream's semantics: windows clipped to the trial,
# trials without the event dropped). Two additions make peri-event analyses one line each: a
# `time_from_event_ms` column, and `pad=True`, which gives every window the same length (bins outside the
# trial become `NaN`).
#
# We take the first session and its unit whose mean rate differs most between targets, and align on the
# event chosen above.

# %%
first_session = rewarded_bins[
    (rewarded_bins["animal"] == rewarded_bins["animal"].iloc[0]) & (rewarded_bins["session"] == rewarded_bins["session"].iloc[0])
]
session_units = [c for c in neurons if first_session[c].notna().all()]
unit = first_session.groupby("target_dir")[session_units].mean().std().idxmax()
aligned = align_event(first_session, align_on, bin_ms, offset_min=-400, offset_max=800, pad=True)
window_len = aligned["time_from_event_ms"].nunique()
event_label = align_on.removeprefix("Event").replace("_", " ")
print(f"unit {unit}; {len(aligned) // window_len} windows of {window_len} bins around {align_on}")

# %%
raster = aligned[unit].to_numpy().reshape(-1, window_len)
order = np.argsort(aligned["target_dir"].to_numpy()[::window_len], kind="stable")
times = aligned["time_from_event_ms"].to_numpy()[:window_len]
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.imshow(raster[order] > 0, aspect="auto", cmap="Greys", extent=(times[0], times[-1] + bin_ms, len(order), 0), interpolation="nearest")
ax.axvline(0, color="C1")
ax.set(xlabel=f"time from {event_label} (ms)", ylabel="trial (sorted by target)", title=f"Raster of {unit}" + demo_suffix())
ax.grid(False)
plt.show()

# %% [markdown]
# Each row is a trial, each dark pixel a bin with at least one spike. We picked this unit *because* its mean
# rate differs most between targets, so it is no surprise that, sorted by target, its firing differs between
# groups of trials: it depends on where the hand is going.
#
# ### Exercise 1.4 — A PSTH in spikes per second
# Compute `psth_hz`: the peri-stimulus time histogram of `unit` in `aligned`, a Series indexed by
# `time_from_event_ms` with the firing rate averaged over trials, in spikes per second.

# %% tags=["solution"]
psth_hz = aligned.groupby("time_from_event_ms")[unit].mean() / (bin_ms / 1000)

# %%
check_exercise("1.4", psth_hz, aligned, unit, bin_ms)

# %%
by_target = aligned.groupby(["target_dir", "time_from_event_ms"])[unit].mean().unstack(0) / (bin_ms / 1000)
line_colors = [target_colors[d] for d in by_target.columns]  # distinct colours, the same as the reach paths
by_target.columns = [f"{np.rad2deg(d):.0f}" for d in by_target.columns]  # radians in the data, degrees to read
ax = by_target.rolling(5, center=True, min_periods=1).mean().plot(figsize=(7, 3), color=line_colors)
ax.set(xlabel=f"time from {event_label} (ms)", ylabel="rate (spikes/s)",
       title=f"PSTH of {unit} per target (5-bin smoothing)" + demo_suffix())
ax.legend(title="target (°)", fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% tags=["remove-cell"]
# Guards the figure: every target has its own colour (0° and 315° must not both be red).
drawn_colors = [tuple(line.get_color()) if not isinstance(line.get_color(), str) else line.get_color()
                for line in ax.get_lines()]
assert len(set(drawn_colors)) == len(drawn_colors), drawn_colors

# %% [markdown]
# The classic picture of motor cortex {cite:p}`georgopoulos1982relations`: around the reach the rate depends
# on its direction, with a **preferred direction**, and a cosine describes many real units roughly. In demo
# mode the simulator *builds* cosine tuning in, so what follows tests the fitting code against a known answer;
# only on real data (sample mode) does it say something about the brain. Fit a cosine to each unit's mean rate
# while the hand moves,
# here from the median reaction time of exercise 1.3 to 300 ms later, as a function of the target direction,
# for every unit of the session at once (a linear least-squares fit of `rate = b0 + b1 cos θ + b2 sin θ`; the
# preferred direction is `atan2(b2, b1)`). `θ` is `target_dir`, already in radians; only the printout is in
# degrees.

# %%
move_from = float(reaction_ms.median()) if align_on == "EventGo_cue" else 0.0
moving = aligned[(aligned["time_from_event_ms"] >= move_from) & (aligned["time_from_event_ms"] < move_from + 300)]
tuning = moving.groupby("target_dir")[session_units].mean() / (bin_ms / 1000)
theta = tuning.index.to_numpy()
design = np.column_stack([np.ones_like(theta), np.cos(theta), np.sin(theta)])
coef, *_ = np.linalg.lstsq(design, tuning.to_numpy(), rcond=None)
preferred_rad = np.arctan2(coef[2], coef[1])
print(f"window {move_from:.0f}-{move_from + 300:.0f} ms after {align_on}; {len(session_units)} units; preferred "
      f"directions from {np.rad2deg(preferred_rad.min()):.0f}° to {np.rad2deg(preferred_rad.max()):.0f}°")

# %% [markdown]
# In demo mode the simulator's ground truth is known, so we can check the estimate (real recordings have no
# such file, and the cell says so):

# %%
from course_utils.neurotask.simulate import load_ground_truth

try:
    truth = load_ground_truth(folder)
except FileNotFoundError as err:
    print(err)
else:
    dataset = next(d for d in truth["datasets"].values() if d["datasetID"] == int(df["datasetID"].iloc[0]))
    session_truth = dataset["sessions"][0]
    true_rad = np.asarray(session_truth["preferred_direction_rad"])[: len(session_units)]
    error_deg = np.rad2deg(np.angle(np.exp(1j * (preferred_rad - true_rad))))  # circular difference
    tuned = np.asarray(session_truth["modulation_depth"])[: len(session_units)] > 0
    # Plot each estimate as truth + circular error, so a unit estimated at -179° for a truth of 179° sits on the
    # diagonal (it is 2° off) instead of in a corner: every point off the diagonal is a real estimation error.
    fig, ax = plt.subplots(figsize=(3.8, 3.6))
    ax.scatter(np.rad2deg(true_rad[tuned]), np.rad2deg(true_rad[tuned]) + error_deg[tuned], s=12)
    ax.plot([-180, 180], [-180, 180], color="grey", lw=0.8)
    ax.set(xlabel="true preferred direction (°)", ylabel="estimated (°, unwrapped)",
           title="Cosine fit vs ground truth" + demo_suffix())
    plt.show()
    median_error_deg = float(np.median(np.abs(error_deg[tuned])))
    worst_error_deg = float(np.max(np.abs(error_deg[tuned])))
    depth = np.asarray(session_truth["modulation_depth"])[: len(session_units)]
    worst_depth_rank = float((depth[tuned] < depth[tuned][np.argmax(np.abs(error_deg[tuned]))]).mean())
    print(f"median error over tuned units: {median_error_deg:.1f}°; largest: {worst_error_deg:.0f}°, for a unit "
          f"more weakly tuned than {1 - worst_depth_rank:.0%} of the tuned units")

# %% tags=["remove-cell"]
# Guards the text below: in demo mode the median error is within 20° (a few tens of degrees at most), and the
# largest errors belong to weakly tuned units (in the weaker half).
if "median_error_deg" in globals():
    assert median_error_deg < 20, f"median error {median_error_deg:.1f}°"
    assert worst_depth_rank < 0.5, "the worst estimate is not a weakly tuned unit"

# %% [markdown]
# In demo mode the points lie near the diagonal: eight targets and a few dozen trials recover the simulated units'
# preferred directions with a median error below 20° (printed above). The points further off are real
# estimation errors, not a wrap-around (the plot unwraps the angle): they belong to weakly tuned units, whose
# rate barely changes with direction, so noise moves their fitted peak a lot. This checks our fit against the
# simulator's cosines; it says nothing new about motor cortex.

# %% [markdown]
# ## 1.8 Rebinning and alignment
#
# Decoders usually work on coarser bins than the recording's. `rebin(df, prev_bin_size, new_bin_size)`
# merges `new/prev` consecutive bins **within each trial, starting at its first bin**: counts are summed,
# continuous covariates averaged, events kept if they happened in any merged bin, ids and trial-level
# covariates take the first value.
#
# ```{admonition} For maintainers: five ways upstream's rebin differs (also in the docstring)
# :class: dropdown
# 1. it cut bins at **global row positions** (every `new/prev` rows of the whole table), grouped by session
#    and trial: a trial that does not start on such a position gets a separate, **shorter bin at its start and
#    another at its end** (it never merges two trials into one bin, but those partial bins cover less time and
#    sit at different offsets from each trial's start); here bins start at each trial's first bin and a trial's
#    last, incomplete bin is dropped (`drop_partial=True`);
# 2. the output was sorted by (session, trial), **interleaving animals**; here the row order is kept;
# 3. all-`NaN` neuron columns became 0 (silent neurons invented); here they stay `NaN`;
# 4. covariates were `scipy.signal.decimate(x).mean()` for chunks over 27 rows: a filtered edge sample,
#    not the bin mean; here it is the mean;
# 5. a non-integer ratio (10 -> 25 ms) was silently floored; here it is an error.
# ```
#
# A tiny example with two trials of three 10 ms bins each, rebinned to 20 ms:

# %%
tiny = pd.DataFrame(
    {
        "animal": 1,
        "session": 1,
        "trial_id": [1.0, 1, 1, 2, 2, 2],
        "Neuron1": [1, 2, 3, 4, 5, 6],
        "hand_vel_x": [0.0, 2.0, 4.0, 10.0, 20.0, 30.0],
        "EventGo_cue": [False, False, True, False, True, False],
    }
)
tiny_20ms = rebin(tiny, 10, 20)
tiny_20ms

# %% tags=["remove-cell"]
# Guards the text below: one full bin per trial; trial 1's go cue was in its dropped bin, trial 2's is kept.
assert len(tiny_20ms) == 2 and tiny_20ms["EventGo_cue"].tolist() == [False, True], tiny_20ms

# %% [markdown]
# Each trial gives one full 20 ms bin; the third bin of each trial is alone and dropped. Trial 1's go cue was in
# its dropped bin: with `drop_partial=False` you keep such bins, at the price of bins that cover less time.
# Upstream's grouping, the same table grouped by (session, trial, row // 2), gives four bins instead, two of
# them a single 10 ms bin at the trial edges:

# %%
upstream_bins = tiny.groupby(["session", "trial_id", tiny.index // 2])["Neuron1"].agg(["sum", "size"])
upstream_bins

# %% tags=["remove-cell"]
# Guards the text above: upstream's grouping gives four bins, two of them a single 10 ms bin.
assert len(upstream_bins) == 4 and (upstream_bins["size"] == 1).sum() == 2, upstream_bins

# %% [markdown]
# ### Exercise 1.5 — Rebin one trial by hand
# `trial_counts` holds one unit's counts in one trial. Compute `counts_20ms`, its counts in bins twice as
# long, starting at the trial's first bin and dropping an incomplete last bin, with NumPy only.

# %%
trial_counts = first_session[unit].to_numpy()[first_session["trial_id"].to_numpy() == first_session["trial_id"].iloc[0]]
print(len(trial_counts), "bins:", trial_counts[:12], "...")

# %% tags=["solution"]
n_full = len(trial_counts) // 2 * 2
counts_20ms = trial_counts[:n_full].reshape(-1, 2).sum(axis=1)

# %%
check_exercise("1.5", counts_20ms, trial_counts, 2)

# %% [markdown]
# Now the whole table at twice the bin size, and the alignment of upstream's README example: target onset (or
# this file's chosen event if it has no target onset), from 20 ms before to 400 ms after, at 20 ms bins:
# `20 // 20 + 1 + 400 // 20 = 22` bins per trial, fewer when the trial ends sooner (windows are clipped,
# never padded, unless `pad=True`).

# %%
new_bin_ms = 2 * bin_ms
df_coarse = rebin(df, bin_ms, new_bin_ms)
print(f"{len(df):,} bins of {bin_ms:g} ms -> {len(df_coarse):,} bins of {new_bin_ms:g} ms")
# The loaders record the bin size in df.attrs["bin_ms"] and rebin records the new one, so the course's
# shorter spellings need no previous size: rebin(df, bin_ms=...) and align_event(df_coarse, event, ...).
print("recorded bin sizes (ms):", df.attrs["bin_ms"], "->", df_coarse.attrs["bin_ms"])
assert rebin(df, bin_ms=new_bin_ms).equals(df_coarse)
readme_event = "EventTarget_Onset" if "EventTarget_Onset" in events else align_on
readme = align_event(df_coarse, readme_event, new_bin_ms, offset_min=-20, offset_max=400)
window_sizes = readme.groupby(["animal", "session", "trial_id"]).size()
print(f"aligned on {readme_event}; bins per aligned trial:", window_sizes.value_counts().sort_index().to_dict())

# %% tags=["remove-cell"]
# Guards the text above: 22 bins per aligned trial at most, fewer when the trial ends sooner.
assert window_sizes.max() == 22, window_sizes.max()

# %% [markdown]
# ## 1.9 Building decoding arrays
#
# `process_data` turns a table into per-session arrays for a decoder: `X[i]` holds the spike counts of the
# current bin and `bins_before` bins before it, shape `(n, bins_before + 1, units)`; `y[i]` is the behaviour
# in the **same** bin, shape `(n, outputs)`. Each session is split chronologically (here 70 % train, 10 %
# validation, 20 % test); a split's first `bins_before` bins serve only as history so that no window reaches
# into the previous split. With `zscore=True`, spikes are standardised with the **training** bins' mean and
# standard deviation, and `y` is centred on its training mean. With `respect_trials=True` (the default) no
# window crosses a trial boundary.
#
# ```{admonition} For maintainers: differences from upstream's process_data
# :class: dropdown
# `y` is 2-D when `bins_after == 1` (upstream's 3-D `y` is rejected by scikit-learn); `X` is float32 built with
# sliding windows instead of a float64 array filled in a Python loop (upstream needs ~16 GB for a 1.35 M-bin
# session); and with `respect_trials=True` no window crosses a trial boundary, where upstream's history ran into
# the previous trial.
# ```

# %%
coarse_rewarded = rebin(df[df["result"] == "R"], bin_ms, new_bin_ms)
arrays = process_data(
    coarse_rewarded, 5, [0, 0.7], [0.7, 0.8], [0.8, 1.0], vel_cols, zscore=True, respect_trials=True
)
X_train, y_train, X_val, y_val, X_test, y_test = arrays
for info, X, y in zip(arrays.sessions, X_train, y_train, strict=True):
    print(info["key"], "X_train", X.shape, X.dtype, "y_train", y.shape, f"{len(info['neurons'])} units kept")

# %% [markdown]
# A first check that the arrays carry the signal: a linear decoder (ridge regression on the flattened
# history, the "Wiener filter" of {cite:t}`glaser2020machine`).
#
# ### Exercise 1.6 — A first linear decoder
# For the first session, fit `Ridge(alpha=1.0)` from scikit-learn on the flattened training arrays and
# compute `test_r2`, the R² of its predictions on the test arrays.

# %% tags=["solution"]
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score

ridge = Ridge(alpha=1.0).fit(X_train[0].reshape(len(X_train[0]), -1), y_train[0])
test_r2 = r2_score(y_test[0], ridge.predict(X_test[0].reshape(len(X_test[0]), -1)))
print(f"test R² = {test_r2:.2f}")

# %%
check_exercise("1.6", test_r2, X_train[0], y_train[0], X_test[0], y_test[0])

# %% [markdown]
# ### Exercise 1.7 — Build it: the Wiener filter with `lstsq`
# Ridge regression with `alpha=1` is almost the classic *Wiener filter*: ordinary least squares from the
# flattened spike history to the velocity. Build it yourself with NumPy only, for the first session: add a
# column of ones to the flattened training arrays (the intercept), solve for `wiener_weights` with
# `np.linalg.lstsq` (shape `(features + 1, outputs)`), predict the test velocities, and compute `wiener_r2`,
# the R² of that prediction (`1 - SSE / SST` over both velocity components together, the average R² of
# `r2_score` with `multioutput="variance_weighted"`). How does it compare with the ridge decoder above, and
# why?

# %% tags=["solution"]
def with_intercept(X):
    flat = X.reshape(len(X), -1)
    return np.column_stack([np.ones(len(flat)), flat])


wiener_weights, *_ = np.linalg.lstsq(with_intercept(X_train[0]), y_train[0], rcond=None)
wiener_prediction = with_intercept(X_test[0]) @ wiener_weights
wiener_r2 = 1 - ((y_test[0] - wiener_prediction) ** 2).sum() / ((y_test[0] - y_test[0].mean(axis=0)) ** 2).sum()
print(f"Wiener filter test R² = {wiener_r2:.3f} (ridge: {test_r2:.3f})")
print(f"{len(X_train[0])} training bins for {with_intercept(X_train[0]).shape[1]} weights per output")
# Answer: with many training bins per weight (the demo session) the two are close: with z-scored inputs a
# penalty of alpha = 1 barely shrinks the weights. With few training bins for many features (many units x
# history bins, as in a short real session) least squares starts to fit the noise of the training set and
# ridge does better on the test set: compare the two printed R² with the printed ratio of bins to weights.

# %%
check_exercise("1.7", wiener_weights, wiener_r2, X_train[0], y_train[0], X_test[0], y_test[0])

# %% [markdown]
# The decoding chapters take it from here, with better models and fair comparisons across sessions.
#
# ## 1.10 Speed and memory
#
# All four functions are vectorised (no Python loop over rows or trials), and the loaders read in batches
# (section 1.2). `benchmarks/bench_neurotask.py` measures both at real sizes:
#
# * loading a generated file of the largest real Maze session's size (8.3 million 1 ms rows x 200 units)
#   rebinned to 20 ms while reading: time and peak memory (the goal: under 2 GB, and at most 1.5x the table
#   returned);
# * `rebin` + `align_event` + `process_data` on every demo file shape (several animals and sessions,
#   `NaN`-padded columns, trial lengths that are not multiples of the rebin factor), timed **side by side**
#   with upstream's `api_neurotask.py` on the same data, when you give it upstream's file
#   (`--upstream FOLDER`); it prints each ratio (the goal: at least 40x).
#
# The figures measured for the course are in the README's benchmark table; run the script on your machine to
# get yours.
#
# ## Summary
#
# * NeuroTask is one table format for many motor-cortex datasets: one row per bin, `Neuron*` counts, ids,
#   covariates and `Event*` flags; parquet and NWB files load into the same table, with one set of dtypes.
# * Datasets differ in what they record: ask the table (`event_columns`, `velocity_columns`) instead of
#   hard-coding an event or a velocity; angles are in radians.
# * Large files: `columns=` and `bin_ms=` (rebin while reading) keep a 1 ms session within a laptop's memory.
# * Units are per session: neuron columns are `NaN` where a session did not record them.
# * `trial_table` summarises trials (outcomes, event times); behaviour questions such as outcome rates and
#   reaction times are one groupby away.
# * `align_event` (with `time_from_event_ms` and `pad=True`) gives rasters and PSTHs; a cosine fit of the rate
#   around the reach estimates each unit's preferred direction (the demo builds cosine tuning in, so there it
#   checks the fit; real motor-cortex units are tuned more loosely).
# * `rebin` and `process_data` keep trials intact, and produce float32 decoding arrays with chronological
#   splits and training-only statistics.
#
# ## Further reading
#
# * The NeuroTask datasheet and repository {cite:p}`filipe2024neurotask`.
# * Cosine tuning of motor cortex: {cite:t}`georgopoulos1982relations`.
# * Decoders for these arrays, from Wiener filters to LSTMs: {cite:t}`glaser2020machine`.
# * The NWB format and PyNWB: {cite:t}`rubel2022nwb`.
#
# ## Next
#
# {doc}`Chapter 2 <02_allen_loading>` moves from monkeys to mice: it reads Allen behaviour NWB files with PyNWB
# as section 1.3 did, and its trials, licks and rewards are per-trial tables like the ones `trial_table` made
# here. The arrays built here by `rebin` and `process_data` come back in
# {doc}`chapter 8 <08_decoding_baselines>`, which decodes them.
