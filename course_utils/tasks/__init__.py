"""NeuroGym and ANNUBeS: cognitive tasks as trial generators, recurrent networks trained on them, and the
same behaviour analysis we apply to animals.

* :mod:`.environment` – installation check, making tasks, trial tables and plots.
* :mod:`.compat` – the small layer that makes NeuroGym work under gymnasium 0.29 and 1.x.
* :mod:`.batches` – supervised batches from a stream of trials (``TrialBatches``, for ``ngym.Dataset``).
* :mod:`.training` – recurrent networks and the supervised training loop.
* :mod:`.evaluation` – fresh-trial accuracy, choices per trial, reaction times (``ReactionTime`` wrapper).
* :mod:`.agents` – agents trained by reward (recurrent PPO, Stable-Baselines3), playing fresh trials.
* :mod:`.protocols` – curricula compared across seeds (trials to criterion, final performance).
* :mod:`.custom` – a custom ``TrialEnv`` (change detection), registered as ``ChangeDetection-v0``.

Taught in chapters 06_neurogym_tasks_and_rnns and 07_training_protocols.
"""

from __future__ import annotations

from .agents import AgentHistory, play_trials, require_sb3, train_agent
from .batches import TrialBatches
from .compat import new_trial, seed_task, trial_source
from .environment import extra_requirements, fast_mode, make_task, plot_trial, require_neurogym, sample_trials
from .evaluation import ProbeTrials, decision_accuracy, measure_reaction_times, run_trials
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
    "AgentHistory",
    "ProbeTrials",
    "RecurrentNetwork",
    "Stage",
    "TrainingHistory",
    "TrialBatches",
    "TrialEpisodes",
    "ReactionTimeTargets",
    "ChangeDetection",
    "apply_task_settings",
    "compare_protocols",
    "decision_accuracy",
    "extra_requirements",
    "fast_mode",
    "make_dataset",
    "make_task",
    "measure_reaction_times",
    "new_trial",
    "play_trials",
    "plot_protocols",
    "plot_trial",
    "require_neurogym",
    "require_sb3",
    "run_protocol",
    "run_trials",
    "sample_trials",
    "seed_task",
    "set_seed",
    "train_agent",
    "train_network",
    "trial_source",
    "trials_to_criterion",
]


# The source interface (course_utils.sources): the one registered opener, under the name every source shares.
# Not in __all__, so `from course_utils.tasks import *` never hides the built-in open.
open = make_task


def __getattr__(name: str):
    # neurogym- and gymnasium-dependent classes are built on first use, so importing the package stays light.
    if name == "ReactionTimeTargets":
        from .evaluation import ReactionTimeTargets

        return ReactionTimeTargets
    if name == "TrialEpisodes":
        from .agents import TrialEpisodes

        return TrialEpisodes
    if name == "ChangeDetection":
        from .custom import ChangeDetection

        return ChangeDetection
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
