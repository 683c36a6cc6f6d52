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
# # 0. Setup and data
#
# **Goals:** run the course anywhere (your laptop, Colab, a workshop machine); know the five data sources;
# switch between demo, sample and full data; find, verify and clean the cached files.
# **Time:** ~20 min. **Prerequisites:** basic Python (pathlib, pandas). **Data:** every source, in demo mode.
#
# Every chapter of this course starts with the same two cells: one that installs the course package when
# it runs in Colab (and does nothing elsewhere), and one that imports what the chapter needs and prints which
# data it runs on.
#
# ```{admonition} Demo vs real
# :class: tip
# Every chapter runs on **demo** data unless you ask for real files. The demo files are written by simulators in
# `course_utils`, in the real on-disk formats, with effects *built in*: tuned neurons, a mouse of known
# sensitivity, a visual latency. When a chapter recovers such an effect in demo mode it checks the code, not the
# brain. Real data are far larger (one real Sensorium mouse holds about 10 GB of arrays, one real Allen behaviour
# session about 195 MB) and messier, and some numbers differ a lot (real Sensorium scores are far lower than the
# demo's). Figures drawn from demo data say "(demo)" in their title, and each chapter has a box like this one
# saying what its simulator builds in and what the real recordings look like.
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
import pandas as pd

import course_utils
from course_utils import data
from course_utils.exercises import check_exercise
from course_utils.plotting import demo_suffix, use_course_style

use_course_style()
course_utils.banner()

# %% [markdown]
# ## 0.1 Three ways to run the course
#
# * **Locally.** Clone the repository and run `make book`: it creates a virtual environment, installs
#   `course_utils`, prepares the demo data, executes every chapter once and builds this book. `make test` runs
#   everything CI runs. Open any chapter in Jupyter from `notebooks/`.
# * **In Colab.** Click the rocket icon at the top of a chapter and choose Colab. The first cell installs
#   `course_utils` from the repository without touching Colab's numpy, pandas or torch, so no runtime restart
#   is needed.
# * **In a workshop.** The instructor hands out the *student* notebooks (exercises replaced by stubs,
#   `make student`), and everyone runs on demo data, which needs no network at all.
#
# Chapters that train networks (decoders, an encoding model, recurrent networks on cognitive tasks) have a
# **fast setting**: with the environment variable `COURSE_FAST=1` they train for fewer epochs or steps, so every
# chapter runs in about a minute on 2 CPU cores. CI and `make book` set it; when you run a chapter yourself you
# get the full-length training unless you set it too. The banner below says which is in force.
#
# All the code a chapter uses lives in the `course_utils` package. A chapter shows how to call it and, where
# the implementation is the lesson, walks through the source. `help(...)` or `??` on any function shows its
# documentation, which names the chapter that teaches it.

# %% [markdown]
# ## 0.2 The five sources
#
# The course is built on five public sources. The file `data_manifest.yaml` lists them: what each is, its
# license, the paper to cite, and what each *data mode* means for it.

# %%
sources = data.describe_sources()
sources[["source", "title", "license", "modes"]]

# %% [markdown]
# ## 0.3 Three data modes
#
# | mode | what you get | needs |
# |---|---|---|
# | `demo` | small files written by a simulator in `course_utils`, **in exactly the real on-disk format**, with known ground truth | nothing: works offline |
# | `sample` | a few real files (one NWB file, one session table, one mouse) | internet, minutes |
# | `full` | the whole public dataset | internet, hours, disk |
#
# The demo data are a stand-in for the *data*, never for the *code*: the loaders you use on demo files are the
# ones that read the real files. Because the simulator knows the truth (which neurons are tuned to what, how
# sensitive a model mouse is), the demo mode also lets us check that an analysis recovers it.
#
# The mode comes from the `mode=` argument, else from the `COURSE_DATA_MODE` environment variable, else
# `demo`:

# %%
print("mode used by default here:", data.data_mode())
print("mode if a chapter asks for it explicitly:", data.data_mode("sample"))

# %% [markdown]
# To run a whole chapter on real data, set the variable before starting Jupyter
# (`export COURSE_DATA_MODE=sample`), or in the chapter's first cell with
# `os.environ["COURSE_DATA_MODE"] = "sample"`. From a terminal, `python -m course_utils data list` prints the
# same overview as this section.

# %% [markdown]
# ## 0.4 Where the data live
#
# Everything is cached under one folder: `COURSE_DATA_DIR` if you set it, else your platform's cache folder.
# Inside it, each source has one folder per mode.

# %%
print("data folder:", data.data_dir())
print("NeuroTask sample files would go to:", data.source_folder("neurotask", "sample"))

# %% [markdown]
# ## 0.5 Getting a source
#
# One call per source returns a local folder; its layout is the real one of that source. In demo mode the
# first call runs the simulator (seconds) and every later call, from any chapter, reuses the files. The
# cache key is made of the simulator's parameters, the source code of its module and the module's
# `SIMULATOR_VERSION`, so the files are regenerated only when the simulator changes, not when anything else in
# the package does. Two notebooks asking for the same source at once do not both generate it: the second waits
# for the first (a lock per source and mode) and then reuses its files.

# %%
demo_sources = [name for name in data.source_names() if not data.mode_info(name, "demo").get("synthetic")]
folders = {name: data.get_source(name, "demo") for name in demo_sources}
for name, folder in folders.items():
    print(f"{name:24s} {folder}")


# %% [markdown]
# What is inside? Each folder holds files in the format of its source: parquet and NWB for NeuroTask, a session
# table and behaviour NWB files for Allen, one folder per mouse of `.npy` arrays for Sensorium, experiment
# folders for Experanto. The loading chapters open them one by one. Here we only count them:

# %%
def folder_summary(folder):
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    suffixes = pd.Series([p.suffix or "(none)" for p in files]).value_counts()
    return len(files), sum(p.stat().st_size for p in files) / 1e6, ", ".join(f"{n} {s}" for s, n in suffixes.items())


summary = pd.DataFrame(
    [(name, *folder_summary(folder)) for name, folder in folders.items()],
    columns=["source", "files", "size_MB", "kinds"],
)
summary.round(1)

# %%
fig, ax = plt.subplots(figsize=(6, 2.6))
ax.barh(summary["source"], summary["size_MB"], color="tab:blue")
ax.set_xlabel("size on disk (MB)")
ax.set_title("Demo data: small enough for a laptop, in the real formats" + demo_suffix())
ax.invert_yaxis()
plt.show()

# %% tags=["remove-cell"]
# Guards the text below: "a few hundred MB", the video sources are the largest.
total_mb = float(summary["size_MB"].sum())
assert 100 <= total_mb < 1000, f"the text says the demo data take a few hundred MB; they take {total_mb:.0f} MB"
largest_two = set(summary.nlargest(2, "size_MB")["source"])
assert largest_two == {"sensorium2023", "experanto"}, f"the text names the video sources as the largest: {largest_two}"

# %% [markdown]
# The demo data of all sources together take a few hundred MB (the videos of Sensorium and of the experiment
# folders are the largest): small enough for Colab's disk and a workshop laptop, large enough that decoders,
# encoding models and behaviour analyses have something to learn. The real datasets are hundreds to thousands of
# times larger: one real Sensorium mouse alone holds about 10 GB of arrays, and the Allen project has thousands of
# behaviour sessions of about 195 MB each.
#
# NeuroGym has no folder: its tasks generate trials in memory, identically offline and online.

# %% [markdown]
# ## 0.6 Real files, checked
#
# A sample-mode file is described in the manifest by where it comes from (`url`, or `dandi`), where it goes
# (`path`), its sha256 checksum and exact `size` when known, and an `approx_size` that is only reported:

# %%
pd.DataFrame(data.mode_info("neurotask", "sample")["files"])

# %% [markdown]
# How many of the sample files can be verified by their sha256 today? Count the hashes the manifest knows:

# %%
sample_files = pd.DataFrame(
    [{"source": name, **entry} for name in data.source_names() if "sample" in data.source_info(name)["modes"]
     for entry in data.mode_info(name, "sample").get("files", [])]
)
sample_files["sha256 known"] = sample_files.get("sha256", pd.Series(index=sample_files.index)).notna()
n_hashed = int(sample_files["sha256 known"].sum())
print(f"{n_hashed} of {len(sample_files)} sample files have a sha256 in the manifest")
sample_files[["source", "path", "sha256 known"]]

# %% tags=["remove-cell"]
# Guards the text below: "none of the sample files has a sha256 in the manifest yet".
assert n_hashed == 0, f"{n_hashed} sample files now have a sha256: rewrite the paragraph below"

# %% [markdown]
#
# %% [markdown]
# So today **none** of the sample files has a sha256 in the manifest yet: nothing you download in sample mode is
# *verified* by a checksum. What does happen: a download (made with Pooch {cite:p}`pooch`) goes to a
# *temporary* name, and only when something shows it is complete (its sha256 when known, else its exact size,
# else the length the server announced) is it renamed into place. A broken connection or a body cut short
# therefore never leaves a half-written file behind, and never replaces a good cached copy; a corrupted file of
# the right length would pass, which is what a checksum is for. A file whose checksum is not in the manifest gets
# its checksum recorded and reported, so a maintainer can add it; until then it counts as *unchecked*, never as
# verified.
#
# Without internet, asking for sample data fails at once with a message that says what to do. The cell below
# tries only if you set `TRY_SAMPLE_DOWNLOAD = True` (it downloads 54 MB):

# %%
TRY_SAMPLE_DOWNLOAD = False
if TRY_SAMPLE_DOWNLOAD:
    try:
        print(data.get_source("neurotask", "sample"))
    except data.DataUnavailableError as err:
        print(err)

# %% [markdown]
# `verify` hashes every cached file again and compares it with the manifest (and every demo set with the
# current simulator), without downloading, generating or changing anything. From a terminal:
# `python -m course_utils data verify`.

# %%
status = pd.DataFrame([vars(row) for row in data.verify()])
status[["source", "mode", "status", "detail"]]

# %% [markdown]
# `missing` sample files are simply not downloaded yet. `unchecked` files are present but the manifest has no
# sha256 to check them against. `mismatch` or `changed` would mean a damaged file: delete it and fetch again.
# `stale` demo sets were written by an older simulator (the detail says what changed), and `leftover` marks
# temporary files of a run that was killed.
#
# `python -m course_utils data clean --stale` removes stale sets and leftovers; `data clean SOURCE --mode sample`
# frees the space of a source's downloads; `--dry-run` lists what would go. Cleaning moves a folder aside
# before deleting it and skips data another process is writing; full datasets are deleted only after you
# confirm (`--yes`).

# %% [markdown]
# ### Exercise 0.1 — Check a file yourself
#
# A checksum is only useful if you can recompute it. Compute the sha256 of the **largest** file in the
# NeuroTask demo folder (`folders["neurotask"]`) with `hashlib`, reading the file in chunks of 1 MiB so a
# multi-GB file would not fill your memory. Store the hex digest in `my_sha256` and the file's path in
# `largest_file`.

# %% tags=["solution"]
import hashlib

largest_file = max((p for p in folders["neurotask"].rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
digest = hashlib.sha256()
with open(largest_file, "rb") as fh:
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
my_sha256 = digest.hexdigest()

# %%
check_exercise("0.1", my_sha256, largest_file, folders["neurotask"])

# %% [markdown]
# ### Exercise 0.2 — Where would the full data go?
#
# Without downloading anything, build a dictionary `full_folders` that maps every source that has a `full`
# mode to the folder where its full dataset is expected (use `data.source_names()`, `data.source_info(name)`
# and `data.source_folder`).

# %% tags=["solution"]
full_folders = {
    name: data.source_folder(name, "full") for name in data.source_names() if "full" in data.source_info(name)["modes"]
}

# %%
check_exercise("0.2", full_folders)

# %% [markdown]
# ## Summary
#
# * Every chapter installs `course_utils` in Colab with one cell, then imports everything it uses from it.
# * `get_source(name, mode)` returns a local folder in the source's real layout; `demo` (default) works
#   offline, `sample` and `full` fetch real files, written atomically after a completeness check (sha256
#   where the manifest knows it, which today is no sample file; else the size), under a lock so two notebooks
#   never write the same data at once.
# * The mode comes from the argument, `COURSE_DATA_MODE`, or defaults to `demo`; the cache folder from
#   `COURSE_DATA_DIR` or the platform's cache folder.
# * `python -m course_utils data list | fetch | verify | path | clean` does the same from a terminal.
#
# ## Further reading
#
# * The {doc}`../data_sources` page lists every source, its license, what each mode holds and how to get the
#   full data.
# * Downloads use Pooch {cite:p}`pooch`; NWB files are read with PyNWB {cite:p}`rubel2022nwb`.
#
# ## Next
#
# {doc}`Chapter 1 <01_neurotask_loading>` uses `get_source` to find the first source, NeuroTask, and loads its
# parquet and NWB files.
