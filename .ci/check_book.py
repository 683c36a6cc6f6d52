"""Check the built book's buttons (``make check-book``, after ``make html``; part of ``make test``).

For every chapter page in ``book/_build/html/notebooks/``:

* the Colab button opens ``notebooks/NN_topic.ipynb`` of the repository and branch in ``book/_config.yml``,
  and that file is the chapter's committed paired notebook (tracked by git, so GitHub serves it);
* the download button's ``.ipynb`` is in the built site (``_sources/``), so the published pages serve it.

Exits non-zero with one line per problem.
"""

from __future__ import annotations

import posixpath
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


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
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(f"check-book: {line}", file=sys.stderr)
    if not found:
        print("check-book: every chapter's Colab and download buttons point at files that exist")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
