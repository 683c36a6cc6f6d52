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
# **Goals:** turn a trials table into measures of performance: trial outcomes, response latencies, {term}`hit <Hit>` and
# false-alarm rates, **d'** and the **{term}`criterion <Criterion>`** of signal detection theory, {term}`engagement <Engagement>` within a session,
# AllenSDK's performance metrics (computed here without AllenSDK), and learning curves across sessions,
# mice and cre lines.
# **Time:** ~75 min. **Prerequisites:** chapter 2 (the session table and one session's tables).
# **Data:** Allen Visual Behavior (demo: simulated project with a known ground truth; sample: three real
# training sessions of mouse 445002: its first day, a gratings day and a hand-off-ready day).
#
# **Builds on:** the session table and one session's trials, licks and rewards of
# {doc}`chapter 2 <02_allen_loading>`, which this chapter turns into hit rates, d' and learning curves.
#
# ```{admonition} Demo vs real
# :class: tip
# **What the simulator builds in** (`course_utils/allen/simulate.py`): each simulated mouse *is* a signal
# detection observer. On every task session it has a true d' (rising along a logistic learning curve, and
# 20 % lower on novel images) and a true criterion (liberal at first, neutral later); it stays engaged until a
# satiation time and then rarely licks; `demo_ground_truth.csv` holds all three per session. Recovering them
# checks our code (trial outcomes, rolling rates, d'), not the brain: a learning curve, an engagement drop or
# a novelty effect seen in demo mode is the simulator's, never a finding about mice.
#
# **What the real data look like** (REAL_FILES.md, {cite}`allen2023visualbehavior`): a real session lasts
# about an hour, with about 950 trials, 2,900 licks and 90 rewards (a demo session has 5-15 minutes of task and
# 100-150 trials, so its 100-trial rolling windows hold few {term}`catch trials <Catch trial>`); the real project has 4,787 sessions
# of 107 mice, each mouse with about 24 sessions; real mice are not Gaussian observers, and their engagement
# and learning vary in ways no simulator encodes. Figure titles drawn from demo data end with "(demo)".
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
from course_utils.plotting import demo_suffix, use_course_style

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
# | **{term}`false alarm <False alarm>`** | catch (no change; a "sham" change time) | lick in the window anyway |
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
for ax in axes:
    ax.set_title(ax.get_title() + demo_suffix())
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
ax.set_title(f"This session in signal detection terms: d' = {d:.2f}{demo_suffix()}")
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
# clipped to [0.01, 0.99]. Is this mouse liberal or conservative? Store your answer as `session_bias`, one of
# `"liberal"` (c < -0.1), `"conservative"` (c > 0.1) or `"unbiased"` (in between: a bias of less than a tenth
# of the noise's standard deviation).

# %% tags=["solution"]
h = np.clip(session_sdt["hit_rate"], 0.01, 0.99)
f = np.clip(session_sdt["false_alarm_rate"], 0.01, 0.99)
session_criterion = -(norm.ppf(h) + norm.ppf(f)) / 2
# c < 0: the threshold sits below the midpoint between the two Gaussians, so the mouse licks readily
# (liberal); c > 0: conservative. Near 0 (|c| < 0.1, a fraction of the noise s.d.) it is roughly unbiased.
session_bias = "liberal" if session_criterion < -0.1 else "conservative" if session_criterion > 0.1 else "unbiased"
print(f"criterion c = {session_criterion:.2f}: this mouse is {session_bias}")

# %%
check_exercise("5.4", session_criterion, session_bias, session_sdt["hit_rate"], session_sdt["false_alarm_rate"])

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

# %% [markdown]
# The session above may never lose its engagement: a demo session has 5-15 minutes of task, too short for some
# mice to drink their fill. To see engagement end, we load every session of this mouse on disk (section 5.6
# needs them anyway) and plot the active session with the most **disengaged** trials (reward rate at or
# below 2 per minute). The shaded band marks the engaged trials.

# %%
mouse_files = mouse[mouse.has_nwb]
mouse_data = {sid: load_behavior_session(path) for sid, path in tqdm(mouse_files.nwb_file.items(),
                                                                     total=len(mouse_files), desc="sessions")}
n_disengaged = {}
for sid, other in mouse_data.items():
    if mouse_files.loc[sid, "passive"] or not other.trials["go"].any():
        continue  # no task (passive) or only auto-rewarded changes: no engagement to measure
    n_disengaged[sid] = int((rolling_performance(other.trials)["reward_rate"] <= 2).sum())
engagement_sid = max(n_disengaged, key=n_disengaged.get)
engagement_trials = mouse_data[engagement_sid].trials
engagement = rolling_performance(engagement_trials)
ax = plot_engagement(engagement, engagement_trials)
ax.set_title(f"Engagement within {mouse_files.loc[engagement_sid, 'session_type']}{demo_suffix()}")
plt.show()
rate = engagement["reward_rate"]
hit_rates = {}
for label, rows in (("engaged", rate > 2), ("disengaged", rate <= 2), ("no rate yet (first 10)", rate.isna())):
    go = engagement_trials["go"] & rows
    hit_rates[label] = engagement_trials.loc[go, "hit"].mean() if go.any() else np.nan
    print(f"{label:>22}: {int(rows.sum()):4d} trials, hit rate {hit_rates[label]:.2f} on {int(go.sum())} go trials")

if n_disengaged[engagement_sid] == 0:
    print("No active session on disk has disengaged trials (reward rate <= 2/min): the text below describes "
          "what happens in sessions that have them (real hour-long sessions usually do).")

# %% tags=["remove-cell"]
# Guards the text below: in demo mode the session shown has disengaged trials; wherever there are disengaged
# go trials, hits fall on them.
from course_utils.data import data_mode

assert data_mode() != "demo" or n_disengaged[engagement_sid] > 0, "the text says the demo session shown has some"
assert not hit_rates["disengaged"] >= hit_rates["engaged"], f"the text says hits fall when disengaged: {hit_rates}"

# %% [markdown]
# Once the mouse has drunk its fill it stops responding: on its disengaged trials the hit rate falls (printed
# under the figure, where the session has such trials), although its ability to see the change has not gone. Session-wide averages would
# understate what the mouse *can* do, which is why the metrics below come in two flavours: over all trials
# and over engaged trials only.
#
# Do not expect the rolling d' (black) to follow the reward rate (purple) trial by trial. The reward rate
# counts hits per minute over about 50 trials; d' is computed over the last 100 non-aborted trials and leans on
# the few **catch** trials among them, so one false alarm entering or leaving the window moves it by a step.
# How few, and how loosely the two curves are related in this session:

# %%
kept = engagement_trials[~engagement_trials["aborted"].astype(bool)]
catch_in_window = kept["catch"].astype(float).rolling(100, min_periods=1).sum()
together = engagement[["reward_rate", "rolling_dprime"]].dropna()
dprime_vs_rate = together.corr().iloc[0, 1]
print(f"catch trials per 100-trial window: median {catch_in_window.median():.0f} "
      f"(of {len(kept)} non-aborted trials, {int(kept['catch'].sum())} catch trials in the session)")
print(f"correlation of rolling d' and reward rate across the session's trials: {dprime_vs_rate:.2f}")

# %% tags=["remove-cell"]
# Guards the text above: d' leans on "few" catch trials per window (a dozen or two at most).
assert catch_in_window.median() <= 25, catch_in_window.median()

# %% [markdown]
# ## 5.5 Performance metrics
#
# `performance_metrics` returns AllenSDK's `get_performance_metrics` dictionary: trial counts per outcome,
# rewards, the maximum reward rate, and mean / max rolling rates and d', over all and engaged trials.
# (`session.get_performance_metrics()` is the same call under AllenSDK's name.)

# %%
metrics = performance_metrics(trials, session.rewards)
pd.Series(metrics).to_frame("value")

# %% [markdown]
# How well does d' measure the mouse? Several estimates of this session's d', side by side (in demo mode
# with the simulated mouse's true value, from the ground truth that `load_ground_truth` reads):

# %%
from course_utils.allen.simulate import load_ground_truth

engaged_rows = rolling["reward_rate"] > 2
raw_dprime = pd.Series(dprime(rolling["hit_rate_raw"].to_numpy(), rolling["false_alarm_rate_raw"].to_numpy()),
                       index=rolling.index)  # the same windows, rates only clipped to [0.01, 0.99]
kept = trials[~trials["aborted"].astype(bool)]
n_catch_window = kept["catch"].astype(float).rolling(100, min_periods=1).sum().reindex(trials.index)
median_n = n_catch_window[engaged_rows].median()
estimates = {
    "whole session, uncorrected rates": session_sdt["dprime"],
    "rolling, engaged, 1/(2N)-corrected (AllenSDK)": metrics["mean_dprime_engaged"],
    "rolling, engaged, uncorrected (clipped only)": raw_dprime[engaged_rows].mean(),
}
try:
    truth = load_ground_truth(folder)["sessions"]
except FileNotFoundError as err:  # real sessions have no ground truth
    print(err)
    truth = None
if truth is not None:
    true_row = truth.loc[behavior_session_id]
    responsive = trials[(trials["go"] | trials["catch"]) & (trials["change_time"] < true_row["satiation_s"])]
    estimates["before the simulated satiation time, uncorrected"] = sdt_rates(
        responsive["go"], responsive["hit"] | responsive["false_alarm"])["dprime"]
    estimates["true d' (simulator)"] = true_row["dprime_true"]
print(f"catch trials in an engaged 100-trial window: median N = {median_n:.0f}; a window without a false alarm "
      f"gets F = 1/(2N) = {1 / (2 * median_n):.3f} instead of 0 (clipped: 0.01)")
pd.Series(estimates).round(2).to_frame("d'")

# %% tags=["remove-cell"]
# Guards the text below: the correction lowers the rolling d'; in demo mode, trials before satiation give a
# higher d' than the whole session, and the corrected rolling d' is below the truth.
assert estimates["rolling, engaged, 1/(2N)-corrected (AllenSDK)"] < estimates["rolling, engaged, uncorrected (clipped only)"]
if truth is not None:
    assert estimates["before the simulated satiation time, uncorrected"] > estimates["whole session, uncorrected rates"]
    assert estimates["rolling, engaged, 1/(2N)-corrected (AllenSDK)"] < true_row["dprime_true"]
    closer = abs(estimates["before the simulated satiation time, uncorrected"] - true_row["dprime_true"])
    assert closer < abs(estimates["whole session, uncorrected rates"] - true_row["dprime_true"]), "closer"

# %% [markdown]
# Why is AllenSDK's number (the mean engaged rolling d') so far below the truth in demo mode? Spelled out:
#
# 1. **The 1/(2N) correction.** In a window with N catch trials the false-alarm rate cannot go below 1/(2N)
#    (nor the hit rate above 1 - 1/(2N)). A demo session has few catch trials, so N is small (printed above)
#    and the floor is high: a window with no false alarm at all is scored as if the mouse had false-alarmed on
#    1/(2N) of the catch trials, and at the start of a session, with N = 1, F is 0.5. Every such window pulls
#    d' towards 0: compare the corrected and the uncorrected rolling rows of the table. With a real session's
#    ~950 trials N grows and the floor matters less.
# 2. **Disengagement the reward rate does not see.** The simulated mouse becomes unresponsive after its
#    satiation time, gradually; trials just after it still count as "engaged" by the 2 rewards/min rule, and
#    their misses lower the hit rate. Restricted to trials before the satiation time, the same uncorrected
#    computation comes closer to the truth, though not all the way: engagement fades gradually around that
#    time, and a few dozen go and catch trials leave a wide margin of noise (demo mode only: real mice do not
#    report their satiation).
# 3. **Noise.** About a hundred trials per window, and N catch trials among them, give a noisy estimate.
#
# So the number AllenSDK reports is a conservative, smoothed summary of behaviour, not the observer's d'.
#
# ### Exercise 5.5 — Build it: the corrected rolling false-alarm rate
# Write `my_rolling_false_alarm_rate(trials)`, AllenSDK's rolling false-alarm rate: drop aborted trials; on each
# remaining trial, take the last 100 non-aborted trials (itself included, fewer at the start); among the catch
# trials in that window (N of them) compute the fraction with a false alarm, then apply the 1/(2N) correction
# (clip to [1/(2N), 1 - 1/(2N)]; NaN when N = 0). Return a Series indexed by the non-aborted trials. Hint:
# `Series.rolling(100, min_periods=0)` gives `.mean()` and `.count()` of the non-NaN values. The check
# compares with `rolling_performance(trials)["false_alarm_rate"]` on the same trials.

# %% tags=["solution"]
def my_rolling_false_alarm_rate(trials):
    """Rolling (100 non-aborted trials) false-alarm rate with the 1/(2N) correction."""
    kept = trials[~trials["aborted"].astype(bool)]
    responses = kept["false_alarm"].astype(float).where(kept["catch"].astype(bool))  # NaN off catch trials
    window = responses.rolling(100, min_periods=0)
    n = window.count()
    return window.mean().clip(lower=1 / (2 * n), upper=1 - 1 / (2 * n)).where(n > 0)


# %%
check_exercise("5.5", my_rolling_false_alarm_rate, trials)

# %% [markdown]
# ## 5.6 One mouse across its sessions
#
# The per-session metrics table (the Allen notebook's `behavior_performance_table`) has one row per session
# of the mouse, joined with the session table.

# %%
mouse_metrics = session_metrics_table(mouse_data, mouse_files)  # the sessions loaded in 5.4
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
# AllenSDK scores a passive session's rolling d' as 0 (no task): a placeholder, not a measurement. Blank it so
# the figure neither plots it as d' = 0 nor draws lines through it.
plotted = mouse_metrics.copy()
placeholder_columns = ["max_dprime", "mean_dprime_engaged", "mean_hit_rate_engaged", "mean_false_alarm_rate_engaged"]
plotted.loc[plotted["passive"], placeholder_columns] = np.nan
plot_performance_across_sessions(plotted, f"mouse {mouse_id}: performance in every session{demo_suffix()}")
plt.show()
by_stage = plotted.groupby("training_stage", sort=False)["max_dprime"].max().round(2)  # passive: NaN
print("best d' per stage:", by_stage.to_dict())
above = mouse_metrics.index[mouse_metrics.max_dprime > 1]
print("first session with d' > 1:", mouse_metrics.loc[above[0], "session_type"] if len(above) else "none on disk")

# %% tags=["remove-cell"]
# Guards the text below: in the demo, d' rises from the first measurable training day to the last; passive
# sessions carry AllenSDK's placeholder d' of 0 in the table and are blank in the figure.
learning = mouse_metrics.loc[mouse_metrics.phase == "training", "max_dprime"].dropna()
# Demo only: the simulator's sensitivity rises with training; a real mouse's few sessions on disk (a gratings
# day can beat a later image day) need not be ordered so.
if data_mode() == "demo":
    assert learning.iloc[-1] > learning.iloc[0], learning
assert (mouse_metrics.loc[mouse_metrics.passive, "max_dprime"] == 0).all()
assert plotted.loc[plotted.passive, "max_dprime"].isna().all()

# %% [markdown]
# Read the learning curve off the figure and the printed summary. In the demo, d' is low (or undefined) in the
# first days and rises with training, because the simulator's mouse is built to learn so; on a real mouse's
# sessions, whether and when d' rises is what the figure measures (and the few sessions of sample mode need
# not show it). The hand-off criterion asks for d' > 1 on 2 of 3 consecutive days. In
# TRAINING_0 every change is rewarded automatically, so there are no go or catch trials and no d' at all. On
# passive sessions (OPHYS_2 and OPHYS_5, if the mouse's are on disk) the lick spout is retracted and there is
# no task: AllenSDK's metrics give them a d' of 0 (see the table), which is a placeholder, not a measurement,
# so the figure leaves those sessions blank instead of plotting a collapse to 0. In demo mode every session of
# the mouse is on disk; in sample mode only three of its 24 sessions are.
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
for ax in axes:
    ax.set_title(ax.get_title() + demo_suffix())
fig.tight_layout()
plt.show()

# %%
active = all_metrics[~all_metrics.passive]
active.groupby(["cre_line", "experience_level"])["max_dprime"].mean().unstack()

# %% [markdown]
# Each line of the figure is one mouse, across the stages of its sessions that are on disk. With a handful of
# mice the cre-line differences are anecdotes (and in sample mode there is a single mouse); on the full
# project (107 mice) the same two calls compare the lines properly.
#
# **Novel images.** The table invites a tempting reading: does a mouse lose sensitivity when the images are
# new (`Novel 1`, the first session with the other image set) compared with the images it was trained on
# (`Familiar`)? Below, the difference per cre line, with the number of mice behind it and, in demo mode, the
# difference the simulator built in.

# %%
novelty = active[active["experience_level"].isin(["Familiar", "Novel 1"])]
by_level = novelty.groupby(["cre_line", "experience_level"])["max_dprime"].mean().unstack()
novelty_table = pd.DataFrame({"mice": novelty.groupby("cre_line")["mouse_id"].nunique()})
if {"Familiar", "Novel 1"} <= set(by_level.columns):
    novelty_table["measured: novel - familiar"] = by_level["Novel 1"] - by_level["Familiar"]
if truth is not None:
    true_levels = novelty.join(truth["dprime_true"]).groupby(["cre_line", "experience_level"])["dprime_true"]
    true_levels = true_levels.mean().unstack()
    novelty_table["true: novel - familiar"] = true_levels["Novel 1"] - true_levels["Familiar"]
novelty_table.round(2)

# %% tags=["remove-cell"]
# Guards the text below: in demo mode the simulator makes every mouse less sensitive on novel images.
if truth is not None:
    assert (novelty_table["true: novel - familiar"] < 0).all(), novelty_table

# %% [markdown]
# In demo mode the last column is negative for every line: the simulator multiplies each mouse's d' by 0.8 on
# novel images. Whether the measured column agrees, and even with which sign, varies from line to line: one
# mouse per line and a maximum over noisy 100-trial windows cannot recover a 20 % effect from a session or two
# per condition. So the table is no evidence of a novelty cost, in the demo or in mice: in demo mode it is
# a test of our code against a number we chose; a claim about real mice needs the real project's many mice
# per line (sample or full mode), and a statistical test across mice.
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
#   comparison across cre lines and image novelty (with enough mice per line: a handful cannot show a
#   20 % effect, and the demo's effects are the simulator's).
#
# ## Further reading
#
# * The Visual Behavior dataset {cite}`allen2023visualbehavior`; the change-detection task in mice
#   {cite}`garrett2020experience`.
# * Signal detection theory: {cite}`green1966signal`; a practical guide {cite}`macmillan2005detection`.
#
# ## Next
#
# {doc}`Chapter 6 <06_neurogym_tasks_and_rnns>` trains a recurrent network on a decision task and analyses it
# with this chapter's tools: hit and false-alarm rates, d' and criterion, and a psychometric curve.
