"""Chapters 6 and 7's NeuroGym install cell (with the `tasks` extra the setup cell adds) leaves Colab's preinstalled packages as they are (gymnasium too).

Colab's versions (its published pip freeze, 2026-08) are stood in by metadata-only ``.dist-info`` folders in a
fresh virtual environment, so pip sees exactly those versions installed; the chapter's own cell is executed
with ``subprocess.run`` recording its commands, which then run with ``pip install --dry-run --report``.
Needs the package index (like ``test_colab_install.py``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from course_utils.tasks import extra_requirements

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ["06_neurogym_tasks_and_rnns", "07_training_protocols"]
# What Colab has that the cell could touch. torch: Colab's is newer than 2.8 (the floor of stable-baselines3 2.9).
COLAB = {
    "gymnasium": "1.3.0",
    "numpy": "2.1.3",
    "pandas": "2.2.3",
    "matplotlib": "3.10.0",
    "scipy": "1.16.3",
    "scikit-learn": "1.6.1",
    "torch": "2.8.0",
    "cloudpickle": "3.1.1",
    "pyarrow": "18.1.0",
    "h5py": "3.16.0",
}


def _install_cell(chapter: str) -> str:
    source = (ROOT / "notebooks" / f"{chapter}.py").read_text()
    cells = re.split(r"^# %%.*$", source, flags=re.M)
    (cell,) = [c for c in cells if "--no-deps" in c and "neurogym" in c]
    return cell


def _recorded_commands(cell: str, monkeypatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def run(command, check=False, **kwargs):
        calls.append([str(c) for c in command])
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(cell, "<install cell>", "exec"), {"sys": sys, "subprocess": types.SimpleNamespace(run=run)})
    return calls


@pytest.fixture(scope="module")
def colab_like(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("colab_stub") / "venv"
    # No pip inside (installing it takes most of a minute): this environment's pip resolves for it (`--python`).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    for name, version in COLAB.items():
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "INSTALLER").write_text("pip\n")
        (info / "RECORD").write_text("")
    return py


@pytest.fixture(scope="module")
def dry_runs() -> dict[tuple[str, ...], set[str]]:
    """What pip would install for each argument list, shared by the two chapters' tests."""
    return {}


def _dry_run(py: Path, args: tuple[str, ...], report: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--dry-run", "--report", str(report),
         *args],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ERROR" not in result.stderr, result.stderr[-3000:]  # no red resolver message
    return {
        re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower() for item in json.loads(report.read_text())["install"]
    }


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_install_cell_keeps_colabs_packages(chapter, colab_like, dry_runs, tmp_path, monkeypatch):
    commands = _recorded_commands(_install_cell(chapter), monkeypatch)
    assert len(commands) == 1 and commands[0][1:4] == ["-m", "pip", "install"]
    # What the setup cell's `course-utils[tasks]` adds beside the course package itself (tests/test_colab_install.py
    # runs that cell against a built wheel).
    commands.insert(0, [sys.executable, "-m", "pip", "install", *extra_requirements()])
    assert not any("git+" in arg for c in commands for arg in c), "the cell must not fetch the course again"
    would_install: set[str] = set()
    for command in commands:
        args = tuple(a for a in command[4:] if a != "-q")
        if args not in dry_runs:  # both chapters add the same extra: resolve it once
            dry_runs[args] = _dry_run(colab_like, args, tmp_path / f"report{len(dry_runs)}.json")
        would_install |= dry_runs[args]
    assert not would_install & set(COLAB), (
        f"the cell would change Colab's {sorted(would_install & set(COLAB))}"
    )
    assert {"stable-baselines3", "sb3-contrib", "neurogym"} <= would_install
