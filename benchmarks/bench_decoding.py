"""Accuracy (R²) and fit time of every decoder on every demo NeuroTask session, and what limits the networks.

Part 1 runs the pipeline of chapter 08 (rewarded trials, 20 ms bins, 5 bins of history, z-scored spikes,
chronological 7:1:2 splits, hand or cursor velocity) on every session of the demo files and prints

* test R² (mean of x and y) per session and model, and the mean fit time per model;
* for how many sessions each network matches or beats the Wiener filter;
* for the networks, the train and validation loss at the best epoch (a large gap = overfitting).

``--dropout 0`` trains the networks without dropout: they then overfit and the GRU falls below the Wiener
filter on 5 of the 8 demo sessions with velocity (2 of 8 with the default dropout 0.5). Datasets without
velocity (the Key Grasp demo file) are skipped, with the reason printed.

Part 2 (``--data-size``) simulates one center-out session with more and more trials and compares the Wiener
filter with the recurrent decoders: with little data the networks overfit, with more they catch up. The demo
sessions have 80-90 trials; real NeuroTask sessions have several hundred.

Timings are wall-clock seconds on the machine that runs the script; on a busy shared machine they are
inflated, and BLAS/torch thread oversubscription can make them much worse (run with OMP_NUM_THREADS=1 there).

Run: ``python benchmarks/bench_decoding.py`` (a few minutes; ``COURSE_FAST=1`` for 8-epoch training,
``--data-size`` for part 2).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

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
    sessions_from_lists,
)
from course_utils.neurotask import load_and_filter_parquet, process_data, rebin, velocity_columns
from course_utils.neurotask.simulate import DatasetSpec, simulate_dataset

BIN_MS, BINS_BEFORE = 20, 5
SPLITS = {"training_range": [0, 0.7], "valid_range": [0.7, 0.8], "testing_range": [0.8, 1]}
NETWORKS = ("Feed-forward", "GRU", "LSTM")


DROPOUT: dict = {}  # e.g. {"dropout": 0.0} with --dropout 0, to see the networks without it


def decoders() -> dict:
    return {
        "Wiener filter": WienerFilter(),
        "Wiener cascade": WienerCascade(),
        "Kalman filter": KalmanFilterDecoder(),
        "Ridge": RidgeDecoder(),
        "Feed-forward": FeedForwardDecoder(progress=False, **DROPOUT),
        "GRU": GRUDecoder(progress=False, **DROPOUT),
        "LSTM": LSTMDecoder(progress=False, **DROPOUT),
    }


def sessions_of(df: pd.DataFrame, bin_ms: float, dataset: str) -> list:
    df = rebin(df, bin_ms, BIN_MS) if bin_ms != BIN_MS else df
    arrays = process_data(df, BINS_BEFORE, behavior_columns=velocity_columns(df), zscore=True, **SPLITS)
    keys = [{**s["key"], "dataset": dataset, "task": df["task"].iloc[0]} for s in arrays.sessions]
    return sessions_from_lists(*arrays, keys=keys, output_names=["vel_x", "vel_y"])


def part1() -> None:
    folder = get_source("neurotask")
    sessions = []
    for path in sorted(folder.glob("*.parquet")):
        df, bin_ms = load_and_filter_parquet(path)
        try:
            velocity_columns(df)
        except ValueError as err:  # a dataset without velocity (the Key Grasp demo file)
            print(f"skipped: {err}")
            continue
        sessions += sessions_of(df, bin_ms, path.stem)
    print(f"{len(sessions)} demo sessions; networks train for at most {default_max_epochs()} epochs\n")
    started = time.perf_counter()
    table, models = benchmark_decoders(decoders(), sessions, progress=False, return_models=True)
    total = time.perf_counter() - started

    per_session = (
        table.groupby(["task", "animal", "session", "model"], sort=False)["r2"].mean().unstack("model")
    )
    per_session = per_session[list(decoders())]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print("Test R² (mean of x and y) per session:")
        print(per_session.round(3).to_string(), "\n")
        summary = table.groupby("model", sort=False).agg(
            r2_mean=("r2", "mean"), fit_time_s=("fit_time_s", "mean")
        )
        print("Mean over sessions:")
        print(summary.round(3).to_string(), "\n")
    for name in ("Wiener cascade", "Kalman filter", "Ridge", *NETWORKS):
        wins = int((per_session[name] >= per_session["Wiener filter"] - 0.005).sum())
        print(
            f"{name:15s} matches or beats the Wiener filter (within 0.005) on {wins}/{len(per_session)} sessions"
        )
    print("\nNetworks at their best epoch (standardised MSE; a large train/val gap means overfitting):")
    for name in NETWORKS:
        rows = []
        for (_, model_name), est in models.items():
            if model_name == name and est.best_epoch_ > 0:
                k = est.best_epoch_ - 1
                rows.append(
                    (
                        est.history_["train_loss"][k],
                        est.history_["val_loss"][k],
                        est.best_epoch_,
                        est.n_epochs_,
                    )
                )
        train, val, best, ran = np.mean(rows, axis=0)
        print(f"  {name:13s} train {train:.3f}  val {val:.3f}  best epoch {best:.1f} of {ran:.1f} run")
    print(f"\nPart 1 took {total:.0f} s")


def part2(trial_counts: tuple[int, ...]) -> None:
    print("\nData size: one simulated center-out session (60 neurons), Wiener filter vs networks")
    rows = []
    for n_trials in trial_counts:
        spec = DatasetSpec(
            3, 10, "Bench", "CenterOut", "CenterOut", ((1, 1, n_trials, (60, 60)),), (("R", 1.0),)
        )
        df, _ = simulate_dataset(spec, seed=1)
        sessions = sessions_of(df, 10, "bench")
        chosen = {k: v for k, v in decoders().items() if k in ("Wiener filter", "GRU", "LSTM")}
        table = benchmark_decoders(chosen, sessions, progress=False)
        r2 = table.groupby("model", sort=False)["r2"].mean()
        rows.append({"trials": n_trials, "train_bins": len(sessions[0].X_train), **r2.round(3).to_dict()})
    print(pd.DataFrame(rows).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-size", action="store_true", help="also run part 2 (more trials per session)")
    parser.add_argument("--trials", type=int, nargs="+", default=[90, 360])
    parser.add_argument(
        "--dropout", type=float, default=None, help="override the networks' dropout (default 0.5)"
    )
    args = parser.parse_args()
    if args.dropout is not None:
        DROPOUT["dropout"] = args.dropout
        print(f"networks trained with dropout={args.dropout}")
    part1()
    if args.data_size:
        part2(tuple(args.trials))


if __name__ == "__main__":
    main()
