"""pyproject.toml and environment.yml install the same packages, with lower bounds only."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name
NOT_PACKAGES = {"python", "pip"}


def _split(requirement: str) -> tuple[str, str]:
    name = re.match(r"[A-Za-z0-9_.\-]+", requirement).group(0).lower().replace("_", "-")
    return CONDA_NAMES.get(name, name), requirement[len(name) :].replace(" ", "")


@pytest.fixture(scope="module")
def pyproject() -> dict:
    if sys.version_info < (3, 11):
        pytest.skip("tomllib needs Python 3.11")
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_matches_pyproject(pyproject):
    project = pyproject["project"]
    wanted = dict(_split(r) for r in project["dependencies"])
    for extra in ("book", "test", "tasks"):
        wanted.update(_split(r) for r in project["optional-dependencies"][extra])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next((d["pip"] for d in env["dependencies"] if isinstance(d, dict)), [])
    have = dict(_split(r) for r in conda + [p for p in pip if not p.startswith("-")])
    for name in NOT_PACKAGES:
        have.pop(name, None)
    assert set(have) == set(wanted), f"only in environment.yml: {set(have) - set(wanted)}; only in pyproject: {set(wanted) - set(have)}"
    for name, spec in wanted.items():
        assert have[name] == spec, f"{name}: pyproject says {spec!r}, environment.yml says {have[name]!r}"
    assert "--editable ." in pip


def test_no_exact_pins_in_the_package(pyproject):
    project = pyproject["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    pinned = [r for r in requirements if "==" in r]
    assert not pinned, f"exact pins break Colab: {pinned}"
    assert any(r.startswith("torch>=") for r in project["dependencies"])


def test_constraints_pick_the_cpu_torch_for_fresh_installs():
    lines = [ln.strip() for ln in (ROOT / "constraints.txt").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert "torch==2.13.0" in lines


SUPPORTED = ["3.10", "3.11", "3.12", "3.13"]  # 3.13 is Colab's Python (issue 16)


def test_supported_pythons_agree_everywhere(pyproject):
    project = pyproject["project"]
    listed = [c.rsplit(" ", 1)[-1] for c in project["classifiers"] if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert listed == SUPPORTED
    assert project["requires-python"] == f">={SUPPORTED[0]}"
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    minor = int(SUPPORTED[-1].split(".")[1])
    assert f"python>={SUPPORTED[0]},<3.{minor + 1}" in env["dependencies"]
    words = f"Python {SUPPORTED[0]}-{SUPPORTED[-1]}"
    for page in ["README.md", "book/workshop.md"]:
        text = (ROOT / page).read_text()
        assert words in text, f"{page} does not say {words}"
        assert not re.search(r"3\.10-3\.1[0-2]\b", text), f"{page} still names an older Python range"
    matrix = yaml.safe_load((ROOT / ".github" / "workflows" / "tests.yml").read_text())["jobs"]["test"]["strategy"]
    assert matrix["matrix"]["python"] == SUPPORTED


def test_the_version_is_set_once(pyproject):
    assert "version" not in pyproject["project"] and pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "course_utils/__init__.py"
