"""Generate student notebooks: each ``solution`` cell becomes a stub, everything else stays.

An authoring tool (``python -m course_utils exercises build``), not in the learners' wheel. The test run of
the student notebooks reuses the chapters' trainings through :func:`course_utils.training.reuse_training`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from . import CHAPTER_GLOB, SOLUTION_TAG

EXERCISE_HEADING = re.compile(r"Exercise\s+(\d+\.\d+)")


def _names_assigned(node: ast.stmt) -> list[str]:
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    names: list[str] = []
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.append(sub.id)
    return names


def make_stub(source: str, exercise_id: str) -> str:
    """Turn a solution cell's code into the student's starting point.

    Leading comments (the instructions) and imports are kept; each top-level name the solution assigns
    becomes ``name = ...``; each function keeps its signature and docstring and raises
    ``NotImplementedError``. Everything else (loops, plots) is the learner's to write.

    Examples
    --------
    >>> print(make_stub("# mean rate\\nimport numpy as np\\nrates = np.mean(x, axis=0)", "1.2"))
    # Exercise 1.2: your code here.
    # mean rate
    import numpy as np
    rates = ...  # TODO
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    out = [f"# Exercise {exercise_id}: your code here."]
    first_code = tree.body[0].lineno - 1 if tree.body else len(lines)
    out += [ln for ln in lines[:first_code] if ln.lstrip().startswith("#")]
    seen: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(ast.get_source_segment(source, node) or "")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            header = lines[node.lineno - 1 : node.body[0].lineno - 1]
            docstring = ast.get_docstring(node)
            out += header if header else [lines[node.lineno - 1]]
            indent = " " * (node.body[0].col_offset)
            if docstring is not None:
                doc_node = node.body[0]
                out += lines[doc_node.lineno - 1 : doc_node.end_lineno]
            out.append(f'{indent}raise NotImplementedError("Exercise {exercise_id}: write this function")')
        else:
            for name in _names_assigned(node):
                if name not in seen:
                    seen.add(name)
                    out.append(f"{name} = ...  # TODO")
    return "\n".join(out)


def student_notebook(path: str | Path):
    """Read a chapter (``.py`` percent or ``.ipynb``) and return its student version (a nbformat node)."""
    import jupytext

    nb = jupytext.read(path)
    current: str | None = None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = EXERCISE_HEADING.search(cell.source)
            if found:
                current = found.group(1)
        elif SOLUTION_TAG in cell.metadata.get("tags", []):
            if current is None:
                raise ValueError(f"{path}: a 'solution' cell comes before any 'Exercise N.M' heading")
            cell.source = make_stub(cell.source, current)
            cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != SOLUTION_TAG] + [
                "exercise-stub"
            ]
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index}"  # stable ids: the committed copies (notebooks/student/) change only with the text
    return nb


def build_student_notebooks(src: str | Path = "notebooks", out: str | Path = "_student") -> list[Path]:
    """Write the student version of every chapter in ``src`` to ``out`` as ``.ipynb``; return the paths."""
    import nbformat

    src, out = Path(src), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(src.glob(CHAPTER_GLOB)):
        nb = student_notebook(path)
        target = out / (path.stem + ".ipynb")
        nbformat.write(nb, target)
        written.append(target)
    return written
