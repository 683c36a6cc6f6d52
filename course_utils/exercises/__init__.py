"""Exercises: friendly self-checks for learners (the student notebooks are generated from the chapters by
:mod:`course_utils.authoring.student`, an authoring tool that is not in the learners' wheel).

The convention (see ``book/contributing.md``)::

    # %% [markdown]
    # ### Exercise 1.2 — Mean firing rate
    # Compute ``rates``, the mean rate of each neuron in spikes/s.

    # %% tags=["solution"]
    rates = counts.mean(axis=0) / (bin_ms / 1000)

    # %%
    check_exercise("1.2", rates)

The instructor notebook (the chapter itself) is the one we test. The student builder replaces
every ``solution`` cell with a stub that assigns ``...`` to each name the solution defines (functions keep
their signature and raise ``NotImplementedError``), so the student notebook still runs top to bottom and
each check prints "not answered yet" instead of crashing. Exercises are leaves: no later cell may depend
on an exercise's answer.

Checks are registered with :func:`exercise` in the ``course_utils.exercises.chNN_*`` modules, one per
chapter. A check raises :class:`ExerciseFeedback` with a hint (never the answer) when the answer is wrong.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["CheckResult", "ExerciseFeedback", "exercise", "check_exercise"]


class ExerciseFeedback(AssertionError):
    """Raised by a check with a hint for the learner (what is wrong, never the answer)."""


@dataclass(frozen=True)
class _Exercise:
    id: str
    title: str
    check: Callable[..., None]


_REGISTRY: dict[str, _Exercise] = {}
# Set by the test run of the instructor chapters: a failing check then fails the chapter, which proves
# every instructor solution passes its own check.
ENV_STRICT = "COURSE_EXERCISES_STRICT"
_LOADED = False


def exercise(exercise_id: str, title: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a check function for one exercise.

    Examples
    --------
    >>> @exercise("99.9", "Doctest example")
    ... def _check(answer):
    ...     if answer != 42:
    ...         raise ExerciseFeedback("Not quite: the answer is a two-digit number.")
    >>> check_exercise("99.9", 42)
    ✅ Exercise 99.9 (Doctest example): correct!
    CheckResult(passed=True)
    """

    def register(func: Callable[..., None]) -> Callable[..., None]:
        if exercise_id in _REGISTRY and _REGISTRY[exercise_id].check.__qualname__ != func.__qualname__:
            raise ValueError(f"Exercise {exercise_id} is registered twice")
        _REGISTRY[exercise_id] = _Exercise(exercise_id, title, func)
        return func

    return register


def _load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("ch"):
            importlib.import_module(f"{__name__}.{info.name}")
    _LOADED = True


def registered_exercises() -> dict[str, str]:
    """Exercise ids and titles known to the checker."""
    _load_all()
    return {k: v.title for k, v in sorted(_REGISTRY.items())}


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check_exercise` returns: true if the answer passed, and the message it printed.

    A notebook cell that ends with ``check_exercise(...)`` shows the printed message only: Jupyter displays
    nothing for this object (``_ipython_display_`` does nothing), so no stray ``True`` or ``False`` appears
    below the message. In code it behaves like the bool it stands for: ``if check_exercise(...)``,
    ``assert check_exercise(...)``, ``check_exercise(...) == True``.

    Examples
    --------
    >>> result = CheckResult(True, "✅ Exercise 1.1: correct!")
    >>> bool(result), result == True, result == CheckResult(True, "other text")
    (True, True, True)
    """

    passed: bool
    message: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CheckResult):
            return self.passed == other.passed
        if isinstance(other, bool):
            return self.passed is other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.passed)

    def __repr__(self) -> str:
        return f"CheckResult(passed={self.passed})"

    def _ipython_display_(self) -> None:
        """Display nothing: the check already printed its message."""


def _is_stub(value: Any) -> bool:
    return value is Ellipsis


def check_exercise(exercise_id: str, *answers: Any, verbose: bool = True) -> CheckResult:
    """Check a learner's answer and print friendly feedback.

    Parameters
    ----------
    exercise_id
        The exercise's number, e.g. ``"1.2"`` (as in the chapter's heading).
    *answers
        What the exercise asks for (values or functions), in the order the chapter's check cell passes them.
    verbose
        Print the feedback line (tests turn it off).

    Returns
    -------
    CheckResult
        True (in ``if``, ``assert``, ``bool()``) if the answer passes, with the message in ``.message``.
        Jupyter displays nothing for it, so a cell ending with the check shows the printed message only.
        Never raises for a wrong or missing answer, so "Run all" keeps going (unless
        ``COURSE_EXERCISES_STRICT=1``, for the instructor chapters).
    """
    _load_all()
    if exercise_id not in _REGISTRY:
        raise KeyError(f"No check is registered for exercise {exercise_id!r}; known: {sorted(_REGISTRY)}")
    ex = _REGISTRY[exercise_id]
    label = f"Exercise {ex.id} ({ex.title})"
    if any(_is_stub(a) for a in answers):
        message = f"⏳ {label}: not answered yet. Replace the `...` in the cell above with your code, then rerun this cell."
        ok = False
    else:
        try:
            ex.check(*answers)
        except ExerciseFeedback as fb:
            message, ok = f"❌ {label}: {fb}", False
        except NotImplementedError:
            message = f"⏳ {label}: not answered yet. Write the body of the function in the cell above (it still raises NotImplementedError)."
            ok = False
        except Exception as err:  # the learner's code failed inside the check: say where, kindly
            message, ok = f"❌ {label}: your answer raised {type(err).__name__}: {err}", False
        else:
            message, ok = f"✅ {label}: correct!", True
    if verbose:
        print(message)
    if not ok and os.environ.get(ENV_STRICT) == "1":
        raise ExerciseFeedback(f"{message} [{ENV_STRICT}=1: instructor solutions must pass their checks]")
    return CheckResult(ok, message)


def feedback(exercise_id: str, *answers: Any) -> str:
    """The message :func:`check_exercise` would print (tests use it)."""
    import contextlib
    import io

    buffer = io.StringIO()
    saved = os.environ.pop(ENV_STRICT, None)
    try:
        with contextlib.redirect_stdout(buffer):
            check_exercise(exercise_id, *answers)
    finally:
        if saved is not None:
            os.environ[ENV_STRICT] = saved
    return buffer.getvalue().strip()
