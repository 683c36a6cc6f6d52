"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _find_shared() -> Path | None:
    candidates = [os.environ.get("COURSE_SHARED_DIR"), REPO.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "docs" / "SOURCES.md").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``shared/`` folder beside the checkout (real reference data); skip if absent."""
    found = _find_shared()
    if found is None:
        pytest.skip("shared/ (reference data beside the checkout) is not available here")
    return found


@pytest.fixture()
def isolated_data_dir(tmp_path, monkeypatch) -> Path:
    """A private COURSE_DATA_DIR so a test never touches the learner's cache."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COURSE_DATA_MODE", raising=False)
    monkeypatch.setenv("COURSE_DATA_RETRIES", "0")
    return tmp_path / "data"


@pytest.fixture(autouse=True)
def _lenient_exercise_checks(monkeypatch):
    """Unit tests call checks with wrong answers on purpose; strict mode is for executing chapters only."""
    monkeypatch.delenv("COURSE_EXERCISES_STRICT", raising=False)


# The slowest test files (measured with `--durations`, 2026-11-30; about a third of the unit tests' time), run
# first: `make test` hands files to its xdist workers in collection order, so a long file started last would
# leave one worker alone at the end.
RUN_FIRST = (
    "test_neurotask_sample_mode.py",  # chapters 1 and 8 in sample mode
    "test_tasks_colab_install.py",
    "test_allen_sample.py",
    "test_neurotask_memory.py",
    "test_authoring.py",
    "test_allen_simulate.py",
    "test_decoding_sklearn_contract.py",
    "test_tasks_agents.py",
    "test_sensorium_ddp.py",
    "test_sources.py",
    "test_claims.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(RUN_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


@pytest.fixture(autouse=True)
def _no_decoder_fits_shared_between_tests():
    """course_utils.decoding's per-process memo of slow fits (chapter 8) starts empty in every test."""
    import sys

    memo = sys.modules.get("course_utils.decoding._memo")
    if memo is not None:
        memo.clear()
