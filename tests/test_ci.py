"""The CI tooling: timing summary, the real-data job's checks, the torch-free run, and the GitHub workflows."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml
from loopback import LoopbackServer, file_entry, sample_manifest

from course_utils.data import source_folder
from course_utils.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def _workflow(name: str) -> dict:
    flow = yaml.safe_load((WORKFLOWS / name).read_text())
    flow["on"] = flow.pop(True, flow.get("on"))  # YAML 1.1 reads the key `on` as True
    return flow


# ------------------------------------------------------------------------------------------- timings


def test_timed_steps_are_summarised_and_a_failure_is_reported(tmp_path):
    log = tmp_path / "timings.tsv"
    env = {**os.environ, "COURSE_TIMING_LOG": str(log)}
    subprocess.run([ROOT / ".ci" / "timed", "first", "sleep", "0.2"], check=True, env=env)
    failed = subprocess.run([ROOT / ".ci" / "timed", "second", "false"], env=env, capture_output=True, text=True)
    assert failed.returncode == 1 and "FAILED (exit 1)" in failed.stderr  # the summary so far, on failure
    rows = [line.split("\t") for line in log.read_text().splitlines()]
    assert [r[0] for r in rows] == ["first", "second"] and [r[2] for r in rows] == ["0", "1"]
    assert 0.2 <= float(rows[0][1]) < 5
    table = subprocess.run([ROOT / ".ci" / "timings", log, "make test: timing summary"], capture_output=True,
                           text=True, check=True).stdout
    assert "make test: timing summary (wall clock, 2 steps)" in table
    assert re.search(r"first\s+0\.\d s", table) and re.search(r"total\s+\d+\.\d s  \(0 min 0\d s\)", table)


def test_make_test_times_every_step_and_prints_the_summary():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest: ", 1)[1].split("\n\n", 1)[0]
    assert "timings $(COURSE_TIMING_LOG)" in recipe
    for step in ["ruff", "actionlint", "demo-data", "unit-tests", "chapters", "student-check", "book-html", "check-book"]:
        assert re.search(rf"\$\(TIMED\) {step} ", makefile), f"the {step} step is not timed"
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("make test")


def test_make_test_runs_its_pytest_steps_on_one_thread_per_worker_longest_chapters_first():
    dry = subprocess.run(["make", "-n", "--no-print-directory", "unit-tests", "chapters", "student-check"], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, "PY": sys.executable})
    assert dry.returncode == 0, dry.stderr
    commands = dry.stdout.replace("\\\n", " ").splitlines()  # a recipe line continued with a backslash
    runs = [line for line in commands if " -m pytest " in line]
    assert len(runs) == 3, dry.stdout
    for line in runs:
        assert "-n auto --dist loadfile --no-loadscope-reorder" in line and "OMP_NUM_THREADS=1" in line and "OPENBLAS_NUM_THREADS=1" in line
    for line, folder in zip(runs[1:], ["book/notebooks", "_student"], strict=True):
        notebooks = re.findall(rf"{folder}/(\d\d)_\w+\.ipynb", line)
        assert notebooks[:3] == ["06", "08", "07"], line  # the three longest chapters start first
        assert sorted(notebooks) == sorted(p.name[:2] for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def test_the_slowest_unit_test_files_are_collected_first():
    spec = importlib.util.spec_from_file_location("tests_conftest", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run_first = module.RUN_FIRST
    assert all((ROOT / "tests" / name).is_file() for name in run_first), "RUN_FIRST names a file that is gone"
    names = ["test_a.py", run_first[1], "test_b.py", run_first[0], "test_a.py"]
    items = [types.SimpleNamespace(path=ROOT / "tests" / name, n=i) for i, name in enumerate(names)]
    module.pytest_collection_modifyitems(None, items)
    assert [item.n for item in items] == [3, 1, 0, 2, 4]  # slowest first, the rest in their order


# ------------------------------------------------------------------------------------------- real data


def test_real_data_job_verifies_sizes_and_prints_unpinned_hashes(tmp_path, monkeypatch, isolated_data_dir, capsys):
    monkeypatch.syspath_prepend(str(ROOT / ".ci"))
    import real_data

    pinned, unpinned, drifted = b"a" * 1000, b"b" * 2000, b"c" * 3000
    with LoopbackServer() as srv:
        files = [
            file_entry("pinned.bin", pinned, url=srv.add("/pinned.bin", pinned)),
            {"path": "unpinned.bin", "url": srv.add("/unpinned.bin", unpinned), "sha256": None,
             "approx_size": 2100},  # approximate size, no hash yet
        ]
        manifest = sample_manifest("allen_visual_behavior", files, tmp_path)
        monkeypatch.setenv("COURSE_DATA_MANIFEST", str(manifest))
        rows, problems = real_data.check_files(load_manifest())
        assert problems and all("was not downloaded" in p for p in problems)
        assert real_data.main([]) == 1  # other sources' sample files are not served here: missing
        out = capsys.readouterr().out
        assert "python -m course_utils data fetch allen_visual_behavior --mode sample" in out
        assert "neurogym: nothing to download (no sample mode)" in out
        assert f"sha256: {hashlib.sha256(unpinned).hexdigest()}" in out and "size: 2000" in out
        assert f"sha256: {hashlib.sha256(pinned).hexdigest()}" not in out.split("sha256 still null")[1]
        mine = {r["path"]: r for r in real_data.check_files(load_manifest())[0] if r["source"] == "allen_visual_behavior"}
        assert mine["pinned.bin"]["status"] == "ok" and mine["unpinned.bin"]["status"] == "unpinned, size ok"

        # A size far from the manifest's (the server changed the file): the fetch refuses it, and a copy cached
        # before the manifest changed is a failure naming the file.
        files[1]["approx_size"] = 20000
        files.append({**file_entry("drifted.bin", drifted, url=srv.add("/drifted.bin", drifted)), "size": 2999})
        monkeypatch.setenv("COURSE_DATA_MANIFEST", str(sample_manifest("allen_visual_behavior", files, tmp_path)))
        fetch = subprocess.run([sys.executable, "-m", "course_utils", "data", "fetch", "allen_visual_behavior",
                                "--mode", "sample"], capture_output=True, text=True)
        assert fetch.returncode != 0 and "drifted.bin" in fetch.stderr
        (source_folder("allen_visual_behavior", "sample") / "drifted.bin").write_bytes(drifted)
        rows, problems = real_data.check_files(load_manifest())
    status = {r["path"]: r["status"] for r in rows if r["source"] == "allen_visual_behavior"}
    assert status == {"pinned.bin": "ok", "unpinned.bin": "SIZE MISMATCH", "drifted.bin": "MISMATCH"}
    assert any("unpinned.bin has 2000 bytes" in p for p in problems)
    assert any("drifted.bin has 3000 bytes" in p for p in problems)


def test_readme_lists_exactly_the_sample_files_never_verified():
    readme = (ROOT / "README.md").read_text()
    paragraph = readme.split("**Sample files never verified.**", 1)[1].split("\n\n", 1)[0]
    for name, info in load_manifest()["sources"].items():
        for entry in info["modes"].get("sample", {}).get("files", []):
            listed = f"`{Path(entry['path']).name}`" in paragraph
            if entry.get("sha256"):
                assert not listed, f"README still lists {name}'s {entry['path']} as never verified; its sha256 is pinned"
            else:
                assert listed, f"README does not list {name}'s {entry['path']} (sha256 null) as never verified"


# ------------------------------------------------------------------------------------------- torch-free run


def test_missing_torch_skips_what_needs_it_and_nothing_else(tmp_path):
    """conftest.py, with a module that is really missing here standing in for torch."""
    fake = "not_installed_module_xyz"
    (tmp_path / "conftest.py").write_text((ROOT / "conftest.py").read_text().replace('MISSING = "torch"', f'MISSING = "{fake}"'))
    (tmp_path / "test_at_import.py").write_text(f"import {fake}\n\ndef test_a():\n    pass\n")
    (tmp_path / "test_inside.py").write_text(
        f"import pytest\n\n@pytest.fixture\ndef net():\n    import {fake}.nn\n\n"
        f"def test_fixture(net):\n    pass\n\ndef test_call():\n    import {fake}\n\n"
        f"def test_raised_from():\n    try:\n        import {fake}\n    except ImportError as err:\n"
        "        raise RuntimeError('the demo generator cannot be imported') from err\n\n"
        "def test_other_missing_module_fails():\n    import another_missing_module_xyz\n\n"
        "def test_passes():\n    assert True\n\ndef test_fails():\n    assert False\n"
    )
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", str(tmp_path)],
                            capture_output=True, text=True, cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 1, out
    assert re.search(r"2 failed, 1 passed, 4 skipped", out), out
    assert f"needs {fake}" in out and f"{fake} is not installed: 4 test(s)" in out


def test_where_torch_is_installed_the_conftest_changes_nothing():
    # `make test` and every CI job have torch: then no failure may be turned into a skip.
    pytest.importorskip("torch", reason="this run is the torch-free one (make test-torchless)")
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.HAVE_TORCH
    assert not hasattr(module, "pytest_runtest_makereport") and not hasattr(module, "pytest_make_collect_report")


# ------------------------------------------------------------------------------------------- book buttons


def test_check_book_finds_buttons_that_point_at_nothing(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / ".ci"))
    import check_book

    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "_config.yml").write_text("repository:\n  url: https://github.com/org/repo\n  branch: main\n")
    (tmp_path / "notebooks").mkdir()
    for stem in ("01_a", "02_b"):
        (tmp_path / "notebooks" / f"{stem}.py").write_text("# %%\n")
        (tmp_path / "notebooks" / f"{stem}.ipynb").write_text("{}")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "add", "notebooks/01_a.ipynb"], cwd=tmp_path, check=True)
    pages = tmp_path / "book" / "_build" / "html" / "notebooks"
    pages.mkdir(parents=True)
    (pages.parent / "_sources" / "notebooks").mkdir(parents=True)
    (pages.parent / "_sources" / "notebooks" / "01_a.ipynb").write_text("{}")
    good = 'href="https://colab.research.google.com/github/org/repo/blob/main/notebooks/{}.ipynb" href="../_sources/notebooks/{}.ipynb"'
    (pages / "01_a.html").write_text(good.format("01_a", "01_a"))
    (pages / "02_b.html").write_text(good.format("02_b", "02_b").replace("/blob/main/", "/blob/master/"))
    found = check_book.problems(tmp_path)
    assert len(found) == 3, found
    assert "02_b.html: the Colab button opens" in found[0] and "blob/main/notebooks/02_b.ipynb" in found[0]
    assert "notebooks/02_b.ipynb is not committed" in found[1]
    assert "02_b.html: the download button points at ../_sources/notebooks/02_b.ipynb" in found[2]
    (pages / "02_b.html").unlink()
    assert "book/_build/html/notebooks/02_b.html is missing: run `make html`" in check_book.problems(tmp_path)


# ------------------------------------------------------------------------------------------- workflows


def test_tests_workflow_runs_the_readme_command_on_each_python_with_cpu_torch():
    flow = _workflow("tests.yml")
    assert {"push", "pull_request"} <= set(flow["on"])
    job = flow["jobs"]["test"]
    assert job["runs-on"].startswith("ubuntu")
    assert {"3.10", "3.13"} <= set(job["strategy"]["matrix"]["python"])
    assert flow["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    steps = job["steps"]
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip"
    assert any(s.get("run") == ".ci/run" for s in steps)
    deploy = flow["jobs"]["deploy-book"]
    assert "refs/heads/main" in deploy["if"] and deploy["permissions"]["pages"] == "write"
    wheel_step = next(s for s in steps if "pip wheel" in s.get("run", ""))
    assert "book/_build/html/wheels" in wheel_step["run"]  # where the Colab setup cell installs from


def test_real_data_workflow_is_weekly_and_manual():
    flow = _workflow("real-data.yml")
    assert "workflow_dispatch" in flow["on"] and flow["on"]["schedule"][0]["cron"].endswith("1")
    runs = " ".join(s.get("run", "") for s in flow["jobs"]["sample-data"]["steps"])
    assert ".ci/real_data.py" in runs and "make real-data-chapters" in runs


def test_release_workflow_attaches_wheel_and_sdist_for_a_version_tag():
    flow = _workflow("release.yml")
    assert flow["on"]["push"]["tags"] == ["v*"] and flow["permissions"]["contents"] == "write"
    runs = " ".join(s.get("run", "") for s in flow["jobs"]["release"]["steps"])
    assert "python -m build" in runs and "gh release create" in runs and "dist/*" in runs
    version = subprocess.run([sys.executable, ROOT / ".ci" / "package_version.py"], capture_output=True,
                             text=True, check=True).stdout.strip()
    import course_utils

    assert version == course_utils.__version__


def _executed(path: Path, cells: list[tuple[list[str], float]]) -> Path:
    """An executed notebook whose cells printed these stream texts and ran this many seconds."""
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [
        {"output_type": "stream", "name": "stderr", "text": text} for text in texts],
        "metadata": {"execution": {"iopub.execute_input": "2026-11-30T10:00:00.000000Z",
                                   "shell.execute_reply": f"2026-11-30T10:{int(s) // 60:02d}:{int(s) % 60:02d}.000000Z"}}}
        for texts, s in cells]}
    path.write_text(json.dumps(nb))
    return path


def test_check_book_finds_bars_printed_at_every_refresh(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / ".ci"))
    import check_book

    def bar(desc, i, n=48, post=""):
        rate = "?, ?it/s" if i == 0 else "00:10,  1.83it/s"
        return f"\r{desc}: {100 * i // n:3d}%|##        | {i}/{n} [00:{i % 60:02d}<{rate}{post}]"

    every_step = [bar("benchmark", i, post=f", model {i}") for i in range(49)]
    throttled = [bar("benchmark", 0), bar("benchmark", 48), "\n"]
    two_bars = [bar("trials", 0), bar("trials", 100, 100), bar("epoch 1/3", 0), bar("epoch 1/3", 5, 5)]
    no_total = ["\rtraining: 0it [00:00, ?it/s]", "\rtraining: 12it [00:03,  3.9it/s]", "\r20it [00:05, 4.0it/s]"]
    same_name = [line for _ in range(4) for line in (bar("LSTMDecoder", 0, 8), bar("LSTMDecoder", 8, 8))]
    not_bars = ["plain text 50%| not a bar\n", "log [12:30]\n" * 5]
    path = _executed(tmp_path / "08_x.ipynb", [(every_step, 26), (throttled, 26), (two_bars, 5), (no_total, 5),
                                               (same_name, 20), (not_bars, 1), (every_step[:5], 120)])
    found = check_book.progress_problems(path)
    assert len(found) == 1 and found[0].startswith("08_x.ipynb, cell 0: 49 progress-bar lines for 1 bar(s), "
                                                   "more than 5"), found
    # a description that changes at every refresh is still one bar
    renamed = [bar(f"loss {i}", i) for i in range(49)]
    assert "cell 0: 49 progress-bar lines for 1 bar(s)" in check_book.progress_problems(
        _executed(tmp_path / "09_z.ipynb", [(renamed, 26)]))[0]
    # one output holding every refresh (streams merged) counts the same
    merged = _executed(tmp_path / "09_y.ipynb", [(["".join(every_step)], 26)])
    assert "09_y.ipynb, cell 0: 49 progress-bar lines" in check_book.progress_problems(merged)[0]
    # more lines are allowed the longer a cell ran (TQDM_MININTERVAL=60: about one or two refreshes a minute)
    assert check_book.progress_problems(_executed(tmp_path / "long.ipynb", [(every_step[:13], 300)])) == []
    assert check_book.progress_problems(_executed(tmp_path / "long.ipynb", [(every_step[:14], 300)])) != []
