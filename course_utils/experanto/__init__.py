"""Experanto-style experiment folders: every modality on its own clock, cut into aligned PyTorch chunks.

* :class:`Experiment` – open a folder, read every modality at arbitrary times (interpolation semantics in
  :mod:`course_utils.experanto.interpolators`).
* :class:`ChunkDataset`, :func:`get_multisession_dataloader` – chunked samples for training.
* :func:`convert_sensorium_mouse` – a Sensorium 2023 mouse folder as an experiment folder.
* :func:`experiment_folders` – the experiment folders of the current data mode (demo, or converted
  Sensorium mice in sample/full mode).
* :func:`build_index` – parse the per-trial YAML files once into a cache outside the data folder.
* :mod:`course_utils.experanto.simulate` – the demo experiments.
* :mod:`course_utils.experanto.kernels` – the compiled (numba) kernel that normalises and enlarges screen
  frames in one pass (the NumPy path in :mod:`~course_utils.experanto.transforms` gives the same values).

An own implementation of the upstream project's semantics (https://github.com/sinzlab/experanto), which is not
installable from PyPI. Folders move both ways: the course writes upstream's own layout
(:mod:`~course_utils.experanto.writer`) and reads folders upstream writes. ``ChunkDataset`` gives upstream's
samples except four deliberate fixes, listed in one place: the docstring of
:mod:`course_utils.experanto.dataset`.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

from .convert import SENSORIUM_FRAME_RATE_HZ, convert_sensorium_mouse
from .dataset import (
    DEFAULT_MODALITY_CONFIG,
    ChunkDataset,
    MultiSessionLoader,
    condition_mask,
    get_multisession_dataloader,
)
from .experiment import Experiment, data_key_of
from .folders import experiment_folders, is_experiment_folder
from .index import build_index, index_cache_dir, load_trial_table
from .interpolators import ScreenInterpolator, SequenceInterpolator

__all__ = [
    "DEFAULT_MODALITY_CONFIG",
    "SENSORIUM_FRAME_RATE_HZ",
    "ChunkDataset",
    "Experiment",
    "MultiSessionLoader",
    "ScreenInterpolator",
    "SequenceInterpolator",
    "build_index",
    "condition_mask",
    "convert_sensorium_mouse",
    "data_key_of",
    "experiment_folders",
    "is_experiment_folder",
    "get_multisession_dataloader",
    "index_cache_dir",
    "load_trial_table",
]


# The source interface (course_utils.sources): the one registered opener, under the name every source shares.
# Not in __all__, so `from course_utils.experanto import *` never hides the built-in open.
open = Experiment
