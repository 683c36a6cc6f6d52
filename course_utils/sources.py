"""The source interface: one small shape shared by every data source, registered once.

Each source is one subpackage of ``course_utils``. Its registry entry is the ``package:`` line of its block in
``data_manifest.yaml`` (a module path, imported only when used), so adding a source touches only its own
subpackage and the manifest (``book/contributing.md`` shows how). The package ``P`` provides:

=====================================================  ===========================================================
``P.open(path_or_name, ...)``                          the source's object: its upstream-like entry point under
                                                       one registered name (``neurotask``: ``load_file``;
                                                       ``allen``: ``load_behavior_session``; ``sensorium``:
                                                       ``read_mouse``; ``experanto``: ``Experiment``; ``tasks``:
                                                       ``make_task``, which takes a task name: its trials are
                                                       generated in memory, so it has no files)
``P.simulate.write_demo(out_dir, seed=0, **params)``   writes the demo in the real layout; the manifest's
                                                       ``params`` are passed on
``P.simulate.load_ground_truth(folder, ...)``          what the simulator built in, as a ``dict`` read with the
                                                       safe readers of :mod:`course_utils.fileio` (JSON, ``.npz``
                                                       without pickles, CSV tables); ``FileNotFoundError`` with the
                                                       fix for real data, which have none
``P.simulate.SIMULATOR_VERSION``                       an integer literal, part of the demo cache key
``P.commands.COMMANDS``                                optional: ``{"name": "one-line help"}`` (a literal, read
                                                       without importing the package, so ``--help`` stays fast);
                                                       ``P.commands.<name>(argv) -> int`` runs the command as
                                                       ``python -m course_utils <group> <name>``, where ``<group>``
                                                       is the package's last name (``sensorium``)
=====================================================  ===========================================================

A synthetic source (``synthetic: true`` in its demo block: NeuroGym) has no files, so ``simulate`` does not
apply to it; ``open`` and ``commands`` do.

The layers read data -> sources -> methods -> chapters: :mod:`course_utils.data` never imports this module nor
a source package (it reads ``package:`` and the simulator's source file only); this module imports a source
package only when one of its functions is called.

Not taught in a chapter (chapters call each source's functions by their own names); described for authors in
``book/contributing.md`` ("Adding a data source").
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .data.demo import demo_fingerprint, module_file
from .data.settings import source_info
from .manifest import demo_generator, load_manifest

__all__ = ["Source", "command_groups", "registered_sources", "source"]

COMMANDS_MODULE = "commands"


@dataclass(frozen=True)
class Source:
    """One registered source: its manifest name and package, and the interface found in that package.

    Examples
    --------
    >>> s = source("neurotask")
    >>> s.package, s.group, s.simulator_version
    ('course_utils.neurotask', 'neurotask', 1)
    """

    name: str
    package: str
    synthetic: bool = False

    @property
    def group(self) -> str:
        """The command-line group of the source's commands (the package's last name)."""
        return self.package.rpartition(".")[2]

    def module(self, sub: str | None = None) -> ModuleType:
        """Import the package (or one of its modules) now."""
        return importlib.import_module(self.package if sub is None else f"{self.package}.{sub}")

    def _simulator(self) -> ModuleType:
        if self.synthetic:
            raise TypeError(
                f"Source {self.name!r} is synthetic: {self.package} generates its data in memory, so it has no "
                "demo files, no write_demo and no load_ground_truth."
            )
        return self.module("simulate")

    def open(self, *args: Any, **kwargs: Any) -> Any:
        """The source's opener, ``<package>.open`` (e.g. ``source("allen_visual_behavior").open(nwb_path)``)."""
        return self.module().open(*args, **kwargs)

    def write_demo(self, out_dir: str | Path, seed: int = 0, **params: Any) -> None:
        """Write the source's demo set into ``out_dir`` (``<package>.simulate.write_demo``)."""
        self._simulator().write_demo(Path(out_dir), seed=seed, **params)

    def load_ground_truth(self, folder: str | Path, *args: Any, **kwargs: Any) -> dict:
        """The simulator's ground truth of a demo folder (``<package>.simulate.load_ground_truth``)."""
        return self._simulator().load_ground_truth(folder, *args, **kwargs)

    @property
    def simulator_version(self) -> int | None:
        """``SIMULATOR_VERSION`` of the demo generator, read from its source file (None if synthetic)."""
        if self.synthetic:
            return None
        return demo_fingerprint(demo_generator({"package": self.package}))["simulator_version"]

    def commands(self) -> dict[str, str]:
        """``{command: help}`` from ``<package>/commands.py``, read without importing anything ({} if none)."""
        path = module_file(f"{self.package}.{COMMANDS_MODULE}")
        if path is None:
            return {}
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "COMMANDS" for t in node.targets):
                commands = ast.literal_eval(node.value)
                if not isinstance(commands, dict) or not all(isinstance(v, str) for v in commands.values()):
                    raise TypeError(f"{path}: COMMANDS must be a literal dict of command name -> one-line help")
                return commands
        return {}

    def run_command(self, command: str, argv: list[str]) -> int:
        """Run ``<package>.commands.<command>(argv)``; returns its exit status."""
        if command not in self.commands():
            raise KeyError(f"{self.group} has no command {command!r}; it has: {', '.join(self.commands())}.")
        result = getattr(self.module(COMMANDS_MODULE), command.replace("-", "_"))(argv)
        return 0 if result is None else int(result)


def registered_sources(manifest: dict[str, Any] | None = None) -> dict[str, Source]:
    """Every source of the manifest (the course's, or ``$COURSE_DATA_MANIFEST``), by name; nothing is imported.

    Examples
    --------
    >>> list(registered_sources())[:2]
    ['neurotask', 'allen_visual_behavior']
    """
    manifest = manifest or load_manifest()
    return {name: _entry(name, info) for name, info in manifest["sources"].items()}


def source(name: str, manifest: dict[str, Any] | None = None) -> Source:
    """The registered source of a manifest name (a clear ``KeyError`` for an unknown one).

    Examples
    --------
    >>> source("sensorium2023").group
    'sensorium'
    """
    return _entry(name, source_info(name, manifest))


def _entry(name: str, info: dict[str, Any]) -> Source:
    return Source(name, info["package"], bool(info["modes"]["demo"].get("synthetic")))


def command_groups(manifest: dict[str, Any] | None = None) -> dict[str, Source]:
    """The sources that have command-line commands, by group name (``sensorium``, ``experanto``, ...).

    Examples
    --------
    >>> sorted(command_groups())
    ['experanto', 'sensorium']
    """
    return {s.group: s for s in registered_sources(manifest).values() if s.commands()}
