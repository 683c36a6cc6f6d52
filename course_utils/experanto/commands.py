"""Experanto's commands: ``python -m course_utils experanto index|convert`` (``--help`` on each).

``index`` parses the screen's per-trial YAML files once into the cache (never into the data folder), so later
opens are fast; ``convert`` turns a Sensorium 2023 mouse folder into an experiment folder. Each function takes
the command's arguments and returns the exit status (see :mod:`course_utils.sources`).

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

COMMANDS = {
    "index": "cache the screen trial index of experiment folders",
    "convert": "convert a Sensorium 2023 mouse folder into an experiment folder",
}
PROG = "python -m course_utils experanto"


def index(argv: Sequence[str] | None = None) -> int:
    """Index experiment folders (the cache path is printed)."""
    from .index import build_index

    parser = argparse.ArgumentParser(prog=f"{PROG} index", description=COMMANDS["index"])
    parser.add_argument("experiments", nargs="+", type=Path)
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    for folder in args.experiments:
        start = time.perf_counter()
        cache = build_index(folder, cache_dir=args.cache_dir)
        print(f"{folder}: indexed in {time.perf_counter() - start:.2f} s (cache: {cache})")
    return 0


def convert(argv: Sequence[str] | None = None) -> int:
    """Convert one Sensorium mouse folder."""
    from .convert import convert_sensorium_mouse

    parser = argparse.ArgumentParser(prog=f"{PROG} convert", description=COMMANDS["convert"])
    parser.add_argument("mouse_folder", type=Path)
    parser.add_argument("out_folder", type=Path)
    parser.add_argument("--gap-s", type=float, default=0.5)
    args = parser.parse_args(argv)
    print(f"wrote {convert_sensorium_mouse(args.mouse_folder, args.out_folder, gap_s=args.gap_s)}")
    return 0
