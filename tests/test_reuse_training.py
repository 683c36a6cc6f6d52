"""reuse_training: the student notebooks of a `make test` run reuse the chapters' trainings, exactly."""

from __future__ import annotations

import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course_utils import training  # noqa: E402
from course_utils.training import REUSE_ENV, reuse_training  # noqa: E402


def _net(seed: int = 0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.1), torch.nn.Linear(4, 1))


def _train(net, steps: int, log: list):
    def train():
        log.append(steps)
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        x = torch.randn(16, 3)
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            loss = net(x).pow(2).mean()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        net.eval()
        np.random.rand(3)  # noqa: NPY002 (the legacy global generator is what must be restored)
        random.random()
        return {"loss": losses, "final": np.float32(losses[-1]), "curve": np.arange(3, dtype=np.uint32),
                "pair": (1, "a"), "none": None}

    return train


def _run_notebook(steps: int = 5, seed: int = 0):
    """What one notebook does: seeds, builds a net, trains it, then draws from the global generators."""
    training._CALLS.clear()  # a fresh kernel
    torch.manual_seed(1)
    np.random.seed(1)  # noqa: NPY002
    random.seed(1)
    net, log = _net(seed), []
    result = reuse_training(net, _train(net, steps, log), key={"steps": steps})
    after = (torch.rand(2).tolist(), np.random.rand(2).tolist(), random.random())  # noqa: NPY002
    return net, result, after, log


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (np.ndarray, np.generic)):
        return type(a) is type(b) and a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


def test_without_the_variable_it_just_trains(monkeypatch, tmp_path):
    monkeypatch.delenv(REUSE_ENV, raising=False)
    _, _, _, log1 = _run_notebook()
    _, _, _, log2 = _run_notebook()
    assert log1 == log2 == [5]
    assert not list(tmp_path.iterdir())


def test_second_run_reuses_weights_result_modes_and_random_states(monkeypatch, tmp_path):
    monkeypatch.delenv(REUSE_ENV, raising=False)
    reference = _run_notebook()  # trained, nothing stored
    monkeypatch.setenv(REUSE_ENV, str(tmp_path))
    first = _run_notebook()  # the instructor chapter: trains and stores
    second = _run_notebook()  # the student notebook: reuses
    assert first[3] == [5] and second[3] == []
    assert len(list(tmp_path.glob("trained-*.pt"))) == 1
    for run in (first, second):
        net, result, after, _ = run
        assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), reference[0].state_dict().values(), strict=True))
        assert not net.training and not net[1].training  # eval mode, as the training left it
        assert _same(result, reference[1]), (result, reference[1])
        assert after == reference[2]  # later cells draw the same random numbers


def test_anything_that_changes_the_training_trains_again(monkeypatch, tmp_path):
    monkeypatch.setenv(REUSE_ENV, str(tmp_path))
    _run_notebook(steps=5)
    assert _run_notebook(steps=6)[3] == [6]  # another setting
    assert _run_notebook(steps=5, seed=3)[3] == [5]  # other initial weights (e.g. a stub changed the model)
    training._CALLS.clear()
    training._CALLS[""] = 1  # the same training as a notebook's second one (of its loop): not the first's
    net, log = _net(0), []
    reuse_training(net, _train(net, 5, log), key={"steps": 5})
    assert log == [5]


def test_a_training_a_stub_skips_shifts_only_the_count_of_its_own_loop(monkeypatch, tmp_path):
    """Chapter 7: exercise 7.2's protocol runs are stubs in the student notebook; the network trained after
    them by another loop is still reused."""
    monkeypatch.setenv(REUSE_ENV, str(tmp_path))

    def notebook(protocol_runs: int) -> list[tuple[str, int]]:
        training._CALLS.clear()  # a fresh kernel
        logs = []
        for loop, steps in [("protocol", 3)] * protocol_runs + [("network", 4), ("protocol", 5)]:
            net, log = _net(0), []
            reuse_training(net, _train(net, steps, log), key={"loop": loop, "steps": steps})
            logs.append((loop, len(log)))
        return logs

    assert notebook(2) == [("protocol", 1), ("protocol", 1), ("network", 1), ("protocol", 1)]  # instructor
    # student: one protocol run stubbed out; the network is reused, the later protocol run (now the 2nd of its
    # loop, the 3rd in the instructor run) trains again
    assert notebook(1) == [("protocol", 0), ("network", 0), ("protocol", 1)]


def test_results_that_cannot_be_stored_safely_are_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(REUSE_ENV, str(tmp_path))
    net = _net()
    with pytest.raises(TypeError, match="cannot store a object safely"):
        reuse_training(net, lambda: object(), key={})
    assert not list(tmp_path.glob("trained-*.pt"))
