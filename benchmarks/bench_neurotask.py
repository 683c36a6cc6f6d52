"""NeuroTask at real sizes and side by side with upstream: loading memory, and rebin + align + process speed.

Part 1, loading (``--part load``): writes, in batches with a pyarrow ``ParquetWriter`` (so writing needs
little memory), a 1 ms Maze-like parquet file of the real size (``--rows 8300000 --neurons 200``: float
counts, two sessions, the second with fewer units so the last columns are NaN-padded, uint16 ids, row groups
of 2**20 rows as pandas writes them), then loads it **rebinned to 20 ms while reading** in a fresh process and
prints time, peak memory (the process's RSS high-water mark, reset just before the call, minus the RSS
before it) and the peak relative to the
frame returned. It does the same at full resolution on a smaller 1 ms file (``--full-rows``), and for
``load_nwb`` on an NWB file of DANDI 001056's size (``--nwb-rows 770000 --nwb-units 167``). The goal: under
2 GB for the Maze session at 20 ms (a 12 GB Colab runtime can use the largest real session) and at most 1.5x
the returned frame. The files go to a temporary folder under /tmp and are deleted at the end.

Part 2, speed (``--part speed``): for every demo file shape of :mod:`course_utils.neurotask.simulate`
(several animals and sessions, NaN-padded neuron columns, trial lengths that are not multiples of the rebin
factor; scaled to about ``--shape-rows`` rows), plus the 100-neuron center-out file of the issue, it times
``rebin`` (to 20 ms, or twice the bin for 20 ms files), ``align_event`` (an event the file has, -200..600 ms;
skipped for files without events, which upstream cannot align either) and ``process_data`` (5 bins of
history, 7:1:2, velocity or force, z-scored): ours and upstream's ``api_neurotask.py`` on the same frame,
**side by side in this process**, each the best of ``--repeats`` rounds that run ours then upstream's in turn
(so a busy spell hits both alike; upstream once when one run takes over 10 s). Upstream is not part of the course: export it
(``git show HEAD:api_neurotask.py`` of github.com/catniplab/NeuroTask) to a folder and pass ``--upstream
FOLDER``; without it the comparison is skipped and says so. Each ratio is printed (goal: >= 40x in total on
every shape); timings are CPU seconds (``time.process_time``), less sensitive to a busy machine than wall time,
which is printed too.

Run: ``python benchmarks/bench_neurotask.py --upstream /tmp/upstream_neurotask`` (both parts; part 1 needs
about 1.5 GB of disk in /tmp and 2-4 GB of memory, part 2 about 2 GB).
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.neurotask import align_event, load_and_filter_parquet, load_nwb, process_data, rebin
from course_utils.neurotask.schema import as_schema, event_columns, velocity_columns
from course_utils.neurotask.simulate import DEMO_SPECS, DatasetSpec, simulate_dataset

RANGES = ([0, 0.7], [0.7, 0.8], [0.8, 1.0])
MAZE_EVENTS = ("EventGo_cue", "EventMovement_start", "EventMovement_end")


# ----------------------------------------------------------------------------------------- big files


def _trial_layout(rows: int, rng: np.random.Generator, mean_ms: float = 3300.0) -> np.ndarray:
    """Trial lengths (rows) summing to ``rows``: about 3.3 s per trial, as the real Maze sessions."""
    lengths = rng.integers(int(mean_ms * 0.7), int(mean_ms * 1.3), size=int(rows / mean_ms * 1.2) + 2)
    lengths = lengths[np.cumsum(lengths) < rows]
    return np.append(lengths, rows - lengths.sum())


def write_maze_parquet(path: Path, rows: int, neurons: int, row_group_rows: int = 1 << 20, seed: int = 0) -> Path:
    """A 1 ms Maze-like parquet file, written one row group at a time (memory: one row group)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    lengths = _trial_layout(rows, rng)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    n_trials = len(lengths)
    session_of_trial = np.where(np.arange(n_trials) < n_trials // 2, 4, 5)
    trial_of_session = np.where(session_of_trial == 4, np.arange(n_trials), np.arange(n_trials) - n_trials // 2)
    units = {4: neurons, 5: neurons - max(1, neurons // 20)}  # session 5 has fewer units: NaN padding
    result = np.where(rng.random(n_trials) < 0.9, "R", "F")
    go = starts + rng.integers(300, 800, n_trials)
    move = go + rng.integers(250, 400, n_trials)
    stop = np.minimum(move + rng.integers(500, 900, n_trials), ends - 1)
    rate = rng.uniform(5, 40, neurons) / 1000.0  # spikes per 1 ms bin
    fields = [pa.field(f"Neuron{j + 1}", pa.float64()) for j in range(neurons)]
    fields += [pa.field("trial_id", pa.float64()), pa.field("cursor_vel_x", pa.float64()),
               pa.field("cursor_vel_y", pa.float64()), pa.field("result", pa.string())]
    fields += [pa.field(c, pa.uint16()) for c in ("datasetID", "session", "animal")]
    fields += [pa.field("task", pa.string())] + [pa.field(e, pa.bool_()) for e in MAZE_EVENTS]
    schema = pa.schema(fields)
    with pq.ParquetWriter(path, schema, compression="snappy") as writer:
        for a in range(0, rows, row_group_rows):
            b = min(a + row_group_rows, rows)
            n = b - a
            trial = np.searchsorted(ends, np.arange(a, b), side="right")
            session = session_of_trial[trial]
            columns = []
            for j in range(neurons):
                counts = (rng.random(n, dtype=np.float32) < rate[j]).astype(np.float64)
                counts[session == 5] = np.nan if j >= units[5] else counts[session == 5]
                columns.append(pa.array(counts))
                del counts
            phase = 2 * np.pi * (np.arange(a, b) - starts[trial]) / lengths[trial]
            columns += [pa.array(trial_of_session[trial].astype(np.float64)),
                        pa.array(20 * np.sin(phase)), pa.array(20 * np.cos(phase)), pa.array(result[trial])]
            columns += [pa.array(np.full(n, 6, np.uint16)), pa.array(session.astype(np.uint16)),
                        pa.array(np.ones(n, np.uint16)), pa.array(np.full(n, "Maze"))]
            rows_here = np.arange(a, b)
            columns += [pa.array(np.isin(rows_here, t)) for t in (go, move, stop)]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
            del columns
    return path


def write_nwb_file(path: Path, rows: int, units: int, seed: int = 0) -> Path:
    """An NWB file in DANDI 001056's layout and size, its spike counts written chunk by chunk."""
    from hdmf.backends.hdf5.h5_utils import H5DataIO
    from hdmf.data_utils import DataChunkIterator
    from pynwb import NWBHDF5IO
    from pynwb.base import TimeSeries

    from course_utils.neurotask.simulate import write_nwb_twin

    rng = np.random.default_rng(seed)
    lengths = _trial_layout(rows, rng, mean_ms=210.0)  # 2.1 s trials at 10 ms
    trial = np.repeat(np.arange(len(lengths)), lengths)
    small = pd.DataFrame({"Neuron1": np.zeros(rows)})  # the twin writer makes the small series
    small["animal"] = np.where(trial < len(lengths) // 2, 1, 2)
    small["session"] = 1
    small["datasetID"] = 2
    small["trial_id"] = trial.astype(float) + 1
    small["result"] = np.where(rng.random(len(lengths)) < 0.75, "R", "F")[trial]
    for name in ("hand_pos_x", "hand_pos_y", "hand_vel_x", "hand_vel_y", "bump_dir", "target_dir"):
        small[name] = rng.normal(size=rows)
    starts = np.cumsum(lengths) - lengths
    for name, offset in (("EventTarget_Onset", 30), ("EventGo_cue", 100), ("EventBump", 60)):
        flags = np.zeros(rows, bool)
        flags[np.minimum(starts + offset, np.cumsum(lengths) - 1)] = True
        small[name] = flags
    twin = write_nwb_twin(small, 10, path.with_suffix(".small.nwb"), "CenterOut_Bump")
    rate = rng.uniform(2, 30, units) / 100.0  # spikes per 10 ms bin

    def one_row_at_a_time():  # DataChunkIterator buffers rows into chunks of 8192
        for a in range(0, rows, 8192):
            yield from rng.poisson(rate, size=(min(8192, rows - a), units)).astype(np.float64)

    with NWBHDF5IO(str(twin), "r") as io_in:
        nwbfile = io_in.read()
        spikes = nwbfile.processing["spikes"]
        old = spikes.data_interfaces["spikes_counts"]
        spikes.data_interfaces.pop("spikes_counts")  # replaced by the full-size series below
        iterator = DataChunkIterator(one_row_at_a_time(), maxshape=(rows, units), dtype=np.dtype("float64"),
                                     buffer_size=8192)
        data = H5DataIO(iterator, compression="gzip", compression_opts=4, chunks=(8192, units))
        spikes.add(TimeSeries(name="spikes_counts", data=data, unit="spikes", rate=old.rate, starting_time=0.0))
        with NWBHDF5IO(str(path), "w") as io_out:
            io_out.export(src_io=io_in, nwbfile=nwbfile)
    twin.unlink()
    return path


def _status_bytes(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak since the last reset) of this process, from /proc (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> None:
    """Reset the peak-RSS mark (Linux >= 4.0), so VmHWM measures the load alone."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # then the peak also counts the imports: an over-estimate, never an under-estimate


def child_load(path: str, bin_ms: float | None) -> None:
    """Run in a fresh process: load once, print time, peak memory and frame size as JSON."""
    loader = load_nwb if path.endswith(".nwb") else load_and_filter_parquet
    with tempfile.TemporaryDirectory() as tmp:  # warm up: lazy imports are not the data's memory
        small, _ = simulate_dataset(DatasetSpec(2, 10, "W", "CObump", "CenterOut_Bump", ((1, 1, 3, (3, 3)),),
                                                (("R", 1.0),)))
        if path.endswith(".nwb"):
            from course_utils.neurotask.simulate import write_nwb_twin

            loader(write_nwb_twin(small, 10, Path(tmp) / "w.nwb", "w"), bin_ms=20)
        else:
            small.to_parquet(Path(tmp) / "2_10_W_CObump.parquet")
            loader(Path(tmp) / "2_10_W_CObump.parquet", bin_ms=20)
    _reset_peak()
    before = _status_bytes("VmRSS")
    started, started_cpu = time.perf_counter(), time.process_time()
    df, out_bin = loader(path, exclude=None, bin_ms=bin_ms)
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    peak = _status_bytes("VmHWM")
    frame = int(df.memory_usage(deep=True).sum())
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_bytes": peak - before, "frame_bytes": frame,
                      "rows": len(df), "columns": df.shape[1], "bin_ms": out_bin}))


def _measure(path: Path, bin_ms: float | None) -> dict:
    command = [sys.executable, __file__, "--child-load", str(path)] + (["--bin-ms", str(bin_ms)] if bin_ms else [])
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _report(label: str, size_mb: float, m: dict) -> None:
    print(f"  {label}: file {size_mb:,.0f} MB -> {m['rows']:,} rows x {m['columns']} columns at {m['bin_ms']:g} ms "
          f"in {m['wall_s']:.1f} s wall ({m['cpu_s']:.1f} s CPU); peak {m['peak_bytes'] / 1e9:.2f} GB = "
          f"{m['peak_bytes'] / m['frame_bytes']:.2f}x the {m['frame_bytes'] / 1e9:.2f} GB frame")


def part_load(args: argparse.Namespace) -> None:
    print("Part 1: loading real-size files (peak = RSS high-water mark minus RSS before the call, fresh process)")
    tmp = Path(tempfile.mkdtemp(prefix="bench_neurotask_", dir="/tmp"))
    try:
        started = time.perf_counter()
        big = write_maze_parquet(tmp / "6_1_BenchMaze_Maze.parquet", args.rows, args.neurons)
        size = big.stat().st_size / 1e6
        print(f"  wrote {big.name}: {args.rows:,} rows x {args.neurons} neurons (1 ms, float counts), {size:,.0f} MB, "
              f"in {time.perf_counter() - started:.0f} s")
        m = _measure(big, 20)
        _report("load_and_filter_parquet(bin_ms=20)", size, m)
        print(f"    goal < 2 GB peak: {'met' if m['peak_bytes'] < 2e9 else 'NOT met'}")
        big.unlink()
        full = write_maze_parquet(tmp / "6_1_BenchFull_Maze.parquet", args.full_rows, args.neurons)
        _report("load_and_filter_parquet (1 ms, full resolution)", full.stat().st_size / 1e6, _measure(full, None))
        full.unlink()
        nwb = write_nwb_file(tmp / "001056.nwb", args.nwb_rows, args.nwb_units)
        _report("load_nwb (10 ms, 001056's size)", nwb.stat().st_size / 1e6, _measure(nwb, None))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------------------- speed


def shapes(target_rows: int) -> dict[str, DatasetSpec]:
    """Each demo file shape scaled to about ``target_rows`` rows, and the issue's 100-neuron center-out file."""
    rows_per_trial = {"CenterOut_Bump": 200, "RandomTarget": 60, "Maze": 2200, "KeyGrasp": 200, "CenterOut": 190}
    out = {}
    for spec in DEMO_SPECS:
        per_session = max(20, int(target_rows / rows_per_trial[spec.task] / len(spec.sessions)))
        sessions = tuple((a, s, per_session, units) for a, s, _, units in spec.sessions)
        if spec.task == "CenterOut_Bump":  # the real file's four populations (461 units, 167 columns)
            sessions = tuple((a, s, n, (u, u)) for (a, s, n, _), u in zip(sessions, (57, 167, 110, 127), strict=True))
        out[spec.file_name] = DatasetSpec(**{**spec.__dict__, "sessions": sessions, "name": "Bench"})
    trials = int(target_rows / 190) + 1
    out["3_10_Bench_CenterOut (issue's 100 neurons)"] = DatasetSpec(
        3, 10, "Bench", "CenterOut", "CenterOut",
        ((1, 1, trials // 2, (100, 100)), (2, 1, trials - trials // 2, (92, 92))),
        (("R", 0.85), ("F", 0.05), ("I", 0.03), ("A", 0.07)),
    )
    return out


def _timed(func, repeats: int):
    best_cpu, best_wall, result = np.inf, np.inf, None
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = func()
        best_wall = min(best_wall, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - started_cpu)
    return best_cpu, best_wall, result


def _pipeline(api, df: pd.DataFrame, bin_ms: float, new_bin: float, event: str | None, targets: list[str],
              repeats: int) -> dict[str, tuple[float, float]]:
    """CPU and wall seconds of rebin, align_event and process_data with one API (ours or upstream's)."""
    times = {}
    if api is not OURS and float(new_bin).is_integer():
        new_bin = int(new_bin)  # upstream's align_event needs an int bin (float bins crash its bfill limit)
    fresh = df.copy() if api is not OURS else df  # upstream may modify its input; copies are not timed
    cpu, wall, binned = _timed(lambda: api.rebin(fresh, bin_ms, new_bin), repeats)
    times["rebin"] = (cpu, wall)
    if event is not None:
        fresh = binned.copy() if api is not OURS else binned
        cpu, wall, _ = _timed(lambda: api.align_event(fresh, event, new_bin, -200, 600), repeats)
        times["align_event"] = (cpu, wall)
    kwargs = {"zscore": True}
    cpu, wall, _ = _timed(lambda: api.process_data(binned, 5, *RANGES, targets, **kwargs), repeats)
    times["process_data"] = (cpu, wall)
    return times


def _interleaved(upstream, df, bin_ms, new_bin, event, targets, repeats):
    """Best of ``repeats`` rounds, each running ours then upstream's, so a busy spell hits both sides alike
    (upstream runs once when one run takes over 10 s CPU)."""
    ours, theirs = None, None
    for _ in range(repeats):
        fresh = _pipeline(OURS, df, bin_ms, new_bin, event, targets, 1)
        ours = fresh if ours is None else {s: tuple(map(min, ours[s], fresh[s])) for s in ours}
        if upstream is None or (theirs is not None and sum(c for c, _ in theirs.values()) >= 10):
            continue
        fresh = _pipeline(upstream, df, bin_ms, new_bin, event, targets, 1)
        theirs = fresh if theirs is None else {s: tuple(map(min, theirs[s], fresh[s])) for s in theirs}
    return ours, theirs


class _Ours:
    rebin, align_event, process_data = staticmethod(rebin), staticmethod(align_event), staticmethod(process_data)


OURS = _Ours()


def part_speed(args: argparse.Namespace) -> None:
    print(f"\nPart 2: rebin + align_event + process_data, ours vs upstream, same frames, CPU seconds (best of "
          f"{args.repeats} interleaved rounds; upstream once when it takes over 10 s)")
    upstream = None
    if args.upstream:
        sys.path.insert(0, str(Path(args.upstream).resolve()))
        upstream = importlib.import_module("api_neurotask")
        print(f"  upstream: {upstream.__file__}")
    else:
        print("  upstream comparison SKIPPED: pass --upstream FOLDER holding upstream's api_neurotask.py "
              "(git show HEAD:api_neurotask.py in github.com/catniplab/NeuroTask).")
    import warnings

    warnings.filterwarnings("ignore")  # upstream's pandas deprecation warnings
    rows = []
    for label, spec in shapes(args.shape_rows).items():
        if args.shapes and not any(word in label for word in args.shapes):
            continue
        raw, _ = simulate_dataset(spec, seed=1)
        df = as_schema(raw)
        del raw
        bin_ms = float(spec.bin_ms)
        new_bin = 20.0 if bin_ms < 20 else 2 * bin_ms
        events = event_columns(df)
        event = next((e for e in ("EventGo_cue", "EventTarget_Onset", "EventMovement_start") if e in events), None)
        try:
            targets = velocity_columns(df)
        except ValueError:
            targets = ["force_x", "force_y"]
        n_sessions = df.groupby(["animal", "session"]).ngroups
        print(f"\n  {label}: {len(df):,} rows x {df.shape[1]} columns, {bin_ms:g} -> {new_bin:g} ms, "
              f"{n_sessions} sessions, align on {event or '(no event: align skipped)'}, targets {targets}")
        ours, theirs = _interleaved(upstream, df, bin_ms, new_bin, event, targets, args.repeats)
        for step, (cpu, wall) in ours.items():
            line = f"    {step:13s} ours {cpu:7.3f} s CPU ({wall:6.3f} wall)"
            if theirs:
                up_cpu, up_wall = theirs[step]
                line += f"   upstream {up_cpu:7.2f} s CPU ({up_wall:6.2f} wall)   {up_cpu / cpu:6.0f}x"
            print(line)
        total = sum(c for c, _ in ours.values())
        row = {"shape": label, "rows": len(df), "ours_s": total}
        if theirs:
            up_total = sum(c for c, _ in theirs.values())
            row.update(upstream_s=up_total, ratio=up_total / total)
            print(f"    {'total':13s} ours {total:7.3f} s CPU   upstream {up_total:7.2f} s CPU   {up_total / total:6.0f}x "
                  f"({'goal >= 40x met' if up_total / total >= 40 else 'BELOW the 40x goal'})")
        rows.append(row)
        del df
    print("\n  Summary (CPU seconds, rebin + align + process_data):")
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    print("  Timings from this machine, this run; a busy machine inflates both sides.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("load", "speed", "all"), default="all")
    parser.add_argument("--upstream", help="folder holding upstream's api_neurotask.py (for the side-by-side)")
    parser.add_argument("--rows", type=int, default=8_300_000, help="rows of the Maze-size file (1 ms)")
    parser.add_argument("--neurons", type=int, default=200)
    parser.add_argument("--full-rows", type=int, default=1_000_000, help="rows of the file loaded at 1 ms")
    parser.add_argument("--nwb-rows", type=int, default=770_000)
    parser.add_argument("--nwb-units", type=int, default=167)
    parser.add_argument("--shape-rows", type=int, default=206_000, help="rows of each speed shape")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds (ours, upstream) per shape")
    parser.add_argument("--shapes", nargs="*", help="only the shapes whose label contains one of these words")
    parser.add_argument("--child-load", help=argparse.SUPPRESS)
    parser.add_argument("--bin-ms", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_load:
        child_load(args.child_load, args.bin_ms)
        return
    if args.part in ("load", "all"):
        part_load(args)
    if args.part in ("speed", "all"):
        part_speed(args)


if __name__ == "__main__":
    main()
