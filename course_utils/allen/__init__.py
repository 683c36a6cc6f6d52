"""Allen Brain Observatory Visual Behavior: session tables, behaviour NWB files, performance metrics.

* :mod:`course_utils.allen.sessions` – the project's session table, its derived columns, one mouse's history.
* :mod:`course_utils.allen.nwb` – :class:`BehaviorSession`, read from one behaviour NWB file with plain pynwb.
* :mod:`course_utils.allen.metrics` – rolling performance and AllenSDK 2.16.2's performance metrics.
* :mod:`course_utils.allen.plots` – session timeline, lick rasters, latencies, learning curves.
* :mod:`course_utils.allen.simulate` – a small simulated project in the real layout (demo mode).

AllenSDK is not needed (it cannot share an environment with current pynwb): everything is read and computed
here, and the tables equal those AllenSDK 2.16.2 returns for the same file (names, column order, dtypes), so
the Allen documentation still applies. The one deliberate difference, ``flashes_since_change`` outside the
image blocks, is explained in :func:`course_utils.allen.nwb.flashes_since_change`.
"""

from __future__ import annotations

from .metrics import (
    handoff_criterion_met,
    performance_metrics,
    reward_rate,
    rolling_performance,
    session_metrics_table,
    trial_outcomes,
)
from .nwb import BehaviorSession, flashes_since_change, image_change, load_behavior_session
from .sessions import (
    STAGE_ORDER,
    add_derived_columns,
    behavior_nwb_path,
    cre_line_from_genotype,
    image_set_from_session_type,
    load_session_table,
    mouse_sessions,
    mouse_summary,
    parse_session_type,
    with_nwb_files,
)

__all__ = [
    "STAGE_ORDER",
    "BehaviorSession",
    "add_derived_columns",
    "behavior_nwb_path",
    "cre_line_from_genotype",
    "flashes_since_change",
    "handoff_criterion_met",
    "image_change",
    "image_set_from_session_type",
    "load_behavior_session",
    "load_session_table",
    "mouse_sessions",
    "mouse_summary",
    "parse_session_type",
    "performance_metrics",
    "reward_rate",
    "rolling_performance",
    "session_metrics_table",
    "trial_outcomes",
    "with_nwb_files",
]


# The source interface (course_utils.sources): the one registered opener, under the name every source shares.
# Not in __all__, so `from course_utils.allen import *` never hides the built-in open.
open = load_behavior_session
