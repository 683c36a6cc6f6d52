"""Run the suite where PyTorch is not installed (e.g. Python 3.13 here, where no CPU torch wheel is served).

Where ``import torch`` fails, every test, doctest module and chapter that needs torch is *skipped* with the
reason "needs torch" instead of failing (as ``pytest.importorskip("torch")`` would, without an import line in
every test file), and the summary says how many; everything else runs as usual. "Needs torch" means: the
item failed with ``ModuleNotFoundError: No module named 'torch'`` (at import, in a fixture, in the test, or
in a chapter's cell); any other failure stays a failure. Where torch is installed (``make test``, every CI
job) this file changes nothing. ``make test-torchless`` runs the suite this way (README, "Python versions").
"""

from __future__ import annotations

import doctest
import importlib.util

import pytest

MISSING = "torch"
HAVE_TORCH = importlib.util.find_spec(MISSING) is not None
REASON = f"needs {MISSING} (not installed in this environment)"


def _is_missing_module(exc: BaseException | None) -> bool:
    """The error, or one it was raised from (e.g. a demo generator that cannot be imported), is torch's absence."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, doctest.UnexpectedException):
            exc = exc.exc_info[1]
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] == MISSING:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _notebook_needs_missing(exc: BaseException | None) -> bool:
    # nbmake raises NotebookFailedException(NotebookResult); the failing cell's traceback is in result.error.
    # A test that executes a chapter itself with nbclient gets a CellExecutionError holding the traceback.
    if type(exc).__name__ == "CellExecutionError":
        return f"ModuleNotFoundError: No module named '{MISSING}'" in str(exc) or (
            getattr(exc, "ename", None) == "ModuleNotFoundError" and f"'{MISSING}'" in getattr(exc, "evalue", ""))
    error = getattr(exc.args[0], "error", None) if exc is not None and exc.args else None
    return error is not None and f"No module named '{MISSING}'" in getattr(error, "trace", "")


def _skipped_count(config: pytest.Config) -> int:
    return getattr(config, "_torchless_skipped", 0)


def _count(config: pytest.Config) -> None:
    config._torchless_skipped = _skipped_count(config) + 1


if not HAVE_TORCH:

    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(collector):
        outcome = yield
        report = outcome.get_result()
        if report.failed and f"No module named '{MISSING}'" in str(report.longrepr):
            report.outcome = "skipped"
            report.longrepr = (str(collector.path), 0, f"Skipped: {REASON}")
            _count(collector.config)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item, call):
        outcome = yield
        report = outcome.get_result()
        if call.excinfo is None or report.outcome != "failed":
            return
        exc = call.excinfo.value
        if _is_missing_module(exc) or _notebook_needs_missing(exc):
            report.outcome = "skipped"
            report.longrepr = (str(item.path), 0, f"Skipped: {REASON}")
            _count(item.config)

    def pytest_terminal_summary(terminalreporter, exitstatus, config):
        n = _skipped_count(config)
        terminalreporter.write_line(
            f"{MISSING} is not installed: {n} test(s), module(s) or chapter(s) that need it were skipped "
            f"(the full suite runs where {MISSING} is installed, e.g. on GitHub for every Python version)."
        )
