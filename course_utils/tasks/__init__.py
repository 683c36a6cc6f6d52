"""NeuroGym and ANNUBeS: cognitive tasks as trial generators, recurrent networks trained on them, and the
same behaviour analysis we apply to animals.

* :mod:`.environment` – installation check, making tasks, trial tables and plots.
* :mod:`.training` – recurrent networks and the supervised training loop on ``ngym.Dataset`` batches.
* :mod:`.evaluation` – fresh-trial accuracy, choices per trial, reaction times (``ReactionTime`` wrapper).
* :mod:`.protocols` – curricula compared across seeds (trials to criterion, final performance).
* :mod:`.custom` – a custom ``TrialEnv`` (change detection), registered as ``ChangeDetection-v0``.

Taught in chapters 06_neurogym_tasks_and_rnns and 07_training_protocols.
"""

from __future__ import annotations

from .environment import fast_mode, make_task, plot_trial, require_neurogym, sample_trials
from .evaluation import decision_accuracy, measure_reaction_times, run_trials
from .protocols import (
    Stage,
    apply_task_settings,
    compare_protocols,
    plot_protocols,
    run_protocol,
    trials_to_criterion,
)
from .training import RecurrentNetwork, TrainingHistory, make_dataset, set_seed, train_network

__all__ = [
    "RecurrentNetwork",
    "Stage",
    "TrainingHistory",
    "ReactionTimeTargets",
    "ChangeDetection",
    "apply_task_settings",
    "compare_protocols",
    "decision_accuracy",
    "fast_mode",
    "make_dataset",
    "make_task",
    "measure_reaction_times",
    "plot_protocols",
    "plot_trial",
    "require_neurogym",
    "run_protocol",
    "run_trials",
    "sample_trials",
    "set_seed",
    "train_network",
    "trials_to_criterion",
]


def __getattr__(name: str):
    # neurogym-dependent classes are built on first use, so importing the package stays light.
    if name == "ReactionTimeTargets":
        from .evaluation import ReactionTimeTargets

        return ReactionTimeTargets
    if name == "ChangeDetection":
        from .custom import ChangeDetection

        return ChangeDetection
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
