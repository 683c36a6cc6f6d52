"""Plot style and small plotting helpers shared by all chapters.

Taught implicitly in every chapter: figures have titles, axis labels with units, and a legend when they
have more than one line.
"""

from __future__ import annotations

import matplotlib as mpl

COURSE_STYLE = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def use_course_style() -> None:
    """Apply the course's matplotlib defaults (figure size, grid, no top/right spines).

    Examples
    --------
    >>> use_course_style()
    >>> import matplotlib as mpl; mpl.rcParams["axes.grid"]
    True
    """
    mpl.rcParams.update(COURSE_STYLE)


def demo_suffix(source: str | None = None) -> str:
    """`` (demo)`` when the data come from the simulators, else ``""``: add it to figure titles.

    A figure drawn from simulated data shows what the simulator builds in, not a finding about the brain;
    its title says so. ``source`` is accepted for readability at the call site (the mode is global).

    Examples
    --------
    >>> demo_suffix() in ("", " (demo)")
    True
    """
    from .data import data_mode

    return " (demo)" if data_mode() == "demo" else ""
