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
# # 4. Experiment folders: clocks, interpolation and chunked datasets
# **Goals:** understand an experiment as a set of signals on *different clocks*; read every modality at common
# times and know exactly which sample you get (floor, nearest, linear, held frames); cut aligned training
# chunks with conditions and NaN filters; feed several sessions to one model; measure a loader's throughput.
# **Time:** ~90 min. **Prerequisites:** chapter 3 (Sensorium 2023 data), basic PyTorch (`Dataset`,
# `DataLoader`). **Data:** Experanto experiment folders {cite}`experanto` (demo: the Sensorium demo mice
# {cite}`turishcheva2023sensorium` converted to experiment folders, plus a simulated experiment with images,
# videos, blanks and NaN stretches; sample: the Sensorium sample mouse, converted).
#
# **Builds on:** the mouse folders and the reader of {doc}`chapter 3 <03_sensorium_data>`: the experiment
# folders here are those mice, converted, plus one simulated experiment.
#
# **Optional in a first pass:** no later chapter needs this one (chapter 9 trains on the Sensorium folders of
# chapter 3 directly). Come here when you will train on raw recordings whose signals run on their own clocks.
#
# ```{admonition} Demo vs real
# :class: tip
# **Demo.** The `mixed` experiment is simulated: its neurons respond to the screen's luminance with a
# latency of 100 ms *built in*, the eye tracker has blinks (NaN stretches) placed by the simulator, and its
# tiers (`train`, `validation`, `test`) are the simulator's. Measuring that latency below checks the
# interpolation code, not the brain. The converted mice are the Sensorium demo mice of chapter 3 (filtered-noise
# videos). **Real.** A real experiment folder comes from a real Sensorium mouse (about 8,000 neurons, 711-740
# trials of about 300 frames, tiers `train`, `oracle`, the test tiers and `none`), converted the same way; real
# calcium responses lag the stimulus too, but by an amount the recording, not a parameter, sets. Exercises use
# only what a converted real mouse has. Figures drawn from demo data say "(demo)" in their title.
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
import course_utils
from course_utils.data import get_source
from course_utils.exercises import check_exercise
from course_utils.plotting import demo_suffix, plot_experiment_modalities, use_course_style

use_course_style()
course_utils.banner("experanto")

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from course_utils.experanto import (
    DEFAULT_MODALITY_CONFIG,
    ChunkDataset,
    Experiment,
    SequenceInterpolator,
    experiment_folders,
    get_multisession_dataloader,
    load_trial_table,
)

torch.manual_seed(0)
folders = experiment_folders()  # demo: get_source("experanto"); sample/full: converted Sensorium mice
list(folders)

# %% [markdown]
# ## 4.1 What an experiment is
# In chapter 3 a recording was cut into **trials**: one array per trial, every signal resampled to the video's
# 30 Hz frames. The lab's raw data do not look like that. The screen, the two-photon scanner, the eye camera and
# the treadmill encoder each run on **their own clock and sampling rate**, and they record continuously, also
# between trials. The Experanto layout keeps exactly that: one folder per experiment, one subfolder per
# *modality*, and only the screen knows about trials.
#
# ```
# mixed/
#   screen/      timestamps.npy (one time per stored frame), meta/<trial>.yml, data/<trial>.npy
#   responses/   meta.yml (sampling_rate, start_time, end_time, ...), data.mem (time x neurons), meta/means.npy ...
#   eye_tracker/ treadmill/   the same layout as responses
# ```
#
# Two conventions of this layout matter below. A **video** stores one frame and one timestamp per displayed
# frame, but an **image, blank or invalid** trial stores a single frame and a single timestamp, its onset: it
# stays on screen until the next trial's first timestamp. And a sequence's `end_time` is the time of its *last
# sample*; every modality covers a closed range `[start, end]`. These are upstream Experanto's own conventions
# (read from its test-data writers); the course writes and reads them exactly, so folders move both ways
# between the course and upstream.
#
# The `mixed` demo experiment shows images, videos and grey blanks in a random order; the other folders are
# the Sensorium demo mice converted with `convert_sensorium_mouse`. `Experiment` opens a folder and lists its
# modalities with their rates and the time range that all of them cover.

# %%
mixed = folders.get("mixed", next(iter(folders.values())))  # in sample mode: the first converted mouse
experiment = Experiment(mixed)
experiment

# %% [markdown]
# ### What one experiment holds
#
# `plot_experiment_modalities` draws a few seconds of every modality on one time axis, each sample where its
# own clock put it and nothing interpolated: the screen's mean pixel value at each stored frame (a step: a
# frame stays on until the next one), and the first signals of each sequence modality, with its sampling rate
# at the top right.

# %%
fig, axes = plot_experiment_modalities(experiment, duration_s=4.0)
plt.show()

# %% [markdown]
# Each sequence modality describes its clock in a small `meta.yml`; the screen has one YAML file per trial.
# Parsing thousands of those files is what made upstream's start-up slow, so the course reads them once and
# caches the table **outside** the data folder (data folders are often read-only).

# %%
print((mixed / "responses" / "meta.yml").read_text())
print(load_trial_table(mixed / "screen").columns.tolist())  # every key of the trial files
trials = experiment.devices["screen"].trials  # the same table, num_frames = stored frames per trial
trials[["stem", "modality", "tier", "first_frame_idx", "num_frames"]].head(8)

# %% [markdown]
# The other folders hold the Sensorium mice of chapter 3, converted by `convert_sensorium_mouse`, which reads
# them with chapter 3's reader (`course_utils.sensorium.read_mouse`: one reader of that format): trials laid end
# to end in recording order, 0.5 s of grey screen between them (one blank trial; the sequences are NaN there,
# since nothing was recorded), and each trial's Sensorium file number kept in its YAML. Same recordings, either
# way: reading the converted folder at a trial's frame times returns exactly the frames of the Sensorium file.

# %%
mouse_name = next(name for name in folders if name != "mixed")
converted = Experiment(folders[mouse_name])
row = converted.devices["screen"].trials.query("modality == 'video'").iloc[0]
video = np.load(get_source("sensorium2023") / mouse_name / "data" / "videos" / f"{int(row['sensorium_file'])}.npy")
frame_times = converted.devices["screen"].timestamps[row["first_frame_idx"] + np.arange(3)]
values, _ = converted.interpolate(frame_times, ["screen"])
same_frames = np.array_equal(values["screen"], np.moveaxis(video[:, :, :3], -1, 0))
print("the converted folder returns the Sensorium file's frames:", same_frames)

# %% tags=["remove-cell"]
# Guards the text above: reading the converted folder at a trial's frame times gives exactly its frames.
assert same_frames

# %% [markdown]
# ## 4.2 Clocks and sampling rates
# Below are the sample times of every modality in the same second. The screen stores a timestamp for each
# video frame (30 Hz with a little jitter) and only the onset of an image or blank; the treadmill ticks at
# 100 Hz, the eye tracker at 20 Hz and the responses at 7.5 Hz, and each neuron's samples are shifted by its
# own **phase shift**: a two-photon microscope scans the field of view line by line, so neurons lower in the
# frame are sampled later.

# %%
window = (30.0, 31.0)
fig, ax = plt.subplots(figsize=(7, 2.8))
rows = {}
for name, device in experiment.devices.items():
    if name == "screen":
        rows[name] = device.timestamps
    else:
        rows[name] = device.start_time + np.arange(device.n_timestamps) / device.sampling_rate
shifts = experiment.devices["responses"].phase_shifts
shifts = np.zeros(3) if shifts is None else shifts[:: max(len(shifts) // 3, 1)][:3]
rows["responses (3 neurons)"] = np.concatenate([rows["responses"] + s for s in shifts])
del rows["responses"]
for i, t in enumerate(rows.values()):
    t = t[(t >= window[0]) & (t < window[1])]
    ax.plot(t, np.full_like(t, i), "|", markersize=14)
ax.set_yticks(range(len(rows)), list(rows))
ax.set(xlabel="time (s)", title="Every modality samples on its own clock" + demo_suffix())
plt.show()

# %% [markdown]
# So "the treadmill speed during frame 812" is not a lookup: it is a question about a *time*, and the answer
# depends on how you read a signal between its samples.

# %% [markdown]
# ## 4.3 Interpolation and its pitfalls
# `Experiment.interpolate(times)` answers "what were all modalities at these times?". For sequences there are
# two modes:
#
# * `"nearest_neighbor"` (upstream's name) is in fact the **previous sample** (floor): at time *t* you get
#   sample `floor((t - start_time) * sampling_rate)`. Truly rounding to the nearest sample would, in the second
#   half of each sample interval, return a sample recorded **after** *t*. Fed to a model that should predict
#   responses from the past, that leaks up to half a sample of the future. Here the floor is the default and
#   `rounding="nearest"` exists only to show the difference.
# * `"linear"` blends the two neighbouring samples. (Upstream's version ignored `start_time` in the weights
#   until 2026; the course computes them from the true sample times.)
#
# The screen holds each frame until the next one: frame `searchsorted(timestamps, t + 1e-4) - 1`. Ranges are
# closed: a time equal to a modality's last sample still reads that sample; a later time is outside.

# %%
times = np.linspace(40.0, 41.0, 400)
fig, ax = plt.subplots()
for mode, rounding in [("nearest_neighbor", "floor"), ("nearest_neighbor", "nearest"), ("linear", "floor")]:
    device = SequenceInterpolator(mixed / "eye_tracker", interpolation_mode=mode, rounding=rounding)
    values, valid = device.interpolate(times)
    ax.plot(times[valid], values[:, 0], label=f"{mode} ({rounding})" if mode != "linear" else "linear")
samples = device.start_time + np.arange(device.n_timestamps) / device.sampling_rate
keep = (samples >= 40) & (samples < 41)
ax.plot(samples[keep], device.data[keep, 0], "ko", label="recorded samples")
ax.set(xlabel="time (s)", ylabel="pupil dilation (a.u.)", title="Three ways to read a 20 Hz signal" + demo_suffix())
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The floor curve steps *after* each recorded sample; the rounded one steps half a sample *before* it, i.e. it
# shows the pupil before the camera saw it.
#
# **NaNs.** The eye tracker loses the pupil during blinks and stores NaN. Linear interpolation spreads a NaN to
# every time whose neighbours include it, and floor interpolation holds it for a whole sample interval. The
# dataset below removes chunks that touch a NaN (the *NaN filter*), so it must know how long each NaN is held:
# the course masks the whole interval the NaN is read from (upstream's narrower mask is fix 3 of the
# maintainers' note in section 4.4).

# %%
eye = experiment.devices["eye_tracker"]
blink = np.flatnonzero(np.isnan(eye.data[:, 0]))[0]
t_blink = eye.start_time + blink / eye.sampling_rate
times = np.linspace(t_blink - 0.5, t_blink + 0.8, 300)
fig, ax = plt.subplots()
for mode in ["nearest_neighbor", "linear"]:
    values, valid = SequenceInterpolator(mixed / "eye_tracker", interpolation_mode=mode).interpolate(times)
    ax.plot(times[valid], values[:, 0], label=mode)
ax.axvspan(t_blink, t_blink + 6 / eye.sampling_rate, color="grey", alpha=0.2, label="blink (NaN samples)")
ax.set(xlabel="time (s)", ylabel="pupil dilation (a.u.)", title="A blink: NaN samples make gaps, not zeros" + demo_suffix())
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ### Exercise 4.1 — Which sample does floor interpolation read?
# Write `floor_sample_index(times, start_time, sampling_rate)` returning, for each time (s), the integer index
# of the sample that `"nearest_neighbor"` interpolation reads (ignore phase shifts and the range check).

# %% tags=["solution"]
def floor_sample_index(times, start_time, sampling_rate):
    """Index of the latest sample at or before each time."""
    return np.floor((np.asarray(times) - start_time) * sampling_rate + 1e-9).astype(int)


# %%
check_exercise("4.1", floor_sample_index)

# %% [markdown]
# **Offsets between modalities.** A neuron in V1 responds to a stimulus some 50-100 ms after it appears, and
# calcium indicators add more delay. Responses at time *t* therefore describe the screen at *t - latency*. Let us
# measure it: correlate each neuron's response with the screen's mean luminance shifted by a lag, and average
# the strength of that correlation over neurons.

# %%
grid = np.arange(experiment.start_time + 1, experiment.end_time - 1, 1 / 30)
lags = np.arange(0, 0.5, 1 / 30)
screen_values, _ = experiment.interpolate(grid, ["screen"])
luminance = screen_values["screen"].mean(axis=(1, 2))


def response_lag_correlation(lag_s):
    values, _ = experiment.interpolate(grid + lag_s, ["responses"])
    r = [np.corrcoef(luminance, v)[0, 1] for v in values["responses"].T]
    return np.nanmean(np.abs(r))


corr = np.array([response_lag_correlation(lag) for lag in lags])
fig, ax = plt.subplots()
ax.plot(lags * 1000, corr, "o-")
ax.set(xlabel="responses read this long after the screen (ms)", ylabel="mean |correlation|",
       title="Responses follow the screen with a delay" + demo_suffix())
plt.show()

# %% tags=["remove-cell"]
# Guards the text below: in the simulated `mixed` experiment the correlation peaks 100-200 ms after the screen.
if "mixed" in folders:
    peak_ms = 1000 * lags[np.argmax(corr)]
    assert 100 <= peak_ms <= 200, f"the text says the peak is at 100-200 ms; it is at {peak_ms:.0f} ms"

# %% [markdown]
# The correlation peaks some 100-200 ms after the screen: the simulated neurons have a 100 ms latency, and
# floor interpolation of a 7.5 Hz signal adds, on average, half a sample (67 ms). That is why configurations
# read the responses with an **offset** (upstream's example uses 0.1 s): the chunk of responses starts a little
# after the chunk of frames that caused it.

# %% [markdown]
# ### Exercise 4.2 — Visual latency from the data
# Using `lags` and `corr` from the cell above, find the lag (in seconds) at which the correlation is largest.
# The check compares your lag with the peak of this very curve.

# %% tags=["solution"]
best_lag_s = float(lags[np.argmax(corr)])

# %%
check_exercise("4.2", best_lag_s, lags, corr)

# %% [markdown]
# ## 4.4 Chunks with conditions
# A model trains on **chunks**: for a start time *s*, every modality is read at
# `s + offset + arange(chunk_size) / sampling_rate` (times rounded to 10 µs so sessions never drift apart).
# `ChunkDataset` keeps a start *s* only if
#
# 1. it lies on the screen's 30 Hz grid, and the **whole** screen chunk stays at least
#    `safe_interval_threshold` (0.5 s) inside the range every modality covers; each other modality's chunk
#    stays inside its own range;
# 2. every frame of the chunk belongs to a trial matching `valid_condition`: a list of dicts, **OR** across
#    dicts and **AND** within one (`include_blanks` adds `{"tier": "blank"}`);
# 3. no modality with a NaN filter reads a NaN sample.
#
# The default configuration is upstream's: 60 frames at 30 Hz rescaled to 144×256, 16 response bins at 8 Hz,
# and 60 samples of eye tracker and treadmill. The rescale is OpenCV's *area* interpolation, as upstream's:
# enlarging 36×64 frames by exactly 4 makes each pixel a 4×4 block (no blending at all). Timestamps come back
# relative to the responses' start time, as float32, as upstream returns them.

# %%
dataset = ChunkDataset(mixed, modality_config=DEFAULT_MODALITY_CONFIG, seed=0)
sample = dataset[0]
print(len(dataset), "chunks")
{k: tuple(v.shape) for k, v in sample.items() if k != "timestamps"}

# %% [markdown]
# Where do the valid chunks come from? Below, each trial of the first minute is a coloured bar by tier, and each
# valid chunk start is a tick. Chunks need 2 s of train or blank frames in a row, so short train stretches
# between test trials give none, and the filter removes starts near the blink.

# %%
colors = {"train": "tab:green", "validation": "tab:blue", "test": "tab:orange", "blank": "lightgrey",
          "invalid": "tab:red"}
screen = experiment.devices["screen"]
fig, ax = plt.subplots(figsize=(7, 2.4))
onsets = screen.timestamps[trials["first_frame_idx"].to_numpy()]
ends = np.r_[onsets[1:], screen.timestamps[-1]]  # a trial lasts until the next one's onset
for (_, trial), t0, t1 in zip(trials.iterrows(), onsets, ends, strict=True):
    ax.barh(1, t1 - t0, left=t0, color=colors.get(trial["tier"], "tab:purple"), height=0.6)
starts = dataset.valid_times
ax.plot(starts, np.zeros_like(starts), "|k", markersize=10)
ax.set(xlim=(experiment.start_time, experiment.start_time + 60), ylim=(-0.5, 1.5), yticks=[0, 1],
       yticklabels=["valid starts", "trials"], xlabel="time (s)",
       title="Valid chunk starts: train or blank frames for 2 s, no NaN" + demo_suffix())
ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=c) for c in colors.values()], labels=list(colors),
          fontsize=7, ncol=5, loc="upper right", bbox_to_anchor=(1, 1.35))
plt.show()

# %% [markdown]
# Conditions change the count a lot. Here are a few variants of the screen's settings (the other modalities
# keep the defaults).

# %%
def count_chunks(**screen_settings):
    config = {**DEFAULT_MODALITY_CONFIG, "screen": {**DEFAULT_MODALITY_CONFIG["screen"], **screen_settings}}
    try:
        return len(ChunkDataset(mixed, modality_config=config, seed=0))
    except ValueError:  # no valid chunk at all
        return 0


chunk_counts = {
    "train + blanks (default)": count_chunks(),
    "train only": count_chunks(include_blanks=False),
    "train images only": count_chunks(include_blanks=False, valid_condition={"tier": "train", "stim_type": "image"}),
    "train OR test, no blanks": count_chunks(include_blanks=False, valid_condition=[{"tier": "train"}, {"tier": "test"}]),
    "every 4th start": count_chunks(sample_stride=4),
}
chunk_counts

# %% tags=["remove-cell"]
# Guards the text below: no chunk comes only from train images (in the simulated `mixed` experiment).
if "mixed" in folders:
    assert chunk_counts["train images only"] == 0, chunk_counts

# %% [markdown]
# No chunk comes only from train images: each image is shown for 0.5 s, shorter than a 2 s chunk. Conditions
# and chunk length interact; when nothing qualifies, `ChunkDataset` raises an error that says which knobs to turn.

# %% [markdown]
# ### Exercise 4.3 — Chunks from train or oracle videos
# Work on the converted mouse `folders[mouse_name]` (a real mouse converted the same way has the same tiers).
# Build `config`, a modality configuration like `DEFAULT_MODALITY_CONFIG` whose screen gives 30 frames at 30 Hz
# and only accepts chunks made entirely of **video** trials of the **train or oracle** tier (no blanks). The
# check builds the reference configuration and compares the chunk starts both give on the same folder.

# %% tags=["solution"]
config = {
    **DEFAULT_MODALITY_CONFIG,
    "screen": {
        **DEFAULT_MODALITY_CONFIG["screen"],
        "chunk_size": 30,
        "sampling_rate": 30,
        "include_blanks": False,
        "valid_condition": [{"tier": "train", "stim_type": "video"}, {"tier": "oracle", "stim_type": "video"}],
    },
}

# %%
check_exercise("4.3", config, folders[mouse_name])

# %% [markdown]
# One sample, drawn against its own `timestamps`: the frames (six of 60 shown), the responses read 16 times at
# 8 Hz, and the treadmill at 30 Hz. All values are normalised with the folder's statistics ("normalize" is a
# z-score; responses use "normalize_variance_only", a division by the std that keeps zero at zero).

# %%
fig, axes = plt.subplots(1, 6, figsize=(7, 1.2))
for ax, k in zip(axes, range(0, 60, 10), strict=True):
    ax.imshow(sample["screen"][0, k], cmap="gray")
    ax.set(title=f"{sample['timestamps']['screen'][k]:.2f} s", xticks=[], yticks=[])
fig.suptitle("Screen: every 10th frame of the chunk (rescaled to 144 x 256)" + demo_suffix(), y=1.15)
plt.show()
fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(7, 3.6))
t = sample["timestamps"]
ax1.imshow(sample["responses"].T, aspect="auto", extent=[t["responses"][0], t["responses"][-1], 24, 0])
ax1.set(ylabel="neuron", title="Responses (8 Hz) and treadmill (30 Hz) of one chunk" + demo_suffix())
ax2.plot(t["treadmill"], sample["treadmill"][:, 0])
ax2.set(xlabel="time since the responses' start (s)", ylabel="speed (z-score)")
plt.show()

# %% [markdown]
# ### Same samples as upstream, except four deliberate fixes
# The course's `ChunkDataset` gives upstream Experanto's samples: the same starts, frames, values and
# timestamps, bit for bit (`benchmarks/bench_experanto.py --upstream` checks it against upstream itself), except
# in four places where upstream has a defect; the one that changes what you see is its clock drift, measured
# below.
#
# ```{admonition} For maintainers: the four deliberate differences from upstream
# :class: dropdown
# Listed once in the docstring of `course_utils.experanto.dataset`:
#
# 1. **No drift in chunk times.** Upstream adds the frame period rounded to 10 µs (0.03333 s instead of
#    1/30 s) at every step, so slot *k* of a chunk is read *k* × 3.3 µs early. Once that passes the screen's
#    0.1 ms tolerance, a chunk that starts on a frame shows the *previous* frame. The course computes
#    `s + k / rate`.
# 2. **Exact-time floor.** A time exactly on a sample reads that sample; upstream's division by the rounded
#    period sometimes lands a hair below and reads the one before.
# 3. **The NaN filter** masks the whole time a NaN sample is read, on each modality's own chunk times (upstream
#    masked ±0.05 s around the NaN's timestamp on the screen's times only, so an 8 Hz NaN leaked into chunks).
# 4. **Nothing is written into the data folder** (upstream writes its trial cache there; the course caches
#    outside, so read-only data folders work).
# ```
#
# `upstream_clock=True` restores the first two, only to compare with upstream. Here is what fix 1 changes on a
# converted mouse, whose chunks start exactly on frames:

# %%
mouse_dataset = ChunkDataset(folders[mouse_name], seed=0)
upstream_timing = ChunkDataset(folders[mouse_name], seed=0, upstream_clock=True)
picks = np.linspace(0, len(mouse_dataset) - 1, 20).astype(int)
moved = np.array([
    (mouse_dataset[int(i)]["screen"][0, :, 0, 0] != upstream_timing[int(i)]["screen"][0, :, 0, 0]).numpy()
    for i in picks
])
slot_times = upstream_timing.chunk_times(mouse_dataset.valid_times[0], "screen")
drift_ms = (mouse_dataset.chunk_times(mouse_dataset.valid_times[0], "screen") - slot_times) * 1000
print(f"upstream's clock is {drift_ms[-1]:.2f} ms early at the last of 60 slots; it shows the previous frame in "
      f"{moved.mean():.0%} of the slots of {len(picks)} chunks (first from slot {np.argmax(moved.any(axis=0))})")

# %% [markdown]
# Two of upstream's options complete the picture. `keep_nans` (in a modality's `interpolation`) decides what
# linear interpolation does with a NaN: keep it, or (upstream's default, `False`) replace it by the signal's mean
# over the chunk. `add_behavior_as_channels=True` appends eye tracker and treadmill values to the screen as
# extra channels, each copied over the whole frame; upstream deprecated it, and the course supports it with a
# `DeprecationWarning`: a model should take behaviour as its own input, not as 144×256 copies of one number.

# %%
import warnings

behaviour_config = {**DEFAULT_MODALITY_CONFIG,
                    "screen": {**DEFAULT_MODALITY_CONFIG["screen"], "interpolation": {},
                               "transforms": {"normalization": "normalize"}}}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    stacked = ChunkDataset(mixed, modality_config=behaviour_config, seed=0, add_behavior_as_channels=True)[0]
print(tuple(stacked["screen"].shape), "->", caught[0].category.__name__)

# %% [markdown]
# ## 4.5 Several sessions, one model
# A multi-session model shares a **core** across mice and gives each mouse its own **readout** (each has
# different neurons). `get_multisession_dataloader` builds one dataset and DataLoader per experiment and cycles
# through them, yielding `(data_key, batch)`, so the training loop knows which readout to use. To keep this
# chapter fast we skip the rescale (36×64 frames) and use 30 response bins at 30 Hz.

# %%
mice = [path for name, path in folders.items() if name != "mixed"]
fast_config = {
    "screen": {**DEFAULT_MODALITY_CONFIG["screen"], "chunk_size": 30, "interpolation": {},
               "transforms": {"normalization": "normalize"}},
    "responses": {**DEFAULT_MODALITY_CONFIG["responses"], "sampling_rate": 30, "chunk_size": 30, "offset": 0.1},
}
loader = get_multisession_dataloader(
    mice, {"dataset": {"modality_config": fast_config, "seed": 0}, "dataloader": {"batch_size": 16, "shuffle": True}}
)
n_neurons = {key: dl.dataset[0]["responses"].shape[1] for key, dl in loader.loaders.items()}
n_neurons

# %% [markdown]
# The model: a small 3-D convolution over (time, height, width) on 4x-downsampled frames as the shared core,
# averaged over space, and a linear readout per mouse with a softplus (responses are non-negative). The loss is
# the **Poisson loss**, the negative log-likelihood of the responses under Poisson noise with the predicted
# mean: `prediction - response * log(prediction)` averaged over neurons and time (constants dropped). It fits
# non-negative, sparse responses (chapter 3) better than a squared error, which the rare large events would
# dominate; chapter 9 trains its encoding model with it.

# %%
class Core(torch.nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.conv = torch.nn.Sequential(
            torch.nn.AvgPool3d((1, 4, 4)),
            torch.nn.Conv3d(1, channels, (5, 5, 5), padding=(4, 2, 2)), torch.nn.ELU(),
            torch.nn.Conv3d(channels, channels, (3, 3, 3), padding=(2, 1, 1)), torch.nn.ELU(),
        )

    def forward(self, screen):  # (B, 1, T, H, W) -> (B, T, channels), causal in time
        t = screen.shape[2]
        return self.conv(screen)[:, :, :t].mean(dim=(3, 4)).transpose(1, 2)


core = Core()
readouts = torch.nn.ModuleDict({key: torch.nn.Linear(8, n) for key, n in n_neurons.items()})
optimizer = torch.optim.AdamW([*core.parameters(), *readouts.parameters()], lr=3e-3)
losses = []
for _, (key, batch) in tqdm(zip(range(24), loader, strict=False), total=24, desc="training steps"):
    prediction = torch.nn.functional.softplus(readouts[key](core(batch["screen"])))
    loss = torch.nn.functional.poisson_nll_loss(prediction, batch["responses"], log_input=False)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append((key, loss.item()))
print(f"{len(losses)} steps, last loss {losses[-1][1]:.3f}")

# %%
fig, ax = plt.subplots()
for key in n_neurons:
    steps = [i for i, (k, _) in enumerate(losses) if k == key]
    ax.plot(steps, [losses[i][1] for i in steps], "o-", label=key.split("-")[0])
ax.set(xlabel="training step", ylabel="Poisson loss",
       title="Two sessions, alternating batches, one shared core" + demo_suffix())
ax.legend()
plt.show()

# %% tags=["remove-cell"]
# Guards the text below: the batches alternate between the mice, each mouse gets about half of the steps.
keys = [key for key, _ in losses]
assert all(a != b for a, b in zip(keys, keys[1:], strict=False)), keys
assert all(np.isfinite(loss) for _, loss in losses)

# %% [markdown]
# The batches alternate between the mice, and each batch trains the shared core and that mouse's readout. With
# 24 noisy steps (12 per mouse) the curves show that the loop runs, not that the model learns: a few batches
# of 16 chunks are far too few to read a trend from. Chapter 9 trains an encoding model properly, for many
# epochs, and judges it on held-out trials.

# %% [markdown]
# ## 4.6 Measuring loader throughput
# Training on video is often limited by the loader, not the GPU. Measure samples per second with the default
# configuration, in one process. On a shared machine use one torch thread per process (DataLoader workers do
# this automatically); two threads fighting for two busy cores can be several times slower.

# %%
torch.set_num_threads(1)
default_dataset = ChunkDataset(mice[0], seed=0)
order = np.random.default_rng(0).permutation(len(default_dataset))[:40]
start = time.perf_counter()
for i in order:
    default_dataset[int(i)]
rate = len(order) / (time.perf_counter() - start)
print(f"{rate:.0f} samples/s in one process (other programs running on the machine lower this number)")

# %% [markdown]
# Where does the time go? Compare the same loop without the rescale (frames stay 36×64).

# %%
no_resize = {**DEFAULT_MODALITY_CONFIG,
             "screen": {**DEFAULT_MODALITY_CONFIG["screen"], "interpolation": {},
                        "transforms": {"normalization": "normalize"}}}
small_dataset = ChunkDataset(mice[0], modality_config=no_resize, seed=0)
start = time.perf_counter()
for i in order:
    small_dataset[int(i)]
rate_small = len(order) / (time.perf_counter() - start)
print(f"{rate:.0f} samples/s with the rescale, {rate_small:.0f} without: the 144x256 frames take "
      f"{1 - rate / rate_small:.0%} of each sample's time")
fig, ax = plt.subplots(figsize=(5, 2.5))
ax.barh(["rescale to 144x256", "no rescale"], [rate, rate_small])
ax.set(xlabel="samples / s (one process)", title="Loader throughput with and without the rescale" + demo_suffix())
plt.show()

# %% tags=["remove-cell"]
# Guards the text below: the rescaled screen is 60 x 144 x 256 float32 values, 8.8 MB per sample, 16 times the
# 36 x 64 frames. (Timings are printed, never asserted: they depend on the machine and its load.)
rescaled_mb = default_dataset[0]["screen"].numel() * 4 / 1e6
assert round(rescaled_mb, 1) == 8.8 and rescaled_mb == 16 * small_dataset[0]["screen"].numel() * 4 / 1e6

# %% [markdown]
# The measured split is printed above (it depends on the machine and on what else runs on it). Without the
# rescale a sample is reading, interpolating and normalising: one memory-map slice per trial and per
# modality. The rescaled screen is 60 × 144 × 256 float32 values, 8.8 MB written per
# sample, 16 times the small frames. Because
# the 4× area rescale only repeats pixels, the course normalises each small 36×64 pixel (the same values as
# normalising afterwards, as upstream does) and writes it as a 4×4 block in one pass over the output: a small
# kernel compiled with numba (`course_utils.experanto.kernels`) reads each stored pixel once and writes each
# output row once, which NumPy alone cannot do (it needs several passes). Building the first dataset of a
# session loads that kernel, a one-off pause (longer the first time ever, while numba compiles it).
# Upstream resizes frame by frame with OpenCV and normalises the large frames. Where a GPU trains the model,
# load the 36×64 frames and rescale the batch on the GPU. `benchmarks/bench_experanto.py` measures all of it
# (the kernel's one-off pause too), side by side with upstream when given its source (`--upstream`), with 1
# and 2 threads.

# %% [markdown]
# ### Exercise 4.4 — How many megabytes is one sample?
# Compute `sample_mb`, the size in megabytes (1 MB = 10⁶ bytes) of all tensors of `sample` (the default-config
# sample from section 4.4; leave out the `timestamps` dict). Multiply by a loader's samples/s to see how many
# MB/s it must move.

# %% tags=["solution"]
sample_mb = sum(v.numel() * v.element_size() for k, v in sample.items() if k != "timestamps") / 1e6
# The MB/s the loader must move at the rate measured above: almost all of it is the rescaled screen.
print(f"{sample_mb:.1f} MB per sample x {rate:.0f} samples/s = {sample_mb * rate:.0f} MB/s")

# %%
check_exercise("4.4", sample_mb, sample)

# %% [markdown]
# ## Summary
# * An experiment is a set of modalities, each with its own clock; only the screen knows the trials.
# * Reading a signal at arbitrary times needs a rule: floor (the default, causal), rounding (leaks the future),
#   linear (spreads NaNs); the screen holds each frame until the next; ranges are closed at the last sample.
# * Responses lag the stimulus: read them with an offset.
# * `ChunkDataset` keeps chunk starts that fit every modality's range, match the trial conditions (OR of ANDs)
#   and avoid NaNs; a seed makes the thinning reproducible.
# * `get_multisession_dataloader` cycles sessions as `(data_key, batch)` for shared-core models.
# * Images and blanks store one frame and one timestamp; `end_time` is the last sample; ranges are closed:
#   folders move both ways between the course and upstream Experanto, with the same samples except four
#   documented fixes (no clock drift, exact-time floor, a NaN filter that covers what is read, a read-only
#   data folder).
# * Measure the loader: here writing the rescaled frames, not the interpolation, sets the pace.
#
# ## Further reading
# * The Experanto project {cite}`experanto`, whose folder layout and dataset semantics this chapter follows.
# * The Sensorium 2023 competition {cite}`turishcheva2023sensorium`, the source of the converted mice.
# * Multi-session cores with per-animal readouts: {cite}`lurz2021generalization`.
#
# ## Next
#
# {doc}`Chapter 5 <05_allen_behavior_analysis>` opens Part II and returns to the Allen sessions of
# {doc}`chapter 2 <02_allen_loading>`; it needs nothing from this chapter, whose chunked loader is the route to
# training on raw recordings.
