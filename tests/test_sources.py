"""The source interface: every registered source satisfies it, and a sixth source plugs in through its own
package and the manifest only (the recipe of book/contributing.md)."""

from __future__ import annotations

import ast
import copy
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from course_utils import data, sources
from course_utils.cli import main
from course_utils.manifest import load_manifest

REPO = Path(__file__).resolve().parents[1]

# Small but complete demo sets, written in about a second; None: the simulator has no size parameters or takes
# half a minute even for one mouse (Allen's NWB files), so the demo set of the data layer is used (`make test`
# prepares it before the unit tests; chapters use the same).
SMALL_DEMOS = {
    "neurotask": None,
    "allen_visual_behavior": None,
    "sensorium2023": {"n_mice": 1, "n_neurons": 5, "n_train": 2, "n_oracle_clips": 1, "n_repeats": 2,
                      "max_frames": 58, "min_frames": 55},
    "experanto": {"n_mice": 0},  # the mixed experiment only: the converted mice keep Sensorium's truth
}

def test_every_source_is_registered_with_a_package():
    registered = sources.registered_sources()
    assert list(registered) == data.source_names()
    assert {s.package for s in registered.values()} == {
        "course_utils.neurotask", "course_utils.allen", "course_utils.sensorium", "course_utils.experanto",
        "course_utils.tasks"}
    assert set(SMALL_DEMOS) == {name for name, s in registered.items() if not s.synthetic}


@pytest.mark.parametrize("name", sources.registered_sources())
def test_every_registered_source_has_the_interface(name):
    source = sources.source(name)
    package = source.module()
    assert callable(package.open) and package.open is not open, f"{source.package}.open is missing"
    assert "open" not in getattr(package, "__all__", ()), "`import *` must not hide the built-in open"
    if source.synthetic:
        with pytest.raises(TypeError, match="synthetic"):
            source.write_demo("unused")
        return
    simulate = source.module("simulate")
    for function in ("write_demo", "load_ground_truth"):
        assert callable(getattr(simulate, function)), f"{source.package}.simulate.{function}"
    assert list(inspect.signature(simulate.write_demo).parameters)[:2] == ["out_dir", "seed"]
    version = simulate.SIMULATOR_VERSION
    assert type(version) is int and source.simulator_version == version  # the literal the cache key reads
    assert mode_generator(name) == f"{source.package}.simulate:write_demo"


def mode_generator(name: str) -> str:
    return data.mode_info(name, "demo")["generator"]


@pytest.mark.parametrize("name", SMALL_DEMOS)
def test_ground_truth_is_a_dict_read_from_demo_data_and_real_folders_say_they_have_none(name, tmp_path):
    source = sources.source(name)
    if SMALL_DEMOS[name] is None:
        folder = data.get_source(name, "demo")
    else:
        folder = tmp_path / "demo"
        source.write_demo(folder, seed=1, **SMALL_DEMOS[name])
    truth = source.load_ground_truth(folder)
    assert isinstance(truth, dict) and truth, name
    (tmp_path / "real").mkdir()
    with pytest.raises(FileNotFoundError, match="ground truth"):
        source.load_ground_truth(tmp_path / "real")


def test_the_registered_opener_opens_the_demo(tmp_path):
    source = sources.source("sensorium2023")
    source.write_demo(tmp_path, seed=1, **SMALL_DEMOS["sensorium2023"])
    mouse = source.open(next(tmp_path.glob("dynamic*")))
    assert mouse.n_neurons == 5
    truth = source.load_ground_truth(tmp_path)
    assert set(truth) == {mouse.name} and truth[mouse.name]["unit_ids"].tolist() == mouse.unit_ids.tolist()


def test_the_synthetic_source_opens_a_task_by_name():
    task = sources.source("neurogym").open("PerceptualDecisionMaking-v0")
    assert hasattr(task, "new_trial") and sources.source("neurogym").simulator_version is None


def test_the_data_layer_imports_no_source_package_nor_the_registry():
    """Layers: data -> sources -> methods -> chapters, no back-edges (data finds generators by name only)."""
    package = REPO / "course_utils"
    forbidden = ("sources", "neurotask", "allen", "sensorium", "experanto", "tasks", "decoding", "behavior")
    for path in [*sorted((package / "data").glob("*.py")), package / "manifest.py", package / "fileio.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [f"{'.' * node.level}{node.module or ''}"] if isinstance(node, ast.ImportFrom) else [])
            for imported in names:
                parts = imported.lstrip(".").split(".")
                top = parts[1] if parts[0] == "course_utils" and len(parts) > 1 else parts[0]
                assert top not in forbidden, f"{path.name} imports {imported}"


# ----------------------------------------------------------------------------------- a sixth source


TOY_SIMULATE = '''"""The toy source's simulator."""
import json
from pathlib import Path

from course_utils.fileio import read_json

SIMULATOR_VERSION = 1


def write_demo(out_dir, seed=0, n_rows=3):
    Path(out_dir, "rows.csv").write_text("".join(f"{seed},{i}\\n" for i in range(n_rows)))
    Path(out_dir, "TRUTH.json").write_text(json.dumps({"n_rows": n_rows, "seed": seed}))


def load_ground_truth(folder):
    return read_json(Path(folder) / "TRUTH.json", fix="Only the toy demo has a ground truth.")
'''

TOY_INIT = '''"""A toy source: rows in a CSV file."""
from pathlib import Path


def read_rows(path):
    return Path(path).read_text().splitlines()


open = read_rows
'''

TOY_COMMANDS = '''"""The toy source's commands."""
COMMANDS = {"count": "count the rows of a toy file"}


def count(argv):
    from . import read_rows

    print(f"{len(read_rows(argv[0]))} rows")
    return 0
'''


@pytest.fixture()
def toy_source(tmp_path, monkeypatch, isolated_data_dir):
    """A sixth source added the contributing guide's way: its own package, one manifest entry."""
    packages = tmp_path / "packages"
    (packages / "toysource").mkdir(parents=True)
    (packages / "toysource" / "__init__.py").write_text(TOY_INIT)
    (packages / "toysource" / "simulate.py").write_text(TOY_SIMULATE)
    (packages / "toysource" / "commands.py").write_text(TOY_COMMANDS)
    manifest = copy.deepcopy(load_manifest())
    manifest["sources"]["toy"] = {
        "title": "Toy", "description": "Rows of numbers.", "homepage": "https://example.org", "license": "CC0",
        "citation": "toy", "package": "toysource",
        "modes": {"demo": {"description": "Three simulated rows.", "params": {"seed": 0, "n_rows": 3}}},
    }
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    monkeypatch.setenv("COURSE_DATA_MANIFEST", str(path))
    monkeypatch.syspath_prepend(str(packages))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(packages), str(REPO)]))
    yield packages
    for module in [m for m in sys.modules if m == "toysource" or m.startswith("toysource.")]:
        del sys.modules[module]


def test_a_sixth_source_needs_only_its_package_and_a_manifest_entry(toy_source, isolated_data_dir, capsys):
    assert main(["data", "fetch", "toy", "--mode", "demo"]) == 0
    folder = Path(capsys.readouterr().out.strip().removeprefix("toy: "))
    assert folder.parent == isolated_data_dir / "toy" / "demo"
    assert (folder / "rows.csv").read_text().splitlines() == ["0,0", "0,1", "0,2"]

    toy = sources.source("toy")
    assert toy.load_ground_truth(folder) == {"n_rows": 3, "seed": 0}
    assert toy.open(folder / "rows.csv") == ["0,0", "0,1", "0,2"]
    assert toy.simulator_version == 1

    assert main(["data", "verify", "toy"]) == 0
    listed = capsys.readouterr().out
    assert "ok" in listed and "toysource.simulate:write_demo (SIMULATOR_VERSION 1)" in listed

    assert main(["toysource", "count", str(folder / "rows.csv")]) == 0
    assert capsys.readouterr().out.strip() == "3 rows"


def test_a_sixth_sources_commands_appear_in_help(toy_source):
    result = subprocess.run([sys.executable, "-m", "course_utils", "--help"], capture_output=True, text=True,
                            env={**os.environ}, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "toysource" in result.stdout and "count" in result.stdout
