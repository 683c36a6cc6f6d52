"""A baseline encoding model for Sensorium 2023: shared factorised (2+1)D conv core, per-mouse readouts.

Architecture (the family of the competition's baselines and winners, made small for CPU):

* **Core**, shared by all mice: blocks of a spatial convolution (1 x k x k) followed by a *causal* temporal
  convolution (kt x 1 x 1; padded on the past side only, so frame t never sees frames after t), batch norm and
  ELU. Factorising space and time needs far fewer weights than full 3-D kernels.
* **Readout**, one per mouse: each neuron has a spatial mask over the core's feature map and a weight per
  feature channel; the mask is free per pixel (the factorised readout of Klindt et al. 2017, default) or a
  learnt Gaussian (after Lurz et al. 2021).
* **Behaviour modulation**, one per mouse: a per-neuron gain ``exp(w · behaviour_t)`` from pupil dilation,
  running speed and pupil position, multiplying the stimulus-driven rate.
* **Softplus** output (rates are non-negative) and a **Poisson loss**.

Taught in chapter 09_sensorium_encoding_and_submission.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from .dataset import N_BEHAVIOR_CHANNELS


class FactorizedCore(nn.Module):
    """Stack of factorised (2+1)D blocks: spatial conv -> causal depthwise temporal conv -> batch norm -> ELU.

    The first block sees the video through a full k x k spatial convolution; later blocks use depthwise 3 x 3
    spatial and pointwise channel mixing (as the winner's DwiseNeuro core, much cheaper on a CPU) with a residual
    connection. Temporal convolutions are depthwise and causal (padded on the past side only).

    Parameters
    ----------
    in_channels
        Video channels (1, or 5 with behaviour as channels).
    hidden_channels
        Feature channels of every block.
    n_layers
        Number of blocks.
    spatial_kernel, temporal_kernel
        Kernel sizes of the first block (later blocks use 3 x 3 and 3 frames).
    downsample
        Spatial stride of the first block (2 turns 36 x 64 into 18 x 32).
    pool
        Average-pool 2 x 2 after the first block (18 x 32 -> 9 x 16): later blocks and the readout then work on
        a quarter of the pixels, which is what makes CPU training take minutes.

    Examples
    --------
    >>> core = FactorizedCore(hidden_channels=4, n_layers=2)
    >>> core(torch.zeros(1, 1, 12, 36, 64)).shape
    torch.Size([1, 4, 12, 9, 16])

    Taught in chapter 09_sensorium_encoding_and_submission.
    """

    def __init__(self, in_channels: int = 1, hidden_channels: int = 16, n_layers: int = 3,
                 spatial_kernel: int = 7, temporal_kernel: int = 11, downsample: int = 2, pool: bool = True) -> None:
        super().__init__()
        c = hidden_channels
        self.pool = pool
        self.spatial = nn.ModuleList()
        self.temporal = nn.ParameterList()
        self.norms = nn.ModuleList()
        for layer in range(n_layers):
            if layer == 0:
                k, kt = spatial_kernel, temporal_kernel
                spatial = nn.Conv2d(in_channels, c, k, stride=downsample, padding=k // 2, bias=False)
            else:
                kt = 3
                spatial = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False),
                                        nn.Conv2d(c, c, 1, bias=False))
            self.spatial.append(spatial)
            # depthwise temporal kernel, (channels, lags); initialised as a smoothing of recent frames
            self.temporal.append(nn.Parameter(torch.full((c, kt), 1.0 / kt) + 0.1 * torch.randn(c, kt) / kt**0.5))
            self.norms.append(nn.BatchNorm3d(c))
        self.out_channels = c

    @staticmethod
    def _causal_depthwise(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """out[:, c, t] = sum_k kernel[c, k] * x[:, c, t - (kt - 1) + k], zero before the first frame.

        Written as a few shifted multiply-adds: depthwise 3-D convolutions are slow on CPUs.
        """
        kt = kernel.shape[1]
        frames = x.shape[2]
        padded = F.pad(x, (0, 0, 0, 0, kt - 1, 0))  # causal: pad the past only
        out = padded[:, :, 0:frames] * kernel[None, :, 0, None, None, None]
        for k in range(1, kt):
            out = out + padded[:, :, k : k + frames] * kernel[None, :, k, None, None, None]
        return out

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        x = video
        for layer, (spatial, kernel, norm) in enumerate(zip(self.spatial, self.temporal, self.norms, strict=True)):
            b, c, t, h, w = x.shape
            frames = x.transpose(1, 2).reshape(b * t, c, h, w)  # every frame through the 2-D spatial filter
            y = spatial(frames)
            if layer == 0 and self.pool:
                # pool before the temporal filter: both are linear, so this equals pooling after it,
                # on a quarter of the pixels
                y = F.avg_pool2d(y, 2)
            y = y.reshape(b, t, *y.shape[1:]).transpose(1, 2)
            y = F.elu(norm(self._causal_depthwise(y, kernel)))
            x = y if layer == 0 else x + y
        return x


class FactorizedReadout(nn.Module):
    """Per-neuron spatial mask and feature weights: ``r_n(t) = sum_c w_nc sum_xy m_nxy f_cxy(t) + b_n``.

    Examples
    --------
    >>> readout = FactorizedReadout(n_neurons=3, channels=4, height=2, width=2)
    >>> readout(torch.zeros(1, 4, 5, 2, 2)).shape
    torch.Size([1, 3, 5])

    Taught in chapter 09_sensorium_encoding_and_submission.
    """

    def __init__(self, n_neurons: int, channels: int, height: int, width: int) -> None:
        super().__init__()
        self.mask = nn.Parameter(torch.randn(n_neurons, height, width) * 0.01 + 1.0 / (height * width))
        self.features = nn.Parameter(torch.randn(n_neurons, channels) / channels**0.5)
        self.bias = nn.Parameter(torch.zeros(n_neurons))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        pooled = torch.einsum("bcthw,nhw->bnct", features, self.mask)
        return torch.einsum("bnct,nc->bnt", pooled, self.features) + self.bias[None, :, None]

    def regularizer(self) -> torch.Tensor:
        """L1 penalty on mask and feature weights (sparse, local receptive fields)."""
        return self.mask.abs().mean() + self.features.abs().mean()


class GaussianReadout(nn.Module):
    """Per-neuron isotropic Gaussian spatial mask (centre and width learnt) and feature weights.

    Like the Gaussian readout of Lurz et al. (2021) each neuron reads the feature map around one learnt position,
    but the Gaussian is evaluated densely over the (small) feature map instead of sampled, so it starts broad and
    its gradient reaches every position; it has 3 spatial parameters per neuron instead of one per pixel.

    Examples
    --------
    >>> readout = GaussianReadout(n_neurons=3, channels=4, height=2, width=2)
    >>> readout(torch.zeros(1, 4, 5, 2, 2)).shape
    torch.Size([1, 3, 5])

    Taught in chapter 09_sensorium_encoding_and_submission.
    """

    def __init__(self, n_neurons: int, channels: int, height: int, width: int) -> None:
        super().__init__()
        self.mu = nn.Parameter(torch.rand(n_neurons, 2) - 0.5)  # (x, y) in [-1, 1] feature-map coordinates
        self.log_sigma = nn.Parameter(torch.full((n_neurons,), float(torch.log(torch.tensor(0.4)))))
        self.features = nn.Parameter(torch.randn(n_neurons, channels) / channels**0.5)
        self.bias = nn.Parameter(torch.zeros(n_neurons))
        self.register_buffer("grid_x", torch.linspace(-1, 1, width), persistent=False)
        self.register_buffer("grid_y", torch.linspace(-1, 1, height), persistent=False)

    @property
    def mask(self) -> torch.Tensor:
        """The neurons' spatial weights, (neurons, height, width), each summing to 1."""
        sigma = self.log_sigma.exp()[:, None, None]
        dx = self.grid_x[None, None, :] - self.mu[:, 0, None, None]
        dy = self.grid_y[None, :, None] - self.mu[:, 1, None, None]
        weights = torch.exp(-(dx**2 + dy**2) / (2 * sigma**2))
        return weights / weights.sum(dim=(1, 2), keepdim=True)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        pooled = torch.einsum("bcthw,nhw->bnct", features, self.mask)
        return torch.einsum("bnct,nc->bnt", pooled, self.features) + self.bias[None, :, None]

    def regularizer(self) -> torch.Tensor:
        """L1 penalty on the feature weights."""
        return self.features.abs().mean()


READOUTS = {"gaussian": GaussianReadout, "factorized": FactorizedReadout}


class SensoriumModel(nn.Module):
    """Shared core + per-mouse readout and behaviour gain; outputs non-negative rates (batch, neurons, frames).

    Parameters
    ----------
    n_neurons
        Neurons of each mouse, by mouse name.
    in_channels
        Video channels (5 when behaviour is given as channels).
    hidden_channels, n_layers
        Size of the core.
    height, width
        Video size (36 x 64 in Sensorium 2023).
    readout
        ``"factorized"`` (:class:`FactorizedReadout`, default: on the small demo data it learns fastest) or
        ``"gaussian"`` (:class:`GaussianReadout`, 3 spatial parameters per neuron, for many neurons).

    Examples
    --------
    >>> model = SensoriumModel({"m": 5}, hidden_channels=4, n_layers=1)
    >>> model(torch.zeros(2, 1, 8, 36, 64), torch.zeros(2, 4, 8), "m").shape
    torch.Size([2, 5, 8])

    Taught in chapter 09_sensorium_encoding_and_submission.
    """

    def __init__(self, n_neurons: Mapping[str, int], in_channels: int = 1, hidden_channels: int = 16,
                 n_layers: int = 3, height: int = 36, width: int = 64, downsample: int = 2,
                 readout: str = "factorized") -> None:
        super().__init__()
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {list(READOUTS)}, not {readout!r}.")
        self.config = {"n_neurons": dict(n_neurons), "in_channels": in_channels, "hidden_channels": hidden_channels,
                       "n_layers": n_layers, "height": height, "width": width, "downsample": downsample,
                       "readout": readout}
        self.core = FactorizedCore(in_channels, hidden_channels, n_layers, downsample=downsample)
        out_h = ((height + 2 * 3 - 7) // downsample + 1) // 2
        out_w = ((width + 2 * 3 - 7) // downsample + 1) // 2
        # ModuleDict keys cannot contain "."; mouse names are folder names (letters, digits, dashes)
        self.readouts = nn.ModuleDict({name: READOUTS[readout](n, hidden_channels, out_h, out_w)
                                       for name, n in n_neurons.items()})
        self.modulators = nn.ModuleDict({name: nn.Linear(N_BEHAVIOR_CHANNELS, n) for name, n in n_neurons.items()})
        for modulator in self.modulators.values():
            nn.init.zeros_(modulator.weight)
            nn.init.zeros_(modulator.bias)

    def forward(self, video: torch.Tensor, behavior: torch.Tensor, mouse: str) -> torch.Tensor:
        if mouse not in self.readouts:
            raise KeyError(f"The model has no readout for mouse {mouse!r}; it knows {list(self.readouts)}.")
        drive = self.readouts[mouse](self.core(video))
        log_gain = self.modulators[mouse](behavior.transpose(1, 2)).transpose(1, 2)
        return F.softplus(drive) * torch.exp(log_gain.clamp(-5.0, 5.0))

    def regularizer(self, mouse: str) -> torch.Tensor:
        return self.readouts[mouse].regularizer()


def poisson_loss(rates: torch.Tensor, responses: torch.Tensor, skip_frames: int = 0, eps: float = 1e-8) -> torch.Tensor:
    """Mean Poisson negative log-likelihood (up to a constant), ignoring NaN targets and the first frames.

    Examples
    --------
    >>> poisson_loss(torch.ones(1, 1, 3), torch.tensor([[[1.0, float("nan"), 1.0]]])).item()
    1.0

    Taught in chapter 09_sensorium_encoding_and_submission.
    """
    rates, responses = rates[..., skip_frames:], responses[..., skip_frames:]
    valid = ~torch.isnan(responses)
    if not valid.any():
        return rates.sum() * 0.0
    target = torch.where(valid, responses, torch.zeros_like(responses))
    nll = rates - target * torch.log(rates + eps)
    return nll[valid].mean()
