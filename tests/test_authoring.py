"""Chapters and book: paired notebooks in sync, the standard setup cell, one repository URL, data page."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils import authoring
from course_utils.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = authoring.chapter_sources(ROOT)


def test_there_are_chapters_and_a_setup_chapter():
    assert CHAPTERS and CHAPTERS[0].name == "00_setup_and_data.py"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_paired_notebook_exists_without_outputs_and_does_not_drift(path):
    paired = path.with_suffix(".ipynb")
    assert paired.is_file(), f"{paired.name} is missing: run `jupytext --sync {path.relative_to(ROOT)}`"
    nb = json.loads(paired.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, f"{paired.name} is committed with outputs"
    text = subprocess.run(
        [sys.executable, "-m", "jupytext", "--to", "py:percent", "-o", "-", str(paired)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    assert text == path.read_text(), f"{path.name} and {paired.name} differ: run `jupytext --sync {path.relative_to(ROOT)}`"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_the_standard_setup_cell_and_shape(path):
    import jupytext

    nb = jupytext.read(path)
    setup = [c for c in nb.cells if "setup" in c.metadata.get("tags", [])]
    assert len(setup) == 1, f"{path.name}: exactly one cell tagged 'setup'"
    assert setup[0].source.strip() == authoring.setup_cell(authoring.repository_url(ROOT)).strip(), (
        f"{path.name}: the setup cell differs from the standard one (book/contributing.md)"
    )
    title = nb.cells[0]
    number = int(path.stem[:2])
    assert title.cell_type == "markdown" and title.source.startswith(f"# {number}. "), f"{path.name}: title '# {number}. ...'"
    for word in ("**Goals:**", "**Time:**", "**Prerequisites:**", "**Data:**"):
        assert word in title.source, f"{path.name}: the first cell states {word}"
    headings = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Summary" in headings and "## Further reading" in headings, f"{path.name}: Summary and Further reading"
    assert "../shared" not in path.read_text(), f"{path.name} reads ../shared, which learners do not have"


def test_repository_url_has_one_source_of_truth():
    url = authoring.repository_url(ROOT)
    assert url.startswith("https://github.com/")
    assert f'Repository = "{url}"' in (ROOT / "pyproject.toml").read_text()
    assert url in (ROOT / "README.md").read_text()
    assert url in (ROOT / "book" / "contributing.md").read_text()
    import re

    for path in CHAPTERS:  # any other install cell (e.g. the NeuroGym extra) must use the same URL
        for found in re.findall(r"git\+(https://github\.com/[\w.-]+/[\w.-]+)", path.read_text()):
            assert found == url, f"{path.name} installs from {found}, not {url}"


def test_set_repository_rewrites_every_copy(tmp_path):
    for rel in ["book/_config.yml", "pyproject.toml", "README.md", "book/contributing.md", "jupytext.toml"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    (tmp_path / "notebooks").mkdir()
    shutil.copy(CHAPTERS[0], tmp_path / "notebooks")
    shutil.copy(CHAPTERS[0].with_suffix(".ipynb"), tmp_path / "notebooks")
    new = "https://github.com/some-org/neural-data-course"
    changed = authoring.set_repository(tmp_path, new)
    assert authoring.repository_url(tmp_path) == new
    assert tmp_path / "notebooks" / CHAPTERS[0].with_suffix(".ipynb").name in changed
    for path in changed:
        assert authoring.repository_url(ROOT) not in path.read_text(), path
    assert new in (tmp_path / "notebooks" / CHAPTERS[0].with_suffix(".ipynb").name).read_text()
    with pytest.raises(ValueError, match="not a GitHub repository URL"):
        authoring.set_repository(tmp_path, "https://example.com/x")


def test_book_copies_hide_solutions(tmp_path):
    shutil.copytree(ROOT / "book", tmp_path / "book", ignore=shutil.ignore_patterns("_build", "notebooks"))
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_demo.py").write_text(
        '# %% [markdown]\n# # 1. Demo\n\n# %% [markdown]\n# ### Exercise 1.1 — x\n\n# %% tags=["solution"]\nx = 1\n'
    )
    import nbformat

    (written,) = authoring.prepare_book_notebooks(tmp_path)
    nb = nbformat.read(written, as_version=4)
    assert nb.cells[-1].metadata["tags"] == ["solution", "hide-input"]
    with pytest.raises(ValueError, match="No chapter named"):
        authoring.prepare_book_notebooks(tmp_path, only="99_none")


def test_data_page_is_generated_from_the_manifest():
    page = authoring.data_page_markdown()
    for name, info in load_manifest()["sources"].items():
        assert info["title"] in page and f"`{name}`" in page and f"{{cite:p}}`{info['citation']}`" in page


def test_toc_lists_every_chapter_and_only_existing_pages():
    import yaml

    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for path in CHAPTERS:
        assert f"notebooks/{path.stem}" in files, f"{path.stem} is not in book/_toc.yml"
    generated = {"data_sources"}
    for entry in files:
        if entry.startswith("notebooks/"):
            assert (ROOT / f"{entry}.py").is_file(), f"_toc.yml lists {entry}, which has no notebooks/*.py"
        elif entry not in generated:
            assert (ROOT / "book" / f"{entry}.md").is_file(), f"_toc.yml lists book/{entry}.md, which does not exist"
