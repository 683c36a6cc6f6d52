"""NeuroTask: motor-cortex benchmark data (parquet from Kaggle, NWB from DANDI), read, reshaped and simulated.

* :mod:`course_utils.neurotask.schema` – the one table schema every loader returns (neurons, ids,
  covariates, events) and the column helpers.
* :mod:`course_utils.neurotask.io` – :func:`load_and_filter_parquet` and :func:`load_nwb` read the real files
  in batches (``columns=``, ``bin_ms=`` to rebin while reading) into that schema.
* :mod:`course_utils.neurotask.preprocess` – :func:`rebin`, :func:`align_event`, :func:`process_data`:
  the upstream API's names and semantics with its defects fixed (each difference is documented).
* :mod:`course_utils.neurotask.simulate` – :func:`write_demo_dataset` writes demo files in the real layouts
  (DANDI 001056 and its parquet file, a no-event file, a 1 ms Maze file, a Key-Grasp file) from
  cosine-tuned Poisson neurons with known ground truth.

Taught in chapter 01_neurotask_loading.
"""

from __future__ import annotations

from .io import file_columns, load_and_filter_parquet, load_file, load_nwb, parse_bin_ms
from .preprocess import DecodingArrays, align_event, process_data, rebin, table_bin_ms, trial_table
from .schema import (
    EVENT_PREFIX,
    ID_COLUMNS,
    NEURON_PREFIX,
    RESULT_CODES,
    behavior_columns,
    event_columns,
    neuron_columns,
    velocity_columns,
)

__all__ = [
    "EVENT_PREFIX",
    "ID_COLUMNS",
    "NEURON_PREFIX",
    "RESULT_CODES",
    "DecodingArrays",
    "align_event",
    "behavior_columns",
    "event_columns",
    "file_columns",
    "load_and_filter_parquet",
    "load_file",
    "load_nwb",
    "neuron_columns",
    "parse_bin_ms",
    "process_data",
    "rebin",
    "table_bin_ms",
    "trial_table",
    "velocity_columns",
]


# The source interface (course_utils.sources): the one registered opener, under the name every source shares.
# Not in __all__, so `from course_utils.neurotask import *` never hides the built-in open.
open = load_file
