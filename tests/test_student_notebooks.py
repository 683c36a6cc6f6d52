"""The student notebooks Colab opens (``notebooks/student/``) are exactly what the chapters generate.

They are committed so that Colab can open them from GitHub (the workshop page links to each one). A chapter
changed without rebuilding its student copy fails here, with the command that fixes it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("jupytext")
pytest.importorskip("nbformat")

from course_utils.authoring.student import build_student_notebooks  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
STUDENT = REPO / "notebooks" / "student"
CHAPTERS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))
FIX = "python -m course_utils exercises build --out notebooks/student"


def stale_student_notebooks(notebooks: Path, student: Path, scratch: Path) -> list[str]:
    """One line per chapter whose committed student notebook differs from a fresh build (or is missing)."""
    fresh = {p.name: p.read_bytes() for p in build_student_notebooks(notebooks, scratch)}
    problems = []
    for name, content in fresh.items():
        committed = student / name
        if not committed.is_file():
            problems.append(f"{committed.relative_to(notebooks.parent)} is missing")
        elif committed.read_bytes() != content:
            problems.append(f"{committed.relative_to(notebooks.parent)} is stale: its chapter changed")
    problems += [f"{p.relative_to(notebooks.parent)} has no chapter" for p in sorted(student.glob("*.ipynb"))
                 if p.name not in fresh]
    return problems


def test_committed_student_notebooks_match_the_chapters(tmp_path):
    problems = stale_student_notebooks(REPO / "notebooks", STUDENT, tmp_path / "fresh")
    assert not problems, "\n".join(problems) + f"\nRebuild them with `{FIX}` and commit notebooks/student/."


def test_a_changed_chapter_is_caught(tmp_path):
    """The check fails when a chapter changes and its student copy is not rebuilt."""
    notebooks, student = tmp_path / "notebooks", tmp_path / "notebooks" / "student"
    notebooks.mkdir()
    chapter = CHAPTERS[0]
    (notebooks / chapter.name).write_text(chapter.read_text())
    build_student_notebooks(notebooks, student)
    assert stale_student_notebooks(notebooks, student, tmp_path / "fresh1") == []
    (notebooks / chapter.name).write_text(chapter.read_text() + "\n# %% [markdown]\n# A new paragraph.\n")
    found = stale_student_notebooks(notebooks, student, tmp_path / "fresh2")
    assert found == [f"notebooks/student/{chapter.stem}.ipynb is stale: its chapter changed"]


def test_student_notebooks_keep_no_solution():
    """Every solution cell became a stub: the student copies hold no `solution` tag."""
    for path in sorted(STUDENT.glob("*.ipynb")):
        text = path.read_text()
        assert '"solution"' not in text, f"{path.name} still holds a solution cell; rebuild with `{FIX}`"


def test_the_workshop_page_opens_every_student_notebook_in_colab():
    from course_utils.authoring import repository_url

    org_repo = "/".join(repository_url(REPO).split("/")[-2:])
    page = (REPO / "book" / "workshop.md").read_text()
    links = set(re.findall(r"https://colab\.research\.google\.com/github/([^)\s]+)", page))
    for chapter in CHAPTERS:
        expected = f"{org_repo}/blob/main/notebooks/student/{chapter.stem}.ipynb"
        assert expected in links, f"book/workshop.md: no Colab link to notebooks/student/{chapter.stem}.ipynb"
    for link in links:
        target = link.split("/blob/main/", 1)[1]
        assert (REPO / target).is_file(), f"book/workshop.md links to {target}, which does not exist"
