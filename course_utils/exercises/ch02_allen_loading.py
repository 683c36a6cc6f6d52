"""Checks for chapter 02_allen_loading."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import ExerciseFeedback, exercise


@exercise("2.1", "Sessions per training stage")
def check_sessions_per_stage(sessions_per_stage, mouse: pd.DataFrame) -> None:
    if not isinstance(sessions_per_stage, pd.Series):
        raise ExerciseFeedback("sessions_per_stage should be a pandas Series indexed by training stage.")
    expected = mouse["training_stage"].value_counts()
    if set(sessions_per_stage.index) != set(expected.index):
        raise ExerciseFeedback(
            "the index should hold the stages this mouse went through ('TRAINING_0', ..., 'OPHYS_6'): group by "
            "the training_stage column, not by session_type."
        )
    if not (sessions_per_stage.reindex(expected.index).to_numpy() == expected.to_numpy()).all():
        raise ExerciseFeedback("some counts differ: count the rows (sessions) of each stage.")
    order = list(sessions_per_stage.index)
    ranks = mouse.drop_duplicates("training_stage").set_index("training_stage")["stage_order"]
    if list(ranks.loc[order].to_numpy()) != sorted(ranks.loc[order].to_numpy()):
        raise ExerciseFeedback("the counts are right; now sort the stages in training order (use STAGE_ORDER).")


@exercise("2.2", "The flash cadence")
def check_flash_interval(interval_s, stimulus_presentations: pd.DataFrame) -> None:
    try:
        value = float(interval_s)
    except (TypeError, ValueError) as err:
        raise ExerciseFeedback("interval_s should be one number, in seconds.") from err
    if 600 < value < 900:
        raise ExerciseFeedback("that looks like milliseconds: the tables are in seconds.")
    stim = stimulus_presentations
    # shown image flashes: omitted is False (True for an omitted flash, <NA> on grey-screen and movie rows)
    shown = stim[~stim["omitted"].astype("boolean").fillna(True).to_numpy(dtype=bool)]
    expected = float(np.median(np.diff(shown["start_time"].to_numpy())))
    if abs(value - expected) > 0.01:
        every_row = float(np.median(np.diff(stim["start_time"].to_numpy())))
        hint = (" The movie frames (33 ms apart) are in the table too: keep only the rows whose omitted is False."
                if abs(value - every_row) < 1e-9 else "")
        raise ExerciseFeedback(
            "not quite: take the differences between consecutive start times of the flashes that were shown "
            "(omitted is False; it is <NA> on grey-screen and movie rows), then their median." + hint
        )


@exercise("2.3", "How much does the mouse run?")
def check_fraction_running(fraction_running, running_speed: pd.DataFrame) -> None:
    try:
        value = float(fraction_running)
    except (TypeError, ValueError) as err:
        raise ExerciseFeedback("fraction_running should be one number between 0 and 1.") from err
    if value > 1:
        raise ExerciseFeedback("a fraction is between 0 and 1 (not a percentage, not a count).")
    expected = float((running_speed["speed"].to_numpy() > 5.0).mean())
    if abs(value - expected) > 1e-6:
        raise ExerciseFeedback("count the samples whose speed is above 5 cm/s and divide by the number of samples.")
