"""Interruption, concurrency and cleaning, with real child processes (signals go only to our own children).

A toy demo generator that waits for a "go" file lets a test act while a real generation is half-way.
"""

from __future__ import annotations

import copy
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from loopback import LoopbackServer, file_entry, sample_manifest

from course_utils import data
from course_utils.manifest import load_manifest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

BLOCKING_GENERATOR = '''
import os, time
from pathlib import Path

SIMULATOR_VERSION = 1

def write_demo(out_dir, seed=0, n_files=1):
    state = Path(os.environ["TOY_STATE"])
    with open(state / "calls.txt", "a") as fh:
        fh.write(f"{os.getpid()}\\n")
    for i in range(n_files):
        (Path(out_dir) / f"part{i}.txt").write_text("partial")
    if os.environ.get("TOY_BLOCK") == "1":
        (state / "started").touch()
        deadline = time.time() + 60
        while not (state / "go").exists():
            if time.time() > deadline:
                raise TimeoutError("the test never said go")
            time.sleep(0.02)
    (Path(out_dir) / "data.txt").write_text(f"seed={seed}")
'''

CHILD = "from course_utils.data import get_source; print(get_source('neurotask', {mode!r}, progress=False))"


def _wait_for(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Toy:
    """A toy manifest and blocking generator shared by this process and its children."""

    def __init__(self, root: Path, monkeypatch, *, block: bool = True, n_files: int = 1) -> None:
        self.root = root
        self.state = root / "state"
        self.state.mkdir(parents=True)
        modules = root / "modules"
        modules.mkdir()
        (modules / "toy_block").mkdir()
        (modules / "toy_block" / "__init__.py").write_text("")
        (modules / "toy_block" / "simulate.py").write_text(BLOCKING_GENERATOR)
        manifest = copy.deepcopy(load_manifest())
        manifest["sources"]["neurotask"]["package"] = "toy_block"
        manifest["sources"]["neurotask"]["modes"]["demo"] = {"description": "toy", "params": {"seed": 0, "n_files": n_files}}
        self.manifest_path = root / "manifest.yaml"
        self.manifest_path.write_text(yaml.safe_dump(manifest))
        monkeypatch.setenv("COURSE_DATA_MANIFEST", str(self.manifest_path))
        monkeypatch.setenv("TOY_STATE", str(self.state))
        monkeypatch.setenv("TOY_BLOCK", "1" if block else "0")
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(modules), os.environ.get("PYTHONPATH", "")]))
        monkeypatch.syspath_prepend(str(modules))
        self.demo_root = data.source_folder("neurotask", "demo")

    def start(self, mode: str = "demo", stderr=subprocess.PIPE) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD.format(mode=mode)], stdout=subprocess.PIPE, stderr=stderr, text=True
        )

    def calls(self) -> int:
        path = self.state / "calls.txt"
        return len(path.read_text().split()) if path.exists() else 0

    def go(self) -> None:
        (self.state / "go").touch()

    def tmp_dirs(self) -> list[Path]:
        return sorted(self.demo_root.glob(".tmp-*")) if self.demo_root.is_dir() else []


@pytest.fixture()
def toy(isolated_data_dir, tmp_path, monkeypatch):
    return Toy(tmp_path / "toy", monkeypatch)


def _finish(proc: subprocess.Popen, timeout: float = 60) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out.strip().splitlines()[-1]


# ------------------------------------------------------------------------------------------ locks


def test_clean_spares_a_demo_set_being_generated(toy):
    """Data lost 2: `clean --stale` deleted the .tmp-* folder a running generator was writing into."""
    child = toy.start()
    try:
        _wait_for(lambda: (toy.state / "started").exists(), what="the generator to start")
        (tmp,) = toy.tmp_dirs()
        statuses = {Path(r.path).name: r.status for r in data.verify(["neurotask"]) if r.mode == "demo"}
        assert statuses[tmp.name] == "in progress"
        assert [i for i in data.clean(stale_only=True) if i.path == tmp] == []
        busy = data.clean(["neurotask"], "demo")
        assert [i.outcome for i in busy] == ["skipped"] and "another process" in busy[0].detail
        assert tmp.is_dir()
    finally:
        toy.go()
    folder = Path(_finish(child))
    assert (folder / "data.txt").read_text() == "seed=0" and (folder / data.COMPLETE_MARKER).is_file()


def test_two_processes_asking_at_once_generate_once(toy, tmp_path):
    first = toy.start()
    second = None
    log = tmp_path / "second.err"
    try:
        _wait_for(lambda: (toy.state / "started").exists(), what="the first generator to start")
        with open(log, "w") as err:
            second = toy.start(stderr=err)
        # The second either waits for the lock (and says so) or, without a lock, runs the generator too.
        _wait_for(lambda: "waiting" in log.read_text() or toy.calls() > 1, what="the second process")
    finally:
        toy.go()
    assert _finish(first) == _finish(second)
    assert toy.calls() == 1
    assert "Another process is preparing the demo data of 'neurotask'" in log.read_text()


# ------------------------------------------------------------------------------------------ SIGTERM, SIGKILL


def test_sigterm_during_generation_leaves_no_temporary_folder(toy):
    child = toy.start()
    try:
        _wait_for(lambda: (toy.state / "started").exists(), what="the generator to start")
        assert len(toy.tmp_dirs()) == 1
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=60)
    finally:
        toy.go()
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGTERM  # ended as SIGTERM ends a process, after cleaning up
    assert toy.tmp_dirs() == []
    assert {r.status for r in data.verify(["neurotask"]) if r.mode == "demo"} == {"missing"}


def test_sigterm_during_download_leaves_no_partial_file(isolated_data_dir, tmp_path, monkeypatch):
    body = os.urandom(200_000)
    with LoopbackServer() as srv:
        url = srv.add("/slow.nwb", body, cut_after=50_000, hold=True)
        manifest = sample_manifest("neurotask", [file_entry("slow.nwb", body, url=url)], tmp_path)
        monkeypatch.setenv("COURSE_DATA_MANIFEST", str(manifest))
        folder = data.source_folder("neurotask", "sample")

        def partial_written() -> bool:
            return folder.is_dir() and any(
                ".part-" in str(p.relative_to(folder)) and p.is_file() and p.stat().st_size > 0 for p in folder.rglob("*")
            )

        child = subprocess.Popen([sys.executable, "-c", CHILD.format(mode="sample")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            _wait_for(partial_written, what="the download to start")
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
    assert child.returncode == -signal.SIGTERM
    assert not [p for p in folder.rglob("*") if ".part-" in p.name]
    assert not (folder / "slow.nwb").exists()


def test_leftovers_of_a_killed_process_are_labelled_truthfully_and_cleaned(toy):
    """SIGKILL cannot be caught: its .tmp-* is a leftover (not 'an older simulator version'), and clean removes it."""
    child = toy.start()
    _wait_for(lambda: (toy.state / "started").exists(), what="the generator to start")
    child.kill()
    child.wait(timeout=60)
    (tmp,) = toy.tmp_dirs()
    rows = {Path(r.path).name: r for r in data.verify(["neurotask"]) if r.mode == "demo"}
    assert rows[tmp.name].status == "leftover" and "interrupted demo generation" in rows[tmp.name].detail
    assert "stale" not in {r.status for r in rows.values()}
    removed = [i.path for i in data.clean(stale_only=True) if i.outcome == "removed"]
    assert removed == [tmp] and toy.tmp_dirs() == []
    toy.go()
    assert (data.get_source("neurotask") / "data.txt").read_text() == "seed=0"


# ------------------------------------------------------------------------------------------ clean


@pytest.fixture()
def quick_toy(isolated_data_dir, tmp_path, monkeypatch):
    return Toy(tmp_path / "toy", monkeypatch, block=False, n_files=4)


def test_a_clean_that_fails_half_way_leaves_nothing_that_looks_complete(quick_toy, monkeypatch):
    """Data lost 3: a half-deleted set kept its completion marker and verify called it ok."""
    folder = data.get_source("neurotask")
    real_rmtree = shutil.rmtree

    def fails_half_way(path, *args, **kwargs):
        files = sorted(p for p in Path(path).rglob("*.txt"))
        files[0].unlink()
        raise PermissionError(13, "Permission denied", str(files[1]))

    monkeypatch.setattr(shutil, "rmtree", fails_half_way)
    items = data.clean(["neurotask"], "demo")
    monkeypatch.setattr(shutil, "rmtree", real_rmtree)
    assert [i.outcome for i in items] == ["failed"] and "moved aside" in items[0].detail
    rows = [r for r in data.verify(["neurotask"]) if r.mode == "demo"]
    assert "ok" not in {r.status for r in rows}
    assert {r.status for r in rows if r.path == str(folder)} == {"missing"}
    assert any(r.status == "leftover" and "interrupted clean" in r.detail for r in rows)
    assert (data.get_source("neurotask") / "data.txt").read_text() == "seed=0"  # regenerated
    cleaned = data.clean(["neurotask"], stale_only=True)
    assert [i.outcome for i in cleaned] == ["removed"]
    assert not [r for r in data.verify(["neurotask"]) if r.status == "leftover"]


def test_clean_asks_before_deleting_full_data_and_offers_a_dry_run(quick_toy):
    """Data lost 5: a bare clean deleted full downloads (possibly many GB) without asking."""
    demo = data.get_source("neurotask")
    full = data.source_folder("neurotask", "full")
    full.mkdir(parents=True)
    (full / "big.parquet").write_bytes(b"x" * 1000)
    planned = data.clean(dry_run=True)
    assert {i.outcome for i in planned} == {"would remove"} and {i.mode for i in planned} == {"demo", "full"}
    assert demo.is_dir() and full.is_dir()
    with pytest.raises(data.ConfirmationRequired, match="full data.*--yes"):
        data.clean()
    assert demo.is_dir() and (full / "big.parquet").is_file()
    assert data.clean(["neurotask"], "demo")[0].outcome == "removed" and full.is_dir()
    assert [i.outcome for i in data.clean(allow_full=True)] == ["removed"] and not full.exists()


def test_clean_removes_a_linked_full_folder_but_not_what_it_points_to(isolated_data_dir, tmp_path):
    elsewhere = tmp_path / "big_disk" / "neurotask"
    elsewhere.mkdir(parents=True)
    (elsewhere / "keep.parquet").write_bytes(b"x")
    link = data.source_folder("neurotask", "full")
    link.parent.mkdir(parents=True)
    link.symlink_to(elsewhere, target_is_directory=True)
    (item,) = data.clean(["neurotask"], "full", allow_full=True)
    assert item.outcome == "removed" and "not touched" in item.detail
    assert not link.is_symlink() and (elsewhere / "keep.parquet").is_file()


def test_clean_stale_keeps_the_current_set(quick_toy, tmp_path):
    current = data.get_source("neurotask")
    stale = current.parent / "0123456789abcdef"
    shutil.copytree(current, stale)
    removed = [i.path for i in data.clean(stale_only=True) if i.outcome == "removed"]
    assert removed == [stale] and (current / data.COMPLETE_MARKER).is_file()
