"""A loopback HTTP server for stand-ins of the real files, and manifests that point the course at it.

Sample mode is tested through the real download path: a test builds small files in a real layout, serves them
here (plain URLs and a tiny DANDI REST API), writes a manifest whose sample entries name those URLs with their
exact sizes and sha256, and sets ``COURSE_DATA_MANIFEST`` (and ``DANDI_API_URL``) so ``get_source(...,
"sample")`` downloads, verifies and caches them exactly as it would the real files. Nothing leaves 127.0.0.1.

Usage::

    with LoopbackServer() as srv:
        url = srv.add("/files/x.nwb", payload_bytes)             # plain URL
        srv.add_dandi_asset("001056", "sub-1/sub-1.nwb", payload)  # resolved through srv.dandi_api
        manifest = sample_manifest("neurotask", [entry(...)], tmp_path)
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from course_utils.manifest import load_manifest


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        srv = self.server
        parsed = urllib.parse.urlsplit(self.path)
        srv.hits.append(parsed.path)
        if parsed.path in srv.routes:
            body, kind = srv.routes[parsed.path]
            how = srv.behaviour.get(parsed.path, {})
            failures = how.get("fail_first", [])
            if failures:
                self.send_error(failures.pop(0))
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            if how.get("content_length", True):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            cut = how.get("cut_after")
            self.wfile.write(body if cut is None else body[:cut])
            self.wfile.flush()
            if how.get("hold"):  # keep the connection open, mid-body, until the test releases it
                srv.release.wait(timeout=60)
            return
        prefix = "/api/dandisets/"
        if parsed.path.startswith(prefix) and parsed.path.endswith("/assets/"):
            dandiset = parsed.path[len(prefix):].split("/")[0]
            wanted = urllib.parse.parse_qs(parsed.query).get("path", [""])[0]
            results = [
                {"asset_id": asset_id, "path": path, "size": size}
                for (ds, path), (asset_id, size) in srv.dandi.items()
                if ds == dandiset and path == wanted
            ]
            body = json.dumps({"count": len(results), "results": results}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_error(404)


class LoopbackServer:
    """Serve byte strings at fixed paths on 127.0.0.1 (a context manager; stops itself on exit)."""

    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.routes = {}
        self.httpd.dandi = {}
        self.httpd.hits = []
        self.httpd.behaviour = {}
        self.httpd.release = threading.Event()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def dandi_api(self) -> str:
        """The value for ``DANDI_API_URL``."""
        return f"{self.base}/api"

    @property
    def hits(self) -> list[str]:
        """Paths requested so far (to prove a file was really downloaded, or not again)."""
        return self.httpd.hits

    def add(
        self,
        path: str,
        body: bytes,
        kind: str = "application/octet-stream",
        *,
        content_length: bool = True,
        cut_after: int | None = None,
        fail_first: list[int] | tuple[int, ...] = (),
        hold: bool = False,
    ) -> str:
        """Serve ``body`` at ``path``; returns its URL.

        The keyword arguments misbehave like real servers and networks do: ``content_length=False`` sends no
        Content-Length (the body ends when the connection closes); ``cut_after=n`` sends only the first ``n``
        bytes; ``fail_first=[503, 503]`` answers the first requests with those HTTP errors; ``hold=True`` keeps
        the connection open after the bytes sent, until the server stops (for interruption tests).
        """
        self.httpd.routes[path] = (body, kind)
        self.httpd.behaviour[path] = {
            "content_length": content_length,
            "cut_after": cut_after,
            "fail_first": list(fail_first),
            "hold": hold,
        }
        return f"{self.base}{path}"

    def add_dandi_asset(self, dandiset: str, path: str, body: bytes) -> None:
        """Make ``path`` of ``dandiset`` resolvable through the fake DANDI API and downloadable."""
        asset_id = hashlib.sha256(f"{dandiset}/{path}".encode()).hexdigest()[:12]
        self.httpd.dandi[(dandiset, path)] = (asset_id, len(body))
        self.add(f"/api/assets/{asset_id}/download/", body)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def file_entry(path: str, body: bytes, *, url: str | None = None, dandi: dict | None = None, **extra: Any) -> dict:
    """A manifest ``files`` entry for ``body`` with its exact size and sha256."""
    entry: dict[str, Any] = {"path": path, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    if url is not None:
        entry["url"] = url
    if dandi is not None:
        entry["dandi"] = dandi
    entry.update(extra)
    return entry


def sample_manifest(source: str, files: list[dict], folder: Path) -> Path:
    """Write the course's manifest with ``source``'s sample files replaced; returns its path.

    Point ``COURSE_DATA_MANIFEST`` at the result (``monkeypatch.setenv`` in tests, ``env=`` for a chapter).
    """
    manifest = copy.deepcopy(load_manifest())
    manifest["sources"][source]["modes"]["sample"]["files"] = files
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"manifest_{source}.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return path
