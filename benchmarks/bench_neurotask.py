"""Speed and memory of the NeuroTask preprocessing on a file of upstream's reference size.

Generates a demo-format center-out file (>= 200,000 rows of 10 ms bins x 100 neuron columns, NaN-padded
float64 counts as in the real files) with the course simulator, loads it (not timed: pyarrow-bound for
both implementations), then times

* ``rebin`` 10 -> 20 ms,
* ``align_event`` (go cue, -200 .. +600 ms) on the 20 ms frame,
* ``process_data(bins_before=5)`` (7:1:2, hand velocity, z-scored) on the 20 ms frame,

and measures ``process_data``'s peak memory with tracemalloc (numpy reports its allocations to it),
relative to the binned input frame. Upstream's reference timings (``api_neurotask.py`` on a
201,349 x 112 file) are printed beside ours; they come from ``shared/docs/SOURCES.md``, they were not
re-measured here.

Run: ``python benchmarks/bench_neurotask.py`` (about a minute; ``--rows`` to change the size).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

from course_utils.neurotask import align_event, load_and_filter_parquet, process_data, rebin
from course_utils.neurotask.simulate import DatasetSpec, simulate_dataset

UPSTREAM_S = {"rebin 10->20 ms": 8.2, "align_event": 1.0, "process_data (bins_before=5)": 2.4}


def make_file(folder: Path, rows: int, seed: int = 0) -> Path:
    """A demo-format center-out file with about ``rows`` rows and 100 neuron columns."""
    trials = int(rows / 190) + 1  # a rewarded center-out trial lasts ~1.9 s
    half = trials // 2
    spec = DatasetSpec(
        3,
        10,
        "Bench",
        "CenterOut",
        "CenterOut",
        ((1, 1, half, (100, 100)), (2, 1, trials - half, (92, 92))),
        (("R", 0.85), ("F", 0.05), ("I", 0.03), ("A", 0.07)),
    )
    df, _ = simulate_dataset(spec, seed=seed)
    path = folder / spec.file_name
    df.to_parquet(path, index=False)
    return path


CPU_TIMES: dict[str, float] = {}


def best_of(func, repeats: int, name: str = ""):
    """Best wall time of ``repeats`` runs (and best CPU time, less sensitive to a busy machine)."""
    times, cpu, result = [], [], None
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = func()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    CPU_TIMES[name] = min(cpu)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=205_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        path = make_file(Path(tmp), args.rows)
        print(f"generated {path.name} in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        df, bin_ms = load_and_filter_parquet(path, exclude=None)
        print(
            f"loaded {df.shape[0]:,} rows x {df.shape[1]} columns in {time.perf_counter() - started:.2f} s (not counted)"
        )

    t_rebin, binned = best_of(lambda: rebin(df, bin_ms, 20), args.repeats, "rebin 10->20 ms")
    t_align, aligned = best_of(
        lambda: align_event(binned, "EventGo_cue", 20, offset_min=-200, offset_max=600),
        args.repeats,
        "align_event",
    )
    ranges = ([0, 0.7], [0.7, 0.8], [0.8, 1.0])
    targets = ["hand_vel_x", "hand_vel_y"]

    def run(respect_trials: bool):
        return process_data(binned, 5, *ranges, targets, zscore=True, respect_trials=respect_trials)

    t_process, _ = best_of(lambda: run(True), args.repeats, "process_data (bins_before=5)")
    t_process_views, _ = best_of(lambda: run(False), args.repeats)

    input_mb = binned.memory_usage(deep=True).sum() / 1e6
    peaks = {}
    for respect in (True, False):
        tracemalloc.start()
        out = run(respect)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        x_mb = sum(x.nbytes for x in out.X_train + out.X_val + out.X_test) / 1e6
        peaks[respect] = (peak / 1e6, x_mb)
        del out

    print(
        f"\nbinned input: {binned.shape[0]:,} rows x {binned.shape[1]} columns, {input_mb:.0f} MB in memory"
    )
    print(f"aligned: {aligned.shape[0]:,} rows\n")
    print(
        f"{'step':34s} {'wall (s)':>9s} {'CPU (s)':>8s} {'upstream (s)':>13s} {'x (wall)':>9s} {'x (CPU)':>8s}"
    )
    ours = {
        "rebin 10->20 ms": t_rebin,
        "align_event": t_align,
        "process_data (bins_before=5)": t_process,
    }
    for name, seconds in ours.items():
        cpu = CPU_TIMES[name]
        print(
            f"{name:34s} {seconds:10.3f} {cpu:8.3f} {UPSTREAM_S[name]:13.1f} {UPSTREAM_S[name] / seconds:8.0f}x"
        )
    total, total_up = sum(ours.values()), sum(UPSTREAM_S.values())
    cpu_total = sum(CPU_TIMES[name] for name in ours)
    print(
        f"{'total':34s} {total:9.3f} {cpu_total:8.3f} {total_up:13.1f} {total_up / total:8.0f}x "
        f"{total_up / cpu_total:7.0f}x"
    )
    print(f"{'process_data, respect_trials=False':34s} {t_process_views:9.3f}")
    print("\nprocess_data peak memory (tracemalloc), relative to the binned input frame:")
    for respect, (peak_mb, x_mb) in peaks.items():
        print(
            f"  respect_trials={respect!s:5s}: peak {peak_mb:6.0f} MB = {peak_mb / input_mb:.2f}x input "
            f"(X arrays' nominal size {x_mb:.0f} MB; views share one float32 copy)"
        )
    print(
        "\nUpstream figures are from its authors' machine; ours are the best of the repeats here. On a busy "
        "machine wall time includes waiting for a core; CPU time (process_time) does not. A materialised "
        "float32 X with 6 lags is 3x a float64 count matrix, so <= 2x the input is only possible with views "
        "(respect_trials=False). Upstream's float64 X alone would be "
        f"{binned.shape[0] * 6 * 100 * 8 / 1e6:.0f} MB."
    )


if __name__ == "__main__":
    main()
