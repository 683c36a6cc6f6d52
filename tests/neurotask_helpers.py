"""Shared by the NeuroTask test modules (imported by name: pytest puts tests/ on the import path)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def layout_table(behavior: list[str], events: list[str], rows_per_trial=(7, 9, 8), *, n_units: int = 3,
                 rate: float = 1.0, nan_units: int = 0, failed_trial: int = 1, event_row: int = 2,
                 dtype=float) -> pd.DataFrame:
    """A small NeuroTask table with exactly these behaviour and event series, one animal and session.

    Values are placeholders (Poisson counts, normal covariates); the layout is what the tests use. The last
    ``nan_units`` units are NaN (units another session recorded), trial ``failed_trial`` has result "F" and the
    others "R", and each event is set on row ``event_row`` of every trial.
    """
    rng = np.random.default_rng(0)
    trial_id = np.repeat(np.arange(len(rows_per_trial), dtype=float), rows_per_trial)
    n = len(trial_id)
    counts = rng.poisson(rate, (n, n_units)).astype(dtype)
    if nan_units:
        counts[:, -nan_units:] = np.nan
    df = pd.DataFrame(counts, columns=[f"Neuron{j + 1}" for j in range(n_units)])
    df["trial_id"], df["animal"], df["session"], df["datasetID"] = trial_id, 1, 1, 7
    df["result"] = np.where(trial_id == failed_trial, "F", "R")
    for name in behavior:
        df[name] = rng.normal(size=n)
    for name in events:
        df[name] = np.zeros(n, bool)
        df.loc[df.groupby("trial_id").nth(event_row).index, name] = True
    return df
