"""Supervised batches from a stream of trials: what ``ngym.Dataset`` does, under gymnasium 0.29 and 1.x.

Taught in chapter 06_neurogym_tasks_and_rnns.
"""

from __future__ import annotations

import copy

import numpy as np

from .compat import new_trial, seed_task, trial_source

__all__ = ["TrialBatches"]


class TrialBatches:
    """Batches of (inputs, targets) cut from a continuous stream of trials, one stream per batch column.

    Each column owns a copy of the task and plays its trials back to back, as an animal does in a session;
    a batch is the next ``seq_len`` time steps of every column. This is the job of ``ngym.Dataset``, written
    on the compatibility layer (:mod:`course_utils.tasks.compat`) so that it works with gymnasium 1.x,
    where ``ngym.Dataset`` fails. Two differences, both deliberate: a trial cut by the end of a batch
    continues at the start of the next batch of its column (``ngym.Dataset`` drops the rest of the trial
    at the end of its cache), and :meth:`seed` makes the very first batch reproducible.

    Parameters
    ----------
    env
        A NeuroGym task (``make_task(...)``) or a trial wrapper around one (e.g. ``ScheduleEnvs``,
        ``ReactionTimeTargets``). It is copied once per column and never modified.
    batch_size
        Number of columns (independent trial streams).
    seq_len
        Time steps per batch.
    seed
        Column ``i`` is seeded with ``seed + i``; None leaves them random.

    Attributes
    ----------
    envs
        The column copies (change their settings with ``apply_task_settings``, then call :meth:`refresh`).
    trials_drawn
        Trials drawn so far, over all columns.

    Notes
    -----
    :meth:`skip` moves the streams on by whole batches lazily: they are drawn at the next use of the object
    (a batch, ``envs``, ``trials_drawn``, :meth:`seed`, :meth:`refresh`), so a stream that is never used again
    costs nothing, and one that is used sees exactly what drawing them at once would have left.

    Examples
    --------
    >>> from course_utils.tasks import make_task
    >>> batches = TrialBatches(make_task("PerceptualDecisionMaking-v0"), batch_size=4, seq_len=30, seed=0)
    >>> inputs, targets = batches()
    >>> inputs.shape, inputs.dtype, targets.shape
    ((30, 4, 3), dtype('float32'), (30, 4))

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """

    def __init__(self, env, batch_size: int = 16, seq_len: int = 100, seed: int | None = None) -> None:
        if batch_size < 1 or seq_len < 1:
            raise ValueError(f"batch_size and seq_len must be positive, got {batch_size} and {seq_len}.")
        source = trial_source(env)
        if env.observation_space.shape != source.observation_space.shape:
            raise ValueError(
                f"{type(env).__name__} changes the observations only while the task is stepped (e.g. "
                "PassReward, PassAction): supervised batches are built from trials, without actions. "
                "Pass the environment without those wrappers."
            )
        self._envs = [copy.deepcopy(env) for _ in range(batch_size)]
        self.batch_size = batch_size
        self.seq_len = seq_len
        self._ob_shape = tuple(source.observation_space.shape)
        self._ob_dtype = source.observation_space.dtype
        self._gt_shape = tuple(source.action_space.shape or ())
        self._gt_dtype = source.action_space.dtype
        self._trials_drawn = 0
        self._owed = 0
        self.seed(seed)

    @property
    def envs(self) -> list:
        self._settle()
        return self._envs

    @property
    def trials_drawn(self) -> int:
        self._settle()
        return self._trials_drawn

    def seed(self, seed: int | None = None) -> None:
        """Seed column ``i`` with ``seed + i`` and start every stream afresh."""
        for i, env in enumerate(self.envs):
            seed_task(env, None if seed is None else seed + i)
        self.refresh()

    def refresh(self) -> None:
        """Drop the unfinished trial of every column (after changing the task's settings)."""
        self._settle()
        self._rest: list[tuple[np.ndarray, np.ndarray] | None] = [None] * self.batch_size

    def skip(self, n_batches: int) -> None:
        """Move every stream on by ``n_batches`` batches, drawn only when the object is next used.

        A reused training (:func:`~course_utils.tasks.train_network` under ``make test``) calls this, so the
        stream ends where the training left it without drawing trials that nothing reads.

        Examples
        --------
        >>> from course_utils.tasks import make_task
        >>> a = TrialBatches(make_task("PerceptualDecisionMaking-v0"), batch_size=2, seq_len=30, seed=0)
        >>> b = TrialBatches(make_task("PerceptualDecisionMaking-v0"), batch_size=2, seq_len=30, seed=0)
        >>> _ = a(), a(); b.skip(2)
        >>> bool((a()[0] == b()[0]).all()), a.trials_drawn == b.trials_drawn
        (True, True)
        """
        if n_batches < 0:
            raise ValueError(f"n_batches must be at least 0, got {n_batches}.")
        self._owed += n_batches

    def _settle(self) -> None:
        owed, self._owed = getattr(self, "_owed", 0), 0
        for _ in range(owed):
            self._draw()

    def __call__(self) -> tuple[np.ndarray, np.ndarray]:
        """The next batch: inputs (seq_len, batch, *inputs) and targets (seq_len, batch)."""
        self._settle()
        return self._draw()

    def _draw(self) -> tuple[np.ndarray, np.ndarray]:
        inputs = np.zeros((self.seq_len, self.batch_size, *self._ob_shape), dtype=self._ob_dtype)
        targets = np.zeros((self.seq_len, self.batch_size, *self._gt_shape), dtype=self._gt_dtype)
        for i, env in enumerate(self._envs):
            ob, gt = self._rest[i] or (None, None)
            t = 0
            while t < self.seq_len:
                if ob is None or len(ob) == 0:
                    new_trial(env)
                    self._trials_drawn += 1
                    ob, gt = env.unwrapped.ob, env.unwrapped.gt
                n = min(len(ob), self.seq_len - t)
                inputs[t : t + n, i] = ob[:n]
                targets[t : t + n, i] = gt[:n]
                ob, gt, t = ob[n:], gt[n:], t + n
            self._rest[i] = (ob, gt)
        return inputs, targets

    def __iter__(self):
        return self

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        return self()
