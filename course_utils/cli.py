"""Command line: ``python -m course_utils <group> <command>`` (also installed as ``course-utils``).

Data::

    python -m course_utils data list                     # sources and their modes
    python -m course_utils data fetch SOURCE [--mode M]  # generate (demo) or download (sample) now
    python -m course_utils data prepare                  # generate every source's demo data
    python -m course_utils data verify [SOURCE ...]      # re-check cached files; changes nothing
    python -m course_utils data path SOURCE [--mode M]   # print the local folder
    python -m course_utils data clean [SOURCE ...] [--mode M] [--stale] [--dry-run] [--yes]

Authoring (inside a checkout)::

    python -m course_utils book prepare                  # chapters -> book/notebooks/*.ipynb (to execute)
    python -m course_utils book data-page                # book/data_sources.md from the manifest
    python -m course_utils book set-repository URL       # the one setting behind Colab links and installs
    python -m course_utils exercises build [--out DIR]   # student notebooks

Sources with commands of their own (found through the source registry, :mod:`course_utils.sources`: each
source package's ``commands.py``; ``--help`` on each)::

    python -m course_utils sensorium train --data ROOT ...             # train the baseline (torchrun-ready)
    python -m course_utils sensorium validate SUBMISSION DATA_ROOT     # check a competition submission
    python -m course_utils sensorium score SUBMISSION [--truth DEMO]   # a leaderboard row on the demo
    python -m course_utils experanto index EXPERIMENT ...              # cache the screen trial index
    python -m course_utils experanto convert MOUSE OUT                 # a Sensorium mouse -> experiment folder

Errors of the course's own kinds (bad data, settings, manifest, files) are printed as one message that says
what to do, without a traceback; the exit status is 1 (2 for a mistyped name or option).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

DATA_EPILOG_VERIFY = """\
What it reads (and never changes):
  <data folder>/<source>/demo/     each demo set, compared with the current simulator
                                   (ok, missing, stale with the reason, incomplete without its marker)
  <data folder>/<source>/sample/   every cached file, hashed again and compared with the sha256 and
                                   exact size in data_manifest.yaml; files the manifest has no sha256 for
                                   are listed as "unchecked" (with their hash, and whether they still match
                                   their download); unpacked archives are checked file by file
  <data folder>/<source>/full/     listed as "unchecked": the manifest lists no files for full data
  leftovers (.tmp-*, .part-*, .extract-*, .trash-*) of interrupted runs are "leftover", or "in progress"
  while the process writing them holds the source's lock.
Exit status 1 if a file does not match (mismatch, changed).
Data folder now: {data_dir}"""

DATA_EPILOG_CLEAN = """\
What it deletes, under the data folder only (each folder is first renamed aside, then deleted):
  default          <data folder>/<source>/<mode>/ for the chosen sources (default: all) and modes
                   (default: all). Full data, which you downloaded by hand and can be many GB, are
                   deleted only with --yes or after you confirm at a terminal prompt.
  --stale          only what `data verify` calls stale, incomplete or leftover: demo sets of older
                   simulators, demo sets without their completion marker, and temporary files of interrupted
                   runs (.tmp-*, .part-*, .extract-*, .trash-*). Current demo sets and downloads stay.
Never touched: data being written by another process (skipped: their lock is held), anything outside the
data folder, and the target of a symbolic link (only the link is removed).
--dry-run lists what would be deleted, with sizes, and deletes nothing.
Data folder now: {data_dir}"""


def _print_clean(items, dry_run: bool) -> None:
    from .data import folder_size

    for item in items:
        size = f" ({folder_size(item.path) / 1e6:,.1f} MB)" if dry_run else ""
        extra = f": {item.detail}" if item.detail else ""
        print(f"{item.outcome:12s} {item.path}{size}  [{item.reason}]{extra}")
    if not items:
        print("nothing to remove")


def _confirm_full(items) -> bool:
    """Ask at a terminal before deleting full data; False without a terminal."""
    from .data import folder_size

    full = [i for i in items if i.mode == "full" and i.reason.startswith("all ")]
    if not full:
        return True
    if not sys.stdin or not sys.stdin.isatty():
        return False
    total = sum(folder_size(i.path) for i in full)
    print("This deletes full data you downloaded by hand:")
    for item in full:
        print(f"  {item.path}")
    answer = input(f"Delete {total / 1e9:,.2f} GB of full data? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


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
            print(f"{row.status:11s} {row.source:22s} {row.mode:6s} {row.path}  {row.detail}")
        bad = [r for r in rows if r.status in data.maintenance.PROBLEMS]
        unchecked = [r for r in rows if r.status == "unchecked"]
        if unchecked:
            print(
                f"\n{len(unchecked)} file(s) could not be checked: data_manifest.yaml gives no sha256 for them "
                "(listed as 'unchecked' above).",
                file=sys.stderr,
            )
        if bad:
            print(f"\n{len(bad)} file(s) do not match: delete them and fetch again.", file=sys.stderr)
        return 1 if bad else 0
    if args.command == "clean":
        if args.dry_run:
            _print_clean(data.clean(args.sources or None, args.mode, stale_only=args.stale, dry_run=True), True)
            return 0
        allow_full = args.yes
        if not allow_full:
            planned = data.plan_clean(args.sources or None, args.mode, stale_only=args.stale)
            allow_full = _confirm_full(planned)
        items = data.clean(args.sources or None, args.mode, stale_only=args.stale, allow_full=allow_full)
        _print_clean(items, False)
        return 1 if any(item.outcome == "failed" for item in items) else 0
    raise AssertionError(args.command)


def _authoring():
    """The authoring tools, which only a checkout has: the learners' wheel leaves them out."""
    try:
        return importlib.import_module(f"{__package__}.authoring")
    except ModuleNotFoundError as err:
        if err.name != f"{__package__}.authoring":
            raise
        raise FileNotFoundError(
            "The `book` and `exercises` commands are authoring tools: they are not in the installed course_utils "
            "package (the wheel learners install leaves them out). Clone the course repository and run them "
            "there (`pip install -e .`, or `make install`)."
        ) from None


def _cmd_book(args: argparse.Namespace) -> int:
    authoring = _authoring()
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
    authoring = _authoring()
    from .authoring.student import build_student_notebooks

    root = authoring.repo_root()
    for path in build_student_notebooks(root / "notebooks", Path(args.out)):
        print(f"wrote {path}")
    return 0


class _GroupsFormatter(argparse.HelpFormatter):
    """Keeps each group's help on its name's line (argparse measures sub-commands at the wrong indent)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)
        self._action_max_length = 16


def build_parser() -> argparse.ArgumentParser:
    from .data import data_dir
    from .sources import command_groups

    parser = argparse.ArgumentParser(
        prog="python -m course_utils",
        description="The course's command line: its data, authoring tools, and the sources' own commands.",
        epilog="`python -m course_utils GROUP --help` lists a group's commands.",
        formatter_class=_GroupsFormatter,
    )
    groups = parser.add_subparsers(dest="group", required=True, metavar="GROUP")

    data = groups.add_parser("data", help="list, fetch, verify and clean the course's data")
    cmds = data.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cmds.add_parser("list", help="sources and what each mode means")
    fetch = cmds.add_parser("fetch", help="generate (demo) or download (sample) a source now")
    fetch.add_argument("source")
    fetch.add_argument("--mode", choices=["demo", "sample", "full"])
    cmds.add_parser("prepare", help="generate every source's demo data")
    formatter = argparse.RawDescriptionHelpFormatter
    verify = cmds.add_parser(
        "verify",
        help="re-check cached files against the manifest's sha256; reads only",
        description="Re-check every cached file and demo set; nothing is downloaded, generated or changed.",
        epilog=DATA_EPILOG_VERIFY.format(data_dir=data_dir()),
        formatter_class=formatter,
    )
    verify.add_argument("sources", nargs="*", metavar="SOURCE", help="sources to check (default: all)")
    path = cmds.add_parser("path", help="print a source's local folder")
    path.add_argument("source")
    path.add_argument("--mode", choices=["demo", "sample", "full"])
    clean = cmds.add_parser(
        "clean",
        help="delete cached data (full data only with --yes); --dry-run lists it",
        description="Delete cached data safely (renamed aside, then deleted; busy data skipped).",
        epilog=DATA_EPILOG_CLEAN.format(data_dir=data_dir()),
        formatter_class=formatter,
    )
    clean.add_argument("sources", nargs="*", metavar="SOURCE", help="sources to clean (default: all)")
    clean.add_argument("--mode", choices=["demo", "sample", "full"], help="only this mode (default: all)")
    clean.add_argument("--stale", action="store_true", help="only stale and incomplete demo sets and leftovers")
    clean.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    clean.add_argument("--yes", "-y", action="store_true", help="also delete full data without asking")

    book = groups.add_parser("book", help="authoring (checkout only): chapters, data page, repo URL")
    bcmds = book.add_subparsers(dest="command", required=True, metavar="COMMAND")
    prep = bcmds.add_parser("prepare", help="write book/notebooks/*.ipynb from notebooks/*.py")
    prep.add_argument("--only", help="one chapter's name, e.g. 01_neurotask_loading")
    bcmds.add_parser("data-page", help="write book/data_sources.md from data_manifest.yaml")
    setrepo = bcmds.add_parser("set-repository", help="change the repository URL everywhere it is used")
    setrepo.add_argument("url")

    ex = groups.add_parser("exercises", help="authoring (checkout only): student notebooks")
    ecmds = ex.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = ecmds.add_parser("build", help="write student notebooks (solutions replaced by stubs)")
    build.add_argument("--out", default="_student")

    # The sources' own groups (read from the registry without importing them): listed so --help shows every
    # command; main() hands a command's arguments to its function, which has its own parser (and --help).
    for group, source in command_groups().items():
        sub = groups.add_parser(group, help=f"{source.name}: {', '.join(source.commands())}",
                                description=f"Commands of the {source.name} source ({source.package}.commands).")
        scmds = sub.add_subparsers(dest="command", required=True, metavar="COMMAND")
        for command, text in source.commands().items():
            scmds.add_parser(command, help=text, add_help=False)
    return parser


def _source_command(argv: list[str]) -> int | None:
    """Run ``GROUP COMMAND ARGS...`` of a source (its own parser reads ARGS); None if argv is not one."""
    from .sources import command_groups

    if len(argv) < 2 or argv[1].startswith("-"):
        return None
    source = command_groups().get(argv[0])
    if source is None or argv[1] not in source.commands():
        return None
    return source.run_command(argv[1], argv[2:])


def _our_errors() -> tuple[type[BaseException], ...]:
    from .data import DataError
    from .fileio import BadFileError
    from .manifest import ManifestError

    return (DataError, BadFileError, ManifestError)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m course_utils``; returns the exit status.

    Errors of the course's own kinds are printed as ``error: <message>`` without a traceback (status 1);
    unknown names and modes give status 2; other exceptions (bugs) keep their traceback.
    """
    from .data.settings import INTERFACE

    argv = list(sys.argv[1:] if argv is None else argv)
    token = INTERFACE.set("cli")  # messages say `--mode demo`, not `mode='demo'`
    try:
        passed = _source_command(argv)
        if passed is not None:
            return passed
        args = build_parser().parse_args(argv)
        handler = {"data": _cmd_data, "book": _cmd_book, "exercises": _cmd_exercises}[args.group]
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except _our_errors() as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyError as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a disk, permission or manifest-path problem: the message says which file
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        INTERFACE.reset(token)


if __name__ == "__main__":
    raise SystemExit(main())
