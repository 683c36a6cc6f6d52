"""Demo sets: written once by the simulator the manifest names, cached under a key, regenerated only when needed.

A demo set lives in ``<data_dir>/<source>/demo/<key>/`` and is complete when it holds ``.complete.json``.
The key is a hash of

* the generator's name and parameters (``generator`` and ``params`` in ``data_manifest.yaml``);
* the generator's own module: the sha256 of its source file;
* ``SIMULATOR_VERSION``, an integer literal of that module, which its authors bump when something the module
  relies on changes what is written (a helper module, a file writer);
* the ``SIMULATOR_VERSION`` of any other simulator module it imports (the Experanto demo converts the
  Sensorium demo mice, so a new Sensorium simulator makes a new Experanto demo).

So editing a docstring elsewhere in the package regenerates nothing. Both are read from the source file
(nothing is imported), so computing a key is fast. A generator module without the literal is refused with a
message that says where to add it. The completion marker records all of it, so ``verify`` can say *why* an
older set is stale. Which module generates a source's demo comes from the manifest's ``package:`` entry
(``<package>.simulate:write_demo``; see :mod:`course_utils.sources`).

Taught in chapter ``00_setup_and_data``.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import sys
import time
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import DataError
from .safety import cleanup_on_sigterm, remove_tree, source_lock
from .settings import source_folder, writable_folder

__all__ = ["COMPLETE_MARKER", "TMP_PREFIX", "demo_fingerprint", "demo_key", "demo_folder", "read_marker", "why_stale"]

COMPLETE_MARKER = ".complete.json"
TMP_PREFIX = ".tmp-"
VERSION_NAME = "SIMULATOR_VERSION"


# ----------------------------------------------------------------------------------------- the key


def module_file(module_name: str) -> Path | None:
    """The source file of a module, found without importing it (nor its packages)."""
    loaded = sys.modules.get(module_name)
    if loaded is not None and getattr(loaded, "__file__", None):
        return Path(loaded.__file__)
    top, *rest = module_name.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin in (None, "built-in", "frozen"):
        return None
    base = Path(spec.origin)
    if not rest:
        return base
    folder = base.parent.joinpath(*rest)
    for candidate in (folder.with_suffix(".py"), folder / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@lru_cache(maxsize=256)
def _parse(path: Path, mtime_ns: int) -> tuple[str, Any, tuple[str, ...]]:
    """sha256, the literal SIMULATOR_VERSION (or None), imported modules."""
    source = path.read_bytes()
    tree = ast.parse(source, filename=str(path))
    version = None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == VERSION_NAME for t in targets) and node.value is not None:
            value = node.value.value if isinstance(node.value, ast.Constant) else None
            version = value if isinstance(value, int) and not isinstance(value, bool) else None
    imports = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imports.append(("." * node.level) + (node.module or ""))
            imports += [("." * node.level) + ((node.module + ".") if node.module else "") + a.name for a in node.names]
    return hashlib.sha256(source).hexdigest(), version, tuple(imports)


def _absolute(name: str, module_name: str, is_package: bool) -> str:
    if not name.startswith("."):
        return name
    level = len(name) - len(name.lstrip("."))
    parts = module_name.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    rest = name[level:]
    return ".".join(base + ([rest] if rest else []))


def _module_facts(module_name: str) -> dict[str, Any] | None:
    path = module_file(module_name)
    if path is None or path.suffix != ".py":
        return None
    sha, version, imports = _parse(path, path.stat().st_mtime_ns)
    package = path.name == "__init__.py"
    top = module_name.split(".")[0]
    local = sorted({_absolute(i, module_name, package) for i in imports} - {module_name})
    local = [m for m in local if m.split(".")[0] == top and module_file(m) is not None]
    return {"sha256": sha, "version": version, "imports": local}


def demo_fingerprint(generator: str) -> dict[str, Any]:
    """What identifies the code behind a demo generator (``"package.module:function"``).

    Returns
    -------
    dict
        ``module``, ``module_sha256``, ``simulator_version`` (its integer ``SIMULATOR_VERSION``) and ``depends``
        (other simulator modules it imports and their versions).

    Raises
    ------
    DataError
        The module cannot be found, or it has no integer ``SIMULATOR_VERSION = N`` literal.

    Examples
    --------
    >>> fp = demo_fingerprint("course_utils.neurotask.simulate:write_demo")
    >>> fp["module"], len(fp["module_sha256"]), type(fp["simulator_version"])
    ('course_utils.neurotask.simulate', 64, <class 'int'>)
    """
    module_name = generator.partition(":")[0]
    facts = _module_facts(module_name)
    if facts is None:
        raise DataError(
            f"Demo generator {generator!r}: module {module_name!r} has no Python source file that can be found. "
            "Fix `package:` in data_manifest.yaml, or add the module (<package>/simulate.py)."
        )
    if facts["version"] is None:
        raise DataError(
            f"Demo generator {generator!r}: {module_file(module_name)} has no `{VERSION_NAME} = <integer>` line. "
            f"Add one at the module's top level (e.g. `{VERSION_NAME} = 1`); bump it when what it writes changes."
        )
    fingerprint: dict[str, Any] = {
        "module": module_name,
        "module_sha256": facts["sha256"],
        "simulator_version": facts["version"],
        "depends": {},
    }
    for name in facts["imports"]:
        dep = _module_facts(name)
        if dep is not None and dep["version"] is not None:
            fingerprint["depends"][name] = dep["version"]
    return fingerprint


def demo_key(block: dict[str, Any]) -> str:
    """The cache key of a demo block: generator, parameters and the fingerprint of its code.

    Examples
    --------
    >>> from course_utils.data.settings import mode_info
    >>> len(demo_key(mode_info("neurotask", "demo")))
    16
    """
    return _key(block, demo_fingerprint(block["generator"]))


def _key(block: dict[str, Any], fingerprint: dict[str, Any]) -> str:
    payload = {"generator": block["generator"], "params": block.get("params", {}), "code": fingerprint}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------------------- markers


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The completion marker of a demo set, or None if it has none (or an unreadable one)."""
    try:
        marker = json.loads((Path(folder) / COMPLETE_MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def why_stale(marker: dict[str, Any], block: dict[str, Any]) -> str:
    """A truthful sentence on how an older demo set differs from what the current code would write.

    Examples
    --------
    >>> why_stale({"generator": "m:f", "params": {"seed": 1}}, {"generator": "m:f", "params": {"seed": 0}})
    'generated with other parameters ({"seed": 1}; now {"seed": 0})'
    """
    old, now = marker.get("fingerprint") or {}, None
    if marker.get("generator") != block["generator"]:
        return f"generated by {marker.get('generator', 'an unrecorded generator')} (now {block['generator']})"
    if marker.get("params") != block.get("params", {}):
        return (
            f"generated with other parameters ({json.dumps(marker.get('params'), sort_keys=True)}; "
            f"now {json.dumps(block.get('params', {}), sort_keys=True)})"
        )
    if not old:
        return "written by an older version of the course package (no simulator version recorded)"
    try:
        now = demo_fingerprint(block["generator"])
    except DataError as err:
        return f"its generator cannot be used now: {err}"
    reasons = []
    if old.get("simulator_version") != now["simulator_version"]:
        reasons.append(f"{VERSION_NAME} {old.get('simulator_version')} (now {now['simulator_version']})")
    changed_deps = sorted(k for k in set(old.get("depends", {})) | set(now["depends"]) if old.get("depends", {}).get(k) != now["depends"].get(k))
    reasons += [f"{dep} {VERSION_NAME} {old.get('depends', {}).get(dep)} (now {now['depends'].get(dep)})" for dep in changed_deps]
    if old.get("module_sha256") != now["module_sha256"]:
        reasons.append(f"{now['module']} edited since")
    return "older simulator: " + "; ".join(reasons) if reasons else "written under another cache key"


# ----------------------------------------------------------------------------------------- generation


def _load_generator(spec: str):
    module_name, _, func_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, func_name)
    except (ImportError, AttributeError) as err:
        raise DataError(f"Demo generator {spec!r} named in data_manifest.yaml cannot be imported: {err}") from err


def demo_folder(name: str, block: dict[str, Any]) -> Path:
    """The folder of a source's current demo set, generating it first if needed (``get_source(name, "demo")``).

    Generation holds the source's demo lock, writes into ``.tmp-<key>-<pid>/`` and renames it into place with
    its completion marker, so readers never see a half-written set and two processes never generate the same
    set at once (the second waits, then uses the first one's).
    """
    if block.get("synthetic"):
        raise DataError(
            f"Source {name!r} is synthetic: its data are generated in memory by its package "
            f"({block['description'].strip()}), so there is no folder to return."
        )
    fingerprint = demo_fingerprint(block["generator"])
    key = _key(block, fingerprint)
    final = source_folder(name, "demo") / key
    if (final / COMPLETE_MARKER).is_file():
        return final
    generator = _load_generator(block["generator"])
    root = writable_folder(final.parent)
    with cleanup_on_sigterm(), source_lock(name, "demo"):
        if (final / COMPLETE_MARKER).is_file():  # another process finished it while we waited
            return final
        if final.exists() or final.is_symlink():  # no marker: an interrupted or damaged set
            print(f"Removing the incomplete demo set {final} (no completion marker).", file=sys.stderr)
            remove_tree(final)
        tmp = root / f"{TMP_PREFIX}{key}-{os.getpid()}"
        if tmp.exists():
            remove_tree(tmp)
        tmp.mkdir()
        started = time.perf_counter()
        print(f"Generating demo data for {name!r} (once; cached in {final}) ...", file=sys.stderr)
        try:
            generator(tmp, **block.get("params", {}))
            marker = {
                "generator": block["generator"],
                "params": block.get("params", {}),
                "key": key,
                "fingerprint": fingerprint,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }
            (tmp / COMPLETE_MARKER).write_text(json.dumps(marker, indent=1, sort_keys=True, default=str))
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    print(f"... done in {time.perf_counter() - started:.1f} s.", file=sys.stderr)
    older = [p for p in root.iterdir() if p.is_dir() and p != final and not p.name.startswith(".")]
    if older:
        print(
            f"{len(older)} older demo set(s) of {name!r} remain in {root}: "
            "`python -m course_utils data clean --stale` removes them.",
            file=sys.stderr,
        )
    return final
