"""rebin, align_event, process_data and trial_table on small hand-built frames with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.neurotask.preprocess import (
    DecodingArrays,
    align_event,
    process_data,
    rebin,
    trial_bounds,
    trial_table,
)


def frame(trial_lengths, animal=1, session=1, **columns):
    """Rows of consecutive trials (trial ids 1, 2, ...) with the given extra columns."""
    trial_id = np.repeat(np.arange(1, len(trial_lengths) + 1, dtype=float), trial_lengths)
    df = pd.DataFrame({"datasetID": 2, "animal": animal, "session": session, "trial_id": trial_id})
    df["task"] = "CenterOut"
    df["result"] = "R"
    for name, values in columns.items():
        df[name] = values
    return df


# ----------------------------------------------------------------------------------------- trial bounds


def test_trial_bounds_and_errors():
    df = frame([3, 2])
    starts, ends = trial_bounds(df)
    assert starts.tolist() == [0, 3] and ends.tolist() == [3, 5]
    shuffled = df.iloc[[0, 3, 1, 2, 4]]
    with pytest.raises(ValueError, match="not contiguous"):
        trial_bounds(shuffled)
    with pytest.raises(ValueError, match="trial_id"):
        trial_bounds(df.drop(columns="trial_id"))
    bad = df.copy()
    bad.loc[1, "trial_id"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        trial_bounds(bad)


# ----------------------------------------------------------------------------------------- rebin


def test_rebin_known_answer_with_trial_edges():
    # trial 1 has 5 rows, trial 2 has 3: bins (0,1) (2,3) | (5,6); rows 4 and 7 are partial and dropped
    df = frame(
        [5, 3],
        Neuron1=[1, 2, 3, 4, 5, 6, 7, 8],
        Neuron2=np.full(8, np.nan),
        hand_vel_x=[0.0, 2, 4, np.nan, 100, 1, 3, 100],
        target_dir=[45.0] * 5 + [90.0] * 3,
        EventGo_cue=[False, True, False, False, False, False, False, True],
    )
    out = rebin(df, 10, 20)
    assert out["trial_id"].tolist() == [1.0, 1.0, 2.0]
    assert out["Neuron1"].tolist() == [3, 7, 13]
    assert out["Neuron2"].isna().all()  # a NaN neuron stays NaN (upstream: 0)
    assert out["hand_vel_x"].tolist() == [1.0, 4.0, 2.0]  # mean, NaN ignored
    assert out["target_dir"].tolist() == [45.0, 45.0, 90.0]
    assert out["EventGo_cue"].tolist() == [True, False, False]  # the event in row 7 was in a partial bin
    assert list(out.columns) == list(df.columns)
    kept = rebin(df, 10, 20, drop_partial=False)
    assert kept["Neuron1"].tolist() == [3, 7, 5, 13, 8]
    assert kept["EventGo_cue"].tolist() == [True, False, False, False, True]


def test_rebin_never_straddles_trials_and_keeps_animal_order():
    a2 = frame([4], animal=2, Neuron1=[1, 1, 1, 1])
    a1 = frame([4], animal=1, Neuron1=[5, 5, 5, 5])
    df = pd.concat([a2, a1], ignore_index=True)  # animal 2 first, as in a file; same session/trial ids
    out = rebin(df, 10, 20)
    assert out["animal"].tolist() == [2, 2, 1, 1]
    assert out["Neuron1"].tolist() == [2, 2, 10, 10]


def test_rebin_integer_counts_do_not_overflow():
    df = frame([4], Neuron1=np.full(4, 200, dtype=np.uint8))
    out = rebin(df, 1, 4)
    assert out["Neuron1"].tolist() == [800]


def test_rebin_how_override_and_identity():
    df = frame([4], Neuron1=[1, 2, 3, 4], hand_vel_x=[1.0, 2, 3, 4])
    out = rebin(df, 10, 20, how={"hand_vel_x": "sum"})
    assert out["hand_vel_x"].tolist() == [3.0, 7.0]
    same = rebin(df, 10, 10)
    assert same["Neuron1"].tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("prev", "new", "match"),
    [(10, 25, "whole number"), (10, 5, "whole number"), (0, 10, "positive"), (10, -20, "positive")],
)
def test_rebin_bad_sizes(prev, new, match):
    with pytest.raises(ValueError, match=match):
        rebin(frame([4], Neuron1=[1, 2, 3, 4]), prev, new)


def test_rebin_bad_how_and_short_trials():
    df = frame([2, 3], Neuron1=[1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="median"):
        rebin(df, 10, 20, how={"Neuron1": "median"})
    with pytest.raises(ValueError, match="nope"):
        rebin(df, 10, 20, how={"nope": "sum"})
    with pytest.raises(ValueError, match="shorter"):
        rebin(df, 10, 40)


# ----------------------------------------------------------------------------------------- align_event


def _go(lengths, event_rows):
    flags = np.zeros(sum(lengths), dtype=bool)
    flags[list(event_rows)] = True
    return frame(lengths, Neuron1=np.arange(sum(lengths)), EventGo_cue=flags)


def test_align_readme_example_gives_22_bins():
    df = _go([40], [5])
    out = align_event(df, "EventGo_cue", bin_size=20, offset_min=-20, offset_max=400)
    assert len(out) == 22
    assert out["Neuron1"].tolist() == list(range(4, 26))
    assert out["time_from_event_ms"].tolist() == [20.0 * i for i in range(-1, 21)]


def test_align_clips_to_trial_and_drops_trials_without_event():
    # trial 1: event in its first row (no room before); trial 2: no event; trial 3: short, event near end
    df = _go([6, 5, 4], [0, 13])
    out = align_event(df, "EventGo_cue", bin_size=10, offset_min=-20, offset_max=30)
    assert out["trial_id"].tolist() == [1, 1, 1, 1, 3, 3, 3, 3]
    assert out["Neuron1"].tolist() == [0, 1, 2, 3, 11, 12, 13, 14]  # trial 3 ends one bin after its event
    assert out["time_from_event_ms"].tolist() == [0, 10, 20, 30, -20, -10, 0, 10]
    assert out.index.tolist() == [0, 1, 2, 3, 11, 12, 13, 14]  # original index kept


def test_align_repeated_events_give_union_and_nearest_times():
    df = _go([20], [3, 10])
    out = align_event(df, "EventGo_cue", bin_size=10, offset_min=-10, offset_max=20)
    assert out["Neuron1"].tolist() == [2, 3, 4, 5, 9, 10, 11, 12]
    assert out["time_from_event_ms"].tolist() == [-10, 0, 10, 20, -10, 0, 10, 20]


def test_align_open_ended_and_floor_division():
    df = _go([10], [4])
    out = align_event(df, "EventGo_cue", bin_size=10, offset_min=-15, offset_max=None)
    assert out["Neuron1"].tolist() == [3, 4, 5, 6, 7, 8, 9]  # -15 // 10 bins before = 1; to the trial's end
    only_event = align_event(df, "EventGo_cue", bin_size=10)
    assert only_event["Neuron1"].tolist() == [4, 5, 6, 7, 8, 9]


def test_align_pad_gives_fixed_windows():
    df = _go([6, 4], [1, 8])
    df["hand_vel_x"] = np.arange(10.0)
    out = align_event(df, "EventGo_cue", bin_size=10, offset_min=-30, offset_max=20, pad=True)
    assert len(out) == 2 * 6
    first, second = out.iloc[:6], out.iloc[6:]
    assert first["Neuron1"].isna().tolist() == [True, True, False, False, False, False]
    assert first["Neuron1"].tolist()[2:] == [0, 1, 2, 3]
    # event in row 8 (trial 2 = rows 6..9): rows 5 (trial 1) and 10 (beyond the table) are padding
    assert second["Neuron1"].isna().tolist() == [True, False, False, False, False, True]
    assert second["Neuron1"].tolist()[1:5] == [6, 7, 8, 9]
    assert np.isnan(second["hand_vel_x"].iloc[0]) and np.isnan(second["hand_vel_x"].iloc[5])
    assert second["trial_id"].tolist() == [2.0] * 6  # padding rows keep the trial's ids
    assert out["EventGo_cue"].sum() == 2
    assert out["time_from_event_ms"].tolist() == [-30, -20, -10, 0, 10, 20] * 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"start_event": "EventNope"}, "has no event .EventNope.; its events are"),
        ({"offset_min": 20}, "offset_min"),
        ({"offset_max": -20}, "offset_max"),
        ({"bin_size": 0}, "bin_size"),
        ({"pad": True, "offset_max": None}, "pad=True"),
    ],
)
def test_align_bad_inputs(kwargs, match):
    args = {"start_event": "EventGo_cue", "bin_size": 10, "offset_min": -10, "offset_max": 20} | kwargs
    with pytest.raises(ValueError, match=match):
        align_event(_go([5], [2]), **args)


def test_align_without_any_event_is_an_error():
    with pytest.raises(ValueError, match="No trial of .* has the event"):
        align_event(_go([5], []), "EventGo_cue", 10)


# ----------------------------------------------------------------------------------------- trial_table


def test_trial_table_event_times_and_repeated_events():
    df = _go([5, 4], [2, 4, 6])
    df["target_dir"] = [0.0] * 5 + [90.0] * 4
    table = trial_table(df, bin_ms=20)
    assert table["EventGo_cue_ms"].tolist() == [40.0, 20.0]  # first occurrence, from the trial start
    assert table["duration_ms"].tolist() == [100.0, 80.0]
    assert table["target_dir"].tolist() == [0.0, 90.0]
    with pytest.raises(ValueError, match="bin_ms"):
        trial_table(df, 0)


# ----------------------------------------------------------------------------------------- process_data


def _session(lengths, animal=1, session=1, n_neurons=2, seed=0):
    rng = np.random.default_rng(seed)
    n = sum(lengths)
    columns = {f"Neuron{j + 1}": rng.poisson(3, n).astype(float) for j in range(n_neurons)}
    columns["hand_vel_x"] = np.arange(n, dtype=float)
    columns["hand_vel_y"] = -np.arange(n, dtype=float)
    return frame(lengths, animal=animal, session=session, **columns)


RANGES = ([0, 0.6], [0.6, 0.8], [0.8, 1.0])


def test_process_data_known_windows_without_trials():
    df = _session([100])
    X_tr, y_tr, X_va, y_va, X_te, y_te = process_data(
        df, 2, *RANGES, ["hand_vel_x", "hand_vel_y"], respect_trials=False
    )
    spikes = df[["Neuron1", "Neuron2"]].to_numpy()
    # training targets are rows 2..59 (the first 2 rows only serve as history)
    assert X_tr[0].shape == (58, 3, 2) and y_tr[0].shape == (58, 2)
    assert X_tr[0].dtype == np.float32
    np.testing.assert_array_equal(X_tr[0][0], spikes[0:3])
    np.testing.assert_array_equal(y_tr[0][:, 0], np.arange(2, 60))
    assert y_va[0][0, 0] == 62 and y_te[0][-1, 0] == 99  # each split's first bins_before rows are history
    # views of one float32 copy of the counts: no per-lag copy
    assert not X_tr[0].flags.owndata and X_tr[0].base is not None
    assert X_tr[0].strides[0] == X_tr[0].strides[1]  # consecutive windows overlap in memory


def test_process_data_respects_trials():
    df = _session([10, 10, 10, 10, 10])
    X_tr, y_tr, *_ = process_data(df, 3, [0, 0.6], [0.6, 0.8], [0.8, 1.0], ["hand_vel_x"])
    targets = y_tr[0][:, 0].astype(int)
    assert targets.tolist() == [3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 18, 19, 23, 24, 25, 26, 27, 28, 29]
    assert y_tr[0].ndim == 2  # 2-D target when bins_after == 1
    spikes = df[["Neuron1", "Neuron2"]].to_numpy()
    np.testing.assert_array_equal(X_tr[0][7], spikes[10:14])  # the first target of trial 2 sees only trial 2


def test_process_data_bins_after_gives_3d_targets_inside_trials():
    df = _session([10, 10])
    _, y_tr, *_ = process_data(df, 1, [0, 0.5], [0.5, 0.75], [0.75, 1.0], ["hand_vel_x"], bins_after=3)
    assert y_tr[0].shape == (7, 3, 1)
    assert y_tr[0][0, :, 0].tolist() == [1, 2, 3]
    assert y_tr[0][-1, :, 0].tolist() == [7, 8, 9]  # never past the trial's (and split's) last bin


def test_process_data_zscore_uses_training_statistics_only():
    df = _session([200], n_neurons=3)
    df.loc[150:, "Neuron1"] += 50  # a shift in the test period must not leak into the statistics
    X_tr, y_tr, _, _, X_te, y_te = process_data(
        df, 0, [0, 0.7], [0.7, 0.75], [0.75, 1.0], ["hand_vel_x"], zscore=True, respect_trials=False
    )
    train = df["Neuron1"].to_numpy()[:140]
    np.testing.assert_allclose(X_tr[0][:, 0, 0].mean(), 0, atol=1e-5)
    np.testing.assert_allclose(
        X_te[0][:, 0, 0], (df["Neuron1"].to_numpy()[150:] - train.mean()) / train.std(), rtol=1e-4
    )
    np.testing.assert_allclose(y_tr[0].mean(), 0, atol=1e-3)
    assert y_te[0].mean() > 50  # centred on the training mean, not its own


def test_process_data_drops_nan_and_silent_neurons_per_session():
    a = _session([30], animal=1, n_neurons=3)
    b = _session([30], animal=2, n_neurons=3, seed=1)
    b["Neuron3"] = np.nan  # session b has 2 units
    a["Neuron2"] = 0.0  # a silent unit
    out = process_data(pd.concat([a, b], ignore_index=True), 1, *RANGES, ["hand_vel_x"])
    assert isinstance(out, DecodingArrays)
    assert [s["neurons"] for s in out.sessions] == [["Neuron1", "Neuron3"], ["Neuron1", "Neuron2"]]
    assert [s["key"]["animal"] for s in out.sessions] == [1, 2]
    assert out.X_train[0].shape[2] == 2 and out.X_train[1].shape[2] == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bins_before": -1}, "bins_before"),
        ({"bins_before": 1.5}, "bins_before"),
        ({"bins_after": 0}, "bins_after"),
        ({"training_range": [0, 0.8]}, "overlap"),
        ({"testing_range": [0.9, 0.8]}, "start < end"),
        ({"testing_range": "all"}, "pair"),
        ({"behavior_columns": ["nope"]}, "nope"),
        ({"behavior_columns": []}, "empty"),
        ({"bins_before": 30}, "leaves no bins"),
    ],
)
def test_process_data_bad_inputs(kwargs, match):
    args = {
        "bins_before": 2,
        "training_range": [0, 0.7],
        "valid_range": [0.7, 0.8],
        "testing_range": [0.8, 1.0],
        "behavior_columns": ["hand_vel_x"],
    } | kwargs
    with pytest.raises(ValueError, match=match):
        process_data(_session([40]), **args)


def test_process_data_rejects_padded_frames_and_nan_targets():
    df = _session([40])
    df.loc[3, "Neuron1"] = np.nan
    with pytest.raises(ValueError, match="padding"):
        process_data(df, 1, *RANGES, ["hand_vel_x"])
    df = _session([40])
    df.loc[3, "hand_vel_x"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        process_data(df, 1, *RANGES, ["hand_vel_x"])


@pytest.mark.parametrize("k", [2, 3, 4, 20])
@pytest.mark.parametrize("rule", ["sum", "mean", "any", "first"])
def test_reduce_segments_fast_paths_match_the_definition(k, rule):
    """Every kernel path (k gathers, or one product over (.., k) blocks) gives the plain per-bin answer."""
    from course_utils.neurotask.preprocess import bin_segments, reduce_segments

    rng = np.random.default_rng(k)
    values = rng.poisson(1.5, (3, 500)).astype(np.float32)
    values[1, 100:130] = np.nan  # a NaN inside some bins
    values[2] = np.nan  # an absent unit
    lengths = rng.integers(5, 60, 20)
    ends = np.cumsum(lengths)
    ends = ends[ends <= 500]
    starts = np.append(0, ends[:-1])
    for drop_partial in (True, False):
        seg_start, seg_len = bin_segments(starts, ends, k, drop_partial)
        got = reduce_segments(values, seg_start, seg_len, k, rule)
        for j, (a, n) in enumerate(zip(seg_start, seg_len, strict=True)):
            chunk = values[:, a : a + n]
            expected = {
                "sum": chunk.sum(axis=1),
                "mean": np.array([np.nan if np.isnan(c).all() else np.nanmean(c) for c in chunk]),
                "any": (np.nan_to_num(chunk) != 0).any(axis=1),
                "first": chunk[:, 0],
            }[rule]
            np.testing.assert_allclose(got[:, j], expected, rtol=1e-6, equal_nan=True)


# ------------------------------------------------------------------ bin_ms carried in df.attrs (issue 15)


def _attrs_table(bin_ms=None):
    df = pd.DataFrame({"animal": 1, "session": 1, "trial_id": [1.0] * 4 + [2.0] * 4, "Neuron1": range(8),
                       "EventGo_cue": [False, True, False, False] * 2})
    if bin_ms is not None:
        df.attrs["bin_ms"] = bin_ms
    return df


def test_rebin_and_align_read_and_record_the_bin_size():
    from course_utils.neurotask import table_bin_ms

    df = _attrs_table(10.0)
    out = rebin(df, bin_ms=20)
    assert out.attrs["bin_ms"] == 20.0 and out["Neuron1"].tolist() == [1, 5, 9, 13]
    assert rebin(df, 10, 20).equals(out) and rebin(df, 10, 20).attrs["bin_ms"] == 20.0
    aligned = align_event(out, "EventGo_cue", offset_min=-20, offset_max=20)  # 20 ms read from attrs
    assert aligned.attrs["bin_ms"] == 20.0
    assert aligned["time_from_event_ms"].tolist() == align_event(out, "EventGo_cue", 20, -20, 20)["time_from_event_ms"].tolist()
    assert table_bin_ms(out) == 20.0


def test_bin_size_errors_name_the_argument_and_the_fix():
    with pytest.raises(ValueError, match=r"prev_bin_size: this table does not record its bin size.*prev_bin_size=10"):
        rebin(_attrs_table(), bin_ms=20)
    with pytest.raises(ValueError, match=r"bin_size=10 ms, but the table records df.attrs\['bin_ms'\] = 20"):
        align_event(_attrs_table(20.0), "EventGo_cue", 10, -10, 10)
    with pytest.raises(ValueError, match="disagree"):
        rebin(_attrs_table(10.0), 10, 20, bin_ms=40)
    with pytest.raises(ValueError, match=r"rebin\(df, bin_ms=20\)"):
        rebin(_attrs_table(10.0))


# ------------------------------------------------------------------ the two segment kernels agree (issue 12 speed)


@pytest.mark.parametrize("dtype, counts", [(np.float32, True), (np.float32, False), (np.float64, True),
                                           (np.float64, False), (np.uint8, True), (np.uint16, True),
                                           (np.uint64, True), (np.int64, True), (bool, True)])
@pytest.mark.parametrize("k", [2, 3, 5, 7, 20])
def test_reduceat_and_gather_kernels_agree(k, dtype, counts, monkeypatch):
    """reduceat (long bins) and k gathers (short bins) agree, NaN padding and partial bins included: bit for bit
    on counts (integers, also stored as floats); to rounding on other floats (reduceat sums pairwise)."""
    import warnings

    import course_utils.neurotask.preprocess as preprocess
    from course_utils.neurotask.preprocess import (
        _bin_runs,
        _gathered_reduce,
        _reduceat_index,
        _run_products,
        bin_segments,
        reduce_segments,
    )

    monkeypatch.setattr(preprocess, "RUN_PRODUCT_MIN_VALUES", 0)  # small data: let every kernel run

    rng = np.random.default_rng(k)
    values = (rng.poisson(0.7, (4, 900)) if dtype is not bool else rng.random((4, 900)) < 0.1).astype(dtype)
    if np.dtype(dtype).kind == "f":
        values = values if counts else values + rng.random((4, 900)).astype(dtype)
        values[1, 400:] = np.nan  # a unit absent from the second session (padding)
        values[2, 37] = np.nan  # a NaN inside one bin
    lengths = rng.integers(3 * k, 9 * k, 40)
    lengths = lengths[np.cumsum(lengths) <= 900]  # the last rows belong to no trial
    ends = np.cumsum(lengths)
    starts = ends - lengths
    assert (lengths % k != 0).any()
    integer = values.dtype.kind in "iub"
    check = np.testing.assert_array_equal if counts else lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6)
    for drop_partial in (True, False):
        seg_start, seg_len = bin_segments(starts, ends, k, drop_partial)
        index = _reduceat_index(seg_start, seg_len, values.shape[1])
        for ufunc in (np.add, np.logical_or) if dtype is bool else (np.add,):
            dtype_out = np.int64 if integer and ufunc is np.add else None
            fast = ufunc.reduceat(values, index, axis=1, dtype=dtype_out)[:, ::2]
            check(fast, _gathered_reduce(ufunc, values, seg_start, seg_len, k, dtype_out))
        runs = _bin_runs(values, seg_start, seg_len, k) if values.dtype.kind == "f" else None
        if runs is not None:  # float sums over runs of full bins: one product per run
            check(_run_products(values, *runs, k), np.add.reduceat(values, index, axis=1)[:, ::2])
            assert drop_partial and len(runs[0]) <= len(lengths) and runs[2].sum() == len(seg_start)  # <= 1 per trial
        for rule in ("sum", "mean", "any"):
            expected = {"sum": lambda c: c.sum(axis=1, dtype=np.int64 if integer else None),
                        "mean": lambda c: np.nanmean(c.astype(np.float64), axis=1),
                        "any": lambda c: (np.nan_to_num(c.astype(np.float64)) != 0).any(axis=1)}[rule]
            got = reduce_segments(values, seg_start, seg_len, k, rule)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of an all-NaN bin
                want = np.column_stack([expected(values[:, a : a + n]) for a, n in zip(seg_start, seg_len, strict=True)])
            np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)


def test_reduceat_index_falls_back_where_reduceat_cannot_express_the_segments():
    from course_utils.neurotask.preprocess import _reduceat_index, reduce_segments

    assert _reduceat_index(np.array([0, 4]), np.array([2, 2]), 6).tolist() == [0, 2, 4]  # last runs to the end
    assert _reduceat_index(np.array([4, 0]), np.array([2, 2]), 6) is None  # a non-last segment ends the rows
    assert _reduceat_index(np.array([0, 3]), np.array([2, 0]), 6) is None  # an empty segment
    values = np.arange(12.0).reshape(2, 6)
    got = reduce_segments(values, np.array([4, 0]), np.array([2, 2]), 6, "sum")
    np.testing.assert_array_equal(got, [[9.0, 1.0], [21.0, 13.0]])


@pytest.mark.parametrize("factor", [2, 5, 20])
def test_rebin_fast_and_general_kernels_give_the_same_frame(monkeypatch, factor):
    """A whole rebin with every kernel forced to the general path equals the default one (NaN-padded units,
    trials whose length is not a multiple of the factor, integer and float counts, events, text columns)."""
    import course_utils.neurotask.preprocess as preprocess

    rng = np.random.default_rng(factor)
    lengths = rng.integers(2 * factor, 6 * factor, 12)
    n = lengths.sum()
    df = frame(
        lengths,
        Neuron1=rng.poisson(1, n).astype(np.float32),
        Neuron2=np.where(np.arange(n) < n // 2, rng.poisson(2, n), np.nan).astype(np.float32),
        Neuron3=rng.poisson(1, n).astype(np.uint8),
        cursor_vel_x=rng.normal(size=n),
        EventGo_cue=rng.random(n) < 0.05,
        target_dir=np.repeat(rng.uniform(-3, 3, len(lengths)), lengths),
    )
    df.loc[3, "cursor_vel_x"] = np.nan
    for drop_partial in (True, False):
        monkeypatch.setattr(preprocess, "RUN_PRODUCT_MIN_VALUES", 0)  # products over runs wherever possible
        runs = rebin(df, 1, factor, drop_partial=drop_partial)
        monkeypatch.setattr(preprocess, "RUN_PRODUCT_MIN_VALUES", 10**12)  # reduceat
        default = rebin(df, 1, factor, drop_partial=drop_partial)
        monkeypatch.setattr(preprocess, "REDUCEAT_MIN_K", 10**9)  # k gathers
        general = rebin(df, 1, factor, drop_partial=drop_partial)
        monkeypatch.undo()
        for other in (runs, general):
            pd.testing.assert_frame_equal(default, other)  # covariate means: equal to rounding
            for name in ("Neuron1", "Neuron2", "Neuron3", "EventGo_cue", "target_dir", "trial_id"):
                np.testing.assert_array_equal(default[name].to_numpy(), other[name].to_numpy())  # bit for bit
        assert default["Neuron2"].isna().any() and default["Neuron2"].notna().any()


def test_rebin_sums_uint64_counts_exactly():
    df = pd.DataFrame({"animal": 1, "session": 1, "trial_id": 0.0, "Neuron1": np.array([1, 0, 2, 3], np.uint64)})
    out = rebin(df, 10, 20)
    assert out["Neuron1"].tolist() == [1, 5]
