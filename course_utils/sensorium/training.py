"""Train the Sensorium baseline: seeded, early-stopped on the oracle tier, checkpointed safely, DDP-ready.

From Python::

    model, history = train_model(get_source("sensorium2023"), TrainConfig(epochs=5))

From the command line (one process, or several under ``torchrun`` with DistributedDataParallel; the same
command, unchanged)::

    python -m course_utils sensorium train --data DATA_ROOT --epochs 20 --checkpoint model.pt
    torchrun --nproc_per_node 2 -m course_utils sensorium train --data DATA_ROOT --epochs 20

Under torchrun every process trains on its share of each batch (gloo on CPU, NCCL on GPUs); gradients are
averaged by DDP; the oracle score that drives early stopping is computed on rank 0 and broadcast, so every
process stops at the same epoch; only rank 0 writes the checkpoint.

Taught in chapter 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from ..fileio import BadFileError, load_torch_weights
from ..training import EarlyStopping, History, progress_bar, reuse_training, select_device, set_seed
from .dataset import MultiMouseLoader, SensoriumClips
from .metrics import single_trial_correlation
from .model import SensoriumModel, poisson_loss
from .reader import SensoriumMouse, read_mice


@dataclass
class TrainConfig:
    """Settings of :func:`train_model` (all plain numbers/strings, so they fit in a safe checkpoint).

    ``max_minutes`` and ``max_steps`` cap the run (for the book's fast setting and for tests); ``patience`` is
    the number of epochs without a better oracle correlation before stopping; ``learning_rate`` is AdamW's
    (the same name as in the course's other training loops).
    """

    epochs: int = 30
    batch_size: int = 8
    frames_per_clip: int = 60
    learning_rate: float = 3e-2
    weight_decay: float = 1e-4
    readout_l1: float = 0.05
    patience: int = 6
    seed: int = 0
    hidden_channels: int = 16
    n_layers: int = 3
    behavior_as_channels: bool = False
    readout: str = "factorized"
    loss_skip_frames: int = 10
    max_minutes: float | None = None
    max_steps: int | None = None
    progress: bool = True


def _bare(model: torch.nn.Module) -> SensoriumModel:
    return model.module if hasattr(model, "module") else model


@torch.no_grad()
def predict_trials(model: torch.nn.Module, mouse: SensoriumMouse, trials: Sequence[int],
                   behavior_as_channels: bool = False) -> list[np.ndarray]:
    """Predicted responses (neurons, frames) of whole trials, frames from the trial's first frame to its end.

    Predictions are in the units of the normalised responses (responses / per-neuron std); correlations do not
    depend on that scale.

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    net = _bare(model)
    was_training = net.training
    net.eval()
    dataset = SensoriumClips(mouse, tuple(sorted(set(mouse.tiers[list(trials)]))), frames_per_clip=None,
                             behavior_as_channels=behavior_as_channels)
    position = {trial: k for k, (trial, _) in enumerate(dataset.items)}
    out = []
    for trial in trials:
        item = dataset[position[int(trial)]]
        device = next(net.parameters()).device
        rates = net(item["video"][None].to(device), item["behavior"][None].to(device), mouse.name)[0]
        out.append(rates.cpu().numpy())
    net.train(was_training)
    return out


def predict_tier(model: torch.nn.Module, mice: Mapping[str, SensoriumMouse], tier: str,
                 behavior_as_channels: bool = False) -> dict[str, dict[int, np.ndarray]]:
    """Full-length predictions of every trial of ``tier``: ``{mouse: {trial file number: (neurons, T)}}``.

    The input of :func:`~course_utils.sensorium.submission.write_submission` (one such dict per tier).

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    out = {}
    for name, mouse in mice.items():
        trials = mouse.trials(tier)
        if len(trials):
            out[name] = dict(zip(trials.tolist(), predict_trials(model, mouse, trials, behavior_as_channels),
                                 strict=True))
    return out


def oracle_correlation(model: torch.nn.Module, mice: Mapping[str, SensoriumMouse],
                       behavior_as_channels: bool = False, tier: str = "oracle") -> dict[str, np.ndarray]:
    """Per-neuron single-trial correlation on one tier (default: oracle) of each mouse.

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    scores = {}
    for name, mouse in mice.items():
        trials = mouse.trials(tier)
        predictions = predict_trials(model, mouse, trials, behavior_as_channels)
        responses = [mouse.load("responses", t, trim=True) for t in trials]
        scores[name] = single_trial_correlation(predictions, responses, per_neuron=True)
    return scores


def save_checkpoint(model: torch.nn.Module, path: str | Path, config: TrainConfig | None = None,
                    extra: dict | None = None) -> Path:
    """Save weights and settings as plain tensors/numbers (loadable with ``weights_only=True``).

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = _bare(model)
    payload = {"state_dict": net.state_dict(), "model_config": net.config,
               "train_config": asdict(config) if config else {}, "extra": extra or {}}
    tmp = path.with_name(path.name + ".part")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint behind
    return path


def load_checkpoint(path: str | Path) -> tuple[SensoriumModel, dict]:
    """Rebuild a model from :func:`save_checkpoint`'s file, safely (tensors and plain values only).

    Returns the model (in eval mode) and the checkpoint's ``train_config``/``extra`` dict. A file that is not
    a plain weights file (it would build arbitrary Python objects, or is truncated, or is another kind of file)
    is refused with :class:`~course_utils.fileio.BadFileError` naming it; unlike torch's own message, the
    course never suggests loading it with ``weights_only=False``, which would let the file run code.

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    path = Path(path)
    fix = ("Use a checkpoint written by course_utils.sensorium.save_checkpoint (or train_model(..., checkpoint=...)); "
           "if you made this file yourself, save a state_dict of tensors and plain settings.")
    if not path.is_file():
        raise FileNotFoundError(f"Checkpoint {path} does not exist; train first (train_model(..., checkpoint=...)).")
    payload = load_torch_weights(path, fix=fix)
    if not isinstance(payload, dict) or "state_dict" not in payload or "model_config" not in payload:
        raise BadFileError(path, "is a weights file but not a checkpoint of course_utils.sensorium "
                           "(it has no 'state_dict' and 'model_config').", fix)
    model = SensoriumModel(**payload["model_config"])
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, {"train_config": payload.get("train_config", {}), "extra": payload.get("extra", {})}


def _distributed() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def train_model(
    data: str | Path | Mapping[str, SensoriumMouse],
    config: TrainConfig | None = None,
    checkpoint: str | Path | None = None,
    device: str | None = None,
) -> tuple[SensoriumModel, dict[str, list]]:
    """Train the baseline on the train tier of every mouse; early-stop on the oracle single-trial correlation.

    Parameters
    ----------
    data
        The dataset folder (holding the ``dynamic*`` mouse folders) or mice from :func:`read_mice`.
    config
        :class:`TrainConfig` (defaults if None).
    checkpoint
        Where to save the best model (rank 0 only); the best weights are also restored at the end.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``; None follows ``$COURSE_DEVICE``
        (:func:`course_utils.training.select_device`: under ``auto`` the GPU whenever there is one; under
        ``torchrun`` the process's GPU ``$LOCAL_RANK``). The model comes back on the CPU.

    Returns
    -------
    (model, history)
        The best model (eval mode, on the CPU) and per-epoch ``epoch``, ``loss``, ``oracle`` (pooled
        single-trial correlation) and ``seconds`` (a :class:`course_utils.training.History`).

    Notes
    -----
    One training for :func:`course_utils.training.reuse_training` (one process only): under ``make test`` a
    student notebook reuses the instructor chapter's run and writes the same ``checkpoint``.

    Examples
    --------
    >>> model, history = train_model(folder, TrainConfig(epochs=1))   # doctest: +SKIP

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    config = config or TrainConfig()
    set_seed(config.seed)
    mice = read_mice(data) if isinstance(data, (str, Path)) else dict(data)
    rank, world_size = _distributed()
    clip_frames = min(config.frames_per_clip, *(int(m.trial_lengths[m.trials("train")].min()) for m in mice.values()))
    datasets = {name: SensoriumClips(m, ("train",), clip_frames, random_start=True,
                                     behavior_as_channels=config.behavior_as_channels, seed=config.seed + k)
                for k, (name, m) in enumerate(mice.items())}
    loader = MultiMouseLoader(datasets, config.batch_size, seed=config.seed, rank=rank, world_size=world_size)
    net = SensoriumModel(
        {name: m.n_neurons for name, m in mice.items()}, in_channels=1 + 4 * config.behavior_as_channels,
        hidden_channels=config.hidden_channels, n_layers=config.n_layers, readout=config.readout)

    def train() -> dict:
        return _fit(net, mice, loader, config, checkpoint, select_device(device), rank, world_size)

    if world_size > 1:
        result = train()
    else:
        trained = []

        def train_once() -> dict:
            trained.append(True)
            return train()

        key = {"loop": "sensorium.train_model", "config": asdict(config), "device": device,
               "mice": {name: [m.n_neurons, m.trials("train").tolist(), m.trials("oracle").tolist()]
                        for name, m in mice.items()}}
        result = reuse_training(net, train_once, key)
        if not trained and checkpoint is not None and result["best_epoch"] is not None:
            save_checkpoint(net, checkpoint, config, {"epoch": result["best_epoch"], "oracle": result["best"]})
    net.cpu().eval()
    return net, History(**result["history"])


def _fit(net: SensoriumModel, mice: Mapping[str, SensoriumMouse], loader: MultiMouseLoader, config: TrainConfig,
         checkpoint: str | Path | None, device: torch.device, rank: int, world_size: int) -> dict:
    """The epochs of :func:`train_model`; leaves ``net`` with the best weights and returns the history."""
    model: torch.nn.Module = net.to(device)
    if world_size > 1:
        # other mice's readouts get no gradient in a step: DDP must be told
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=2)
    history = History("epoch", "loss", "oracle", "seconds")
    stopper = EarlyStopping(config.patience, mode="max")
    steps, started = 0, time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        losses, steps, out_of_time = _train_epoch(model, net, loader, optimizer, config, device, rank, epoch, steps,
                                                  started)
        score_value = _oracle_score(model, mice, config, rank, world_size)
        history.log(epoch=epoch, loss=float(np.mean(losses)) if losses else float("nan"), oracle=score_value,
                    seconds=time.perf_counter() - started)
        if config.progress and rank == 0:
            tqdm.write(f"epoch {epoch}: loss {history['loss'][-1]:.4f}, oracle single-trial corr {score_value:.4f}")
        scheduler.step(score_value)
        patience_out = stopper.update(score_value, net, epoch)
        if stopper.best_epoch == epoch and checkpoint is not None and rank == 0:
            save_checkpoint(net, checkpoint, config, {"epoch": epoch, "oracle": score_value})
        if patience_out or out_of_time:
            break
    net.cpu()
    stopper.restore(net)
    best = stopper.best if stopper.best_epoch is not None else None
    return {"history": dict(history), "best_epoch": stopper.best_epoch, "best": best}


def _train_epoch(model, net, loader, optimizer, config: TrainConfig, device: torch.device, rank: int, epoch: int,
                 steps: int, started: float) -> tuple[list[float], int, bool]:
    """One pass over the loader; returns the step losses, the steps so far, and whether a step/time budget ran out."""
    model.train()
    losses = []
    bar = progress_bar(loader, progress=config.progress and rank == 0, desc=f"epoch {epoch}/{config.epochs}",
                       leave=False)
    for mouse_name, batch in bar:
        batch = {k: v.to(device) for k, v in batch.items()}
        rates = model(batch["video"], batch["behavior"], mouse_name)
        loss = poisson_loss(rates, batch["responses"], skip_frames=config.loss_skip_frames)
        loss = loss + config.readout_l1 * net.regularizer(mouse_name)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
        steps += 1
        if config.max_steps is not None and steps >= config.max_steps:
            return losses, steps, True
        if config.max_minutes is not None and time.perf_counter() - started > 60 * config.max_minutes:
            return losses, steps, True
    return losses, steps, False


def _oracle_score(model, mice: Mapping[str, SensoriumMouse], config: TrainConfig, rank: int, world_size: int) -> float:
    """Mean oracle single-trial correlation, computed on rank 0 and shared so every process stops together."""
    score = torch.tensor(0.0, dtype=torch.float64)
    if rank == 0:
        per_neuron = oracle_correlation(model, mice, config.behavior_as_channels)
        score = torch.tensor(float(np.concatenate(list(per_neuron.values())).mean()), dtype=torch.float64)
    if world_size > 1:
        dist.broadcast(score, src=0)  # every process takes the same early-stopping decision
    return float(score)
