"""Speed of the Allen Visual Behavior tools: demo generation, NWB reading, metrics.

Run: ``python benchmarks/bench_allen.py``. Prints wall-clock times; nothing is asserted.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.allen import (
    load_behavior_session,
    load_session_table,
    performance_metrics,
    rolling_performance,
)
from course_utils.allen.simulate import write_demo_project


def timed(label: str, func, repeat: int = 1):
    start = time.perf_counter()
    for _ in range(repeat):
        out = func()
    print(f"{label:<55s} {(time.perf_counter() - start) / repeat * 1000:9.1f} ms")
    return out


def long_session(n_trials: int = 600, seed: int = 0) -> pd.DataFrame:
    """A real-length session (~600 trials) of random outcomes, for the metric timings."""
    rng = np.random.default_rng(seed)
    codes = rng.choice(list("HMFCA"), size=n_trials, p=[0.4, 0.25, 0.05, 0.1, 0.2])
    start = np.arange(n_trials) * 6.0
    change = np.where(codes == "A", np.nan, start + 3)
    licks = [np.array([c + 0.4, c + 0.55]) if k in "HF" else np.array([s + 1.0]) if k == "A" else np.array([])
             for k, c, s in zip(codes, change, start, strict=True)]
    return pd.DataFrame({"start_time": start, "change_time": change, "lick_times": licks,
                         "aborted": codes == "A", "go": np.isin(codes, ["H", "M"]), "catch": np.isin(codes, ["F", "C"]),
                         "hit": codes == "H", "miss": codes == "M", "false_alarm": codes == "F",
                         "correct_reject": codes == "C", "auto_rewarded": False,
                         "reward_volume": np.where(codes == "H", 0.007, 0.0)})


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timed("write_demo_project(n_mice=3)", lambda: write_demo_project(folder, seed=0, n_mice=3))
        files = sorted((folder / "behavior_sessions").glob("*.nwb"))
        size_mb = np.array([f.stat().st_size for f in files]) / 1e6
        print(f"{len(files)} NWB files, {size_mb.mean():.2f} MB on average, {size_mb.max():.2f} MB at most")
        timed("load_session_table", lambda: load_session_table(folder), repeat=5)
        timed("load_behavior_session (first file, parses the spec)", lambda: load_behavior_session(files[0]))
        timed("load_behavior_session (next files)", lambda: load_behavior_session(files[5]), repeat=5)
    trials = long_session()
    rewards = pd.DataFrame({"volume": np.full(int(trials.hit.sum()), 0.007)})
    timed("rolling_performance (600 trials)", lambda: rolling_performance(trials), repeat=20)
    timed("performance_metrics (600 trials)", lambda: performance_metrics(trials, rewards), repeat=20)


if __name__ == "__main__":
    main()
