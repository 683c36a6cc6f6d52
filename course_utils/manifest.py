"""Read and validate ``data_manifest.yaml``, the one list of the course's data sources.

The manifest lives once, at the top of the repository. Wheels carry a copy as package data
(``course_utils/data_manifest.yaml``, added at build time), so an installed package (Colab) finds it
without a checkout. Used by :mod:`course_utils.data` and by the book's data page.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

MODES = ("demo", "sample", "full")
# Another manifest instead of the course's (tests serve stand-ins of the real files from a loopback server
# this way, through the normal download path; a lab can point the course at its own mirror).
ENV_MANIFEST = "COURSE_DATA_MANIFEST"
SOURCE_FIELDS = ("title", "description", "homepage", "license", "citation", "package", "modes")
# The registry entry of a source is its `package:` (a module path, imported only when used). Every source package
# writes its demo with `<package>.simulate:write_demo` (see course_utils/sources.py for the whole interface).
GENERATOR_TEMPLATE = "{package}.simulate:write_demo"
# A sample file entry: where it comes from (`url`, or `dandi`), where it goes (`path`), and what it must be.
# `size` is exact and enforced; `approx_size` is only reported (real sizes not measured byte for byte yet).
FILE_FIELDS = ("path", "url", "dandi", "sha256", "size", "approx_size", "extract")


class ManifestError(ValueError):
    """The manifest is missing a field or has a value of the wrong kind."""


def demo_generator(info: dict[str, Any]) -> str:
    """The demo generator (``"module:function"``) of a manifest source entry: its package's ``simulate.write_demo``.

    Examples
    --------
    >>> demo_generator({"package": "course_utils.neurotask"})
    'course_utils.neurotask.simulate:write_demo'
    """
    return GENERATOR_TEMPLATE.format(package=info["package"])


def manifest_path() -> Path:
    """Return the path of the manifest this installation uses.

    ``$COURSE_DATA_MANIFEST``, if set, names another manifest file (a mirror, or the stand-ins of the tests).
    Otherwise a checkout's top-level ``data_manifest.yaml`` wins (so authors see their edits at once); an installed
    wheel falls back to the copy packed inside it.

    Examples
    --------
    >>> manifest_path().name
    'data_manifest.yaml'
    """
    override = os.environ.get(ENV_MANIFEST)
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{ENV_MANIFEST}={override} names no file: fix the path or unset {ENV_MANIFEST}.")
        return path
    checkout = Path(__file__).resolve().parents[1] / "data_manifest.yaml"
    if checkout.is_file():
        return checkout
    packed = resources.files("course_utils") / "data_manifest.yaml"
    if packed.is_file():
        return Path(str(packed))
    raise FileNotFoundError(
        "data_manifest.yaml was found neither in the repository checkout nor inside the installed package. "
        "Reinstall course_utils (pip install -e . from the repository, or from the wheel)."
    )


def load_manifest(path: str | Path | None = None) -> dict[str, Any]:
    """Load the manifest and validate it.

    Parameters
    ----------
    path
        A manifest file; the course's own by default.

    Returns
    -------
    dict
        The parsed manifest (``manifest["sources"][name]`` is one source).

    Raises
    ------
    ManifestError
        If a required field is missing or has the wrong type; the message names the field's path,
        e.g. ``sources.neurotask.modes.sample.files[0].path``.

    Examples
    --------
    >>> sorted(load_manifest()["sources"])[:2]
    ['allen_visual_behavior', 'experanto']
    """
    path = Path(path) if path is not None else manifest_path()
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = yaml.safe_load(fh)
    except yaml.YAMLError as err:
        raise ManifestError(f"{path}: not valid YAML ({err})") from err
    validate_manifest(manifest, origin=str(path))
    return manifest


def validate_manifest(manifest: Any, origin: str = "manifest") -> None:
    """Check the manifest's structure; raise :class:`ManifestError` naming the first bad field."""

    def fail(where: str, what: str) -> None:
        raise ManifestError(f"{origin}: {where} {what}")

    def need(mapping: Any, key: str, where: str, kind: type | tuple[type, ...]) -> Any:
        if not isinstance(mapping, dict) or key not in mapping or mapping[key] is None:
            fail(f"{where}.{key}" if where else key, "is missing")
        value = mapping[key]
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            fail(f"{where}.{key}" if where else key, f"must be a {names}, not {type(value).__name__}")
        return value

    if not isinstance(manifest, dict):
        fail("the top level", "must be a mapping with a 'sources' key")
    sources = need(manifest, "sources", "", dict)
    if not sources:
        fail("sources", "is empty")
    for name, source in sources.items():
        where = f"sources.{name}"
        if not isinstance(source, dict):
            fail(where, "must be a mapping")
        for field in SOURCE_FIELDS:
            need(source, field, where, dict if field == "modes" else str)
        if not all(part.isidentifier() for part in source["package"].split(".")):
            fail(f"{where}.package", "must be a module path such as 'course_utils.neurotask'")
        modes = source["modes"]
        unknown = set(modes) - set(MODES)
        if unknown:
            fail(f"{where}.modes", f"has unknown mode(s) {sorted(unknown)}; allowed: {list(MODES)}")
        if "demo" not in modes:
            fail(f"{where}.modes.demo", "is missing (every source must run offline)")
        for mode, block in modes.items():
            mwhere = f"{where}.modes.{mode}"
            need(modes, mode, f"{where}.modes", dict)
            need(block, "description", mwhere, str)
            if mode == "demo" and "generator" in block:
                fail(f"{mwhere}.generator", f"is not read: the demo is written by {demo_generator(source)} (the package's)")
            if mode == "demo" and not block.get("synthetic"):
                need(block, "params", mwhere, dict)
            if mode == "sample":
                files = need(block, "files", mwhere, list)
                for i, entry in enumerate(files):
                    fwhere = f"{mwhere}.files[{i}]"
                    if not isinstance(entry, dict):
                        fail(fwhere, "must be a mapping")
                    need(entry, "path", fwhere, str)
                    if "url" not in entry and "dandi" not in entry:
                        fail(f"{fwhere}.url", "is missing (give `url`, or `dandi` with dandiset and path)")
                    if "url" in entry:
                        need(entry, "url", fwhere, str)
                    if "dandi" in entry:
                        dandi = need(entry, "dandi", fwhere, dict)
                        need(dandi, "dandiset", f"{fwhere}.dandi", str)
                        need(dandi, "path", f"{fwhere}.dandi", str)
                    unknown_fields = sorted(set(entry) - set(FILE_FIELDS))
                    if unknown_fields:
                        fail(f"{fwhere}.{unknown_fields[0]}", f"is not a file field; allowed: {list(FILE_FIELDS)}")
                    sha = entry.get("sha256")
                    if sha is not None and (
                        not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdefABCDEF" for c in sha)
                    ):
                        fail(f"{fwhere}.sha256", "must be null or a 64-character hex digest")
                    for field in ("size", "approx_size"):
                        value = entry.get(field)
                        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                            fail(f"{fwhere}.{field}", "must be null or a whole number of bytes")
                    if not isinstance(entry.get("extract", False), bool):
                        fail(f"{fwhere}.extract", "must be true or false")
                    if Path(entry["path"]).is_absolute() or ".." in Path(entry["path"]).parts:
                        fail(f"{fwhere}.path", "must be a relative path inside the source's folder")
            if mode == "full":
                need(block, "instructions", mwhere, str)
