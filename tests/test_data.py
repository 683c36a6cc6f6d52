"""The data layer: manifest, modes, demo caching and its key, checked downloads from a real local HTTP server.

Interruption, concurrency and cleaning are in test_data_safety.py; archives in test_data_archives.py.
"""

from __future__ import annotations

import copy
import hashlib
import json
import socket
import warnings
from pathlib import Path

import pytest
from loopback import LoopbackServer, file_entry

from course_utils import data
from course_utils.manifest import ManifestError, load_manifest

GOOD = b"spike counts " * 1000
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()


@pytest.fixture()
def server():
    with LoopbackServer() as srv:
        yield srv


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/file.bin"  # nothing listens there any more: like being offline


def _manifest_with_sample(files: list[dict]) -> dict:
    manifest = copy.deepcopy(load_manifest())
    manifest["sources"]["neurotask"]["modes"]["sample"]["files"] = files
    return manifest


def _no_partials(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.startswith(".part-") or ".part-" in p.name]


def _sample(manifest: dict):
    return data.get_source("neurotask", "sample", manifest=manifest, progress=False)


def _statuses(manifest: dict, mode: str = "sample") -> dict[str, str]:
    return {Path(r.path).name: r.status for r in data.verify(["neurotask"], manifest) if r.mode == mode}


# ------------------------------------------------------------------------------------------ package


def test_the_data_package_keeps_its_public_names():
    from course_utils.data import (  # noqa: F401 (the import is the test)
        ChecksumError,
        DataError,
        DataUnavailableError,
        IncompleteDownloadError,
        data_dir,
        data_mode,
        describe_sources,
        download,
        fetch_file,
        file_sha256,
        get_source,
        mode_info,
        safe_extract,
        source_folder,
        source_info,
        source_names,
        verify,
    )

    for name in data.__all__:
        assert hasattr(data, name), name


# ------------------------------------------------------------------------------------------ manifest


def test_manifest_lists_every_source_with_required_fields():
    manifest = load_manifest()
    assert set(manifest["sources"]) == {"neurotask", "allen_visual_behavior", "sensorium2023", "experanto", "neurogym"}
    for name, info in manifest["sources"].items():
        for field in ("title", "description", "homepage", "license", "citation"):
            assert info[field].strip(), (name, field)
        assert "demo" in info["modes"]


def test_every_citation_key_is_in_the_bibliography():
    bib = (Path(__file__).resolve().parents[1] / "book" / "references.bib").read_text()
    for name, info in load_manifest()["sources"].items():
        assert "{" + info["citation"] + "," in bib, f"{name}: citation key {info['citation']} not in references.bib"


def test_real_manifest_sizes_are_marked_approximate_so_real_downloads_are_not_refused():
    """Today's real sizes are rounded: they must be `approx_size` (reported), never `size` (enforced)."""
    for name, info in load_manifest()["sources"].items():
        for entry in info["modes"].get("sample", {}).get("files", []):
            assert entry.get("size") is None, f"{name}: {entry['path']} has an exact size; was it measured?"


@pytest.mark.parametrize(
    "breakage, expected",
    [
        (lambda m: m["sources"]["neurotask"].pop("license"), "sources.neurotask.license is missing"),
        (lambda m: m["sources"]["allen_visual_behavior"]["modes"].pop("demo"), "modes.demo is missing"),
        (lambda m: m["sources"]["neurotask"]["modes"]["sample"]["files"][0].pop("path"), "files[0].path is missing"),
        (lambda m: m["sources"]["neurotask"]["modes"]["sample"]["files"][0].update(sha256="abc"), "files[0].sha256"),
        (lambda m: m["sources"]["neurotask"]["modes"]["sample"]["files"][0].update(sha256="z" * 64), "files[0].sha256"),
        (lambda m: m["sources"]["neurotask"]["modes"]["sample"]["files"][0].update(size="54 MB"), "files[0].size must be"),
        (lambda m: m["sources"]["neurotask"]["modes"]["sample"]["files"][0].update(sha265="x"), "files[0].sha265 is not"),
        (lambda m: m["sources"]["neurotask"]["modes"]["sample"]["files"][0].update(extract="yes"), "files[0].extract"),
        (lambda m: m["sources"]["neurotask"]["modes"].update(weird={"description": "x"}), "unknown mode"),
        (lambda m: m["sources"]["neurotask"]["modes"]["full"].pop("instructions"), "full.instructions is missing"),
        (lambda m: m["sources"]["neurotask"].update(package="course utils"), "neurotask.package must be a module path"),
        (lambda m: m["sources"]["neurotask"].pop("package"), "sources.neurotask.package is missing"),
        (lambda m: m["sources"]["neurotask"]["modes"]["demo"].update(generator="x:y"), "demo.generator is not read"),
    ],
)
def test_manifest_with_a_bad_field_names_its_path(tmp_path, breakage, expected):
    import yaml

    manifest = copy.deepcopy(load_manifest())
    breakage(manifest)
    path = tmp_path / "data_manifest.yaml"
    path.write_text(yaml.safe_dump(manifest))
    with pytest.raises(ManifestError, match=expected.replace("[", r"\[").replace("]", r"\]")) as err:
        load_manifest(path)
    assert str(path) in str(err.value)


def test_manifest_that_is_not_yaml(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("sources: [unclosed")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_manifest(path)


def test_loopback_stand_in_entries_pass_validation(tmp_path):
    from course_utils.manifest import validate_manifest

    manifest = _manifest_with_sample([file_entry("a.nwb", GOOD, url="http://127.0.0.1:9/a", extract=False)])
    validate_manifest(manifest)


# ------------------------------------------------------------------------------------------ modes and settings


def test_mode_comes_from_argument_then_environment_then_demo(monkeypatch):
    monkeypatch.delenv(data.ENV_MODE, raising=False)
    assert data.data_mode() == "demo"
    monkeypatch.setenv(data.ENV_MODE, "sample")
    assert data.data_mode() == "sample"
    assert data.data_mode("full") == "full"


def test_unknown_mode_and_source_give_clear_errors(isolated_data_dir, monkeypatch):
    with pytest.raises(ValueError, match="Unknown data mode 'smaple'.*demo"):
        data.get_source("neurotask", "smaple")
    monkeypatch.setenv(data.ENV_MODE, "bogus")
    with pytest.raises(ValueError, match="environment variable COURSE_DATA_MODE"):
        data.get_source("neurotask")
    with pytest.raises(KeyError, match="Unknown data source 'neurotsk'. Known sources: neurotask"):
        data.get_source("neurotsk", "demo")
    with pytest.raises(ValueError, match="has no 'sample' mode.*mode='demo'"):
        data.get_source("neurogym", "sample")


def test_data_dir_follows_environment(isolated_data_dir):
    assert data.data_dir() == isolated_data_dir
    assert data.source_folder("neurotask", "sample") == isolated_data_dir / "neurotask" / "sample"


@pytest.mark.parametrize("value", ["two", "-1", "1.5", "100"])
def test_bad_retries_setting_names_the_variable(isolated_data_dir, server, monkeypatch, value):
    monkeypatch.setenv(data.ENV_RETRIES, value)
    url = server.add("/good.bin", GOOD)
    with pytest.raises(data.SettingError, match=f"COURSE_DATA_RETRIES='{value}' is not a whole number"):
        _sample(_manifest_with_sample([file_entry("good.bin", GOOD, url=url)]))
    assert server.hits == []


def test_a_data_dir_that_is_a_file_is_named_with_the_fix(tmp_path, monkeypatch, toy_generator):
    not_a_folder = tmp_path / "course_data"
    not_a_folder.write_text("I am a file")
    monkeypatch.setenv(data.ENV_DIR, str(not_a_folder))
    with pytest.raises(data.SettingError, match="is a file, not a folder.*COURSE_DATA_DIR"):
        data.get_source("neurotask", manifest=_toy_manifest(seed=1))
    assert not_a_folder.read_text() == "I am a file"


def test_full_mode_without_data_explains_how_to_get_it(isolated_data_dir):
    with pytest.raises(data.DataUnavailableError, match="kaggle datasets download"):
        data.get_source("neurotask", "full")
    folder = data.source_folder("neurotask", "full")
    folder.mkdir(parents=True)
    (folder / "1_10_X_Y.parquet").write_bytes(b"x")
    assert data.get_source("neurotask", "full") == folder


def test_synthetic_source_has_no_folder(isolated_data_dir):
    with pytest.raises(data.DataError, match="synthetic"):
        data.get_source("neurogym", "demo")


# ------------------------------------------------------------------------------------------ demo


@pytest.fixture()
def toy_generator(tmp_path, monkeypatch):
    """A source package whose simulate.write_demo counts its calls (what the manifest's `package:` names)."""
    package = tmp_path / "toy_sim"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "simulate.py").write_text(
        "from pathlib import Path\n"
        "SIMULATOR_VERSION = 1\n"
        "CALLS = []\n"
        "def write_demo(out_dir, seed=0, fail=False):\n"
        "    CALLS.append(seed)\n"
        "    (Path(out_dir) / 'data.txt').write_text(f'seed={seed}')\n"
        "    if fail:\n"
        "        raise RuntimeError('simulator crashed')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    _forget("toy_sim")
    mod = importlib.import_module("toy_sim.simulate")
    mod.CALLS.clear()
    return mod


def _toy_manifest(package: str = "toy_sim", **params) -> dict:
    manifest = copy.deepcopy(load_manifest())
    manifest["sources"]["neurotask"]["package"] = package
    manifest["sources"]["neurotask"]["modes"]["demo"] = {"description": "toy", "params": params}
    return manifest


def test_demo_data_are_generated_once_and_reused(isolated_data_dir, toy_generator):
    manifest = _toy_manifest(seed=3)
    first = data.get_source("neurotask", manifest=manifest)
    second = data.get_source("neurotask", manifest=manifest)
    assert first == second
    assert (first / "data.txt").read_text() == "seed=3"
    assert toy_generator.CALLS == [3]
    other = data.get_source("neurotask", manifest=_toy_manifest(seed=4))
    assert other != first and toy_generator.CALLS == [3, 4]
    assert first.parent == isolated_data_dir / "neurotask" / "demo"


def test_failed_demo_generation_leaves_nothing_behind(isolated_data_dir, toy_generator):
    manifest = _toy_manifest(seed=1, fail=True)
    with pytest.raises(RuntimeError, match="simulator crashed"):
        data.get_source("neurotask", manifest=manifest)
    demo_root = isolated_data_dir / "neurotask" / "demo"
    assert not any(demo_root.iterdir())


def test_demo_generator_that_cannot_be_imported(isolated_data_dir):
    manifest = copy.deepcopy(load_manifest())
    manifest["sources"]["neurotask"]["package"] = "course_utils.nope"
    with pytest.raises(data.DataError, match="course_utils.nope"):
        data.get_source("neurotask", manifest=manifest)


def test_demo_folder_without_its_marker_is_replaced_not_a_dead_end(isolated_data_dir, toy_generator):
    manifest = _toy_manifest(seed=2)
    block = data.mode_info("neurotask", "demo", manifest)
    broken = data.source_folder("neurotask", "demo") / data.demo_key(block)
    broken.mkdir(parents=True)
    (broken / "half_written.txt").write_text("from an interrupted run")
    assert _statuses(manifest, "demo")[broken.name] == "incomplete"
    for _ in range(2):  # every later run works too
        folder = data.get_source("neurotask", manifest=manifest)
        assert folder == broken and (folder / "data.txt").read_text() == "seed=2"
    assert not (broken / "half_written.txt").exists()
    assert toy_generator.CALLS == [2]


@pytest.fixture()
def toy_package(tmp_path, monkeypatch):
    """A package with a versioned simulator, an unversioned one, a helper they import and an unrelated module."""
    pkg = tmp_path / "toypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helper.py").write_text('"""Helper."""\nSCALE = 1\n')
    (pkg / "unrelated.py").write_text('"""Nothing to do with the simulators."""\n')
    (pkg / "versioned.py").write_text(
        '"""Versioned simulator."""\nfrom .helper import SCALE\nSIMULATOR_VERSION = 1\n'
        "def write(out_dir, seed=0):\n    (out_dir / 'v.txt').write_text(str(seed * SCALE))\n"
    )
    (pkg / "plain.py").write_text(
        '"""Simulator without a version."""\nfrom . import helper\n'
        "def write(out_dir, seed=0):\n    (out_dir / 'p.txt').write_text(str(seed * helper.SCALE))\n"
    )
    (pkg / "builds_on.py").write_text(
        '"""A simulator that converts another simulator\'s output (like Experanto from Sensorium)."""\n'
        "SIMULATOR_VERSION = 1\n"
        "def write(out_dir, seed=0):\n    from toypkg.versioned import write as base\n    base(out_dir, seed)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    _forget("toypkg")  # each test has its own copy of the package, in its own tmp_path
    yield pkg
    _forget("toypkg")


def _forget(package: str) -> None:
    import sys

    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]


def _bump(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def test_demo_key_follows_the_generator_module_and_its_version_not_the_whole_package(toy_package):
    block = {"generator": "toypkg.versioned:write", "params": {"seed": 0}}
    key = data.demo_key(block)
    assert data.demo_fingerprint(block["generator"])["simulator_version"] == 1
    (toy_package / "unrelated.py").write_text('"""Edited docstring."""\n')
    (toy_package / "helper.py").write_text('"""Helper, docstring edited."""\nSCALE = 1\n')
    assert data.demo_key(block) == key, "an edit outside the generator's module must not regenerate the demo"
    _bump(toy_package / "versioned.py", "SIMULATOR_VERSION = 1", "SIMULATOR_VERSION = 2")
    bumped = data.demo_key(block)
    assert bumped != key
    _bump(toy_package / "versioned.py", '"""Versioned simulator."""', '"""Versioned simulator, edited."""')
    assert data.demo_key(block) != bumped, "the generator's own module is part of the key"


def test_demo_key_includes_the_versions_of_simulators_it_builds_on(toy_package):
    block = {"generator": "toypkg.builds_on:write", "params": {}}
    key = data.demo_key(block)
    assert data.demo_fingerprint(block["generator"])["depends"] == {"toypkg.versioned": 1}
    _bump(toy_package / "versioned.py", "SIMULATOR_VERSION = 1", "SIMULATOR_VERSION = 2")
    assert data.demo_key(block) != key


def test_a_generator_without_an_integer_simulator_version_is_refused_with_the_fix(toy_package):
    with pytest.raises(data.DataError, match=r"plain.py has no `SIMULATOR_VERSION = <integer>` line.*Add one"):
        data.demo_key({"generator": "toypkg.plain:write", "params": {}})
    (toy_package / "dated.py").write_text('SIMULATOR_VERSION = "2024.1"\n')  # a string is not a version
    with pytest.raises(data.DataError, match="dated.py has no `SIMULATOR_VERSION = <integer>`"):
        data.demo_key({"generator": "toypkg.dated:write", "params": {}})


def test_stale_demo_sets_say_truthfully_why(isolated_data_dir, toy_package):
    (toy_package / "simulate.py").write_text((toy_package / "versioned.py").read_text().replace("def write(", "def write_demo("))
    manifest = _toy_manifest("toypkg", seed=0)
    old = data.get_source("neurotask", manifest=manifest)
    _bump(toy_package / "simulate.py", "SIMULATOR_VERSION = 1", "SIMULATOR_VERSION = 2")
    new = data.get_source("neurotask", manifest=manifest)
    assert new != old
    rows = {Path(r.path).name: r for r in data.verify(["neurotask"], manifest) if r.mode == "demo"}
    assert rows[new.name].status == "ok" and "SIMULATOR_VERSION 2" in rows[new.name].detail
    assert rows[old.name].status == "stale"
    assert "SIMULATOR_VERSION 1 (now 2)" in rows[old.name].detail


def test_the_demo_key_is_read_from_source_files_without_importing_the_simulator(toy_package):
    """verify and every chapter's get_source compute keys: that must not import torch, pynwb, ... (seconds)."""
    (toy_package / "heavy.py").write_text(
        '"""A simulator whose import is expensive."""\nSIMULATOR_VERSION = 3\n'
        "raise RuntimeError('imported')\n"
    )
    fingerprint = data.demo_fingerprint("toypkg.heavy:write")
    assert fingerprint["simulator_version"] == 3
    assert len(data.demo_key({"generator": "toypkg.heavy:write", "params": {}})) == 16


def test_every_course_demo_has_a_key():
    for name, info in load_manifest()["sources"].items():
        if not info["modes"]["demo"].get("synthetic"):
            assert len(data.demo_key(data.mode_info(name, "demo"))) == 16, name


# ------------------------------------------------------------------------------------------ downloads


def test_sample_download_with_known_hash(isolated_data_dir, server):
    url = server.add("/good.bin", GOOD)
    manifest = _manifest_with_sample([file_entry("x/good.bin", GOOD, url=url)])
    folder = _sample(manifest)
    assert (folder / "x" / "good.bin").read_bytes() == GOOD
    assert _no_partials(folder)
    hits = len(server.hits)
    _sample(manifest)  # cached: not downloaded again
    assert len(server.hits) == hits
    assert _statuses(manifest)["good.bin"] == "ok"


def test_cached_sample_data_are_returned_without_a_lock_or_a_write(isolated_data_dir, server, monkeypatch):
    """A pre-filled (even read-only) data folder works: nothing is locked or written when all is there."""
    import course_utils.data as package

    url = server.add("/good.bin", GOOD)
    manifest = _manifest_with_sample([file_entry("good.bin", GOOD, url=url)])
    folder = _sample(manifest)
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}

    def no_lock(*args, **kwargs):
        raise AssertionError("a lock was taken although everything was cached")

    monkeypatch.setattr(package, "source_lock", no_lock)
    assert _sample(manifest) == folder
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before


def test_downloads_go_through_pooch_retrieve_with_the_known_hash(isolated_data_dir, server, monkeypatch):
    import pooch

    calls = []
    real = pooch.retrieve

    def spy(url, known_hash=None, **kwargs):
        calls.append((url, known_hash))
        return real(url, known_hash=known_hash, **kwargs)

    monkeypatch.setattr(pooch, "retrieve", spy)
    url = server.add("/good.bin", GOOD)
    data.download(url, isolated_data_dir / "g.bin", sha256=GOOD_SHA, progress=False)
    assert calls == [(url, GOOD_SHA)]


def test_unknown_hash_is_recorded_and_reported_but_never_taken_as_truth(isolated_data_dir, server):
    url = server.add("/good.bin", GOOD)
    manifest = _manifest_with_sample([{"url": url, "path": "good.bin", "sha256": None}])
    with pytest.warns(UserWarning, match=f"checked by Content-Length and its sha256 {GOOD_SHA} recorded"):
        folder = _sample(manifest)
    record = data.read_records(folder)["good.bin"]
    assert record["sha256"] == GOOD_SHA and record["checked_by"] == "Content-Length"
    rows = {Path(r.path).name: r for r in data.verify(["neurotask"], manifest) if r.mode == "sample"}
    assert rows["good.bin"].status == "unchecked" and "no sha256 in data_manifest.yaml" in rows["good.bin"].detail


def test_short_body_without_content_length_is_refused_by_the_manifest_size(isolated_data_dir, server):
    """Data lost 1: a cut-off body with no Content-Length and no sha256 was kept and its hash recorded."""
    url = server.add("/short.bin", GOOD, content_length=False, cut_after=len(GOOD) // 3)
    manifest = _manifest_with_sample([{"url": url, "path": "short.bin", "sha256": None, "size": len(GOOD)}])
    with pytest.raises(data.IncompleteDownloadError, match=f"{len(GOOD) // 3:,} bytes, but the file is {len(GOOD):,}"):
        _sample(manifest)
    folder = data.source_folder("neurotask", "sample")
    assert not (folder / "short.bin").exists() and _no_partials(folder)
    assert data.read_records(folder) == {}
    assert _statuses(manifest)["short.bin"] == "missing"


def test_a_download_nothing_can_show_is_whole_is_not_kept(isolated_data_dir, server):
    """No sha256, no exact size, no Content-Length: a body cut short cannot be told apart, so it is refused."""
    url = server.add("/unknown.bin", GOOD, content_length=False)
    manifest = _manifest_with_sample([{"url": url, "path": "unknown.bin", "sha256": None, "approx_size": len(GOOD)}])
    with pytest.raises(data.IncompleteDownloadError, match="without a Content-Length.*neither `size` nor `sha256`"):
        _sample(manifest)
    folder = data.source_folder("neurotask", "sample")
    assert not (folder / "unknown.bin").exists() and data.read_records(folder) == {}


def test_exact_size_is_enforced_and_approximate_size_only_reported(isolated_data_dir, server):
    url = server.add("/good.bin", GOOD, content_length=False)
    exact = _manifest_with_sample([{"url": url, "path": "good.bin", "sha256": None, "size": len(GOOD) - 1}])
    with pytest.raises(data.ChecksumError, match="not the expected file"):
        _sample(exact)
    close = _manifest_with_sample([{"url": url, "path": "good.bin", "sha256": None, "size": len(GOOD), "approx_size": 2 * len(GOOD)}])
    with pytest.warns(UserWarning) as caught:
        folder = _sample(close)
    assert any("approx_size" in str(w.message) and "only reported" in str(w.message) for w in caught)
    assert (folder / "good.bin").read_bytes() == GOOD
    assert data.read_records(folder)["good.bin"]["checked_by"] == "size (manifest)"


def test_checksum_mismatch_removes_download_and_keeps_good_cache(isolated_data_dir, server):
    dest = isolated_data_dir / "neurotask" / "sample" / "good.bin"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(GOOD)
    url = server.add("/other.bin", b"not what the manifest expects")
    bad_sha = hashlib.sha256(b"not what the manifest expects").hexdigest()
    with pytest.raises(data.ChecksumError) as err:
        data.download(url, dest, sha256=GOOD_SHA, progress=False)
    message = str(err.value)
    assert url in message and GOOD_SHA in message and bad_sha in message
    assert dest.read_bytes() == GOOD
    assert _no_partials(dest.parent)


def test_truncated_download_is_detected_and_removed(isolated_data_dir, server):
    url = server.add("/truncated.bin", GOOD, cut_after=len(GOOD) // 3)
    dest = isolated_data_dir / "t" / "truncated.bin"
    with pytest.raises(data.IncompleteDownloadError, match="stopped before the end"):
        data.download(url, dest, progress=False)
    assert not dest.exists() and _no_partials(dest.parent)


def test_http_error_names_the_url_and_is_not_retried(isolated_data_dir, server, monkeypatch):
    monkeypatch.setenv(data.ENV_RETRIES, "3")
    url = f"{server.base}/missing.bin"
    with pytest.raises(data.DataUnavailableError, match="404") as err:
        data.download(url, isolated_data_dir / "m.bin", progress=False)
    assert url in str(err.value)
    assert server.hits.count("/missing.bin") == 1


def test_server_errors_5xx_are_retried(isolated_data_dir, server, monkeypatch):
    import time

    waits = []
    monkeypatch.setattr(time, "sleep", waits.append)
    monkeypatch.setenv(data.ENV_RETRIES, "2")
    url = server.add("/busy.bin", GOOD, fail_first=[503, 502])
    got = data.download(url, isolated_data_dir / "busy.bin", sha256=GOOD_SHA, progress=False)
    assert got.path.read_bytes() == GOOD and server.hits.count("/busy.bin") == 3
    assert waits == [1.0, 2.0]  # backing off between attempts
    url = server.add("/down.bin", GOOD, fail_first=[500, 500, 500])
    with pytest.raises(data.DataUnavailableError, match="500"):
        data.download(url, isolated_data_dir / "down.bin", sha256=GOOD_SHA, progress=False)
    assert server.hits.count("/down.bin") == 3


def test_offline_with_nothing_cached_says_what_to_do(isolated_data_dir):
    url = _closed_port_url()
    manifest = _manifest_with_sample([{"url": url, "path": "file.bin", "sha256": None}])
    with pytest.raises(data.DataUnavailableError) as err:
        _sample(manifest)
    message = str(err.value)
    assert url in message and "offline" in message and "mode='demo'" in message
    assert str(isolated_data_dir / "neurotask" / "sample" / "file.bin") in message


def test_dandi_assets_are_resolved_through_the_api_with_their_exact_size(isolated_data_dir, server, monkeypatch):
    monkeypatch.setenv(data.ENV_DANDI_API, server.dandi_api)
    server.add_dandi_asset("001056", "sub-1/sub-1.nwb", GOOD)
    entry = {"dandi": {"dandiset": "001056", "path": "sub-1/sub-1.nwb"}, "path": "001056/sub-1.nwb", "sha256": None}
    with pytest.warns(UserWarning, match="checked by size \\(DANDI\\)"):
        folder = _sample(_manifest_with_sample([entry]))
    assert (folder / "001056" / "sub-1.nwb").read_bytes() == GOOD


def test_missing_dandi_asset(isolated_data_dir, server, monkeypatch):
    monkeypatch.setenv(data.ENV_DANDI_API, server.dandi_api)
    with pytest.raises(data.DataUnavailableError, match="has no asset 'other.nwb'"):
        data.resolve_dandi_url({"dandiset": "001056", "path": "other.nwb"})


def test_a_dandi_answer_that_is_not_json_is_explained(isolated_data_dir, server, monkeypatch):
    monkeypatch.setenv(data.ENV_DANDI_API, server.dandi_api)
    server.add("/api/dandisets/001056/versions/draft/assets/", b"<html>Please log in</html>", "text/html")
    with pytest.raises(data.DataUnavailableError, match="not a DANDI asset list.*text/html.*DANDI_API_URL"):
        data.resolve_dandi_url({"dandiset": "001056", "path": "sub-1/sub-1.nwb"})


# ------------------------------------------------------------------------------------------ verify


def test_verify_reports_ok_missing_mismatch_and_unchecked(isolated_data_dir):
    manifest = _manifest_with_sample(
        [
            {"url": "http://127.0.0.1:9/a", "path": "a.bin", "sha256": GOOD_SHA},
            {"url": "http://127.0.0.1:9/b", "path": "b.bin", "sha256": GOOD_SHA},
            {"url": "http://127.0.0.1:9/c", "path": "c.bin", "sha256": None},
            {"url": "http://127.0.0.1:9/d", "path": "d.bin", "sha256": None},
        ]
    )
    folder = data.source_folder("neurotask", "sample")
    folder.mkdir(parents=True)
    (folder / "a.bin").write_bytes(GOOD)
    (folder / "b.bin").write_bytes(b"corrupted")
    (folder / "d.bin").write_bytes(GOOD)  # copied in by hand: its hash cannot be checked
    assert _statuses(manifest) == {"a.bin": "ok", "b.bin": "mismatch", "c.bin": "missing", "d.bin": "unchecked"}


def test_cached_files_are_rechecked_against_their_known_sha256(isolated_data_dir, server):
    url = server.add("/good.bin", GOOD)
    manifest = _manifest_with_sample([file_entry("good.bin", GOOD, url=url)])
    folder = _sample(manifest)
    (folder / "good.bin").write_bytes(GOOD[:-1] + b"!")  # damaged on disk after the download
    assert _statuses(manifest)["good.bin"] == "mismatch"
    _sample(manifest)  # the damaged copy does not match the manifest: fetched again
    assert (folder / "good.bin").read_bytes() == GOOD and server.hits.count("/good.bin") == 2
    assert _statuses(manifest)["good.bin"] == "ok"


def test_a_file_changed_since_its_unverified_download_is_reported(isolated_data_dir, server):
    url = server.add("/good.bin", GOOD)
    manifest = _manifest_with_sample([{"url": url, "path": "good.bin", "sha256": None}])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = _sample(manifest)
    (folder / "good.bin").write_bytes(b"x" * len(GOOD))
    rows = {Path(r.path).name: r for r in data.verify(["neurotask"], manifest) if r.mode == "sample"}
    assert rows["good.bin"].status == "changed" and GOOD_SHA in rows["good.bin"].detail


def test_no_warnings_from_a_verified_download(isolated_data_dir, server):
    url = server.add("/good.bin", GOOD)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data.download(url, isolated_data_dir / "g.bin", sha256=GOOD_SHA, progress=False)


def test_records_of_older_course_versions_are_not_trusted(isolated_data_dir):
    manifest = _manifest_with_sample([{"url": "http://127.0.0.1:9/c", "path": "c.bin", "sha256": None}])
    folder = data.source_folder("neurotask", "sample")
    folder.mkdir(parents=True)
    (folder / "c.bin").write_bytes(GOOD)
    (folder / data.RECORDED_HASHES).write_text(json.dumps({"c.bin": GOOD_SHA}))  # the old format: a bare hash
    assert _statuses(manifest)["c.bin"] == "unchecked"
