"""course_utils: the shared code of the course *Neural data for machine learning*.

Every chapter imports from here; nothing a second chapter needs is defined in a notebook.
Modules by source (``neurotask``, ``allen``, ``sensorium``, ``experanto``, ``tasks``) and methods by topic
(``data``, ``behavior``, ``decoding``, ``plotting``, ``exercises``). Each public function's docstring names
the chapter that teaches it.
"""

from __future__ import annotations

__version__ = "0.1.0"


def banner(source: str | None = None) -> None:
    """Print what a chapter runs on: package version, data mode and cache folder.

    Called by every chapter's setup cell, so a reader of an executed notebook knows which data produced
    its figures.

    Examples
    --------
    >>> banner()  # doctest: +ELLIPSIS
    course_utils 0.1.0 | data mode: ... | data folder: ...
    """
    from .data import data_dir, data_mode

    line = f"course_utils {__version__} | data mode: {data_mode()} | data folder: {data_dir()}"
    if source:
        line += f" | source: {source}"
    print(line)
