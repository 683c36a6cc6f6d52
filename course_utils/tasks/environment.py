"""NeuroGym environments: checking the installation, making tasks, listing trials and plotting one.

neurogym 2.3.1 pins ``numpy==2.2.*``, ``matplotlib==3.10.*`` and ``gymnasium==0.29.*`` and imports torch
without declaring it. It needs none of those pins: its tasks run with current numpy and matplotlib, and they
step fine under gymnasium 1.x (Colab's). Only ``ngym.Dataset`` and attribute access through wrappers break
under gymnasium >= 1 (it removed wrapper attribute forwarding); the course does not use either (see
:mod:`course_utils.tasks.compat`). So the course installs ``pip install --no-deps neurogym`` next to the
``tasks`` extra (``gymnasium>=0.29.1``, any 0.29 or 1.x release; see the README).

Taught in chapter 06_neurogym_tasks_and_rnns.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .compat import new_trial, seed_task

__all__ = ["require_neurogym", "extra_requirements", "make_task", "fast_mode", "sample_trials", "plot_trial"]

# One switch for every chapter (COURSE_FAST=1: short trainings); re-exported here for the task chapters.
from .. import fast_mode  # noqa: E402

INSTALL_HINT = 'pip install "course-utils[tasks]" && pip install --no-deps "neurogym>=2.3.1,<2.4"'


def require_neurogym():
    """Import neurogym, or explain how to install it in a way that works with this course.

    Returns
    -------
    module
        The ``neurogym`` module.

    Examples
    --------
    >>> ngym = require_neurogym()
    >>> "PerceptualDecisionMaking-v0" in ngym.envs.registration.all_envs()
    True

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    try:
        import gymnasium
    except ImportError as err:
        raise ImportError(f"gymnasium is not installed. Install NeuroGym with: {INSTALL_HINT}") from err
    if _version_tuple(gymnasium.__version__) < (0, 29, 1):
        raise ImportError(
            f"gymnasium {gymnasium.__version__} is too old for neurogym 2.3.1 (it needs 0.29.1 or newer; "
            f"0.29.x and 1.x both work). Fix: {INSTALL_HINT}"
        )
    try:
        import neurogym
    except ImportError as err:
        raise ImportError(f"neurogym could not be imported ({err}). Install it with: {INSTALL_HINT}") from err
    return neurogym


def extra_requirements(extra: str = "tasks") -> list[str]:
    """The requirements of one of the course package's extras, read from the installed package's metadata.

    What ``course-utils[tasks]`` adds to the course package (chapters 6 and 7's setup cell installs it on Colab):
    exactly what ``pyproject.toml`` lists, read from the installed metadata (tests use it to check that these
    leave Colab's preinstalled packages alone).

    Parameters
    ----------
    extra
        The extra's name (``"tasks"``).

    Examples
    --------
    >>> any(r.startswith("gymnasium") for r in extra_requirements("tasks"))
    True

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    from importlib.metadata import PackageNotFoundError, requires

    try:
        listed = requires("course-utils") or []
    except PackageNotFoundError as err:
        raise ImportError("The course package is not installed: run the chapter's first (setup) cell.") from err
    marker = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
    found = [req.split(";")[0].strip() for req in listed if marker.search(req) and marker.search(req)[1] == extra]
    if not found:
        raise ValueError(f"course-utils has no extra named {extra!r}.")
    return found


def _version_tuple(version: str) -> tuple[int, int, int]:
    # "0.29.1" -> (0, 29, 1); "1.3.0rc1" -> (1, 3, 0)
    found = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if found is None:
        return (0, 0, 0)
    return tuple(int(g or 0) for g in found.groups())


def make_task(name: str, **kwargs: Any):
    """Create a registered NeuroGym task and return the task itself (``env.unwrapped``).

    ``ngym.make`` wraps the task in gymnasium's ``OrderEnforcing``; the course works with the bare
    :class:`neurogym.TrialEnv` so that trial attributes (``ob``, ``gt``, ``start_ind``, ``trial``) are plain
    attributes under every gymnasium version (1.x no longer forwards them through wrappers), and adds
    NeuroGym wrappers on top where needed.

    Parameters
    ----------
    name
        A registered id such as ``"PerceptualDecisionMaking-v0"``.
    **kwargs
        The task's parameters (``dt``, ``timing``, ``cohs``, ...).

    Examples
    --------
    >>> env = make_task("PerceptualDecisionMaking-v0", dt=100)
    >>> env.dt, env.observation_space.shape
    (100, (3,))

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    ngym = require_neurogym()
    from gymnasium.error import Error as GymError

    known = ngym.envs.registration.all_envs()
    try:
        with warnings.catch_warnings():
            # gymnasium 0.29 warns that NeuroGym's metadata lacks `render_modes`: harmless here
            warnings.filterwarnings("ignore", message=".*render_modes.*")
            env = ngym.make(name, **kwargs)
    except GymError as err:
        close = [k for k in known if name.split("-")[0].lower() in k.lower()]
        raise ValueError(
            f"Unknown task {name!r}. Registered NeuroGym tasks include {close or known[:8]}; "
            "custom tasks must be registered first (course_utils.tasks registers ChangeDetection-v0)."
        ) from err
    return env.unwrapped


def sample_trials(env, n_trials: int, seed: int | None = None) -> pd.DataFrame:
    """Draw ``n_trials`` new trials from a task and list their attributes, one row per trial.

    Parameters
    ----------
    env
        A NeuroGym ``TrialEnv`` (or a wrapper around one).
    n_trials
        How many trials to draw.
    seed
        Seeds the task's random generator first (for a reproducible table).

    Returns
    -------
    pandas.DataFrame
        The trial dictionary's entries (e.g. ``ground_truth``, ``coh``) plus ``n_steps`` and ``duration_ms``.

    Examples
    --------
    >>> table = sample_trials(make_task("PerceptualDecisionMaking-v0"), 5, seed=0)
    >>> sorted(table.columns)
    ['coh', 'duration_ms', 'ground_truth', 'n_steps']

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}.")
    if seed is not None:
        seed_task(env, seed)
    rows = []
    for _ in range(n_trials):
        trial = dict(new_trial(env))
        n_steps = env.unwrapped.ob.shape[0]
        rows.append({**trial, "n_steps": n_steps, "duration_ms": n_steps * env.unwrapped.dt})
    return pd.DataFrame(rows)


def plot_trial(env, *, ax=None, title: str | None = None, output_names: list[str] | None = None):
    """Plot the current trial of a task: observations over time, periods shaded, ground truth below.

    Parameters
    ----------
    env
        A NeuroGym ``TrialEnv`` (or a wrapper around one) after ``new_trial()`` (or ``reset()``).
    ax
        Two matplotlib axes (observations, ground truth); created if None.
    title
        Figure title; defaults to the task's class name and trial attributes.
    output_names
        Names of the actions, for the ground-truth axis.

    Returns
    -------
    numpy.ndarray
        The two axes.

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    import matplotlib.pyplot as plt

    task = env.unwrapped
    if task.trial is None:
        raise ValueError("The task has no current trial: call env.new_trial() or env.reset() first.")
    ob, gt = np.asarray(task.ob), np.asarray(task.gt)
    # one extra edge so that the last step is drawn for its full duration
    time_ms = np.arange(ob.shape[0] + 1) * task.dt
    ob, gt = np.vstack([ob, ob[-1:]]), np.concatenate([gt, gt[-1:]])
    if ax is None:
        _, ax = plt.subplots(2, 1, figsize=(7, 4.2), sharex=True, height_ratios=[2, 1])
    names = _input_names(task, ob.shape[1])
    for i in range(ob.shape[1]):
        ax[0].plot(time_ms, ob[:, i], drawstyle="steps-post", label=names[i])
    ax[1].plot(time_ms, gt if gt.ndim == 1 else gt[:, 0], drawstyle="steps-post", color="k")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, period in enumerate(task.start_t):
        start, end = task.start_t[period], task.end_t[period]
        if end <= start:
            continue
        for a in ax:
            a.axvspan(start, end, color=colors[j % len(colors)], alpha=0.08, lw=0)
        ax[0].text(
            (start + end) / 2, 1.02, period, transform=ax[0].get_xaxis_transform(), ha="center", fontsize=8
        )
    ax[0].set_ylabel("input (a.u.)")
    if ob.shape[1] <= 4:
        ax[0].legend(loc="upper left", fontsize=8, ncol=ob.shape[1])
    else:  # many inputs: legend beside the plot
        ax[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax[1].set_ylabel("correct action")
    if output_names is not None:
        ax[1].set_yticks(range(len(output_names)), output_names)
    ax[1].set_xlabel("time in trial (ms)")
    attrs = ", ".join(f"{k}={_short(v)}" for k, v in task.trial.items() if np.ndim(v) == 0)
    ax[0].set_title(title or f"{type(task).__name__}: {attrs}", pad=14)
    return ax


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float | np.floating) else str(value)


def _input_names(task, n: int) -> list[str]:
    space_names = getattr(task.observation_space, "name", None) or {}
    names = [f"input {i}" for i in range(n)]
    for label, where in space_names.items():
        idx = [where] if np.ndim(where) == 0 else list(where)
        for k, i in enumerate(idx):
            names[int(i)] = label if len(idx) == 1 else f"{label} {k + 1}"
    return names
