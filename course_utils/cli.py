"""Command line: ``python -m course_utils <group> <command>`` (also installed as ``course-utils``).

Data::

    python -m course_utils data list                     # sources and their modes
    python -m course_utils data fetch SOURCE [--mode M]  # generate (demo) or download (sample) now
    python -m course_utils data prepare                  # generate every source's demo data
    python -m course_utils data verify [SOURCE ...]      # check cached files against the manifest
    python -m course_utils data path SOURCE [--mode M]   # print the local folder
    python -m course_utils data clean [SOURCE ...] [--mode M] [--stale]

Authoring (inside a checkout)::

    python -m course_utils book prepare                  # chapters -> book/notebooks/*.ipynb (to execute)
    python -m course_utils book data-page                # book/data_sources.md from the manifest
    python -m course_utils book set-repository URL       # the one setting behind Colab links and installs
    python -m course_utils exercises build [--out DIR]   # student notebooks

Sources with commands of their own (arguments passed through; ``--help`` on each)::

    python -m course_utils sensorium validate SUBMISSION DATA_ROOT   # check a competition submission
    python -m course_utils sensorium train --data ROOT ...           # train the baseline (torchrun-ready)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_data(args: argparse.Namespace) -> int:
    from . import data

    if args.command == "list":
        manifest = data.load_manifest()
        for name, info in manifest["sources"].items():
            print(f"{name:24s} {info['title']}")
            for mode, block in info["modes"].items():
                print(f"    {mode:7s} {' '.join(block['description'].split())[:100]}")
        print(f"\nMode now: {data.data_mode()} (set {data.ENV_MODE}); data folder: {data.data_dir()} (set {data.ENV_DIR})")
        return 0
    if args.command == "path":
        mode = data.data_mode(args.mode)
        data.mode_info(args.source, mode)
        print(data.source_folder(args.source, mode))
        return 0
    if args.command in ("fetch", "prepare"):
        names = [args.source] if args.command == "fetch" else data.source_names()
        mode = args.mode if args.command == "fetch" else "demo"
        for name in names:
            block = data.mode_info(name, data.data_mode(mode))
            if block.get("synthetic"):
                print(f"{name}: synthetic (generated in memory), nothing to fetch")
                continue
            print(f"{name}: {data.get_source(name, mode)}")
        return 0
    if args.command == "verify":
        rows = data.verify(args.sources or None)
        for row in rows:
            print(f"{row.status:10s} {row.source:22s} {row.mode:6s} {row.path}  {row.detail}")
        bad = [r for r in rows if r.status == "mismatch"]
        if bad:
            print(f"\n{len(bad)} file(s) do not match their sha256: delete them and fetch again.", file=sys.stderr)
        return 1 if bad else 0
    if args.command == "clean":
        removed = data.clean(args.sources or None, args.mode, stale_only=args.stale)
        for folder in removed:
            print(f"removed {folder}")
        if not removed:
            print("nothing to remove")
        return 0
    raise AssertionError(args.command)


def _cmd_book(args: argparse.Namespace) -> int:
    from . import authoring

    root = authoring.repo_root()
    if args.command == "prepare":
        for path in authoring.prepare_book_notebooks(root, only=args.only):
            print(f"prepared {path.relative_to(root)}")
    elif args.command == "data-page":
        print(f"wrote {authoring.write_data_page(root).relative_to(root)}")
    elif args.command == "set-repository":
        for path in authoring.set_repository(root, args.url):
            print(f"updated {path.relative_to(root)}")
    return 0


def _cmd_exercises(args: argparse.Namespace) -> int:
    from . import authoring
    from .exercises import build_student_notebooks

    root = authoring.repo_root()
    for path in build_student_notebooks(root / "notebooks", Path(args.out)):
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_utils", description=__doc__.split("\n")[0])
    groups = parser.add_subparsers(dest="group", required=True)

    data = groups.add_parser("data", help="list, fetch, verify and clean the course's data")
    cmds = data.add_subparsers(dest="command", required=True)
    cmds.add_parser("list", help="sources and what each mode means")
    fetch = cmds.add_parser("fetch", help="generate (demo) or download (sample) a source now")
    fetch.add_argument("source")
    fetch.add_argument("--mode", choices=["demo", "sample", "full"])
    cmds.add_parser("prepare", help="generate every source's demo data")
    verify = cmds.add_parser("verify", help="check cached files against the manifest's sha256")
    verify.add_argument("sources", nargs="*")
    path = cmds.add_parser("path", help="print a source's local folder")
    path.add_argument("source")
    path.add_argument("--mode", choices=["demo", "sample", "full"])
    clean = cmds.add_parser("clean", help="delete cached data")
    clean.add_argument("sources", nargs="*")
    clean.add_argument("--mode", choices=["demo", "sample", "full"])
    clean.add_argument("--stale", action="store_true", help="only demo sets from older simulator versions")

    book = groups.add_parser("book", help="authoring: prepare chapters, data page, repository URL")
    bcmds = book.add_subparsers(dest="command", required=True)
    prep = bcmds.add_parser("prepare", help="write book/notebooks/*.ipynb from notebooks/*.py")
    prep.add_argument("--only", help="one chapter's name, e.g. 01_neurotask_loading")
    bcmds.add_parser("data-page", help="write book/data_sources.md from data_manifest.yaml")
    setrepo = bcmds.add_parser("set-repository", help="change the repository URL everywhere it is used")
    setrepo.add_argument("url")

    ex = groups.add_parser("exercises", help="student notebooks")
    ecmds = ex.add_subparsers(dest="command", required=True)
    build = ecmds.add_parser("build", help="write student notebooks (solutions replaced by stubs)")
    build.add_argument("--out", default="_student")
    return parser


# Source commands with their own argument parsers: "group command" -> "module:function(argv)".
PASS_THROUGH = {
    ("sensorium", "validate"): "course_utils.sensorium.validation:main",
    ("sensorium", "train"): "course_utils.sensorium.training:main",
}


def _pass_through(argv: list[str]) -> int | None:
    if len(argv) >= 2 and (argv[0], argv[1]) in PASS_THROUGH:
        import importlib

        module, _, func = PASS_THROUGH[(argv[0], argv[1])].partition(":")
        return getattr(importlib.import_module(module), func)(argv[2:])
    if argv and argv[0] in {group for group, _ in PASS_THROUGH}:
        commands = sorted(cmd for group, cmd in PASS_THROUGH if group == argv[0])
        print(f"usage: python -m course_utils {argv[0]} {{{','.join(commands)}}} ...", file=sys.stderr)
        return 2
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m course_utils``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    passed = _pass_through(argv)
    if passed is not None:
        return passed
    args = build_parser().parse_args(argv)
    handler = {"data": _cmd_data, "book": _cmd_book, "exercises": _cmd_exercises}[args.group]
    try:
        return handler(args)
    except (KeyError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        return 2
    except Exception as err:
        from .data import DataError

        if isinstance(err, DataError):
            print(f"error: {err}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    raise SystemExit(main())
