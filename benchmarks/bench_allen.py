"""Speed and memory of the Allen Visual Behavior tools: demo generation, NWB reading, metrics.

Run: ``python benchmarks/bench_allen.py``. Prints wall-clock times and peak memory; nothing is asserted.

Sizes: the demo files (10-15 min sessions) and one stand-in of the real size (REAL_FILES.md: a real session
has ~950 trials, ~270,000 running samples and 13,791 presentations: ~4,800 image flashes, a 5 min grey
screen before and after the task and a 30 s movie of 900 frames shown 10 times). Its stimulus templates
(most of a real file's 195 MB) are not simulated: the course never reads them.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.allen import (
    load_behavior_session,
    load_session_table,
    performance_metrics,
    rolling_performance,
)
from course_utils.allen.simulate import (
    IMAGE_SETS,
    simulate_session,
    task_parameters,
    write_behavior_nwb,
    write_demo_project,
)


def timed(label: str, func, repeat: int = 1):
    start = time.perf_counter()
    for _ in range(repeat):
        out = func()
    print(f"{label:<62s} {(time.perf_counter() - start) / repeat * 1000:9.1f} ms")
    return out


def peak_memory(label: str, func) -> None:
    """Peak of the memory allocated through Python (numpy arrays and pandas frames included) during ``func``."""
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{label:<62s} {peak / 1e6:9.1f} MB peak (traced allocations; a separate, slower run)")


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


def real_size_file(folder: Path) -> Path:
    """A behaviour NWB file with the real session's tables at their real sizes (templates left out)."""
    session_type = "OPHYS_1_images_A"
    sim = simulate_session(session_type, 3600.0, 2.0, -0.3, 3000.0, 0.15, IMAGE_SETS["A"], np.random.default_rng(1),
                           extra_blocks=True, grey_screen_s=300.0, movie_frames=900, movie_repeats=10)
    row = pd.Series({"behavior_session_id": 1, "mouse_id": 445002, "sex": "M", "age_in_days": 120,
                     "full_genotype": "Slc17a7-IRES2-Cre/wt;Camk2a-tTA/wt;Ai93(TITL-GCaMP6f)/wt",
                     "driver_line": "['Slc17a7-IRES2-Cre', 'Camk2a-tTA']", "reporter_line": "Ai93(TITL-GCaMP6f)",
                     "equipment_name": "CAM2P.3", "project_code": "VisualBehavior", "session_type": session_type,
                     "date_of_acquisition": "2019-04-05 09:00:00+00:00"})
    path = folder / "behavior_session_1.nwb"
    write_behavior_nwb(path, row, sim, task_parameters(session_type, len(sim["frame_times"])),
                       namespace="ndx-aibs-behavior-ophys")
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timed("write_demo_project(n_mice=3)", lambda: write_demo_project(folder, seed=0, n_mice=3))
        files = sorted((folder / "behavior_sessions").glob("*.nwb"))
        size_mb = np.array([f.stat().st_size for f in files]) / 1e6
        print(f"{len(files)} NWB files, {size_mb.mean():.2f} MB on average, {size_mb.max():.2f} MB at most")
        timed("load_session_table (demo)", lambda: load_session_table(folder), repeat=5)
        timed("load_behavior_session (first file, parses the spec)", lambda: load_behavior_session(files[0]))
        timed("load_behavior_session (a demo OPHYS file, 3 blocks)", lambda: load_behavior_session(files[-3]),
              repeat=5)
        big = real_size_file(folder)
        timed("load_behavior_session (real size, first file of its namespace)", lambda: load_behavior_session(big))
        session = timed("load_behavior_session (real size)", lambda: load_behavior_session(big), repeat=3)
        peak_memory("load_behavior_session (real size)", lambda: load_behavior_session(big))
        stim = session.stimulus_presentations
        print(f"  real-size stand-in: {big.stat().st_size / 1e6:.1f} MB, {len(session.trials)} trials, "
              f"{len(session.licks)} licks, {len(session.running_speed)} running samples, {len(stim)} presentations "
              f"({', '.join(f'{n}: {k}' for n, k in stim['stimulus_name'].value_counts().items())})")
        rolling = timed("rolling_performance (real size)", lambda: session.get_rolling_performance_df(), repeat=5)
        timed("performance_metrics (real size)",
              lambda: performance_metrics(session.trials, session.rewards, rolling=rolling), repeat=5)
    trials = long_session()
    rewards = pd.DataFrame({"volume": np.full(int(trials.hit.sum()), 0.007)})
    timed("rolling_performance (600 trials)", lambda: rolling_performance(trials), repeat=20)
    timed("performance_metrics (600 trials)", lambda: performance_metrics(trials, rewards), repeat=20)


if __name__ == "__main__":
    main()
