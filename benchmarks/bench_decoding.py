"""Accuracy and fit time of every decoder on every demo NeuroTask session; tuning; the classification track.

Part 1 runs the pipeline of chapter 08 (rewarded trials, 20 ms bins, 5 bins of history, chronological 7:1:2
splits, hand or cursor velocity) on every session of the demo files, with all eleven regression decoders at
their default settings, and prints

* test R² (mean of x and y) per session and model, and the mean R² and fit time per model;
* for how many sessions each decoder matches or beats the Wiener filter;
* for the networks, the train and validation loss at the best epoch (a large gap = overfitting).

The arrays hold spike *counts* (``process_data(..., zscore=False)``): the Poisson naive Bayes decoder needs
them, and the others are unaffected (linear, Kalman and tree decoders are invariant to z-scoring each neuron;
SVR and the networks standardise internally) except ridge, whose penalty then acts on count units.
Datasets without velocity (the Key Grasp demo file) are skipped, with the reason printed.

``--dropout 0`` trains the networks without dropout: they then overfit and the GRU falls below the Wiener
filter on more sessions (measured on the 8 demo sessions with velocity: 5 of 8, against 2 of 8 with the default
dropout 0.5).

``--tune`` (part 2) wraps every decoder in ``tuned(...)`` (hyperparameters chosen on each session's
validation split, budgets of :func:`~course_utils.decoding.default_n_iter`) and prints default vs tuned test
R², the ranks, and how many decoders changed rank.

``--classify`` (part 3) decodes the reach target of each trial from the 200 ms before movement onset
(onset from the hand speed after the go cue wherever a file has velocity, else ``EventMovement_start``; the
target is ``target_dir`` in whole degrees, else ``target_ID``) with every classifier, and prints accuracy
against the majority-class chance.

``--data-size`` (part 4) simulates one center-out session with more and more trials and compares the Wiener
filter with the recurrent decoders: with little data the networks overfit, with more they catch up.

Timings are wall-clock seconds on the machine that runs the script; on a busy shared machine they are
inflated, and BLAS/torch thread oversubscription can make them much worse (run with OMP_NUM_THREADS=1 there).

Run: ``python benchmarks/bench_decoding.py`` (``COURSE_FAST=1`` for 8-epoch training and small search
budgets; ``--sessions 4`` to use only the first sessions; ``--tune``, ``--classify``, ``--data-size``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from course_utils.data import get_source
from course_utils.decoding import (
    BoostedTreesClassifier,
    BoostedTreesDecoder,
    FeedForwardDecoder,
    GRUClassifier,
    GRUDecoder,
    KalmanFilterDecoder,
    LSTMClassifier,
    LSTMDecoder,
    NaiveBayesClassifier,
    NaiveBayesDecoder,
    RidgeDecoder,
    SimpleRNNClassifier,
    SimpleRNNDecoder,
    SVRDecoder,
    WienerCascade,
    WienerClassifier,
    WienerFilter,
    _memo,
    angle_labels,
    benchmark_classifiers,
    benchmark_decoders,
    default_max_epochs,
    movement_onset,
    sessions_from_lists,
    sessions_from_trials,
    trial_windows,
    tuned,
    tuning_report,
    xgboost_available,
)
from course_utils.neurotask import load_file, neuron_columns, process_data, rebin, velocity_columns
from course_utils.neurotask.simulate import DatasetSpec, simulate_dataset

BIN_MS, BINS_BEFORE = 20, 5
SPLITS = {"training_range": [0, 0.7], "valid_range": [0.7, 0.8], "testing_range": [0.8, 1]}
NETWORKS = ("Feed-forward", "Simple RNN", "GRU", "LSTM")
BEFORE_MOVEMENT = (-10, 0)  # bins of BIN_MS: the 200 ms before movement onset

DROPOUT: dict = {}  # e.g. {"dropout": 0.0} with --dropout 0, to see the networks without it


def decoders() -> dict:
    return {
        "Wiener filter": WienerFilter(),
        "Wiener cascade": WienerCascade(),
        "Kalman filter": KalmanFilterDecoder(),
        "Ridge": RidgeDecoder(),
        "Naive Bayes": NaiveBayesDecoder(),
        "Boosted trees": BoostedTreesDecoder(),
        "SVR": SVRDecoder(max_train_samples=2000),
        "Feed-forward": FeedForwardDecoder(progress=False, **DROPOUT),
        "Simple RNN": SimpleRNNDecoder(progress=False, **DROPOUT),
        "GRU": GRUDecoder(progress=False, **DROPOUT),
        "LSTM": LSTMDecoder(progress=False, **DROPOUT),
    }


def classifiers() -> dict:
    return {
        "Logistic (Wiener)": WienerClassifier(),
        "Naive Bayes": NaiveBayesClassifier(),
        "Boosted trees": BoostedTreesClassifier(),
        "Simple RNN": SimpleRNNClassifier(progress=False),
        "GRU": GRUClassifier(progress=False),
        "LSTM": LSTMClassifier(progress=False),
    }


def sessions_of(df: pd.DataFrame, bin_ms: float, dataset: str) -> list:
    df = rebin(df, bin_ms, BIN_MS) if bin_ms != BIN_MS else df
    arrays = process_data(df, BINS_BEFORE, behavior_columns=velocity_columns(df), zscore=False, **SPLITS)
    keys = [{**s["key"], "dataset": dataset, "task": df["task"].iloc[0]} for s in arrays.sessions]
    return sessions_from_lists(*arrays, keys=keys, output_names=["vel_x", "vel_y"])


def demo_files() -> list:
    return sorted(get_source("neurotask").glob("*.parquet"))


def part1(max_sessions: int | None) -> None:
    sessions = []
    for path in demo_files():
        df, bin_ms = load_file(path)
        try:
            velocity_columns(df)
        except ValueError as err:  # a dataset without velocity (the Key Grasp demo file)
            print(f"skipped: {err}")
            continue
        sessions += sessions_of(df, bin_ms, path.stem)
    sessions = sessions[:max_sessions]
    print(f"{len(sessions)} demo sessions; networks train for at most {default_max_epochs()} epochs; boosted "
          f"trees by {'XGBoost' if xgboost_available() else 'scikit-learn (HistGradientBoosting)'}\n")
    started = time.perf_counter()
    table, models = benchmark_decoders(decoders(), sessions, progress=False, return_models=True)
    total = time.perf_counter() - started

    per_session = (
        table.groupby(["task", "animal", "session", "model"], sort=False)["r2"].mean().unstack("model")
    )
    per_session = per_session[list(decoders())]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("Test R² (mean of x and y) per session:")
        print(per_session.round(3).to_string(), "\n")
        summary = table.groupby("model", sort=False).agg(
            r2_mean=("r2", "mean"), fit_time_s=("fit_time_s", "mean")
        )
        print("Mean over sessions:")
        print(summary.round(3).to_string(), "\n")
    for name in list(decoders())[1:]:
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
                rows.append((est.history_["train_loss"][k], est.history_["val_loss"][k], est.best_epoch_,
                             est.n_epochs_))
        if rows:
            train, val, best, ran = np.mean(rows, axis=0)
            print(f"  {name:13s} train {train:.3f}  val {val:.3f}  best epoch {best:.1f} of {ran:.1f} run")
    print(f"\nPart 1 took {total:.0f} s")


def part2_tune(max_sessions: int | None) -> None:
    _memo.clear()  # part 1's fits would make each search's first candidate free: time whole searches
    sessions = []
    for path in demo_files():
        df, bin_ms = load_file(path)
        sessions += sessions_of(df, bin_ms, path.stem)
    sessions = sessions[:max_sessions]
    print(f"\nTuning on the validation split: {len(sessions)} sessions")
    started = time.perf_counter()
    table, searches = benchmark_decoders({k: tuned(v) for k, v in decoders().items()}, sessions,
                                         progress=False, return_models=True)
    total = time.perf_counter() - started
    report = tuning_report(searches, sessions)
    ranking = report.groupby("model", sort=False)[["default_test", "tuned_test"]].mean()
    ranking["default_rank"] = ranking["default_test"].rank(ascending=False).astype(int)
    ranking["tuned_rank"] = ranking["tuned_test"].rank(ascending=False).astype(int)
    ranking["search_time_s"] = table.groupby("model", sort=False)["fit_time_s"].mean()
    print(ranking.sort_values("tuned_rank").round(3).to_string())
    moved = int((ranking["default_rank"] != ranking["tuned_rank"]).sum())
    gain = ranking["tuned_test"] - ranking["default_test"]
    print(f"\n{moved} of {len(ranking)} decoders changed rank; test R² changed by {gain.min():+.3f} to "
          f"{gain.max():+.3f} ({gain.idxmax()} gained most); best with defaults: "
          f"{ranking['default_test'].idxmax()}, best tuned: {ranking['tuned_test'].idxmax()}")
    print("Settings chosen most often:")
    for name, part in report.groupby("model", sort=False):
        chosen = part["best_params"].astype(str).value_counts()
        print(f"  {name:15s} {chosen.index[0]} ({chosen.iloc[0]}/{len(part)} sessions)")
    print(f"\nPart 2 took {total:.0f} s")


def part3_classify() -> None:
    sessions = []
    for path in demo_files():
        frame, bin_ms = load_file(path)
        frame = rebin(frame, bin_ms, BIN_MS) if bin_ms != BIN_MS else frame
        label = next((c for c in ("target_dir", "target_ID") if c in frame.columns), None)
        if label is None:
            continue
        # as chapter 8: onset from the hand speed wherever there is velocity (one definition for all files)
        if any(c.endswith("_vel_x") for c in frame.columns) and "EventGo_cue" in frame.columns:
            vx, vy = velocity_columns(frame)
            onset = movement_onset(frame, np.hypot(frame[vx], frame[vy]), "EventGo_cue")
        elif "EventMovement_start" in frame.columns:
            onset = frame["EventMovement_start"].to_numpy(dtype=bool)
        else:
            continue
        windows = trial_windows(frame, onset, BEFORE_MOVEMENT, feature_columns=neuron_columns(frame),
                                label_column=label)
        for w in windows:
            w["labels"] = angle_labels(w["labels"]) if label == "target_dir" else w["labels"].astype(int)
        sessions += sessions_from_trials(windows, dataset=path.stem, task=frame["task"].iloc[0])
    print(f"\nReach target from the {-BEFORE_MOVEMENT[0] * BIN_MS} ms before movement onset: {len(sessions)} "
          f"sessions, {sum(len(s.y_test) for s in sessions)} test trials")
    started = time.perf_counter()
    table = benchmark_classifiers(classifiers(), sessions, progress=False)
    summary = table.groupby("model", sort=False)[["accuracy", "chance", "fit_time_s"]].mean()
    print(summary.round(3).to_string())
    print(f"\nPart 3 took {time.perf_counter() - started:.0f} s")


def part4(trial_counts: tuple[int, ...]) -> None:
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
    parser.add_argument("--sessions", type=int, default=None, help="use only the first N demo sessions")
    parser.add_argument("--tune", action="store_true", help="also run part 2 (tuning on validation)")
    parser.add_argument("--classify", action="store_true", help="also run part 3 (reach-target classification)")
    parser.add_argument("--data-size", action="store_true", help="also run part 4 (more trials per session)")
    parser.add_argument("--skip-defaults", action="store_true", help="skip part 1")
    parser.add_argument("--trials", type=int, nargs="+", default=[90, 360])
    parser.add_argument(
        "--dropout", type=float, default=None, help="override the networks' dropout (default 0.5)"
    )
    args = parser.parse_args()
    if args.dropout is not None:
        DROPOUT["dropout"] = args.dropout
        print(f"networks trained with dropout={args.dropout}")
    if not args.skip_defaults:
        part1(args.sessions)
    if args.tune:
        part2_tune(args.sessions)
    if args.classify:
        part3_classify()
    if args.data_size:
        part4(tuple(args.trials))


if __name__ == "__main__":
    main()
