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
# **Goals:** train a video-to-responses {term}`encoding model <Encoding model>` shared across mice; score it exactly as the competition
# did ({term}`single-trial correlation <Single-trial correlation>`), against correlation to the average and a {term}`noise ceiling <Noise ceiling>` from repeats; look at
# what each neuron's {term}`readout <Readout>` learnt; write a submission and check it with a validator that catches the common
# mistakes.
# **Time:** ~75 min. **Prerequisites:** chapter 3 (the Sensorium data); PyTorch basics (modules, optimisers).
# **Data:** Sensorium 2023 {cite:p}`turishcheva2023sensorium` (demo: two simulated mice with known ground truth;
# sample: one real mouse).
#
# **Builds on:** the mouse folders, tiers, NaN padding and statistics of {doc}`chapter 3 <03_sensorium_data>`,
# on which this chapter's model trains and for which it writes a submission.
#
# An **encoding model** predicts neural activity from the stimulus (and here, the animal's behaviour). The
# competition's models share one **{term}`core <Core>`** across all mice, which turns the video into feature maps, and give
# each mouse a **readout** that picks, for every neuron, where in the visual field and which features it
# reads. Training runs on a CPU in this chapter with a deliberately short setting; the benchmark
# `benchmarks/bench_sensorium.py` trains for longer.
#
# ```{admonition} Demo vs real
# :class: tip
# **What the simulator builds in** (`course_utils/sensorium/simulate.py`): each demo neuron has a Gabor
# receptive field (simple or complex cell) centred according to its cortical position (retinotopy), a biphasic
# temporal kernel, a softplus nonlinearity, a gain from running and pupil, and Poisson events of log-normal
# size; two small mice with short trials of filtered noise with moving edges (gratings and static images in the
# bonus tiers). A model that recovers the retinotopy (9.5) and scores well checks our code against a model of
# our own making, close to the model class we fit, not against {term}`V1 <V1>`.
#
# **What the real data look like** (REAL_FILES.md, SOURCES.md, {cite:p}`turishcheva2023sensorium`): ten mice of
# 7,440-8,285 neurons, 711-740 trials of about 300 frames (30 Hz) of natural videos, 5-10 repeats per test clip,
# sparse deconvolved responses (median ~1e-6, maximum 50-190). The winning team reached a single-trial
# correlation of 0.29 on the main track and 0.22 on the bonus track, with long GPU trainings. Demo scores are
# not comparable with those: how high a demo model can score is set by the noise the simulator adds (its noise
# ceiling is printed in 9.4), so a demo score says how much of *our* simulated signal a model recovers, not
# where it would rank on real mice. Figure titles drawn from demo data end with "(demo)".
# ```
#
# ```{admonition} For maintainers: what changed in this edition, and why
# :class: dropdown
# Checked against the competition's own code and the winning submissions: the metric counts only the first
# 300 frames of a trial, and repeats of one clip can differ by a frame or two, so correlation to average and
# the noise ceiling now align repeats before averaging (9.4). The score on responses normalised by the
# released std, as the organisers computed it, is shown beside the raw score (9.4). The validator now accepts
# everything the real server scored (the winners' 249-frame format, rows permuted together with their
# `neuron_ids`, uint32 ids, a submission of the scored mice only) and still rejects the rest (9.6, 9.7). The
# demo data are sparser, like real deconvolved activity, so the scores below are lower than before.
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
import tempfile
import zipfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import course_utils
from course_utils.data import get_source
from course_utils.exercises import check_exercise
from course_utils.plotting import demo_suffix, use_course_style
from course_utils.sensorium import (
    ACCEPTED_FRAME_RULES,
    SUBMISSION_FRAME_RULE,
    TOP_TEAMS_FRAME_RULE,
    MultiMouseLoader,
    SensoriumClips,
    SensoriumModel,
    TrainConfig,
    align_repeats,
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
#
# The whole model is short enough to read; here is the class that puts the pieces together (the core and the
# readouts are above it in `course_utils/sensorium/model.py`):

# %%
print(inspect.getsource(SensoriumModel))

# %% [markdown]
# ## 9.3 Training, with a short setting
#
# `train_model` trains on the `train` tier of every mouse with AdamW, evaluates the **{term}`oracle <Oracle>` tier's single-trial
# correlation** after each epoch, keeps the best weights, and stops early when it stops improving (or when a
# time budget runs out). With `COURSE_FAST=1` (set by CI and the default book build, see chapter 0) it trains for
# 3 epochs (the time it took is printed under the cell); otherwise for up to 20 epochs with early stopping.
# The benchmark (`benchmarks/bench_sensorium.py`) trains for longer and gets closer to the noise ceiling.
# Everything is seeded.

# %%
config = TrainConfig(epochs=3 if course_utils.fast_mode() else 20, batch_size=4, frames_per_clip=60, seed=0)
checkpoint = Path(tempfile.mkdtemp()) / "sensorium_baseline.pt"
model, history = train_model(mice, config, checkpoint=checkpoint)
print(f"{len(history['epoch'])} epoch(s) in {history['seconds'][-1]:.0f} s, "
      f"best oracle correlation {max(history['oracle']):.3f}")

# %%
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(history["epoch"], history["oracle"], "o-")
ax.set(xlabel="epoch", ylabel="single-trial correlation", title=f"Oracle-tier correlation during training{demo_suffix()}")
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
# yet) and every frame after the 300th (only the first 300 count), concatenate the trials along time, correlate
# prediction and response per neuron (Pearson with population std and `eps=1e-8`), set NaN to 0, and average
# over neurons. The starter kit pools the neurons of all mice; the winners reported the mean over mice:
# `score_mice` gives both.
#
# Single trials are noisy, so no model reaches 1. Two reference points, both on the oracle repeats:
#
# * **correlation to average**: average responses (and predictions) over the repeats of each clip first; this
#   asks whether the model captures the stimulus-driven part;
# * the **noise ceiling** (oracle correlation, {cite:p}`lurz2021generalization`): each repeat against the mean of
#   the *other* repeats of its clip: what predicting the clip's average response would score.
#
# Both average repeats, and repeats of one clip can differ by a frame or two. `align_repeats` shows how they
# are handled: each clip's repeats are aligned at their first frame and cut to the shortest.

# %%
name0, mouse0 = next(iter(mice.items()))
oracle0 = mouse0.trials("oracle")
for clip, (members, common) in align_repeats([np.zeros((1, n)) for n in mouse0.trial_lengths[oracle0]],
                                             mouse0.condition_hash[oracle0]).items():
    print(f"clip {clip[:8]}: repeats of {mouse0.trial_lengths[oracle0[members]].tolist()} frames -> {common} used")

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
       title=f"Each neuron against its ceiling{demo_suffix()}", xlim=(0, 1), ylim=(0, 1))
ax.legend()
plt.show()
above = {name: int((per_mouse[name] > ceilings[name]).sum()) for name in mice}
print("neurons above the diagonal (model beats its ceiling estimate):",
      {name[:12]: f"{n} of {len(per_mouse[name])}" for name, n in above.items()})
low_ceiling = {name: float(np.median(ceilings[name][per_mouse[name] > ceilings[name]])) if above[name] else np.nan
               for name in mice}
print("median ceiling of those neurons:", {name[:12]: round(v, 3) for name, v in low_ceiling.items()},
      "| of all neurons:", {name[:12]: round(float(np.median(ceilings[name])), 3) for name in mice})

# %% tags=["remove-cell"]
# Guards the text below: correlation to average beats single-trial correlation for every mouse; neurons above
# the diagonal have lower ceilings than the typical neuron.
assert all(to_average[n] > float(per_mouse[n].mean()) for n in mice), "the text says correlation to average is higher"
for name in mice:
    assert not above[name] or low_ceiling[name] < float(np.median(ceilings[name])), (name, low_ceiling[name])

# %% [markdown]
# Neurons with a low ceiling are unreliable across repeats, and no model can predict them well; the gap between
# the points and the diagonal is what a better model could still gain. Correlation to average is higher than
# single-trial correlation here (for every mouse), because averaging over repeats removes trial-to-trial noise
# from the target.
#
# **Points above the diagonal** (counted above) seem to contradict the glossary's "best score any model could
# reach". They do not: the ceiling is an *estimate*. It correlates each repeat with the mean of the *other*
# repeats of its clip, and with a handful of repeats that mean still carries their noise, so the estimate is
# biased low, most for unreliable neurons (those above the diagonal have low ceilings: compare the medians
# printed). A model predicts from the stimulus with weights fitted on all training trials, so its prediction
# is less noisy than a mean of a few repeats and can score above the estimate. The model also sees the
# behaviour (running, pupil), which varies between repeats and which the ceiling ignores. With more repeats
# the estimate rises towards the true ceiling and such points become rarer.
#
# **Raw or normalised responses?** The organisers' evaluation standardises the responses by the std released
# with each mouse, as neuralpredictors does when it loads them (dividing by a floor of 1 % of the mean std
# where a neuron's std is smaller). Pearson's correlation does not change when a neuron's whole trace is
# multiplied by one number, so with a per-neuron std the normalised score equals the raw one. Where the released
# std carries a frame axis (the first demo mouse, chapter 3), every frame is divided by its own value: frames
# whose std is small weigh more, and the score changes. `response_std=` gives the normalised score; the course
# reports it beside the raw score rather than instead of it.

# %%
raw_vs_normalised = {}
for name, mouse in mice.items():
    trials = mouse.trials("oracle")
    predictions = predict_trials(model, mouse, trials)
    responses = [mouse.load("responses", t, trim=True) for t in trials]
    std = mouse.statistics("responses", frame_reduction="none")["std"]  # as released, frame axis and all
    raw = single_trial_correlation(predictions, responses)
    normalised = single_trial_correlation(predictions, responses, response_std=std)
    raw_vs_normalised[name] = (std.ndim, raw, normalised)
    print(f"{name[:14]}: std stored as {std.shape}; raw {raw:.4f}, normalised {normalised:.4f}")

# %% tags=["remove-cell"]
for ndim, raw, normalised in raw_vs_normalised.values():
    assert (abs(raw - normalised) < 1e-6) == (ndim == 1), "the text: equal for a per-neuron std, different per frame"

# %% [markdown]
# In the demo the per-frame stds come from only 30 training trials per frame slot and the responses are sparse,
# so some frame slots have a tiny std and get a large weight: the normalised score of that mouse moves a lot. Real
# mice have about ten times more training trials per slot, which steadies the per-frame stds but does not change
# the point: say which score you report.

# %% [markdown]
# ### Exercise 9.1 — Single-trial correlation by hand
# Write `my_correlation(predictions, responses)`: two lists of (neurons, frames) arrays, one per trial, full
# length. Implement the competition's metric with NumPy only (skip 50 frames, concatenate, Pearson per neuron
# with `ddof=0` and `eps=1e-8` added to each std, NaN to 0, mean over neurons). The check's trials are shorter
# than 300 frames, so the 300-frame cut never applies to them.

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
ax_map.set(xlabel="x (µm)", ylabel="y (µm)", title=f"How well each neuron is predicted{demo_suffix()}")
ax_retino.scatter(xyz[:, 0], azimuth_px, s=10)
ax_retino.set(xlabel="cortical x (µm)", ylabel="readout centre (video px)", title=f"Learnt retinotopy{demo_suffix()}")
plt.show()
print(f"correlation of cortical x and readout centre: {np.corrcoef(xyz[:, 0], azimuth_px)[0, 1]:.2f}")

# %% [markdown]
# ### Exercise 9.4 — Build it: the factorised readout
# The readout of 9.2 turns the core's feature map into one rate per neuron and frame:
# `r[b, n, t] = Σ_c w[n, c] · Σ_{y,x} m[n, y, x] · f[b, c, t, y, x] + bias[n]`, with `m` the neuron's spatial
# mask and `w` its feature weights. Write `readout_forward(core_features, mask, feature_weights, bias)` with
# `torch.einsum` (or broadcasting): `core_features` is (batch, channels, frames, height, width), `mask`
# (neurons, height, width), `feature_weights` (neurons, channels), `bias` (neurons,); return (batch, neurons,
# frames). The check runs the trained model's own readout on the same core features and compares.

# %%
with torch.no_grad():
    core_features = model.core(batch["video"])  # the shared core's output for the batch of 9.1
readout = model.readouts[mouse_name]
print("core features:", tuple(core_features.shape), "| mask:", tuple(readout.mask.shape),
      "| feature weights:", tuple(readout.features.shape))

# %% tags=["solution"]
def readout_forward(core_features, mask, feature_weights, bias):
    """Factorised readout: spatial mask, then feature weights, then a bias, per neuron."""
    pooled = torch.einsum("bcthw,nhw->bnct", core_features, mask)  # where each neuron looks
    return torch.einsum("bnct,nc->bnt", pooled, feature_weights) + bias[None, :, None]  # which features


# %%
check_exercise("9.4", readout_forward, core_features, readout)

# %% [markdown]
# ## 9.6 Writing a submission
#
# The test tiers' responses are withheld, so a score on them comes from the organisers. A submission is one row
# per test trial: `mouse` (the folder name), `trial_indices` (the trial's file number), `prediction` (a list of
# lists, neurons x frames) and `neuron_ids` (the mouse's `unit_ids`, in the order of the prediction rows),
# written as parquet with brotli compression and `index=False`.
#
# **Which frames?** The starter kit and README ask for every frame after the first 50 of the first 300:
# **T-50** per trial (250 frames of a 300-frame trial). Both top teams submitted T-51, 249 frames: they cut to
# 300, dropped the first 50 and also the last frame, so their frames start at frame 50 like the starter kit's.
# The server scored both, so the validator accepts both (`ACCEPTED_FRAME_RULES`); the course's writer uses one
# named constant, `SUBMISSION_FRAME_RULE`.

# %%
print("the course writes:", SUBMISSION_FRAME_RULE.describe())
print("accepted:", [rule.describe() for rule in ACCEPTED_FRAME_RULES])
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
# get one zip each, uploaded separately. Its clips come from other stimulus families than training (in the demo
# drifting gratings and static images; in the real data also noise patterns, dots and moving dots), which is
# why it is called out-of-distribution.

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
# `python -m course_utils sensorium validate submission_main.zip DATASET_ROOT`.) It reads a submission a few
# rows at a time, so even a real 4 GB main-track file is checked in about the memory of a few rows.

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


show("all T frames (the first 50 kept)", zipped(good.assign(prediction=[
    predictions["final_test_main"][m][t].tolist() for m, t in zip(good["mouse"], good["trial_indices"], strict=True)])))
show("a neuron id that is not the mouse's", zipped(good.assign(neuron_ids=[[-1, *ids[1:]] for ids in good["neuron_ids"]])))
show("a trial missing, another twice", zipped(good.iloc[[0, *range(2, len(good))] + [0]].reset_index(drop=True)))
show("trial indices as '1.npy' strings", zipped(good.assign(trial_indices=[f"{t}.npy" for t in good["trial_indices"]])))
show("files inside a folder of the zip", zipped(good, folder="submission/"))
show("a wrong file name", zipped(good, name="predictions_final.parquet.brotli"))

# %% [markdown]
# And what is *not* a mistake, because the real server scored it: the winners' T-51, prediction rows permuted
# together with their `neuron_ids`, and ids stored as uint32 (the starter kit's choice). A submission may also
# leave out mice that are not scored (in the real competition only the five new mice were; on the demo every
# mouse counts unless `scored_mice=` says otherwise).

# %%
flipped = good.assign(prediction=[frames[::-1] for frames in good["prediction"]],
                      neuron_ids=[np.asarray(ids[::-1], dtype=np.uint32) for ids in good["neuron_ids"]])
show("T-51 frames", zipped(submission_frame(predictions["final_test_main"], neuron_ids, TOP_TEAMS_FRAME_RULE)))
show("rows and ids reversed together, uint32 ids", zipped(flipped))
first_mouse = next(iter(mice))
one_mouse = {tier: {first_mouse: predictions[tier][first_mouse]} for tier in main_tiers}
only_first = write_submission(one_mouse, neuron_ids, Path(tempfile.mkdtemp()))[0]
print("only the first mouse, every mouse scored:", validate_submission(only_first, root).kinds())
print("only the first mouse, it alone scored:", validate_submission(only_first, root, scored_mice=[first_mouse]).ok)

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
# * The metric counts frames 50 to 300 of each trial; correlation to average and the noise ceiling align repeats
#   of different lengths; normalising by a per-neuron std does not change the score.
# * A submission is parquet (brotli, `index=False`) with four exact columns, exact file names and a flat zip;
#   the course writes T-50 (one constant), the validator accepts what the server scored (T-50 and T-51, rows in
#   any order with their ids) and checks every trial before you upload.
#
# ## Further reading
#
# * The competition {cite:p}`turishcheva2023sensorium` and its retrospective {cite:p}`turishcheva2024retrospective`.
# * Factorised readouts {cite:p}`klindt2017readout`; Gaussian readouts, shared cores across mice and the oracle
#   correlation {cite:p}`lurz2021generalization`.
# * `save_checkpoint`/`load_checkpoint` and the training loop are in `course_utils/sensorium/training.py`; the same
#   command runs on several GPUs or CPU processes with `torchrun --nproc_per_node N -m course_utils sensorium train`.
#
# ## Next
#
# The {doc}`workshop's mini-competition <../workshop>` starts from this chapter's baseline: teams improve it and
# submit predictions written with `write_submission`, as here.
