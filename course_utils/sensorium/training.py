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
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from ..fileio import BadFileError, load_torch_weights
from .dataset import MultiMouseLoader, SensoriumClips
from .metrics import single_trial_correlation
from .model import SensoriumModel, poisson_loss
from .reader import SensoriumMouse, read_mice


@dataclass
class TrainConfig:
    """Settings of :func:`train_model` (all plain numbers/strings, so they fit in a safe checkpoint).

    ``max_minutes`` and ``max_steps`` cap the run (for the book's fast setting and for tests); ``patience`` is
    the number of epochs without a better oracle correlation before stopping.
    """

    epochs: int = 30
    batch_size: int = 8
    frames_per_clip: int = 60
    lr: float = 3e-2
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


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - libraries that still draw from the legacy global generator
    torch.manual_seed(seed)


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


def _device() -> torch.device:
    """CPU, or under torchrun on a GPU machine the process's own GPU (``LOCAL_RANK``)."""
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def _distributed() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def train_model(
    data: str | Path | Mapping[str, SensoriumMouse],
    config: TrainConfig | None = None,
    checkpoint: str | Path | None = None,
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

    Returns
    -------
    (model, history)
        The best model (eval mode) and per-epoch ``loss``, ``oracle`` (pooled single-trial correlation) and
        ``seconds``.

    Examples
    --------
    >>> model, history = train_model(folder, TrainConfig(epochs=1))   # doctest: +SKIP

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    config = config or TrainConfig()
    seed_everything(config.seed)
    mice = read_mice(data) if isinstance(data, (str, Path)) else dict(data)
    rank, world_size = _distributed()
    clip_frames = min(config.frames_per_clip, *(int(m.trial_lengths[m.trials("train")].min()) for m in mice.values()))
    datasets = {name: SensoriumClips(m, ("train",), clip_frames, random_start=True,
                                     behavior_as_channels=config.behavior_as_channels, seed=config.seed + k)
                for k, (name, m) in enumerate(mice.items())}
    loader = MultiMouseLoader(datasets, config.batch_size, seed=config.seed, rank=rank, world_size=world_size)
    model: torch.nn.Module = SensoriumModel(
        {name: m.n_neurons for name, m in mice.items()}, in_channels=1 + 4 * config.behavior_as_channels,
        hidden_channels=config.hidden_channels, n_layers=config.n_layers, readout=config.readout)
    device = _device()
    model = model.to(device)
    if world_size > 1:
        # other mice's readouts get no gradient in a step: DDP must be told
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=2)
    history: dict[str, list] = {"epoch": [], "loss": [], "oracle": [], "seconds": []}
    best, best_state, bad_epochs, steps = -np.inf, None, 0, 0
    started = time.perf_counter()
    out_of_time = False
    for epoch in range(config.epochs):
        model.train()
        losses = []
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False,
                   disable=not config.progress or rank != 0)
        for mouse_name, batch in bar:
            batch = {k: v.to(device) for k, v in batch.items()}
            rates = model(batch["video"], batch["behavior"], mouse_name)
            loss = poisson_loss(rates, batch["responses"], skip_frames=config.loss_skip_frames)
            loss = loss + config.readout_l1 * _bare(model).regularizer(mouse_name)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
            steps += 1
            if config.max_steps is not None and steps >= config.max_steps:
                out_of_time = True
                break
            if config.max_minutes is not None and time.perf_counter() - started > 60 * config.max_minutes:
                out_of_time = True
                break
        score = torch.tensor(0.0, dtype=torch.float64)
        if rank == 0:
            per_neuron = oracle_correlation(model, mice, config.behavior_as_channels)
            score = torch.tensor(float(np.concatenate(list(per_neuron.values())).mean()), dtype=torch.float64)
        if world_size > 1:
            dist.broadcast(score, src=0)  # every process takes the same early-stopping decision
        score_value = float(score)
        history["epoch"].append(epoch + 1)
        history["loss"].append(float(np.mean(losses)) if losses else float("nan"))
        history["oracle"].append(score_value)
        history["seconds"].append(time.perf_counter() - started)
        if config.progress and rank == 0:
            tqdm.write(f"epoch {epoch + 1}: loss {history['loss'][-1]:.4f}, oracle single-trial corr {score_value:.4f}")
        scheduler.step(score_value)
        if score_value > best:
            best, bad_epochs = score_value, 0
            best_state = {k: v.detach().clone() for k, v in _bare(model).state_dict().items()}
            if checkpoint is not None and rank == 0:
                save_checkpoint(model, checkpoint, config, {"epoch": epoch + 1, "oracle": score_value})
        else:
            bad_epochs += 1
        if bad_epochs >= config.patience or out_of_time:
            break
    net = _bare(model).cpu()
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return net, history
