"""A custom NeuroGym task written from scratch: change detection, the Allen Visual Behavior paradigm.

The subject sees a sequence of images; at an unpredictable time the image changes, and it must respond
("lick") within a short response window after the change. On catch trials nothing changes and it must
withhold. Its behaviour is summarised exactly like a mouse's: hit rate on change trials, false-alarm rate
on catch trials, d' and criterion.

Written the NeuroGym way: a :class:`neurogym.TrialEnv` subclass that declares its periods, observations and
ground truth in ``_new_trial`` and scores actions in ``_step``; registered as ``ChangeDetection-v0`` so that
``ngym.make`` and ``ngym.Dataset`` use it like a built-in task.

Taught in chapter 07_training_protocols.
"""

from __future__ import annotations

import numpy as np

from .environment import require_neurogym

ngym = require_neurogym()
from neurogym.core import TrialEnv  # noqa: E402
from neurogym.utils import spaces  # noqa: E402

__all__ = ["ChangeDetection", "TASK_ID"]

TASK_ID = "ChangeDetection-v0"


class ChangeDetection(TrialEnv):
    """Go/no-go change detection: respond after the image changes, withhold on catch trials.

    Periods: ``baseline`` (the pre-change image, a random duration so the change time is unpredictable),
    then ``decision`` (the response window, showing the post-change image, or the same image on a catch
    trial). Observations: one channel per image (the current image is 1, plus Gaussian noise). Actions:
    0 = withhold, 1 = lick. Ground truth: withhold during baseline; lick during the response window on change
    trials, withhold on catch trials.

    Parameters
    ----------
    dt
        Time step (ms).
    n_images
        Number of images in the set (Allen sessions use 8).
    catch_prob
        Probability of a catch (no-change) trial.
    timing
        Durations (ms) overriding the defaults ``baseline``: uniform 500-1500 ms, ``decision``: 500 ms.
    sigma
        Standard deviation of the observation noise.
    rewards
        Overrides for ``{"hit": 1.0, "false_alarm": -0.5, "early": -0.5}``.

    Examples
    --------
    >>> env = ChangeDetection(catch_prob=0.5)
    >>> _ = env.seed(0); trial = env.new_trial()
    >>> sorted(trial), env.ob.shape[1]
    (['change', 'image_after', 'image_before'], 8)

    Taught in chapter 07_training_protocols.
    """

    metadata = {  # noqa: RUF012
        "paper_link": "https://portal.brain-map.org/explore/circuits/visual-behavior-2p",
        "paper_name": "Allen Brain Observatory: Visual Behavior (change detection task)",
        "tags": ["perceptual", "go/no-go", "supervised"],
    }

    def __init__(
        self,
        dt: int = 100,
        n_images: int = 8,
        catch_prob: float = 0.25,
        timing: dict | None = None,
        sigma: float = 0.3,
        rewards: dict | None = None,
    ) -> None:
        super().__init__(dt=dt)
        if n_images < 2:
            raise ValueError(f"n_images must be at least 2 (a change needs two images), got {n_images}.")
        if not 0.0 <= catch_prob <= 1.0:
            raise ValueError(f"catch_prob must be between 0 and 1, got {catch_prob}.")
        self.n_images = n_images
        self.catch_prob = catch_prob
        self.sigma = sigma
        self.rewards = {"hit": 1.0, "false_alarm": -0.5, "early": -0.5}
        self.rewards.update(rewards or {})
        self.timing = {"baseline": ("uniform", (500, 1500)), "decision": 500}
        self.timing.update(timing or {})
        self.observation_space = spaces.Box(
            -np.inf, np.inf, shape=(n_images,), dtype=np.float32, name={f"image {i}": i for i in range(n_images)}
        )
        self.action_space = spaces.Discrete(2, name={"withhold": 0, "lick": 1})

    def _new_trial(self, **kwargs):
        trial = {
            "change": bool(self.rng.random() >= self.catch_prob),
            "image_before": int(self.rng.randint(self.n_images)),
        }
        trial.update(kwargs)
        before = trial["image_before"]
        if trial["change"]:
            after = (before + 1 + int(self.rng.randint(self.n_images - 1))) % self.n_images
        else:
            after = before
        trial["image_after"] = trial.get("image_after", after)

        self.add_period(["baseline", "decision"])
        self.add_ob(1.0, period="baseline", where=before)
        self.add_ob(1.0, period="decision", where=trial["image_after"])
        self.add_randn(0.0, self.sigma)
        self.set_groundtruth(0, period="baseline")
        self.set_groundtruth(1 if trial["change"] else 0, period="decision")
        return trial

    def _step(self, action):
        reward, new_trial = 0.0, False
        if self.in_period("baseline"):
            if action == 1:  # licking before the change aborts the trial, as in the mouse task
                reward, new_trial = self.rewards["early"], True
        elif action == 1:
            reward = self.rewards["hit"] if self.trial["change"] else self.rewards["false_alarm"]
            new_trial = True
        return self.ob_now, reward, False, False, {"new_trial": new_trial, "gt": self.gt_now}


ngym.register(id_=TASK_ID, entry_point=f"{__name__}:ChangeDetection")
