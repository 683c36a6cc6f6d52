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
# # 5. Analysing behaviour: Allen Visual Behavior
#
# **Goals:** turn a trials table into measures of performance: trial outcomes, response latencies, hit and
# false-alarm rates, **d'** and the **criterion** of signal detection theory, engagement within a session,
# AllenSDK's performance metrics (computed here without AllenSDK), and learning curves across sessions,
# mice and cre lines.
# **Time:** ~60 min. **Prerequisites:** chapter 2 (the session table and one session's tables).
# **Data:** Allen Visual Behavior (demo: simulated project with a known ground truth; sample: three real
# training sessions of mouse 445002: its first day, a gratings day and a hand-off-ready day).

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
import inspect

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import norm
from tqdm import tqdm

import course_utils
from course_utils.allen import (
    handoff_criterion_met,
    load_behavior_session,
    load_session_table,
    mouse_sessions,
    performance_metrics,
    rolling_performance,
    session_metrics_table,
    trial_outcomes,
    with_nwb_files,
)
from course_utils.allen.plots import (
    plot_engagement,
    plot_learning_curves,
    plot_lick_raster,
    plot_performance_across_sessions,
    plot_response_latencies,
)
from course_utils.behavior.sdt import corrected_rate, criterion, dprime, sdt_rates
from course_utils.data import get_source
from course_utils.exercises import check_exercise
from course_utils.plotting import use_course_style

use_course_style()
pd.set_option("display.max_columns", 40)
course_utils.banner("allen_visual_behavior")

# %% [markdown]
# We open the same session as in chapter 2: the chosen mouse's last *handoff_ready* training session on disk.

# %%
folder = get_source("allen_visual_behavior")
table = with_nwb_files(load_session_table(folder), folder)
mouse_id = table[table.has_nwb].mouse_id.value_counts().index[0]
mouse = mouse_sessions(table, mouse_id)
on_disk = mouse[mouse.has_nwb & ~mouse.passive & (mouse.image_set != "gratings")]
ready = on_disk[on_disk.stage_detail.str.contains("handoff_ready")]
behavior_session_id = (ready if len(ready) else on_disk).index[-1]
session = load_behavior_session(mouse.loc[behavior_session_id, "nwb_file"])
trials = session.trials
session

# %% [markdown]
# ## 5.1 Trials and their outcomes
#
# Every trial ends in exactly one of six outcomes:
#
# | outcome | trial type | what happened |
# |---|---|---|
# | **hit** | go (image changed) | first lick 0.15-0.75 s after the change: reward |
# | **miss** | go | no lick in the window |
# | **false alarm** | catch (no change; a "sham" change time) | lick in the window anyway |
# | **correct reject** | catch | no lick |
# | **auto-rewarded** | change with a free reward | the first trials of a session, to prime the mouse |
# | **aborted** | — | a lick *before* the change: the trial restarts after a timeout |
#
# AllenSDK's flags follow these rules: aborted trials are neither go nor catch, and `go` means "a change
# that was not auto-rewarded".

# %%
outcomes = trial_outcomes(trials)
outcomes.value_counts().to_frame("trials")

# %% [markdown]
# ## 5.2 A hit trial in detail
#
# One hit, as a record: the trial starts, the image changes at `change_time`, the first lick
# (`response_time`) comes `response_latency` seconds later, and the reward (`reward_time`) comes with it.

# %%
trials.query("hit").sample(random_state=0).to_dict("records")[0]

# %% [markdown]
# Aligning every go and catch trial's licks to its change shows the whole session at once: hits lick inside
# the response window (yellow), false alarms too but after no change, and the bouts go on while the mouse
# drinks.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
plot_lick_raster(trials, ax=axes[0])
plot_response_latencies(trials, ax=axes[1])
fig.tight_layout()
plt.show()
hit_latency = trials.loc[trials.hit, "response_latency"]
print(f"hit latencies: quartiles {hit_latency.quantile(0.25):.2f}, {hit_latency.median():.2f}, "
      f"{hit_latency.quantile(0.75):.2f} s")

# %% [markdown]
# Hit latencies pile up a few hundred milliseconds after the change (the quartiles are printed under the
# figure): a mouse needs that long to see the change and start licking. Licks earlier than 0.15 s cannot be
# responses to the change, which is why the window starts there.
#
# ### Exercise 5.1 — Hit and false-alarm rates
# Compute this session's `hit_rate` (fraction of go trials that are hits) and `false_alarm_rate`
# (fraction of catch trials with a false alarm), without any correction.

# %% tags=["solution"]
hit_rate = trials.loc[trials["go"], "hit"].mean()
false_alarm_rate = trials.loc[trials["catch"], "false_alarm"].mean()

# %%
check_exercise("5.1", hit_rate, false_alarm_rate, trials)

# %% [markdown]
# ### Exercise 5.2 — Reaction times
# Compute `median_latency_s`, the median response latency of hit trials, in seconds.

# %% tags=["solution"]
median_latency_s = trials.loc[trials["hit"], "response_latency"].median()

# %%
check_exercise("5.2", median_latency_s, trials)

# %% [markdown]
# ## 5.3 Signal detection theory: what d' and the criterion mean
#
# A hit rate alone says little: a mouse that licks after *every* flash has a hit rate of 1, and a terrible
# false-alarm rate. Signal detection theory {cite}`green1966signal` separates *how well* the subject tells
# change from no change from *how eager* it is to respond. It imagines that each trial gives the subject a
# noisy internal evidence value: drawn from a unit-variance Gaussian centred on 0 without a change and on
# **d'** with a change. The subject responds when the evidence exceeds a threshold. Then
#
# * hit rate $H = P(\text{evidence} > \text{threshold} \mid \text{change})$, false-alarm rate
#   $F = P(\text{evidence} > \text{threshold} \mid \text{no change})$;
# * **sensitivity** $d' = z(H) - z(F)$, with $z$ the inverse of the standard normal CDF (`norm.ppf`);
# * **criterion** $c = -\left(z(H) + z(F)\right) / 2$: the threshold's distance from the midpoint between the
#   two Gaussians. $c < 0$ is a liberal subject (responds readily, many false alarms), $c > 0$ a conservative
#   one (many misses).
#
# Rates of exactly 0 or 1 would give infinite z-scores. AllenSDK clips both rates to [0.01, 0.99] (so
# $d' \le 4.65$); with few trials the **1/(2N) correction** moves a rate of 0/N to 1/(2N) and N/N to
# 1 - 1/(2N). `course_utils.behavior.sdt` implements both for any subject: the same functions analyse the
# NeuroGym networks of a later chapter.

# %%
session_sdt = sdt_rates(trials.loc[trials.go | trials.catch, "go"], trials.loc[trials.go | trials.catch, "hit"]
                        | trials.loc[trials.go | trials.catch, "false_alarm"])
session_sdt

# %%
d, c = session_sdt["dprime"], session_sdt["criterion"]
threshold = d / 2 + c  # evidence above this -> lick
x = np.linspace(-4, 4 + d, 400)
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.plot(x, norm.pdf(x), color="tab:blue", label="no change (catch)")
ax.plot(x, norm.pdf(x, loc=d), color="tab:green", label="change (go)")
ax.fill_between(x, norm.pdf(x, loc=d), where=x > threshold, color="tab:green", alpha=0.3,
                label=f"hits: H = {session_sdt['hit_rate']:.2f}")
ax.fill_between(x, norm.pdf(x), where=x > threshold, color="tab:red", alpha=0.4,
                label=f"false alarms: F = {session_sdt['false_alarm_rate']:.2f}")
ax.axvline(threshold, color="black", ls="--", label=f"threshold (c = {c:.2f})")
ax.set_xlabel("internal evidence (units of the noise standard deviation)")
ax.set_ylabel("probability density")
ax.set_title(f"This session in signal detection terms: d' = {d:.2f}")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown]
# The distance between the two curves is d'; the dashed line is where the mouse decides to lick. Moving the
# line changes hits and false alarms together (the criterion); only separating the curves (learning) raises
# hits without raising false alarms.

# %%
print(f"d'(H=1, F=0) with clipping: {dprime(1.0, 0.0):.4f};  1/(2N) correction of 10/10: {corrected_rate(1.0, 10)}")
print(f"criterion of a subject with H=0.9, F=0.5 (liberal): {criterion(0.9, 0.5):.2f}; "
      f"H=0.5, F=0.1 (conservative): {criterion(0.5, 0.1):.2f}")

# %% [markdown]
# ### Exercise 5.3 — Your own d'
# Write `my_dprime(hit_rate, false_alarm_rate)` that clips both rates to [0.01, 0.99] and returns
# z(hit) - z(false alarm). Use `scipy.stats.norm.ppf`.

# %% tags=["solution"]
def my_dprime(hit_rate, false_alarm_rate):
    """d' with AllenSDK's clipping of both rates to [0.01, 0.99]."""
    hit = np.clip(hit_rate, 0.01, 0.99)
    false_alarm = np.clip(false_alarm_rate, 0.01, 0.99)
    return norm.ppf(hit) - norm.ppf(false_alarm)


# %%
check_exercise("5.3", my_dprime)

# %% [markdown]
# ### Exercise 5.4 — Bias: the criterion
# From the uncorrected hit and false-alarm rates of this session (`session_sdt["hit_rate"]` and
# `session_sdt["false_alarm_rate"]`), compute `session_criterion` = -(z(H) + z(F)) / 2, with both rates
# clipped to [0.01, 0.99]. Is this mouse liberal or conservative?

# %% tags=["solution"]
h = np.clip(session_sdt["hit_rate"], 0.01, 0.99)
f = np.clip(session_sdt["false_alarm_rate"], 0.01, 0.99)
session_criterion = -(norm.ppf(h) + norm.ppf(f)) / 2

# %%
check_exercise("5.4", session_criterion, session_sdt["hit_rate"], session_sdt["false_alarm_rate"])

# %% [markdown]
# ## 5.4 Rolling performance and engagement within a session
#
# Mice do not perform evenly across an hour: they start motivated and, as they drink their fill, stop
# responding. AllenSDK therefore computes performance in a **rolling window** of the last 100 non-aborted
# trials, and the **reward rate** (rewards per minute, in a window of about 50 trials centred on each trial).
# A trial is **engaged** when the reward rate is above 2 per minute. `rolling_performance` reproduces
# AllenSDK 2.16.2 exactly; the implementation is short enough to read:

# %%
print(inspect.getsource(rolling_performance).split('"""')[-1])

# %%
rolling = rolling_performance(trials)
rolling.dropna().head()

# %%
plot_engagement(rolling, trials)
plt.show()
rate = rolling["reward_rate"]
for label, rows in (("engaged (> 2 rewards/min)", rate > 2), ("disengaged (<= 2 rewards/min)", rate <= 2),
                    ("first 10 trials (no rate yet)", rate.isna())):
    go = trials["go"] & rows
    hits = f"hit rate {trials.loc[go, 'hit'].mean():.2f} on {int(go.sum())} go trials" if go.any() else "no go trials"
    print(f"{label:>30}: {int(rows.sum()):4d} trials, {hits}")

# %% [markdown]
# A mouse that has drunk its fill stops responding: on its disengaged trials hits fall although its ability
# to see the change has not, so session-wide averages would understate what the mouse *can* do. Compare the
# hit rates printed under the figure (a session in which the mouse never disengaged has no disengaged
# trials). That is why the metrics below come in two flavours: over all trials and over engaged trials only.
#
# ## 5.5 Performance metrics
#
# `performance_metrics` returns AllenSDK's `get_performance_metrics` dictionary: trial counts per outcome,
# rewards, the maximum reward rate, and mean / max rolling rates and d', over all and engaged trials.
# (`session.get_performance_metrics()` is the same call under AllenSDK's name.)

# %%
metrics = performance_metrics(trials, session.rewards)
pd.Series(metrics).to_frame("value")

# %% [markdown]
# In demo mode the simulated mouse's true sensitivity is known (`demo_ground_truth.csv`), so we can see how
# well the session's d' recovers it. The rolling d' is noisy with ~100 trials per window, and the 1/(2N)
# correction and clipping pull extreme values in.

# %%
from course_utils.allen.simulate import load_ground_truth

try:
    truth = load_ground_truth(folder)["sessions"]
except FileNotFoundError as err:  # real sessions have no ground truth
    print(err)
    truth = None
else:
    print(f"true d' = {truth.loc[behavior_session_id, 'dprime_true']:.2f}; "
          f"mean engaged rolling d' = {metrics['mean_dprime_engaged']:.2f}; max = {metrics['max_dprime']:.2f}")

# %% [markdown]
# ## 5.6 One mouse across its sessions
#
# The per-session metrics table (the Allen notebook's `behavior_performance_table`) has one row per session
# of the mouse, joined with the session table.

# %%
mouse_files = mouse[mouse.has_nwb]
mouse_data = {sid: load_behavior_session(path) for sid, path in tqdm(mouse_files.nwb_file.items(),
                                                                     total=len(mouse_files), desc="sessions")}
mouse_metrics = session_metrics_table(mouse_data, mouse_files)
mouse_metrics[["session_type", "trial_count", "hit_trial_count", "false_alarm_trial_count",
               "engaged_trial_count", "max_dprime", "mean_dprime_engaged"]]

# %% [markdown]
# The hand-off rule from the session types: once d' is above 1 on 2 of 3 consecutive days, the mouse is
# *handoff_ready*. `handoff_criterion_met` applies it to a series of per-session d' values (here the maximum
# rolling d' of each training session on disk; when sessions are missing, as in sample mode, "consecutive"
# means consecutive among those on disk, so read the result as a sketch of the rule):

# %%
training = mouse_metrics[mouse_metrics.phase == "training"]
pd.DataFrame({"session_type": training.session_type, "max_dprime": training.max_dprime.round(2),
              "criterion_met": handoff_criterion_met(training.max_dprime)})

# %%
plot_performance_across_sessions(mouse_metrics, f"mouse {mouse_id}: performance in every session")
plt.show()
by_stage = mouse_metrics.groupby("training_stage", sort=False)["max_dprime"].max().round(2)
print("best d' per stage:", by_stage.to_dict())
above = mouse_metrics.index[mouse_metrics.max_dprime > 1]
print("first session with d' > 1:", mouse_metrics.loc[above[0], "session_type"] if len(above) else "none on disk")

# %% [markdown]
# Read the learning curve off the figure and the printed summary: d' is low (or undefined) in the first,
# auto-rewarded days and rises as the mouse learns; the hand-off criterion asks for d' > 1 on 2 of 3
# consecutive days. In TRAINING_0 every change is rewarded automatically, so there are no go or catch trials
# and no d' at all. On passive sessions (OPHYS_2 and OPHYS_5, if the mouse's are on disk) there is no task
# and d' is 0 by definition (the lick spout is retracted). In demo mode every session of the mouse is on
# disk; in sample mode only three of its 24 sessions are.
#
# ## 5.7 Learning curves across mice and cre lines
#
# Finally, every session on disk, grouped by mouse and cre line. (In sample mode there are only a few
# sessions of one mouse; the real project has 4,787.)

# %%
all_files = table[table.has_nwb]
rows = {}
for sid, path in tqdm(all_files.nwb_file.items(), total=len(all_files), desc="sessions"):
    other = mouse_data[sid] if sid in mouse_data else load_behavior_session(path)
    rows[sid] = performance_metrics(other.trials, other.rewards)
all_metrics = all_files.join(pd.DataFrame.from_dict(rows, orient="index"), how="inner")

# %% [markdown]
# In demo mode we can check the metrics against the simulated mice's true sensitivity across all active
# sessions: the engaged rolling d' tracks the truth, with the noise of ~100-trial windows.

# %%
if truth is not None:
    active_truth = all_metrics[~all_metrics.passive].join(truth["dprime_true"]).dropna(
        subset=["mean_dprime_engaged"])
    r = np.corrcoef(active_truth["dprime_true"], active_truth["mean_dprime_engaged"])[0, 1]
    print(f"{len(active_truth)} active sessions: correlation of true d' and mean engaged d' = {r:.2f}")

# %% tags=["remove-cell"]
# the text above says the engaged d' tracks the truth in demo mode
assert truth is None or r > 0.6, r

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
plot_learning_curves(all_metrics, "max_dprime", by="cre_line", ax=axes[0])
plot_learning_curves(all_metrics, "mean_hit_rate_engaged", by="cre_line", ax=axes[1])
fig.tight_layout()
plt.show()

# %%
active = all_metrics[~all_metrics.passive]
active.groupby(["cre_line", "experience_level"])["max_dprime"].mean().unstack()

# %% [markdown]
# Each line is one mouse, across the stages of its sessions that are on disk. With a handful of mice the
# cre-line differences are anecdotes (and in sample mode there is a single mouse); on the full project
# (107 mice) the same two calls compare the lines properly.
#
# ## Summary
#
# * Trials end in one of six outcomes; go and catch trials give hit and false-alarm rates.
# * **d'** measures how well change and no change are told apart, the **criterion** how readily the subject
#   responds; `course_utils.behavior.sdt` computes both, with clipping and the 1/(2N) correction, for any
#   subject.
# * `rolling_performance` and `performance_metrics` reproduce AllenSDK 2.16.2's rolling rates, reward rate,
#   engagement (> 2 rewards/min) and every metric key, on plain pandas.
# * Per-session metrics tables turn a mouse's sessions into a learning curve, and many mice into a
#   comparison across cre lines and image novelty.
#
# ## Further reading
#
# * The Visual Behavior dataset {cite}`allen2023visualbehavior`; the change-detection task in mice
#   {cite}`garrett2020experience`.
# * Signal detection theory: {cite}`green1966signal`; a practical guide {cite}`macmillan2005detection`.
