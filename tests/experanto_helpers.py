"""Shared by the Experanto test modules (imported by name: pytest puts tests/ on the import path)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_index_cache(tmp_path, monkeypatch):
    """Each test gets its own start-up cache, so no test reads another's trial index."""
    monkeypatch.setenv("COURSE_EXPERANTO_CACHE", str(tmp_path / "index_cache"))
