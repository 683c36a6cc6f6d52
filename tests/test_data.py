"""The data layer: modes, demo caching, verified downloads from a real local HTTP server, bad input."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import socket
import threading
import warnings
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from course_utils import data
from course_utils.manifest import ManifestError, load_manifest

GOOD = b"spike counts " * 1000
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    """Serves a few fixed routes, including a lying Content-Length and a tiny DANDI API."""

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        server = self.server
        server.hits.append(self.path)
        if self.path == "/good.bin":
            self._send(GOOD)
        elif self.path == "/other.bin":
            self._send(b"not what the manifest expects")
        elif self.path == "/truncated.bin":
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            self.wfile.write(GOOD[: len(GOOD) // 3])
            self.wfile.flush()
            self.close_connection = True
        elif self.path.startswith("/api/dandisets/001056/versions/draft/assets/"):
            body = {"count": 1, "results": [{"asset_id": "abc-123", "path": "sub-1/sub-1.nwb", "size": len(GOOD)}]}
            self._send(json.dumps(body).encode(), "application/json")
        elif self.path == "/archive.zip" and getattr(_Handler, "ARCHIVE", None):
            self._send(_Handler.ARCHIVE)
        elif self.path == "/api/assets/abc-123/download/":
            self._send(GOOD)
        else:
            self.send_error(404)

    def _send(self, body: bytes, kind: str = "application/octet-stream"):
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.hits = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


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
    return not [p for p in folder.rglob("*") if ".part-" in p.name]


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


@pytest.mark.parametrize(
    "breakage, expected",
    [
        (lambda m: m["sources"]["neurotask"].pop("license"), "sources.neurotask.license is missing"),
        (lambda m: m["sources"]["allen_visual_behavior"]["modes"].pop("demo"), "modes.demo is missing"),
        (lambda m: m["sources"]["neurotask"]["modes"]["sample"]["files"][0].pop("path"), "files[0].path is missing"),
        (lambda m: m["sources"]["neurotask"]["modes"]["sample"]["files"][0].update(sha256="abc"), "files[0].sha256"),
        (lambda m: m["sources"]["neurotask"]["modes"].update(weird={"description": "x"}), "unknown mode"),
        (lambda m: m["sources"]["neurotask"]["modes"]["full"].pop("instructions"), "full.instructions is missing"),
        (lambda m: m["sources"]["neurotask"]["modes"]["demo"].update(generator="no_colon"), "generator must look like"),
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


# ------------------------------------------------------------------------------------------ modes


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
    with pytest.raises(ValueError, match="has no 'sample' mode"):
        data.get_source("neurogym", "sample")


def test_data_dir_follows_environment(isolated_data_dir):
    assert data.data_dir() == isolated_data_dir
    assert data.source_folder("neurotask", "sample") == isolated_data_dir / "neurotask" / "sample"


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
    """A generator module importable by name, counting its calls."""
    module = tmp_path / "toy_sim.py"
    module.write_text(
        "from pathlib import Path\n"
        "CALLS = []\n"
        "def write(out_dir, seed=0, fail=False):\n"
        "    CALLS.append(seed)\n"
        "    (Path(out_dir) / 'data.txt').write_text(f'seed={seed}')\n"
        "    if fail:\n"
        "        raise RuntimeError('simulator crashed')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    mod = importlib.import_module("toy_sim")
    mod.CALLS.clear()
    return mod


def _toy_manifest(**params) -> dict:
    manifest = copy.deepcopy(load_manifest())
    manifest["sources"]["neurotask"]["modes"]["demo"] = {
        "description": "toy",
        "generator": "toy_sim:write",
        "params": params,
    }
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
    manifest["sources"]["neurotask"]["modes"]["demo"]["generator"] = "course_utils.nope:write"
    with pytest.raises(data.DataError, match="cannot be imported"):
        data.get_source("neurotask", manifest=manifest)


# ------------------------------------------------------------------------------------------ downloads


def test_sample_download_with_known_hash(isolated_data_dir, server):
    _, base = server
    manifest = _manifest_with_sample([{"url": f"{base}/good.bin", "path": "x/good.bin", "sha256": GOOD_SHA}])
    folder = data.get_source("neurotask", "sample", manifest=manifest, progress=False)
    assert (folder / "x" / "good.bin").read_bytes() == GOOD
    assert _no_partials(folder)
    # cached: a second call does not download again
    httpd, _ = server
    hits = len(httpd.hits)
    data.get_source("neurotask", "sample", manifest=manifest, progress=False)
    assert len(httpd.hits) == hits


def test_unknown_hash_is_recorded_and_reported(isolated_data_dir, server):
    _, base = server
    manifest = _manifest_with_sample([{"url": f"{base}/good.bin", "path": "good.bin", "sha256": None}])
    with pytest.warns(UserWarning, match=f"recorded {GOOD_SHA}"):
        folder = data.get_source("neurotask", "sample", manifest=manifest, progress=False)
    recorded = json.loads((folder / data.RECORDED_HASHES).read_text())
    assert recorded == {"good.bin": GOOD_SHA}


def test_checksum_mismatch_removes_download_and_keeps_good_cache(isolated_data_dir, server):
    _, base = server
    dest = isolated_data_dir / "neurotask" / "sample" / "good.bin"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(GOOD)
    url = f"{base}/other.bin"
    bad_sha = hashlib.sha256(b"not what the manifest expects").hexdigest()
    with pytest.raises(data.ChecksumError) as err:
        data.download(url, dest, sha256=GOOD_SHA, progress=False)
    message = str(err.value)
    assert url in message and GOOD_SHA in message and bad_sha in message
    assert dest.read_bytes() == GOOD
    assert _no_partials(dest.parent)


def test_truncated_download_is_detected_and_removed(isolated_data_dir, server):
    _, base = server
    dest = isolated_data_dir / "t" / "truncated.bin"
    with pytest.raises(data.IncompleteDownloadError, match="stopped before the end"):
        data.download(f"{base}/truncated.bin", dest, sha256=None, progress=False)
    assert not dest.exists() and _no_partials(dest.parent)


def test_http_error_names_the_url(isolated_data_dir, server):
    _, base = server
    with pytest.raises(data.DataUnavailableError, match="404"):
        data.download(f"{base}/missing.bin", isolated_data_dir / "m.bin", progress=False)


def test_offline_with_nothing_cached_says_what_to_do(isolated_data_dir):
    url = _closed_port_url()
    manifest = _manifest_with_sample([{"url": url, "path": "file.bin", "sha256": None}])
    with pytest.raises(data.DataUnavailableError) as err:
        data.get_source("neurotask", "sample", manifest=manifest, progress=False)
    message = str(err.value)
    assert url in message and "offline" in message and "mode='demo'" in message
    assert str(isolated_data_dir / "neurotask" / "sample" / "file.bin") in message


def test_dandi_assets_are_resolved_through_the_api(isolated_data_dir, server, monkeypatch):
    _, base = server
    monkeypatch.setenv(data.ENV_DANDI_API, f"{base}/api")
    entry = {"dandi": {"dandiset": "001056", "path": "sub-1/sub-1.nwb"}, "path": "001056/sub-1.nwb", "sha256": GOOD_SHA}
    folder = data.get_source("neurotask", "sample", manifest=_manifest_with_sample([entry]), progress=False)
    assert (folder / "001056" / "sub-1.nwb").read_bytes() == GOOD


def test_missing_dandi_asset(isolated_data_dir, server, monkeypatch):
    _, base = server
    monkeypatch.setenv(data.ENV_DANDI_API, f"{base}/api")
    with pytest.raises(data.DataUnavailableError, match="has no asset 'other.nwb'"):
        data.resolve_dandi_url({"dandiset": "001056", "path": "other.nwb"})


# ------------------------------------------------------------------------------------------ archives, verify


def test_safe_extract_refuses_members_outside_the_target(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../escaped.txt", "bad")
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(data.DataError, match="outside"):
        data.safe_extract(archive, target)
    assert not (tmp_path / "escaped.txt").exists()
    assert list(target.iterdir()) == []


def test_safe_extract_unpacks_inside(tmp_path):
    archive = tmp_path / "mouse.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("mouse/data/responses/0.npy", "x")
    target = tmp_path / "target"
    target.mkdir()
    data.safe_extract(archive, target)
    assert (target / "mouse" / "data" / "responses" / "0.npy").read_text() == "x"


def test_verify_reports_ok_missing_and_mismatch(isolated_data_dir, monkeypatch):
    manifest = _manifest_with_sample(
        [
            {"url": "http://127.0.0.1:9/a", "path": "a.bin", "sha256": GOOD_SHA},
            {"url": "http://127.0.0.1:9/b", "path": "b.bin", "sha256": GOOD_SHA},
            {"url": "http://127.0.0.1:9/c", "path": "c.bin", "sha256": None},
        ]
    )
    folder = data.source_folder("neurotask", "sample")
    folder.mkdir(parents=True)
    (folder / "a.bin").write_bytes(GOOD)
    (folder / "b.bin").write_bytes(b"corrupted")
    rows = {Path(r.path).name: r.status for r in data.verify(["neurotask"], manifest) if r.mode == "sample"}
    assert rows == {"a.bin": "ok", "b.bin": "mismatch", "c.bin": "missing"}


def test_cli_path_list_and_errors(isolated_data_dir, capsys):
    from course_utils.cli import main

    assert main(["data", "path", "neurotask", "--mode", "sample"]) == 0
    assert capsys.readouterr().out.strip() == str(isolated_data_dir / "neurotask" / "sample")
    assert main(["data", "list"]) == 0
    assert "sensorium2023" in capsys.readouterr().out
    assert main(["data", "path", "neurotsk"]) == 2
    assert "Unknown data source" in capsys.readouterr().err
    assert main(["data", "fetch", "neurotask", "--mode", "full"]) == 1
    assert "kaggle" in capsys.readouterr().err


def test_cli_clean_removes_only_what_was_asked(isolated_data_dir, capsys):
    from course_utils.cli import main

    for mode in ("demo", "sample"):
        (isolated_data_dir / "neurotask" / mode).mkdir(parents=True)
    assert main(["data", "clean", "neurotask", "--mode", "sample"]) == 0
    assert not (isolated_data_dir / "neurotask" / "sample").exists()
    assert (isolated_data_dir / "neurotask" / "demo").exists()


def test_no_warnings_from_a_verified_download(isolated_data_dir, server):
    _, base = server
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data.download(f"{base}/good.bin", isolated_data_dir / "g.bin", sha256=GOOD_SHA, progress=False)


def test_sample_archive_is_verified_then_unpacked_once(isolated_data_dir, server, monkeypatch):
    httpd, base = server
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("mouse/data/responses/0.npy", "x")
    payload = archive.getvalue()
    monkeypatch.setattr(_Handler, "ARCHIVE", payload, raising=False)
    entry = {"url": f"{base}/archive.zip", "path": "mouse.zip", "sha256": hashlib.sha256(payload).hexdigest(), "extract": True}
    folder = data.get_source("neurotask", "sample", manifest=_manifest_with_sample([entry]), progress=False)
    assert (folder / "mouse" / "data" / "responses" / "0.npy").read_text() == "x"
    (folder / "mouse" / "data" / "responses" / "0.npy").write_text("edited by the learner")
    data.get_source("neurotask", "sample", manifest=_manifest_with_sample([entry]), progress=False)
    assert (folder / "mouse" / "data" / "responses" / "0.npy").read_text() == "edited by the learner"
    assert httpd.hits.count("/archive.zip") == 1
