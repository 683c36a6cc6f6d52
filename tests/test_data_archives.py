"""Archives: unpacked inside their folder, within limits, never over a file they did not write, once per archive."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import stat
import zipfile
from pathlib import Path

import pytest
from loopback import LoopbackServer, file_entry

from course_utils import data
from course_utils.manifest import load_manifest


def _zip(members: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buffer.getvalue()


def _manifest(entry: dict) -> dict:
    manifest = copy.deepcopy(load_manifest())
    manifest["sources"]["neurotask"]["modes"]["sample"]["files"] = [entry]
    return manifest


def _fetch(entry: dict) -> Path:
    return data.get_source("neurotask", "sample", manifest=_manifest(entry), progress=False)


@pytest.fixture()
def server():
    with LoopbackServer() as srv:
        yield srv


def test_sample_archive_is_verified_then_unpacked_once(isolated_data_dir, server):
    payload = _zip({"mouse/data/responses/0.npy": "x"})
    entry = file_entry("mouse.zip", payload, url=server.add("/archive.zip", payload), extract=True)
    folder = _fetch(entry)
    assert (folder / "mouse" / "data" / "responses" / "0.npy").read_text() == "x"
    (folder / "mouse" / "data" / "responses" / "0.npy").write_text("edited by the learner")
    _fetch(entry)
    assert (folder / "mouse" / "data" / "responses" / "0.npy").read_text() == "edited by the learner"
    assert server.hits.count("/archive.zip") == 1
    marker = json.loads((folder / ".mouse.zip.extracted.json").read_text())
    assert marker["complete"] and marker["archive_sha256"] == hashlib.sha256(payload).hexdigest()


def test_unpacking_never_overwrites_a_file_it_did_not_write(isolated_data_dir, server):
    """Data lost 4: a member named like a file already in the folder overwrote it silently."""
    folder = data.source_folder("neurotask", "sample")
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("the learner's own notes")
    payload = _zip({"notes.txt": "from the archive", "mouse/a.npy": "a"})
    entry = file_entry("mouse.zip", payload, url=server.add("/archive.zip", payload), extract=True)
    with pytest.raises(data.ArchiveError, match="notes.txt already exists and was not unpacked from mouse.zip"):
        _fetch(entry)
    assert (folder / "notes.txt").read_text() == "the learner's own notes"
    assert not (folder / "mouse").exists() and not list(folder.glob(".extract-*"))
    (folder / "notes.txt").rename(folder / "my_notes.txt")  # the fix the message gives
    _fetch(entry)
    assert (folder / "notes.txt").read_text() == "from the archive"
    assert server.hits.count("/archive.zip") == 1  # the verified archive was kept; only unpacking was redone


def test_a_corrected_archive_replaces_what_the_old_one_unpacked(isolated_data_dir, server):
    """Data lost 4: the extracted-marker was not tied to the archive, so a corrected archive was never unpacked."""
    old = _zip({"mouse/a.npy": "old", "mouse/only_in_old.npy": "old"})
    new = _zip({"mouse/a.npy": "new"})
    folder = _fetch(file_entry("mouse.zip", old, url=server.add("/v1/mouse.zip", old), extract=True))
    assert (folder / "mouse" / "a.npy").read_text() == "old"
    _fetch(file_entry("mouse.zip", new, url=server.add("/v2/mouse.zip", new), extract=True))
    assert (folder / "mouse" / "a.npy").read_text() == "new"
    assert not (folder / "mouse" / "only_in_old.npy").exists()
    rows = [r for r in data.verify(["neurotask"], _manifest(file_entry("mouse.zip", new, url="http://x/", extract=True)))]
    assert {r.status for r in rows if r.mode == "sample"} == {"ok"}


def test_an_interrupted_unpacking_is_redone_over_its_own_files(isolated_data_dir, server):
    payload = _zip({"mouse/a.npy": "a", "mouse/b.npy": "b"})
    entry = file_entry("mouse.zip", payload, url=server.add("/archive.zip", payload), extract=True)
    folder = _fetch(entry)
    (folder / "mouse" / "b.npy").unlink()  # as if the unpacking had stopped half-way
    marker = folder / ".mouse.zip.extracted.json"
    state = json.loads(marker.read_text())
    marker.write_text(json.dumps({**state, "complete": False}))
    assert any(r.status == "incomplete" for r in data.verify(["neurotask"], _manifest(entry)))
    _fetch(entry)
    assert (folder / "mouse" / "b.npy").read_text() == "b"


def test_verify_notices_unpacked_files_that_went_missing(isolated_data_dir, server):
    payload = _zip({"mouse/a.npy": "a", "mouse/b.npy": "b"})
    entry = file_entry("mouse.zip", payload, url=server.add("/archive.zip", payload), extract=True)
    folder = _fetch(entry)
    (folder / "mouse" / "b.npy").unlink()
    (row,) = [r for r in data.verify(["neurotask"], _manifest(entry)) if "unpacked from" in r.path]
    assert row.status == "changed" and "mouse/b.npy" in row.detail and ".mouse.zip.extracted.json" in row.detail


def test_extract_on_a_body_that_is_not_a_zip_is_refused_and_not_kept(isolated_data_dir, server):
    page = b"<html><body>Service temporarily unavailable</body></html>"
    url = server.add("/mouse.zip", page, "text/html")
    entry = {"url": url, "path": "mouse.zip", "sha256": None, "extract": True}
    with pytest.raises(data.ArchiveError, match="not a readable zip archive.*error page"):
        _fetch(entry)
    folder = data.source_folder("neurotask", "sample")
    assert not (folder / "mouse.zip").exists() and data.read_records(folder) == {}
    payload = _zip({"mouse/a.npy": "a"})
    server.add("/mouse.zip", payload)  # the server is fixed: the next run works
    with pytest.warns(UserWarning, match="checked by Content-Length"):
        assert (_fetch(entry) / "mouse" / "a.npy").read_text() == "a"


def test_an_archive_without_content_length_is_kept_when_its_zip_directory_is_whole(isolated_data_dir, server):
    payload = _zip({"mouse/a.npy": "a"})
    entry = {"url": server.add("/mouse.zip", payload, content_length=False), "path": "mouse.zip", "sha256": None, "extract": True}
    with pytest.warns(UserWarning, match="checked by zip directory"):
        folder = _fetch(entry)
    assert (folder / "mouse" / "a.npy").read_text() == "a"
    cut = {"url": server.add("/cut.zip", payload, content_length=False, cut_after=len(payload) - 30), "path": "cut.zip", "sha256": None, "extract": True}
    with pytest.raises(data.ArchiveError, match="not a readable zip archive"):
        _fetch(cut)
    assert not (folder / "cut.zip").exists()


# ------------------------------------------------------------------------------------------ safe_extract itself


def _write(tmp_path: Path, payload: bytes) -> tuple[Path, Path]:
    archive = tmp_path / "a.zip"
    archive.write_bytes(payload)
    target = tmp_path / "target"
    target.mkdir()
    return archive, target


@pytest.mark.parametrize("name", ["../escaped.txt", "/etc/escaped.txt", "mouse/../../escaped.txt", "C:/escaped.txt"])
def test_safe_extract_refuses_members_outside_the_target(tmp_path, name):
    archive, target = _write(tmp_path, _zip({"ok.txt": "fine", name: "bad"}))
    with pytest.raises(data.ArchiveError, match="outside"):
        data.safe_extract(archive, target)
    assert not (tmp_path / "escaped.txt").exists()
    assert list(target.iterdir()) == []


def test_safe_extract_unpacks_inside(tmp_path):
    archive, target = _write(tmp_path, _zip({"mouse/data/responses/0.npy": "x"}))
    assert data.safe_extract(archive, target) == ["mouse"]
    assert (target / "mouse" / "data" / "responses" / "0.npy").read_text() == "x"


def test_symlink_members_are_refused_with_a_clear_message(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        link = zipfile.ZipInfo("mouse/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    archive, target = _write(tmp_path, buffer.getvalue())
    with pytest.raises(data.ArchiveError, match="'mouse/link' is a symbolic link; refused"):
        data.safe_extract(archive, target)
    assert list(target.iterdir()) == []


@pytest.mark.parametrize(
    "members, limits, expected",
    [
        ({f"m/{i}.npy": "x" for i in range(5)}, {"max_members": 4}, "5 members, more than the limit of 4"),
        ({"m/big.npy": b"x" * 5000}, {"max_unpacked_bytes": 4000}, "would unpack to"),
        ({"m/zeros.npy": bytes(2_000_000)}, {}, "times its compressed size"),  # the default ratio limit
    ],
    ids=["members", "unpacked size", "compression ratio"],
)
def test_archive_limits_are_enforced_before_anything_is_written(tmp_path, members, limits, expected):
    archive, target = _write(tmp_path, _zip(members))
    with pytest.raises(data.ArchiveError, match=expected):
        data.safe_extract(archive, target, limits=data.ArchiveLimits(**limits))
    assert list(target.iterdir()) == []


def test_a_damaged_member_fails_the_crc_check_and_nothing_is_unpacked(tmp_path):
    payload = bytearray(_zip({"mouse/a.npy": b"spikes" * 100, "mouse/b.npy": b"more"}, zipfile.ZIP_STORED))
    at = payload.index(b"spikes" * 10) + 7
    payload[at] ^= 0xFF
    archive, target = _write(tmp_path, bytes(payload))
    with pytest.raises(data.ArchiveError, match="damaged"):
        data.safe_extract(archive, target)
    assert list(target.iterdir()) == []
