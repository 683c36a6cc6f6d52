"""Benchmark: a recurrent agent trained by reward (recurrent PPO) on NeuroGym's PerceptualDecisionMaking.

Prints the agent's accuracy against trials of experience, with the training wall time at each point, then
its accuracy on 1,000 fresh trials. Goal: at least 0.80 on 1,000 fresh trials within 5 minutes of training
on 2 CPU cores (the ceiling is ~0.9: a fifth of trials have zero coherence). Wall time is inflated when other
processes share the cores: the CPU time (process time / threads) estimates an idle machine's wall time.

    python benchmarks/bench_rl.py                    # the full run of chapter 6 (6,000 trials), seed 0
    python benchmarks/bench_rl.py --seeds 0 1 2      # several agents: how reliably the goal is met
    python benchmarks/bench_rl.py --threads 2        # two torch threads (train_agent's default is one)
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from course_utils.tasks import make_task, play_trials, train_agent

GOAL_ACCURACY, GOAL_SECONDS = 0.80, 300.0


def run(seed: int, args: argparse.Namespace) -> dict:
    env = make_task("PerceptualDecisionMaking-v0", dt=100)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    agent, history = train_agent(
        env,
        n_trials=args.trials,
        seed=seed,
        n_envs=args.n_envs,
        hidden_size=args.hidden,
        eval_every=args.eval_every,
        eval_trials=300,
        num_threads=args.threads,
        progress=False,
    )
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    curve = history.curve()
    print(f"\nseed {seed}: accuracy on 300 fixed probe trials during training")
    print(f"{'trials':>8} {'time steps':>11} {'train wall s':>13} {'accuracy':>9}")
    for row in curve.itertuples():
        print(f"{row.trials:>8,} {row.steps:>11,} {row.seconds:>13.1f} {row.accuracy:>9.3f}")
    reached = curve[curve["accuracy"] >= GOAL_ACCURACY]
    first = reached.iloc[0] if len(reached) else None
    test = play_trials(agent, env, n_trials=1000, seed=12345)
    accuracy = float(test["correct"].mean())
    print(f"accuracy on 1,000 fresh trials: {accuracy:.3f} (goal >= {GOAL_ACCURACY}; ceiling ~0.90)")
    print(f"per coherence: {test.groupby('coh')['correct'].mean().round(3).to_dict()}")
    if first is not None:
        print(
            f"probe first >= {GOAL_ACCURACY}: after {int(first.trials):,} trials, {first.seconds:.0f} s of training"
        )
    else:
        print(f"probe never reached {GOAL_ACCURACY}")
    print(
        f"training: wall {history.seconds:.1f} s (evaluations excluded; {wall:.1f} s with them), "
        f"CPU {cpu:.1f} s (~{cpu / args.threads:.1f} s on idle cores), {history.trials:,} trials, "
        f"{history.steps:,} time steps, {history.gradient_steps:,} gradient steps"
    )
    ok = accuracy >= GOAL_ACCURACY and history.seconds <= GOAL_SECONDS
    return {"seed": seed, "accuracy": accuracy, "seconds": history.seconds, "cpu": cpu, "ok": ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6000, help="trials of experience (chapter 6 full run)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads while training")
    parser.add_argument("--n-envs", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--eval-every", type=int, default=500)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    print(
        f"RecurrentPPO, LSTM({args.hidden}) shared by policy and value, {args.n_envs} tasks in parallel, "
        f"{args.trials:,} trials per agent, {args.threads} torch threads"
    )
    results = [run(seed, args) for seed in args.seeds]
    print(f"\nload average at the end {os.getloadavg()[0]:.1f} (figures are provisional on a shared machine)")
    for r in results:
        print(
            f"seed {r['seed']}: accuracy {r['accuracy']:.3f} after {r['seconds']:.0f} s of training "
            f"(CPU {r['cpu']:.0f} s) -> {'PASS' if r['ok'] else 'BELOW GOAL'}"
        )
    print("PASS" if all(r["ok"] for r in results) else "BELOW GOAL")


if __name__ == "__main__":
    main()
