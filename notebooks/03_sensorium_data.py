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
# # 3. Sensorium 2023: mouse visual cortex watching videos
#
# **Goals:** know what the Sensorium 2023 competition recorded and asked for; read a mouse folder in the
# competition's layout; find a trial's true length from its NaN padding; understand the tiers (train, oracle,
# the withheld test tiers) and the repeats that share a `condition_hash`; use the statistics shipped with each
# mouse to normalise.
# **Time:** ~45 min. **Prerequisites:** chapter 0 (setup and data); NumPy arrays.
# **Data:** Sensorium 2023 {cite:p}`turishcheva2023sensorium` (demo: two simulated mice in the real layout;
# sample: one real mouse archive from GIN).
#
# **Builds on:** the data modes of {doc}`chapter 0 <00_setup_and_data>`; and as in one Allen session of
# {doc}`chapter 2 <02_allen_loading>`, a Sensorium trial records behaviour (running, pupil) beside the rest,
# here resampled to the video's frames.
#
# In the Sensorium 2023 competition, ten mice watched natural videos while two-photon
# {term}`calcium imaging <Calcium imaging>` recorded about 8,000 neurons each in primary visual cortex
# ({term}`V1`). Calcium traces were {term}`deconvolved <Deconvolution>` into non-negative activity, resampled to
# the video's 30 Hz, and shipped with the mouse's pupil size, running speed and eye position. Participants trained models on the training trials and submitted predicted responses for test
# videos whose responses were withheld. This chapter is about the data; chapter 9 trains a model and submits.
#
# ```{admonition} For maintainers: what changed in this edition, and why
# :class: dropdown
# Checked against the real release, the starter kit and the winners' code, the data have conventions an earlier
# version of this chapter (and of its demo) missed: `trial_idx` holds strings or is absent, repeats of one clip
# can differ by a frame or two, responses are very sparse, only the first 300 frames of a trial count, and the
# statistics may carry a frame axis. The demo mice now follow the real release in each of these (the two demo
# mice differ where real mice differ), and the reader accepts both forms, so what you learn here holds on a real
# mouse. Each point is shown where it comes up below.
# ```
#
# ```{admonition} Demo vs real
# :class: tip
# **Demo.** The two demo mice watch **filtered noise with moving edges**, not natural videos (the bonus tiers
# show drifting gratings and static images). Their neurons are a model population *built in* by the
# simulator: Gabor receptive fields placed by cortical position (retinotopy), a temporal kernel, a gain that
# follows running and pupil size, sparse Poisson events. What this chapter finds in them (repeats that line up,
# a gain with running, sparse responses) is what the simulator put there. **Real.** A real mouse has
# 7,440-8,285 neurons, 711-740 trials of about 300 frames, 5-10 repeats per test clip and about 10 GB of
# arrays; its responses are as sparse (median about 1e-6, mean about 1, maximum 50-190), and models predict
# them far less well than they predict the demo's. Figures drawn from demo data say "(demo)" in their title.
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
from course_utils.plotting import demo_suffix, plot_sensorium_trial, use_course_style
from course_utils.sensorium import SCORED_FRAMES, list_mice, read_mouse, trial_length

use_course_style()
course_utils.banner("sensorium2023")

# %% [markdown]
# ## 3.1 One folder per mouse
#
# The competition distributes one zip archive per mouse, named `dynamic<animal>-<session>-<scan>-Video-<hash>`.
# Unzipped, it holds `data/` with **one `.npy` file per trial and kind** and `meta/` with the tables that
# describe the trials and the neurons. `get_source` returns the folder holding the mice (in demo mode, two
# simulated mice written in exactly this layout, plus a folder with the simulator's ground truth that real data
# do not have).

# %%
root = get_source("sensorium2023")
mice_folders = list_mice(root)
[folder.name for folder in mice_folders]

# %% [markdown]
# The layout of the first mouse: every folder, the first two files of each `data/` folder (there is one per
# trial), and everything in `meta/`:

# %%
folder = mice_folders[0]
listing = [path.relative_to(folder) for path in sorted(folder.rglob("*"))
           if path.is_dir() or path.name in {"0.npy", "1.npy"} or "meta" in path.relative_to(folder).parts]
print(*listing, sep="\n")

# %% tags=["remove-cell"]
# Guards the text above: the listing shows both data/ and meta/.
assert {"data", "meta"} <= {p.parts[0] for p in listing}, listing

# %% [markdown]
# `course_utils.sensorium.read_mouse` reads the tables at once and the trial arrays on demand (a real mouse
# has about 700 trials and 10 GB of arrays; recently used trials are kept in memory up to 1 GB). The folder's
# name is the mouse's name in a submission.

# %%
mouse = read_mouse(folder)
print(mouse.name)
print(f"{mouse.n_trials} trials, {mouse.n_neurons} neurons")

# %% [markdown]
# The trials are the files `0.npy`, `1.npy`, ... and the file number is how everything refers to a trial
# (tiers, hashes, a submission's `trial_indices`). `meta/trials/trial_idx.npy` is *not* needed: in the
# competition it holds hashed recording ids (strings; image trials look like `"a--b"`), and the earlier mice
# do not have it at all. The reader gives it as stored, or `None`; the files are shuffled, so the order in which
# trials were recorded is unknown unless `trial_idx` holds plain numbers.

# %%
for other in mice_folders:
    m = read_mouse(other)
    if m.trial_idx is None:
        shown = "absent"
    else:
        pairs = [t for t in m.trial_idx.tolist() if "--" in str(t)]
        shown = f"{m.trial_idx.tolist()[:3]} ..., {len(pairs)} of the form 'a--b' (e.g. {pairs[:1]})"
    print(f"{m.name[:14]}: trial_idx {shown}; recording order known: {m.has_recording_order}")

# %% [markdown]
# ## 3.2 One trial: video, responses, behaviour
#
# | file | shape | what |
# |---|---|---|
# | `data/videos/<i>.npy` | (36, 64, T) | grey-level video frames (height, width, **time last**) |
# | `data/responses/<i>.npy` | (neurons, T) | deconvolved activity, one row per neuron |
# | `data/behavior/<i>.npy` | (2, T) | pupil dilation and running speed |
# | `data/pupil_center/<i>.npy` | (2, T) | eye position (x, y) |
#
# Every trial is stored with the same number of frames (about 300 in the real data): a shorter trial is
# **padded with NaN** after its end. Its true length is the index of the first NaN in one pixel's time course,
# `video[0, 0, :]`. Only the first 300 frames of a trial (`SCORED_FRAMES`) count in the competition.

# %%
trial = int(mouse.trials("train")[0])
arrays = mouse.load_trial(trial, trim=False)
{kind: array.shape for kind, array in arrays.items()}

# %%
video = arrays["videos"]
n_frames = trial_length(video)
print(f"trial {trial}: {n_frames} frames of {video.shape[-1]} stored ({n_frames / 30:.1f} s at 30 Hz); "
      f"scored: the first {min(n_frames, SCORED_FRAMES)}")

# %% [markdown]
# ### What one trial holds
#
# `plot_sensorium_trial` shows everything the four files of one trial hold, on one time axis in seconds (the
# padding cut): four frames of the video, the behaviour (pupil dilation and running speed), the eye position,
# and the activity of the five most active neurons.

# %%
fig, axes = plot_sensorium_trial(mouse, trial, n_neurons=5)
plt.show()

# %% [markdown]
# Frames are small (36 x 64 pixels, downsampled from the monitor) and grey: what matters to V1 neurons are
# edges, textures and motion. (In demo mode these are filtered noise with moving edges; a real mouse's clips
# are natural movies.) Now the responses of all neurons in the same trial:

# %%
trimmed = mouse.load_trial(trial)  # padding removed
fig, ax_r = plt.subplots(figsize=(8, 3.2))
image = ax_r.imshow(trimmed["responses"], aspect="auto", cmap="magma", extent=[0, n_frames / 30, mouse.n_neurons, 0],
                    vmax=np.percentile(trimmed["responses"], 99))
ax_r.set(xlabel="time (s)", ylabel="neuron", title=f"Trial {trial}: responses of {mouse.n_neurons} neurons"
         + demo_suffix())
fig.colorbar(image, ax=ax_r, label="activity (a.u.)")
plt.show()

# %% [markdown]
# Responses are non-negative (deconvolved calcium, not spike counts), neurons differ several-fold in how
# active they are, each one fluctuates with the video, and the behaviour traces are slow. Running and pupil
# dilation change how strongly neurons respond: a model that ignores them leaves that variance unexplained.
#
# Deconvolved activity is **sparse**: most frames hold almost nothing, a few hold large events. In a real mouse
# the median response is about 1e-6 while the mean is about 1; the demo is built the same way. A mean or a
# squared error is dominated by the rare events, which is one reason the models use a Poisson loss.

# %%
train_values = np.concatenate([mouse.load("responses", t, trim=True) for t in mouse.trials("train")], axis=1)
median, mean = float(np.median(train_values)), float(train_values.mean())
print(f"training responses: median {median:.1e}, mean {mean:.2f}, max {train_values.max():.0f}, "
      f"{(train_values < 1e-3).mean():.0%} of values below 0.001")

# %% tags=["remove-cell"]
# Guards the text above: the median is far below the mean.
assert median < mean / 100, "the text says the median is far below the mean"

# %%
fig, ax = plt.subplots(figsize=(5, 3))
ax.hist(train_values.ravel(), bins=np.geomspace(1e-8, train_values.max() + 1, 60))
ax.set(xscale="log", yscale="log", xlabel="response (a.u., log scale)", ylabel="frames x neurons",
       title="Sparse activity: a floor of tiny values, rare large events" + demo_suffix())
plt.show()

# %% [markdown]
# ### Exercise 3.1 — True trial length
# Write `true_length(video)` returning the number of valid frames of a video of shape (height, width, frames):
# the index of the first NaN in `video[0, 0, :]`, or all the frames if there is none.

# %% tags=["solution"]
def true_length(video):
    nan = np.isnan(video[0, 0, :])
    return int(np.argmax(nan)) if nan.any() else int(video.shape[-1])


# %%
check_exercise("3.1", true_length)

# %% [markdown]
# ## 3.3 Tiers: what you may train on, and what is withheld
#
# `meta/trials/tiers.npy` says what each trial is for:
#
# * `train`: for training (the competition's validation split is yours to choose);
# * `oracle`: clips shown several times, with responses: the public validation set (the {term}`oracle
#   <Oracle>` tier);
# * `live_test_main`, `final_test_main`: the main track's test trials (live leaderboard and final ranking);
# * `live_test_bonus`, `final_test_bonus`: the bonus track, out-of-distribution stimuli;
# * `none`: trials left out of every split.
#
# The responses of the four test tiers are **withheld**: their files exist, but hold zeros instead of activity.
# A loader must not train or score on them (the course's dataset turns them into NaN).

# %%
tier_table = pd.DataFrame({"tier": mouse.tiers, "frames": mouse.trial_lengths})
summary = tier_table.groupby("tier")["frames"].agg(trials="count", min_frames="min", max_frames="max")
summary

# %%
test_trial = int(mouse.trials("final_test_main")[0])
test_responses = mouse.load("responses", test_trial, trim=True)
print(f"final_test_main trial {test_trial}: responses all zero? {bool(np.all(test_responses == 0))}")

# %% tags=["remove-cell"]
# Guards the text above: the test tiers' responses are withheld (zeros).
assert np.all(test_responses == 0), "the text says the test responses are withheld as zeros"

# %% [markdown]
# ### Exercise 3.2 — Trials per tier
# Build `tier_counts`, a dict mapping every tier name present in `mouse.tiers` to its number of trials.

# %% tags=["solution"]
names, counts = np.unique(mouse.tiers, return_counts=True)
tier_counts = dict(zip(names.tolist(), counts.tolist(), strict=True))

# %%
check_exercise("3.2", tier_counts, mouse.tiers)

# %% [markdown]
# ## 3.4 Repeats share a condition hash
#
# Oracle and test clips were shown several times. `meta/trials/condition_hash.npy` identifies the clip: repeats
# share a hash. Repeats are what make a **noise ceiling** possible (chapter 9): the same video gives different
# responses on each repeat, because of noise and of the animal's changing state.
#
# Repeats need not have the same length: the recording of one repeat can end a frame or two before another's.
# Anything that averages repeats must first align them (at their first frame) and cut them to the shortest; the
# metrics of chapter 9 do that.

# %%
oracle = mouse.trials("oracle")
oracle_hash = mouse.condition_hash[oracle]
first_clip = oracle[oracle_hash == oracle_hash[0]]
lengths = mouse.trial_lengths[first_clip]
print(f"clip {oracle_hash[0]} was shown in trials {first_clip.tolist()}, with {lengths.tolist()} frames")
common = int(lengths.min())
first_video = mouse.load("videos", first_clip[0])[..., :common]
# equal_nan: a NaN (padding) in the same place in both counts as equal; NaN never equals NaN otherwise
same_video = all(np.array_equal(first_video, mouse.load("videos", t)[..., :common], equal_nan=True) for t in first_clip)
print(f"identical videos over their common {common} frames: {same_video}")
spread = [int(np.ptp(mouse.trial_lengths[mouse.condition_hash == h])) for h in np.unique(oracle_hash)]
print(f"length differences between repeats, per oracle clip: {spread} frames")

# %% tags=["remove-cell"]
# Guards the text above: repeats show the same video; their lengths differ by a frame or two at most.
assert same_video, "the repeats of a clip should show the same video over their common frames"
assert max(spread) <= 2, spread

# %%
neuron = int(np.argmax([mouse.load("responses", t, trim=True).mean(axis=1) for t in first_clip][0]))
fig, ax = plt.subplots()
for t in first_clip:
    r = mouse.load("responses", t, trim=True)[neuron]
    ax.plot(np.arange(len(r)) / 30, r, lw=1, label=f"trial {t} (running {mouse.load('behavior', t, trim=True)[1].mean():.0f})")
ax.set(xlabel="time (s)", ylabel="activity (a.u.)",
       title=f"Neuron {mouse.unit_ids[neuron]}: repeats of one clip" + demo_suffix())
ax.legend()
plt.show()

# %% tags=["remove-cell"]
# Guards the text below: in the demo the repeats' time courses line up (they correlate over their common frames).
repeat_traces = np.array([mouse.load("responses", t, trim=True)[neuron, :common] for t in first_clip])
repeat_corr = np.corrcoef(repeat_traces)[np.triu_indices(len(first_clip), 1)]
if course_utils.data.data_mode() == "demo":
    assert repeat_corr.mean() > 0.3, repeat_corr

# %% [markdown]
# In the demo the peaks line up across repeats (they are driven by the video; in a real mouse only the reliable
# neurons show it this clearly) but their heights differ: trial-to-trial
# noise, and a gain that follows running speed (the legend gives the mean speed of each repeat; in the demo
# that gain is built into the simulator, in real mice it is a finding {cite:p}`turishcheva2023sensorium`).

# %% [markdown]
# ### Exercise 3.3 — Repeats in the oracle tier
# How many distinct clips does the oracle tier hold (`n_clips`), and how many times was each shown
# (`repeats_per_clip`, an array with one count per clip)?

# %% tags=["solution"]
_, repeats_per_clip = np.unique(mouse.condition_hash[mouse.trials("oracle")], return_counts=True)
n_clips = len(repeats_per_clip)

# %%
check_exercise("3.3", n_clips, repeats_per_clip, mouse.condition_hash[mouse.trials("oracle")])

# %% [markdown]
# ## 3.5 Neurons and where they are
#
# `meta/neurons/unit_ids.npy` holds each neuron's id (the order of the rows of `responses`, and what a
# submission lists as `neuron_ids`); `cell_motor_coordinates.npy` their positions in the imaged volume, as
# whole micrometres relative to the microscope's reference point (so negative values are normal).
# Neighbouring neurons in V1 see neighbouring parts of the visual field ({term}`retinotopy <Retinotopy>`;
# the demo simulator builds it in): chapter 9 uses this to check what a trained model learnt.

# %%
xyz = mouse.cell_motor_coordinates_um
fig, ax = plt.subplots(figsize=(4.5, 4))
points = ax.scatter(xyz[:, 0], xyz[:, 1], c=xyz[:, 2], s=12, cmap="viridis")
fig.colorbar(points, label="depth z (µm)")
ax.set(xlabel="x (µm)", ylabel="y (µm)", title=f"{mouse.n_neurons} neurons of the imaged field" + demo_suffix(),
       aspect="equal")
plt.show()

# %% [markdown]
# ## 3.6 The statistics shipped with each mouse
#
# `meta/statistics/<kind>/all/{min,max,mean,median,std}.npy` hold statistics of each kind: one number for the
# videos, one per neuron for the responses, one per channel for behaviour and pupil centre. The starter kit
# normalises with them: videos to zero mean and unit std, **responses divided by their std only** (they stay
# non-negative, as a Poisson model needs; a neuron whose std is below 1 % of the mean std is divided by that
# floor instead), behaviour divided by its std.
#
# The references disagree on one point: in some, these statistics carry an extra **frame axis** (computed over
# trials separately for each frame slot), in others not. The reader accepts both and reduces the frame axis
# only when asked, explicitly: `frame_reduction="pool"` (the default) pools the frame slots into one value per
# neuron (for the std: the pooled standard deviation, from the per-frame means and stds); `"none"` returns what
# the file holds. The two demo mice ship one form each.

# %%
for other in mice_folders:
    m = read_mouse(other)
    stored = m.statistics("responses", frame_reduction="none")["std"].shape
    print(f"{m.name[:14]}: std.npy stored as {stored}, pooled to {m.statistics('responses')['std'].shape}")

# %%
stats = mouse.statistics("responses")
print({name: value.shape for name, value in stats.items()})
train_responses = train_values  # the training trials, concatenated above
recomputed = train_responses.std(axis=1)
released_vs_train = float(np.median(np.abs(recomputed - stats["std"]) / recomputed))
print(f"released std vs. the training trials' std: median relative difference {released_vs_train:.1%}")

# %% tags=["remove-cell"]
# Guards the text below: in the demo the released statistics are (close to) those of the training trials.
if course_utils.data.data_mode() == "demo":
    assert released_vs_train < 0.1, released_vs_train

# %%
sparseness = stats["std"] / stats["mean"]  # a neuron's std relative to its mean
fig, ax = plt.subplots(figsize=(5, 3.5))
points = ax.scatter(stats["mean"], stats["std"], c=sparseness, s=10, cmap="viridis")
fig.colorbar(points, label="std / mean")
ax.set(xlabel="mean activity (a.u.)", ylabel="std (a.u.)", title="Per-neuron statistics" + demo_suffix())
plt.show()

# %% tags=["remove-cell"]
# Guards the text below: std grows with the mean, neurons differ several-fold in scale, and (demo) the spread
# around the line follows how rarely a neuron fires (its simulated baseline event rate).
assert np.corrcoef(stats["mean"], stats["std"])[0, 1] > 0.9
assert stats["std"].max() > 4 * stats["std"].min()
try:
    from course_utils.sensorium.simulate import load_ground_truth

    baseline = load_ground_truth(root, mouse.name)["baseline"]
except FileNotFoundError:  # real mice have no ground truth
    baseline = None
if baseline is not None:
    assert np.corrcoef(sparseness, baseline)[0, 1] < -0.5

# %% [markdown]
# Neurons differ several-fold in scale: without normalisation a model's loss is dominated by the most active
# ones. The points do not lie on one line: they fan out, as if in two branches, because the ratio of std to
# mean (the colour) differs between neurons. For sparse activity that ratio is set by how *often* a neuron has
# an event, not how large its events are: a neuron that fires rarely has a larger std for the same mean. In the
# demo the ratio follows each neuron's simulated baseline event rate (the simulator's ground truth, checked
# when this chapter runs); there are no two kinds of neuron behind the two apparent branches. (In the demo the statistics are those of the training trials, as the recomputation shows; pooling
# per-frame statistics is close to, not exactly, the statistic over all frames, because late frame slots pool
# fewer trials.)

# %% [markdown]
# ### Exercise 3.4 — Normalise responses like the starter kit
# Write `normalise(responses, std)` that takes responses (neurons, frames) and the per-neuron std and returns
# the normalised responses.

# %% tags=["solution"]
def normalise(responses, std):
    return responses / std[:, None]


# %%
check_exercise("3.4", normalise)

# %% [markdown]
# ## Summary
#
# * A Sensorium mouse is a folder: `data/<kind>/<i>.npy` per trial, `meta/` for neurons, trials and statistics;
#   the file number identifies a trial (`trial_idx` may be hashed strings, or absent).
# * Videos are (36, 64, T) with time last; trials are NaN-padded, the true length is the first NaN of
#   `video[0, 0, :]`; only the first 300 frames count.
# * Tiers split the trials; the four test tiers have their responses withheld (zeros), `oracle` is the public
#   validation set, and repeats of a clip share a `condition_hash` (and may differ by a frame or two).
# * Responses are sparse and are normalised by their std only, with the statistics shipped in
#   `meta/statistics` (a frame axis, if present, is reduced explicitly).
#
# Chapter 9 trains an encoding model on these folders, scores it the competition's way against a noise ceiling,
# and writes a submission that passes the validator.
#
# ## Further reading
#
# * The competition's white paper {cite:p}`turishcheva2023sensorium` and its retrospective
#   {cite:p}`turishcheva2024retrospective` (the winning models and what they learnt).
# * The static-image predecessor and its data format, whose conventions (tiers, oracle repeats, statistics) the
#   2023 data keep: {cite:p}`willeke2022sensorium`.
#
# ## Next
#
# {doc}`Chapter 4 <04_experanto_chunks>` converts these mouse folders into experiment folders whose signals keep
# their own clocks, and cuts training chunks from them. It is optional in a first pass:
# {doc}`chapter 9 <09_sensorium_encoding_and_submission>` trains on the folders of this chapter directly.
