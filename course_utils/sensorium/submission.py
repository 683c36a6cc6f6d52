"""Write a Sensorium 2023 submission: parquet (brotli, pyarrow, no index) files with the exact names, zipped flat.

Each file has one row per test trial and four columns:

* ``mouse`` (str): the mouse folder's name, e.g. ``dynamic29515-10-12-Video-9b4f6a1a067fe51e15306b9628efea20``;
* ``trial_indices`` (int): the trial's file number ``<i>`` of ``data/*/<i>.npy``;
* ``prediction``: a list of lists, neurons x frames, the frames after the first 50 of the first 300 (see
  :data:`SUBMISSION_FRAME_RULE`);
* ``neuron_ids``: the ids of ``meta/neurons/unit_ids.npy``, in the order of the prediction rows (any order, as
  long as rows and ids are permuted together; the starter kit writes them as uint32).

Main track: **one** zip holding ``predictions_live_main.parquet.brotli`` and ``predictions_final_main.parquet.brotli``
directly (no folder inside). Bonus track: ``predictions_live_test_bonus_ood.parquet.brotli`` and
``predictions_final_test_bonus_ood.parquet.brotli``, each zipped and uploaded **separately**. Only the five
"new" mice (:data:`SCORED_MICE`) were scored: a submission may hold just them.

Taught in chapter 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import SKIP_FIRST_FRAMES
from .reader import SCORED_FRAMES


@dataclass(frozen=True)
class FrameRule:
    """Which frames of a trial a submission predicts: ``[skip_first, min(T, max_frames) - skip_last)``.

    Frames are counted from the trial's first frame; only the first ``max_frames`` (300) count in the challenge.
    """

    skip_first: int = SKIP_FIRST_FRAMES
    skip_last: int = 0
    max_frames: int | None = SCORED_FRAMES

    def _stop(self, trial_frames: int) -> int:
        scored = int(trial_frames) if self.max_frames is None else min(int(trial_frames), self.max_frames)
        return scored - self.skip_last

    def n_frames(self, trial_frames: int) -> int:
        """Number of predicted frames for a trial of ``trial_frames`` frames."""
        return max(self._stop(trial_frames) - self.skip_first, 0)

    def cut(self, full_trial: np.ndarray) -> np.ndarray:
        """The predicted frames of a full-length (neurons, T) prediction."""
        return full_trial[..., self.skip_first : max(self._stop(full_trial.shape[-1]), self.skip_first)]

    def __str__(self) -> str:
        return f"T-{self.skip_first + self.skip_last}"

    def describe(self) -> str:
        """E.g. ``T-50 of the first 300 frames (frames 50-299 of a 300-frame trial)``."""
        first = "" if self.max_frames is None else f" of the first {self.max_frames} frames"
        full = self.max_frames or 300
        return f"{self}{first} (frames {self.skip_first}-{full - self.skip_last - 1} of a {full}-frame trial)"


SUBMISSION_FRAME_RULE = FrameRule(skip_first=SKIP_FIRST_FRAMES, skip_last=0)
"""The frame rule of this course's submissions: T-50 of the first 300 frames, i.e. frames 50-299 of a trial of
300 frames or more (250 frames), frames 50 to T-1 of a shorter one, as the starter kit's ``generate_submission``
and README ("for 300 frames in video we need predictions only for the last 250") specify. The writer applies it.
"""
TOP_TEAMS_FRAME_RULE = FrameRule(skip_first=SKIP_FIRST_FRAMES, skip_last=1)
"""T-51 of the first 300 frames: the 249-frame format of the winning submissions (frames 50-298).

The winner's code cuts each prediction to its first 300 frames, drops the first 50 and then the last one
(``[..., :300][..., 50:][..., :-1]``), so its 249 frames start at frame 50, like the starter kit's 250: the
server aligned predictions at frame 50 and scored the frames given. The validator accepts both rules
(:data:`ACCEPTED_FRAME_RULES`) because the server scored both.
"""
ACCEPTED_FRAME_RULES = (SUBMISSION_FRAME_RULE, TOP_TEAMS_FRAME_RULE)
"""The frame rules the real server scored: what :func:`~.validation.validate_submission` accepts by default."""

SCORED_MICE = (
    "dynamic29515-10-12-Video-9b4f6a1a067fe51e15306b9628efea20",
    "dynamic29623-4-9-Video-9b4f6a1a067fe51e15306b9628efea20",
    "dynamic29647-19-8-Video-9b4f6a1a067fe51e15306b9628efea20",
    "dynamic29712-5-9-Video-9b4f6a1a067fe51e15306b9628efea20",
    "dynamic29755-2-8-Video-9b4f6a1a067fe51e15306b9628efea20",
)
"""The five "new" mice the competition scored (the older five were for training; their test responses were
published later). A submission holding only these is complete."""

TRACK_FILES = {
    "main": {"live_test_main": "predictions_live_main.parquet.brotli",
             "final_test_main": "predictions_final_main.parquet.brotli"},
    "bonus": {"live_test_bonus": "predictions_live_test_bonus_ood.parquet.brotli",
              "final_test_bonus": "predictions_final_test_bonus_ood.parquet.brotli"},
}
COLUMNS = ("mouse", "trial_indices", "prediction", "neuron_ids")


def submission_frame(
    predictions: Mapping[str, Mapping[int, np.ndarray]],
    neuron_ids: Mapping[str, np.ndarray],
    frame_rule: FrameRule = SUBMISSION_FRAME_RULE,
) -> pd.DataFrame:
    """The submission table of one tier from full-length predictions.

    Parameters
    ----------
    predictions
        ``{mouse name: {trial file number: (neurons, T) array}}``, T = the trial's true length, frames from the
        trial's first frame (the frame rule cuts them).
    neuron_ids
        ``{mouse name: unit_ids}`` in the order of the prediction rows.
    frame_rule
        Which frames to keep (the course's :data:`SUBMISSION_FRAME_RULE` by default).

    Returns
    -------
    pandas.DataFrame
        Columns ``mouse``, ``trial_indices``, ``prediction``, ``neuron_ids``.

    Examples
    --------
    >>> df = submission_frame({"m": {3: np.zeros((2, 52))}}, {"m": np.array([7, 9])})
    >>> int(df.loc[0, "trial_indices"]), len(df.loc[0, "prediction"][0]), df.loc[0, "neuron_ids"]
    (3, 2, [7, 9])

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    rows = []
    for mouse, trials in predictions.items():
        if mouse not in neuron_ids:
            raise KeyError(f"No neuron_ids given for mouse {mouse!r}.")
        ids = [int(i) for i in np.asarray(neuron_ids[mouse])]
        for trial, full in trials.items():
            full = np.asarray(full, dtype=np.float32)
            if full.ndim != 2 or full.shape[0] != len(ids):
                raise ValueError(
                    f"{mouse} trial {trial}: prediction has shape {full.shape}; expected ({len(ids)} neurons, frames)."
                )
            rows.append((str(mouse), int(trial), frame_rule.cut(full).tolist(), ids))
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    frame["trial_indices"] = frame["trial_indices"].astype("int64")
    return frame


def write_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a submission table exactly as the organisers asked (pyarrow, brotli, index=False)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, compression="brotli", engine="pyarrow", index=False)
    return path


def write_submission(
    predictions: Mapping[str, Mapping[str, Mapping[int, np.ndarray]]],
    neuron_ids: Mapping[str, np.ndarray],
    out_dir: str | Path,
    track: str = "main",
    frame_rule: FrameRule = SUBMISSION_FRAME_RULE,
) -> list[Path]:
    """Write the parquet files of a track and the zip(s) to upload.

    Parameters
    ----------
    predictions
        ``{tier: {mouse: {trial: (neurons, T) array}}}`` for the track's two tiers (``live_test_main`` and
        ``final_test_main``, or ``live_test_bonus`` and ``final_test_bonus``).
    neuron_ids
        ``{mouse: unit_ids}``.
    out_dir
        Output folder.
    track
        ``"main"`` (one zip with both files) or ``"bonus"`` (one zip per file).

    Returns
    -------
    list of Path
        The zip file(s) to upload.

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    if track not in TRACK_FILES:
        raise ValueError(f"track must be 'main' or 'bonus', not {track!r}.")
    out_dir = Path(out_dir)
    files = {}
    for tier, filename in TRACK_FILES[track].items():
        if tier not in predictions:
            raise KeyError(f"predictions has no tier {tier!r}; the {track} track needs {list(TRACK_FILES[track])}.")
        files[tier] = write_parquet(submission_frame(predictions[tier], neuron_ids, frame_rule), out_dir / filename)
    if track == "main":
        zips = [out_dir / "submission_main.zip"]
        groups = [list(files.values())]
    else:
        zips = [out_dir / f"submission_{tier}.zip" for tier in files]
        groups = [[p] for p in files.values()]
    for zip_path, members in zip(zips, groups, strict=True):
        with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_STORED) as archive:  # parquet is compressed
            for member in members:
                archive.write(member, arcname=member.name)  # flat: no folder inside the zip
    return zips
