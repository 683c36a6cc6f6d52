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
