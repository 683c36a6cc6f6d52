"""One training helper for every network of the course: seed, device, early stopping, history, progress, reuse.

The course trains networks in three loops: the decoders of :mod:`course_utils.decoding.neural`, the task
networks of :mod:`course_utils.tasks.training` and the Sensorium model of
:mod:`course_utils.sensorium.training`. They share the pieces here, so that each concept has one name and one
behaviour:

* :func:`set_seed` seeds Python, NumPy and torch (a loop's ``seed`` argument calls it);
* :func:`select_device` applies the device rule below, :func:`device_summary` is what
  :func:`course_utils.banner` prints about it;
* :class:`EarlyStopping` keeps the best epoch's weights and says when ``patience`` has run out;
* :class:`History` holds one list per logged quantity (``pd.DataFrame(history)`` is its table);
* :func:`progress_bar` is the tqdm bar of a long loop; a sweep passes ``progress=False`` to its inner loops so
  that one bar shows the whole sweep;
* :func:`reuse_training` lets the student notebooks of ``make test`` reuse the instructor chapters' trainings.

**The device rule.** ``$COURSE_DEVICE`` is ``auto`` (the default), ``cpu`` or ``cuda``; a loop's own
``device`` argument wins over it. ``cpu`` and ``cuda`` force that device (``cuda`` without a GPU is an error
that says so). ``auto`` trains on the GPU when torch sees a CUDA device *and* the network gains from it:

* the Sensorium model (convolutions over video clips) always;
* a decoder or task network when ``batch_size x hidden_size >= GPU_MIN_WORK`` (32,768, e.g. 128 windows x 256
  units). The course's own settings (decoders 128 x 64 or 16 x 32, task networks 16 x 32-64) stay on the CPU:
  each time step of these networks is a matrix product of a few thousand numbers, where launching GPU kernels
  takes longer than the arithmetic. The threshold is an estimate: ``benchmarks/gpu_check.py`` times every loop
  on both devices on a machine with a GPU, to check it.

Under ``torchrun`` a process uses GPU ``$LOCAL_RANK``. Every loop gives its model back on the CPU (a model you
pass in comes back on the device it came in on), so the code after a training never depends on the device.

Taught in chapter 06_neurogym_tasks_and_rnns.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import random
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch is imported where it is used: `course_utils.exercises` imports this module too
    import pandas as pd
    import torch

__all__ = [
    "DEVICE_ENV",
    "DEVICES",
    "GPU_MIN_WORK",
    "EarlyStopping",
    "History",
    "array_fingerprint",
    "device_setting",
    "device_summary",
    "model_device",
    "progress_bar",
    "reuse_training",
    "select_device",
    "set_seed",
    "torch_threads",
]

DEVICE_ENV = "COURSE_DEVICE"
DEVICES = ("auto", "cpu", "cuda")
GPU_MIN_WORK = 32_768
"""``batch_size x hidden_size`` from which ``auto`` trains a recurrent or feed-forward network on the GPU."""


# ---------------------------------------------------------------------------------------------- threads


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run torch ops on ``n`` intra-op threads, then restore the previous setting (None: leave it).

    Small networks train fastest on one thread: extra threads mostly wait on each other.

    Parameters
    ----------
    n
        Intra-op threads for the ``with`` block; None leaves the setting alone.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True

    Not called in the chapters: the decoders of chapter 8 (``num_threads``) and ``train_agent`` of chapter 6
    use it. Taught in chapters 06_neurogym_tasks_and_rnns and 08_decoding_baselines.
    """
    import torch

    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# ------------------------------------------------------------------------------------------------- seed


def set_seed(seed: int) -> None:
    """Seed Python, NumPy (legacy global generator) and torch (weights, dropout, every GPU) for a repeatable run.

    Examples
    --------
    >>> import torch
    >>> set_seed(0); a = torch.rand(1); set_seed(0); bool(a == torch.rand(1))
    True

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    import torch

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (legacy global state, still used by some libraries)
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------------------------- device


def device_setting() -> str:
    """``$COURSE_DEVICE`` (``auto``, ``cpu`` or ``cuda``; unset or empty means ``auto``).

    Examples
    --------
    >>> device_setting() in DEVICES
    True

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    value = os.environ.get(DEVICE_ENV, "").strip().lower() or "auto"
    if value not in DEVICES:
        raise ValueError(
            f"${DEVICE_ENV}={os.environ[DEVICE_ENV]!r} is not a device setting: use one of {', '.join(DEVICES)} "
            f"(or unset it for auto)."
        )
    return value


def _cuda(device: str | None = None) -> torch.device:
    import torch

    if not torch.cuda.is_available():
        where = f"device={device!r}" if device else f"${DEVICE_ENV}=cuda"
        raise RuntimeError(
            f"{where} asks for a GPU, but torch finds no CUDA device (torch.cuda.is_available() is False; "
            f"torch {torch.__version__}). Use device='cpu' or 'auto' (or unset ${DEVICE_ENV}); on Colab choose "
            "Runtime > Change runtime type > GPU, then run the chapter again."
        )
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


def select_device(device: str | torch.device | None = None, *, work: int | None = None) -> torch.device:
    """The device a training runs on, by the course's rule (module docstring).

    Parameters
    ----------
    device
        ``"auto"``, ``"cpu"``, ``"cuda"`` (or ``"cuda:1"``, a ``torch.device``); None means
        ``$COURSE_DEVICE`` (default ``auto``).
    work
        ``batch_size x hidden_size`` of a recurrent or feed-forward network: under ``auto`` the GPU is used
        only from :data:`GPU_MIN_WORK` on. None: a network that gains from a GPU at any size (convolutions
        over video).

    Returns
    -------
    torch.device

    Examples
    --------
    >>> select_device("cpu")
    device(type='cpu')
    >>> select_device("auto", work=16 * 64)   # a small network stays on the CPU, GPU or not
    device(type='cpu')

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    import torch

    if isinstance(device, torch.device):
        device = str(device)
    setting = device_setting() if device is None else str(device).strip().lower()
    if setting == "cpu":
        return torch.device("cpu")
    if setting.startswith("cuda"):
        chosen = _cuda(str(device) if device is not None else None)
        return torch.device(setting) if ":" in setting else chosen
    if setting != "auto":
        raise ValueError(f"device must be one of {', '.join(DEVICES)} (or 'cuda:N'), got {device!r}.")
    if torch.cuda.is_available() and (work is None or work >= GPU_MIN_WORK):
        return _cuda()
    return torch.device("cpu")


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of a module's first parameter (CPU for a module without parameters, or a plain function).

    Examples
    --------
    >>> import torch
    >>> model_device(torch.nn.Linear(2, 1))
    device(type='cpu')

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    import torch

    parameters = getattr(model, "parameters", None)
    first = next(iter(parameters()), None) if callable(parameters) else None
    return first.device if first is not None else torch.device("cpu")


def device_summary() -> str:
    """One line on where networks train in this session, for the chapter banner.

    Examples
    --------
    >>> device_summary().startswith("device: ")
    True

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    import torch

    setting = device_setting()
    if setting == "cpu":
        return f"device: cpu ({DEVICE_ENV}=cpu)"
    if setting == "cuda":
        device = _cuda()
        return f"device: {device} ({torch.cuda.get_device_name(device)}; {DEVICE_ENV}=cuda)"
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        return f"device: cuda ({name}) for large networks, cpu for small ones ({DEVICE_ENV}=auto)"
    return f"device: cpu (no CUDA device; {DEVICE_ENV}=auto)"


# ------------------------------------------------------------------------------------- early stopping


class EarlyStopping:
    """Watch one validation value per epoch, keep a copy of the best epoch's weights, stop after ``patience``.

    Parameters
    ----------
    patience
        Epochs without improvement after which :meth:`update` returns True.
    mode
        ``"min"`` (a loss) or ``"max"`` (a correlation, an accuracy).
    min_delta
        An epoch improves only if it beats the best value by more than this.

    Attributes
    ----------
    best : float
        The best value so far (``inf`` or ``-inf`` before the first update).
    best_epoch : int or None
        The epoch that reached it.
    bad_epochs : int
        Epochs since then.

    Examples
    --------
    >>> import torch
    >>> net, stop = torch.nn.Linear(1, 1), EarlyStopping(patience=2)
    >>> [stop.update(loss, net, epoch) for epoch, loss in enumerate([3.0, 2.0, 2.5, 2.1], start=1)]
    [False, False, False, True]
    >>> stop.best, stop.best_epoch
    (2.0, 2)

    Taught in chapter 08_decoding_baselines.
    """

    def __init__(self, patience: int, mode: str = "min", min_delta: float = 0.0) -> None:
        if not (isinstance(patience, (int, np.integer)) and patience >= 1):
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}.")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}.")
        self.patience, self.mode, self.min_delta = int(patience), mode, float(min_delta)
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.best_state: dict[str, Any] | None = None
        self.bad_epochs = 0

    def improves(self, value: float) -> bool:
        """Whether ``value`` beats the best so far (NaN never does)."""
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, value: float, model: torch.nn.Module, epoch: int) -> bool:
        """Record an epoch's value (copying the weights if it is the best); True when patience has run out."""
        if self.improves(value):
            self.best, self.best_epoch, self.bad_epochs = float(value), epoch, 0
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def restore(self, model: torch.nn.Module) -> None:
        """Load the best epoch's weights into ``model`` (nothing if no epoch was recorded)."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)


# ---------------------------------------------------------------------------------------------- history


class History(dict):
    """One list per logged quantity (``loss``, ``val_loss``, ``oracle``, ``seconds``...), one entry per epoch or step.

    A ``dict`` of lists, so ``history["val_loss"][-1]`` and ``pd.DataFrame(history)`` work as they read;
    :meth:`log` appends a row and checks that every row names the same quantities.

    Examples
    --------
    >>> h = History("epoch", "loss")
    >>> h.log(epoch=1, loss=0.5); h.log(epoch=2, loss=0.25)
    >>> h.to_frame()
       epoch  loss
    0      1  0.50
    1      2  0.25

    Taught in chapter 08_decoding_baselines.
    """

    def __init__(self, *columns: str, **data: list) -> None:
        super().__init__({name: [] for name in columns}, **{k: list(v) for k, v in data.items()})

    def log(self, **row: Any) -> None:
        """Append one value to each quantity."""
        if self and set(row) != set(self):
            raise ValueError(f"History logs {sorted(self)} per row, got {sorted(row)}.")
        for name, value in row.items():
            self.setdefault(name, []).append(value)

    def to_frame(self) -> pd.DataFrame:
        """The history as a table, one row per epoch or step."""
        import pandas as pd

        return pd.DataFrame(dict(self))


# --------------------------------------------------------------------------------------------- progress


def progress_bar(iterable: Iterable | None = None, *, progress: bool = True, **kwargs: Any):
    """A tqdm bar (``tqdm.auto``: a widget in Jupyter when ipywidgets is there, text otherwise).

    ``progress=False`` hides it: loops run inside a sweep pass it, so the sweep shows one bar, not one per
    network. ``kwargs`` go to tqdm (``desc``, ``total``, ``leave``, ``mininterval``...). An explicit
    ``mininterval`` is raised to ``$TQDM_MININTERVAL`` where that is longer: tqdm itself lets an explicit value
    win over the variable, and the book build sets it (60 s) so that an executed page keeps a line or two per
    bar instead of one per refresh.

    Examples
    --------
    >>> sum(progress_bar(range(3), progress=False))
    3

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    from tqdm.auto import tqdm

    floor = os.environ.get("TQDM_MININTERVAL", "")
    if "mininterval" in kwargs and floor:
        try:
            kwargs["mininterval"] = max(float(kwargs["mininterval"]), float(floor))
        except ValueError:
            pass  # malformed: tqdm itself refuses it where it is set before tqdm is imported
    return tqdm(iterable, disable=not progress, **kwargs)


def _show_postfix(bar: Any, text: str) -> None:
    """Set a bar's postfix (e.g. the model about to be fitted): shown now if the bar may refresh (its
    ``mininterval`` has passed since it last printed), else at its next refresh.

    tqdm's ``set_postfix_str`` refreshes at every call, so an executed notebook kept one line per call;
    ``refresh=False`` alone would show the label only after the next ``update``, i.e. after the fit it names.
    """
    import time

    bar.set_postfix_str(text, refresh=False)
    if not bar.disable and time.time() - bar.last_print_t >= bar.mininterval:
        bar.refresh()


# ------------------------------------------------------------------------------------------------ reuse

# Set by `make test` (chapters, then student notebooks) to a folder emptied at the start of each run.
REUSE_ENV = "COURSE_REUSE_TRAINING"
_CALLS: Counter[str] = Counter()  # trainings so far in this kernel, per training loop (``key["loop"]``)


def array_fingerprint(*arrays: Any) -> str:
    """A short hash of arrays' shapes, dtypes and values (None allowed), to name the data of a training.

    Examples
    --------
    >>> array_fingerprint(np.zeros(3)) == array_fingerprint(np.zeros(3)) != array_fingerprint(np.ones(3))
    True

    Taught in chapter 08_decoding_baselines.
    """
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"None")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes() if array.dtype != object else repr(array.tolist()).encode())
    return digest.hexdigest()[:24]


def _package_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _state_fingerprint(model: Any) -> str:
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _encode(value: Any) -> Any:
    """Plain containers, numbers, strings, tensors; NumPy arrays as tagged tensors (torch's safe loader)."""
    import torch

    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_encode(v) for v in value)
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.ascontiguousarray(value).reshape(-1 if isinstance(value, np.generic) else value.shape)
        if array.dtype.kind == "u" and array.dtype.itemsize > 1:  # torch stores signed integers reliably
            array = array.view(f"i{array.dtype.itemsize}")
        tag = "__npscalar__" if isinstance(value, np.generic) else "__ndarray__"
        return {tag: torch.from_numpy(array.copy()), "__dtype__": np.dtype(value.dtype).str}
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return value
    raise TypeError(f"reuse_training: cannot store a {type(value).__name__} safely; return numbers, lists, dicts, arrays")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__ndarray__", "__dtype__"}:
            return value["__ndarray__"].numpy().view(value["__dtype__"])
        if set(value) == {"__npscalar__", "__dtype__"}:
            return value["__npscalar__"].numpy().view(value["__dtype__"])[0]
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_decode(v) for v in value)
    return value


def reuse_training(model: Any, train: Callable[[], Any], key: dict[str, Any]) -> Any:
    """Run ``train()`` (which trains ``model`` in place), or reuse what the same training produced earlier
    in this ``make test`` run.

    Outside ``make test`` (``$COURSE_REUSE_TRAINING`` unset: learners, the book build) this is just
    ``train()``. Inside it, the chapters run first and each training stores the trained weights and
    ``train()``'s result under a key; the student notebooks run next and, where the same training comes
    again outside an exercise (same code, seed and initial weights: exercises are leaves), load them
    instead of training a second time, with the modules' train/eval modes and the global random states
    (Python, NumPy, torch) as the training left them, so every later cell computes the same. The key is
    ``key`` (the settings: steps, learning rate, seed, data parameters...), the model's initial weights and
    the package's source, so anything that changes the training trains again; so does the n-th training of
    a notebook through one loop (``key["loop"]``, e.g. ``"tasks.train_network"``), which only ever reuses the
    n-th of the same loop in the notebook run before it (a training skipped or added by a stub shifts the
    count of its loop only: the later trainings of that loop train again, those of other loops are reused).
    Files are written atomically and read with ``torch.load(weights_only=True)``. The course's training entry
    points (``train_network``, ``run_protocol``, ``train_model``, the neural decoders' ``fit``,
    ``train_agent``) call it themselves.

    Parameters
    ----------
    model
        The ``torch.nn.Module`` that ``train()`` trains in place.
    train
        No arguments; returns numbers, strings, lists, tuples, dicts, NumPy arrays or tensors (a history).
    key
        JSON-serialisable settings that, with the initial weights, identify the training.

    Returns
    -------
    Whatever ``train()`` returns (a reused result has the same structure and values; a ``dict`` subclass
    comes back as a plain ``dict``).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(2, 1)
    >>> def train():
    ...     with torch.no_grad():
    ...         net.weight.fill_(1.0)
    ...     return {"loss": [0.5, 0.25]}
    >>> reuse_training(net, train, key={"steps": 2})
    {'loss': [0.5, 0.25]}

    Taught in chapter 06_neurogym_tasks_and_rnns.
    """
    folder = os.environ.get(REUSE_ENV, "").strip()
    if not folder:
        return train()
    import torch

    from .fileio import load_torch_weights

    # the n-th training of this kernel through this loop: the student notebook's n-th is the instructor's n-th
    loop = str(key.get("loop", "")) if isinstance(key, dict) else ""
    _CALLS[loop] += 1
    ident = json.dumps({"key": key, "call": _CALLS[loop], "model": type(model).__qualname__,
                        "initial": _state_fingerprint(model), "package": _package_fingerprint()},
                       sort_keys=True, default=str)
    path = Path(folder) / f"trained-{hashlib.sha256(ident.encode()).hexdigest()[:24]}.pt"
    if path.is_file():
        stored = load_torch_weights(path, fix=f"Delete {path.parent} (a make test run's scratch folder).")
        model.load_state_dict(stored["state"])
        for module, training in zip(model.modules(), stored["training"], strict=True):
            module.training = training
        _set_rng_states(_decode(stored["rng"]))
        print(f"(make test: reused the network the instructor chapter trained, {path.name})")
        return _decode(stored["result"])
    result = train()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    stored = {"state": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "result": _encode(result),
              "rng": _encode(_rng_states()), "training": [m.training for m in model.modules()]}
    torch.save(stored, tmp)
    os.replace(tmp, path)
    return result


def _rng_states() -> dict[str, Any]:
    """The global random states a training advances (a reused training must leave them the same)."""
    import torch

    # the legacy global NumPy generator on purpose: it is the one a chapter's np.random.* calls share
    numpy_state = np.random.get_state()  # noqa: NPY002
    return {"python": random.getstate(), "numpy": numpy_state, "torch": torch.random.get_rng_state()}


def _set_rng_states(states: dict[str, Any]) -> None:
    import torch

    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(tuple(states["numpy"]))  # noqa: NPY002
    torch.random.set_rng_state(states["torch"])
