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
# # 6. Tasks and trials: training a recurrent network and analysing it like an animal
#
# **Goals:** understand what a NeuroGym task is (periods, observations, ground truth); train a recurrent
# network on the classic random-dots decision task; then analyse the network exactly as we analyse a mouse
# or a monkey: accuracy on fresh trials, a fitted psychometric curve, d' and criterion, reaction times.
# **Time:** ~60 min. **Prerequisites:** chapter 0 (Python, NumPy, a first PyTorch model); chapter 5 (d')
# helps. **Data:** none to download: NeuroGym tasks *generate* trials {cite}`molano2022neurogym`.
#
# Neuroscientists train animals on tasks with a trial structure: fixate, watch a stimulus, respond. NeuroGym
# writes such tasks as environments that generate trials, so the *same* task can be given to an artificial
# network. A network trained this way is a model subject: we can open it up, and we can ask whether it
# behaves like the animals {cite}`song2016training`.

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
# Colab only: NeuroGym 2.3.1 pins old numpy/matplotlib/gymnasium versions. It works with Colab's numpy and
# matplotlib but needs gymnasium < 1, so we install the course's `tasks` extra (gymnasium<1 and neurogym's real
# runtime needs) and then neurogym without its pins. No runtime restart is needed.
if "google.colab" in sys.modules:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "course-utils[tasks] @ git+https://github.com/neural-data-ml/course"],
        check=True,
    )
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "neurogym>=2.3.1,<2.4"], check=True)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import course_utils
from course_utils.behavior.psychometric import fit_psychometric, psychometric_curve
from course_utils.behavior.sdt import sdt_rates
from course_utils.exercises import check_exercise
from course_utils.plotting import use_course_style
from course_utils.tasks import (
    ReactionTimeTargets,
    RecurrentNetwork,
    apply_task_settings,
    fast_mode,
    make_dataset,
    make_task,
    measure_reaction_times,
    plot_trial,
    run_trials,
    sample_trials,
    set_seed,
    train_network,
)

use_course_style()
course_utils.banner("neurogym")
torch.set_num_threads(2)
FAST = fast_mode()  # True in CI: shorter training so the chapter runs in about a minute
print("fast mode:", FAST)

# %% [markdown]
# ## 6.1 A task is a trial generator
#
# `PerceptualDecisionMaking` is the random-dots motion task {cite}`britten1992analysis`: the subject fixates,
# two noisy inputs (evidence for "left" and for "right") are shown for 2 s, and in the decision period it must
# choose the side whose input was stronger on average. The *coherence* (in %) sets how much stronger.
# A task has a time step `dt` (ms), named **periods**, an **observation** space (the inputs) and an
# **action** space (fixate, left, right).

# %%
env = make_task("PerceptualDecisionMaking-v0", dt=100)
print("timing (ms):", env.timing)
print("inputs:", env.observation_space.name, "| actions:", env.action_space.name)
print("coherences (%):", env.cohs)

# %% [markdown]
# Each call to `new_trial()` draws a trial: a side (`ground_truth`, 0 = left, 1 = right) and a coherence.
# A table of 1,000 trials shows what the task asks for.

# %%
trials = sample_trials(env, 1000, seed=0)
trials.groupby("coh").size().rename("n_trials").to_frame().T

# %% [markdown]
# Every trial lasts 2.2 s = 22 steps, and coherences are equally frequent: a fifth of trials have **zero
# coherence**, where no answer can be better than a coin flip. So the best possible accuracy is about
# 0.8 + 0.2 × 0.5 = 0.9.
#
# ## 6.2 Periods, observations, ground truth: one trial
#
# The task stores the current trial as arrays: `env.ob` (time × inputs) and `env.gt` (the correct action
# at each step). The plot shades the periods.

# %%
env.seed(3)
env.new_trial()
plot_trial(env, output_names=["fixate", "left", "right"])
plt.show()

# %% [markdown]
# The fixation input is on until the decision period; the two stimulus inputs fluctuate around 0.5 with a
# small difference; and the correct action is "fixate" at every step except the last one, the decision.
#
# ### Exercise 6.1 — How much of a trial is fixation?
# Using `env.gt` of the trial above, compute `fixation_fraction`: the fraction of time steps at which the
# correct action is "fixate" (action 0).

# %% tags=["solution"]
fixation_fraction = float(np.mean(env.gt == 0))

# %%
check_exercise("6.1", fixation_fraction, env.gt)

# %% [markdown]
# Almost every target is "fixate". A network trained with a plain loss could be right 95 % of the time by
# always fixating and never deciding. `train_network` therefore weighs each action by the inverse of its
# frequency in the batch (`class_weights="balanced"`), so the decision steps count as much as fixation.
#
# ## 6.3 Batches for supervised training
#
# `ngym.Dataset` cuts a continuous stream of trials into batches of shape (time, batch, inputs), the shape
# PyTorch's recurrent layers expect. `make_dataset` seeds it so runs are reproducible.

# %%
dataset = make_dataset(env, batch_size=16, seq_len=100, seed=0)
inputs, targets = dataset()
print("inputs:", inputs.shape, inputs.dtype, "| targets:", targets.shape, targets.dtype)

# %% [markdown]
# ## 6.4 Training an LSTM
#
# A network with 64 LSTM units and a linear read-out of three action scores, trained with Adam
# (learning rate 0.01, annealed to 0 along a cosine so that training ends at a stable point). The full run is
# 2,000 batches (about 30 s on 2 CPU cores and 0.90 accuracy, `benchmarks/bench_tasks.py`); with
# `COURSE_FAST=1` (CI) it is shorter and the network ends a little less accurate.

# %%
n_steps = 700 if FAST else 2000
set_seed(0)
net = RecurrentNetwork(n_inputs=3, n_outputs=3, hidden_size=64, cell="lstm")
history = train_network(net, dataset, n_steps=n_steps, learning_rate=1e-2, lr_schedule="cosine", seed=0)
print(f"{n_steps} steps, {history.trials_seen:,} trials seen, {history.seconds:.0f} s")

# %%
fig, ax = plt.subplots()
ax.plot(pd.Series(history.loss).rolling(25).mean())
ax.set(xlabel="training step (batch)", ylabel="weighted cross-entropy (nats)", title="Training loss")
plt.show()

# %% [markdown]
# The loss falls in two phases: first the network learns *when* to act (fixate, then decide), then *what* to
# decide, which needs integrating the noisy evidence over 2 s.
#
# ## 6.5 Testing on fresh trials
#
# As for an animal, performance is measured on trials the network has never seen (another random seed), from
# a fresh network state each trial. The choice is the action with the highest score at the decision step.

# %%
test = run_trials(net, env, n_trials=1000, seed=12345)
print(f"accuracy on 1,000 fresh trials: {test['correct'].mean():.3f}")
test.groupby("coh")["correct"].mean().round(3).to_frame("accuracy").T

# %% [markdown]
# Near-perfect at every non-zero coherence, at chance at zero. The default coherences are too easy to show a
# graded psychometric curve, so, like an experimenter, we **test** on finer coherences the network never
# trained on.
#
# ## 6.6 The psychometric curve
#
# The signed coherence is positive for "right" trials and negative for "left" ones; the network "chose right"
# when its choice is action 2. A logistic function with lapse rates is fitted by maximum likelihood
# {cite}`wichmann2001psychometric` (`course_utils.behavior.psychometric`, the same code we use for mice).

# %%
probe_env = make_task("PerceptualDecisionMaking-v0", dt=100)
apply_task_settings(probe_env, {"cohs": [0, 1.6, 3.2, 6.4, 12.8, 25.6]})
probe = run_trials(net, probe_env, n_trials=3000, seed=777)
probe["signed_coh"] = np.where(probe["ground_truth"] == 1, 1, -1) * probe["coh"]
probe["chose_right"] = probe["choice"] == 2
fit = fit_psychometric(probe["signed_coh"], probe["chose_right"], kind="logistic")
{k: round(v, 3) for k, v in fit.params.items()}

# %%
levels, p_right, n = psychometric_curve(probe["signed_coh"], probe["chose_right"])
grid = np.linspace(levels.min(), levels.max(), 200)
fig, ax = plt.subplots()
ax.errorbar(levels, p_right, yerr=np.sqrt(p_right * (1 - p_right) / n), fmt="o", label="network (± s.e.)")
ax.plot(grid, fit.predict(grid), label="logistic fit")
ax.set(xlabel="signed coherence (%)  (left < 0 < right)", ylabel="P(chose right)",
       title="Psychometric curve of the trained LSTM")
ax.legend()
plt.show()

# %% [markdown]
# A sigmoid: `bias` (in % coherence) is the point of subjective equality, where the network chooses both
# sides equally often; `slope` (in % coherence) says how much evidence it needs; `guess` and `lapse` are
# errors made whatever the evidence. A monkey's curve in this task has the same shape.
#
# ### Exercise 6.2 — A Weibull fit of accuracy
# For an unsigned strength, psychophysicists fit accuracy with a Weibull function. Using `probe`, fit
# `fit_psychometric(..., kind="weibull")` to **accuracy** (`correct`) against the **unsigned** coherence, and
# store the coherence threshold (the `threshold` parameter, in %) as `weibull_threshold`.

# %% tags=["solution"]
weibull_fit = fit_psychometric(probe["coh"], probe["correct"], kind="weibull")
weibull_threshold = weibull_fit.params["threshold"]

# %%
check_exercise("6.2", weibull_threshold, probe)

# %% [markdown]
# ## 6.7 d' and criterion, as for a mouse
#
# Signal detection theory separates *sensitivity* from *bias*. Take "right" trials as signal and "chose
# right" as the response: the hit rate is P(right | right), the false-alarm rate P(right | left). The same
# `sdt_rates` computes d' and criterion for the Allen mice in chapter 5.

# %%
rows = []
for coh, trials_at_coh in probe.groupby("coh"):
    rates = sdt_rates(trials_at_coh["ground_truth"] == 1, trials_at_coh["chose_right"])
    rows.append({"coh": coh, **{k: rates[k] for k in ("hit_rate", "false_alarm_rate", "dprime", "criterion")}})
sdt_table = pd.DataFrame(rows).round(3)
sdt_table

# %%
fig, ax = plt.subplots()
ax.plot(sdt_table["coh"], sdt_table["dprime"], "o-", label="d'")
ax.plot(sdt_table["coh"], sdt_table["criterion"], "s--", label="criterion c")
ax.set(xlabel="coherence (%)", ylabel="d' and c (s.d. units)", title="Sensitivity grows with coherence; bias stays near 0")
ax.legend()
plt.show()

# %% [markdown]
# At zero coherence d' is about 0 (the network cannot tell left from right); it grows with coherence until the
# rates are clipped at 0.01/0.99 (d' ≈ 4.65). The criterion measures side bias separately from sensitivity:
# c > 0 means that, when unsure, the network says "left" more often (the same bias as the logistic fit's
# `bias` > 0); it fades where the evidence is strong.
#
# ### Exercise 6.3 — d' at one coherence
# From `probe`, compute `dprime_64`: the d' of the network at 6.4 % coherence (right trials as signal, "chose
# right" as response). Use `sdt_rates` — do not write a second d'.

# %% tags=["solution"]
at_64 = probe[probe["coh"] == 6.4]
dprime_64 = sdt_rates(at_64["ground_truth"] == 1, at_64["chose_right"])["dprime"]

# %%
check_exercise("6.3", dprime_64, probe)

# %% [markdown]
# ## 6.8 Reaction times
#
# In the reaction-time version of the task the subject may answer as soon as it is ready, and NeuroGym's
# `ReactionTime` wrapper ends the trial at the first choice. To learn it, the network is trained to report its
# current best guess from the first stimulus step on (`ReactionTimeTargets`; NeuroGym's `ReactionTime`
# rewrites the targets only while stepping, so `ngym.Dataset` batches would keep the fixed-duration targets).
# Its confidence then grows with the evidence seen so far. When it plays the task, it commits as soon as one
# choice's probability reaches a **bound** (0.9 here): a decision-bound model, as in drift-diffusion.
# (`ReactionTime` also reports `info["tr_dur"] = 0` at every trial end, so we time choices ourselves.)

# %%
rt_dataset = make_dataset(ReactionTimeTargets(make_task("PerceptualDecisionMaking-v0")), 16, 100, seed=1)
set_seed(1)
rt_net = RecurrentNetwork(3, 3, hidden_size=32, cell="gru")
rt_history = train_network(rt_net, rt_dataset, n_steps=400 if FAST else 1200, lr_schedule="cosine", seed=1)
rt = measure_reaction_times(rt_net, make_task("PerceptualDecisionMaking-v0"), n_trials=300, bound=0.9, seed=4)
rt.groupby("coh")[["correct", "reaction_time_ms"]].mean().round(2).T

# %%
summary = rt.groupby("coh").agg(rt_ms=("reaction_time_ms", "median"), accuracy=("correct", "mean"))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
ax1.plot(summary.index, summary["rt_ms"], "o-")
ax1.set(xlabel="coherence (%)", ylabel="median reaction time (ms)", title="Chronometric curve")
ax2.plot(summary.index, summary["accuracy"], "o-")
ax2.set(xlabel="coherence (%)", ylabel="accuracy", title="Accuracy in the reaction-time task")
fig.tight_layout()
plt.show()

# %% [markdown]
# Weak evidence takes longer to reach the bound: reaction times fall with coherence, as for monkeys in this
# task. Trials at zero coherence often never reach the bound (no response) before the stimulus ends.
#
# ### Exercise 6.4 — Reaction times of correct trials
# From `rt`, compute `median_rt_correct`: a pandas Series, indexed by coherence, of the median reaction time
# (ms) of **correct** trials only.

# %% tags=["solution"]
median_rt_correct = rt[rt["correct"]].groupby("coh")["reaction_time_ms"].median()

# %%
check_exercise("6.4", median_rt_correct, rt)

# %% [markdown]
# ## Summary
#
# * A NeuroGym task is a trial generator: periods (`env.timing`), observations (`env.ob`), ground truth
#   (`env.gt`); `ngym.Dataset` turns it into supervised batches.
# * The correct action is "fixate" most of the time, so the loss is class-balanced.
# * An LSTM learns the random-dots task to ~0.9 accuracy, the ceiling set by zero-coherence trials.
# * Analysed like an animal: a logistic psychometric curve, d' growing with coherence at zero criterion, and
#   reaction times that shorten with stronger evidence under a decision bound.
#
# ## Further reading
#
# * NeuroGym {cite}`molano2022neurogym`, and the framework for training networks on cognitive tasks
#   {cite}`song2016training`.
# * The random-dots task and its psychometric analysis {cite}`britten1992analysis`; fitting psychometric
#   functions {cite}`wichmann2001psychometric`.
