"""Claims that cannot drift: prose in a chapter is guarded by a hidden assert cell beside it.

The convention (book/contributing.md, "Claims that cannot drift"): a number or a statement in a chapter's prose that depends on
executed output is checked by a code cell tagged ``remove-cell`` (hidden in the book, run everywhere the
chapter runs), placed right after the cell whose output it checks and next to the prose it guards. When the
data, a simulator or a model change so that the text and the output disagree, executing the chapter fails,
and with it ``make test`` and the book build (which is built from the chapters that test executed).

This file proves both halves: a deliberately broken claim fails execution the way ``make test`` executes
chapters (pytest --nbmake, strict exercises), and every hidden assert cell of every chapter sits where it can
be read next to its claim.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
pytest.importorskip("nbmake")

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))

# A tiny chapter built the way the real ones are: a computing cell, its hidden check, the prose it guards,
# and an exercise check whose cell must show the message only.
_SYNTHETIC = '''# %% [markdown]
# # 99. A tiny chapter

# %%
import numpy as np

from course_utils.exercises import check_exercise

rates_hz = np.array([2.0, 4.0, 6.0])
print(f"mean rate {rates_hz.mean():.1f} spikes/s")

# %% tags=["remove-cell"]
# Guards the sentence below: "the mean rate is 4 spikes/s".
assert rates_hz.mean() == CLAIMED_MEAN, f"the text says the mean rate is 4 spikes/s, the output {rates_hz.mean()}"

# %% [markdown]
# The mean rate is 4 spikes/s.

# %%
def true_length(video):
    nan = np.isnan(video[0, 0, :])
    return int(np.argmax(nan)) if nan.any() else int(video.shape[-1])


# %%
check_exercise("3.1", true_length)
'''


def _write_chapter(folder: Path, claimed_mean: str) -> Path:
    text = _SYNTHETIC.replace("CLAIMED_MEAN", claimed_mean)
    notebook = jupytext.reads(text, fmt="py:percent")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "99_tiny_chapter.ipynb"
    jupytext.write(notebook, path)
    return path


def _execute_like_make_test(path: Path) -> subprocess.CompletedProcess:
    """``make chapters`` runs ``pytest --nbmake --overwrite`` with strict exercise checks."""
    env = {**os.environ, "COURSE_EXERCISES_STRICT": "1", "COURSE_FAST": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(path), "--nbmake", "--nbmake-timeout=120", "--overwrite",
         "-p", "no:cacheprovider", "-q", "--rootdir", str(path.parent)],
        cwd=path.parent, env=env, capture_output=True, text=True, timeout=300,
    )


def test_a_broken_claim_fails_the_chapter_and_an_honest_one_passes(tmp_path):
    (tmp_path / "honest").mkdir()
    (tmp_path / "broken").mkdir()
    honest = _write_chapter(tmp_path / "honest", "4.0")
    broken = _write_chapter(tmp_path / "broken", "5.0")

    ok = _execute_like_make_test(honest)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    failed = _execute_like_make_test(broken)
    assert failed.returncode != 0, "a chapter whose hidden check contradicts its output must fail"
    assert "the text says the mean rate is 4 spikes/s" in failed.stdout + failed.stderr

    # The executed honest chapter: the exercise cell shows its message and nothing else (no stray True).
    executed = jupytext.read(honest)
    check_cell = next(c for c in executed.cells if "check_exercise(\"3.1\"" in c.source)
    kinds = [output["output_type"] for output in check_cell.outputs]
    assert kinds == ["stream"], check_cell.outputs
    assert "correct" in check_cell.outputs[0]["text"]


def _names_bound(source: str) -> set[str]:
    """Names a cell assigns, defines or imports."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: not in the chapters' code cells
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _names_read(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


# Modules every cell reads: sharing one of these says nothing about which output a check is about.
_COMMON = {"np", "pd", "plt", "torch", "course_utils", "data", "print", "len", "float", "int"}


def _names_used(source: str) -> set[str]:
    """What a cell computes or shows: the names it binds or reads, less the common modules."""
    return (_names_bound(source) | _names_read(source)) - _COMMON


def hidden_claim_problems(cells) -> list[str]:
    """Where a notebook's hidden assert cells break the convention (empty list: none).

    A hidden claim check is a code cell tagged ``remove-cell`` that contains ``assert``. It must

    1. say what it guards: a comment, or a message on every ``assert``;
    2. sit where a reader of the source finds it with its claim: **right after the cell it checks** (the cell
       before it is a visible code cell, and the check reads a name that cell computes or shows), **or right
       next to the prose it guards** (the cell just before or just after it is markdown).
    """
    problems = []
    for i, cell in enumerate(cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code" or "remove-cell" not in tags or "assert" not in cell.source:
            continue
        where = f"hidden check at cell {i} ({cell.source.strip().splitlines()[0][:60]!r})"
        asserts = [n for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Assert)]
        has_comment = any(line.lstrip().startswith("#") for line in cell.source.splitlines())
        if not has_comment and not all(a.msg is not None for a in asserts):
            problems.append(f"{where}: say which claim it guards (a comment or an assert message)")
        previous = cells[i - 1] if i > 0 else None
        following = cells[i + 1] if i + 1 < len(cells) else None
        after_its_cell = (
            previous is not None and previous.cell_type == "code"
            and "remove-cell" not in previous.metadata.get("tags", [])
            and bool(_names_read(cell.source) & _names_used(previous.source))
        )
        beside_prose = any(c is not None and c.cell_type == "markdown" for c in (previous, following))
        if not (after_its_cell or beside_prose):
            problems.append(
                f"{where}: place it right after the code cell whose output it checks, or right next to the "
                "prose it guards"
            )
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_hidden_claim_checks_sit_next_to_their_claims(path):
    problems = hidden_claim_problems(jupytext.read(path).cells)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_the_placement_rule_catches_a_misplaced_check():
    good = jupytext.reads(_SYNTHETIC.replace("CLAIMED_MEAN", "4.0"), fmt="py:percent").cells
    assert hidden_claim_problems(good) == []
    # Moved away from the cell it checks (after the exercise), with no prose beside it.
    moved = [good[0], good[1], good[3], good[4], good[5], good[2]]
    found = hidden_claim_problems(moved)
    assert len(found) == 1 and "right after the code cell" in found[0], found
    # Right after the cell it checks, or right before its prose, is fine.
    assert hidden_claim_problems(good[:3]) == []
    assert hidden_claim_problems([good[0], good[2], good[3]]) == []
    # A bare assert that says nothing about the claim it guards.
    bare = [c.copy() for c in good]
    bare[2] = bare[2].copy()
    bare[2].source = "assert rates_hz.mean() == 4.0"
    assert any("say which claim" in p for p in hidden_claim_problems(bare))


PART_ONE = [p for p in CHAPTERS if int(p.name[:2]) <= 4]  # chapters 00-04; 05-09 are issue 18's other half


def _titles_itself(cell_source: str) -> bool:
    """The cell's only figure is drawn by a course figure function that adds demo_suffix() to its own title
    (a cell that also makes a figure of its own must title that one itself)."""
    import inspect

    import course_utils.allen.plots
    import course_utils.plotting

    if re.search(r"\bplt\.(subplots|figure|subplot_mosaic)\(", cell_source):
        return False
    for module in (course_utils.plotting, course_utils.allen.plots):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name != "demo_suffix" and re.search(rf"\b{name}\(", cell_source) \
                    and "demo_suffix()" in inspect.getsource(function):
                return True
    return False


@pytest.mark.parametrize("path", PART_ONE, ids=lambda p: p.stem)
def test_every_figure_drawn_from_data_says_demo_in_its_title(path):
    """Each cell that shows a figure adds demo_suffix() (" (demo)" in demo mode) to a title, itself or through
    a course figure function that does (the "what was recorded" figures)."""
    untitled = [cell.source.strip().splitlines()[0] for cell in jupytext.read(path).cells
                if cell.cell_type == "code" and "plt.show()" in cell.source and "demo_suffix()" not in cell.source
                and not _titles_itself(cell.source)]
    assert not untitled, f"{path.name}: figures without demo_suffix() in a title: {untitled}"


@pytest.mark.parametrize("path", PART_ONE, ids=lambda p: p.stem)
def test_part_one_chapters_have_a_demo_vs_real_box(path):
    assert "```{admonition} Demo vs real" in path.read_text(), f"{path.name}: add the 'Demo vs real' box"


def test_the_book_is_built_only_from_chapters_the_tests_executed():
    """So a chapter that fails its hidden checks also stops `make html` / `make book` / `make test`."""
    makefile = (REPO / "Makefile").read_text()
    assert "html: $(EXECUTED)" in makefile
    executed_rule = makefile.split("$(EXECUTED): ", 1)[1].split("\n\n", 1)[0]
    assert "chapters" in executed_rule
    chapters_rule = makefile.split("\nchapters: ", 1)[1].split("\n\n", 1)[0]
    assert "$(NBMAKE)" in chapters_rule and "$(NB_ENV)" in chapters_rule
    assert "COURSE_EXERCISES_STRICT=1" in makefile.split("\nNB_ENV :=", 1)[1].split("\n", 1)[0]
    assert 'execute_notebooks: "off"' in (REPO / "book" / "_config.yml").read_text()


def test_a_course_figure_function_exempts_only_a_cell_without_figures_of_its_own():
    assert _titles_itself("fig, axes = plot_neurotask_trial(df, bin_ms)\nplt.show()")
    assert not _titles_itself("plot_neurotask_trial(df, bin_ms)\nfig, ax = plt.subplots()\nax.plot(x)\nplt.show()")
    assert not _titles_itself("title = 'x' + demo_suffix()\nplt.show()")  # demo_suffix alone titles nothing
