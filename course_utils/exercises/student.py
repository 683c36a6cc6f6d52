"""Generate student notebooks: each ``solution`` cell becomes a stub, everything else stays.

Also :func:`reuse_training`, which lets the test run of the student notebooks (``make test``) reuse the
networks the instructor chapters trained minutes earlier instead of training them again.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Set by `make test` (chapters, then student notebooks) to a folder emptied at the start of each run.
REUSE_ENV = "COURSE_REUSE_TRAINING"
_CALLS = [0]

EXERCISE_HEADING = re.compile(r"Exercise\s+(\d+\.\d+)")
SOLUTION_TAG = "solution"


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
    for path in sorted(src.glob("[0-9][0-9]_*.py")):
        nb = student_notebook(path)
        target = out / (path.stem + ".ipynb")
        nbformat.write(nb, target)
        written.append(target)
    return written


# ----------------------------------------------------------------------------------------- reuse


def _package_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parents[1].rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _state_fingerprint(model: Any) -> str:
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _encode(value: Any) -> Any:
    """Plain containers, numbers, strings, tensors; NumPy arrays as tagged tensors (torch's safe loader)."""
    import numpy as np
    import torch

    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_encode(v) for v in value)
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.ascontiguousarray(value).reshape(-1 if isinstance(value, np.generic) else value.shape)
        if array.dtype.kind == "u" and array.dtype.itemsize > 1:  # torch stores signed integers reliably
            array = array.view(f"i{array.dtype.itemsize}")
        tag = "__npscalar__" if isinstance(value, np.generic) else "__ndarray__"
        return {tag: torch.from_numpy(array.copy()), "__dtype__": np.dtype(value.dtype).str}
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return value
    raise TypeError(f"reuse_training: cannot store a {type(value).__name__} safely; return numbers, lists, dicts, arrays")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__ndarray__", "__dtype__"}:
            return value["__ndarray__"].numpy().view(value["__dtype__"])
        if set(value) == {"__npscalar__", "__dtype__"}:
            return value["__npscalar__"].numpy().view(value["__dtype__"])[0]
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_decode(v) for v in value)
    return value


def reuse_training(model: Any, train: Callable[[], Any], key: dict[str, Any]) -> Any:
    """Run ``train()`` (which trains ``model`` in place), or reuse what the same training produced earlier
    in this ``make test`` run.

    Outside ``make test`` (``$COURSE_REUSE_TRAINING`` unset: learners, the book build) this is just
    ``train()``. Inside it, the chapters run first and each training stores the trained weights and
    ``train()``'s result under a key; the student notebooks run next and, where the same training comes
    again outside an exercise (same code, seed and initial weights: exercises are leaves), load them
    instead of training a second time, with the modules' train/eval modes and the global random states
    (Python, NumPy, torch) as the training left them, so every later cell computes the same. The key is ``key`` (the settings: steps, learning rate, seed, data
    parameters...), the model's initial weights and the package's source, so anything that changes the
    training trains again; so does the n-th training of a notebook, which only ever reuses the n-th of the
    notebook run before it (a training skipped or added by a stub shifts the count: then all train again).
    Files are written atomically and read with ``torch.load(weights_only=True)``.

    Parameters
    ----------
    model
        The ``torch.nn.Module`` that ``train()`` trains in place.
    train
        No arguments; returns numbers, strings, lists, tuples, dicts, NumPy arrays or tensors (a history).
    key
        JSON-serialisable settings that, with the initial weights, identify the training.

    Returns
    -------
    Whatever ``train()`` returns (a reused result has the same structure and values).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(2, 1)
    >>> def train():
    ...     with torch.no_grad():
    ...         net.weight.fill_(1.0)
    ...     return {"loss": [0.5, 0.25]}
    >>> reuse_training(net, train, key={"steps": 2})
    {'loss': [0.5, 0.25]}
    """
    folder = os.environ.get(REUSE_ENV, "").strip()
    if not folder:
        return train()
    import torch

    from ..fileio import load_torch_weights

    _CALLS[0] += 1  # the n-th training of this kernel: the student notebook's n-th is the instructor's n-th
    ident = json.dumps({"key": key, "call": _CALLS[0], "model": type(model).__qualname__,
                        "initial": _state_fingerprint(model), "package": _package_fingerprint()},
                       sort_keys=True, default=str)
    path = Path(folder) / f"trained-{hashlib.sha256(ident.encode()).hexdigest()[:24]}.pt"
    if path.is_file():
        stored = load_torch_weights(path, fix=f"Delete {path.parent} (a make test run's scratch folder).")
        model.load_state_dict(stored["state"])
        for module, training in zip(model.modules(), stored["training"], strict=True):
            module.training = training
        _set_rng_states(_decode(stored["rng"]))
        print(f"(make test: reused the network the instructor chapter trained, {path.name})")
        return _decode(stored["result"])
    result = train()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    stored = {"state": model.state_dict(), "result": _encode(result), "rng": _encode(_rng_states()),
              "training": [m.training for m in model.modules()]}
    torch.save(stored, tmp)
    os.replace(tmp, path)
    return result


def _rng_states() -> dict[str, Any]:
    """The global random states a training advances (a reused training must leave them the same)."""
    import random

    import numpy as np
    import torch

    # the legacy global NumPy generator on purpose: it is the one a chapter's np.random.* calls share
    numpy_state = np.random.get_state()  # noqa: NPY002
    return {"python": random.getstate(), "numpy": numpy_state, "torch": torch.random.get_rng_state()}


def _set_rng_states(states: dict[str, Any]) -> None:
    import random

    import numpy as np
    import torch

    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(tuple(states["numpy"]))  # noqa: NPY002
    torch.random.set_rng_state(states["torch"])
