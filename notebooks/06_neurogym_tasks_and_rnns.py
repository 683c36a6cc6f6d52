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
# or a monkey: accuracy on fresh trials, a fitted {term}`psychometric curve <Psychometric curve>`, d' and criterion, reaction times;
# finally train an agent by reward alone, as an animal learns, and compare what it learned.
# **Time:** ~75 min. **Prerequisites:** chapter 0 (Python, NumPy, a first PyTorch model); chapter 5 (d')
# helps. **Data:** none to download: NeuroGym tasks *generate* trials {cite}`molano2022neurogym`.
#
# **Builds on:** the hit and false-alarm rates, d' and criterion of
# {doc}`chapter 5 <05_allen_behavior_analysis>`, which this chapter applies to a network instead of a mouse.
#
# Neuroscientists train animals on tasks with a trial structure: fixate, watch a stimulus, respond. NeuroGym
# writes such tasks as environments that generate trials, so the *same* task can be given to an artificial
# network. A network trained this way is a model subject: we can open it up, and we can ask whether it
# behaves like the animals {cite}`song2016training`.
#
# ```{admonition} Demo vs real
# :class: tip
# **What the task builds in**: there is no recorded data here. `PerceptualDecisionMaking` draws evidence as
# Gaussian noise around two means for exactly 2 s, in steps of `dt` = 100 ms, and its ground truth is perfect:
# the best possible accuracy (~0.9) follows from 20 % zero-coherence trials. The networks' psychometric and
# chronometric curves, d' and criterion are properties of that task and of our training recipe (recovering a
# sigmoid checks the analysis code); a network is a *model* subject, not evidence about monkeys.
#
# **What the real experiment looks like** {cite}`britten1992analysis`: monkeys view random-dot motion for up
# to 2 s with {term}`coherences <Coherence>` from 0 to ~50 %, are trained for months, reach thresholds of a few % coherence, and
# their reaction times and lapses vary from session to session in ways this task does not model (no
# fatigue, no motivation, no eye movements, a 100 ms clock).
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
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import course_utils
from course_utils.behavior.psychometric import fit_psychometric, psychometric_curve
from course_utils.behavior.sdt import sdt_by_level, sdt_rates
from course_utils.exercises import check_exercise
from course_utils.plotting import use_course_style
from course_utils.tasks import (
    ProbeTrials,
    ReactionTimeTargets,
    RecurrentNetwork,
    apply_task_settings,
    fast_mode,
    make_dataset,
    make_task,
    measure_reaction_times,
    play_trials,
    plot_trial,
    run_trials,
    sample_trials,
    set_seed,
    train_agent,
    train_network,
)

use_course_style()
course_utils.banner("neurogym")
# One thread: these networks are small, so sharing their matrix products between threads costs more than
# it saves (on a busy 2-core machine, training ran 3-10 times slower with two threads).
torch.set_num_threads(1)
FAST = fast_mode()  # True in CI: shorter trainings so the chapter runs in a few minutes
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

# %% tags=["remove-cell"]
# Guards the text below: fixation input on only in the fixation period; stimulus inputs only in the stimulus
# period, around 0.5; every input off in the decision period; the target is "fixate" except at the decision.
periods = {name: slice(env.start_ind[name], env.end_ind[name]) for name in env.start_ind}
fixation_on = env.ob[:, 0] > 0.5
assert fixation_on[periods["fixation"]].all() and fixation_on.sum() == periods["fixation"].stop, env.ob[:, 0]
assert np.allclose(env.ob[periods["decision"]], 0) and abs(env.ob[periods["stimulus"], 1:].mean() - 0.5) < 0.2
assert (env.gt[periods["decision"]] != 0).all() and (env.gt[: periods["decision"].start] == 0).all()

# %% [markdown]
# The fixation input is on during the fixation period only (the first 100 ms), not through the stimulus: in
# this version of the task nothing in the inputs says "keep fixating" while the evidence plays, only the
# targets do. The two stimulus inputs fluctuate around 0.5 with a small difference; in the decision period
# every input is off, which is the cue to answer; and the correct action is "fixate" at every step except the
# last one, the decision.
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
# Supervised training needs batches of shape (time, batch, inputs), the shape PyTorch's recurrent layers
# expect: each batch column plays trials back to back, and a batch is the next 100 time steps of every column.
# NeuroGym's `ngym.Dataset` does this, but it reaches the task through gymnasium wrappers in a way that
# gymnasium 1.0 (Colab's version) removed, so `make_dataset` returns the course's `TrialBatches`, which does
# the same from the task itself (`course_utils.tasks.compat`) under gymnasium 0.29 and 1.x, seeded so that
# runs are reproducible.

# %%
dataset = make_dataset(env, batch_size=16, seq_len=100, seed=0)
inputs, targets = dataset()
print("inputs:", inputs.shape, inputs.dtype, "| targets:", targets.shape, targets.dtype)

# %% [markdown]
# ## 6.4 Training an LSTM
#
# A network with 64 LSTM units and a linear read-out of three action scores, trained with Adam
# (learning rate 0.01, annealed to 0 along a cosine so that training ends at a stable point). The full run is
# 2,000 batches (`benchmarks/bench_tasks.py` times it: 0.89-0.91 accuracy); with `COURSE_FAST=1` (CI) it is
# 500 batches, which on this task is already enough to get close to the ~0.9 ceiling: the accuracy this run
# reached is printed in 6.5, its training time under the next cell.

# %%
n_steps = 500 if FAST else 2000
set_seed(0)
net = RecurrentNetwork(n_inputs=3, n_outputs=3, hidden_size=64, cell="lstm")
# every 10 steps, accuracy on the same 300 fresh trials, drawn once (ProbeTrials: decision_accuracy without
# drawing them anew at every probe): a learning curve, for section 6.9
learning_probe = ProbeTrials(make_task("PerceptualDecisionMaking-v0", dt=100), 300, seed=10_000)
history = train_network(
    net, dataset, n_steps=n_steps, learning_rate=1e-2, lr_schedule="cosine", seed=0,
    callback=lambda step, hist: {"accuracy": learning_probe.accuracy(net)}, callback_every=10,
)
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

# %% tags=["remove-cell"]
# Guards the text below and in 6.4: close to the ~0.9 ceiling, near-perfect at every non-zero coherence, near
# chance at zero.
by_coh = test.groupby("coh")["correct"].mean()
assert test["correct"].mean() > 0.85, test["correct"].mean()
assert (by_coh.drop(0.0) > 0.9).all() and abs(by_coh[0.0] - 0.5) < 0.1, by_coh

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
# `sdt_rates` computes d' and criterion for the Allen mice in chapter 5; `sdt_by_level` applies it at each
# coherence.

# %%
sdt_table = sdt_by_level(probe["coh"], probe["ground_truth"] == 1, probe["chose_right"]).rename_axis("coh")
sdt_table = sdt_table[["hit_rate", "false_alarm_rate", "dprime", "criterion"]].round(3).reset_index()
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
#
# ```{admonition} For maintainers: a NeuroGym defect
# :class: dropdown
# NeuroGym 2.3.1's `ReactionTime` reports `info["tr_dur"] = 0` at every trial end (it resets the counter before
# writing it), so `measure_reaction_times` times choices from the task's own step counter.
# ```

# %%
rt_dataset = make_dataset(ReactionTimeTargets(make_task("PerceptualDecisionMaking-v0")), 16, 100, seed=1)
set_seed(1)
rt_net = RecurrentNetwork(3, 3, hidden_size=32, cell="gru")
rt_history = train_network(rt_net, rt_dataset, n_steps=300 if FAST else 1200, lr_schedule="cosine", seed=1)
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

# %%
no_response = rt.assign(responded=rt["choice"] != 0).groupby("coh")["responded"].mean().rename("P(responded)")
answered = rt[rt["choice"] != 0].groupby("coh")["correct"].mean().rename("accuracy of answered trials")
pd.concat([no_response, answered], axis=1).round(2).T

# %% tags=["remove-cell"]
# Guards the text below: reaction times are whole steps of dt = 100 ms; at zero coherence many trials get no
# answer, which the accuracy above counts as errors, while answered trials are near chance.
times = rt["reaction_time_ms"].dropna()
assert np.allclose(times % 100, 0), times.unique()
assert no_response[0.0] < no_response.drop(0.0).min(), no_response
assert abs(answered[0.0] - 0.5) < 0.2, answered

# %% [markdown]
# Weak evidence takes longer to reach the bound: reaction times fall with coherence, as for monkeys in this
# task. Two things in these numbers come from the task, not from the network:
#
# * **Reaction times are multiples of 100 ms.** The task advances in steps of `dt` = 100 ms and the network
#   can commit only at a step, so every reaction time is a whole number of steps and the medians jump in
#   100 ms steps. A finer clock (`make_task(..., dt=20)`) gives finer reaction times, for five times more
#   steps per trial.
# * **Accuracy at 0 % is far below chance.** With no net evidence the network's confidence rarely reaches the
#   bound before the stimulus ends, and a trial without an answer counts as an error; the table just above
#   separates the two: the share of trials answered, lowest at 0 %, and the accuracy of the answered trials,
#   near chance (0.5) at 0 %, as it should be.
#
# ### Exercise 6.4 — Reaction times of correct trials
# From `rt`, compute `median_rt_correct`: a pandas Series, indexed by coherence, of the median reaction time
# (ms) of **correct** trials only.

# %% tags=["solution"]
median_rt_correct = rt[rt["correct"]].groupby("coh")["reaction_time_ms"].median()

# %%
check_exercise("6.4", median_rt_correct, rt)

# %% [markdown]
# ## 6.9 Learning from reward instead of labels
#
# The LSTM above was *told* the correct action at every time step. A monkey is not: it chooses, and a correct
# choice earns a drop of juice. Reinforcement learning trains an agent the same way, from the task's own
# rewards {cite}`song2017reward`. Here they are +1 for a correct choice in the decision period, 0 for a wrong
# one, and -0.1 for not fixating during the first 100 ms; nothing else, so nothing tells the agent what to do
# during the stimulus.
#
# `train_agent` trains a recurrent agent with recurrent PPO {cite}`schulman2017proximal` from sb3-contrib,
# the companion of Stable-Baselines3 {cite}`raffin2021stable`. An LSTM of 64 units reads the observations; one
# read-out gives the probabilities of the three actions (the *policy*), another the reward it expects (the
# *value*). Each trial is one episode, so the agent's memory starts afresh at every trial, as the supervised
# network's does when we test it; 16 copies of the task are played in parallel; and every 250 trials the agent
# plays the same 300 fresh trials, for a learning curve. Its budget is counted as an animal's would be, in
# trials of experience: 2,500 in fast mode, 6,000 in the full run (`benchmarks/bench_rl.py` times it).

# %%
print("rewards:", env.rewards)
n_agent_trials = 2500 if FAST else 6000
agent, agent_history = train_agent(env, n_trials=n_agent_trials, seed=0, eval_every=250)
print(
    f"{agent_history.trials:,} trials ({agent_history.steps:,} time steps, "
    f"{agent_history.gradient_steps:,} gradient steps) in {agent_history.seconds:.0f} s"
)

# %% [markdown]
# ### Tested like the network and the mice
#
# `play_trials` lets the agent play fresh trials as it trained, one action per time step; its choice is its
# first non-fixation action in the decision period (0 if it never answers). It returns the same table as
# `run_trials`, so the same analysis applies: accuracy on 1,000 fresh trials, then the psychometric curve and
# d' on the finer test coherences of 6.6.

# %%
agent_test = play_trials(agent, env, n_trials=1000, seed=12345)
print(f"reward-trained agent: accuracy on 1,000 fresh trials {agent_test['correct'].mean():.3f}")
accuracy_by_coh = pd.DataFrame(
    {
        "supervised LSTM": test.groupby("coh")["correct"].mean(),
        "reward-trained agent": agent_test.groupby("coh")["correct"].mean(),
    }
)
accuracy_by_coh.round(3).T

# %%
agent_probe = play_trials(agent, probe_env, n_trials=3000, seed=777)
agent_probe["signed_coh"] = np.where(agent_probe["ground_truth"] == 1, 1, -1) * agent_probe["coh"]
agent_probe["chose_right"] = agent_probe["choice"] == 2
agent_fit = fit_psychometric(agent_probe["signed_coh"], agent_probe["chose_right"], kind="logistic")
agent_sdt = sdt_by_level(agent_probe["coh"], agent_probe["ground_truth"] == 1, agent_probe["chose_right"])
pd.DataFrame({"supervised LSTM": fit.params, "reward-trained agent": agent_fit.params}).round(3).T

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
subjects = {
    "supervised LSTM": (probe, fit, sdt_table.set_index("coh")),
    "reward-trained agent": (agent_probe, agent_fit, agent_sdt),
}
for name, (table, fitted, sdt) in subjects.items():
    levels, p_right, n = psychometric_curve(table["signed_coh"], table["chose_right"])
    dots = ax1.errorbar(levels, p_right, yerr=np.sqrt(p_right * (1 - p_right) / n), fmt="o", ms=4, label=name)
    ax1.plot(grid, fitted.predict(grid), color=dots[0].get_color())
    ax2.plot(sdt.index, sdt["dprime"], "o-", label=name)
ax1.set(xlabel="signed coherence (%)  (left < 0 < right)", ylabel="P(chose right)", title="Psychometric curves")
ax2.set(xlabel="coherence (%)", ylabel="d' (s.d. units)", title="Sensitivity per coherence")
ax1.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### What each one learned
#
# Compare the two fits and the two d' curves: both subjects learned to integrate the noisy evidence, and
# their sensitivity grows with coherence. Their behaviour *during* the stimulus differs, though. The
# supervised network's targets said "fixate" until the decision, so it fixates. The agent was only ever
# rewarded for its answer in the decision period, and answering early costs nothing in this task (only the
# first 100 ms are penalised): the count of time steps with an answer before the decision period shows what it
# made of that freedom. A reward-trained agent learns what the reward asks for, no more; an experimenter who
# wants fixation must reward it (or abort the trial, `abort=True`), as with animals.

# %%
early = pd.DataFrame(
    {
        "supervised LSTM": test["early_responses"].describe()[["mean", "min", "max"]],
        "reward-trained agent": agent_test["early_responses"].describe()[["mean", "min", "max"]],
    }
).T
early.columns = ["mean answers before the decision (of 21 steps)", "min", "max"]
early.round(1)

# %% tags=["remove-cell"]
# Checks the text above: both learned the task, d' grows with coherence, the agent answers early, the network not.
assert agent_test["correct"].mean() > 0.75 and test["correct"].mean() > 0.75
assert agent_sdt["dprime"].iloc[-1] > agent_sdt["dprime"].iloc[0] + 1
assert test["early_responses"].mean() < 1 < agent_test["early_responses"].mean()

# %% [markdown]
# ### How many trials each needed
#
# Both learning curves, against the trials each subject had experienced, and what each needed to reach 80 %
# correct on its fixed probe: trials of experience, and gradient steps (updates of the weights).

# %%
learning = pd.concat(
    [
        pd.DataFrame(history.evaluations).rename(columns={"step": "gradient_steps"}).assign(protocol="supervised LSTM"),
        agent_history.curve().rename(columns={"trials": "trials_seen"}).assign(protocol="reward-trained agent"),
    ],
    ignore_index=True,
)
fig, ax = plt.subplots()
for name, run in learning.groupby("protocol", sort=False):
    ax.plot(run["trials_seen"].clip(lower=100), run["accuracy"], "o-", ms=3, label=name)
ax.axhline(0.8, color="k", ls="--", lw=1, label="criterion (80 %)")
ax.set(xscale="log", xlabel="trials of experience (log scale; 0 drawn at 100)",
       ylabel="accuracy on 300 fresh trials", title="Learning curves")
ax.legend(fontsize=8)
plt.show()

# %%
reached = learning[learning["accuracy"] >= 0.8].groupby("protocol", sort=False).first()
needed = reached[["trials_seen", "gradient_steps"]].add_suffix("_to_criterion")
needed["final_accuracy"] = learning.groupby("protocol")["accuracy"].last()
needed["training_s"] = pd.Series({"supervised LSTM": history.seconds, "reward-trained agent": agent_history.seconds})
needed.round(2)

# %% [markdown]
# Read the table with care: "trials" hide the recipes. The supervised network took one gradient step per
# batch of 16 x 100 time steps, about 70 trials, and learned from a label at every time step, so it reached
# the criterion after far fewer weight updates; PPO takes many small steps on the trials it plays (4 passes over
# each rollout of 16 x 64 time steps, in minibatches of 256 steps). How many trials a learner needs depends on
# how much it squeezes out of each trial as much as on the kind of signal it gets, which is why animal
# trainers and model builders alike should report trials *and* the recipe. What the comparison does show is
# that a scalar reward at the end of each trial is enough to learn this task, within a few thousand trials.

# %% tags=["remove-cell"]
# Checks the text above: both reached the criterion within a few thousand trials; the agent needed far more
# weight updates than the supervised network.
assert set(needed.index) == {"supervised LSTM", "reward-trained agent"}, f"only {list(needed.index)} reached 80 %"
assert needed["trials_seen_to_criterion"].max() < 10_000
assert needed.loc["reward-trained agent", "gradient_steps_to_criterion"] > 3 * needed.loc["supervised LSTM", "gradient_steps_to_criterion"]

# %% [markdown]
# ## Summary
#
# * A NeuroGym task is a trial generator: periods (`env.timing`), observations (`env.ob`), ground truth
#   (`env.gt`); `TrialBatches` (the course's `ngym.Dataset`, for gymnasium 0.29 and 1.x) turns it into
#   supervised batches.
# * The correct action is "fixate" most of the time, so the loss is class-balanced.
# * An LSTM learns the random-dots task to ~0.9 accuracy, the ceiling set by zero-coherence trials.
# * Analysed like an animal: a logistic psychometric curve, d' growing with coherence at zero criterion, and
#   reaction times that shorten with stronger evidence under a decision bound.
# * An agent trained by reward alone (recurrent PPO) learns the same decision from a scalar reward per trial;
#   it learns what is rewarded and nothing more (it answers during the stimulus, where nothing forbids it).
#   Trials to criterion compare recipes as much as learning signals.
#
# ## Further reading
#
# * NeuroGym {cite}`molano2022neurogym`, and the framework for training networks on cognitive tasks
#   {cite}`song2016training`.
# * The random-dots task and its psychometric analysis {cite}`britten1992analysis`; fitting psychometric
#   functions {cite}`wichmann2001psychometric`.
# * Training recurrent networks by reward on cognitive tasks {cite}`song2017reward`; PPO
#   {cite}`schulman2017proximal`; Stable-Baselines3 {cite}`raffin2021stable`.
#
# ## Next
#
# {doc}`Chapter 7 <07_training_protocols>` keeps this chapter's tasks and networks and asks how the order and
# mix of training trials (curricula, catch trials) change learning, measured as trials to criterion across
# seeds.
