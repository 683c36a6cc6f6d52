"""Score a Sensorium 2023 submission against the demo's withheld test responses: a leaderboard for workshops.

The demo mice withhold their test-tier responses, as the real release does, and keep them in the simulator's
ground truth (``SIMULATOR_GROUND_TRUTH/<mouse>.npz``, ``withheld_responses``). :func:`score_submission`
checks the submission first (:func:`~course_utils.sensorium.validation.validate_submission`), then scores
every tier it holds with the competition's metrics (:mod:`course_utils.sensorium.metrics`): the single-trial
correlation and the correlation to the average over repeats, per mouse and averaged over mice (the winners'
convention; ``pooled`` over all neurons, the starter kit's, is returned too). Only the frames the submission
predicts are scored (frames 50-299 under T-50, 50-298 under T-51), on raw responses (Pearson's correlation
does not change when a neuron is scaled by its released std). Real data have no withheld responses on disk,
so only demo folders can be scored. On the command line::

    python -m course_utils sensorium score submission_main.zip [--truth DEMO_FOLDER] [--team NAME]

For the workshop's mini-competition (book/workshop.md) on the submissions chapter 09_sensorium_encoding_and_submission writes.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..fileio import BadFileError
from .metrics import SKIP_FIRST_FRAMES, correlation_to_average, score_mice, single_trial_correlation
from .reader import read_mice
from .simulate import load_ground_truth
from .validation import FILE_TIERS, validate_submission

__all__ = ["LEADERBOARD_METRICS", "leaderboard_row", "score_submission"]

LEADERBOARD_METRICS = {"single_trial_correlation": "single-trial", "correlation_to_average": "to-average"}


class SubmissionRejected(BadFileError):
    """The submission is not valid for the dataset; the message lists every problem the validator found."""


def _tier_files(path: Path, workdir: Path) -> dict[str, Path]:
    if path.suffix != ".zip":
        return {FILE_TIERS[path.name]: path}
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n in FILE_TIERS]
        archive.extractall(workdir, members=names)  # flat, validated names only
    return {FILE_TIERS[n]: workdir / n for n in names}


def _score_tier(frame: pd.DataFrame, mice: dict, truth: dict[str, dict]) -> dict[str, dict[str, float]]:
    single, average = {}, {}
    for mouse, rows in frame.groupby("mouse", sort=True):
        withheld = truth[mouse]["withheld_responses"]  # (trials, neurons in unit_ids order, frames), NaN-padded
        units = pd.Index(truth[mouse]["unit_ids"])
        preds, resps = [], []
        for trial, prediction, ids in zip(rows["trial_indices"], rows["prediction"], rows["neuron_ids"], strict=True):
            pred = np.stack(prediction).astype(np.float64)
            order = np.argsort(units.get_indexer(np.asarray(ids)))  # rows back into unit_ids order (validated)
            preds.append(pred[order])
            resps.append(withheld[trial][:, SKIP_FIRST_FRAMES : SKIP_FIRST_FRAMES + pred.shape[1]])
        hashes = mice[mouse].condition_hash[np.asarray(rows["trial_indices"], dtype=int)]
        kwargs = {"skip_first_frames": 0, "max_frames": None, "per_neuron": True}  # the frames given are scored
        single[mouse] = single_trial_correlation(preds, resps, **kwargs)
        average[mouse] = correlation_to_average(preds, resps, hashes, **kwargs)
    return {"single_trial_correlation": score_mice(single), "correlation_to_average": score_mice(average)}


def score_submission(path: str | Path, truth_root: str | Path) -> dict[str, dict[str, dict[str, float]]]:
    """Score a submission (zip or one parquet file) against a demo folder's withheld test responses.

    Parameters
    ----------
    path
        ``submission_main.zip``, a bonus zip, or one ``predictions_*.parquet.brotli`` file
        (:func:`~course_utils.sensorium.submission.write_submission` writes them).
    truth_root
        The demo data folder (``get_source("sensorium2023", "demo")``) the predictions are for.

    Returns
    -------
    dict
        ``{tier: {metric: {mouse: score, ..., "mean_over_mice": ..., "pooled": ...}}}`` with the metrics
        ``single_trial_correlation`` and ``correlation_to_average``.

    Raises
    ------
    SubmissionRejected
        The validator found problems (all listed, with the fix for each).
    FileNotFoundError
        ``truth_root`` has no ground truth (real data, or the wrong folder).

    Examples
    --------
    >>> scores = score_submission("submission_main.zip", get_source("sensorium2023"))   # doctest: +SKIP
    >>> round(scores["final_test_main"]["single_trial_correlation"]["mean_over_mice"], 2)  # doctest: +SKIP
    0.31

    Scores the submissions chapter 09_sensorium_encoding_and_submission writes.
    """
    path = Path(path)
    report = validate_submission(path, truth_root)
    if not report.ok:
        raise SubmissionRejected(path, f"is not a valid submission for {truth_root}:\n{report}",
                                 "Fix each problem listed (python -m course_utils sensorium validate shows them too).")
    mice = read_mice(truth_root, cache_bytes=0)
    truth = load_ground_truth(truth_root)
    scores = {}
    with tempfile.TemporaryDirectory(prefix="sensorium_score_") as workdir:
        files = _tier_files(path, Path(workdir))
        for tier in [t for t in FILE_TIERS.values() if t in files]:  # live before final, as on the leaderboard
            file = files[tier]
            scores[tier] = _score_tier(pd.read_parquet(file, engine="pyarrow"), mice, truth)
    return scores


def leaderboard_row(team: str, scores: dict[str, dict[str, dict[str, float]]]) -> tuple[str, str]:
    """A header and one leaderboard row: the team, then each tier's metrics (mean over mice).

    Examples
    --------
    >>> s = {"final_test_main": {"single_trial_correlation": {"mean_over_mice": 0.25},
    ...                          "correlation_to_average": {"mean_over_mice": 0.5}}}
    >>> print(*leaderboard_row("demo-team", s), sep="\\n")
    team                  final_test_main single-trial  final_test_main to-average
    demo-team             0.2500                        0.5000
    """
    header, row = [f"{'team':20s}"], [f"{team:20s}"]
    for tier, metrics in scores.items():
        for metric, label in LEADERBOARD_METRICS.items():
            title = f"{tier} {label}"
            header.append(f"{title:28s}")
            row.append(f"{metrics[metric]['mean_over_mice']:<28.4f}")
    return "  ".join(header).rstrip(), "  ".join(row).rstrip()
