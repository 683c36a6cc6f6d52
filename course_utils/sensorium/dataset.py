"""PyTorch datasets of video clips for Sensorium mice, and a loader that mixes several mice.

Normalisation uses the statistics shipped with each mouse (``meta/statistics``), as the starter kit does:
videos are standardised with the global mean and std, responses are divided by each neuron's std (keeping
them non-negative for the Poisson loss; stds below 1 % of the mean std are floored there, neuralpredictors'
rule, :func:`~course_utils.sensorium.metrics.response_precision`), behaviour and pupil centre are standardised
per channel. Statistics released with a frame axis are pooled over it first (``frame_reduction="pool"`` of
:meth:`~course_utils.sensorium.reader.SensoriumMouse.statistics`), so every clip start is normalised alike.

Taught in chapter 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from .metrics import response_precision
from .reader import TEST_TIERS, SensoriumMouse

N_BEHAVIOR_CHANNELS = 4  # pupil dilation, running speed, pupil x, pupil y


class SensoriumClips(Dataset):
    """Clips of ``frames_per_clip`` frames cut from the trials of some tiers of one mouse.

    Each item is a dict of float32 tensors: ``video`` (channels, frames, 36, 64), ``behavior`` (4, frames),
    ``responses`` (neurons, frames; NaN where withheld or padded), plus ``trial`` (file number) and ``start``.
    With ``behavior_as_channels=True`` the four behaviour traces are also broadcast over the image as extra
    video channels (so ``video`` has 5 channels), the winners' choice.

    Parameters
    ----------
    mouse
        A :class:`~course_utils.sensorium.reader.SensoriumMouse`.
    tiers
        Which tiers' trials to use (e.g. ``("train",)``).
    frames_per_clip
        Clip length in frames (30 Hz); ``None`` gives whole trials (one item per trial, variable length).
    random_start
        Draw each clip's start at random within its trial (training); otherwise clips tile the trial.
    behavior_as_channels
        Add the behaviour traces as extra video channels.
    normalize
        Apply the provided statistics.
    seed
        Seed of the random starts.

    Examples
    --------
    >>> clips = SensoriumClips(mouse, ("train",), frames_per_clip=60)   # doctest: +SKIP
    >>> clips[0]["video"].shape                                        # doctest: +SKIP
    torch.Size([1, 60, 36, 64])

    Taught in chapter 09_sensorium_encoding_and_submission.
    """

    def __init__(
        self,
        mouse: SensoriumMouse,
        tiers: Sequence[str] = ("train",),
        frames_per_clip: int | None = 60,
        random_start: bool = False,
        behavior_as_channels: bool = False,
        normalize: bool = True,
        seed: int = 0,
    ) -> None:
        if isinstance(tiers, str):
            tiers = (tiers,)
        self.mouse = mouse
        self.tiers = tuple(tiers)
        self.frames_per_clip = frames_per_clip
        self.random_start = random_start
        self.behavior_as_channels = behavior_as_channels
        self.normalize = normalize
        self.rng = np.random.default_rng(seed)
        trials = mouse.trials(*self.tiers)
        if len(trials) == 0:
            raise ValueError(f"{mouse.name} has no trials in tiers {self.tiers}.")
        lengths = mouse.trial_lengths[trials]
        if frames_per_clip is not None and frames_per_clip > lengths.min():
            raise ValueError(
                f"frames_per_clip={frames_per_clip} is longer than the shortest trial ({lengths.min()} frames) "
                f"of {mouse.name} in {self.tiers}; choose at most {lengths.min()}."
            )
        self.items: list[tuple[int, int]] = []
        for trial, length in zip(trials, lengths, strict=True):
            if frames_per_clip is None or random_start:
                self.items.append((int(trial), 0))
            else:  # tile the trial; the last clip ends at the trial's end
                starts = list(range(0, length - frames_per_clip + 1, frames_per_clip))
                if starts[-1] + frames_per_clip < length:
                    starts.append(int(length - frames_per_clip))
                self.items += [(int(trial), s) for s in starts]
        self._stats = {kind: mouse.statistics(kind) for kind in ("videos", "responses", "behavior", "pupil_center")}
        self._response_precision = response_precision(self._stats["responses"]["std"]).astype(np.float32)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def n_neurons(self) -> int:
        return self.mouse.n_neurons

    @property
    def video_channels(self) -> int:
        return 1 + (N_BEHAVIOR_CHANNELS if self.behavior_as_channels else 0)

    def _normalized(self, kind: str, array: np.ndarray) -> np.ndarray:
        if not self.normalize:
            return array
        stats = self._stats[kind]
        if kind == "videos":
            return (array - float(np.mean(stats["mean"]))) / float(np.mean(stats["std"]))
        if kind == "responses":  # a silent neuron has std 0: its precision is capped instead of inf
            return array * self._response_precision[:, None]
        std = np.asarray(stats["std"], dtype=np.float32)
        mean = np.asarray(stats["mean"], dtype=np.float32)
        return (array - mean[:, None]) / np.maximum(std, 1e-6)[:, None]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        trial, start = self.items[index]
        length = int(self.mouse.trial_lengths[trial])
        if self.frames_per_clip is None:
            start, stop = 0, length
        else:
            if self.random_start:
                start = int(self.rng.integers(0, length - self.frames_per_clip + 1))
            stop = start + self.frames_per_clip
        video = self._normalized("videos", self.mouse.load("videos", trial)[:, :, start:stop])
        behavior = np.concatenate(
            [self._normalized("behavior", self.mouse.load("behavior", trial)[:, start:stop]),
             self._normalized("pupil_center", self.mouse.load("pupil_center", trial)[:, start:stop])]
        )
        responses = self._normalized("responses", self.mouse.load("responses", trial)[:, start:stop])
        if self.mouse.tiers[trial] in TEST_TIERS:
            responses = np.full_like(responses, np.nan)  # withheld: never train or score on the zeros
        video_t = np.transpose(video, (2, 0, 1))[None]  # (1, frames, H, W)
        if self.behavior_as_channels:
            planes = np.broadcast_to(behavior[:, :, None, None], (behavior.shape[0], *video_t.shape[1:]))
            video_t = np.concatenate([video_t, planes])
        return {
            "video": torch.from_numpy(np.ascontiguousarray(video_t, dtype=np.float32)),
            "behavior": torch.from_numpy(np.ascontiguousarray(behavior, dtype=np.float32)),
            "responses": torch.from_numpy(np.ascontiguousarray(responses, dtype=np.float32)),
            "trial": torch.tensor(trial),
            "start": torch.tensor(start),
        }


def collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack items of equal length into a batch."""
    return {key: torch.stack([item[key] for item in items]) for key in items[0]}


class MultiMouseLoader:
    """Batches from several mice, one mouse per batch, interleaved in a seeded random order.

    Each epoch draws a fresh permutation of every mouse's clips, cuts it into batches, and shuffles the
    batches of all mice together (so the shared core sees every mouse throughout the epoch). Under
    DistributedDataParallel, give ``rank`` and ``world_size``: every process builds the same schedule and takes
    its share of each batch, so all processes train the same mouse's readout at each step.

    Examples
    --------
    >>> loader = MultiMouseLoader({"m1": clips1, "m2": clips2}, batch_size=8)   # doctest: +SKIP
    >>> mouse_name, batch = next(iter(loader))                                   # doctest: +SKIP

    Taught in chapter 09_sensorium_encoding_and_submission.
    """

    def __init__(
        self,
        datasets: Mapping[str, SensoriumClips],
        batch_size: int = 8,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size < world_size:
            raise ValueError(f"batch_size={batch_size} must be at least world_size={world_size}.")
        self.datasets = dict(datasets)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0

    def schedule(self) -> list[tuple[str, np.ndarray]]:
        rng = np.random.default_rng(self.seed + self.epoch)
        batches = []
        for name, dataset in self.datasets.items():
            order = rng.permutation(len(dataset)) if self.shuffle else np.arange(len(dataset))
            for s in range(0, len(order), self.batch_size):
                chunk = order[s : s + self.batch_size]
                if len(chunk) >= self.world_size:  # every process needs at least one item
                    batches.append((name, chunk))
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def __len__(self) -> int:
        return len(self.schedule())

    def __iter__(self) -> Iterator[tuple[str, dict[str, torch.Tensor]]]:
        for name, chunk in self.schedule():
            mine = chunk[self.rank :: self.world_size]
            yield name, collate([self.datasets[name][int(i)] for i in mine])
        self.epoch += 1
