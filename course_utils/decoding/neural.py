"""Neural-network decoders in torch: simple RNN, GRU, LSTM and a feed-forward net, CPU-friendly.

All of them take the history window ``X`` of shape ``(T, lags, N)`` (a 2-D ``X`` is a history of length 1),
standardise inputs with training statistics, train with Adam, stop early when the validation loss has not
improved for ``patience`` epochs, and keep the best epoch's weights. The regression decoders
(:class:`SimpleRNNDecoder`, :class:`GRUDecoder`, :class:`LSTMDecoder`, :class:`FeedForwardDecoder`)
standardise the outputs too and minimise the mean squared error; the classifiers
(:class:`SimpleRNNClassifier`, :class:`GRUClassifier`, :class:`LSTMClassifier`,
:class:`FeedForwardClassifier`) decode one label per window (e.g. the reach target of a trial) with the
cross-entropy loss and give ``predict_proba``.

**Fast setting.** ``max_epochs=None`` (the default) means :func:`default_max_epochs`: 60 epochs for
regression, or 8 when the environment variable ``COURSE_FAST=1`` is set (CI and the book build set it so
chapters run in minutes on 2 CPU cores; early stopping usually ends training sooner anyway). Classifiers
see one window per trial, a few dozen per session, so an epoch is tiny: they get 200 epochs, or 40 in the
fast setting. An explicit ``max_epochs`` always wins.

The loop's pieces (seeding, device, early stopping, history, progress bar, reuse of trainings under
``make test``) come from :mod:`course_utils.training`, shared with the course's other training loops.

Saved weights are a plain dictionary of tensors and numbers written with ``torch.save`` and read back with
:func:`course_utils.fileio.load_torch_weights` (``weights_only=True``): loading never executes code from the
file, and a file that is not such a dictionary gets a message that says so (never the advice to turn that
safety off).

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .. import FAST_ENV, fast_mode
from ..fileio import BadFileError, load_torch_weights
from ..training import (
    EarlyStopping,
    History,
    array_fingerprint,
    progress_bar,
    reuse_training,
    select_device,
    set_seed,
    torch_threads,
)
from ._base import DecoderMixin
from ._checks import (
    as_sequences,
    check_fitted_X,
    check_labels,
    check_targets,
    check_X_labels,
    holdout_validation,
)

__all__ = [
    "SimpleRNNDecoder",
    "GRUDecoder",
    "LSTMDecoder",
    "FeedForwardDecoder",
    "SimpleRNNClassifier",
    "GRUClassifier",
    "LSTMClassifier",
    "FeedForwardClassifier",
    "default_max_epochs",
    "fast_mode",
    "FAST_ENV",
]

EPOCHS_FULL = 60
EPOCHS_FAST = 8
CLASSIFIER_EPOCHS_FULL = 200
CLASSIFIER_EPOCHS_FAST = 40
SAVE_FORMAT = "course_utils.decoding/1"


def default_max_epochs(kind: str = "regression") -> int:
    """Training epochs used when a network's ``max_epochs`` is None.

    Regression decoders: 8 with ``COURSE_FAST=1``, else 60. Classifiers (``kind="classification"``, one
    window per trial, so tiny epochs): 40 with ``COURSE_FAST=1``, else 200.

    Examples
    --------
    >>> default_max_epochs() in (EPOCHS_FAST, EPOCHS_FULL)
    True

    Taught in chapter 08_decoding_baselines.
    """
    if kind == "classification":
        return CLASSIFIER_EPOCHS_FAST if fast_mode() else CLASSIFIER_EPOCHS_FULL
    if kind != "regression":
        raise ValueError(f"kind must be 'regression' or 'classification', got {kind!r}.")
    return EPOCHS_FAST if fast_mode() else EPOCHS_FULL


class _RecurrentNet(nn.Module):
    def __init__(
        self,
        cell: str,
        n_inputs: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        n_outputs: int,
        nonlinearity: str = "tanh",
    ):
        super().__init__()
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        rnn_cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = rnn_cls(
            n_inputs,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            **extra,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)  # (batch, lags, hidden); the last step has seen the whole history
        return self.head(self.dropout(out[:, -1]))


class _FeedForwardNet(nn.Module):
    def __init__(self, n_inputs: int, hidden_size: int, num_layers: int, dropout: float, n_outputs: int):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = n_inputs
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden_size), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden_size
        layers.append(nn.Linear(width, n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class _TorchEstimator(BaseEstimator):
    """The shared training loop; subclasses build the network and say how targets become a loss."""

    _kind = "regression"
    _network: str  # set by each public class: "gru", "lstm", "rnn" or "feedforward"
    nonlinearity = "tanh"  # the Elman cell's; a parameter of SimpleRNNDecoder only

    def __init__(
        self,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.5,
        learning_rate: float = 3e-3,
        weight_decay: float = 0.0,
        batch_size: int = 128,
        max_epochs: int | None = None,
        patience: int = 5,
        validation_fraction: float = 0.125,
        seed: int = 0,
        progress: bool = True,
        num_threads: int | None = 1,
        device: str | None = None,
    ):
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.progress = progress
        self.num_threads = num_threads
        self.device = device

    # subclasses -------------------------------------------------------------------------------------
    def _build(self, lags: int, n_inputs: int, n_outputs: int) -> nn.Module:
        """The subclass's ``_network``: ``"feedforward"`` or a recurrent cell (``"gru"``, ``"lstm"``, ``"rnn"``)."""
        if self._network == "feedforward":
            return _FeedForwardNet(lags * n_inputs, self.hidden_size, self.num_layers, self.dropout, n_outputs)
        if self.nonlinearity not in ("relu", "tanh"):
            raise ValueError(f"nonlinearity must be 'relu' or 'tanh', got {self.nonlinearity!r}.")
        return _RecurrentNet(self._network, n_inputs, self.hidden_size, self.num_layers, self.dropout, n_outputs,
                             self.nonlinearity)

    def _check_y(self, y, name: str = "y") -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_targets(self, y: np.ndarray) -> int:  # pragma: no cover - abstract
        """Learn what is needed to encode targets (scalers, classes); return the network's output size."""
        raise NotImplementedError

    def _encode(self, y: np.ndarray) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _criterion(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    # helpers ----------------------------------------------------------------------------------------
    def _to_tensor(self, X: np.ndarray) -> torch.Tensor:
        Xs = (as_sequences(X).astype(np.float32, copy=False) - self.x_mean_) / self.x_std_
        return torch.from_numpy(np.ascontiguousarray(Xs, dtype=np.float32))

    def _check_params(self) -> int:
        epochs = default_max_epochs(self._kind) if self.max_epochs is None else self.max_epochs
        for name, value, low in [
            ("hidden_size", self.hidden_size, 1),
            ("num_layers", self.num_layers, 1),
            ("batch_size", self.batch_size, 1),
            ("max_epochs", epochs, 1),
            ("patience", self.patience, 1),
        ]:
            if not (isinstance(value, (int, np.integer)) and value >= low):
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        return int(epochs)

    def _loss(self, X: torch.Tensor, target: torch.Tensor) -> float:
        """Mean loss over all rows, evaluated in chunks with the network in evaluation mode."""
        self.module_.eval()
        with torch.no_grad():
            total = 0.0
            for start in range(0, len(X), 4096):
                chunk = slice(start, start + 4096)
                total += float(self._criterion(self.module_(X[chunk]), target[chunk])) * len(X[chunk])
        return total / len(X)

    def _outputs(self, X: np.ndarray) -> np.ndarray:
        """The network's raw outputs for ``X`` (standardised units or logits), as float64."""
        X = check_fitted_X(self, X, "module_")
        Xt = self._to_tensor(X)
        self.module_.eval()
        with torch_threads(self.num_threads), torch.no_grad():
            out = torch.cat([self.module_(Xt[s : s + 4096]) for s in range(0, len(Xt), 4096)])
        return out.numpy().astype(np.float64)

    # public -----------------------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None = None, y_val: np.ndarray | None = None):
        """Train on ``X`` ``(T, lags, N)`` and ``y``, early-stopping on ``X_val, y_val``.

        Without a validation split, the *last* ``validation_fraction`` of the training rows is held out
        (chronologically: a random hold-out of neighbouring, correlated bins would leak).
        """
        epochs = self._check_params()
        if isinstance(self, DecoderMixin):
            self._remember_target_shape(y)
        X, y = check_X_labels(X, y, self._check_y)
        X, y, X_val, y_val = holdout_validation(
            X, y, X_val, y_val, validation_fraction=self.validation_fraction,
            expected_layout=X.shape[1:], estimator=type(self).__name__, check_y=self._check_y,
        )
        self.input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = int(np.prod(self.input_shape_))
        seq = as_sequences(X).astype(np.float32, copy=False)
        self.x_mean_ = seq.mean(axis=(0, 1), dtype=np.float64).astype(np.float32)
        # Silent neurons get std 1 so they stay 0 instead of dividing by zero.
        self.x_std_ = np.where((s := seq.std(axis=(0, 1), dtype=np.float64)) > 0, s, 1.0).astype(np.float32)
        self.n_outputs_ = self._fit_targets(y)

        with torch_threads(self.num_threads):
            set_seed(self.seed)
            generator = torch.Generator().manual_seed(self.seed)
            lags, n_inputs = seq.shape[1], seq.shape[2]
            self.module_ = self._build(lags, n_inputs, self.n_outputs_)
            Xt, yt = self._to_tensor(X), self._encode(y)
            Xv, yv = self._validation_tensors(X_val, y_val)
            params = {k: v for k, v in self.get_params().items() if k not in ("progress", "num_threads")}
            key = {"loop": f"decoding.{type(self).__name__}", "params": params, "max_epochs": epochs,
                   "data": array_fingerprint(X, y, X_val, y_val)}
            result = reuse_training(self.module_, lambda: self._train(Xt, yt, Xv, yv, generator, epochs), key)
        self.history_ = History(**result["history"])
        self.best_epoch_ = int(result["best_epoch"])
        self.n_epochs_ = len(self.history_["val_loss"])
        self.module_.eval()
        return self

    def _train(self, Xt: torch.Tensor, yt: torch.Tensor, Xv: torch.Tensor | None, yv: torch.Tensor | None,
               generator: torch.Generator, epochs: int) -> dict[str, Any]:
        """The epochs of :meth:`fit` on the chosen device; leaves ``module_`` on the CPU with the best weights."""
        device = select_device(self.device, work=self.batch_size * self.hidden_size)
        module = self.module_.to(device)
        Xt, yt = Xt.to(device), yt.to(device)
        optimizer = torch.optim.Adam(module.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        # No usable validation rows (a classifier whose validation targets never occur in training):
        # train for every epoch and keep the last state.
        early_stop = Xv is not None
        stopper = EarlyStopping(self.patience, mode="min", min_delta=1e-6)
        if early_stop:
            Xv, yv = Xv.to(device), yv.to(device)
            stopper.update(self._loss(Xv, yv), module, epoch=0)  # the untrained network is epoch 0
        history = History("train_loss", "val_loss")
        bar = progress_bar(range(1, epochs + 1), progress=self.progress, desc=type(self).__name__, leave=False)
        for epoch in bar:
            module.train()
            order = torch.randperm(len(Xt), generator=generator).to(device)
            running = 0.0
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                optimizer.zero_grad()
                loss = self._criterion(module(Xt[idx]), yt[idx])
                loss.backward()
                optimizer.step()
                running += loss.item() * len(idx)
            val_loss = self._loss(Xv, yv) if early_stop else float("nan")
            history.log(train_loss=running / len(Xt), val_loss=val_loss)
            bar.set_postfix(val_loss=f"{val_loss:.3f}", refresh=False)
            if early_stop and stopper.update(val_loss, module, epoch):
                break
        bar.close()
        stopper.restore(module)
        module.to("cpu")
        best_epoch = stopper.best_epoch if early_stop else len(history["val_loss"])
        return {"history": dict(history), "best_epoch": int(best_epoch)}

    def _validation_tensors(self, X_val: np.ndarray, y_val: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return self._to_tensor(X_val), self._encode(y_val)

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, payload: dict[str, Any]) -> None:
        pass

    def save(self, path: str | Path) -> Path:
        """Write the parameters, scalers and weights to ``path`` (a ``.pt`` file of tensors and numbers).

        Examples
        --------
        >>> import tempfile
        >>> X = np.random.default_rng(0).poisson(2, (100, 3, 4)); y = X[:, -1, :2].astype(float)
        >>> dec = FeedForwardDecoder(hidden_size=8, max_epochs=2, progress=False).fit(X, y)
        >>> path = dec.save(Path(tempfile.mkdtemp()) / "ffn.pt")
        >>> np.allclose(FeedForwardDecoder.load(path).predict(X), dec.predict(X))
        True
        """
        check_is_fitted(self, "module_")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload: dict[str, Any] = {
            "format": SAVE_FORMAT,
            "class": type(self).__name__,
            "params": self.get_params(),
            "input_shape": list(self.input_shape_),
            "n_outputs": int(self.n_outputs_),
            "scalers": {k: torch.from_numpy(np.asarray(getattr(self, k))) for k in ("x_mean_", "x_std_")},
            "state_dict": self.module_.state_dict(),
            **self._extra_state(),
        }
        torch.save(payload, path)
        return path

    @classmethod
    def load(cls, path: str | Path):
        """Read a network written by :meth:`save`.

        The file is read with :func:`course_utils.fileio.load_torch_weights` (``weights_only=True``: no code
        runs); a file that is not a saved decoder raises :class:`~course_utils.fileio.BadFileError` naming it.
        """
        fix = f"Fit a {cls.__name__} and write it with .save(path), then load that file."
        payload = load_torch_weights(path, fix=fix)
        if not isinstance(payload, dict) or payload.get("format") != SAVE_FORMAT:
            raise BadFileError(path, "is not a decoder saved by course_utils.decoding (.save()).", fix)
        if payload["class"] != cls.__name__:
            raise BadFileError(
                path, f"holds a {payload['class']}, not a {cls.__name__}.", f"Use {payload['class']}.load."
            )
        est = cls(**payload["params"])
        est.input_shape_ = tuple(payload["input_shape"])
        est.n_features_in_ = int(np.prod(est.input_shape_))
        est.n_outputs_ = int(payload["n_outputs"])
        for key, tensor in payload["scalers"].items():
            setattr(est, key, tensor.numpy())
        est._load_extra_state(payload)
        seq_shape = est.input_shape_ if len(est.input_shape_) == 2 else (1, *est.input_shape_)
        est.module_ = est._build(seq_shape[0], seq_shape[1], est.n_outputs_)
        est.module_.load_state_dict(payload["state_dict"])
        est.module_.eval()
        return est


class _TorchDecoder(DecoderMixin, _TorchEstimator):
    """Regression: standardised outputs, mean squared error."""

    def _check_y(self, y, name: str = "y") -> np.ndarray:
        return check_targets(y, name=name)

    def _fit_targets(self, y: np.ndarray) -> int:
        self.y_mean_ = y.mean(axis=0)
        self.y_std_ = np.where((s := y.std(axis=0)) > 0, s, 1.0)
        return y.shape[1]

    def _encode(self, y: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(((y - self.y_mean_) / self.y_std_).astype(np.float32))

    def _criterion(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ((out - target) ** 2).mean()

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted outputs, shape ``(T, outputs)`` (``(T,)`` if ``y`` was 1-D), in the units of ``y``."""
        return self._shape_output(self._outputs(X) * self.y_std_ + self.y_mean_)

    def _extra_state(self) -> dict[str, Any]:
        return {
            "y_scalers": {k: torch.from_numpy(np.asarray(getattr(self, k))) for k in ("y_mean_", "y_std_")},
            "y_1d": bool(getattr(self, "_y_1d", False)),
        }

    def _load_extra_state(self, payload: dict[str, Any]) -> None:
        for key, tensor in payload["y_scalers"].items():
            setattr(self, key, tensor.numpy())
        self._y_1d = bool(payload.get("y_1d", False))


class _TorchClassifier(ClassifierMixin, _TorchEstimator):
    """Classification: one logit per class, cross-entropy; ``score`` is accuracy."""

    _kind = "classification"

    def __init__(
        self,
        hidden_size: int = 32,
        num_layers: int = 1,
        dropout: float = 0.5,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-3,
        batch_size: int = 16,
        max_epochs: int | None = None,
        patience: int = 10,
        validation_fraction: float = 0.125,
        seed: int = 0,
        progress: bool = True,
        num_threads: int | None = 1,
        device: str | None = None,
    ):
        super().__init__(
            hidden_size=hidden_size, num_layers=num_layers, dropout=dropout, learning_rate=learning_rate,
            weight_decay=weight_decay, batch_size=batch_size, max_epochs=max_epochs, patience=patience,
            validation_fraction=validation_fraction, seed=seed, progress=progress, num_threads=num_threads,
            device=device,
        )

    def _check_y(self, y, name: str = "y") -> np.ndarray:
        return check_labels(y, name=name)

    def _fit_targets(self, y: np.ndarray) -> int:
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in y, got 1 class ({self.classes_[0]!r}): "
                "check the trial filter and the label column."
            )
        return len(self.classes_)

    def _index(self, y: np.ndarray) -> np.ndarray:
        """Position of each label in ``classes_``; -1 for a label never seen in training."""
        pos = np.clip(np.searchsorted(self.classes_, y), 0, len(self.classes_) - 1)
        return np.where(self.classes_[pos] == y, pos, -1)

    def _encode(self, y: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(self._index(y).astype(np.int64))

    def _validation_tensors(
        self, X_val: np.ndarray, y_val: np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor] | tuple[None, None]:
        seen = self._index(y_val) >= 0  # a class absent from training has no logit: leave it out of the loss
        if not seen.any():
            warnings.warn(
                f"No validation label of {type(self).__name__} occurs in the training labels "
                f"{self.classes_.tolist()} (too few trials per target): early stopping is off and the network "
                "trains for every epoch.",
                stacklevel=3,
            )
            return None, None
        return self._to_tensor(X_val[seen]), self._encode(y_val[seen])

    def _criterion(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(out, target)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of each class in ``classes_``, shape ``(T, n_classes)``."""
        logits = self._outputs(X)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class of each row, shape ``(T,)``."""
        best = np.argmax(self._outputs(X), axis=1)
        return self.classes_[best]

    def _extra_state(self) -> dict[str, Any]:
        return {"classes": self.classes_.tolist()}

    def _load_extra_state(self, payload: dict[str, Any]) -> None:
        self.classes_ = np.asarray(payload["classes"])


class GRUDecoder(_TorchDecoder):
    """GRU decoder: a gated recurrent network reads the ``lags`` bins of history, a linear head reads out.

    ``h[k] = GRU(h[k-1], x[t - lags + 1 + k])`` for ``k = 0..lags-1``, then ``y[t] = W h[lags-1] + b``.
    Each time bin's window is processed independently (as in Kording lab's Neural_Decoding and NeuroTask's
    baselines), so the history length is ``bins_before + 1`` bins.

    Parameters
    ----------
    hidden_size, num_layers, dropout
        Network size; dropout applies before the linear readout (and between stacked layers). The default
        0.5 is not decoration: on sessions of a few thousand training bins (the demo sessions) the networks
        otherwise overfit (training loss about a quarter of the validation loss) and the GRU falls below the
        Wiener filter on 3 of 10 demo sessions; with it, it matches or beats it on 9 of 10
        (``benchmarks/bench_decoding.py`` with and without ``--dropout 0``).
    learning_rate, weight_decay, batch_size
        Adam settings and minibatch size (windows are shuffled within the training split).
    max_epochs
        Maximum epochs; None means :func:`default_max_epochs` (8 with ``COURSE_FAST=1``, else 60).
    patience
        Stop after this many epochs without a better validation loss; the best epoch's weights are kept.
    validation_fraction
        Fraction of the training rows held out at the end when ``fit`` gets no ``X_val, y_val``.
    seed
        Seeds the weights and the minibatch order (the fit is reproducible on CPU).
    progress
        Show a tqdm progress bar over epochs.
    num_threads
        Torch intra-op threads while fitting and predicting (restored afterwards). Small networks train
        fastest on one thread: extra threads mostly wait on each other, badly so on a shared 2-core
        machine (measured: 85 s on 2 threads vs 3 s on 1 for the same fit under load). None keeps torch's
        setting.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``; None follows ``$COURSE_DEVICE``
        (:func:`course_utils.training.select_device` with ``work = batch_size x hidden_size``: the default
        decoders stay on the CPU under ``auto``). The fitted network is kept on the CPU either way.

    Attributes
    ----------
    module_ : torch.nn.Module
    history_ : :class:`course_utils.training.History` with ``train_loss`` and ``val_loss`` per epoch
        (standardised units; ``pd.DataFrame(history_)`` is the table)
    best_epoch_, n_epochs_ : int

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(300, 4, 2)); y = X[:, -3, :1]
    >>> GRUDecoder(hidden_size=8, max_epochs=2, progress=False).fit(X, y).predict(X).shape
    (300, 1)

    Taught in chapter 08_decoding_baselines.
    """

    _network = "gru"


class LSTMDecoder(_TorchDecoder):
    """LSTM decoder: as :class:`GRUDecoder` with a long short-term memory cell.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(300, 4, 2)); y = X[:, -3, :1]
    >>> LSTMDecoder(hidden_size=8, max_epochs=2, progress=False).fit(X, y).predict(X).shape
    (300, 1)

    Taught in chapter 08_decoding_baselines.
    """

    _network = "lstm"


class FeedForwardDecoder(_TorchDecoder):
    """Feed-forward decoder: the flattened history window through ``num_layers`` ReLU layers, then linear.

    Same training loop and parameters as :class:`GRUDecoder`.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(300, 4, 2)); y = X[:, -3, :1]
    >>> FeedForwardDecoder(hidden_size=8, max_epochs=2, progress=False).fit(X, y).predict(X).shape
    (300, 1)

    Taught in chapter 08_decoding_baselines.
    """

    _network = "feedforward"


class SimpleRNNDecoder(_TorchDecoder):
    """Simple (Elman) RNN decoder: ``h[k] = f(W_x x[k] + W_h h[k-1] + b)`` over the history, then linear.

    The plain recurrent network of NeuroTask's baselines (``SimpleRNNDecoder`` upstream, with a ReLU ``f``,
    the default here too). Same training loop and parameters as :class:`GRUDecoder`, plus ``nonlinearity``
    (``"relu"`` or ``"tanh"``). Without gates it has fewer parameters than the GRU, and on long histories
    its gradients vanish or explode; on 6-bin windows it is a fair, fast baseline.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(300, 4, 2)); y = X[:, -3, 0]
    >>> SimpleRNNDecoder(hidden_size=8, max_epochs=2, progress=False).fit(X, y).predict(X).shape
    (300,)

    Taught in chapter 08_decoding_baselines.
    """

    _network = "rnn"

    def __init__(
        self,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.5,
        learning_rate: float = 3e-3,
        weight_decay: float = 0.0,
        batch_size: int = 128,
        max_epochs: int | None = None,
        patience: int = 5,
        validation_fraction: float = 0.125,
        seed: int = 0,
        progress: bool = True,
        num_threads: int | None = 1,
        device: str | None = None,
        nonlinearity: str = "relu",
    ):
        super().__init__(
            hidden_size=hidden_size, num_layers=num_layers, dropout=dropout, learning_rate=learning_rate,
            weight_decay=weight_decay, batch_size=batch_size, max_epochs=max_epochs, patience=patience,
            validation_fraction=validation_fraction, seed=seed, progress=progress, num_threads=num_threads,
            device=device,
        )
        self.nonlinearity = nonlinearity


class GRUClassifier(_TorchClassifier):
    """GRU classifier: the GRU of :class:`GRUDecoder` with one logit per class (e.g. per reach target).

    Trained with the cross-entropy loss and early stopping on the validation loss. Defaults suit a few
    dozen trials per session: 32 hidden units, dropout 0.5, weight decay 1e-3, minibatches of 16 trials,
    patience 10, and ``max_epochs=None`` meaning 200 epochs (40 with ``COURSE_FAST=1``).

    Examples
    --------
    >>> rng = np.random.default_rng(0); labels = rng.integers(0, 2, 120)
    >>> X = rng.poisson(2.0 + 3.0 * labels[:, None, None], (120, 5, 3))
    >>> GRUClassifier(max_epochs=30, progress=False).fit(X[:80], labels[:80]).score(X[80:], labels[80:]) > 0.9
    True

    Taught in chapter 08_decoding_baselines.
    """

    _network = "gru"


class LSTMClassifier(_TorchClassifier):
    """LSTM classifier: as :class:`GRUClassifier` with a long short-term memory cell.

    Examples
    --------
    >>> rng = np.random.default_rng(0); labels = rng.integers(0, 2, 60)
    >>> X = rng.poisson(2.0 + 3.0 * labels[:, None, None], (60, 5, 3))
    >>> LSTMClassifier(max_epochs=2, progress=False).fit(X, labels).predict_proba(X).shape
    (60, 2)

    Taught in chapter 08_decoding_baselines.
    """

    _network = "lstm"


class SimpleRNNClassifier(_TorchClassifier):
    """Simple RNN classifier: as :class:`GRUClassifier` with an Elman cell (tanh, stable on long windows).

    Examples
    --------
    >>> rng = np.random.default_rng(0); labels = rng.integers(0, 2, 60)
    >>> X = rng.poisson(2.0 + 3.0 * labels[:, None, None], (60, 5, 3))
    >>> SimpleRNNClassifier(max_epochs=2, progress=False).fit(X, labels).predict(X).shape
    (60,)

    Taught in chapter 08_decoding_baselines.
    """

    _network = "rnn"


class FeedForwardClassifier(_TorchClassifier):
    """Feed-forward classifier: the flattened window through ReLU layers, one logit per class.

    Examples
    --------
    >>> rng = np.random.default_rng(0); labels = rng.integers(0, 2, 60)
    >>> X = rng.poisson(2.0 + 3.0 * labels[:, None, None], (60, 5, 3))
    >>> FeedForwardClassifier(max_epochs=2, progress=False).fit(X, labels).predict(X).shape
    (60,)

    Taught in chapter 08_decoding_baselines.
    """

    _network = "feedforward"
