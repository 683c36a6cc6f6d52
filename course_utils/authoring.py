"""Authoring tools used by the build (not by learners): chapter copies for the book, the data page,
and the repository URL setting.

The repository URL lives in ONE place, ``book/_config.yml`` (``repository.url``). The book's Colab launch
buttons read it directly; the chapters' setup cells, ``pyproject.toml`` and the README carry copies that
:func:`set_repository` rewrites and ``tests/test_authoring.py`` checks.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .manifest import load_manifest

SOLUTION_TAG = "solution"
CHAPTER_GLOB = "[0-9][0-9]_*.py"


def repo_root() -> Path:
    """The checkout's root folder; a clear error when the package is installed without one."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "book" / "_config.yml").is_file():
        raise FileNotFoundError(
            "Authoring commands need the course repository checked out (book/_config.yml not found next to "
            f"{root / 'course_utils'}). Clone the repository and install it with `pip install -e .`."
        )
    return root


def repository_url(root: Path | None = None) -> str:
    """The repository URL from ``book/_config.yml``: the one setting Colab links derive from."""
    root = root or repo_root()
    with open(root / "book" / "_config.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)["repository"]["url"].rstrip("/")


def setup_cell(url: str) -> str:
    """The exact source of every chapter's setup cell (percent format, without the cell marker)."""
    return (
        "# Colab: install the course package (keeps Colab's numpy/pandas/torch). Elsewhere: nothing to do.\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    subprocess.run(\n"
        f'        [sys.executable, "-m", "pip", "install", "-q", "course-utils @ git+{url}"],\n'
        "        check=True,\n"
        "    )\n"
    )


def chapter_sources(root: Path | None = None) -> list[Path]:
    """The chapters' ``.py`` sources, in book order."""
    root = root or repo_root()
    return sorted((root / "notebooks").glob(CHAPTER_GLOB))


def prepare_book_notebooks(root: Path | None = None, only: str | None = None) -> list[Path]:
    """Write ``book/notebooks/<chapter>.ipynb`` from each chapter's ``.py``, ready to be executed once.

    Solution cells get the ``hide-input`` tag so the book shows them behind a toggle. The copies are
    executed by the tests (nbmake ``--overwrite``) and the book is built from the executed copies, so
    every chapter runs exactly once per build.
    """
    import jupytext
    import nbformat

    root = root or repo_root()
    out = root / "book" / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for src in chapter_sources(root):
        if only and src.stem != only:
            continue
        nb = jupytext.read(src)
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if SOLUTION_TAG in tags and "hide-input" not in tags:
                cell.metadata["tags"] = [*tags, "hide-input"]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        target = out / f"{src.stem}.ipynb"
        nbformat.write(nb, target)
        written.append(target)
    if only and not written:
        raise ValueError(f"No chapter named {only!r} in notebooks/ (expected notebooks/{only}.py)")
    return written


def _fmt_size(size: int | None) -> str:
    if not size:
        return "?"
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000:
            return f"{size:.0f} {unit}"
        size /= 1000
    return f"{size:.0f} TB"


def data_page_markdown(manifest: dict | None = None) -> str:
    """The book's data page, generated from ``data_manifest.yaml`` (so the two never disagree)."""
    manifest = manifest or load_manifest()
    lines = [
        "# Data sources",
        "",
        "```{note}",
        "This page is generated from `data_manifest.yaml` by `python -m course_utils book data-page`; edit the",
        "manifest, not this page.",
        "```",
        "",
        "Every chapter runs on **demo** data by default: small files written by a simulator in `course_utils`, in",
        "exactly the real on-disk format, with known ground truth, so everything works offline. Set",
        "`COURSE_DATA_MODE=sample` (or pass `mode=\"sample\"`) to run the same code on real files, and `full` for",
        "the whole public dataset. See {doc}`notebooks/00_setup_and_data`.",
        "",
        "| source | title | license | modes |",
        "|---|---|---|---|",
    ]
    for name, info in manifest["sources"].items():
        lines.append(f"| `{name}` | [{info['title']}]({info['homepage']}) | {info['license']} | {', '.join(info['modes'])} |")
    for name, info in manifest["sources"].items():
        lines += ["", f"## {info['title']}", "", " ".join(info["description"].split()), ""]
        lines += [f"- **Source name:** `{name}` — **homepage:** <{info['homepage']}>", f"- **License:** {info['license']}"]
        lines += [f"- **Cite:** {{cite:p}}`{info['citation']}`", ""]
        for mode, block in info["modes"].items():
            lines += [f"### `{mode}`", "", " ".join(block["description"].split()), ""]
            if mode == "demo" and not block.get("synthetic"):
                params = ", ".join(f"{k}={v!r}" for k, v in block.get("params", {}).items())
                lines += [f"Generated by `{block['generator'].replace(':', '.')}({params})`.", ""]
            if mode == "sample" and block.get("files"):
                lines += ["| file | from | size | sha256 |", "|---|---|---|---|"]
                for entry in block["files"]:
                    where = entry.get("url") or "DANDI {dandiset}: `{path}`".format(**entry["dandi"])
                    sha = f"`{entry['sha256'][:16]}…`" if entry.get("sha256") else "recorded on first download"
                    exact, approx = entry.get("size"), entry.get("approx_size")
                    size = _fmt_size(exact) if exact is not None or not approx else f"~{_fmt_size(approx)}"
                    lines.append(f"| `{entry['path']}` | {where} | {size} | {sha} |")
                lines.append("")
            if mode == "full":
                lines += ["```text", block["instructions"].rstrip(), "```", ""]
    return "\n".join(lines) + "\n"


def write_data_page(root: Path | None = None) -> Path:
    """Write ``book/data_sources.md``; returns its path."""
    root = root or repo_root()
    target = root / "book" / "data_sources.md"
    target.write_text(data_page_markdown(load_manifest(root / "data_manifest.yaml")), encoding="utf-8")
    return target


def set_repository(root: Path | None, url: str) -> list[Path]:
    """Change the repository URL in ``book/_config.yml`` and every copy derived from it.

    Rewrites the config, ``pyproject.toml``, ``README.md`` and each chapter's setup cell (``.py`` and its
    paired ``.ipynb``); returns the files changed.
    """
    import subprocess
    import sys

    root = root or repo_root()
    url = url.rstrip("/")
    if not url.startswith("https://github.com/") or url.count("/") != 4:
        raise ValueError(f"{url!r} is not a GitHub repository URL like https://github.com/ORG/REPO")
    old = repository_url(root)
    changed = []
    targets = [root / "book" / "_config.yml", root / "pyproject.toml", root / "README.md"]
    targets += [p for p in (root / "book").glob("*.md")]
    for path in [*targets, *chapter_sources(root)]:
        text = path.read_text(encoding="utf-8")
        if old in text:
            path.write_text(text.replace(old, url), encoding="utf-8")
            changed.append(path)
            if path.suffix == ".py" and path.parent.name == "notebooks":
                # --sync keeps the pairing metadata exactly as authors get it from the command line
                subprocess.run([sys.executable, "-m", "jupytext", "--sync", str(path)], check=True, cwd=root)
                changed.append(path.with_suffix(".ipynb"))
    return changed
