"""The exercise convention: stubs, student notebooks, friendly checks, and every chapter's exercises."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from course_utils import exercises
from course_utils.authoring import chapter_sources
from course_utils.authoring.student import (
    EXERCISE_HEADING,
    build_student_notebooks,
    make_stub,
    student_notebook,
)
from course_utils.exercises import ExerciseFeedback, check_exercise, exercise, feedback


@exercise("99.1", "Toy value")
def _check_toy_value(answer):
    if answer != 42:
        raise ExerciseFeedback("the answer is the product of 6 and 7.")


@exercise("99.2", "Toy function")
def _check_toy_function(func):
    if func(2) != 4:
        raise ExerciseFeedback("square the input.")


def test_stub_keeps_comments_imports_signatures_and_blanks_answers():
    source = (
        "# Compute the rates.\n"
        "import numpy as np\n"
        "from math import pi\n"
        "def rate(counts, bin_ms=10):\n"
        '    """Spikes per second."""\n'
        "    return counts / (bin_ms / 1000)\n"
        "rates, n = rate(np.ones(3)), 3\n"
        "total: float = rates.sum()\n"
        "for i in range(3):\n"
        "    n += i\n"
        "print(rates)\n"
    )
    stub = make_stub(source, "1.2")
    assert stub.splitlines()[:4] == ["# Exercise 1.2: your code here.", "# Compute the rates.", "import numpy as np", "from math import pi"]
    assert "def rate(counts, bin_ms=10):" in stub and '"""Spikes per second."""' in stub
    assert 'raise NotImplementedError("Exercise 1.2: write this function")' in stub
    assert "rates = ...  # TODO" in stub and "n = ...  # TODO" in stub and "total = ...  # TODO" in stub
    assert "return counts" not in stub and "print(rates)" not in stub and "for i" not in stub
    namespace: dict = {}
    exec(compile(stub, "<stub>", "exec"), namespace)  # the stub runs as is
    assert namespace["rates"] is Ellipsis
    with pytest.raises(NotImplementedError, match="Exercise 1.2"):
        namespace["rate"](1)


def test_check_messages_are_friendly_and_never_raise():
    assert feedback("99.1", 42).startswith("✅")
    wrong = feedback("99.1", 41)
    assert wrong.startswith("❌") and "product of 6 and 7" in wrong and "42" not in wrong
    assert "not answered yet" in feedback("99.1", ...)

    def stub(x):
        raise NotImplementedError("Exercise 0.91: write this function")

    assert "not answered yet" in feedback("99.2", stub)
    assert "raised ZeroDivisionError" in feedback("99.2", lambda x: 1 / 0)
    result = check_exercise("99.2", lambda x: x * x, verbose=False)
    assert result and result.passed and result.message.startswith("✅")
    assert not check_exercise("99.2", stub, verbose=False)
    with pytest.raises(KeyError, match="No check is registered"):
        check_exercise("99.99", 1)


def test_a_check_displays_its_message_only():
    """A chapter cell ending in check_exercise(...) shows the printed line, not a stray True/False."""
    from IPython.core.formatters import DisplayFormatter

    passed = check_exercise("99.1", 42, verbose=False)
    failed = check_exercise("99.1", 41, verbose=False)
    assert passed == True and failed == False  # noqa: E712  (it stands for a bool in code)
    assert bool(passed) and not failed and "product of 6 and 7" in failed.message
    assert DisplayFormatter().format(passed) == ({}, {})
    assert DisplayFormatter().format(failed) == ({}, {})


def test_strict_mode_turns_a_failing_check_into_an_error(monkeypatch):
    monkeypatch.setenv(exercises.ENV_STRICT, "1")
    assert check_exercise("99.1", 42, verbose=False)
    with pytest.raises(ExerciseFeedback, match="instructor solutions must pass"):
        check_exercise("99.1", 0, verbose=False)


def test_every_registered_exercise_treats_a_stub_as_not_answered():
    for exercise_id in exercises.registered_exercises():
        assert "not answered yet" in feedback(exercise_id, ...), exercise_id


def _chapter_exercises(path):
    """(exercise id, solution source, the code cell after it) for each solution cell of a chapter."""
    import jupytext

    nb = jupytext.read(path)
    found, current = [], None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and EXERCISE_HEADING.search(cell.source):
            current = EXERCISE_HEADING.search(cell.source).group(1)
        if "solution" in cell.metadata.get("tags", []):
            after = next((c for c in nb.cells[i + 1 :] if c.cell_type == "code"), None)
            found.append((current, cell.source, after.source if after else ""))
    return found


@pytest.mark.parametrize("path", chapter_sources(), ids=lambda p: p.stem)
def test_chapter_exercises_follow_the_convention(path):
    chapter = int(path.stem[:2])
    registered = exercises.registered_exercises()
    ids = []
    for exercise_id, solution, after in _chapter_exercises(path):
        assert exercise_id is not None, f"{path.name}: a solution cell comes before any 'Exercise N.M' heading"
        assert exercise_id.split(".")[0] == str(chapter), f"{path.name}: exercise {exercise_id} is not numbered {chapter}.M"
        assert re.search(rf'check_exercise\(\s*"{re.escape(exercise_id)}"', after), (
            f"{path.name}: the cell after exercise {exercise_id}'s solution must call check_exercise(\"{exercise_id}\", ...)"
        )
        assert exercise_id in registered, f"{path.name}: no check registered for exercise {exercise_id}"
        ast.parse(make_stub(solution, exercise_id))
        ids.append(exercise_id)
    assert len(ids) == len(set(ids)), f"{path.name}: an exercise has two solution cells"
    orphans = {k for k in registered if k.split(".")[0] == str(chapter)} - set(ids)
    assert not orphans, f"checks registered for exercises not in {path.name}: {sorted(orphans)}"


def test_student_notebooks_are_valid_and_hold_no_solution(tmp_path):
    written = build_student_notebooks(chapter_sources()[0].parent, tmp_path)
    assert len(written) == len(chapter_sources())
    for path in written:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            assert "solution" not in cell.metadata.get("tags", [])
            if "exercise-stub" in cell.metadata.get("tags", []):
                assert cell.source.startswith("# Exercise ")
                ast.parse(cell.source)


def test_solution_before_any_heading_is_an_error(tmp_path):
    chapter = tmp_path / "01_bad.py"
    chapter.write_text('# %% [markdown]\n# # 1. Bad\n\n# %% tags=["solution"]\nx = 1\n')
    with pytest.raises(ValueError, match="before any 'Exercise N.M' heading"):
        student_notebook(chapter)


def _loaded_names(source: str) -> set[str]:
    tree = ast.parse(source)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _stored_names(source: str) -> set[str]:
    tree = ast.parse(source)
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    stored |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stored |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    return stored


def _leaf_violations(path) -> list[str]:
    """Cells after an exercise that read a name only the exercise's solution defines."""
    import jupytext

    nb = jupytext.read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    problems = []
    for i, cell in enumerate(code):
        if "solution" not in cell.metadata.get("tags", []):
            continue
        # names the notebook defined before this solution are not the solution's alone
        before = set().union(*(_stored_names(c.source) for c in code[:i])) if i else set()
        answers = _stored_names(cell.source) - before
        redefined: set[str] = set()
        for later in code[i + 1 :]:
            if "solution" in later.metadata.get("tags", []):
                redefined |= _stored_names(later.source)
                continue
            if "check_exercise(" in later.source:
                continue
            used = (_loaded_names(later.source) & answers) - redefined
            if used:
                problems.append(f"a later cell uses {sorted(used)}, defined only by an exercise solution")
            redefined |= _stored_names(later.source)
    return problems


@pytest.mark.parametrize("path", chapter_sources(), ids=lambda p: p.stem)
def test_exercises_are_leaves(path):
    """In the student notebook a solution's names are stubs, so no later cell may depend on them: then the
    student notebook runs exactly like the instructor's everywhere outside the exercises."""
    problems = _leaf_violations(path)
    assert not problems, f"{path.name}: {problems[0]}. Recompute the value outside the exercise."


def test_leaf_check_catches_a_cell_that_uses_an_answer(tmp_path):
    chapter = tmp_path / "01_x.py"
    chapter.write_text(
        "# %%\nx = 1\n\n# %% [markdown]\n# ### Exercise 1.1 — a\n\n"
        '# %% tags=["solution"]\nanswer = x + 1\n\n# %%\ncheck_exercise("1.1", answer)\n\n'
        "# %%\nprint(answer * 2)\n"
    )
    assert _leaf_violations(chapter) == ["a later cell uses ['answer'], defined only by an exercise solution"]
