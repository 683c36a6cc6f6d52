"""Benchmark: an LSTM on NeuroGym's PerceptualDecisionMaking, trained in under a minute on 2 CPU cores.

Quality bar: accuracy >= 0.85 on 1,000 fresh trials (the ceiling is ~0.9: a fifth of trials have zero
coherence). Prints accuracy, wall-clock and CPU training time. Wall time is inflated when other processes
share the cores: the CPU time (process time / threads) is the better estimate of an idle machine's wall time.

    python benchmarks/bench_tasks.py                 # the full-length run of chapter 6 (2,000 steps)
    python benchmarks/bench_tasks.py --cell rnn      # vanilla RNN for comparison
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from course_utils.tasks import RecurrentNetwork, make_dataset, make_task, run_trials, set_seed, train_network


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--cell", default="lstm", choices=["rnn", "gru", "lstm"])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the chapters use one)")
    parser.add_argument("--class-weights", default="balanced", choices=["balanced", "none"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr-schedule", default="cosine", choices=["none", "cosine"])
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    env = make_task("PerceptualDecisionMaking-v0", dt=100)
    set_seed(args.seed)
    net = RecurrentNetwork(3, 3, hidden_size=args.hidden, cell=args.cell)
    dataset = make_dataset(env, batch_size=16, seq_len=100, seed=args.seed)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    history = train_network(
        net,
        dataset,
        n_steps=args.steps,
        learning_rate=1e-2,
        progress=False,
        class_weights=None if args.class_weights == "none" else "balanced",
        lr_schedule=None if args.lr_schedule == "none" else args.lr_schedule,
        seed=args.seed,
    )
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    test = run_trials(net, env, n_trials=1000, seed=12345)
    accuracy = test["correct"].mean()
    load = os.getloadavg()[0]
    print(
        f"{args.cell.upper()}({args.hidden}) {args.steps} steps, batch 16 x 100 steps, Adam 1e-2, "
        f"class weights {args.class_weights}, lr schedule {args.lr_schedule}, {args.threads} threads"
    )
    print(f"accuracy on 1,000 fresh trials: {accuracy:.3f} (bar: 0.85; ceiling ~0.90)")
    print(f"per coherence: {test.groupby('coh')['correct'].mean().round(3).to_dict()}")
    print(
        f"training: wall {wall:.1f} s, CPU {cpu:.1f} s (~{cpu / args.threads:.1f} s on idle cores), "
        f"{history.trials_seen:,} trials; load average at the end {load:.1f}"
    )
    print("PASS" if accuracy >= 0.85 else "BELOW BAR")


if __name__ == "__main__":
    main()
