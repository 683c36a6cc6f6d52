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
# # 9. Sensorium 2023: an encoding model, the competition metric, and a valid submission
#
# **Goals:** train a video-to-responses encoding model shared across mice; score it exactly as the competition
# did (single-trial correlation), against correlation to the average and a noise ceiling from repeats; look at
# what each neuron's readout learnt; write a submission and check it with a validator that catches the common
# mistakes.
# **Time:** ~75 min. **Prerequisites:** chapter 3 (the Sensorium data); PyTorch basics (modules, optimisers).
# **Data:** Sensorium 2023 {cite:p}`turishcheva2023sensorium` (demo: two simulated mice with known ground truth;
# sample: one real mouse).
#
# An **encoding model** predicts neural activity from the stimulus (and here, the animal's behaviour). The
# competition's models share one **core** across all mice, which turns the video into feature maps, and give
# each mouse a **readout** that picks, for every neuron, where in the visual field and which features it
# reads. Training runs on a CPU in this chapter with a deliberately short setting; the benchmark
# `benchmarks/bench_sensorium.py` trains for longer.

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
import tempfile
import zipfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import course_utils
from course_utils.data import get_source
from course_utils.exercises import check_exercise
from course_utils.plotting import use_course_style
from course_utils.sensorium import (
    SUBMISSION_FRAME_RULE,
    TOP_TEAMS_FRAME_RULE,
    MultiMouseLoader,
    SensoriumClips,
    TrainConfig,
    correlation_to_average,
    load_checkpoint,
    noise_ceiling,
    predict_tier,
    predict_trials,
    read_mice,
    score_mice,
    single_trial_correlation,
    submission_frame,
    train_model,
    validate_submission,
    write_submission,
)
from course_utils.sensorium.submission import write_parquet

use_course_style()
course_utils.banner("sensorium2023")
torch.set_num_threads(2)

# %% [markdown]
# ## 9.1 Clips from several mice
#
# Models train on **clips**: a few dozen consecutive frames cut from a trial, with the responses of the same
# frames. `SensoriumClips` cuts them from one mouse's tiers and normalises everything with the statistics the
# mouse ships (chapter 3); `MultiMouseLoader` interleaves batches of all mice, one mouse per batch, so the shared
# core sees every mouse throughout an epoch. Behaviour (pupil dilation, running speed, eye position) comes along
# as a separate input; `behavior_as_channels=True` would add it as extra video channels instead.

# %%
root = get_source("sensorium2023")
mice = read_mice(root)
clips = {name: SensoriumClips(mouse, ("train",), frames_per_clip=40, random_start=True) for name, mouse in mice.items()}
loader = MultiMouseLoader(clips, batch_size=4, seed=0)
mouse_name, batch = next(iter(loader))
print(mouse_name)
{key: tuple(value.shape) for key, value in batch.items()}

# %% [markdown]
# ## 9.2 The baseline: a shared (2+1)D core, per-mouse readouts, a behaviour gain
#
# * The **core** filters each frame in space (2-D convolutions) and then each feature in time with a **causal**
#   filter: the prediction at frame *t* uses frames up to *t* only, as a neuron would. Separating space and time
#   ("(2+1)D", the winning DwiseNeuro's choice too) needs far fewer weights than full 3-D kernels.
# * The **readout** of each mouse gives every neuron a spatial mask over the feature map and a weight per
#   feature (a factorised readout, {cite:p}`klindt2017readout`).
# * A per-neuron **gain** `exp(w · behaviour)` scales the stimulus drive: running and arousal change response
#   amplitude in mouse V1.
# * A **softplus** keeps the predicted rate positive, and the **Poisson loss** `rate - response * log(rate)`
#   fits non-negative activity.

# %% [markdown]
# ## 9.3 Training, with a short setting
#
# `train_model` trains on the `train` tier of every mouse with AdamW, evaluates the **oracle tier's single-trial
# correlation** after each epoch, keeps the best weights, and stops early when it stops improving (or when a
# time budget runs out). With `COURSE_FAST=1` (set by CI and the default book build, see chapter 0) it trains for
# 3 epochs, about 30 seconds on 2 cores; otherwise for up to 20 epochs with early stopping. The benchmark
# trains for about 3 minutes and gets much closer to the noise ceiling. Everything is seeded.

# %%
config = TrainConfig(epochs=3 if course_utils.fast_mode() else 20, batch_size=4, frames_per_clip=60, seed=0)
checkpoint = Path(tempfile.mkdtemp()) / "sensorium_baseline.pt"
model, history = train_model(mice, config, checkpoint=checkpoint)
print(f"{len(history['epoch'])} epoch(s) in {history['seconds'][-1]:.0f} s, "
      f"best oracle correlation {max(history['oracle']):.3f}")

# %%
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(history["epoch"], history["oracle"], "o-")
ax.set(xlabel="epoch", ylabel="single-trial correlation", title="Oracle-tier correlation during training")
plt.show()

# %% [markdown]
# The checkpoint holds only tensors and plain settings, so it loads with `torch.load(..., weights_only=True)`
# (no pickled code runs when you open a file someone sent you):

# %%
restored, info = load_checkpoint(checkpoint)
print(info["extra"])

# %% [markdown]
# ## 9.4 The competition's metric, and what it can reach
#
# The **single-trial correlation**: drop the first 50 frames of each trial (the model has not seen enough video
# yet), concatenate the trials along time, correlate prediction and response per neuron (Pearson with
# population std and `eps=1e-8`), set NaN to 0, and average over neurons. The starter kit pools the neurons of
# all mice; the winners reported the mean over mice: `score_mice` gives both.
#
# Single trials are noisy, so no model reaches 1. Two reference points, both on the oracle repeats:
#
# * **correlation to average**: average responses (and predictions) over the repeats of each clip first; this
#   asks whether the model captures the stimulus-driven part;
# * the **noise ceiling** (oracle correlation, {cite:p}`lurz2021generalization`): each repeat against the mean of
#   the *other* repeats of its clip: what predicting the clip's average response would score.

# %%
per_mouse, ceilings, to_average = {}, {}, {}
for name, mouse in mice.items():
    trials = mouse.trials("oracle")
    predictions = predict_trials(model, mouse, trials)
    responses = [mouse.load("responses", t, trim=True) for t in trials]
    per_mouse[name] = single_trial_correlation(predictions, responses, per_neuron=True)
    ceilings[name] = noise_ceiling(responses, mouse.condition_hash[trials], per_neuron=True)
    to_average[name] = correlation_to_average(predictions, responses, mouse.condition_hash[trials])
scores = score_mice(per_mouse)
ceiling = score_mice(ceilings)
print(f"single-trial correlation (pooled): {scores['pooled']:.3f}   mean over mice: {scores['mean_over_mice']:.3f}")
print(f"noise ceiling (pooled): {ceiling['pooled']:.3f}   ->  fraction reached: {scores['pooled'] / ceiling['pooled']:.2f}")
print("correlation to average per mouse:", {name[:12]: round(value, 3) for name, value in to_average.items()})

# %%
fig, ax = plt.subplots(figsize=(4.5, 4.2))
for name in mice:
    ax.scatter(ceilings[name], per_mouse[name], s=10, label=name[:12])
ax.plot([0, 1], [0, 1], "k--", lw=1, label="model = ceiling")
ax.set(xlabel="noise ceiling (oracle correlation)", ylabel="model single-trial correlation",
       title="Each neuron against its ceiling", xlim=(0, 1), ylim=(0, 1))
ax.legend()
plt.show()

# %% [markdown]
# Neurons with a low ceiling are unreliable across repeats, and no model can predict them well; the gap between
# the points and the diagonal is what a better model could still gain. Correlation to average is usually higher
# than single-trial correlation, because averaging over repeats removes trial-to-trial noise from the target.

# %% [markdown]
# ### Exercise 9.1 — Single-trial correlation by hand
# Write `my_correlation(predictions, responses)`: two lists of (neurons, frames) arrays, one per trial, full
# length. Implement the competition's metric with NumPy only (skip 50 frames, concatenate, Pearson per neuron
# with `ddof=0` and `eps=1e-8` added to each std, NaN to 0, mean over neurons).

# %% tags=["solution"]
def my_correlation(predictions, responses):
    p = np.concatenate([x[:, 50:] for x in predictions], axis=1)
    r = np.concatenate([x[:, 50:] for x in responses], axis=1)
    pz = (p - p.mean(axis=1, keepdims=True)) / (p.std(axis=1, keepdims=True) + 1e-8)
    rz = (r - r.mean(axis=1, keepdims=True)) / (r.std(axis=1, keepdims=True) + 1e-8)
    return float(np.nan_to_num((pz * rz).mean(axis=1)).mean())


# %%
check_exercise("9.1", my_correlation)

# %% [markdown]
# ## 9.5 Per-neuron maps: what the readouts learnt
#
# Each readout mask says where in the picture a neuron looks. Its centre should follow the neuron's position in
# cortex (retinotopy, chapter 3), although nothing told the model where the neurons are. This check works on real
# mice as well as on the demo.

# %%
name, mouse = next(iter(mice.items()))
mask = model.readouts[name].mask.detach().abs().numpy()  # (neurons, height, width) of the core's feature map
weights = mask / mask.sum(axis=(1, 2), keepdims=True)
scale = 64 / mask.shape[2]  # feature-map pixels -> video pixels
azimuth_px = (weights.sum(axis=1) * np.arange(mask.shape[2])).sum(axis=1) * scale
xyz = mouse.cell_motor_coordinates_um
fig, (ax_map, ax_retino) = plt.subplots(1, 2, figsize=(9.5, 3.6), layout="constrained")
points = ax_map.scatter(xyz[:, 0], xyz[:, 1], c=per_mouse[name], s=14, cmap="viridis", vmin=0)
fig.colorbar(points, ax=ax_map, label="single-trial correlation")
ax_map.set(xlabel="x (µm)", ylabel="y (µm)", title="How well each neuron is predicted")
ax_retino.scatter(xyz[:, 0], azimuth_px, s=10)
ax_retino.set(xlabel="cortical x (µm)", ylabel="readout centre (video px)", title="Learnt retinotopy")
plt.show()
print(f"correlation of cortical x and readout centre: {np.corrcoef(xyz[:, 0], azimuth_px)[0, 1]:.2f}")

# %% [markdown]
# ## 9.6 Writing a submission
#
# The test tiers' responses are withheld, so a score on them comes from the organisers. A submission is one row
# per test trial: `mouse` (the folder name), `trial_indices` (the trial's file number), `prediction` (a list of
# lists, neurons x frames) and `neuron_ids` (the mouse's `unit_ids`, in the order of the prediction rows),
# written as parquet with brotli compression and `index=False`.
#
# **Which frames?** The starter kit and README ask for every frame after the first 50: **T-50** per trial.
# Both top teams submitted T-51 (they also dropped the last frame). The course keeps the rule in one named
# constant, `SUBMISSION_FRAME_RULE`, which the writer applies and the validator checks.

# %%
print("frame rule:", SUBMISSION_FRAME_RULE, "| the top teams:", TOP_TEAMS_FRAME_RULE)
main_tiers = ("live_test_main", "final_test_main")
predictions = {tier: predict_tier(model, mice, tier) for tier in main_tiers}
neuron_ids = {name: mouse.unit_ids for name, mouse in mice.items()}
out_dir = Path(tempfile.mkdtemp())
zips = write_submission(predictions, neuron_ids, out_dir, track="main")
with zipfile.ZipFile(zips[0]) as archive:
    print(zips[0].name, "holds", archive.namelist())

# %%
report = validate_submission(zips[0], root)
print(report)

# %% [markdown]
# The bonus track (`live_test_bonus`, `final_test_bonus`) works the same way with `track="bonus"`; its two files
# get one zip each, uploaded separately.

# %% [markdown]
# ### Exercise 9.2 — Submission frames
# Write `submission_frames(full)` that takes a full-length prediction (neurons, T) and returns the frames a
# submission holds under the course's rule.

# %% tags=["solution"]
def submission_frames(full):
    return SUBMISSION_FRAME_RULE.cut(full)


# %%
check_exercise("9.2", submission_frames)

# %% [markdown]
# ## 9.7 The mistakes the validator catches
#
# Every one of these has cost someone a submission. We break the valid submission on purpose and let the
# validator report each problem with its file, mouse and trial. (From a terminal:
# `python -m course_utils.sensorium.validate submission_main.zip DATASET_ROOT`.)

# %%
def show(title, zip_path):
    found = validate_submission(zip_path, root)
    print(f"--- {title}: {len(found.problems)} problem(s)")
    for problem in found.problems[:2]:
        print("   ", problem)


live_file = out_dir / "predictions_live_main.parquet.brotli"
good = submission_frame(predictions["final_test_main"], neuron_ids)


def zipped(frame, name="predictions_final_main.parquet.brotli", folder=""):
    final_file = write_parquet(frame, out_dir / "broken" / name)
    path = out_dir / "broken.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(live_file, arcname=folder + live_file.name)
        archive.write(final_file, arcname=folder + name)
    return path


show("T-51 frames", zipped(submission_frame(predictions["final_test_main"], neuron_ids, TOP_TEAMS_FRAME_RULE)))
show("neuron ids in the wrong order", zipped(good.assign(neuron_ids=[ids[::-1] for ids in good["neuron_ids"]])))
show("a trial missing, another twice", zipped(good.iloc[[0, *range(2, len(good))] + [0]].reset_index(drop=True)))
show("trial indices as '1.npy' strings", zipped(good.assign(trial_indices=[f"{t}.npy" for t in good["trial_indices"]])))
show("files inside a folder of the zip", zipped(good, folder="submission/"))
show("a wrong file name", zipped(good, name="predictions_final.parquet.brotli"))

# %% [markdown]
# ### Exercise 9.3 — Poisson loss by hand
# Write `my_poisson_loss(rates, responses)` for two tensors (batch, neurons, frames): the mean of
# `rate - response * log(rate + 1e-8)` over the entries whose response is not NaN (the padding).

# %% tags=["solution"]
def my_poisson_loss(rates, responses):
    valid = ~torch.isnan(responses)
    return (rates[valid] - responses[valid] * torch.log(rates[valid] + 1e-8)).mean()


# %%
check_exercise("9.3", my_poisson_loss)

# %% [markdown]
# ## Summary
#
# * A shared factorised core with per-mouse readouts and a behaviour gain, trained with a Poisson loss, is the
#   competition's baseline family; early stopping watches the oracle tier's single-trial correlation.
# * The competition's metric skips 50 frames, concatenates trials and averages per-neuron correlations; read it
#   against the noise ceiling from repeats, and against correlation to average.
# * A submission is parquet (brotli, `index=False`) with four exact columns, exact file names and a flat zip;
#   the frame rule (T-50 here) lives in one constant, and the validator checks every trial before you upload.
#
# ## Further reading
#
# * The competition {cite:p}`turishcheva2023sensorium` and its retrospective {cite:p}`turishcheva2024retrospective`.
# * Factorised readouts {cite:p}`klindt2017readout`; Gaussian readouts, shared cores across mice and the oracle
#   correlation {cite:p}`lurz2021generalization`.
# * `save_checkpoint`/`load_checkpoint` and the training loop are in `course_utils/sensorium/training.py`; the same
#   command runs on several GPUs or CPU processes with `torchrun --nproc_per_node N -m course_utils.sensorium.train`.
