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


def direction_colors(angles_rad) -> dict:
    """One distinct colour per movement direction, in angle order: ``{angle: colour}``.

    Up to 10 directions get the qualitative ``tab10`` colours (every pair clearly distinct, so 0° and 315°
    never look alike); more directions sample the cyclic ``hsv`` map at ``angle / 2π``, which never gives 0
    and 2π-ε the same colour the way sampling a cyclic map on ``linspace(0, 1, n)`` (pandas' ``colormap=``)
    does. Taught in chapter 01_neurotask_loading.

    Parameters
    ----------
    angles_rad
        Directions in radians (any iterable; duplicates are merged).

    Returns
    -------
    dict
        Each distinct angle mapped to an RGBA tuple.

    Examples
    --------
    >>> import numpy as np
    >>> colors = direction_colors(np.deg2rad(np.arange(0, 360, 45)))
    >>> len(set(colors.values()))
    8
    """
    import numpy as np

    angles = np.unique(np.asarray(list(angles_rad), dtype=float))
    if len(angles) <= 10:
        cmap = mpl.colormaps["tab10"]
        return {float(a): cmap(i) for i, a in enumerate(angles)}
    cmap = mpl.colormaps["hsv"]
    return {float(a): cmap(float(np.mod(a, 2 * np.pi) / (2 * np.pi))) for a in angles}
