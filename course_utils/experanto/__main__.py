"""Command line: ``python -m course_utils.experanto index <experiment>...`` or ``convert <mouse> <out>``.

``index`` parses the screen's per-trial YAML files once into the cache (never into the data folder), so later
opens are fast; ``convert`` turns a Sensorium 2023 mouse folder into an experiment folder.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .convert import convert_sensorium_mouse
from .index import build_index


def main(argv: list[str] | None = None) -> None:
    """Run the command line (see the module docstring).

    Taught in chapter 04_experanto_chunks.
    """
    parser = argparse.ArgumentParser(prog="python -m course_utils.experanto", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    index = sub.add_parser("index", help="cache the screen trial index of experiment folders")
    index.add_argument("experiments", nargs="+", type=Path)
    index.add_argument("--cache-dir", type=Path, default=None)
    convert = sub.add_parser("convert", help="convert a Sensorium 2023 mouse folder to an experiment folder")
    convert.add_argument("mouse_folder", type=Path)
    convert.add_argument("out_folder", type=Path)
    convert.add_argument("--gap-s", type=float, default=0.5)
    args = parser.parse_args(argv)
    if args.command == "index":
        for folder in args.experiments:
            start = time.perf_counter()
            cache = build_index(folder, cache_dir=args.cache_dir)
            print(f"{folder}: indexed in {time.perf_counter() - start:.2f} s (cache: {cache})")
    else:
        out = convert_sensorium_mouse(args.mouse_folder, args.out_folder, gap_s=args.gap_s)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
