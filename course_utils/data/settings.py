"""Where the data live and which mode is used: environment variables, folders, manifest look-ups.

Taught in chapter ``00_setup_and_data``.
"""

from __future__ import annotations

import contextvars
import os
from pathlib import Path
from typing import Any

import platformdirs

from ..manifest import MODES, demo_generator, load_manifest
from .errors import SettingError

__all__ = [
    "DEFAULT_DANDI_API",
    "ENV_DANDI_API",
    "ENV_DIR",
    "ENV_MODE",
    "ENV_RETRIES",
    "data_dir",
    "data_mode",
    "describe_sources",
    "mode_hint",
    "mode_info",
    "retries",
    "source_folder",
    "source_info",
    "source_names",
    "writable_folder",
]

ENV_MODE = "COURSE_DATA_MODE"
ENV_DIR = "COURSE_DATA_DIR"
ENV_RETRIES = "COURSE_DATA_RETRIES"
ENV_DANDI_API = "DANDI_API_URL"
DEFAULT_DANDI_API = "https://api.dandiarchive.org/api"
DEFAULT_RETRIES = 2
MAX_RETRIES = 20

# Who is asking: messages tell a Python user `mode='demo'` and a command-line user `--mode demo`.
# The command line sets it to "cli" for the duration of a command.
INTERFACE: contextvars.ContextVar[str] = contextvars.ContextVar("course_data_interface", default="python")


def mode_hint(mode: str) -> str:
    """How to choose ``mode`` in the interface in use (Python call or command line).

    Examples
    --------
    >>> mode_hint("demo")
    "mode='demo' (or `export COURSE_DATA_MODE=demo`)"
    """
    if INTERFACE.get() == "cli":
        return f"--mode {mode} (or `export {ENV_MODE}={mode}`)"
    return f"mode={mode!r} (or `export {ENV_MODE}={mode}`)"


def data_mode(mode: str | None = None) -> str:
    """Return the data mode to use: the argument, else ``$COURSE_DATA_MODE``, else ``"demo"``.

    Examples
    --------
    >>> data_mode("sample")
    'sample'

    Taught in chapter 00_setup_and_data.
    """
    chosen = mode or os.environ.get(ENV_MODE) or "demo"
    if chosen not in MODES:
        origin = "mode argument" if mode else f"environment variable {ENV_MODE}"
        raise ValueError(f"Unknown data mode {chosen!r} (from the {origin}); choose one of {list(MODES)}.")
    return chosen


def data_dir() -> Path:
    """Return the root folder of the data cache: ``$COURSE_DATA_DIR``, else the platform's cache folder.

    Nothing is created or checked here (the banner prints it); :func:`writable_folder` checks a folder
    before anything is written into it.

    Examples
    --------
    >>> isinstance(data_dir(), Path)
    True

    Taught in chapter 00_setup_and_data.
    """
    root = os.environ.get(ENV_DIR)
    return Path(root).expanduser() if root else Path(platformdirs.user_cache_dir("neural-data-course"))


def writable_folder(folder: str | Path) -> Path:
    """Create ``folder`` (and its parents) if needed and make sure files can be written into it.

    Raises
    ------
    SettingError
        Part of the path is a file, or the folder cannot be written to (read-only disk, permissions); the
        message names the folder and ``COURSE_DATA_DIR``.

    Examples
    --------
    >>> import tempfile
    >>> writable_folder(Path(tempfile.mkdtemp()) / "a" / "b").is_dir()
    True
    """
    folder = Path(folder)
    where = f"{ENV_DIR}={os.environ[ENV_DIR]}" if os.environ.get(ENV_DIR) else f"the default data folder {data_dir()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as err:
        raise SettingError(
            f"Cannot use {folder} as a data folder: {err.filename or folder} is a file, not a folder ({where}). "
            f"Point {ENV_DIR} at a folder (e.g. `export {ENV_DIR}=$HOME/course_data`) or move that file away."
        ) from err
    except OSError as err:
        raise SettingError(
            f"Cannot create the data folder {folder}: {err.strerror or err} ({where}). "
            f"Point {ENV_DIR} at a folder you can write to (e.g. `export {ENV_DIR}=$HOME/course_data`)."
        ) from err
    probe = folder / f".write-test-{os.getpid()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise SettingError(
            f"Cannot write into the data folder {folder}: {err.strerror or err} ({where}). "
            f"Point {ENV_DIR} at a folder you can write to (e.g. `export {ENV_DIR}=$HOME/course_data`)."
        ) from err
    return folder


def retries() -> int:
    """How many times a failed download is retried: ``$COURSE_DATA_RETRIES`` (a whole number 0-20), else 2.

    Examples
    --------
    >>> retries() >= 0
    True
    """
    raw = os.environ.get(ENV_RETRIES)
    if raw is None or not raw.strip():
        return DEFAULT_RETRIES
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_RETRIES:
        raise SettingError(
            f"{ENV_RETRIES}={raw!r} is not a whole number from 0 to {MAX_RETRIES}. "
            f"Set it to e.g. {DEFAULT_RETRIES} (`export {ENV_RETRIES}={DEFAULT_RETRIES}`) or unset it."
        )
    return value


def source_names(manifest: dict[str, Any] | None = None) -> list[str]:
    """Names of the sources in the manifest, in manifest order.

    Examples
    --------
    >>> source_names()[0]
    'neurotask'

    Taught in chapter 00_setup_and_data.
    """
    return list((manifest or load_manifest())["sources"])


def source_info(name: str, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest entry of one source; a clear error for an unknown name.

    Examples
    --------
    >>> source_info("neurotask")["title"]
    'NeuroTask'

    Taught in chapter 00_setup_and_data.
    """
    sources = (manifest or load_manifest())["sources"]
    if name not in sources:
        raise KeyError(f"Unknown data source {name!r}. Known sources: {', '.join(sources)}.")
    return sources[name]


def mode_info(name: str, mode: str, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest block of one source's mode; a clear error if the source has no such mode.

    A demo block gets its ``generator`` (``"module:function"``) from the source's ``package``: every source writes
    its demo with ``<package>.simulate:write_demo``, so the data layer needs no per-source code.

    Examples
    --------
    >>> sorted(mode_info("neurotask", "demo"))[:2]
    ['description', 'generator']

    Taught in chapter 00_setup_and_data.
    """
    info = source_info(name, manifest)
    if mode not in info["modes"]:
        choices = " or ".join(mode_hint(m).split(" (")[0] for m in info["modes"])
        raise ValueError(
            f"Source {name!r} has no {mode!r} mode; it has {list(info['modes'])}. "
            f"Choose {choices}; if {ENV_MODE} is set, unset it or change it."
        )
    block = info["modes"][mode]
    if mode == "demo" and not block.get("synthetic"):
        block = {**block, "generator": demo_generator(info)}
    return block


def source_folder(name: str, mode: str) -> Path:
    """Where a source's data for a mode live (or will live); nothing is created.

    Examples
    --------
    >>> source_folder("neurotask", "sample") == data_dir() / "neurotask" / "sample"
    True

    Taught in chapter 00_setup_and_data.
    """
    return data_dir() / name / mode


def describe_sources(manifest: dict[str, Any] | None = None):
    """A table of the sources and what each mode means (a pandas DataFrame, for chapters).

    Examples
    --------
    >>> describe_sources().columns.tolist()[:3]
    ['source', 'title', 'license']

    Taught in chapter 00_setup_and_data.
    """
    import pandas as pd

    manifest = manifest or load_manifest()
    rows = []
    for name, info in manifest["sources"].items():
        rows.append(
            {
                "source": name,
                "title": info["title"],
                "license": info["license"],
                "modes": ", ".join(info["modes"]),
                "demo": " ".join(info["modes"]["demo"]["description"].split()),
            }
        )
    return pd.DataFrame(rows)
