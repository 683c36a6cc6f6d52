"""The closest thing to Colab we can test here: the package installed from a wheel into an environment
that has only what Colab preinstalls of our dependencies, and a chapter run with no checkout around it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COLAB_PREINSTALLED = ["numpy", "pandas", "matplotlib", "scikit-learn", "torch==2.13.0"]


def _run(cmd, **kw):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(kw.pop("env", {}))
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)])
    (found,) = out.glob("course_utils-*.whl")
    return found


@pytest.mark.slow
def test_wheel_carries_the_one_manifest(wheel):
    with zipfile.ZipFile(wheel) as zf:
        packed = zf.read("course_utils/data_manifest.yaml")
        names = zf.namelist()
    assert packed == (ROOT / "data_manifest.yaml").read_bytes()
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "book/"))]


@pytest.mark.slow
def test_chapter_runs_from_the_wheel_in_a_colab_like_environment(wheel, tmp_path):
    venv = tmp_path / "colab"
    _run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    _run([py, "-m", "pip", "install", "--quiet", *COLAB_PREINSTALLED, "ipykernel", "nbclient"])
    # What would the install cell change? Nothing Colab already has (no reinstall -> no runtime restart).
    report = tmp_path / "report.json"
    _run([py, "-m", "pip", "install", "--quiet", "--dry-run", "--report", str(report), str(wheel)])
    would_install = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert not would_install & {"numpy", "pandas", "matplotlib", "scikit-learn", "torch"}, would_install
    _run([py, "-m", "pip", "install", "--quiet", str(wheel)])

    # The chapter alone, in an empty folder: no repository, no shared/, the package from site-packages.
    work = tmp_path / "colab_content"
    work.mkdir()
    chapter = work / "00_setup_and_data.ipynb"
    shutil.copy(ROOT / "notebooks" / "00_setup_and_data.ipynb", chapter)
    runner = textwrap.dedent(
        f"""
        import nbformat, nbclient, course_utils
        assert "site-packages" in course_utils.__file__, course_utils.__file__
        nb = nbformat.read({str(chapter)!r}, as_version=4)
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={{"metadata": {{"path": {str(work)!r}}}}}).execute()
        print("executed", len(nb.cells), "cells")
        """
    )
    result = _run(
        [py, "-c", runner],
        cwd=work,
        env={"COURSE_DATA_DIR": str(tmp_path / "cache"), "COURSE_EXERCISES_STRICT": "1"},
    )
    assert "executed" in result.stdout
