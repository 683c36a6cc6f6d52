# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version,-jupytext.formats
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7. Training protocols compared, and writing your own task
#
# **Goals:** compare training protocols (curricula) the way an animal trainer would — trials to criterion and
# final performance, across several subjects — using networks as subjects; express ANNUBeS-style schedules
# (modalities, catch trials) as protocol stages; write a task of your own as a NeuroGym `TrialEnv`, train a
# network on it and analyse it with d'; combine tasks and pass the trial history with NeuroGym's wrappers.
# **Time:** ~70 min. **Prerequisites:** chapter 6. **Data:** none to
# download: tasks generate trials {cite}`molano2022neurogym`.
#
# **Builds on:** the tasks (`make_task`), `train_network` and the animal-style analysis of a trained network of
# {doc}`chapter 6 <06_neurogym_tasks_and_rnns>`; here the question is how the order and mix of training trials
# change learning.
#
# Training a mouse on a task takes weeks, and labs shape behaviour in stages: easy stimuli first, few catch
# trials at first, one sensory modality before two. Which schedule is fastest is rarely tested, because each
# comparison costs many animals. ANNUBeS {cite}`annubes` proposes to ask the question in silico first: train
# artificial networks under each protocol and compare. Curricula are an old idea in machine learning too
# {cite}`bengio2009curriculum`.
#
# ```{admonition} Demo vs real
# :class: tip
# **What the tasks build in**: no recorded data are used. The tasks generate trials from fixed distributions,
# the "subjects" are small recurrent networks trained by gradient descent, and the same seed gives the same
# network under every protocol. Whether a {term}`curriculum <Curriculum>` helps *these networks* on *these tasks* is what this
# chapter can measure; it is a hypothesis generator for animal training (the ANNUBeS idea), not evidence about
# mice.
#
# **What real training looks like**: a mouse of the Allen Visual Behavior project (chapters 2 and 5) needs
# weeks of daily sessions and thousands of trials per stage to reach its hand-off criterion; each protocol
# comparison costs many animals, which is exactly why so few are run, and why they need enough subjects per
# group to separate protocols (section 7.2 shows how few two or four are).
# ```

# %% tags=["setup"]
# Colab: install the course package once per runtime, from a prebuilt wheel (seconds). Packages Colab
# already has (numpy, pandas, torch, ...) stay as they are: no restart. Elsewhere: nothing to do.
import subprocess
import sys

if "google.colab" in sys.modules:
    wheel = "https://neural-data-ml.github.io/course/wheels/course_utils-0.1.0-py3-none-any.whl"
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    if subprocess.run([*pip, f"course-utils[tasks] @ {wheel}"]).returncode != 0:
        print("No prebuilt wheel for this version: building the package from GitHub (a minute or two).")
        subprocess.run([*pip, "course-utils[tasks] @ git+https://github.com/neural-data-ml/course"], check=True)

# %%
# Colab only: NeuroGym itself, without its release pins (numpy==2.2.*, matplotlib==3.10.*, gymnasium==0.29.*),
# which it does not need. The setup cell above installed `course-utils[tasks]`: gymnasium (Colab's 1.x is kept),
# Stable-Baselines3 and sb3-contrib (section 6.9) and what NeuroGym needs at run time. No restart.
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "neurogym>=2.3.1,<2.4"], check=True)

# %%
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from neurogym.utils.scheduler import RandomSchedule, SequentialBlockSchedule
from neurogym.wrappers import PassAction, PassReward, ScheduleEnvs

import course_utils
from course_utils.behavior.sdt import sdt_rates
from course_utils.exercises import check_exercise
from course_utils.plotting import use_course_style
from course_utils.tasks import (
    ChangeDetection,
    RecurrentNetwork,
    Stage,
    compare_protocols,
    fast_mode,
    make_dataset,
    make_task,
    new_trial,
    plot_protocols,
    plot_trial,
    run_trials,
    sample_trials,
    seed_task,
    set_seed,
    train_network,
    trials_to_criterion,
)

use_course_style()
course_utils.banner("neurogym")
# One thread: these networks are small, so sharing their matrix products between threads costs more than
# it saves (on a busy 2-core machine, training ran 3-10 times slower with two threads).
torch.set_num_threads(1)
FAST = fast_mode()  # True in CI: fewer seeds and steps so the chapter runs in about a minute
print("fast mode:", FAST)

# %% [markdown]
# ## 7.1 Two protocols for the random-dots task
#
# The subject is always the same kind of network (a GRU), started from the same initial weights for a given
# seed, so that the protocols are the only difference. Two protocols with the same total training:
#
# * **all at once** – every {term}`coherence <Coherence>` from the first trial;
# * **easy first** – only the two strongest coherences (25.6 % and 51.2 %) for the first third of training,
#   then all of them.
#
# Progress is measured throughout on the same 300 probe trials of the *full* task, as a trainer would test
# every animal on the final task, every 10 training steps. The networks cross the criterion within the first
# 50 steps or so, so the budget goes into subjects rather than into long plateaus: the full run trains 8 seeds
# x 2 protocols for 450 steps each (3,600 steps per protocol, as 4 seeds x 900 did before), fast mode (CI) 4
# seeds for 120 steps (480 steps per protocol). The time this run took is printed under the cell: it is the
# longest cell of the chapter.

# %%
task = make_task("PerceptualDecisionMaking-v0", dt=100)
n_total = 120 if FAST else 450
protocols = {
    "all at once": [Stage("all", n_total)],
    "easy first": [Stage("easy", n_total // 3, {"cohs": [25.6, 51.2]}), Stage("all", n_total - n_total // 3)],
}
seeds = list(range(4 if FAST else 8))
started = time.perf_counter()
curves = compare_protocols(task, protocols, seeds=seeds, hidden_size=32, cell="gru", eval_every=10)
print(f"{len(protocols)} protocols x {len(seeds)} seeds x {n_total} steps in {time.perf_counter() - started:.0f} s")
curves.tail(3)

# %% [markdown]
# ## 7.2 A trainer's view: learning curves and trials to criterion
#
# Each thin line is one network (one "animal"), each thick line the protocol's mean; the criterion is 80 %
# correct on the full task (the ceiling is ~90 % because of zero-coherence trials).

# %%
criterion = 0.8
plot_protocols(curves, criterion=criterion)
plt.show()

# %% [markdown]
# The probes come every 10 training steps (about 700 trials), so "the first probe above 80 %" would round every
# subject up to a probe time. `trials_to_criterion(..., interpolate=True)` finds the crossing between the last probe below the
# criterion and the first above it, by linear interpolation; the `probe_interval` column is the resolution it
# improves on (trials between those two probes), and its error is that of a straight line between two noisy
# probes of 300 trials each.

# %%
summary = trials_to_criterion(curves, criterion=criterion, interpolate=True)
print(f"probe interval around the crossing: median {summary['probe_interval'].median():,.0f} trials")
summary.round(3)

# %% [markdown]
# Read the right panel as you would for mice: each dot is a subject's number of trials to reach criterion.
# Look also at the left panel during the easy stage: performance on the *full* task can rise while the
# network has never seen a hard trial. Then the question a trainer asks: is one protocol faster?

# %%
spread = summary.groupby("protocol")["trials_to_criterion"].agg(["count", "mean", "std", "min", "max"])
difference = spread["mean"].max() - spread["mean"].min()
pooled_sd = float(np.sqrt((spread["std"] ** 2).mean()))
# subjects per group for a two-sided test at 5 % with 80 % power, if this difference and spread were the truth
needed = 2 * (1.96 + 0.84) ** 2 * (pooled_sd / difference) ** 2 if difference > 0 else np.inf
print(spread.round(0))
print(f"difference between the protocols' means: {difference:,.0f} trials; spread within a protocol: "
      f"s.d. {pooled_sd:,.0f} trials; seeds per protocol to tell them apart: about {needed:,.0f} (we ran {len(seeds)})")

# %% [markdown]
# Say it plainly: **with 4 seeds per protocol (fast mode) or 8 (the full run) this comparison does not tell
# which protocol is faster.** A handful of subjects per group gives a spread that is itself a guess, and the
# printed number of seeds needed rests on those same few values, so it is a rough order of magnitude that can
# come out small by luck; one run, without a test planned in advance, is no basis for a training
# recommendation. This is the animal trainer's problem exactly, but here subjects are cheap: pass more
# `seeds` (each costs one more training per protocol: the time printed in 7.1 divided by the number of runs)
# and fewer steps per seed if the budget is fixed, as this chapter does.
#
# ### Exercise 7.1 — Summarise the protocols
# From `summary`, compute `protocol_table`: a DataFrame indexed by protocol with the columns
# `mean_trials_to_criterion` (mean over seeds that reached criterion), `n_reached` (number of seeds that
# reached it) and `mean_final_accuracy`. Which protocol would you call faster, from this table alone?

# %% tags=["solution"]
protocol_table = summary.groupby("protocol").agg(
    mean_trials_to_criterion=("trials_to_criterion", "mean"),
    n_reached=("trials_to_criterion", "count"),
    mean_final_accuracy=("final_accuracy", "mean"),
)
# Answer: neither, from this table alone. The means differ, but with 4-8 seeds per protocol the difference
# cannot be told from the spread between seeds (7.2); many more seeds would be needed to call one faster.

# %%
check_exercise("7.1", protocol_table, summary)

# %% [markdown]
# ## 7.3 ANNUBeS schedules: modalities and catch trials
#
# The ANNUBeS task is a detection task with several sensory modalities: a trial presents a visual (`v`), an
# auditory (`a`) or an audio-visual stimulus — or nothing, a **catch** trial — and the subject must respond
# only when something was presented. The `annubes` package (0.1.1) generates such trials as arrays
# (`Task(...).generate_trials(...)`); NeuroGym ships the same task as `AnnubesEnv`, with the session mix,
# catch probability, intensities, timing and noise, and adds what we need here: a NeuroGym task that
# `ngym.Dataset` and our training loop accept.
#
# ```{admonition} For maintainers: annubes and AnnubesEnv differ
# :class: dropdown
# `annubes` additionally offers blocked, unshuffled trial order and input scaling; `AnnubesEnv` (neurogym
# 2.3.1) ignores its `max_sequential` argument when given as a dictionary.
# ```

# %%
annubes = make_task("AnnubesEnv-v0", session={"v": 0.5, "a": 0.5}, catch_prob=0.3, random_seed=0)
print("inputs:", annubes.observation_space.name)
annubes.new_trial()
plot_trial(annubes, output_names=["no response", "respond"])
plt.show()

# %%
sample_trials(annubes, 500)[["catch", "stim_types"]].astype(str).value_counts().rename("n_trials").to_frame()

# %% [markdown]
# A modality schedule or a catch-trial schedule is a protocol like those of 7.1: each `Stage` sets
# `session` (the modality mix; give probability 0 to switch a modality off) or `catch_prob`. For example,
# visual trials only first, then both modalities:

# %%
modality_protocol = [
    Stage("visual only", 300, {"session": {"v": 1, "a": 0}}),
    Stage("both", 600, {"session": {"v": 0.5, "a": 0.5}}),
]
modality_protocol

# %% [markdown]
# `compare_protocols(annubes, {...}, decision_period="stimulus")` runs such protocols as in 7.1, probing on the
# full task; `AnnubesEnv` has no decision period, so the probe reads the answer at the end of the stimulus.
#
# ### Exercise 7.2 — A catch-trial schedule, trained
# Write `catch_protocol`: a list of `Stage`s for `AnnubesEnv` that trains for `n_catch_steps` steps in total
# (90, or 12 in fast mode: the network learns this task within a few dozen batches), starts with **no** catch
# trials, raises the catch probability in at least two steps, and ends at the full task's value of 0.3. Then train it, with one seed, against the full
# task from the first step (`compare_protocols(annubes, {"catch schedule": catch_protocol, "full task
# throughout": [Stage("full task", n_catch_steps)]}, seeds=[0], hidden_size=32, cell="gru", eval_every=...,
# decision_period="stimulus")`)
# and compare the two with `trials_to_criterion(..., interpolate=True)`. Did starting without catch trials
# help?

# %%
n_catch_steps = 12 if FAST else 90

# %% tags=["solution"]
third = n_catch_steps // 3
catch_protocol = [
    Stage("no catch", third, {"catch_prob": 0.0}),
    Stage("some catch", third, {"catch_prob": 0.15}),
    Stage("full task", n_catch_steps - 2 * third, {"catch_prob": 0.3}),
]
catch_curves = compare_protocols(
    annubes, {"catch schedule": catch_protocol, "full task throughout": [Stage("full task", n_catch_steps)]},
    seeds=[0], hidden_size=32, cell="gru", eval_every=max(n_catch_steps // 6, 1), decision_period="stimulus",
)
catch_summary = trials_to_criterion(catch_curves, criterion=criterion, interpolate=True)
print(catch_summary.round(3).to_string(index=False))
# Answer: one seed per protocol is an anecdote (7.2): whichever reached the criterion first (if either did in
# the short fast-mode run: NaN means never), the difference says nothing about the protocols until many seeds
# agree. Look at the curves for the schedule's cost: while catch trials are rare, answering "respond" on every
# trial costs little in training, but on the full task's probe (30 % catch trials) it scores at most 0.7.

# %%
check_exercise("7.2", catch_protocol, n_catch_steps)

# %% [markdown]
# ## 7.4 Writing your own task: change detection
#
# The Allen Visual Behavior mice (chapters 2 and 5) do a *change detection* task: images flash, and when the
# image changes the mouse must lick within a short window; on catch trials nothing changes. The NeuroGym
# recipe for a task is a `TrialEnv` subclass that:
#
# 1. declares `timing` (period durations, fixed or random), `observation_space` and `action_space`;
# 2. in `_new_trial`, draws the trial's variables, calls `add_period`, `add_ob` (what the subject sees in each
#    period) and `set_groundtruth` (the correct action in each period), and returns the trial's dictionary;
# 3. in `_step`, scores an action and says when the trial ends.
#
# ```{admonition} For maintainers: NeuroGym's README template is out of date
# :class: dropdown
# NeuroGym's README template still shows the old names `ngym.PeriodEnv` and `new_trial`; in neurogym 2.3.1 the
# base class is `neurogym.core.TrialEnv` and you implement `_new_trial`.
# ```
#
# Here is the whole task:

# %%
print(inspect.getsource(ChangeDetection.__init__))
print(inspect.getsource(ChangeDetection._new_trial))
print(inspect.getsource(ChangeDetection._step))

# %% [markdown]
# It is registered as `ChangeDetection-v0`, so it is made and trained like a built-in task.

# %%
change_task = make_task("ChangeDetection-v0", n_images=8, catch_prob=0.25)
change_task.seed(2)
change_task.new_trial()
plot_trial(change_task, output_names=["withhold", "lick"])
plt.show()

# %% [markdown]
# The baseline has a random duration (the change time is unpredictable), and the correct action is to lick
# during the response window only on change trials. A small GRU learns it quickly:

# %%
set_seed(0)
change_net = RecurrentNetwork(n_inputs=8, n_outputs=2, hidden_size=32, cell="gru")
train_network(change_net, make_dataset(change_task, 16, 100, seed=0), n_steps=250 if FAST else 600, seed=0)
change_trials = run_trials(change_net, change_task, n_trials=1000, seed=99)
change_trials["licked"] = change_trials["choice"] == 1
change_trials.groupby("change")["licked"].mean().rename("P(lick)").to_frame().T

# %% [markdown]
# ### Exercise 7.3 — The network's d', as for a mouse
# From `change_trials`, compute `network_dprime`: d' with change trials as signal and licking as the
# response (use `sdt_rates`).

# %% tags=["solution"]
network_dprime = sdt_rates(change_trials["change"], change_trials["licked"])["dprime"]

# %%
check_exercise("7.3", network_dprime, change_trials)

# %%
network_sdt = sdt_rates(change_trials["change"], change_trials["licked"])
print(f"the network: hit rate {network_sdt['hit_rate']:.2f}, false-alarm rate {network_sdt['false_alarm_rate']:.2f}, "
      f"d' = {network_sdt['dprime']:.2f}, criterion {network_sdt['criterion']:.2f}")

# %% tags=["remove-cell"]
# Guards the text below: the network's d' is above the hand-off criterion the mice of chapter 5 must reach.
assert network_sdt["dprime"] > 1, network_sdt

# %% [markdown]
# Compare with the mice of chapter 5, whose hand-off criterion is d' > 1: the network (printed above) clears it
# after a few hundred batches. Unlike a mouse, its only noise is the observation noise we put into the task
# (`sigma`), and it never tires or gets sated. Train longer (try `n_steps=1500`) and see whether its d' still
# grows; making `sigma` larger, or adding flashes and omissions, brings the task closer to the real one — and
# then the protocol comparisons of 7.1 can be asked of the change detection task too.

# %% [markdown]
# ## 7.5 Wrappers: several tasks, and the history of the session
#
# NeuroGym builds variants of a task by *wrapping* it rather than by writing a new class. Two kinds of wrapper
# matter here:
#
# * **trial wrappers** change which trials are drawn: `ScheduleEnvs` plays several tasks, switching between
#   them by a schedule (random, sequential, in blocks), as in multi-task training {cite}`yang2019task`;
#   `ScheduleAttr` schedules a task's parameters; `SideBias` biases the correct side in blocks of trials;
# * **step wrappers** change what the subject sees while it acts: `PassReward` and `PassAction` append the
#   previous reward and the previous action to the inputs. That is what an animal knows about its last
#   trial, and what a recurrent agent needs to adapt from feedback alone, for example to a block of trials
#   that favours one side or to a switch of task {cite}`wang2018prefrontal`.
#
# Two tasks with the same inputs and actions can be combined: `PerceptualDecisionMaking` and
# `DelayMatchSample` (is the test stimulus the same as the sample seen a second earlier?) both have a fixation
# input, two stimulus inputs and three actions. With `env_input=True`, two more inputs say which task is on.

# %%
two_tasks = ScheduleEnvs(
    [make_task("PerceptualDecisionMaking-v0"), make_task("DelayMatchSample-v0")],
    RandomSchedule(2),
    env_input=True,
)
print("inputs:", two_tasks.observation_space.shape, "| actions:", two_tasks.action_space.n)
seed_task(two_tasks, 0)
fig, axes = plt.subplots(2, 2, figsize=(11, 4.6), sharex="col", height_ratios=[2, 1])
for column in range(2):
    trial = new_trial(two_tasks)  # the schedule picks the task of each new trial
    plot_trial(two_tasks, ax=axes[:, column], output_names=["fixate", "1", "2"])
fig.tight_layout()
plt.show()

# %% [markdown]
# The last two inputs (`input 3`, `input 4`) are the task's identity, one-hot. Trial wrappers work everywhere a
# task does in the course: `make_dataset(two_tasks, ...)` gives supervised batches that mix both tasks, which
# `train_network` takes like any others.
#
# Step wrappers act only while a subject acts: after each `step`, `PassReward` and `PassAction` add the reward
# just received and the action just taken to the next observation. Below, an oracle subject fixates through a
# trial and gives the correct answer in the decision period: the next observation, the first of a new trial
# (fixation input on), ends with that answer's reward (+1) and action. Supervised batches cannot contain these
# inputs (no one acts), so they are for agents trained by reward (chapter 6, 6.9).

# %%
history_task = PassAction(PassReward(make_task("PerceptualDecisionMaking-v0")))
seed_task(history_task, 0)  # NeuroGym's reset(seed=...) does not seed its trials: seed_task does
history_task.reset()
task = history_task.unwrapped
for _ in range(22):  # fixate until the decision period, then give the correct answer (read from task.gt)
    t, period = task.t_ind, "decision" if task.in_period("decision") else "stimulus"
    action = int(task.gt[t])
    ob, reward, *_ = history_task.step(action)
    if t >= 19:
        print(f"step {t:2d} ({period}): action {action}, reward {reward:+.1f} -> next inputs {np.round(ob, 2)}")

# %% [markdown]
# ```{admonition} For maintainers: defects in neurogym 2.3.1
# :class: dropdown
# `ScheduleEnvs.reset()` returns a first observation *without* the inputs that `PassReward`/`PassAction` add on
# top of it, because it resets the current task without their step function; every observation from `step()`
# has them. `RandomSchedule` with two tasks never repeats a task, so it alternates strictly; use a block
# schedule for runs of the same task.
# ```
#
# ### Exercise 7.4 — Two tasks in blocks, with the trial history as input
# Build `two_task_env`: `PerceptualDecisionMaking-v0` and `DelayMatchSample-v0` (made with `make_task`), played
# in alternating blocks of 20 trials (`ScheduleEnvs` with `SequentialBlockSchedule(2, block_lens=[20, 20])`
# and `env_input=True`), wrapped first in `PassReward`, then in `PassAction`, so that an agent sees which task
# is on, its previous reward and its previous action.

# %% tags=["solution"]
two_task_env = PassAction(
    PassReward(
        ScheduleEnvs(
            [make_task("PerceptualDecisionMaking-v0"), make_task("DelayMatchSample-v0")],
            SequentialBlockSchedule(2, block_lens=[20, 20]),
            env_input=True,
        )
    )
)

# %%
check_exercise("7.4", two_task_env)

# %% [markdown]
# An agent with memory across trials could now learn when the task switches from its inputs, or from its
# rewards alone without the task input: train it the NeuroGym way, `RecurrentPPO("MlpLstmPolicy", env)` on the
# wrapped task as one long episode, and compare its accuracy on the first trials of each block with the last.
#
# ## Summary
#
# * A training protocol is a list of stages that change task parameters; comparing protocols needs several
#   subjects per protocol, a fixed probe of the full task, trials to criterion and final performance.
# * ANNUBeS-style modality and catch-trial schedules are stages of `AnnubesEnv`, NeuroGym's version of the
#   ANNUBeS task.
# * A new task is a `TrialEnv` subclass (periods, observations, ground truth, scoring), registered with
#   `ngym.register` and then trained and analysed exactly like the built-in ones.
# * Wrappers build variants: trial wrappers (`ScheduleEnvs`, `ScheduleAttr`, `SideBias`) change which trials
#   are drawn and work with supervised batches; step wrappers (`PassReward`, `PassAction`) add the previous
#   reward and action to the inputs of an agent that acts.
#
# ## Further reading
#
# * ANNUBeS {cite}`annubes`; NeuroGym {cite}`molano2022neurogym`.
# * Curriculum learning in machine learning {cite}`bengio2009curriculum`.
# * Many tasks in one network {cite}`yang2019task`; the previous reward and action as inputs, and what a
#   recurrent network learns from them {cite}`wang2018prefrontal`.
#
# ## Next
#
# {doc}`Chapter 8 <08_decoding_baselines>` opens Part III and goes back from model subjects to recorded neurons:
# it decodes hand velocity from the NeuroTask data of {doc}`chapter 1 <01_neurotask_loading>`, and the care
# taken here over seeds and fair comparisons carries over to comparing decoders.
