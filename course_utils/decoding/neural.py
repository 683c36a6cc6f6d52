"""Neural-network decoders in torch: GRU, LSTM and a small feed-forward net, CPU-friendly.

All three take the history window ``X`` of shape ``(T, lags, N)`` (a 2-D ``X`` is a history of length 1),
standardise inputs and outputs with training statistics, train with Adam on the mean squared error, stop
early when the validation loss has not improved for ``patience`` epochs, and keep the best epoch's weights.

**Fast setting.** ``max_epochs=None`` (the default) means :func:`default_max_epochs`: 60 epochs, or 8 when
the environment variable ``COURSE_FAST=1`` is set (CI and the book build set it so chapters run in about a
minute on 2 CPU cores; early stopping usually ends training sooner anyway). An explicit ``max_epochs``
always wins.

Saved weights are a plain dictionary of tensors and numbers written with ``torch.save`` and read back with
``torch.load(..., weights_only=True)``: loading never executes code from the file.

Taught in chapter 08_decoding_baselines.
"""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn
from tqdm.auto import tqdm

from .. import FAST_ENV, fast_mode
from ._checks import as_sequences, check_input_layout, check_X, check_Xy, holdout_validation
from .metrics import r2_score_per_output

__all__ = ["GRUDecoder", "LSTMDecoder", "FeedForwardDecoder", "default_max_epochs", "fast_mode", "FAST_ENV"]

EPOCHS_FULL = 60
EPOCHS_FAST = 8


def default_max_epochs() -> int:
    """Training epochs used when a decoder's ``max_epochs`` is None: 8 with ``COURSE_FAST=1``, else 60.

    Examples
    --------
    >>> default_max_epochs() in (EPOCHS_FAST, EPOCHS_FULL)
    True

    Taught in chapter 08_decoding_baselines.
    """
    return EPOCHS_FAST if fast_mode() else EPOCHS_FULL


@contextlib.contextmanager
def _torch_threads(n: int | None):
    """Run torch ops on ``n`` intra-op threads, then restore the previous setting (None: leave it)."""
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class _RecurrentNet(nn.Module):
    def __init__(
        self, cell: str, n_inputs: int, hidden_size: int, num_layers: int, dropout: float, n_outputs: int
    ):
        super().__init__()
        rnn_cls = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = rnn_cls(
            n_inputs,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
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


class _TorchDecoder(RegressorMixin, BaseEstimator):
    """Shared training loop; subclasses only build the network."""

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

    # subclasses -------------------------------------------------------------------------------------
    def _build(self, lags: int, n_inputs: int, n_outputs: int) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    # helpers ----------------------------------------------------------------------------------------
    def _to_tensor(self, X: np.ndarray) -> torch.Tensor:
        Xs = (as_sequences(X).astype(np.float32, copy=False) - self.x_mean_) / self.x_std_
        return torch.from_numpy(np.ascontiguousarray(Xs, dtype=np.float32))

    def _check_params(self) -> int:
        epochs = default_max_epochs() if self.max_epochs is None else self.max_epochs
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

    def _loss(self, X: torch.Tensor, y: torch.Tensor) -> float:
        self.module_.eval()
        with torch.no_grad():
            total = 0.0
            for start in range(0, len(X), 4096):
                pred = self.module_(X[start : start + 4096])
                total += float(((pred - y[start : start + 4096]) ** 2).sum())
        return total / (len(X) * y.shape[1])

    # public -----------------------------------------------------------------------------------------
    def fit(
        self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None = None, y_val: np.ndarray | None = None
    ) -> _TorchDecoder:
        """Train on ``X`` ``(T, lags, N)`` and ``y`` ``(T, outputs)``, early-stopping on ``X_val, y_val``.

        Without a validation split, the *last* ``validation_fraction`` of the training rows is held out
        (chronologically: a random hold-out of neighbouring, correlated bins would leak).
        """
        epochs = self._check_params()
        X, y = check_Xy(X, y)
        X, y, X_val, y_val = holdout_validation(
            X, y, X_val, y_val, validation_fraction=self.validation_fraction,
            expected_layout=X.shape[1:], estimator=type(self).__name__,
        )
        self.input_shape_ = tuple(X.shape[1:])
        seq = as_sequences(X).astype(np.float32, copy=False)
        self.x_mean_ = seq.mean(axis=(0, 1), dtype=np.float64).astype(np.float32)
        # Silent neurons get std 1 so they stay 0 instead of dividing by zero.
        self.x_std_ = np.where((s := seq.std(axis=(0, 1), dtype=np.float64)) > 0, s, 1.0).astype(np.float32)
        self.y_mean_ = y.mean(axis=0)
        self.y_std_ = np.where((s := y.std(axis=0)) > 0, s, 1.0)
        self.n_outputs_ = y.shape[1]

        with _torch_threads(self.num_threads):
            torch.manual_seed(self.seed)
            generator = torch.Generator().manual_seed(self.seed)
            lags, n_inputs = seq.shape[1], seq.shape[2]
            self.module_ = self._build(lags, n_inputs, self.n_outputs_)
            Xt, Xv = self._to_tensor(X), self._to_tensor(X_val)
            yt = torch.from_numpy(((y - self.y_mean_) / self.y_std_).astype(np.float32))
            yv = torch.from_numpy(((y_val - self.y_mean_) / self.y_std_).astype(np.float32))
            optimizer = torch.optim.Adam(
                self.module_.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
            )

            best_loss, best_state, since_best = (
                self._loss(Xv, yv),
                copy.deepcopy(self.module_.state_dict()),
                0,
            )
            self.history_: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
            self.best_epoch_ = 0
            bar = tqdm(range(1, epochs + 1), desc=type(self).__name__, disable=not self.progress, leave=False)
            for epoch in bar:
                self.module_.train()
                order = torch.randperm(len(Xt), generator=generator)
                running = 0.0
                for start in range(0, len(order), self.batch_size):
                    idx = order[start : start + self.batch_size]
                    optimizer.zero_grad()
                    loss = ((self.module_(Xt[idx]) - yt[idx]) ** 2).mean()
                    loss.backward()
                    optimizer.step()
                    running += loss.item() * len(idx)
                val_loss = self._loss(Xv, yv)
                self.history_["train_loss"].append(running / len(Xt))
                self.history_["val_loss"].append(val_loss)
                bar.set_postfix(val_loss=f"{val_loss:.3f}")
                if val_loss < best_loss - 1e-6:
                    best_loss, best_state, since_best, self.best_epoch_ = (
                        val_loss,
                        copy.deepcopy(self.module_.state_dict()),
                        0,
                        epoch,
                    )
                else:
                    since_best += 1
                    if since_best >= self.patience:
                        break
            bar.close()
        self.n_epochs_ = len(self.history_["val_loss"])
        self.module_.load_state_dict(best_state)
        self.module_.eval()
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted outputs, shape ``(T, outputs)``, in the units of the training ``y``."""
        check_is_fitted(self, "module_")
        X = check_X(X)
        check_input_layout(X, self.input_shape_, type(self).__name__)
        Xt = self._to_tensor(X)
        self.module_.eval()
        with _torch_threads(self.num_threads), torch.no_grad():
            out = torch.cat([self.module_(Xt[s : s + 4096]) for s in range(0, len(Xt), 4096)])
        return out.numpy().astype(np.float64) * self.y_std_ + self.y_mean_

    def score(self, X, y, sample_weight=None) -> float:
        """Mean over outputs of NeuroTask's R² (:func:`~course_utils.decoding.r2_score_per_output`)."""
        return float(np.mean(r2_score_per_output(y, self.predict(X))))

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
            "format": "course_utils.decoding/1",
            "class": type(self).__name__,
            "params": self.get_params(),
            "input_shape": list(self.input_shape_),
            "n_outputs": int(self.n_outputs_),
            "scalers": {
                k: torch.from_numpy(np.asarray(getattr(self, k)))
                for k in ("x_mean_", "x_std_", "y_mean_", "y_std_")
            },
            "state_dict": self.module_.state_dict(),
        }
        torch.save(payload, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> _TorchDecoder:
        """Read a decoder written by :meth:`save` (``torch.load(..., weights_only=True)``: no code runs)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"No saved decoder at {path}: check the path, or fit and save() one first."
            )
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != "course_utils.decoding/1":
            raise ValueError(f"{path} is not a decoder saved by course_utils.decoding (.save()).")
        if payload["class"] != cls.__name__:
            raise ValueError(
                f"{path} holds a {payload['class']}, not a {cls.__name__}: use {payload['class']}.load."
            )
        est = cls(**payload["params"])
        est.input_shape_ = tuple(payload["input_shape"])
        est.n_outputs_ = int(payload["n_outputs"])
        for key, tensor in payload["scalers"].items():
            setattr(est, key, tensor.numpy())
        seq_shape = est.input_shape_ if len(est.input_shape_) == 2 else (1, *est.input_shape_)
        est.module_ = est._build(seq_shape[0], seq_shape[1], est.n_outputs_)
        est.module_.load_state_dict(payload["state_dict"])
        est.module_.eval()
        return est


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

    Attributes
    ----------
    module_ : torch.nn.Module
    history_ : dict with ``train_loss`` and ``val_loss`` per epoch (standardised units)
    best_epoch_, n_epochs_ : int

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(300, 4, 2)); y = X[:, -3, :1]
    >>> GRUDecoder(hidden_size=8, max_epochs=2, progress=False).fit(X, y).predict(X).shape
    (300, 1)

    Taught in chapter 08_decoding_baselines.
    """

    def _build(self, lags: int, n_inputs: int, n_outputs: int) -> nn.Module:
        return _RecurrentNet("gru", n_inputs, self.hidden_size, self.num_layers, self.dropout, n_outputs)


class LSTMDecoder(_TorchDecoder):
    """LSTM decoder: as :class:`GRUDecoder` with a long short-term memory cell.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(300, 4, 2)); y = X[:, -3, :1]
    >>> LSTMDecoder(hidden_size=8, max_epochs=2, progress=False).fit(X, y).predict(X).shape
    (300, 1)

    Taught in chapter 08_decoding_baselines.
    """

    def _build(self, lags: int, n_inputs: int, n_outputs: int) -> nn.Module:
        return _RecurrentNet("lstm", n_inputs, self.hidden_size, self.num_layers, self.dropout, n_outputs)


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

    def _build(self, lags: int, n_inputs: int, n_outputs: int) -> nn.Module:
        return _FeedForwardNet(lags * n_inputs, self.hidden_size, self.num_layers, self.dropout, n_outputs)
