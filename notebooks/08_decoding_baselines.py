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
# # 8. Decoding baselines: from spikes to hand velocity
#
# **Goals:** fit and compare the classic {term}`decoders <Decoder>` of {term}`motor cortex <Motor cortex>` (Wiener filter, Wiener cascade, Kalman
# filter, ridge, a feed-forward net, GRU and LSTM) on NeuroTask; evaluate them honestly (chronological
# 7:1:2 splits, R² as the benchmark reports it); see how bin size and history length matter; understand why a
# decoder does not transfer from one session to the next; and avoid the pitfalls of the upstream pipeline.
# Then complete NeuroTask's baseline suite: the Poisson naive Bayes decoder (tuning curves and Bayes' rule),
# boosted trees, support-vector regression and a plain RNN; decode the reach target of each trial before the
# movement (accuracy and a confusion matrix against chance); and tune every decoder on the validation split so
# the comparison is fair.
# **Time:** ~110 min (sections 8.8-8.11 and exercise 8.9 take 50 of them). **Prerequisites:** chapter 1 (loading NeuroTask, `rebin`,
# `process_data`), basic scikit-learn (`fit`/`predict`). **Data:** NeuroTask (demo: simulated files in the real
# layout; sample: DANDI 001056, Center-Out with Bump).
#
# **Builds on:** the NeuroTask tables, `rebin` and `process_data` of {doc}`chapter 1 <01_neurotask_loading>`,
# which make the arrays decoded here; the recurrent networks trained in
# {doc}`chapter 6 <06_neurogym_tasks_and_rnns>` come back as GRU and LSTM decoders.
#
# NeuroTask {cite}`filipe2024neurotask` gathers motor-cortex recordings from several labs and tasks in one
# table format, with baseline decoders taken from Kording lab's *Neural_Decoding* {cite}`glaser2020machine`.
# Here we rebuild those baselines as scikit-learn estimators in `course_utils.decoding` and run them over
# every session and task of the demo data.
#
# *Training time.* The neural-network decoders stop early on the validation split. Their maximum number of
# epochs is 60, or 8 when the environment variable `COURSE_FAST=1` is set (CI and the book build set it, so
# this chapter runs in a few minutes on 2 CPU cores). The fast setting also caps the boosted trees at 100
# (instead of 300), gives the classifiers 40 epochs (instead of 200), and tunes on one session with small
# search budgets (section 8.11). Unset it for the full training.
#
# ```{admonition} Demo vs real
# :class: tip
# **What the simulator builds in** (`course_utils/neurotask/simulate.py`; its parameters are in the demo's
# `SIMULATOR_GROUND_TRUTH.json`): every simulated neuron fires Poisson spikes, independently of the others,
# at a rate set by the direction and speed (`exp` of a cosine) of the velocity the hand *will* have 100 ms
# later (`lag_ms`), and the reaches are smooth minimum-jerk movements. So
# the demo's best history length, the lead found in exercise 8.3, the naive Bayes decoder's good fit and the
# target becoming decodable only ~100 ms before movement onset (8.10) all recover what we put in: they check
# the code, not motor cortex.
#
# **What the real data look like** (REAL_FILES.md; {cite}`filipe2024neurotask`, {cite}`glaser2020machine`):
# the Center-Out with Bump file of sample mode holds two monkeys, 167 {term}`units <Unit>` (some columns NaN-padded), about
# 0.77 million 10 ms bins, 3,686 trials of which 2,766 rewarded; real units are correlated, over-dispersed
# and drift within a session; some datasets record force or cursor velocity instead of hand velocity, and
# the 1 ms Maze files hold 7-8 million rows per session. Expect lower and more varied R² than on the demo,
# and decoders that rank differently. Figure titles drawn from demo data end with "(demo)".
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
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsRegressor

import course_utils
from course_utils.data import get_source
from course_utils.decoding import (
    BoostedTreesClassifier,
    BoostedTreesDecoder,
    FeedForwardDecoder,
    GRUClassifier,
    GRUDecoder,
    KalmanFilterDecoder,
    LSTMDecoder,
    NaiveBayesClassifier,
    NaiveBayesDecoder,
    RidgeDecoder,
    SimpleRNNClassifier,
    SimpleRNNDecoder,
    SVRDecoder,
    WienerCascade,
    WienerClassifier,
    WienerFilter,
    angle_labels,
    benchmark_classifiers,
    benchmark_decoders,
    default_max_epochs,
    fast_mode,
    movement_onset,
    r2_score_per_output,
    sessions_from_lists,
    sessions_from_trials,
    trial_windows,
    tuned,
    tuning_report,
)
from course_utils.exercises import check_exercise
from course_utils.neurotask import load_file, neuron_columns, process_data, rebin, velocity_columns
from course_utils.plotting import demo_suffix, use_course_style

use_course_style()
course_utils.banner("neurotask")
print(f"neural-network decoders train for at most {default_max_epochs()} epochs")

# %% [markdown]
# ## 8.1 From a NeuroTask file to decoding arrays
#
# A NeuroTask file has one row per time bin: spike counts `Neuron1..N`, kinematics, trial events and ids
# (chapter 1). Decoders need, for each time bin `t`, the recent spike history `X[t]` (shape `(lags, N)`) and
# the kinematics `y[t]` to predict. We follow the upstream baseline: keep rewarded trials, rebin to 20 ms,
# use 5 bins of history plus the current bin (100 ms before `t` up to `t`), z-score the spikes with
# training statistics, and split each session chronologically 7:1:2. Two small helpers read a file in either
# format (`load_file`) and pick the velocity it records (`velocity_columns`: hand velocity where the file has
# it, else cursor velocity, as in the Random Target and Maze files; files without any velocity, such as Key
# Grasp, get an error that names them).

# %%
folder = get_source("neurotask")
files = sorted(folder.glob("*.parquet")) or sorted(folder.rglob("*.nwb"))
print([f.name for f in files])

# %% [markdown]
# We start with one session of the Center-Out with Bump dataset (DANDI 001056 in sample mode, its simulated
# twin in demo mode).

# %%
BIN_MS, BINS_BEFORE = 20, 5
SPLITS = {"training_range": [0, 0.7], "valid_range": [0.7, 0.8], "testing_range": [0.8, 1]}

path = next((f for f in files if "CObump" in f.name), files[0])
df, file_bin_ms = load_file(path)
df = rebin(df, file_bin_ms, BIN_MS) if file_bin_ms != BIN_MS else df
targets = velocity_columns(df)
arrays = process_data(df, BINS_BEFORE, behavior_columns=targets, zscore=True, **SPLITS)
X_train, y_train, X_val, y_val, X_test, y_test = (split[0] for split in arrays)
print(path.name, arrays.sessions[0]["key"])
print(f"X_train {X_train.shape} (bins, lags, neurons), y_train {y_train.shape}, X_test {X_test.shape}")

# %% [markdown]
# ## 8.2 Seven decoders on one session
#
# | decoder | model | fitted by |
# |---|---|---|
# | Wiener filter | `y[t] = b + Σ_lag Σ_n W[lag, n] x[t-lag, n]` | least squares |
# | Wiener cascade | `y_i[t] = f_i(Wiener filter_i)`, `f_i` a cubic | least squares, then a polynomial fit |
# | Kalman filter | `s[t] = A s[t-1] + w`, `x[t] = H s[t] + q` (Gaussian noise) | least squares; predicts by filtering |
# | Ridge | Wiener filter + penalty `α‖W‖²` | `α` chosen on the validation split |
# | Feed-forward | flattened history → ReLU layer → linear | Adam, early stopping on validation |
# | GRU / LSTM | recurrent net over the 6 history bins → linear | Adam, early stopping on validation |
#
# All of them follow scikit-learn's conventions (`fit`, `predict`, `get_params`), so
# `benchmark_decoders` can clone each one per session, fit it on the training split (the validation split
# goes to those that use one), and score it on the test split.

# %%
decoders = {
    "Wiener filter": WienerFilter(),
    "Wiener cascade": WienerCascade(degree=3),
    "Kalman filter": KalmanFilterDecoder(),
    "Ridge": RidgeDecoder(),
    "Feed-forward": FeedForwardDecoder(),
    "GRU": GRUDecoder(),
    "LSTM": LSTMDecoder(),
}
keys = [{**s["key"], "dataset": path.stem, "task": df["task"].iloc[0]} for s in arrays.sessions]
session_one = sessions_from_lists(*arrays, keys=keys, output_names=targets)[:1]
table_one, fitted = benchmark_decoders(decoders, session_one, return_models=True, progress=False)  # seconds
table_one.pivot_table(index="model", columns="output", values="r2", sort=False).round(3)

# %%
start = int(np.clip(np.argmax(np.abs(y_test[:, 0])) - 100, 0, max(len(y_test) - 250, 0)))
window = slice(start, start + 250)  # 5 s of the test split around its fastest movement
t = np.arange(len(y_test))[window] * BIN_MS / 1000
fig, ax = plt.subplots(figsize=(8, 3.4))
ax.plot(t, y_test[window, 0], color="black", lw=2, label="true")
for name in ("Wiener filter", "Kalman filter", "LSTM"):
    ax.plot(t, fitted[0, name].predict(X_test[window])[:, 0], lw=1.2, label=name)
ax.set(title=f"Decoded {targets[0]}, 5 s of the test split{demo_suffix()}", xlabel="time in test split (s)",
       ylabel=f"{targets[0]} (cm/s, centred)")
ax.legend(ncol=2, loc="upper left")
plt.show()

# %% [markdown]
# All decoders follow the reaches; they differ in how much of the bin-to-bin noise of the spikes leaks
# into the prediction (the Kalman filter's dynamics smooth it), in how well they reach the peaks, and in
# what they output while the hand holds still (the neurons also respond to the target and fire ahead of
# the next movement).
# The R² of each model and how long it took to fit:

# %%
summary_one = table_one.groupby("model", sort=False).agg(r2=("r2", "mean"), fit_time_s=("fit_time_s", "first"))
fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(summary_one.index, summary_one["r2"], color="tab:blue")
for i, (r2, sec) in enumerate(zip(summary_one["r2"], summary_one["fit_time_s"], strict=True)):
    ax.text(r2 + 0.01, i, f"{sec:.1f} s", va="center", fontsize=8)
ax.set(title=f"One session: test R² (mean of x and y) and fit time{demo_suffix()}", xlabel="R²", xlim=(0, 1))
ax.invert_yaxis()
plt.show()

# %% [markdown]
# The networks are trained with early stopping: after each epoch the loss on the validation split is
# measured, training stops when it has not improved for `patience` epochs, and the best epoch's weights are
# kept. Their learning curves show why this matters on sessions of a few thousand bins:

# %%
fig, ax = plt.subplots()
for name, color in (("GRU", "tab:purple"), ("LSTM", "tab:brown")):
    history = fitted[0, name].history_
    epochs = np.arange(1, len(history["val_loss"]) + 1)
    ax.plot(epochs, history["train_loss"], "--", color=color, label=f"{name} training")
    ax.plot(epochs, history["val_loss"], "-o", color=color, label=f"{name} validation")
ax.set(title=f"Learning curves (standardised mean squared error){demo_suffix()}", xlabel="epoch", ylabel="loss")
ax.legend(ncol=2)
plt.show()

# %% [markdown]
# The training loss keeps falling while the validation loss flattens after a few epochs: the networks start
# memorising the training bins. The decoders here use dropout 0.5 before their readout; without it (try
# `GRUDecoder(dropout=0.0)`) the training loss falls further below the validation loss and the GRU
# ends below the Wiener filter on 5 of the 8 demo sessions (2 of 8 with dropout). More epochs would not help: the best epoch comes
# early. More data does: with four times more trials per session the GRU gains about 0.07 in R²
# (`benchmarks/bench_decoding.py --data-size`).

# %% [markdown]
# ### Exercise 8.1 — R² per output, by hand
# NeuroTask reports, for each output column, `R² = 1 − SSE/SST`, where SSE is the sum of squared errors
# and SST the sum of squared deviations of the *test* targets from their own mean. Compute `r2_by_hand`
# (one value per column) for the Wiener filter's test predictions `pred_wiener` without calling
# `r2_score_per_output`.

# %%
pred_wiener = fitted[0, "Wiener filter"].predict(X_test)

# %% tags=["solution"]
r2_by_hand = 1 - ((y_test - pred_wiener) ** 2).sum(axis=0) / ((y_test - y_test.mean(axis=0)) ** 2).sum(axis=0)

# %%
check_exercise("8.1", r2_by_hand, y_test, pred_wiener)

# %% [markdown]
# R² is not the squared correlation: a decoder with the right shape but the wrong gain or offset has
# correlation 1 and a lower R². `correlation_per_output` gives the correlation; the tables below keep both.

# %% [markdown]
# ## 8.3 Honest splits: chronological 7:1:2, never random
#
# Neighbouring bins are nearly the same sample: two consecutive windows share 5 of their 6 history bins, and
# the velocity changes little in 20 ms. If the split is random, almost every test bin has its neighbours in
# the training set, and a model that simply *remembers* training samples looks excellent. A chronological
# split (train on the first 70 % of the session, choose settings on the next 10 %, test on the last 20 %)
# measures what matters: decoding later activity from a model fitted earlier. We compare a
# nearest-neighbour regressor (a pure memoriser) and the Wiener filter under both splits, both reading the
# firing rate of each neuron over the 120 ms window (the window's mean count: a smooth feature, so the
# windows of neighbouring bins are near-duplicates).

# %%
X_all = np.concatenate([X_train, X_val, X_test]).mean(axis=1)  # (bins, neurons): rate over the window
y_all = np.concatenate([y_train, y_val, y_test])
n_fit = int(0.8 * len(X_all))
splits = {
    "random": train_test_split(X_all, y_all, test_size=0.2, random_state=0, shuffle=True),
    "chronological": (X_all[:n_fit], X_all[n_fit:], y_all[:n_fit], y_all[n_fit:]),
}
leak = []
for split_name, (Xa, Xb, ya, yb) in splits.items():
    for model_name, model in {"5-nearest neighbours": KNeighborsRegressor(5), "Wiener filter": WienerFilter()}.items():
        r2 = r2_score_per_output(yb, model.fit(Xa, ya).predict(Xb)).mean()
        leak.append({"split": split_name, "model": model_name, "r2": r2})
leak = pd.DataFrame(leak).pivot(index="model", columns="split", values="r2")
leak.plot.barh(figsize=(7, 2.6), title=f"Test R² depends on how the split was made{demo_suffix()}", xlim=(0, 1)).set_xlabel("R²")
plt.show()

# %% [markdown]
# On the random split the memoriser looks far better than the Wiener filter; on the {term}`chronological split <Chronological split>` it is
# worse. Its "accuracy" came from neighbouring bins, not from a relation between spikes and movement that
# holds later in the session; the Wiener filter, which cannot memorise, barely notices the difference.
# Random splits also mix the slow drifts of a recording (electrode movement, fatigue) into training.
# Everything in this chapter uses chronological splits; `process_data` also makes sure no history window
# reaches back into the previous split.

# %% [markdown]
# ### Exercise 8.2 — A chronological 7:1:2 split
# Write `chronological_split(n_bins)` returning three integer index arrays `(train_idx, val_idx, test_idx)`:
# the first 70 % of the bins, the next 10 %, and the last 20 %, in time order.

# %% tags=["solution"]
def chronological_split(n_bins):
    """Indices of the first 70 %, the next 10 % and the last 20 % of ``n_bins`` time bins."""
    idx = np.arange(n_bins)
    train_end, val_end = round(0.7 * n_bins), round(0.8 * n_bins)
    return idx[:train_end], idx[train_end:val_end], idx[val_end:]


# %%
check_exercise("8.2", chronological_split)

# %% [markdown]
# ## 8.4 Bin size and history length
#
# Two choices shape every decoder: how wide the bins are (wider bins hold more spikes, so less Poisson
# noise, but blur fast changes of velocity) and how much history the decoder sees. Motor cortex leads the
# movement by about 100 ms, so a decoder without history misses much of what the neurons say about the
# current velocity. We score the Wiener filter on the **validation** split for a grid of both (settings are
# chosen on validation; the test split is kept for the final numbers).

# %%
raw, raw_bin_ms = load_file(path)
grid = []
for bin_ms in (10, 20, 50):
    if bin_ms % raw_bin_ms:
        continue  # rebin needs an integer ratio
    binned = rebin(raw, raw_bin_ms, bin_ms) if bin_ms != raw_bin_ms else raw
    for history_ms in (0, 50, 100, 200, 300):
        if history_ms % bin_ms:
            continue
        a = process_data(binned, history_ms // bin_ms, behavior_columns=targets, zscore=True, **SPLITS)
        score = WienerFilter().fit(a.X_train[0], a.y_train[0]).score(a.X_val[0], a.y_val[0])
        grid.append({"bin_ms": bin_ms, "history_ms": history_ms, "val_r2": score})
grid = pd.DataFrame(grid)
fig, ax = plt.subplots()
for bin_ms, part in grid.groupby("bin_ms"):
    ax.plot(part["history_ms"], part["val_r2"], "o-", label=f"{bin_ms} ms bins")
ax.set(title=f"Wiener filter: validation R² vs history length{demo_suffix()}", xlabel="history before the current bin (ms)",
       ylabel="validation R²")
ax.legend()
plt.show()

# %%
best = grid.loc[grid.groupby("bin_ms")["val_r2"].idxmax()].set_index("bin_ms")
print("best history per bin size (ms):", best["history_ms"].to_dict(), "| validation R²:",
      best["val_r2"].round(3).to_dict())
r2_20 = grid[grid.bin_ms == 20].set_index("history_ms")["val_r2"]
best_20 = int(best.loc[20, "history_ms"])

# %% tags=["remove-cell"]
# Guards the text below: with 20 ms bins R² rises fastest over the first 100 ms of history (per ms of history
# added) and the best history is at least 100 ms; the best value is what the print above shows.
assert (r2_20[100] - r2_20[0]) / 100 > (r2_20[best_20] - r2_20[100]) / max(best_20 - 100, 1), r2_20
assert best_20 >= 100, best_20

# %% [markdown]
# R² climbs steeply while the history grows to 100 ms: the spikes of the last 100 ms encode the current
# velocity (in the demo by construction: its neurons lead the hand by exactly 100 ms). The best history is
# longer than that (printed above, for each bin size), because older spikes encode the recent past of a
# smooth movement and average away Poisson noise; beyond the best, the extra weights start fitting noise and
# R² flattens or falls. Wider bins help a decoder without history (more spikes per bin) but cost temporal
# resolution.

# %% [markdown]
# ### Exercise 8.3 — How far do the neurons lead the hand?
# Build arrays with 20 ms bins and 200 ms of history (`bins_before=10`). For each lag `k = 0..10`, fit a
# Wiener filter on the single history bin `X_train[:, -1 - k]` (the bin `k` bins before the current one) and
# score it on the validation split. Report `lead_ms`, the lag with the highest validation R², in ms. The check
# computes the same scan on the same arrays and compares.

# %%
a10 = process_data(df, 10, behavior_columns=targets, zscore=True, **SPLITS)

# %% tags=["solution"]
lag_scores = [
    WienerFilter().fit(a10.X_train[0][:, -1 - lag], a10.y_train[0]).score(a10.X_val[0][:, -1 - lag], a10.y_val[0])
    for lag in range(11)
]
lead_ms = int(np.argmax(lag_scores)) * BIN_MS
print(f"the spikes {lead_ms} ms before the current bin decode its velocity best; validation R² per lag:",
      np.round(lag_scores, 3))
# Answer: in demo mode 100 ms, the lead the simulator builds in (its `lag_ms`), give or take a bin of noise;
# R² falls off on both sides of it. In sample mode (real monkeys) the peak is broader, because real neurons
# lead by different amounts and the velocity is smooth, so neighbouring lags carry similar information.

# %%
check_exercise("8.3", lead_ms, a10, BIN_MS)

# %% [markdown]
# ## 8.5 The whole table: every session, every task
#
# Now the benchmark proper: the same pipeline on every session of every file, with all decoders but the
# feed-forward net (left out to keep this cell short; `benchmarks/bench_decoding.py` runs all seven).
# `benchmark_decoders` returns a tidy table, one row per session, model and output. The files are read
# rebinned to 20 ms while loading (`bin_ms=BIN_MS`; the 1 ms maze file never exists at 1 ms in memory), and a
# dataset without velocity is skipped, with the reason printed. A slow decoder already fitted in this notebook
# with the same settings on the same arrays (8.2's networks on the first session) is not fitted again: the
# table shows that fit and its time.

# %%
all_sessions = []
for file in files:
    frame, file_bin_ms = load_file(file, bin_ms=BIN_MS)
    try:
        frame_targets = velocity_columns(frame)
    except ValueError as err:
        print(f"skipped: {err}")
        continue
    file_arrays = process_data(frame, BINS_BEFORE, behavior_columns=frame_targets, zscore=True, **SPLITS)
    file_keys = [{**s["key"], "dataset": file.stem, "task": frame["task"].iloc[0]} for s in file_arrays.sessions]
    all_sessions += sessions_from_lists(*file_arrays, keys=file_keys, output_names=["vel_x", "vel_y"])
print(f"{len(all_sessions)} sessions")
table_decoders = {name: dec for name, dec in decoders.items() if name != "Feed-forward"}
results = benchmark_decoders(table_decoders, all_sessions)
results.head()

# %%
per_session = results.groupby(["task", "animal", "session", "model"], sort=False)["r2"].mean().reset_index()
tasks, models = list(per_session["task"].unique()), list(table_decoders)
fig, ax = plt.subplots(figsize=(9, 3.8))
width = 0.8 / len(models)
for j, model in enumerate(models):
    part = per_session[per_session["model"] == model]
    offset = (j - len(models) / 2 + 0.5) * width
    means = part.groupby("task")["r2"].mean().reindex(tasks)
    ax.bar(np.arange(len(tasks)) + offset, means, width, label=model, alpha=0.8)
    ax.plot(part["task"].map(tasks.index) + offset, part["r2"], "k.", ms=3)
ax.set_xticks(np.arange(len(tasks)), tasks)
ax.set(title=f"Test R² per task (bars: mean over sessions; dots: sessions){demo_suffix()}", ylabel="R² (mean of x and y)",
       ylim=(0, 1))
ax.legend(ncol=4, fontsize=8, loc="upper left")
plt.show()

# %%
wide = per_session.pivot_table(index=["task", "animal", "session"], columns="model", values="r2")
for model in ("GRU", "LSTM", "Kalman filter", "Ridge"):
    share = (wide[model] >= wide["Wiener filter"] - 0.005).mean()
    print(f"{model:14s} matches or beats the Wiener filter on {share:.0%} of sessions")
results.groupby("model", sort=False)[["r2", "fit_time_s"]].mean().round(3)

# %% [markdown]
# Read the table as the benchmark intends: a ranking of *methods* across many sessions and tasks, each
# session with its own neurons. Differences of a few hundredths between sessions are normal; a method that is
# better on most sessions of most tasks is better.

# %% [markdown]
# ## 8.6 Across sessions: why a decoder does not transfer
#
# A decoder's weights are tied to its neurons. `Neuron3` in one session is not `Neuron3` in the next: the
# units were sorted again on another day (or recorded in another animal), so each column is a different cell
# with its own preferred direction. We train a Wiener filter on each Center-Out-with-Bump session and test it
# on every session's test split, pretending that column `k` is the same neuron everywhere (keeping the first
# `N` neurons common to all).

# %%
cobump = [s for s in all_sessions if s.dataset == path.stem]
n_common = min(s.n_neurons for s in cobump)
cross = np.zeros((len(cobump), len(cobump)))
for i, train in enumerate(cobump):
    model = WienerFilter().fit(train.X_train[..., :n_common], train.y_train)
    for j, test in enumerate(cobump):
        cross[i, j] = r2_score_per_output(test.y_test, model.predict(test.X_test[..., :n_common])).mean()
labels = [f"animal {s.animal}\nsession {s.session}" for s in cobump]
fig, ax = plt.subplots(figsize=(5, 4))
image = ax.imshow(cross, vmin=-1, vmax=1, cmap="RdBu")
ax.set_xticks(range(len(cobump)), labels, fontsize=7)
ax.set_yticks(range(len(cobump)), labels, fontsize=7)
ax.set(title=f"Train on a row, test on a column ({n_common} neurons){demo_suffix()}", xlabel="tested on", ylabel="trained on")
fig.colorbar(image, label="test R²")
plt.show()

# %% [markdown]
# Only the diagonal works; off the diagonal R² is near zero or negative, even within one animal. What
# transfers between sessions is the *recipe* (model class, bin size, history, hyperparameters), not the
# weights. Decoding across sessions needs a shared space first: aligning the latent dynamics of the
# populations (e.g. with CCA, {cite}`gallego2020longterm`) or models trained on many sessions with a
# per-session input layer.

# %% [markdown]
# ## 8.7 Pitfalls of the upstream pipeline
#
# **3-D targets.** Upstream `process_data` returns `y` of shape `(T, 1, n_outputs)` even for one target
# bin, which scikit-learn rejects with a cryptic message. `course_utils.neurotask.process_data` returns 2-D
# targets when `bins_after == 1`, and every decoder here explains what to do with a 3-D one:

# %%
try:
    WienerFilter().fit(X_train, y_train[:, None, :])
except ValueError as err:
    print(err)

# %% [markdown]
# **Concurrent, not next-bin, targets.** The upstream README calls the target "the next time step", but with
# `bins_after=1` it is the *concurrent* bin: `X[t]` ends at bin `t` and `y[t]` is the velocity in bin `t`.
# To decode the next bin, ask for two target bins and keep the second. Because the neurons lead the
# movement, the next bin is as easy or easier, which is why the mislabel goes unnoticed:

# %%
a2 = process_data(df, BINS_BEFORE, behavior_columns=targets, zscore=True, bins_after=2, **SPLITS)
print("y shape with bins_after=2:", a2.y_train[0].shape)
for label, k in (("concurrent bin", 0), ("next bin", 1)):
    model = WienerFilter().fit(a2.X_train[0], a2.y_train[0][:, k])
    print(f"{label:14s} R² = {model.score(a2.X_test[0], a2.y_test[0][:, k]):.3f}")

# %% [markdown]
# **Scaling fitted on the test data.** Upstream's `scale=True` fits a min-max scaler *on the test set*. That
# uses information a decoder running online never has, and it can hide real problems. Suppose the firing
# rates drift by 30 % between training and test (an electrode moving, a change in state): a decoder with
# training statistics suffers, and re-standardising the test set "fixes" it, but only because it peeked at the
# whole test set first.

# %%
counts = np.concatenate([X_train, X_val, X_test]) * arrays.sessions[0]["x_std"] + arrays.sessions[0]["x_mean"]
n_tr, n_va = len(X_train), len(X_val)
train_counts, test_counts = counts[:n_tr], 1.3 * counts[n_tr + n_va :]  # rates drift up by 30 % in the test part
mean, std = train_counts.mean(axis=(0, 1)), train_counts.std(axis=(0, 1)) + 1e-9
model = WienerFilter().fit((train_counts - mean) / std, y_train)
honest = model.score((test_counts - mean) / std, y_test)
peeking = model.score((test_counts - test_counts.mean(axis=(0, 1))) / (test_counts.std(axis=(0, 1)) + 1e-9), y_test)
print(f"R² with training statistics: {honest:.3f}; with statistics of the test set: {peeking:.3f}")

# %% [markdown]
# ### Exercise 8.4 — Standardise with training statistics only
# Write `zscore_with_train_stats(X_train, X_test)` that standardises both arrays (shape `(T, lags, N)`) with
# one mean and one standard deviation per neuron computed on the training array only (over bins and lags).
# A neuron silent in training has standard deviation 0: use 1 instead.

# %% tags=["solution"]
def zscore_with_train_stats(X_train, X_test):
    """Standardise both arrays with the training mean and std per neuron."""
    mean = X_train.mean(axis=(0, 1))
    std = X_train.std(axis=(0, 1))
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, (X_test - mean) / std


# %%
check_exercise("8.4", zscore_with_train_stats)

# %% [markdown]
# ## 8.8 The Poisson naive Bayes decoder: tuning curves and Bayes' rule
#
# The classic decoder of neuroscience inverts an *encoding* model. Each neuron `n` has a tuning curve
# `λ_n(v)`: its expected spike count in a window when the hand moves with velocity `v`. Spike counts are
# Poisson and neurons independent given `v` (the "naive" assumption), so Bayes' rule gives the probability of
# every candidate velocity on a grid:
#
# `log p(v | r) = const + log p(v) + Σ_n [ r_n log λ_n(v) − λ_n(v) ]`.
#
# `NaiveBayesDecoder` fits each tuning curve as a Poisson GLM (`log λ_n(v)` quadratic in `v`, as upstream),
# evaluates it on a 40 x 40 grid of velocities, and predicts the posterior mean. With its *transition prior*
# it also uses the fact that velocity changes little in 20 ms: the prior of each bin is the previous bin's
# posterior, blurred by a Gaussian as wide as the typical change between bins (a filter on the grid, like
# the Kalman filter but with any shape of posterior). Unlike the other decoders it needs spike **counts**:
# we build the arrays of the same session again with `zscore=False`.

# %%
spikes = process_data(df, BINS_BEFORE, behavior_columns=targets, zscore=False, **SPLITS)
S_train, v_train, S_val, v_val, S_test, v_test = (split[0] for split in spikes)
naive_bayes = {
    "Wiener filter (counts)": WienerFilter(),
    "Naive Bayes, no transition prior": NaiveBayesDecoder(transition_prior=False),
    "Naive Bayes with transition prior": NaiveBayesDecoder(),
}
for name, model in naive_bayes.items():
    model.fit(S_train, v_train)
    print(f"{name:34s} test R² = {model.score(S_test, v_test):.3f}")

# %% [markdown]
# The fitted tuning curves of the three most strongly tuned neurons, as firing rates over the velocity grid:

# %%
nb = naive_bayes["Naive Bayes with transition prior"]
window_s = S_train.shape[1] * BIN_MS / 1000  # the counts are summed over the 6-bin history window
rates_hz = nb.tuning_curves_ / window_s
extent = [nb.grid_axes_[0][0], nb.grid_axes_[0][-1], nb.grid_axes_[1][0], nb.grid_axes_[1][-1]]
fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), sharey=True)
for ax, n in zip(axes, np.argsort(rates_hz.max(axis=1) / rates_hz.min(axis=1))[::-1][:3], strict=True):
    image = ax.imshow(rates_hz[n].reshape(nb.grid_size, nb.grid_size).T, origin="lower", extent=extent,
                      aspect="auto", cmap="viridis")
    ax.set(title=f"Neuron {n + 1}", xlabel=f"{targets[0]} (cm/s)")
    fig.colorbar(image, ax=ax, label="rate (spikes/s)")
axes[0].set_ylabel(f"{targets[1]} (cm/s)")
fig.suptitle(f"Fitted tuning curves: expected firing rate at each hand velocity{demo_suffix()}")
plt.show()

# %% [markdown]
# Each neuron fires most for movements in its preferred direction, more so the faster the movement: cosine
# tuning {cite}`georgopoulos1982relations`. Now the posterior of one test bin, during the fastest movement of
# the test split, without and with the transition prior:

# %%
t_peak = int(np.argmax(np.hypot(v_test[:, 0], v_test[:, 1])))
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
for ax, name in zip(axes, ("Naive Bayes, no transition prior", "Naive Bayes with transition prior"), strict=True):
    model = naive_bayes[name]
    post = model.posterior(S_test[: t_peak + 1])[-1].reshape(model.grid_size, model.grid_size)
    ax.imshow(post.T, origin="lower", extent=extent, aspect="auto", cmap="magma")
    ax.plot(*v_test[t_peak], "c+", ms=14, mew=2, label="true velocity")
    ax.plot(*model.predict(S_test[: t_peak + 1])[-1], "wx", ms=10, mew=2, label="posterior mean")
    ax.set(title=name, xlabel=f"{targets[0]} (cm/s)")
axes[0].set_ylabel(f"{targets[1]} (cm/s)")
axes[0].legend(loc="lower left", fontsize=8)
plt.show()

# %% [markdown]
# One bin of spikes alone leaves a broad posterior; carrying the previous bins forward narrows it around the
# true velocity, which is why the transition prior raises R² (the numbers above).
#
# **A caveat on the demo data.** The demo's simulated neurons *are* this model: Poisson counts, independent
# given the velocity, log-rates linear in the velocity (SIMULATOR_GROUND_TRUTH.json describes them). The naive
# Bayes decoder's advantage over the Wiener filter here is built into the simulator, not a finding about motor
# cortex: real neurons are correlated and more variable than Poisson, which costs this decoder more than the
# others {cite}`glaser2020machine`. Run the chapter in sample mode to see how it fares on real spikes.
#
# Differences from upstream's `NaiveBayesDecoder`, fixed here and documented in the docstring: upstream
# starts its filter from the *true* first test velocity (`predict(X, y_test)`: a leak of the test targets),
# multiplies raw probabilities (they underflow to zero with many neurons), and builds a dense
# state-to-state matrix (800 MB for its default 100 x 100 grid).

# %% [markdown]
# ### Exercise 8.5 — Bayes' rule on the grid, by hand
# For the test bin `t_peak`, compute `posterior_by_hand`: the posterior over the grid points of the decoder
# *without* transition prior, `nb_static`, from its `tuning_curves_` (expected counts, shape
# `(neurons, grid points)`), its `log_state_prior_` (log prior of each grid point) and the bin's counts
# summed over the history window, `r`. Work in logs (a product of 40 small probabilities underflows), drop
# the terms that do not depend on the grid point (`log r!`), and normalise so it sums to 1.

# %%
nb_static = naive_bayes["Naive Bayes, no transition prior"]
r = S_test[t_peak].sum(axis=0)  # spike count of each neuron in the window

# %% tags=["solution"]
log_post = r @ np.log(nb_static.tuning_curves_) - nb_static.tuning_curves_.sum(axis=0) + nb_static.log_state_prior_
posterior_by_hand = np.exp(log_post - log_post.max())
posterior_by_hand /= posterior_by_hand.sum()

# %%
check_exercise("8.5", posterior_by_hand, nb_static, S_test[t_peak])

# %% [markdown]
# ## 8.9 Boosted trees, support-vector regression and a plain RNN
#
# Three more members of NeuroTask's baseline suite, each with the same `fit`/`predict`:
#
# | decoder | model | notes |
# |---|---|---|
# | `BoostedTreesDecoder` | sum of shallow regression trees, each fitted to the previous ones' errors | XGBoost when installed (Colab has it), else scikit-learn's `HistGradientBoostingRegressor`; the number of trees is chosen by early stopping on the validation split |
# | `SVRDecoder` | support-vector regression, RBF kernel | inputs and outputs standardised with training statistics; cost grows with the square of the training bins, so we keep 2,000 evenly spaced ones |
# | `SimpleRNNDecoder` | plain (Elman) recurrent network, ReLU | the GRU without gates: fewer parameters, harder to train on long histories |
#
# They run on the same counts, beside the Wiener filter. Early stopping of the trees is one more reason for a
# validation split: deciding when to stop on the *test* data would make the test score optimistic.

# %%
more = {
    "Wiener filter": WienerFilter(),
    "Boosted trees": BoostedTreesDecoder(),
    "SVR": SVRDecoder(max_train_samples=2000),
    "Simple RNN": SimpleRNNDecoder(),
}
keys_counts = [{**s["key"], "dataset": path.stem, "task": df["task"].iloc[0]} for s in spikes.sessions]
session_counts = sessions_from_lists(*spikes, keys=keys_counts, output_names=targets)[:1]
table_more, fitted_more = benchmark_decoders(more, session_counts, return_models=True, progress=False)
print(f"boosted trees: {fitted_more[0, 'Boosted trees'].backend_} backend, "
      f"{fitted_more[0, 'Boosted trees'].n_trees_} trees per output kept by early stopping")
table_more.groupby("model", sort=False)[["r2", "fit_time_s"]].mean().round(3)

# %% [markdown]
# Trees and SVR are flexible nonlinear regressors, but they treat each of the 6 x N window entries as an
# unrelated feature and must learn everything from a few thousand bins, where the Wiener filter assumes a
# linear structure from the start; the plain RNN is the GRU without its gates. Which assumption suits a
# recording is an empirical question: compare their R² with the Wiener filter's in the table above, and
# across sessions in section 8.11 and `benchmarks/bench_decoding.py`.

# %% [markdown]
# ### Exercise 8.6 — Trees ignore monotone rescaling
# A tree splits a feature at thresholds, so any transformation that keeps the order of the values (a square
# root, a logarithm of `1 + count`) leaves the possible splits, and so the fitted trees, unchanged. Fit
# `BoostedTreesDecoder(backend="sklearn", n_estimators=30)` once on the counts and once on their square root
# (transform the training, validation and test windows alike) and report the two test R² values,
# `r2_counts` and `r2_sqrt`.

# %% tags=["solution"]
trees_kw = dict(backend="sklearn", n_estimators=30)
r2_counts = BoostedTreesDecoder(**trees_kw).fit(S_train, v_train, S_val, v_val).score(S_test, v_test)
r2_sqrt = BoostedTreesDecoder(**trees_kw).fit(np.sqrt(S_train), v_train, np.sqrt(S_val), v_val).score(
    np.sqrt(S_test), v_test
)

# %%
check_exercise("8.6", r2_counts, r2_sqrt)

# %% [markdown]
# ## 8.10 Decoding the reach target: a classification track
#
# Decoders need not predict a continuous movement. In the center-out tasks each trial has one of 8 targets,
# and a classic question is how early the spikes tell which one: can we decode the target *before* the hand
# moves? Each trial becomes one example: the spike counts in a window before movement onset, labelled with
# the trial's target: its direction `target_dir` (radians in the real files), turned into whole degrees by
# `angle_labels`, or `target_ID` in a file without directions.
#
# Movement onset needs one definition for every file. `EventMovement_start` is recorded only in some files
# (the Center-Out-with-Bump file has none) and by each lab's own criterion, so wherever a file has the hand
# or cursor velocity we detect the onset from it: `movement_onset` flags the first bin after the go cue where
# the speed reaches 20 % of the trial's peak (a common criterion in reaching studies; searching after the go
# cue skips the bumps of the delay period). Files without velocity fall back on `EventMovement_start`; files
# without a target (Random Target, Maze) are skipped.

# %%
def reach_target_table(path):
    """The file binned to BIN_MS, its target column and movement-onset flags (or a note why it is skipped)."""
    frame, file_bin_ms = load_file(path)
    frame = rebin(frame, file_bin_ms, BIN_MS) if file_bin_ms != BIN_MS else frame
    # directions are comparable across files (IDs are numbered per lab); target_ID only where there is no angle
    label = next((c for c in ("target_dir", "target_ID") if c in frame.columns), None)
    if label is None:
        return None, f"{path.name}: no target column, skipped"
    has_velocity = any(c.endswith("_vel_x") for c in frame.columns)
    if has_velocity and "EventGo_cue" in frame.columns:
        vx, vy = velocity_columns(frame)
        onset, how = movement_onset(frame, np.hypot(frame[vx], frame[vy]), "EventGo_cue"), "speed after EventGo_cue"
    elif "EventMovement_start" in frame.columns:
        onset, how = frame["EventMovement_start"].to_numpy(dtype=bool), "EventMovement_start"
    else:
        return None, f"{path.name}: no movement onset or go cue, skipped"
    return (frame, label, onset), f"{path.name}: target from {label}, movement onset from {how}"


def reach_target_sessions(tables, window):
    """One SessionSplits per session: spike counts in ``window`` (bins around onset) and the trial's target."""
    out = []
    for frame, label, onset in tables:
        windows = trial_windows(frame, onset, window, feature_columns=neuron_columns(frame), label_column=label)
        for w in windows:
            w["labels"] = angle_labels(w["labels"]) if label == "target_dir" else w["labels"].astype(int)
        out += sessions_from_trials(windows, dataset=str(frame["datasetID"].iloc[0]), task=frame["task"].iloc[0])
    return out


reach_tables = []
for file in files:
    found, note = reach_target_table(file)
    print(note)
    reach_tables += [found] if found else []
BEFORE_MOVEMENT = (-10, 0)  # the 10 bins (200 ms) before movement onset
target_sessions = reach_target_sessions(reach_tables, BEFORE_MOVEMENT)
print(f"{len(target_sessions)} sessions, {sum(len(s.y_train) for s in target_sessions)} training trials in all")

# %% [markdown]
# When does the target become decodable? We slide a 100 ms window from half a second before movement onset to
# 200 ms after it and score two fast classifiers on the test trials of every session (`WienerClassifier`, the
# multinomial logistic regression upstream calls a Wiener classifier, and `NaiveBayesClassifier`, the Poisson
# naive Bayes with one mean count per neuron and target).

# %%
time_course = []
for start in range(-25, 10, 5):  # bins of 20 ms: windows [-500, -400) ... [100, 200) ms
    scores = benchmark_classifiers({"Logistic": WienerClassifier(), "Naive Bayes": NaiveBayesClassifier()},
                                   reach_target_sessions(reach_tables, (start, start + 5)), progress=False)
    time_course.append(scores.assign(window_ms=(start + 2.5) * BIN_MS))
time_course = pd.concat(time_course)
accuracy_by_time = time_course.pivot_table(index="window_ms", columns="model", values="accuracy")
fig, ax = plt.subplots(figsize=(6.5, 3.4))
for name in accuracy_by_time:
    ax.plot(accuracy_by_time.index, accuracy_by_time[name], "o-", label=name)
ax.axhline(time_course["chance"].mean(), color="gray", ls="--", label="chance (majority class)")
ax.axvline(0, color="black", lw=0.8)
ax.set(title=f"Reach target from 100 ms of spikes (mean over sessions){demo_suffix()}",
       xlabel="window centre relative to movement onset (ms)", ylabel="test accuracy", ylim=(0, 1))
ax.legend()
plt.show()
accuracy_by_time.round(2).T

# %% tags=["remove-cell"]
# The text below says the target is decodable only shortly before the movement in the demo data.
if course_utils.data.data_mode() == "demo":
    assert accuracy_by_time.iloc[0].max() < accuracy_by_time.iloc[-1].min() - 0.1, accuracy_by_time

# %% [markdown]
# In the demo data accuracy stays near chance until about 100 ms before movement onset and then rises, and
# that is the simulator's doing: its neurons encode the velocity 100 ms ahead (`lag_ms` in its ground truth)
# and carry no *preparatory* activity. Real motor and premotor cortex change their activity with the target
# during the delay before the go cue, so on real recordings (sample mode) the curve can rise earlier: this
# figure is the way to find out on a given dataset.
#
# Now every classifier of the suite on the 200 ms before movement onset (in the demo, mostly its last
# 100 ms carry the target). Each is fitted on a session's first
# 70 % of trials (the networks stop early on the next 10 %) and tested on its last 20 %; accuracy is
# compared with chance, the accuracy of always guessing the most frequent training target.

# %%
classifiers = {
    "Logistic (Wiener)": WienerClassifier(),
    "Naive Bayes": NaiveBayesClassifier(),
    "Boosted trees": BoostedTreesClassifier(),
    "Simple RNN": SimpleRNNClassifier(),
    "GRU": GRUClassifier(),
}
target_table, target_predictions = benchmark_classifiers(classifiers, target_sessions, return_predictions=True,
                                                          progress=False)
summary_targets = target_table.groupby("model", sort=False)[["accuracy", "chance", "fit_time_s"]].mean()
fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(summary_targets.index, summary_targets["accuracy"], color="tab:green")
ax.axvline(summary_targets["chance"].mean(), color="gray", ls="--", label="chance")
ax.set(title=f"Reach target from the 200 ms before movement (mean over sessions){demo_suffix()}", xlabel="test accuracy", xlim=(0, 1))
ax.invert_yaxis()
ax.legend()
plt.show()
summary_targets.round(3)

# %% [markdown]
# Accuracy hides *which* targets are confused. The confusion matrix of the best classifier, pooled over the
# test trials of all sessions (rows: true target; each row sums to 1):

# %%
best_classifier = summary_targets["accuracy"].idxmax()
pooled = target_predictions[target_predictions["model"] == best_classifier]
ConfusionMatrixDisplay.from_predictions(pooled["true"], pooled["predicted"], normalize="true", values_format=".2f",
                                        cmap="Greens", colorbar=False)
plt.title(f"{best_classifier}: {len(pooled)} test trials{demo_suffix()}")
plt.xlabel("predicted target")
plt.ylabel("true target")
plt.show()

# %%
errors = pooled[pooled["true"] != pooled["predicted"]]
gap = (errors["true"] - errors["predicted"]).abs() % 360
share_neighbours = np.mean(np.minimum(gap, 360 - gap) == 45)
print(f"{len(errors)} errors in {len(pooled)} test trials; {share_neighbours:.0%} of them name a neighbouring "
      f"target (45° away), against {2 / 7:.0%} if errors fell at random on the 7 wrong targets")

# %% [markdown]
# Neighbouring targets are the easiest to confuse: under cosine tuning their spikes differ least. Compare the
# printed share with what random errors would give. With a few dozen training trials per session the networks
# also have far fewer examples than in the regression problem (one per trial instead of one per 20 ms bin);
# the table above shows what that does to their accuracy and fit time.

# %% [markdown]
# ### Exercise 8.7 — A confusion matrix by hand
# Write `confusion_by_hand(y_true, y_pred, labels)` returning the row-normalised confusion matrix: entry
# `[i, j]` is the fraction of trials of true target `labels[i]` that were predicted as `labels[j]` (each row
# sums to 1; a target that never occurs gets a row of zeros).

# %% tags=["solution"]
def confusion_by_hand(y_true, y_pred, labels):
    """Row i, column j: share of the trials of target labels[i] predicted as labels[j]."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    counts_ij = np.array([[np.sum((y_true == a) & (y_pred == b)) for b in labels] for a in labels], dtype=float)
    totals = counts_ij.sum(axis=1, keepdims=True)
    return np.divide(counts_ij, totals, out=np.zeros_like(counts_ij), where=totals > 0)


# %%
check_exercise("8.7", confusion_by_hand)

# %% [markdown]
# ## 8.11 A fair comparison: tuning every decoder on the validation split
#
# So far each decoder ran with its default settings. That favours whichever decoder's defaults happen to suit
# these data, and NeuroTask's baselines tune their hyperparameters on the validation split (by Bayesian
# optimisation) before comparing. `tuned(decoder)` wraps a decoder in a `TunedDecoder`: it tries the
# decoder's own settings and a few others drawn from a small search space (`search_space(decoder)`: the
# cascade's degree, the Kalman filter's lag, the trees' depth and learning rate, SVR's `C` and `epsilon`, the
# networks' size, dropout and learning rate, ...), fits each on the training split, keeps the one with the best
# **validation** R², and never looks at the test split. Its budget is small in the fast setting (1 extra
# setting for a network, 2 for trees and SVR, the whole small grid of the fast decoders).
#
# Upstream's tutorial tuned its networks this way but then tested settings typed in by hand, the same for
# every session; here each session gets the settings its own validation split chose.

# %%
TUNE_SESSIONS = 1 if fast_mode() else 4  # the fast setting tunes on session one only (see the text)
to_tune = {
    "Wiener filter": WienerFilter(),
    "Ridge": RidgeDecoder(),
    "Wiener cascade": WienerCascade(),
    "Kalman filter": KalmanFilterDecoder(),
    "Naive Bayes": NaiveBayesDecoder(),
    "Boosted trees": BoostedTreesDecoder(),
    "SVR": SVRDecoder(max_train_samples=2000),
    "Feed-forward": FeedForwardDecoder(),
    "Simple RNN": SimpleRNNDecoder(),
    "GRU": GRUDecoder(),
    "LSTM": LSTMDecoder(),
}
sessions_to_tune = sessions_from_lists(*spikes, keys=keys_counts, output_names=targets)[:TUNE_SESSIONS]
_, searches = benchmark_decoders({name: tuned(dec) for name, dec in to_tune.items()}, sessions_to_tune,
                                 return_models=True)
report = tuning_report(searches, sessions_to_tune)
report[["session_index", "model", "default_val", "tuned_val", "best_params"]].round(3)

# %% [markdown]
# The table lists what each search chose. On the test split, the mean R² of each decoder with its default
# and with its tuned settings, and its rank (1 = best) in each case:

# %%
ranking = report.groupby("model", sort=False)[["default_test", "tuned_test"]].mean()
ranking["default_rank"] = ranking["default_test"].rank(ascending=False).astype(int)
ranking["tuned_rank"] = ranking["tuned_test"].rank(ascending=False).astype(int)
ranking = ranking.sort_values("tuned_rank")
fig, ax = plt.subplots(figsize=(7, 4))
y_pos = np.arange(len(ranking))
ax.hlines(y_pos, ranking["default_test"], ranking["tuned_test"], color="gray")
ax.plot(ranking["default_test"], y_pos, "o", color="tab:gray", label="default settings")
ax.plot(ranking["tuned_test"], y_pos, "o", color="tab:blue", label="tuned on validation")
ax.set_yticks(y_pos, ranking.index)
ax.invert_yaxis()
ax.set(title=f"Test R² before and after tuning ({len(sessions_to_tune)} session(s)){demo_suffix()}", xlabel="test R² (mean of x and y)")
ax.legend(loc="lower right")
plt.show()
moved = ranking[ranking["default_rank"] != ranking["tuned_rank"]]
gain = ranking["tuned_test"] - ranking["default_test"]
print(f"Tuning changed the test R² by {gain.min():+.3f} to {gain.max():+.3f} ({gain.idxmax()} gained most); "
      f"{len(moved)} of {len(ranking)} decoders changed rank; the best decoder is "
      f"{ranking.index[0]} (with defaults: {ranking['default_test'].idxmax()}).")
ranking.round(3)

# %%
chosen = report.groupby("model", sort=False)["best_params"].first()
print("Kalman filter lag chosen:", chosen["Kalman filter"], "| Wiener cascade:", chosen["Wiener cascade"])

# %% [markdown]
# How to read this. Decoders with nothing to tune (the Wiener filter) or that already choose their own
# complexity on the validation split (ridge's penalty) cannot change. For the others, the gain depends on how
# far their defaults were from what the data need: the Kalman filter's `lag` says how many bins the spikes
# lead the kinematics, the cascade's `degree` how curved the nonlinearity is (their choices are printed
# above). A search on the validation split can also *lose* a little on the test split: with a few hundred
# validation bins the best validation score is partly luck, and the more settings a search tries, the more of
# that luck it fits. The printed line under the figure says how much tuning changed the test R² and the
# ranking on this run; in the fast setting it rests on one session and tiny budgets, so read it as a
# demonstration. The README's benchmark table runs every decoder, with default and tuned settings, on every
# demo session (`benchmarks/bench_decoding.py --tune`).

# %% [markdown]
# ### Exercise 8.8 — Did tuning change the ranking?
# From `ranking` (one row per decoder with columns `default_test` and `tuned_test`), compute `rank_changes`,
# the number of decoders whose rank (1 = highest R²) differs between the default and the tuned settings.
# Compute the ranks yourself from the two R² columns.

# %% tags=["solution"]
rank_changes = int(
    (ranking["default_test"].rank(ascending=False) != ranking["tuned_test"].rank(ascending=False)).sum()
)

# %%
check_exercise("8.8", rank_changes, ranking[["default_test", "tuned_test"]])

# %% [markdown]
# ### Exercise 8.9 — Build it: one step of the Kalman filter
# The Kalman filter decoder of 8.2 (`fitted[0, "Kalman filter"]`, fitted on session one) holds its model:
# the state (centred kinematics) evolves as `s[t] = A s[t-1] + w`, `w ~ N(0, W)`, and the centred spike counts
# observe it as `z[t] = H s[t] + q`, `q ~ N(0, Q)` (attributes `A_`, `W_`, `H_`, `Q_`). Write
# `kalman_step(x, P, z, A, W, H, Q)`: from the previous estimate `x` (outputs,) and its covariance `P`, and
# the new observation `z` (neurons,), return the new `(x, P)`:
#
# * **predict**: `x⁻ = A x`, `P⁻ = A P Aᵀ + W`;
# * **update**: `S = H P⁻ Hᵀ + Q`, gain `K = P⁻ Hᵀ S⁻¹` (use `np.linalg.solve`, not an explicit inverse),
#   `x = x⁻ + K (z − H x⁻)`, `P = (I − K H) P⁻`.
#
# The check runs your step over the test split of session one and compares the decoded velocity with the
# decoder's own `predict` on the same bins.

# %% tags=["solution"]
def kalman_step(x, P, z, A, W, H, Q):
    """One predict/update step of the Kalman filter; returns the new state estimate and its covariance."""
    x_pred = A @ x
    P_pred = A @ P @ A.T + W
    S = H @ P_pred @ H.T + Q
    K = np.linalg.solve(S, H @ P_pred).T  # = P_pred H^T S^-1, as S and P_pred are symmetric
    x_new = x_pred + K @ (z - H @ x_pred)
    P_new = (np.eye(len(x)) - K @ H) @ P_pred
    return x_new, P_new


# %%
check_exercise("8.9", kalman_step, fitted[0, "Kalman filter"], X_test)

# %% [markdown]
# ## Summary
#
# * A decoding array is a history window of spikes `X[t]` (shape `(lags, N)`) and the kinematics `y[t]`;
#   NeuroTask's R² is `1 − SSE/SST` per output, around the test mean.
# * Linear decoders (Wiener filter, ridge) are strong, fast baselines; the cascade adds a static
#   nonlinearity, the Kalman filter adds movement dynamics, and the recurrent networks learn both, at the cost
#   of training time and a need for enough data and regularisation.
# * Split chronologically (7:1:2), choose settings on the validation split, and fit every statistic
#   (z-scoring, scalers, decoder weights) on the training split only; random splits leak through neighbouring
#   bins.
# * History matters most over the lead of the neurons over movement (100 ms in the demo, by construction), and
#   somewhat beyond it; bin size trades noise for temporal resolution.
# * Weights do not transfer across sessions, because the neurons are different; the recipe does.
# * The Poisson naive Bayes decoder inverts an encoding model (tuning curves) with Bayes' rule; a transition
#   prior turns it into a filter. It needs spike counts, and it is only as good as its assumptions (Poisson,
#   independent neurons), which the demo simulator satisfies by construction and real neurons do not.
# * Boosted trees, SVR and plain RNNs complete the suite; flexibility pays only when the data need it and
#   there are enough of them.
# * A trial's target is a classification problem: one example per trial, accuracy against the majority-class
#   chance, and a confusion matrix to see which targets are confused; when the target becomes decodable says
#   what the neurons encode (in the demo, only the upcoming movement).
# * A comparison is fair when every decoder gets the same validation budget to choose its settings, and the
#   test split is used once, at the end.
#
# ## Further reading
#
# * The NeuroTask benchmark and its datasets: {cite}`filipe2024neurotask`.
# * The decoders (naive Bayes, XGBoost, SVR and the recurrent networks included) and their comparison on motor,
#   somatosensory and hippocampal data: {cite}`glaser2020machine`.
# * Cosine tuning of motor cortex neurons to the direction of movement: {cite}`georgopoulos1982relations`.
# * The Kalman filter for cursor control from motor cortex: {cite}`wu2003kalman`.
# * Stable latent dynamics across days, and aligning sessions with CCA: {cite}`gallego2020longterm`.
#
# ## Next
#
# {doc}`Chapter 9 <09_sensorium_encoding_and_submission>` turns the direction around: an encoding model predicts
# the Sensorium responses of {doc}`chapter 3 <03_sensorium_data>` from the video and the behaviour, where this
# chapter predicted behaviour from neurons.
