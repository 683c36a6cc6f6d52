"""Experanto: how fast ChunkDataset delivers samples, side by side with upstream Experanto on identical samples.

Run (ours only; the side-by-side comparison is then skipped, and the script says so)::

    python benchmarks/bench_experanto.py

Side by side: install upstream Experanto (https://github.com/sensorium-competition/experanto) in a separate
environment together with this package's dependencies, then pass its checkout::

    /path/to/upstream-venv/bin/python benchmarks/bench_experanto.py --upstream /path/to/experanto

Upstream's code is imported from that folder at run time; nothing of it is copied here. Upstream pins
torch 2.7 and opencv; any recent torch/torchvision/opencv-python-headless work. (A torchvision wheel built for
CUDA cannot load its compiled operators next to a CPU-only torch; upstream uses only torchvision's Python
transforms, so the script skips torchvision's operator registrations when they fail to load.)

On three experiment shapes, all written fresh into a temporary folder, with upstream's default modality config
(screen 60 frames @ 30 Hz rescaled to 144x256, responses 16 @ 8 Hz, eye tracker and treadmill 60 @ 30 Hz):

* ``mouse``: a converted Sensorium demo mouse (video trials separated by one blank, every clock 30 Hz);
* ``mixed``: the demo experiment with images, videos, blanks and invalid trials, each modality on its own clock;
* ``real-size``: video trials with 8,000 neurons, as a real Sensorium 2023 mouse (REAL_FILES.md).

It prints

* **folders both ways**: upstream reads every folder we write; we read a folder written by upstream's own
  test-data writers (``tests/create_screen_data.py``, ``tests/create_sequence_data.py``) and get upstream's
  values;
* **identical samples**: ours (``upstream_clock=True``) and upstream's, compared bit for bit at every start both
  accept, and why the starts differ (the documented fixes of ``course_utils.experanto.dataset``);
* **samples/s** single process with 1 and 2 torch (and OpenCV) threads, ours and upstream's on the same starts,
  and the ratio; at 1 thread also ``--rounds`` further rounds in which ours and upstream take turns by blocks
  of 10 samples read back to back, as a DataLoader reads them, with each round's ratio and their median (the
  figure to quote: taking turns sample by sample, our samples start with the caches just cleared by
  upstream's resize; the machine's speed also drifts over minutes, which only runs spaced apart show), the CPU
  time and the minor page faults per sample;
* **start-up** (open -> first sample) with a cold and a warm index, also for 3,000 trial files, and what the
  compiled kernel of the screen frames (``course_utils.experanto.kernels``, numba) costs once per process:
  compiling it the first time ever, loading it from numba's cache afterwards;
* **where our time goes**: one sample's stages, the screen's with the compiled kernel and with the NumPy path
  (``COURSE_COMPILED_KERNELS=0``: the same values), and what merely filling memory of the output's size costs.

Timings on a shared machine are inflated by other processes' load: read the ratios, which are measured in the
same process on the same starts, in preference to the absolute figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import torch

from course_utils.experanto import ChunkDataset, Experiment
from course_utils.experanto.simulate import write_demo_experiments
from course_utils.experanto.transforms import prepare_compiled_kernel
from course_utils.experanto.writer import (
    write_experiment_meta,
    write_screen_modality,
    write_sequence_modality,
)


# ----------------------------------------------------------------------------------------- upstream, at run time
def load_upstream(path: str | None) -> tuple[types.SimpleNamespace | None, str]:
    """Import upstream Experanto from its checkout, or say why not."""
    if not path:
        return None, "no --upstream PATH given"
    root = Path(path).resolve()
    if not (root / "experanto" / "datasets.py").is_file():
        return None, f"{root} is not an Experanto checkout (no experanto/datasets.py)"
    try:
        import torchvision  # noqa: F401
    except RuntimeError:  # a CUDA build of torchvision beside a CPU torch: skip its operator registrations
        for name in [m for m in sys.modules if m.startswith("torchvision")]:
            del sys.modules[name]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    sys.path.insert(0, str(root))
    try:
        import cv2
        from experanto.configs import DEFAULT_MODALITY_CONFIG
        from experanto.datasets import ChunkDataset as UpstreamChunkDataset
        from experanto.experiment import Experiment as UpstreamExperiment
    except ImportError as err:
        return None, f"upstream could not be imported from {root} ({err}); install its dependencies"
    sys.path.insert(0, str(root / "tests"))
    return types.SimpleNamespace(root=root, ChunkDataset=UpstreamChunkDataset, Experiment=UpstreamExperiment,
                                 config=DEFAULT_MODALITY_CONFIG, cv2=cv2), ""


def upstream_dataset(up, folder: Path, workdir: Path):
    """Upstream's ChunkDataset on a private copy: upstream writes combined_meta.json into the data folder."""
    copy_ = workdir / f"upstream-{folder.name}"
    if not copy_.exists():
        shutil.copytree(folder, copy_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return up.ChunkDataset(str(copy_), modality_config=up.config, seed=0)


@contextlib.contextmanager
def threads(n: int, up=None):
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    if up is not None:
        up.cv2.setNumThreads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# ----------------------------------------------------------------------------------------- folders
def write_real_size(root: Path, n_neurons: int = 8000, n_trials: int = 12, frames: int = 300, seed: int = 0) -> Path:
    """Video trials of 36x64 frames at 30 Hz with one blank between them, 8,000 neurons (a real mouse's count)."""
    rng = np.random.default_rng(seed)
    gap = 15
    trials, stamps = [], []
    t = 0
    for k in range(n_trials):
        if k:
            trials.append({"modality": "blank", "image_size": [36, 64], "interleave_value": 128.0, "tier": "blank"})
            stamps.append(t)
            t += gap
        video = rng.uniform(0, 255, (frames, 36, 64)).astype(np.float32)
        trials.append({"modality": "video", "data": video, "tier": "train" if k % 6 else "oracle"})
        stamps += list(range(t, t + frames))
        t += frames
    write_screen_modality(root / "screen", np.asarray(stamps) / 30.0, trials, frame_rate=30.0)
    sequences = {"responses": n_neurons, "eye_tracker": 3, "treadmill": 1}
    for name, n in sequences.items():
        data = rng.exponential(1.0, (t, n)).astype(np.float32)
        for k in range(1, n_trials):  # nothing recorded during the blanks
            start = k * frames + (k - 1) * gap
            data[start : start + gap] = np.nan
        write_sequence_modality(root / name, data, 30.0)
        del data
    write_experiment_meta(root, "real_size")
    return root


def write_folders(workdir: Path, real_neurons: int) -> dict[str, Path]:
    demo = workdir / "demo"
    write_demo_experiments(demo, seed=0, n_mice=1)
    mouse = next(p for p in demo.iterdir() if p.name.startswith("dynamic"))
    folders = {"mouse": mouse, "mixed": demo / "mixed"}
    if real_neurons:
        folders["real-size"] = write_real_size(workdir / "real_size", n_neurons=real_neurons)
    return folders


# ----------------------------------------------------------------------------------------- both ways
def upstream_reads_ours(up, folders: dict[str, Path], workdir: Path, per_folder: int = 30) -> None:
    for name, folder in folders.items():
        ds = upstream_dataset(up, folder, workdir)
        picks = np.linspace(0, len(ds) - 1, min(per_folder, len(ds))).astype(int)
        failed = 0
        for i in picks:
            try:
                ds[int(i)]
            except Exception:  # noqa: BLE001 (any failure of upstream's reader counts)
                failed += 1
        print(f"  upstream reads our {name} folder: {len(picks) - failed} of {len(picks)} samples "
              f"({len(ds)} chunks)")


def we_read_upstreams(up, workdir: Path) -> None:
    """A folder written by upstream's own test-data writers, read by both; values compared at 2,000 times."""
    from create_screen_data import create_screen_data
    from create_sequence_data import _generate_sequence_data

    root = workdir / "written_by_upstream"
    cwd = os.getcwd()
    os.chdir(workdir)  # upstream's writer uses the relative folder tests/screen_data
    try:
        np.random.seed(0)  # noqa: NPY002 (upstream's writer draws from the global generator)
        with create_screen_data(duration=20.0, frame_shape=(36, 64), fps=30.0, image_frame_count=40,
                                num_videos=4):
            shutil.copytree(workdir / "tests" / "screen_data", root / "screen")
    finally:
        os.chdir(cwd)
    _generate_sequence_data(root / "responses", n_signals=50, start_time=0.0, t_end=20.0, sampling_rate=7.5,
                            shifts_per_signal=True)
    _generate_sequence_data(root / "treadmill", n_signals=1, start_time=0.0, t_end=20.0, sampling_rate=100.0,
                            use_mem_mapped=True)
    ours = Experiment(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = up.Experiment(str(shutil.copytree(root, workdir / "written_by_upstream_copy")),
                               {m: {"interpolation": {}} for m in ("screen", "responses", "treadmill")})
    times = np.sort(np.random.default_rng(1).uniform(0.0, 20.0, 2000))
    for name in ("screen", "responses", "treadmill"):
        values, valid = ours.interpolate(times, [name])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected, up_valid = theirs.interpolate(times.copy(), device=name, return_valid=True)
        same_valid = np.array_equal(np.flatnonzero(valid[name]), np.asarray(up_valid))
        same = same_valid and np.array_equal(values[name], np.asarray(expected, dtype=np.float32))
        print(f"  we read upstream's {name} folder: {int(valid[name].sum())} valid times, values "
              f"{'identical to upstream' if same else 'DIFFER from upstream'}")


# ----------------------------------------------------------------------------------------- identical samples
def _nan_or_condition(ds: ChunkDataset, start: float) -> str:
    """Why our dataset rejects a start upstream accepts (the documented fixes)."""
    exp = ds.experiment
    for name, device in exp.devices.items():
        times = ds.chunk_times(start, name)
        values, valid = device.interpolate(times)
        if not valid.all():
            return "outside a modality's range"
        if name != ds.reference and np.isnan(values).any():
            return "reads a NaN sample"
    return "next to a NaN (filter vicinity) or a trial edge"


def compare_samples(up, folders: dict[str, Path], workdir: Path, limit: int) -> dict[str, np.ndarray]:
    common_starts = {}
    for name, folder in folders.items():
        theirs = upstream_dataset(up, folder, workdir)
        ours = ChunkDataset(folder, seed=0, upstream_clock=True)
        up_times = np.round(np.asarray(theirs._valid_screen_times, dtype=np.float64), 5)
        common = np.intersect1d(up_times, ours.valid_times)
        common_starts[name] = common
        up_index = {v: i for i, v in enumerate(up_times)}
        our_index = {v: i for i, v in enumerate(ours.valid_times)}
        checked = common if limit <= 0 else common[np.linspace(0, len(common) - 1, min(limit, len(common))).astype(int)]
        differ = 0
        for s in checked:
            a, b = theirs[up_index[s]], ours[our_index[s]]
            same = a.keys() == b.keys() and all(
                torch.equal(a[k][m], b[k][m]) and a[k][m].dtype == b[k][m].dtype for k in ["timestamps"] for m in a[k]
            ) and all(a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]) for k in a if k != "timestamps")
            differ += not same
        only_up = np.setdiff1d(up_times, ours.valid_times)
        only_ours = np.setdiff1d(ours.valid_times, up_times)
        print(f"  {name}: {len(checked) - differ} of {len(checked)} samples at common starts identical bit for "
              f"bit (every key, dtype and timestamp); starts: upstream {len(up_times)}, ours {len(ours)}, common "
              f"{len(common)}")
        if len(only_up):
            exact = ChunkDataset(folder, seed=0)
            reasons: dict[str, int] = {}
            for s in only_up:
                reason = _nan_or_condition(exact, float(s))
                reasons[reason] = reasons.get(reason, 0) + 1
            print(f"    {len(only_up)} starts only upstream accepts: " + ", ".join(f"{n} {r}" for r, n in reasons.items()))
        if len(only_ours):
            print(f"    {len(only_ours)} starts only ours accepts (at the end: {only_ours[:3]} ...)")
        exact = ChunkDataset(folder, seed=0)
        frames_moved = 0
        for s in checked[: min(len(checked), 100)]:
            a = exact[int(np.searchsorted(exact.valid_times, s))]["screen"][0, :, 0, 0]
            b = ours[our_index[s]]["screen"][0, :, 0, 0]
            frames_moved += int((a != b).sum())
        print(f"    with our default (exact) clock, {frames_moved} of {60 * min(len(checked), 100)} frame slots of "
              "those samples show a different frame (upstream's drift reads the previous one)")
    return common_starts


# ----------------------------------------------------------------------------------------- speed
def interleaved_times(datasets: list, indices: list[np.ndarray],
                      clock=time.perf_counter) -> list[np.ndarray]:
    """Seconds per sample of each dataset, taking turns sample by sample (so a burst of other processes' load
    hits all of them alike). ``clock=time.thread_time`` counts only the CPU time of this thread, which leaves
    out the time spent waiting for a core on a shared machine."""
    for ds, idx in zip(datasets, indices, strict=True):
        ds[int(idx[0])]  # page cache and lazy opens
    times = [[] for _ in datasets]
    for j in range(len(indices[0])):
        for k, (ds, idx) in enumerate(zip(datasets, indices, strict=True)):
            t0 = clock()
            ds[int(idx[j])]
            times[k].append(clock() - t0)
    return [np.asarray(t) for t in times]


def faults_per_sample(datasets: list, indices: list[np.ndarray]) -> list[float] | None:
    """Minor page faults per sample of each dataset, taking turns as :func:`interleaved_times` does (None where
    the ``resource`` module is missing, e.g. on Windows). Near zero means the output's memory is reused, not
    freshly mapped (and zeroed by the kernel) for every sample."""
    try:
        import resource
    except ImportError:
        return None
    counts = [0] * len(datasets)
    for j in range(len(indices[0])):
        for k, (ds, idx) in enumerate(zip(datasets, indices, strict=True)):
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            ds[int(idx[j])]
            counts[k] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    return [c / len(indices[0]) for c in counts]


def _rates(t: np.ndarray) -> str:
    return f"{len(t) / t.sum():.0f} ({1 / np.median(t):.0f} from the median)"


def blocked_times(datasets: list, indices: list[np.ndarray], block: int) -> list[np.ndarray]:
    """Seconds per sample of each dataset, taking turns by blocks of ``block`` samples read back to back: within
    a block a dataset runs as in a DataLoader (after its own previous sample), and bursts of other processes'
    load, which last far longer than a block, still hit every dataset alike."""
    for ds, idx in zip(datasets, indices, strict=True):
        ds[int(idx[0])]
    times = [np.empty(len(indices[0])) for _ in datasets]
    for start in range(0, len(indices[0]), block):
        for k, (ds, idx) in enumerate(zip(datasets, indices, strict=True)):
            for j in range(start, min(start + block, len(idx))):
                t0 = time.perf_counter()
                ds[int(idx[j])]
                times[k][j] = time.perf_counter() - t0
    return times


def round_ratios(name: str, datasets: list, indices: list[np.ndarray], rounds: int, up, block: int = 10) -> None:
    """Upstream's time over ours (``upstream_clock``, ``datasets[1]``; upstream is ``datasets[2]``) in ``rounds``
    rounds on the same starts, each in a new random order, the two taking turns by blocks of ``block`` samples
    (:func:`blocked_times`; ours first in even rounds, upstream in odd ones). Taking turns sample by sample
    instead would start each of our samples with the caches just cleared by upstream's resize, which a loader
    reading one dataset never does. Prints every round's ratio and their median: the spread within one run
    (drift of the machine's speed over minutes shows only between runs spaced apart)."""
    over_run, from_medians = [], []
    rng = np.random.default_rng(1)
    for r in range(rounds):
        order = rng.permutation(len(indices[0]))
        sides = [1, 2] if r % 2 == 0 else [2, 1]
        with threads(1, up):
            timed = blocked_times([datasets[k] for k in sides], [indices[k][order] for k in sides], block)
        ours, theirs = (timed[sides.index(k)] for k in (1, 2))
        over_run.append(theirs.sum() / ours.sum())
        from_medians.append(np.median(theirs) / np.median(ours))
    print(f"  {name}, 1 thread, {rounds} rounds, turns of {block} samples: upstream/ours over each round "
          + " ".join(f"{x:.1f}" for x in over_run) + f" (median {np.median(over_run):.1f}x); from each round's "
          "median sample times " + " ".join(f"{x:.1f}" for x in from_medians)
          + f" (median {np.median(from_medians):.1f}x)")


def speed(up, folders: dict[str, Path], workdir: Path, common: dict[str, np.ndarray], n: int,
          rounds: int = 1) -> None:
    print("  samples/s over the run (and from the median sample time, which resists other processes' bursts)")
    for name, folder in folders.items():
        ours = ChunkDataset(folder, seed=0)
        clocked = ChunkDataset(folder, seed=0, upstream_clock=True)
        starts = common.get(name, ours.valid_times)
        starts = starts[np.random.default_rng(0).permutation(len(starts))[:n]]
        datasets = [ours, clocked]
        indices = [np.searchsorted(ours.valid_times, starts), np.searchsorted(clocked.valid_times, starts)]
        if up is not None:
            theirs = upstream_dataset(up, folder, workdir)
            up_times = np.round(np.asarray(theirs._valid_screen_times, dtype=np.float64), 5)
            datasets.append(theirs)
            indices.append(np.searchsorted(up_times, starts))
        for t in (1, 2):
            with threads(t, up):
                times = interleaved_times(datasets, indices)
            if t == 1 and up is not None and rounds > 0:
                round_ratios(name, datasets, indices, rounds, up)
            text = f"  {name}, {t} thread(s), {len(starts)} random starts: ours {_rates(times[0])}, with upstream_clock " \
                   f"{_rates(times[1])}"
            if up is not None:
                text += (f"; upstream {_rates(times[2])}: {times[2].sum() / times[1].sum():.1f}x "
                         f"({np.median(times[2]) / np.median(times[1]):.1f}x from the medians) on identical samples")
            print(text)
        if up is not None:  # CPU time: robust to waiting for a core when other processes share the machine
            with threads(1, up):
                cpu = interleaved_times(datasets, indices, clock=time.thread_time)
                faults = faults_per_sample(datasets, [i[:50] for i in indices])
            text = (f"  {name}, 1 thread, CPU time per sample (median): ours {np.median(cpu[1]) * 1e3:.2f} ms, upstream "
                    f"{np.median(cpu[2]) * 1e3:.2f} ms: {np.median(cpu[2]) / np.median(cpu[1]):.1f}x "
                    f"({cpu[2].sum() / cpu[1].sum():.1f}x from the totals)")
            if faults is not None:
                text += f"; minor page faults per sample: ours {faults[1]:.0f}, upstream {faults[2]:.0f}"
            print(text)


def startup(up, folders: dict[str, Path], workdir: Path) -> None:
    for name, folder in list(folders.items()) + [("3,000 image trials", write_many_trials(workdir / "many"))]:
        with tempfile.TemporaryDirectory() as cache:
            os.environ["COURSE_EXPERANTO_CACHE"] = cache
            t0 = time.perf_counter()
            ChunkDataset(folder, seed=0)[0]
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            ChunkDataset(folder, seed=0)[0]
            warm = time.perf_counter() - t0
        text = f"  {name}: ours cold index {cold * 1e3:.0f} ms, warm {warm * 1e3:.0f} ms"
        if up is not None:
            shutil.rmtree(workdir / f"upstream-{folder.name}", ignore_errors=True)
            t0 = time.perf_counter()
            upstream_dataset(up, folder, workdir)[0]
            up_cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            upstream_dataset(up, folder, workdir)[0]
            up_warm = time.perf_counter() - t0
            text += f"; upstream first open {up_cold * 1e3:.0f} ms, with its combined_meta.json {up_warm * 1e3:.0f} ms"
        print(text + " (open -> first sample)")
    kernel_once_per_process(workdir / "numba-cache")


# One screen chunk of the default config through the compiled kernel, timed in a fresh process (the import of
# the package and torch is not counted: every reader pays it).
_FIRST_KERNEL_CALL = """
import time
import numpy as np
from course_utils.experanto.transforms import repeat_pixels
t0 = time.perf_counter()
import numba
t1 = time.perf_counter()
repeat_pixels(np.zeros((60, 36, 64), np.float32), 4, 4, (np.float32(0), np.float32(1)), compiled=True)
print(t1 - t0, time.perf_counter() - t1)
"""


def kernel_once_per_process(cache: Path) -> None:
    """What the compiled kernel costs a process once, before its first screen chunk: the first time ever
    (numba compiles it into an empty cache) and every later process (numba's import and its cached code).
    numba's own files are already in the operating system's file cache here (this process imported it): on a
    machine that has just started, the first import takes longer."""
    try:
        import numba  # noqa: F401
    except ImportError:
        print("  compiled kernel: numba is not installed (the NumPy path is used)")
        return
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    times = []
    for _ in range(3):
        cmd = [sys.executable, "-c", _FIRST_KERNEL_CALL]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if out.returncode:
            print(f"  compiled kernel: the timing process failed:\n{out.stderr[-2000:]}")
            return
        times.append([float(v) for v in out.stdout.split()[-2:]])
    (imp0, load0), *later = times
    print(f"  compiled kernel, once per process before its first screen chunk: {imp0 + load0:.2f} s the first "
          f"time ever (import numba {imp0:.2f} s + compiling into an empty cache {load0:.2f} s), then "
          + " / ".join(f"{(i + c) * 1e3:.0f} ms (import {i * 1e3:.0f} + cached code {c * 1e3:.0f})"
                       for i, c in later))


def write_many_trials(root: Path, n_trials: int = 3000) -> Path:
    """Many 0.5 s image trials: the per-trial YAML parsing upstream repeats on every first open."""
    if root.exists():
        return root
    trials = [{"modality": "image", "data": np.full((36, 64), i % 255, np.float32), "tier": "train",
               "stim_type": "image", "trial_idx": i} for i in range(n_trials)]
    write_screen_modality(root / "screen", np.arange(n_trials) * 0.5, trials, frame_rate=30.0)
    rng = np.random.default_rng(0)
    for name, n in (("responses", 50), ("eye_tracker", 3), ("treadmill", 1)):
        write_sequence_modality(root / name, rng.random((n_trials * 15, n)).astype(np.float32), 30.0)
    return root


def breakdown(folder: Path, n: int = 60) -> None:
    """Median CPU time of each stage of our __getitem__ (CPU time and medians resist other processes' load)."""
    ds = ChunkDataset(folder, seed=0)
    exp = ds.experiment
    starts = ds.valid_times[np.random.default_rng(1).permutation(len(ds))[:n]]
    stages: dict[str, list[float]] = {"screen read": [], "screen normalise + 4x4 repetition": [],
                                      "sequences (read + normalise)": [], "whole sample": []}
    numpy_path = []

    def numpy_screen(s: float) -> None:
        with mock.patch.dict(os.environ, {"COURSE_COMPILED_KERNELS": "0"}):  # the documented switch
            t0 = time.thread_time()
            ds._transform("screen", exp.devices["screen"].interpolate(ds.chunk_times(s, "screen"))[0])
            numpy_path.append(time.thread_time() - t0)

    with threads(1):
        for k, s in enumerate(starts):
            if k % 2 == 0:  # before the compiled stages at even starts, after the whole sample at odd ones
                numpy_screen(s)
            t0 = time.thread_time()
            frames = exp.devices["screen"].interpolate(ds.chunk_times(s, "screen"))[0]
            t1 = time.thread_time()
            ds._transform("screen", frames)
            t2 = time.thread_time()
            for m in exp.devices:
                if m != "screen":
                    device = exp.devices[m]  # read: as __getitem__ does (a view of the rows where it can)
                    ds._transform(m, getattr(device, "read", device.interpolate)(ds.chunk_times(s, m))[0])
            t3 = time.thread_time()
            ds[int(np.searchsorted(ds.valid_times, s))]
            t4 = time.thread_time()
            if k % 2 == 1:
                numpy_screen(s)
            for key, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                stages[key].append(dt)
    total = float(np.median(stages["whole sample"]))
    print(f"  one sample, median CPU time of {n}, 1 thread: {total * 1e3:.2f} ms = "
          + ", ".join(f"{k} {np.median(v) * 1e3:.2f} ms" for k, v in stages.items() if k != "whole sample")
          + f" (screen read + normalise + repetition with the NumPy path instead of the compiled kernel: "
            f"{np.median(numpy_path) * 1e3:.2f} ms)")
    memory_floor(ds[0]["screen"])


def memory_floor(screen: torch.Tensor, n: int = 60) -> None:
    """What writing one sample's screen costs at best on this machine: filling fresh memory of its size
    (memset, the lower bound for any output) and copying a finished one (memcpy), median CPU times of n."""
    frames = screen.numpy()
    fill, copy_ = [], []
    for _ in range(n):
        t0 = time.thread_time()
        out = np.empty_like(frames)
        out.fill(0.0)
        t1 = time.thread_time()
        dup = frames.copy()
        t2 = time.thread_time()
        fill.append(t1 - t0)
        copy_.append(t2 - t1)
        del out, dup
    print(f"  memory floor for a {frames.nbytes / 1e6:.1f} MB screen output: fill fresh memory "
          f"{np.median(fill) * 1e3:.2f} ms, copy a finished one {np.median(copy_) * 1e3:.2f} ms (median CPU time of {n})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", default=None, help="path of an upstream Experanto checkout to compare with")
    parser.add_argument("--samples", type=int, default=200, help="samples timed per folder and thread count")
    parser.add_argument("--check", type=int, default=0, help="samples compared per folder (0: every common start)")
    parser.add_argument("--rounds", type=int, default=7,
                        help="rounds of the 1-thread side-by-side timing, whose median ratio is printed (0: none)")
    parser.add_argument("--real-neurons", type=int, default=8000, help="neurons of the real-size folder (0: skip)")
    args = parser.parse_args()
    up, why = load_upstream(args.upstream)
    print(f"torch {torch.__version__}, {os.cpu_count()} cores; timings on a shared machine are provisional")
    compiled = prepare_compiled_kernel()
    print("our screen frames: " + ("the compiled kernel (numba)" if compiled else
                                   "the NumPy path (COURSE_COMPILED_KERNELS=0, or numba unavailable)"))
    if up is None:
        print(f"side-by-side comparison with upstream SKIPPED: {why}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        os.environ.setdefault("COURSE_EXPERANTO_CACHE", str(workdir / "cache"))
        folders = write_folders(workdir, args.real_neurons)
        common: dict[str, np.ndarray] = {}
        if up is not None:
            print("folders both ways:")
            upstream_reads_ours(up, folders, workdir)
            we_read_upstreams(up, workdir)
            print("identical samples (ours with upstream_clock=True against upstream, default config):")
            common = compare_samples(up, folders, workdir, args.check)
        print("samples/s, single process, default config:")
        speed(up, folders, workdir, common, args.samples, args.rounds)
        print("start-up:")
        startup(up, folders, workdir)
        print("where our time goes:")
        breakdown(folders.get("real-size", folders["mouse"]))


if __name__ == "__main__":
    main()
