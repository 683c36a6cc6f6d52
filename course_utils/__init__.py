"""course_utils: the shared code of the course *Neural data for machine learning*.

Every chapter imports from here; nothing a second chapter needs is defined in a notebook.
Modules by source (``neurotask``, ``allen``, ``sensorium``, ``experanto``, ``tasks``) and methods by topic
(``data``, ``behavior``, ``decoding``, ``plotting``, ``exercises``). Every source package has the same small
interface (``open``, ``simulate.write_demo``, ``simulate.load_ground_truth``, ``SIMULATOR_VERSION``, commands),
registered in ``data_manifest.yaml`` and described in :mod:`course_utils.sources`. Each public function's
docstring names the chapter that teaches it.
"""

from __future__ import annotations

import os
import sys
import warnings

__version__ = "0.1.0"

# tqdm.auto warns in notebooks without ipywidgets, then falls back to text progress bars, which is what we
# want in the rendered book anyway: keep that one message out of every chapter's output.
warnings.filterwarnings("ignore", message="IProgress not found")

FAST_ENV = "COURSE_FAST"


def fast_mode() -> bool:
    """True when ``$COURSE_FAST`` asks for the short trainings (anything but ``0``/``false``/``no``/empty).

    CI and the default book build set ``COURSE_FAST=1`` so every chapter that trains a network runs in about
    a minute on 2 CPU cores; learners running a chapter themselves get the full-length settings. Each chapter
    says what its fast setting changes.

    Examples
    --------
    >>> isinstance(fast_mode(), bool)
    True
    """
    return os.environ.get(FAST_ENV, "").strip().lower() not in ("", "0", "false", "no")


def banner(source: str | None = None) -> None:
    """Print what a chapter runs on: package version, data mode, cache folder and, where networks train, device.

    Called by every chapter's setup cell, so a reader of an executed notebook knows which data produced
    its figures. Chapters that use torch (it is imported by then) also get the device their networks train
    on (:func:`course_utils.training.device_summary`: ``$COURSE_DEVICE`` and whether a GPU is there).

    Examples
    --------
    >>> banner()  # doctest: +ELLIPSIS
    course_utils 0.1.0 | data mode: ... | data folder: ...
    """
    from .data import data_dir, data_mode

    line = f"course_utils {__version__} | data mode: {data_mode()} | data folder: {data_dir()}"
    if fast_mode():
        line += f" | {FAST_ENV}=1 (short trainings)"
    if source:
        line += f" | source: {source}"
    if "torch" in sys.modules:  # a chapter that trains networks; the others need not import torch for this
        from .training import device_summary

        line += f" | {device_summary()}"
    print(line)
