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
# **Goals:** fit and compare the classic decoders of motor cortex (Wiener filter, Wiener cascade, Kalman
# filter, ridge, a feed-forward net, GRU and LSTM) on NeuroTask; evaluate them honestly (chronological
# 7:1:2 splits, R² as the benchmark reports it); see how bin size and history length matter; understand why a
# decoder does not transfer from one session to the next; and avoid the pitfalls of the upstream pipeline.
# **Time:** ~60 min. **Prerequisites:** chapter 1 (loading NeuroTask, `rebin`, `process_data`), basic
# scikit-learn (`fit`/`predict`). **Data:** NeuroTask (demo: simulated files in the real layout; sample:
# DANDI 001056, Center-Out with Bump).
#
# NeuroTask {cite}`filipe2024neurotask` gathers motor-cortex recordings from several labs and tasks in one
# table format, with baseline decoders taken from Kording lab's *Neural_Decoding* {cite}`glaser2020machine`.
# Here we rebuild those baselines as scikit-learn estimators in `course_utils.decoding` and run them over
# every session and task of the demo data.
#
# *Training time.* The neural-network decoders stop early on the validation split. Their maximum number of
# epochs is 60, or 8 when the environment variable `COURSE_FAST=1` is set (CI and the book build set it, so
# this chapter runs in about a minute and a half on 2 CPU cores). Unset it for the full training.

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
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsRegressor

import course_utils
from course_utils.data import get_source
from course_utils.decoding import (
    FeedForwardDecoder,
    GRUDecoder,
    KalmanFilterDecoder,
    LSTMDecoder,
    RidgeDecoder,
    WienerCascade,
    WienerFilter,
    benchmark_decoders,
    default_max_epochs,
    r2_score_per_output,
    sessions_from_lists,
)
from course_utils.exercises import check_exercise
from course_utils.neurotask import load_file, process_data, rebin, velocity_columns
from course_utils.plotting import use_course_style

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
# format and pick the velocity columns (the Random Target files record the cursor, the others the hand).

# %%
folder = get_source("neurotask")
files = sorted(folder.glob("*.parquet")) or sorted(folder.rglob("*.nwb"))
print([f.name for f in files])

# %% [markdown]
# We start with one session of the Center-Out with Bump dataset.

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
table_one, fitted = benchmark_decoders(decoders, session_one, return_models=True)
table_one.pivot_table(index="model", columns="output", values="r2", sort=False).round(3)

# %%
start = int(np.clip(np.argmax(np.abs(y_test[:, 0])) - 100, 0, max(len(y_test) - 250, 0)))
window = slice(start, start + 250)  # 5 s of the test split around its fastest movement
t = np.arange(len(y_test))[window] * BIN_MS / 1000
fig, ax = plt.subplots(figsize=(8, 3.4))
ax.plot(t, y_test[window, 0], color="black", lw=2, label="true")
for name in ("Wiener filter", "Kalman filter", "LSTM"):
    ax.plot(t, fitted[0, name].predict(X_test[window])[:, 0], lw=1.2, label=name)
ax.set(title=f"Decoded {targets[0]}, 5 s of the test split", xlabel="time in test split (s)",
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
ax.set(title="One session: test R² (mean of x and y) and fit time", xlabel="R²", xlim=(0, 1))
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
ax.set(title="Learning curves (standardised mean squared error)", xlabel="epoch", ylabel="loss")
ax.legend(ncol=2)
plt.show()

# %% [markdown]
# The training loss keeps falling while the validation loss flattens after a few epochs: the networks start
# memorising the training bins. The decoders here use dropout 0.5 before their readout; without it (try
# `GRUDecoder(dropout=0.0)`) the training loss falls to about a quarter of the validation loss and the GRU
# ends below the Wiener filter on 3 of the 10 demo sessions. More epochs would not help: the best epoch comes
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
leak.plot.barh(figsize=(7, 2.6), title="Test R² depends on how the split was made", xlim=(0, 1)).set_xlabel("R²")
plt.show()

# %% [markdown]
# On the random split the memoriser looks far better than the Wiener filter; on the chronological split it is
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
ax.set(title="Wiener filter: validation R² vs history length", xlabel="history before the current bin (ms)",
       ylabel="validation R²")
ax.legend()
plt.show()

# %% [markdown]
# R² climbs steeply until the history covers about 100 ms, the lead of the neurons over the hand: those
# spikes encode the current velocity. It still improves a little further, because older spikes encode the
# recent past of a smooth movement and average away Poisson noise, and then falls as the extra weights start
# fitting noise. Wider bins help a decoder without history (more spikes per bin) but cost temporal resolution.

# %% [markdown]
# ### Exercise 8.3 — How far do the neurons lead the hand?
# Build arrays with 20 ms bins and 200 ms of history (`bins_before=10`). For each lag `k = 0..10`, fit a
# Wiener filter on the single history bin `X_train[:, -1 - k]` (the bin `k` bins before the current one) and
# score it on the validation split. Report `lead_ms`, the lag with the highest validation R², in ms.

# %% tags=["solution"]
a10 = process_data(df, 10, behavior_columns=targets, zscore=True, **SPLITS)
lag_scores = [
    WienerFilter().fit(a10.X_train[0][:, -1 - lag], a10.y_train[0]).score(a10.X_val[0][:, -1 - lag], a10.y_val[0])
    for lag in range(11)
]
lead_ms = int(np.argmax(lag_scores)) * BIN_MS

# %%
check_exercise("8.3", lead_ms)

# %% [markdown]
# ## 8.5 The whole table: every session, every task
#
# Now the benchmark proper: the same pipeline on every session of every file, with all decoders but the
# feed-forward net (left out to keep this cell short; `benchmarks/bench_decoding.py` runs all seven).
# `benchmark_decoders` returns a tidy table, one row per session, model and output.

# %%
all_sessions = []
for file in files:
    frame, file_bin_ms = load_file(file)
    frame = rebin(frame, file_bin_ms, BIN_MS) if file_bin_ms != BIN_MS else frame
    file_arrays = process_data(frame, BINS_BEFORE, behavior_columns=velocity_columns(frame), zscore=True, **SPLITS)
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
ax.set(title="Test R² per task (bars: mean over sessions; dots: sessions)", ylabel="R² (mean of x and y)",
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
ax.set(title=f"Train on a row, test on a column ({n_common} neurons)", xlabel="tested on", ylabel="trained on")
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
# * History matters up to about the lead of motor cortex over movement (~100 ms); bin size trades noise for
#   temporal resolution.
# * Weights do not transfer across sessions, because the neurons are different; the recipe does.
#
# ## Further reading
#
# * The NeuroTask benchmark and its datasets: {cite}`filipe2024neurotask`.
# * The decoders and their comparison on motor, somatosensory and hippocampal data: {cite}`glaser2020machine`.
# * The Kalman filter for cursor control from motor cortex: {cite}`wu2003kalman`.
# * Stable latent dynamics across days, and aligning sessions with CCA: {cite}`gallego2020longterm`.
