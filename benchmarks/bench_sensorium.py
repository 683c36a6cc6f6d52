"""Benchmark: the Sensorium baseline's score against the noise ceiling, and the validator's peak memory.

1. **Training** (``--part train``): train on the demo mice for up to ~3 minutes; print score, ceiling, time.
   Quality bar (issue 6): the single-trial correlation reaches at least 0.7 of the noise ceiling's. Scores are
   reported on the oracle tier (used for early stopping) and, as the organisers would score it, on the
   ``final_test_main`` tier with the simulator's withheld responses (not seen during training or selection).
2. **Validator memory** (``--part memory``): check submissions of the real per-trial size (8,000 neurons x 250
   frames of doubles, as the starter kit writes them) against a stand-in mouse folder built from the real
   facts (REAL_FILES.md: ~8,000 neurons, trials of 300 frames), each check in a fresh process, and print the
   peak memory of ``validate_submission`` beside a whole-file read (the validator's former way: the table in
   memory, ``neuron_ids`` as Python lists, every value as float64), on the same file in the same run. Shapes:
   4 and 16 rows of random predictions (the peak must not grow with rows: a real main-track file has ~290
   rows, 4.6 GB of values), and a constant prediction of 12 M values that brotli packs into a few kB.

    python benchmarks/bench_sensorium.py [--part train|memory|all] [--minutes 3] [--threads 2]

Timings and memory depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_NEURONS, N_FRAMES, TRIAL_FRAMES = 8000, 250, 300


# ------------------------------------------------------------------------------------------ training


def bench_training(args: argparse.Namespace) -> None:
    import torch

    from course_utils.manifest import load_manifest

    torch.set_num_threads(args.threads)
    params = load_manifest()["sources"]["sensorium2023"]["modes"]["demo"]["params"]
    with tempfile.TemporaryDirectory(prefix="bench_sensorium_") as tmp:
        _train_and_score(args, Path(tmp), params)


def _train_and_score(args: argparse.Namespace, root: Path, params: dict) -> None:
    from course_utils.sensorium import (
        TrainConfig,
        load_ground_truth,
        noise_ceiling,
        predict_trials,
        read_mice,
        score_mice,
        single_trial_correlation,
        train_model,
        write_demo_mice,
    )

    started = time.perf_counter()
    write_demo_mice(root, **params)
    print(f"demo data ({params}) written in {time.perf_counter() - started:.1f} s")
    mice = read_mice(root)

    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.learning_rate or TrainConfig.learning_rate, seed=args.seed,
                         max_minutes=args.minutes, patience=8, progress=False)
    started = time.perf_counter()
    model, history = train_model(mice, config)
    train_s = time.perf_counter() - started
    print(f"trained {len(history['epoch'])} epochs in {train_s:.0f} s "
          f"(oracle corr per epoch: {[round(x, 3) for x in history['oracle']]})")

    rows = []
    for tier in ("oracle", "final_test_main"):
        model_corr, ceiling_corr, truth_corr = {}, {}, {}
        for name, mouse in mice.items():
            trials = mouse.trials(tier)
            truth = load_ground_truth(root, name)
            if tier == "oracle":
                responses = [mouse.load("responses", t, trim=True) for t in trials]
            else:  # what the organisers hold: the withheld responses
                responses = [truth["withheld_responses"][t][:, : mouse.trial_lengths[t]] for t in trials]
            predictions = predict_trials(model, mouse, trials)
            rates = [truth["rates_per_frame"][t][:, : mouse.trial_lengths[t]] for t in trials]
            model_corr[name] = single_trial_correlation(predictions, responses, per_neuron=True)
            ceiling_corr[name] = noise_ceiling(responses, mouse.condition_hash[trials], per_neuron=True)
            truth_corr[name] = single_trial_correlation(rates, responses, per_neuron=True)
        score, ceiling, truth_score = (score_mice(x)["pooled"] for x in (model_corr, ceiling_corr, truth_corr))
        rows.append((tier, score, ceiling, score / ceiling, truth_score))

    print(f"\n{'tier':<16} {'score':>7} {'ceiling':>8} {'ratio':>6} {'true rates':>11}")
    for tier, score, ceiling, ratio, truth_score in rows:
        print(f"{tier:<16} {score:7.3f} {ceiling:8.3f} {ratio:6.2f} {truth_score:11.3f}")
    ratio = rows[1][3]
    print(f"\nfinal_test_main: single-trial correlation {rows[1][1]:.3f}, noise ceiling {rows[1][2]:.3f}, "
          f"ratio {ratio:.2f} (target >= 0.70: {'met' if ratio >= 0.7 else 'NOT met'}), training {train_s:.0f} s "
          f"on {args.threads} threads")
    print("('true rates' = the simulator's noise-free expected responses, the best any model could do)")


# ------------------------------------------------------------------------------------------ validator memory


def _standin_dataset(root: Path, n_test: int) -> str:
    """A mouse folder with the real sizes the validator reads: 8,000 unit ids, test trials of 300 frames."""
    name = "dynamic29515-10-12-Video-9b4f6a1a067fe51e15306b9628efea20"
    folder = root / name
    (folder / "meta" / "trials").mkdir(parents=True)
    (folder / "meta" / "neurons").mkdir(parents=True)
    (folder / "data" / "videos").mkdir(parents=True)
    tiers = np.array(["final_test_main"] * n_test + ["train"])
    np.save(folder / "meta" / "trials" / "tiers.npy", tiers)
    np.save(folder / "meta" / "trials" / "condition_hash.npy", np.array([f"clip{i % 2}" for i in range(len(tiers))]))
    rng = np.random.default_rng(0)
    np.save(folder / "meta" / "neurons" / "unit_ids.npy", np.sort(rng.choice(10**6, N_NEURONS, replace=False)))
    np.save(folder / "meta" / "neurons" / "cell_motor_coordinates.npy",
            rng.integers(-600, 600, (N_NEURONS, 3)).astype(np.int64))
    video = np.zeros((36, 64, TRIAL_FRAMES), dtype=np.float32)
    for i in range(len(tiers)):
        np.save(folder / "data" / "videos" / f"{i}.npy", video)
    return name


def _write_file(path: Path, mouse: str, unit_ids: np.ndarray, n_rows: int, constant: bool) -> int:
    """A final_test_main file as the starter kit's pandas code writes it: list<list<double>>, brotli."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    per_row = N_NEURONS * N_FRAMES
    rng = np.random.default_rng(1)
    values = np.zeros(n_rows * per_row) if constant else rng.random(n_rows * per_row)
    inner = pa.ListArray.from_arrays(pa.array(np.arange(0, values.size + 1, N_FRAMES, dtype=np.int32)),
                                     pa.array(values))
    outer_offsets = pa.array(np.arange(0, n_rows * N_NEURONS + 1, N_NEURONS, dtype=np.int32))
    table = pa.table({
        "mouse": [mouse] * n_rows,
        "trial_indices": pa.array(np.arange(n_rows, dtype=np.int64)),
        "prediction": pa.ListArray.from_arrays(outer_offsets, inner),
        "neuron_ids": pa.ListArray.from_arrays(outer_offsets, pa.array(np.tile(unit_ids, n_rows))),
    })
    pq.write_table(table, path, compression="brotli")
    return values.size


def _whole_file_read(path: Path) -> None:
    """The former validator's reads: the whole table, neuron_ids as Python lists, all values as float64."""
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path).read()
    table.column("mouse").to_pylist()
    table.column("neuron_ids").to_pylist()
    pred = table.column("prediction").combine_chunks()
    np.asarray(pred.flatten().flatten().to_numpy(zero_copy_only=False), dtype=np.float64)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:  # Linux: resident pages are the second field
        return int(statm.read().split()[1]) * resource.getpagesize()


def _measure(method: str, path: str, root: str) -> None:
    """Child process: run one method and print its peaks as JSON (RSS sampled every 2 ms by a thread)."""
    import threading
    import tracemalloc

    import pyarrow as pa

    from course_utils.sensorium import read_mice, validate_submission

    read_mice(root)  # imports and the dataset tables are not what is measured
    base, peak, done = _rss_bytes(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            done.wait(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    tracemalloc.start()
    started = time.perf_counter()
    if method == "validate":
        report = validate_submission(path, root)
        assert report.ok, str(report)
    else:
        _whole_file_read(Path(path))
    seconds = time.perf_counter() - started
    python_peak = tracemalloc.get_traced_memory()[1]
    done.set()
    sampler.join()
    print(json.dumps({"seconds": seconds, "python_mb": python_peak / 1e6,
                      "arrow_mb": pa.default_memory_pool().max_memory() / 1e6, "rss_mb": (peak[0] - base) / 1e6}))


def bench_memory() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench_sensorium_memory_"))
    print(f"\nValidator peak memory (each run in a fresh process; {N_NEURONS} neurons x {N_FRAMES} frames per row)")
    print(f"{'file':<34} {'values':>11} {'file kB':>9} {'method':>16} {'seconds':>8} {'peak RSS MB':>12} "
          f"{'arrow MB':>9} {'python MB':>10}")
    for n_rows, constant in [(4, False), (16, False), (6, True)]:
        root = work / f"data_{n_rows}_{int(constant)}"
        mouse = _standin_dataset(root, n_rows)
        unit_ids = np.load(root / mouse / "meta" / "neurons" / "unit_ids.npy")
        path = root.parent / f"sub_{n_rows}_{int(constant)}" / "predictions_final_main.parquet.brotli"
        path.parent.mkdir()
        n_values = _write_file(path, mouse, unit_ids, n_rows, constant)
        label = f"{n_rows} rows, {'constant' if constant else 'random'}"
        for method in ("validate", "whole-file read"):
            out = subprocess.run([sys.executable, __file__, "--_measure", method, str(path), str(root)],
                                 capture_output=True, text=True, check=True)
            peaks = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{label:<34} {n_values:>11,} {path.stat().st_size / 1e3:>9,.0f} {method:>16} "
                  f"{peaks['seconds']:>8.1f} {peaks['rss_mb']:>12.0f} {peaks['arrow_mb']:>9.0f} "
                  f"{peaks['python_mb']:>10.1f}")
        path.unlink()
    shutil.rmtree(work)
    print("peak RSS = highest resident memory during the call minus before it (sampled every 2 ms; everything: "
          "Arrow buffers, NumPy, Python objects); arrow = Arrow's allocator peak; python = tracemalloc peak "
          "(Python objects and NumPy).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["train", "memory", "all"], default="all")
    parser.add_argument("--minutes", type=float, default=3.0, help="training time budget")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--learning-rate", type=float, default=None, help="learning rate (default: TrainConfig's)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--_measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._measure:
        _measure(*args._measure)
        return
    if args.part in ("memory", "all"):
        bench_memory()
    if args.part in ("train", "all"):
        bench_training(args)


if __name__ == "__main__":
    main()
