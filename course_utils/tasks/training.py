"""Supervised training of recurrent networks on NeuroGym tasks (batches of trials, :class:`TrialBatches`).

A network reads the task's observations one time step at a time and, at each step, outputs scores for
the task's actions (fixate, choose left, choose right, ...); it is trained with cross-entropy against the
task's ground truth. In most tasks the correct action is "fixate" for almost every step, so an unweighted
loss lets fixation dominate: ``class_weights="balanced"`` weighs each action by the inverse of its
frequency in the batch, so the few decision steps count as much as the many fixation steps.

Taught in chapter 06_neurogym_tasks_and_rnns.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..training import model_device, progress_bar, reuse_training, select_device, set_seed
from .batches import TrialBatches

__all__ = ["RecurrentNetwork", "TrainingHistory", "set_seed", "make_dataset", "train_network"]

_CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class RecurrentNetwork(nn.Module):
    """A recurrent layer (vanilla RNN, GRU or LSTM) followed by a linear read-out of action scores.

    Parameters
    ----------
    n_inputs
        Observation size (``env.observation_space.shape[0]``).
    n_outputs
        Number of actions (``env.action_space.n``).
    hidden_size
        Number of recurrent units.
    cell
        ``"rnn"`` (tanh units), ``"gru"`` or ``"lstm"``.

    Examples
    --------
    >>> net = RecurrentNetwork(3, 3, hidden_size=8, cell="gru")
    >>> net(torch.zeros(5, 2, 3)).shape   # (time, batch, actions)
    torch.Size([5, 2, 3])

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """

    def __init__(self, n_inputs: int, n_outputs: int, hidden_size: int = 64, cell: str = "lstm") -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"cell must be one of {sorted(_CELLS)}, got {cell!r}.")
        self.cell = cell
        self.rnn = _CELLS[cell](n_inputs, hidden_size)
        self.readout = nn.Linear(hidden_size, n_outputs)

    def forward(self, inputs: torch.Tensor, state=None, return_state: bool = False):
        """Action scores (logits) for inputs shaped (time, batch, n_inputs)."""
        hidden, state = self.rnn(inputs, state)
        logits = self.readout(hidden)
        return (logits, state) if return_state else logits


@dataclass
class TrainingHistory:
    """What happened during training: loss per step, wall time, and optional evaluations.

    Attributes
    ----------
    loss
        Training loss at every step.
    seconds
        Wall-clock training time (s).
    trials_seen
        Number of trials (complete or not) in the batches seen, counted from the ground truth.
    evaluations
        Rows appended by the ``callback`` of :func:`train_network` (e.g. probe accuracy).
    """

    loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    trials_seen: int = 0
    evaluations: list[dict] = field(default_factory=list)

    def to_frame(self):
        """The loss per step as a table (``step`` from 1, ``loss``); ``pd.DataFrame(evaluations)`` has the rest.

        Examples
        --------
        >>> TrainingHistory(loss=[0.7, 0.5]).to_frame()
           step  loss
        0     1   0.7
        1     2   0.5
        """
        import pandas as pd

        return pd.DataFrame({"step": np.arange(1, len(self.loss) + 1), "loss": self.loss})


def make_dataset(env, batch_size: int = 16, seq_len: int = 100, seed: int | None = None) -> TrialBatches:
    """Supervised batches over ``env`` (a :class:`TrialBatches`), reproducible given ``seed``.

    The course's replacement for ``ngym.Dataset``, which fails under gymnasium 1.x (Colab's): same
    ``(inputs, targets)`` batches, built from ``env.unwrapped`` (see :mod:`course_utils.tasks.compat`).

    Parameters
    ----------
    env
        A task (``TrialEnv``, optionally inside trial wrappers) or a registered id.
    batch_size, seq_len
        Batch columns and time steps per batch.
    seed
        Column ``i`` is seeded with ``seed + i``; None leaves them random.

    Returns
    -------
    TrialBatches
        Calling it returns ``(inputs, targets)`` shaped (seq_len, batch, n_inputs) and (seq_len, batch).

    Examples
    --------
    >>> ds = make_dataset("PerceptualDecisionMaking-v0", batch_size=4, seq_len=30, seed=0)
    >>> [a.shape for a in ds()]
    [(30, 4, 3), (30, 4)]

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    if isinstance(env, str):
        from .environment import make_task

        env = make_task(env)
    return TrialBatches(env, batch_size=batch_size, seq_len=seq_len, seed=seed)


def _count_trial_starts(targets: np.ndarray) -> int:
    # A trial's ground truth goes from the fixation action (0) to a response; count those rises per column.
    t = targets if targets.ndim == 2 else targets[..., 0]
    responding = t != 0
    return int(np.sum(responding[1:] & ~responding[:-1]) + np.sum(responding[0]))


def _class_weights(targets: torch.Tensor, n_classes: int) -> torch.Tensor:
    counts = torch.bincount(targets.reshape(-1), minlength=n_classes).float()
    present = counts > 0
    weights = torch.zeros(n_classes)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def train_network(
    model: RecurrentNetwork,
    dataset,
    n_steps: int = 2000,
    *,
    learning_rate: float = 1e-2,
    class_weights: str | None = "balanced",
    lr_schedule: str | None = None,
    seed: int | None = 0,
    callback: Callable[[int, TrainingHistory], dict | None] | None = None,
    callback_every: int = 100,
    progress: bool = True,
    history: TrainingHistory | None = None,
    device: str | None = None,
) -> TrainingHistory:
    """Train ``model`` with Adam on ``n_steps`` batches from ``dataset``.

    Parameters
    ----------
    model
        A :class:`RecurrentNetwork` (or any module mapping (time, batch, inputs) to (time, batch, actions)).
    dataset
        A :class:`TrialBatches` (see :func:`make_dataset`), or anything that returns ``(inputs, targets)``
        batches with integer action targets when called (e.g. an ``ngym.Dataset``).
    n_steps
        Number of gradient steps (batches).
    learning_rate
        Adam's learning rate.
    class_weights
        ``"balanced"``: weigh each action by the inverse of its frequency in the batch (so fixation does not
        dominate); None: plain cross-entropy.
    lr_schedule
        None: constant learning rate; ``"cosine"``: anneal it to 0 over the ``n_steps`` (the network ends at a
        stable point instead of wherever the last large steps left it, e.g. with a random side bias).
    seed
        Seeds torch/NumPy before training (the weights are initialised when the model is built: seed with
        :func:`set_seed` before building it).
    callback
        Called as ``callback(step, history)`` every ``callback_every`` steps and after the last one; a returned
        dict is appended to ``history.evaluations`` with ``step`` and ``trials_seen`` added. The model is on
        the training device while it runs (:func:`run_trials` follows it there).
    progress
        Show a tqdm progress bar (pass False when a sweep trains many networks under its own bar).
    history
        Continue an earlier history (e.g. across curriculum stages).
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``; None follows ``$COURSE_DEVICE``
        (:func:`course_utils.training.select_device`, with ``work`` = batch columns x hidden units: the
        course's task networks stay on the CPU under ``auto``). The model comes back on its own device.

    Returns
    -------
    TrainingHistory

    Notes
    -----
    Under ``make test`` the student notebook reuses the instructor chapter's training
    (:func:`course_utils.training.reuse_training`); ``dataset`` still ends where the training left it (a
    :class:`TrialBatches` draws the skipped batches only if it is used again), but ``callback`` is not called
    (its rows come back in ``history.evaluations``).

    Examples
    --------
    >>> set_seed(0)
    >>> ds = make_dataset("PerceptualDecisionMaking-v0", batch_size=4, seq_len=40, seed=0)
    >>> net = RecurrentNetwork(3, 3, hidden_size=8)
    >>> hist = train_network(net, ds, n_steps=3, progress=False)
    >>> len(hist.loss)
    3

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be at least 1, got {n_steps}.")
    if class_weights not in ("balanced", None):
        raise ValueError(f'class_weights must be "balanced" or None, got {class_weights!r}.')
    if lr_schedule not in ("cosine", None):
        raise ValueError(f'lr_schedule must be "cosine" or None, got {lr_schedule!r}.')
    if seed is not None:
        set_seed(seed)
    history = history if history is not None else TrainingHistory()
    settings = dict(learning_rate=learning_rate, class_weights=class_weights, lr_schedule=lr_schedule,
                    callback=callback, callback_every=callback_every, progress=progress, device=device)
    trained = []

    def train() -> dict:
        trained.append(True)
        _train_steps(model, dataset, n_steps, history=history, **settings)
        return dataclasses.asdict(history)

    key = {"loop": "tasks.train_network", "n_steps": n_steps, "seed": seed, "dataset": _describe(dataset),
           "history_steps": len(history.loss), "callback": callback is not None,
           **{k: v for k, v in settings.items() if k not in ("callback", "progress")}}
    result = reuse_training(model, train, key)
    if not trained:  # reused: the dataset moves on by the same batches (TrialBatches: when next used)
        if isinstance(dataset, TrialBatches):
            dataset.skip(n_steps)
        else:
            for _ in range(n_steps):
                dataset()
        for name, value in result.items():
            setattr(history, name, value)
    return history


def _describe(dataset) -> dict:
    """What identifies a dataset's batches across two runs of the same notebook (names and counts only)."""
    envs = getattr(dataset, "envs", None) or [None]
    return {"type": type(dataset).__name__, "task": type(getattr(envs[0], "unwrapped", envs[0])).__name__,
            **{k: getattr(dataset, k) for k in ("batch_size", "seq_len", "trials_drawn") if hasattr(dataset, k)}}


def _work(model: nn.Module, dataset) -> int:
    """Batch columns x hidden units, for the device rule (0, i.e. the CPU under auto, when unknown)."""
    hidden = getattr(getattr(model, "rnn", None), "hidden_size", 0)
    return int(getattr(dataset, "batch_size", 0) or 0) * int(hidden or 0)


def _train_steps(
    model: nn.Module,
    dataset,
    n_steps: int,
    *,
    history: TrainingHistory,
    learning_rate: float,
    class_weights: str | None,
    lr_schedule: str | None,
    callback: Callable[[int, TrainingHistory], dict | None] | None,
    callback_every: int,
    progress: bool,
    device: str | None,
) -> TrainingHistory:
    """The loop of :func:`train_network` (without seeding or reuse): run inside a protocol's own reuse."""
    home = model_device(model)
    device = select_device(device, work=_work(model, dataset))
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, n_steps) if lr_schedule else None
    n_classes = model.readout.out_features if hasattr(model, "readout") else None
    model.train()
    start = time.perf_counter()
    steps = progress_bar(range(n_steps), progress=progress, desc="training", mininterval=3.0)
    for step in steps:
        inputs, targets = dataset()
        x = torch.from_numpy(np.asarray(inputs, dtype=np.float32)).to(device)
        y = torch.from_numpy(np.asarray(targets, dtype=np.int64)).to(device)
        logits = model(x)
        n_out = n_classes or logits.shape[-1]
        weight = _class_weights(y.cpu(), n_out).to(device) if class_weights == "balanced" else None
        loss = nn.functional.cross_entropy(logits.reshape(-1, n_out), y.reshape(-1), weight=weight)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        history.loss.append(loss.item())
        history.trials_seen += _count_trial_starts(np.asarray(targets))
        if progress and step % 50 == 0:
            steps.set_postfix(loss=f"{history.loss[-1]:.3f}", refresh=False)
        if callback is not None and ((step + 1) % callback_every == 0 or step == n_steps - 1):
            model.eval()
            row = callback(step, history)
            model.train()
            if row is not None:
                history.evaluations.append(
                    {"step": len(history.loss), "trials_seen": history.trials_seen, **row}
                )
    history.seconds += time.perf_counter() - start
    model.eval()
    model.to(home)
    return history
