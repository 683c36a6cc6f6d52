"""Chapters and book: paired notebooks in sync, the standard setup cell, one repository URL, data page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course_utils import authoring
from course_utils.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = authoring.chapter_sources(ROOT)


def test_there_are_chapters_and_a_setup_chapter():
    assert CHAPTERS and CHAPTERS[0].name == "00_setup_and_data.py"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_paired_notebook_exists_without_outputs_and_does_not_drift(path):
    paired = path.with_suffix(".ipynb")
    assert paired.is_file(), f"{paired.name} is missing: run `jupytext --sync {path.relative_to(ROOT)}`"
    nb = json.loads(paired.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, f"{paired.name} is committed with outputs"
    text = subprocess.run(
        [sys.executable, "-m", "jupytext", "--to", "py:percent", "-o", "-", str(paired)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    assert text == path.read_text(), f"{path.name} and {paired.name} differ: run `jupytext --sync {path.relative_to(ROOT)}`"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_the_standard_setup_cell_and_shape(path):
    import jupytext

    nb = jupytext.read(path)
    setup = [c for c in nb.cells if "setup" in c.metadata.get("tags", [])]
    assert len(setup) == 1, f"{path.name}: exactly one cell tagged 'setup'"
    extras = authoring.chapter_extras(path.read_text())
    assert setup[0].source.strip() == authoring.setup_cell(authoring.repository_url(ROOT), extras=extras).strip(), (
        f"{path.name}: the setup cell differs from the standard one (book/contributing.md): run `make setup-cells`"
    )
    title = nb.cells[0]
    number = int(path.stem[:2])
    assert title.cell_type == "markdown" and title.source.startswith(f"# {number}. "), f"{path.name}: title '# {number}. ...'"
    for word in ("**Goals:**", "**Time:**", "**Prerequisites:**", "**Data:**"):
        assert word in title.source, f"{path.name}: the first cell states {word}"
    headings = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Summary" in headings and "## Further reading" in headings, f"{path.name}: Summary and Further reading"
    assert "../shared" not in path.read_text(), f"{path.name} reads ../shared, which learners do not have"


def _run_setup_cell(monkeypatch, source: str, returncodes: list[int]) -> list[list[str]]:
    """Execute a setup cell as Colab would, with pip replaced by a recorder; returns pip's argument lists."""
    import types

    calls = []

    def fake_run(cmd, check=False, **kw):
        calls.append(list(cmd))
        rc = returncodes[len(calls) - 1]
        if check and rc:
            raise subprocess.CalledProcessError(rc, cmd)
        return subprocess.CompletedProcess(cmd, rc)

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(source, "setup-cell", "exec"), {})
    return calls


def test_setup_cell_installs_the_wheel_once_and_falls_back_to_the_repository(monkeypatch, capsys):
    url = "https://github.com/org/repo"
    cell = authoring.setup_cell(url, "9.8.7", extras=("tasks",))
    (call,) = _run_setup_cell(monkeypatch, cell, [0])
    assert call[:4] == [sys.executable, "-m", "pip", "install"] and "--upgrade" not in call and "-U" not in call
    assert call[-1] == "course-utils[tasks] @ https://org.github.io/repo/wheels/course_utils-9.8.7-py3-none-any.whl"
    wheel_missing, built = _run_setup_cell(monkeypatch, authoring.setup_cell(url, "9.8.7"), [1, 0])
    assert wheel_missing[-1].endswith("/course_utils-9.8.7-py3-none-any.whl")
    assert built[-1] == f"course-utils @ git+{url}"
    assert "building the package from GitHub" in capsys.readouterr().out
    with pytest.raises(subprocess.CalledProcessError):  # both failing: the cell fails loudly
        _run_setup_cell(monkeypatch, cell, [1, 1])


def test_setup_cell_does_nothing_outside_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("the setup cell ran pip outside Colab"))
    exec(compile(authoring.setup_cell("https://github.com/org/repo"), "setup-cell", "exec"), {})


def test_setup_cell_version_is_the_package_version():
    import course_utils

    assert authoring.wheel_name(course_utils.__version__) in authoring.setup_cell(authoring.repository_url(ROOT))
    assert authoring.chapter_extras("import numpy\nfrom course_utils.tasks import x\n") == ("tasks",)
    assert authoring.chapter_extras("import course_utils.tasksheet\n") == ()


def test_write_setup_cells_rewrites_only_the_setup_cell(tmp_path):
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "book" / "_config.yml", tmp_path / "book")
    shutil.copy(ROOT / "jupytext.toml", tmp_path)
    (tmp_path / "notebooks").mkdir()
    for path in CHAPTERS:
        shutil.copy(path, tmp_path / "notebooks")
        shutil.copy(path.with_suffix(".ipynb"), tmp_path / "notebooks")
    assert authoring.write_setup_cells(tmp_path) == []  # already standard: nothing is rewritten
    chapter = tmp_path / "notebooks" / CHAPTERS[-1].name
    original = chapter.read_text()
    standard = authoring.setup_cell(authoring.repository_url(ROOT), extras=authoring.chapter_extras(original))
    chapter.write_text(original.replace(standard, "# an outdated install cell\nimport sys\n"))
    assert chapter.read_text() != original
    assert authoring.write_setup_cells(tmp_path) == [chapter, chapter.with_suffix(".ipynb")]
    assert chapter.read_text() == original
    assert chapter.with_suffix(".ipynb").read_bytes() == CHAPTERS[-1].with_suffix(".ipynb").read_bytes()
    (tmp_path / "notebooks" / "10_no_setup.py").write_text("# %% [markdown]\n# # 10. x\n")
    with pytest.raises(ValueError, match="10_no_setup.py has no cell tagged 'setup'"):
        authoring.write_setup_cells(tmp_path)


def test_repository_url_has_one_source_of_truth():
    url = authoring.repository_url(ROOT)
    assert url.startswith("https://github.com/")
    assert f'Repository = "{url}"' in (ROOT / "pyproject.toml").read_text()
    assert url in (ROOT / "README.md").read_text()
    assert url in (ROOT / "book" / "contributing.md").read_text()
    import re

    for path in CHAPTERS:  # any other install cell (e.g. the NeuroGym extra) must use the same URL
        for found in re.findall(r"git\+(https://github\.com/[\w.-]+/[\w.-]+)", path.read_text()):
            assert found == url, f"{path.name} installs from {found}, not {url}"


def test_set_repository_rewrites_every_copy(tmp_path):
    for rel in ["book/_config.yml", "pyproject.toml", "README.md", "book/contributing.md", "jupytext.toml"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    (tmp_path / "notebooks").mkdir()
    shutil.copy(CHAPTERS[0], tmp_path / "notebooks")
    shutil.copy(CHAPTERS[0].with_suffix(".ipynb"), tmp_path / "notebooks")
    new = "https://github.com/some-org/neural-data-course"
    changed = authoring.set_repository(tmp_path, new)
    assert authoring.repository_url(tmp_path) == new
    assert tmp_path / "notebooks" / CHAPTERS[0].with_suffix(".ipynb").name in changed
    for path in changed:
        assert authoring.repository_url(ROOT) not in path.read_text(), path
    assert new in (tmp_path / "notebooks" / CHAPTERS[0].with_suffix(".ipynb").name).read_text()
    # the setup cell's wheel lives on the new repository's GitHub Pages site
    assert authoring.setup_cell(new) in (tmp_path / "notebooks" / CHAPTERS[0].name).read_text()
    assert "https://some-org.github.io/neural-data-course/wheels/" in (
        tmp_path / "notebooks" / CHAPTERS[0].with_suffix(".ipynb").name).read_text()
    with pytest.raises(ValueError, match="not a GitHub repository URL"):
        authoring.set_repository(tmp_path, "https://example.com/x")


def test_book_copies_hide_solutions(tmp_path):
    shutil.copytree(ROOT / "book", tmp_path / "book", ignore=shutil.ignore_patterns("_build", "notebooks"))
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_demo.py").write_text(
        '# %% [markdown]\n# # 1. Demo\n\n# %% [markdown]\n# ### Exercise 1.1 — x\n\n# %% tags=["solution"]\nx = 1\n'
    )
    import nbformat

    (written,) = authoring.prepare_book_notebooks(tmp_path)
    nb = nbformat.read(written, as_version=4)
    assert nb.cells[-1].metadata["tags"] == ["solution", "hide-input"]
    with pytest.raises(ValueError, match="No chapter named"):
        authoring.prepare_book_notebooks(tmp_path, only="99_none")


def test_data_page_is_generated_from_the_manifest():
    page = authoring.data_page_markdown()
    for name, info in load_manifest()["sources"].items():
        assert info["title"] in page and f"`{name}`" in page and f"{{cite:p}}`{info['citation']}`" in page


def test_toc_lists_every_chapter_and_only_existing_pages():
    import yaml

    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for path in CHAPTERS:
        assert f"notebooks/{path.stem}" in files, f"{path.stem} is not in book/_toc.yml"
    generated = {"data_sources"}
    for entry in files:
        if entry.startswith("notebooks/"):
            assert (ROOT / f"{entry}.py").is_file(), f"_toc.yml lists {entry}, which has no notebooks/*.py"
        elif entry not in generated:
            assert (ROOT / "book" / f"{entry}.md").is_file(), f"_toc.yml lists book/{entry}.md, which does not exist"


def test_book_baseurl_is_the_pages_site_the_setup_cell_installs_from():
    import yaml

    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    url = authoring.repository_url(ROOT)
    assert config["html"]["baseurl"].rstrip("/") == authoring.pages_url(url)
    assert authoring.wheel_url(url, "1.0").startswith(config["html"]["baseurl"])


@pytest.fixture(scope="module")
def learner_wheel(tmp_path_factory) -> Path:
    """The wheel learners install (``pip wheel``, as the book's deployment builds it)."""
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("course_utils-*.whl")
    return wheel


@pytest.mark.slow
def test_the_learners_wheel_leaves_the_authoring_tools_out(learner_wheel, tmp_path):
    with zipfile.ZipFile(learner_wheel) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path / "site")  # a pure-Python wheel installs by unpacking
    assert not [n for n in names if n.startswith("course_utils/authoring")], "authoring tools are in the wheel"
    for kept in ("course_utils/exercises/__init__.py", "course_utils/training.py", "course_utils/cli.py"):
        assert kept in names, f"{kept} (learner API) is missing from the wheel"
    # Installed from the wheel, the learner API imports (the student notebooks' check_exercise and the
    # chapters' reuse_training) and the authoring commands say where they run instead of failing obscurely.
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    code = ("import course_utils, course_utils.exercises as e, course_utils.training as t; "
            "print(course_utils.__file__, e.check_exercise.__name__, t.reuse_training.__name__)")
    learner = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert learner.returncode == 0, learner.stderr
    assert learner.stdout.startswith(str(tmp_path / "site")), learner.stdout
    for command in (["exercises", "build"], ["book", "set-repository", "https://example.com/x"]):
        result = subprocess.run([sys.executable, "-m", "course_utils", *command], cwd=tmp_path, env=env,
                                capture_output=True, text=True)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "authoring tools" in result.stderr and "Clone the course repository" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
