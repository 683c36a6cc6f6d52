"""Sensorium's commands: ``python -m course_utils sensorium train|validate|score`` (``--help`` on each).

``train`` runs unchanged under ``torchrun`` (``torchrun --nproc_per_node 2 -m course_utils sensorium train
...``: DistributedDataParallel, gloo on CPU, NCCL on GPUs). Each function takes the command's arguments and
returns the exit status; :mod:`course_utils.cli` finds them through ``COMMANDS`` (see :mod:`course_utils.sources`).

Taught in chapter 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

COMMANDS = {
    "train": "train the baseline model (flags from TrainConfig; torchrun-ready)",
    "validate": "check a submission zip or parquet file against a dataset folder",
    "score": "score a submission against the demo's withheld test responses (a leaderboard row)",
}
PROG = "python -m course_utils sensorium"


def train(argv: Sequence[str] | None = None) -> int:
    """Train the baseline; every field of :class:`~.training.TrainConfig` is a flag of its own type."""
    import torch.distributed as dist

    from ..flags import add_dataclass_flags, dataclass_from_flags
    from ..training import select_device
    from .training import TrainConfig, _distributed, train_model

    parser = argparse.ArgumentParser(prog=f"{PROG} train", description="Train the Sensorium baseline model.")
    parser.add_argument("--data", required=True, help="folder holding the dynamic*-Video-* mouse folders")
    parser.add_argument("--checkpoint", default=None, help="where to save the best model (.pt)")
    add_dataclass_flags(parser, TrainConfig, choices={"readout": ("gaussian", "factorized")})
    args = parser.parse_args(argv)
    config = dataclass_from_flags(TrainConfig, args)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("nccl" if select_device().type == "cuda" else "gloo")  # COURSE_DEVICE=cpu: gloo
    try:
        _, history = train_model(args.data, config, checkpoint=args.checkpoint)
        rank, world = _distributed()
        if rank == 0:
            print(f"world_size={world} epochs={len(history['oracle'])} best_oracle_corr={max(history['oracle']):.4f}")
    finally:
        if distributed:
            dist.destroy_process_group()
    return 0


def validate(argv: Sequence[str] | None = None) -> int:
    """Check a submission; exit status 0 when valid, 1 otherwise (every problem printed)."""
    from .submission import SUBMISSION_FRAME_RULE, FrameRule
    from .validation import validate_submission

    parser = argparse.ArgumentParser(prog=f"{PROG} validate",
                                     description="Check a Sensorium 2023 submission before uploading it.")
    parser.add_argument("submission", help="the zip (or one predictions_*.parquet.brotli file)")
    parser.add_argument("dataset_root", help="folder holding the dynamic*-Video-* mouse folders")
    parser.add_argument("--skip-last", type=int, default=None,
                        help="accept only this frame rule: 0 for the starter kit's T-50, 1 for the winners' T-51 "
                             "(default: both, as the server did)")
    parser.add_argument("--scored-mouse", action="append", default=None, metavar="MOUSE",
                        help="a mouse the submission must cover (repeat; default: the competition's scored mice)")
    args = parser.parse_args(argv)
    rule = None if args.skip_last is None else FrameRule(SUBMISSION_FRAME_RULE.skip_first, args.skip_last)
    report = validate_submission(args.submission, args.dataset_root, rule, args.scored_mouse)
    print(report)
    return 0 if report.ok else 1


def score(argv: Sequence[str] | None = None) -> int:
    """Print a leaderboard row: the submission's correlations against the demo's withheld test responses."""
    from .scoring import leaderboard_row, score_submission

    parser = argparse.ArgumentParser(
        prog=f"{PROG} score",
        description="Score a submission against the demo's withheld test responses (demo data only: real test "
                    "responses are not public).")
    parser.add_argument("submission", type=Path, help="the zip (or one predictions_*.parquet.brotli file)")
    parser.add_argument("--truth", type=Path, default=None,
                        help="the demo folder the predictions are for (default: the course's Sensorium demo data)")
    parser.add_argument("--team", default=None, help="the name on the row (default: the submission's file name)")
    args = parser.parse_args(argv)
    if args.truth is None:
        from ..data import get_source

        args.truth = get_source("sensorium2023", "demo")
    scores = score_submission(args.submission, args.truth)
    for line in leaderboard_row(args.team or args.submission.name, scores):
        print(line)
    return 0
