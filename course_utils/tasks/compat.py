"""A small compatibility layer: NeuroGym tasks under gymnasium 0.29 *and* gymnasium 1.x.

Up to 0.29, a gymnasium ``Wrapper`` forwarded every unknown attribute to the environment it wraps, so
``wrapper.new_trial()``, ``wrapper.seed(0)``, ``wrapper.ob`` and ``wrapper.gt`` reached the task inside.
Gymnasium 1.0 removed that forwarding. neurogym 2.3.1 still relies on it in ``ngym.Dataset``, which calls
``env.seed`` and reads ``env.ob``/``env.gt`` on whatever it is given: under gymnasium >= 1 it fails for every
wrapped task, which includes every task given by name (``ngym.make`` returns the task inside gymnasium's
``OrderEnforcing`` wrapper) and every task inside a NeuroGym trial wrapper (``SideBias``, ``ScheduleEnvs``,
...); it works only on a bare task. The tasks themselves (``TrialEnv``) and neurogym's wrappers step fine
under both versions.

The course therefore never relies on forwarding: it reads trial arrays from ``env.unwrapped`` (the task) and
calls ``new_trial``/``seed`` on the outermost object that really defines them, found by walking down the
wrapper chain. These three functions are all the layer there is; :class:`~course_utils.tasks.TrialBatches`
(our replacement for ``ngym.Dataset``) and the evaluation functions are built on them.

Taught in chapter 06_neurogym_tasks_and_rnns.
"""

from __future__ import annotations

from typing import Any

__all__ = ["trial_source", "new_trial", "seed_task"]


def _chain(env):
    """The wrapper chain from ``env`` down to the task (``env`` first)."""
    seen = []
    while True:
        seen.append(env)
        inner = getattr(env, "env", None) if "env" in getattr(env, "__dict__", {}) else None
        if inner is None or inner is env:
            return seen
        env = inner


def _defines(obj, name: str) -> bool:
    # A method of the object's own class, not one reached through gymnasium 0.29's attribute forwarding,
    # nor TrialWrapper's placeholder (it only raises NotImplementedError).
    for cls in type(obj).__mro__:
        if name in vars(cls):
            placeholder = cls.__module__ == "neurogym.core" and cls.__name__ == "TrialWrapper"
            return not placeholder and not cls.__module__.startswith("gymnasium")
    return False


def trial_source(env):
    """The outermost object in ``env``'s wrapper chain that draws trials (defines ``new_trial``).

    That is the outermost NeuroGym ``TrialWrapper`` (e.g. ``ScheduleEnvs``, ``SideBias``, the course's
    ``ReactionTimeTargets``), or the task itself. Step-level wrappers (``PassReward``, ``PassAction``,
    ``Noise``, gymnasium's ``OrderEnforcing``) are skipped: they change what ``step`` returns, not trials.

    Examples
    --------
    >>> from course_utils.tasks import make_task
    >>> task = make_task("PerceptualDecisionMaking-v0")
    >>> trial_source(task) is task
    True

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    for obj in _chain(env):
        if _defines(obj, "new_trial"):
            return obj
    raise TypeError(
        f"{type(env).__name__} wraps no NeuroGym task (no object in its wrapper chain defines new_trial): "
        "pass a task made with course_utils.tasks.make_task, or a NeuroGym wrapper around one."
    )


def new_trial(env, **kwargs: Any) -> dict:
    """Draw the next trial (through any wrappers) and return its dictionary.

    The trial's arrays are then ``env.unwrapped.ob`` (time x inputs) and ``env.unwrapped.gt`` (correct
    action per step).

    Examples
    --------
    >>> from course_utils.tasks import make_task
    >>> task = make_task("PerceptualDecisionMaking-v0")
    >>> sorted(new_trial(task, coh=51.2)), task.trial["coh"]
    (['coh', 'ground_truth'], 51.2)

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    return trial_source(env).new_trial(**kwargs)


def seed_task(env, seed: int | None) -> None:
    """Seed a task's random generator, and the wrappers' own generators where they have one.

    ``ScheduleEnvs`` and ``ScheduleAttr`` define ``seed`` (they seed their schedule and every task they
    hold); otherwise the task is seeded (``TrialEnv.seed``). Gymnasium 1.x has no ``wrapper.seed``.

    Examples
    --------
    >>> from course_utils.tasks import make_task
    >>> task = make_task("PerceptualDecisionMaking-v0")
    >>> seed_task(task, 0); a = new_trial(task)
    >>> seed_task(task, 0); a == new_trial(task)
    True

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    for obj in _chain(env):
        if _defines(obj, "seed"):
            obj.seed(seed)
            return
    env.unwrapped.seed(seed)
