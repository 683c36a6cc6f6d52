"""Check the built book's buttons (``make check-book``, after ``make html``; part of ``make test``).

For every chapter page in ``book/_build/html/notebooks/``:

* the Colab button opens ``notebooks/NN_topic.ipynb`` of the repository and branch in ``book/_config.yml``,
  and that file is the chapter's committed paired notebook (tracked by git, so GitHub serves it);
* the download button's ``.ipynb`` is in the built site (``_sources/``), so the published pages serve it;
* no cell of the executed chapter (``book/notebooks/NN_topic.ipynb``, what the page shows) prints a progress
  bar once per refresh: at most 3 lines per bar, plus 2 per minute the cell ran (``make`` sets
  ``TQDM_MININTERVAL=60``; a bar whose postfix forces a refresh at every step would fill the page).

Exits non-zero with one line per problem.
"""

from __future__ import annotations

import json
import math
import posixpath
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# One refresh of a tqdm bar ends with its time bracket: "[00:26<00:00, 1.8it/s]" or, without a total,
# "[00:03, 25.9it/s]"; a bar's first line shows no rate yet: "[00:00<?, ?it/s]" or "[00:00, ?it/s]".
TQDM_REFRESH = re.compile(r"\[(?:\d+:)?\d+:\d\d(?:<|, )")
TQDM_START = re.compile(r"\[00:00(?:<\?|, \?)")


def _seconds(cell: dict) -> float:
    """How long the cell ran, from the execution times the kernel recorded (0 when not recorded)."""
    from datetime import datetime

    times = cell.get("metadata", {}).get("execution", {})
    try:
        start, end = (datetime.fromisoformat(times[k].replace("Z", "+00:00"))
                      for k in ("iopub.execute_input", "shell.execute_reply"))
    except (KeyError, ValueError):
        return 0.0
    return max((end - start).total_seconds(), 0.0)


def progress_problems(notebook: Path) -> list[str]:
    """Cells of an executed notebook that print their progress bars once per refresh."""
    found = []
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    for number, cell in enumerate(cells):
        text = "".join("".join(out.get("text", "")) for out in cell.get("outputs", [])
                       if out.get("output_type") == "stream")
        lines = [line for line in text.replace("\r", "\n").split("\n") if TQDM_REFRESH.search(line)]
        if not lines:
            continue
        bars = max(sum(bool(TQDM_START.search(line)) for line in lines), 1)
        allowed = bars * (3 + 2 * math.ceil(_seconds(cell) / 60))
        if len(lines) > allowed:
            found.append(f"{notebook.name}, cell {number}: {len(lines)} progress-bar lines for {bars} bar(s), "
                         f"more than {allowed}: a bar refreshes at every step (set_postfix without "
                         "refresh=False, or a mininterval that ignores $TQDM_MININTERVAL)")
    return found


def problems(root: Path = ROOT) -> list[str]:
    """One line per button that points at nothing; empty when all is well."""
    html_dir = root / "book" / "_build" / "html"
    config = yaml.safe_load((root / "book" / "_config.yml").read_text(encoding="utf-8"))
    url, branch = config["repository"]["url"].rstrip("/"), config["repository"].get("branch", "main")
    org_repo = "/".join(url.split("/")[-2:])
    tracked = set(subprocess.run(["git", "ls-files", "notebooks"], cwd=root, capture_output=True, text=True,
                                 check=True).stdout.split())
    found = []
    chapters = sorted((root / "notebooks").glob("[0-9][0-9]_*.py"))
    if not chapters:
        return ["no chapters in notebooks/"]
    for chapter in chapters:
        page = html_dir / "notebooks" / f"{chapter.stem}.html"
        if not page.is_file():
            found.append(f"{page.relative_to(root)} is missing: run `make html`")
            continue
        html = page.read_text(encoding="utf-8")
        target = f"notebooks/{chapter.stem}.ipynb"
        colab = f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/{target}"
        links = re.findall(r'href="(https://colab\.research\.google\.com/[^"]*)"', html)
        if colab not in links:
            found.append(f"{page.name}: the Colab button opens {links or 'nothing'}, not {colab}")
        if target not in tracked:
            found.append(f"{target} is not committed, so Colab cannot open it from GitHub")
        downloads = [href for href in re.findall(r'href="([^"]+\.ipynb)"', html) if "_sources/" in href]
        if not downloads:
            found.append(f"{page.name}: no download button for the .ipynb")
        for href in downloads:
            local = html_dir / posixpath.normpath(posixpath.join("notebooks", href))
            if not local.is_file():
                found.append(f"{page.name}: the download button points at {href}, which the built site lacks")
        executed = root / "book" / "notebooks" / f"{chapter.stem}.ipynb"
        if executed.is_file():
            found += progress_problems(executed)
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(f"check-book: {line}", file=sys.stderr)
    if not found:
        print("check-book: every chapter's Colab and download buttons point at files that exist; "
              "no executed cell prints a progress bar at every refresh")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
