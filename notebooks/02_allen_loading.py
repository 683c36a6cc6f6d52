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
# # 2. Loading Allen Visual Behavior
#
# **Goals:** find your way around the Allen Brain Observatory *Visual Behavior* project: its session table,
# the training stages a mouse goes through, and the tables of one behaviour session (trials, licks, rewards,
# running speed, stimuli), read from the NWB file with plain `pynwb`.
# **Time:** ~40 min. **Prerequisites:** chapter 0 (data modes); pandas. **Data:** Allen Visual Behavior
# (demo: a simulated project in the real layout; sample: the real session table and three NWB files of
# mouse 445002 from the Allen S3 bucket).
#
# **Builds on:** `get_source` and the data modes of {doc}`chapter 0 <00_setup_and_data>`, and PyNWB, which read
# NeuroTask's NWB file in {doc}`chapter 1 <01_neurotask_loading>` and reads an Allen behaviour file here.
#
# In the Visual Behavior project {cite}`allen2023visualbehavior` mice learn a *go/no-go change detection*
# task: natural images flash on a screen (250 ms on, 500 ms grey), and when the image changes the mouse must
# lick a spout within a short window to earn a drop of water. Mice are trained in stages, from static
# gratings to flashed images, until they are good enough to be "handed off" to a two-photon microscope, where
# their neurons are imaged ({term}`calcium imaging <Calcium imaging>`) while they perform the task.
#
# The Allen Institute ships AllenSDK to read these files, but AllenSDK 2.16 pins old versions of numpy and
# pandas and cannot read NWB with current `hdmf`. This course reads the files itself: `course_utils.allen`
# gives the tables AllenSDK 2.16.2 returns for the same file (same columns, same order, same types), so the
# Allen documentation still applies. Section 2.4 shows the one place where we deliberately differ.
#
# ```{admonition} Demo vs real
# :class: tip
# **Demo.** The simulator writes a small project (one mouse per cre line) in the real layout. Its mice are
# fast learners that spend one or two sessions per stage, and each has a *built-in* sensitivity that rises
# with training, lapses of attention and licking habits: chapter 5 recovers them, which checks the analysis,
# not the mice. **Real.** The session table lists 4,787 sessions of 107 mice; mice need from two weeks to four
# months to reach the microscope. A real behaviour session has about 950 trials, 2,900 licks, 86 rewards and
# 270,000 running samples in an NWB file of about 195 MB (mostly stimulus templates). Figures drawn from demo
# data say "(demo)" in their title.
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
from course_utils.allen import (
    STAGE_ORDER,
    load_behavior_session,
    load_session_table,
    mouse_sessions,
    mouse_summary,
    parse_session_type,
    with_nwb_files,
)
from course_utils.allen.plots import plot_session_contents, plot_session_timeline
from course_utils.data import get_source
from course_utils.exercises import check_exercise
from course_utils.plotting import demo_suffix, use_course_style

use_course_style()
pd.set_option("display.max_columns", 40)
course_utils.banner("allen_visual_behavior")

# %% [markdown]
# ## 2.1 The project and its session table
#
# `get_source` returns the project folder. It has the layout of the Allen Institute's public S3 bucket:
# `project_metadata/behavior_session_table.csv` lists every behaviour session, and
# `behavior_sessions/behavior_session_<id>.nwb` holds each session's data. In demo mode the folder is written
# by a simulator (once, then cached); in sample mode it is downloaded.

# %%
folder = get_source("allen_visual_behavior")
table = with_nwb_files(load_session_table(folder), folder)
print(f"{len(table)} sessions of {table.mouse_id.nunique()} mice; NWB files on disk: {table.has_nwb.sum()}")
table.sample(5, random_state=0)

# %% [markdown]
# One row per session, indexed by `behavior_session_id`. The columns describe the mouse (`mouse_id`,
# `cre_line`, `full_genotype`, `sex`, `age_in_days`), the session (`session_type`, `date_of_acquisition`,
# `equipment_name`) and its place in the experiment (`experience_level`, `prior_exposures_to_image_set`,
# ...). Sessions on a two-photon rig also have an `ophys_session_id`.
#
# How many sessions of each type are there, per {term}`cre line <Cre line>` (the genetically defined cell class
# imaged later)?

# %%
counts = table.pivot_table(index="session_type", columns="cre_line", values="mouse_id", aggfunc="count",
                           fill_value=0)
counts.loc[sorted(counts.index, key=lambda s: (parse_session_type(s)["stage_order"], s))]

# %% [markdown]
# ## 2.2 Training stages: what a session type says
#
# A session type such as `TRAINING_5_images_A_handoff_ready` packs several facts: the **stage**
# (`TRAINING_0` ... `TRAINING_5`, then `OPHYS_0` ... `OPHYS_6` on the microscope), the **image set**
# (`gratings`, `images_A`, `B`, `G` or `H`) and a detail. `load_session_table` adds these as columns.
# The stages, in order:
#
# | stage | what the mouse sees and does |
# |---|---|
# | TRAINING_0 | static gratings, every change rewarded automatically (15 min) |
# | TRAINING_1 | static gratings, must lick after an orientation change |
# | TRAINING_2 | flashed gratings |
# | TRAINING_3 | natural images, larger (10 µL) rewards |
# | TRAINING_4 | images, normal rewards; *handoff_ready* once d' > 1 on 2 of 3 consecutive days (see below) |
# | TRAINING_5 | images; *epilogue*, *handoff_ready* or *handoff_lapsed* (performance dropped) |
# | OPHYS_0 | habituation on the microscope rig, no imaging |
# | OPHYS_1, 3 | imaging, task with the familiar training images |
# | OPHYS_2, 5 | imaging, **passive**: the same stimuli, no lick spout, no rewards |
# | OPHYS_4, 6 | imaging, task with a **novel** image set |
#
# *d'* ("d-prime", {term}`d'`) measures how well the mouse tells a change from no change: 0 is chance, and
# d' > 1 means its licks follow the changes clearly more often than they come without one. Chapter 5 defines
# it from the hit and false-alarm rates and computes it; here it is only the hand-off criterion.

# %%
parse_session_type("OPHYS_5_images_B_passive")

# %%
table[["session_type", "training_stage", "stage_order", "image_set", "passive", "session_number",
       "experience_level"]].drop_duplicates("session_type").sort_values("stage_order").head(12)

# %% [markdown]
# `experience_level` tells whether the images are the ones the mouse learned on (`Familiar`) or new
# (`Novel 1` on the first day with them, `Novel >1` after).
#
# ## 2.3 One mouse's progression
#
# We pick a mouse whose NWB files are on disk (in sample mode, mouse 445002 of the Allen example notebook)
# and list its sessions in acquisition order. `day` counts calendar days since its first session.

# %%
mouse_id = table[table.has_nwb].mouse_id.value_counts().index[0]
mouse = mouse_sessions(table, mouse_id)
mouse[["date_of_acquisition", "day", "session_type", "equipment_name", "experience_level", "has_nwb"]]

# %% [markdown]
# The mouse starts in a training box (`BEH.*`), climbs the stages, and moves to a microscope rig
# (`CAM2P.*` or `MESO.1`) once it is *hand-off ready*. The figure shows every mouse's path through the stages:
# each line is a mouse, each dot a session.

# %%
fig, ax = plt.subplots(figsize=(9, 4.5))
for _, rows in table.groupby("mouse_id"):
    rows = mouse_sessions(table, rows.mouse_id.iloc[0])
    highlight = rows.mouse_id.iloc[0] == mouse_id
    ax.plot(rows["day"], rows["stage_order"], "-o" if highlight else "-", ms=3,
            color="tab:red" if highlight else "gray", alpha=1 if highlight else 0.25, lw=2 if highlight else 1)
ax.set_yticks(list(STAGE_ORDER.values()), list(STAGE_ORDER))
ax.set_xlabel("days since the first session")
ax.set_ylabel("training stage")
ax.set_title(f"Every mouse's progression (mouse {mouse_id} in red)" + demo_suffix())
plt.show()

# %% [markdown]
# In the real project mice need from two weeks to four months to reach the microscope (a median of five to
# nine and a half weeks depending on the cre line), and some lapse back for a while; the simulated demo mice are fast
# learners that spend one or two sessions per stage, to keep the demo small. `mouse_summary`
# condenses this into one row per mouse: sessions per stage, the first *handoff_ready* day and the hand-off
# date (first session on the microscope rig).

# %%
summary = mouse_summary(table)
summary[["cre_line", "n_sessions", "first_handoff_ready", "handoff_date", "training_days"]].head()

# %% [markdown]
# Training time per cre line: how many mice each line has, and their training days.

# %%
per_cre_line = summary.groupby("cre_line")["training_days"].agg(mice="count", median="median", min="min", max="max")
per_cre_line

# %% tags=["remove-cell"]
# Guards the text below: in demo mode each cre line has one mouse, and it trains fast (one or two sessions per
# stage).
if course_utils.data.data_mode() == "demo":
    assert (per_cre_line["mice"] == 1).all(), per_cre_line
    sessions_per_stage_all = table.groupby(["mouse_id", "training_stage"]).size()
    assert sessions_per_stage_all.max() <= 2, sessions_per_stage_all[sessions_per_stage_all > 2]

# %% [markdown]
# In demo mode each cre line has a single mouse (the `mice` column), so each row is one mouse's value, not a
# distribution: it shows the computation, and nothing about the cre lines. On the real session table
# (sample mode) each line has dozens of mice and a median training time of five to nine and a half weeks.

# %% [markdown]
# ### Exercise 2.1 — Sessions per training stage
# For the mouse above, count its sessions in each training stage (`TRAINING_0` ... `OPHYS_6`) and return a
# pandas Series indexed by stage **in training order**.

# %% tags=["solution"]
sessions_per_stage = mouse["training_stage"].value_counts()
sessions_per_stage = sessions_per_stage.sort_index(key=lambda stages: stages.map(STAGE_ORDER))

# %%
check_exercise("2.1", sessions_per_stage, mouse)

# %% [markdown]
# ## 2.4 One session's tables
#
# Like the Allen notebook, we open the mouse's last *handoff_ready* training session (the last one before
# the microscope) that is on disk. `load_behavior_session` reads the NWB file with
# `pynwb.NWBHDF5IO(path, "r", load_namespaces=True)`: the Allen files carry their own extension
# (`ndx-aibs-behavior-ophys`, cached inside the file) for metadata and task parameters, which `pynwb` can
# read without any extra package.

# %%
on_disk = mouse[mouse.has_nwb & ~mouse.passive & (mouse.image_set != "gratings")]
ready = on_disk[on_disk.stage_detail.str.contains("handoff_ready")]
behavior_session_id = (ready if len(ready) else on_disk).index[-1]
session = load_behavior_session(mouse.loc[behavior_session_id, "nwb_file"])
session

# %% [markdown]
# ### What one session records
#
# One glance before the tables: `plot_session_contents` draws each stream of the file in its own row, on one
# time axis in seconds, starting 10 s before the first earned reward: the image flashes (one colour per image,
# a triangle at each change), the licks, the rewards and the running speed. Each row is one of the tables
# below.

# %%
fig, axes = plot_session_contents(session, duration_s=40)
plt.show()

# %% [markdown]
# The **task parameters**: the response window (licks 0.15-0.75 s after a change count), reward volumes in
# mL (7 µL earned, 5 µL free "auto" rewards, explained with the rewards table below), flash timing, and the
# `image_set`, which AllenSDK derives from the session type (`image_set_from_session_type`).

# %%
session.task_parameters

# %% tags=["remove-cell"]
# Guards the text above: the response window is 0.15-0.75 s, rewards are 7 µL earned and 5 µL automatic.
assert [float(x) for x in session.task_parameters["response_window_sec"]] == [0.15, 0.75]
assert session.task_parameters["reward_volume"] == 0.007 and session.task_parameters["auto_reward_volume"] == 0.005

# %% [markdown]
# The **metadata** describe the session and the mouse. Two entries are not stored in the file but derived,
# as AllenSDK derives them: `cre_line`, the first part of the genotype (`cre_line_from_genotype`), and
# `age_in_days`, from the subject's age code. `mouse_id` is a string, as AllenSDK returns it; the session
# table reads it as a number, so convert before comparing the two.

# %%
{key: session.metadata[key] for key in ("session_type", "mouse_id", "cre_line", "full_genotype", "age_in_days",
                                        "equipment_name", "date_of_acquisition")}

# %% [markdown]
# **Stimulus presentations**: one row per thing shown on the screen, from every stimulus block of the
# session, in time order. Besides the change-detection images (or gratings), a session can have a grey screen
# (`spontaneous`) and a natural movie (`natural_movie_one`, one row per movie frame); the file stores one
# table per block and `load_behavior_session` merges them, as AllenSDK does. `stimulus_name` says which
# stimulus a row comes from; numbering the runs of consecutive rows with the same stimulus shows the blocks
# in the order the mouse saw them:

# %%
stim = session.stimulus_presentations
block = stim["stimulus_name"].ne(stim["stimulus_name"].shift()).cumsum().rename("block")  # new name, new block
stim.groupby(block).agg(stimulus_name=("stimulus_name", "first"), rows=("start_time", "size"),
                        start_s=("start_time", "min"), end_s=("end_time", "max"))

# %% [markdown]
# An image row has its image, whether it was a change, whether it was *omitted* (in OPHYS sessions about 5 %
# of flashes are left out), whether the image is new to the mouse (`is_image_novel`), and the number of
# flashes since the last change. Rows of other blocks have no image: their `omitted` and `is_image_novel`
# are `<NA>` (pandas' nullable booleans: "does not apply", neither True nor False) and their integer columns
# hold -99, AllenSDK's "not applicable" number.

# %%
stim[stim["image_name"].notna()].head()

# %%
stim[stim["image_name"].isna()].head(3)

# %% [markdown]
# **Where we differ from AllenSDK.** `flashes_since_change` counts image flashes only; rows of other blocks
# get -99 (AllenSDK gives them a meaningless running count).
#
# ```{admonition} For maintainers: flashes_since_change in AllenSDK
# :class: dropdown
# AllenSDK's reader recounts `flashes_since_change` over the merged table, so grey-screen and movie rows keep
# adding one: a movie frame late in the session reads "thousands of flashes since the last change". That number
# means nothing, so `course_utils` counts over the image rows only (the value the file stores) and gives the
# other rows -99. Everything else is AllenSDK's, including `is_change`, recomputed on reading by AllenSDK's rule
# (`image_change`: a shown image that differs from the previous shown one).
# ```

# %%
stim.groupby("stimulus_name", sort=False)["flashes_since_change"].agg(["min", "max"])

# %% [markdown]
# **Licks** (time and display frame of each lick), **rewards** (volume, time, whether automatic) and
# **running speed** (cm/s, about 60 samples per second):

# %%
session.licks.head()

# %%
session.rewards.head()

# %% [markdown]
# `auto_rewarded` marks the **auto-rewards**: free drops (5 µL) that the task delivers at the change time
# whether or not the mouse licks. Every change of `TRAINING_0` is auto-rewarded (the mouse learns where the
# water comes from), and every later session with a lick spout starts with a few auto-rewarded changes that
# remind the mouse of the task. An auto-rewarded trial is neither a hit nor a miss: the trials table gives it
# its own outcome (`auto_rewarded`), and performance measures such as d' leave it out. In this session:

# %%
auto_trials = session.trials[session.trials["auto_rewarded"]]
first_earned = session.trials.index[session.trials["go"]].min()
print(f"{len(auto_trials)} auto-rewarded trials, all before the first go trial ({first_earned}): "
      f"{bool((auto_trials.index < first_earned).all())}; auto-rewards in the rewards table: "
      f"{int(session.rewards['auto_rewarded'].sum())}")

# %% tags=["remove-cell"]
# Guards the text above: the session starts with a few auto-rewarded changes, none of them a hit or a miss.
# Demo only for "a few, all at the start": the simulator places them so; nothing guarantees a real session's.
if course_utils.data.data_mode() == "demo":
    assert 0 < len(auto_trials) <= 10 and (auto_trials.index < first_earned).all(), auto_trials.index
assert not (auto_trials["hit"] | auto_trials["miss"]).any()

# %%
session.running_speed.head()

# %% [markdown]
# **Trials**: one row per trial, with its outcome and timing. A trial starts on a flash; after a random
# number of flashes the image changes (a *go* trial) or does not (a *catch* trial, with a "sham" change time);
# a lick before the change *aborts* the trial. A {term}`catch trial <Catch trial>` measures how often the mouse
# licks without a change. Chapter 5 analyses this table in depth.

# %%
session.trials.sample(5, random_state=0)

# %% [markdown]
# ### Exercise 2.2 — The flash cadence
# Using `session.stimulus_presentations`, compute `interval_s`, the median time in seconds between the
# onsets of consecutive image flashes that were shown: keep the rows whose `omitted` is False (it is True for
# an omitted flash and `<NA>` on grey-screen and movie rows; `.fillna(True)` counts those as not shown).

# %% tags=["solution"]
shown = stim[~stim["omitted"].fillna(True)]
interval_s = shown["start_time"].diff().median()

# %%
check_exercise("2.2", interval_s, session.stimulus_presentations)

# %% [markdown]
# ## 2.5 A short stretch of the session
#
# The Allen notebook's figure, drawn by `plot_session_timeline`: running speed (blue), licks (black dots),
# rewards (diamonds) and image flashes, coloured by image. We centre it on the session's first hit.

# %%
first_hit = session.trials.loc[session.trials.hit, "change_time"].iloc[0]
timeline_ax = plot_session_timeline(session, first_hit - 15, first_hit + 15)
timeline_ax.set_title(timeline_ax.get_title() + demo_suffix())
plt.show()

# %% tags=["remove-cell"]
# Guards the text below: at the first hit the mouse licks within a fraction of a second and the reward comes
# with that lick; over all hits of the session it runs more slowly in the 2 s after its lick than in the 2 s
# before the change.
hits = session.trials[session.trials.hit]
lick_s = hits["change_time"] + hits["response_latency"]
assert hits["response_latency"].iloc[0] < 0.75 and abs(hits["reward_time"].iloc[0] - lick_s.iloc[0]) < 0.05
speed = session.running_speed.set_index("timestamps")["speed"]
before = [speed[(speed.index > t - 2) & (speed.index < t)].mean() for t in hits["change_time"]]
after = [speed[(speed.index > t) & (speed.index < t + 2)].mean() for t in lick_s]
# Demo only: the simulator slows its mouse while licking; a real session is measured, not guaranteed.
if course_utils.data.data_mode() == "demo":
    assert np.nanmean(after) < np.nanmean(before), (np.nanmean(before), np.nanmean(after))

# %% [markdown]
# Images flash at a steady cadence; at a change (orange triangle) the colour changes, the mouse licks within
# a fraction of a second, and the reward arrives with its first lick. In the demo, running slows while the mouse
# licks: the simulator builds that in (on average over the session's hits, as the chapter checks on demo data).
# On a real session it is a measurement, not a given: compare the mean speed in the 2 s before each change with
# the 2 s after the lick.
#
# ### Exercise 2.3 — How much does the mouse run?
# Compute `fraction_running`, the fraction of running-speed samples above 5 cm/s in this session.

# %% tags=["solution"]
fraction_running = (session.running_speed["speed"] > 5).mean()

# %%
check_exercise("2.3", fraction_running, session.running_speed)

# %% [markdown]
# ## 2.6 Under the hood: the NWB file
#
# An NWB file is an HDF5 file with a standard layout. Listing its groups shows where each table comes from:
# `processing/` holds the time series (stimulus frame times, running, licks and rewards; a passive session
# has no licking or rewards module at all), `intervals/` the trials and one `<stimulus>_presentations` table
# per stimulus block, `general/` the metadata.

# %%
import h5py  # noqa: E402  (only needed for this peek inside the file)

with h5py.File(session.path, "r") as nwb_file:
    for group in ("processing", "intervals", "general"):
        print(f"{group}/: {sorted(nwb_file[group].keys())}")

# %% [markdown]
# The metadata and task parameters live in `general/metadata` and `general/task_parameters`, typed by the
# Allen extension whose specification is stored under `specifications/` inside the file. The demo files
# carry a copy of that extension under the name `ndx-aibs-behavior-ophys-demo` (same types and fields), so
# the same reader handles both.
#
# ## Summary
#
# * The **session table** lists every session; `load_session_table` adds the training stage, its order,
#   the image set, the passive flag and the experience level, parsed from `session_type`.
# * `mouse_sessions` gives one mouse's sessions in acquisition order; `mouse_summary` the days it spent in
#   each stage and its hand-off date.
# * `load_behavior_session` reads one NWB file with plain `pynwb` into the tables AllenSDK returns: `trials`,
#   `licks`, `rewards`, `running_speed`, `stimulus_presentations` (every stimulus block merged, nullable
#   booleans where a column does not apply), plus `metadata` and `task_parameters`. Only
#   `flashes_since_change` outside the image blocks differs, on purpose.
#
# Next, chapter 5 turns the trials table into performance measures: hit and false-alarm rates, d',
# engagement, and learning curves.
#
# ## Further reading
#
# * The Visual Behavior 2P dataset and its technical whitepaper {cite}`allen2023visualbehavior`.
# * The NWB format {cite}`rubel2022nwb`.
#
# ## Next
#
# {doc}`Chapter 3 <03_sensorium_data>` reads a source that recorded neurons as well: like this chapter's running
# speed beside the task's events, each Sensorium trial holds behaviour beside the neural responses. The session
# table and trials loaded here are analysed in {doc}`chapter 5 <05_allen_behavior_analysis>`.
