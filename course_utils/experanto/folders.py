"""Find the experiment folders of the current data mode (demo, sample, full).

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from course_utils.data import DataUnavailableError, data_mode, get_source, source_folder

from .convert import convert_sensorium_mouse

__all__ = ["experiment_folders", "is_experiment_folder"]


def is_experiment_folder(folder: Path) -> bool:
    """True if ``folder`` has at least one modality subfolder (a subfolder with a ``meta.yml``).

    Examples
    --------
    >>> is_experiment_folder(Path("/nonexistent"))
    False

    Taught in chapter 04_experanto_chunks.
    """
    folder = Path(folder)
    return folder.is_dir() and any((p / "meta.yml").is_file() for p in folder.iterdir() if p.is_dir())


def experiment_folders(mode: str | None = None) -> dict[str, Path]:
    """Experiment folders for a data mode, by name.

    * ``demo``: the demo experiments (converted Sensorium demo mice and ``mixed``).
    * ``sample`` / ``full``: experiment folders placed in the Experanto data folder, else the Sensorium 2023
      mice of the same mode, converted once (``convert_sensorium_mouse``) into that folder.

    Parameters
    ----------
    mode
        ``"demo"``, ``"sample"`` or ``"full"``; default from ``$COURSE_DATA_MODE``.

    Returns
    -------
    dict
        Folder name -> path, sorted by name.

    Examples
    --------
    >>> folders = experiment_folders()        # doctest: +SKIP
    >>> sorted(folders)[-1]                   # doctest: +SKIP
    'mixed'

    Taught in chapter 04_experanto_chunks.
    """
    mode = data_mode(mode)
    try:
        root = get_source("experanto", mode)
    except DataUnavailableError:
        if mode == "demo":
            raise
        root = source_folder("experanto", mode) / "converted"
        for mouse in sorted(get_source("sensorium2023", mode).glob("dynamic*")):
            out = root / mouse.name
            if not is_experiment_folder(out):
                print(f"Converting {mouse.name} to an experiment folder (once) ...")
                tmp = root / f".tmp-{mouse.name}"  # a crash leaves no half-converted folder behind
                shutil.rmtree(tmp, ignore_errors=True)
                convert_sensorium_mouse(mouse, tmp)
                shutil.rmtree(out, ignore_errors=True)
                os.rename(tmp, out)
    found = {p.name: p for p in sorted(root.iterdir()) if is_experiment_folder(p)}
    if not found:
        raise DataUnavailableError(f"No experiment folders (subfolders with modality meta.yml files) in {root}.")
    return found
