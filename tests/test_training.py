"""course_utils.training: seeding, the device rule, early stopping, history, and reuse by the three loops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from course_utils import banner, training  # noqa: E402
from course_utils.training import (  # noqa: E402
    DEVICE_ENV,
    GPU_MIN_WORK,
    REUSE_ENV,
    EarlyStopping,
    History,
    device_summary,
    select_device,
)

# ------------------------------------------------------------------------------------------------ device


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def fake_gpu(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Fake GPU")


def test_auto_without_a_gpu_is_the_cpu(no_gpu):
    assert select_device() == torch.device("cpu")
    assert select_device("auto", work=10**9) == torch.device("cpu")
    assert device_summary() == f"device: cpu (no CUDA device; {DEVICE_ENV}=auto)"


def test_auto_with_a_gpu_uses_it_for_large_networks_only(fake_gpu, monkeypatch):
    assert select_device() == torch.device("cuda", 0)  # the Sensorium model (convolutions): any size
    assert select_device(work=GPU_MIN_WORK) == torch.device("cuda", 0)
    assert select_device(work=128 * 64) == torch.device("cpu")  # the default decoders
    assert select_device(work=16 * 64) == torch.device("cpu")  # the chapters' task networks
    monkeypatch.setenv("LOCAL_RANK", "1")  # one process of torchrun
    assert select_device() == torch.device("cuda", 1)
    assert "Fake GPU" in device_summary() and "auto" in device_summary()


def test_environment_variable_forces_a_device(fake_gpu, monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert select_device() == torch.device("cpu")
    assert device_summary() == f"device: cpu ({DEVICE_ENV}=cpu)"
    monkeypatch.setenv(DEVICE_ENV, " CUDA ")
    assert select_device(work=1) == torch.device("cuda", 0)  # forced even for a tiny network
    assert select_device("cpu") == torch.device("cpu")  # the argument wins over the variable
    assert select_device("cuda:1") == torch.device("cuda", 1)


def test_cuda_without_a_gpu_is_a_clear_error(no_gpu, monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "cuda")
    with pytest.raises(RuntimeError, match=rf"\${DEVICE_ENV}=cuda asks for a GPU.*no CUDA device.*Colab"):
        select_device()
    with pytest.raises(RuntimeError, match="no CUDA device"):
        device_summary()
    monkeypatch.delenv(DEVICE_ENV)
    with pytest.raises(RuntimeError, match="device='cuda' asks for a GPU"):
        select_device("cuda")


def test_bad_settings_name_the_variable_or_argument(no_gpu, monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "gpu")
    with pytest.raises(ValueError, match=rf"\${DEVICE_ENV}='gpu'.*auto, cpu, cuda"):
        select_device()
    with pytest.raises(ValueError, match="device must be one of"):
        select_device("tpu")


def test_banner_prints_the_device_once_torch_is_imported(no_gpu, capsys):
    banner("x")
    assert capsys.readouterr().out.rstrip().endswith(f"| device: cpu (no CUDA device; {DEVICE_ENV}=auto)")


# -------------------------------------------------------------------------------- early stopping, history


def test_early_stopping_keeps_and_restores_the_best_weights():
    net = torch.nn.Linear(1, 1, bias=False)
    stop = EarlyStopping(patience=2)
    decisions = []
    for epoch, (weight, loss) in enumerate([(1.0, 3.0), (2.0, 1.0), (3.0, 1.5), (4.0, float("nan"))], start=1):
        with torch.no_grad():
            net.weight.fill_(weight)
        decisions.append(stop.update(loss, net, epoch))
    assert decisions == [False, False, False, True]  # NaN never improves
    assert (stop.best, stop.best_epoch) == (1.0, 2)
    stop.restore(net)
    assert net.weight.item() == 2.0


def test_early_stopping_max_mode_and_min_delta():
    net = torch.nn.Linear(1, 1)
    stop = EarlyStopping(patience=1, mode="max", min_delta=0.1)
    assert not stop.update(0.5, net, 1)
    assert stop.update(0.55, net, 2)  # not better by more than min_delta
    assert stop.best_epoch == 1
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(3, mode="best")
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(0)


def test_history_is_a_dict_of_columns():
    h = History("epoch", "loss")
    h.log(epoch=1, loss=0.5)
    h.log(epoch=2, loss=0.25)
    assert h == {"epoch": [1, 2], "loss": [0.5, 0.25]}
    pd.testing.assert_frame_equal(h.to_frame(), pd.DataFrame(h))
    with pytest.raises(ValueError, match="per row"):
        h.log(epoch=3)


def test_one_seed_function():
    from course_utils import tasks

    assert tasks.set_seed is training.set_seed
    training.set_seed(3)
    a = (np.random.rand(), torch.rand(1).item())  # noqa: NPY002
    training.set_seed(3)
    assert a == (np.random.rand(), torch.rand(1).item())  # noqa: NPY002


# --------------------------------------------------------------------------- the loops use the device rule


def _spy_device(monkeypatch, module, calls):
    real = training.select_device

    def spy(device=None, *, work=None):
        calls.append(work)
        return real(device, work=work)

    monkeypatch.setattr(module, "select_device", spy)


def test_decoder_asks_for_its_size_and_keeps_its_network_on_the_cpu(no_gpu, monkeypatch):
    from course_utils.decoding import neural

    calls = []
    _spy_device(monkeypatch, neural, calls)
    X = np.random.default_rng(0).normal(size=(200, 3, 2))
    dec = neural.FeedForwardDecoder(hidden_size=8, batch_size=32, max_epochs=2, progress=False)
    dec.fit(X, X[:, -1, :1])
    assert calls == [32 * 8]
    assert {p.device.type for p in dec.module_.parameters()} == {"cpu"}
    monkeypatch.setenv(DEVICE_ENV, "cuda")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        neural.FeedForwardDecoder(hidden_size=8, max_epochs=1, progress=False).fit(X, X[:, -1, :1])
    dec2 = neural.FeedForwardDecoder(hidden_size=8, batch_size=32, max_epochs=2, progress=False, device="cpu")
    np.testing.assert_array_equal(dec2.fit(X, X[:, -1, :1]).predict(X), dec.predict(X))


def test_task_network_trains_on_the_chosen_device_and_comes_back(no_gpu, monkeypatch):
    from course_utils.tasks import RecurrentNetwork, make_dataset, train_network
    from course_utils.tasks import training as task_training

    calls, seen = [], []
    _spy_device(monkeypatch, task_training, calls)
    net = RecurrentNetwork(3, 3, hidden_size=8)
    ds = make_dataset("PerceptualDecisionMaking-v0", batch_size=4, seq_len=20, seed=0)
    train_network(net, ds, n_steps=2, progress=False, callback_every=1,
                  callback=lambda step, h: seen.append(next(net.parameters()).device.type))
    assert calls == [4 * 8] and seen == ["cpu", "cpu"]
    assert next(net.parameters()).device.type == "cpu"
    monkeypatch.setenv(DEVICE_ENV, "cuda")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        train_network(net, ds, n_steps=1, progress=False)


# ------------------------------------------------------------------------------- reuse by the entry points


def _fresh_kernel():
    training._CALLS.clear()


def test_train_network_is_reused_exactly_and_leaves_the_dataset_where_training_did(monkeypatch, tmp_path):
    from course_utils.tasks import RecurrentNetwork, make_dataset, set_seed, train_network
    from course_utils.tasks import training as task_training

    runs = []
    real = task_training._train_steps
    monkeypatch.setattr(task_training, "_train_steps", lambda *a, **k: runs.append(1) or real(*a, **k))

    def notebook():
        _fresh_kernel()
        set_seed(0)
        net = RecurrentNetwork(3, 3, hidden_size=8)
        ds = make_dataset("PerceptualDecisionMaking-v0", batch_size=4, seq_len=20, seed=0)
        hist = train_network(net, ds, n_steps=3, progress=False, callback_every=2,
                             callback=lambda step, h: {"n": len(h.loss)})
        return net, hist, ds(), torch.rand(1)

    monkeypatch.delenv(REUSE_ENV, raising=False)
    reference = notebook()
    monkeypatch.setenv(REUSE_ENV, str(tmp_path))
    notebook()  # the instructor chapter: trains and stores
    assert len(runs) == 2
    net, hist, batch, after = notebook()  # the student notebook: reuses
    assert len(runs) == 2
    for a, b in zip(net.state_dict().values(), reference[0].state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert (hist.loss, hist.trials_seen, hist.evaluations) == (
        reference[1].loss, reference[1].trials_seen, reference[1].evaluations)
    assert hist.evaluations == [{"step": 2, "trials_seen": hist.evaluations[0]["trials_seen"], "n": 2},
                                {"step": 3, "trials_seen": hist.trials_seen, "n": 3}]
    np.testing.assert_array_equal(batch[0], reference[2][0])  # the dataset went on from the same point
    assert torch.equal(after, reference[3])  # and so do the global random states


def test_decoder_fit_is_reused(monkeypatch, tmp_path):
    from course_utils.decoding import GRUDecoder

    X = np.random.default_rng(0).normal(size=(200, 3, 2))
    y = X[:, -2, :1]
    monkeypatch.delenv(REUSE_ENV, raising=False)
    reference = GRUDecoder(hidden_size=8, max_epochs=3, progress=False).fit(X, y)
    monkeypatch.setenv(REUSE_ENV, str(tmp_path))
    for _ in range(2):
        _fresh_kernel()
        dec = GRUDecoder(hidden_size=8, max_epochs=3, progress=False).fit(X, y)
        np.testing.assert_array_equal(dec.predict(X), reference.predict(X))
        assert dec.history_ == reference.history_ and isinstance(dec.history_, History)
        assert (dec.best_epoch_, dec.n_epochs_) == (reference.best_epoch_, reference.n_epochs_)
    assert len(list(tmp_path.glob("trained-*.pt"))) == 1  # the second fit reused the first
    _fresh_kernel()
    GRUDecoder(hidden_size=8, max_epochs=3, progress=False).fit(X, y + 1)  # other data: trains again
    assert len(list(tmp_path.glob("trained-*.pt"))) == 2


def test_sensorium_train_model_reuse_writes_the_checkpoint(monkeypatch, tmp_path):
    from course_utils.sensorium import TrainConfig, load_checkpoint, train_model, write_demo_mice
    from course_utils.sensorium import training as sensorium_training

    root = tmp_path / "data"
    write_demo_mice(root, seed=1, n_mice=1, n_neurons=6, n_train=3, n_oracle_clips=2, n_repeats=2, max_frames=60,
                    min_frames=55)
    config = TrainConfig(epochs=2, max_steps=2, batch_size=2, frames_per_clip=20, hidden_channels=4, n_layers=1,
                         progress=False, learning_rate=1e-2)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="device='cuda' asks for a GPU"):
        train_model(root, config, device="cuda")
    runs = []
    real = sensorium_training._fit
    monkeypatch.setattr(sensorium_training, "_fit", lambda *a: runs.append(1) or real(*a))
    monkeypatch.setenv(REUSE_ENV, str(tmp_path / "reuse"))
    outputs = []
    for name in ("instructor.pt", "student.pt"):
        _fresh_kernel()
        model, history = train_model(root, config, checkpoint=tmp_path / name)
        outputs.append((model, history, load_checkpoint(tmp_path / name)))
    assert len(runs) == 1
    (m1, h1, (c1, info1)), (m2, h2, (c2, info2)) = outputs
    assert h1 == h2 and info1 == info2
    for a, b, c in zip(m1.state_dict().values(), m2.state_dict().values(), c2.state_dict().values(), strict=True):
        assert torch.equal(a, b) and torch.equal(a, c)


def test_reward_trained_agent_is_reused(monkeypatch, tmp_path):
    pytest.importorskip("sb3_contrib")
    from sb3_contrib import RecurrentPPO

    from course_utils.tasks import make_task, play_trials, train_agent

    learned = []
    real = RecurrentPPO.learn
    monkeypatch.setattr(RecurrentPPO, "learn", lambda self, *a, **k: learned.append(1) or real(self, *a, **k))

    def notebook(coherences=None):
        _fresh_kernel()
        env = make_task("PerceptualDecisionMaking-v0")
        if coherences is not None:
            env.unwrapped.cohs = coherences
        agent, history = train_agent(env, 8, n_envs=2, n_steps=8, batch_size=16, progress=False, eval_trials=5)
        return history, play_trials(agent, env, 10, seed=3), torch.rand(1).item()

    monkeypatch.setenv(REUSE_ENV, str(tmp_path))
    instructor = notebook()  # trains and stores
    history, played, after = notebook()  # the student notebook: reuses
    assert len(learned) == 1
    assert history == instructor[0]  # the stored history itself, wall-clock seconds included: not a retraining
    pd.testing.assert_frame_equal(played, instructor[1])  # same policy, same choices
    assert after == instructor[2]  # the random states go on as training left them
    notebook(coherences=np.array([0.0, 50.0]))  # another task: trains again
    assert len(learned) == 2
