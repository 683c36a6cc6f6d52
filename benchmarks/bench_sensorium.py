"""Benchmark: train the Sensorium baseline on the demo mice for up to ~3 minutes; print score, ceiling, time.

Quality bar (issue 6): the single-trial correlation reaches at least 0.7 of the noise ceiling's. Scores are
reported on the oracle tier (used for early stopping) and, as the organisers would score it, on the
``final_test_main`` tier with the simulator's withheld responses (not seen during training or model selection).

    python benchmarks/bench_sensorium.py [--minutes 3] [--threads 2]

Timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from course_utils.manifest import load_manifest
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="training time budget")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--lr", type=float, default=TrainConfig.lr)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    params = load_manifest()["sources"]["sensorium2023"]["modes"]["demo"]["params"]
    root = Path(tempfile.mkdtemp(prefix="bench_sensorium_"))
    started = time.perf_counter()
    write_demo_mice(root, **params)
    print(f"demo data ({params}) written in {time.perf_counter() - started:.1f} s")
    mice = read_mice(root)

    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
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
    print("('true rates' = the simulator's noise-free rates, the best any model could do on single trials)")


if __name__ == "__main__":
    main()
