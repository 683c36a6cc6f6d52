"""Per-modality transforms of a chunk: normalisation with the folder's statistics, resize, crop.

Upstream's names are confusing ("normalize" is a z-score; "standardize" meant the same in old configs), so
each option is spelled out here:

* ``"normalize"`` (alias ``"standardize"``): ``(x - mean) / std``, a z-score with the folder's statistics.
* ``"normalize_variance_only"``: ``x / std`` (keeps zero at zero: right for non-negative responses).
* ``None``: raw values.

Stds below ``std_threshold`` are replaced by 1 so a silent neuron does not become infinite.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["NORMALIZATIONS", "load_statistics", "normalization_from_config", "screen_transforms_from_config"]

NORMALIZATIONS = ("normalize", "standardize", "normalize_variance_only", None)


def load_statistics(folder: Path, std_threshold: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """``meta/means.npy`` and ``meta/stds.npy`` of a modality, as float32 rows (1, n) or scalars.

    Taught in chapter 04_experanto_chunks.
    """
    paths = [folder / "meta" / "means.npy", folder / "meta" / "stds.npy"]
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: normalisation needs the modality's means and stds "
                                    "(or set the modality's transforms normalization to None).")
    mean, std = (np.load(p, allow_pickle=False).astype(np.float32) for p in paths)
    std = np.where(np.abs(std) < std_threshold, 1.0, std).astype(np.float32)
    return mean, std


def normalization_from_config(transforms: dict[str, Any] | None) -> str | None:
    """The normalisation named by a modality's ``transforms`` (new key or upstream's old booleans).

    Examples
    --------
    >>> normalization_from_config({"normalization": "normalize_variance_only"})
    'normalize_variance_only'
    >>> normalization_from_config({"normalize": True})
    'normalize'

    Taught in chapter 04_experanto_chunks.
    """
    transforms = transforms or {}
    if "normalization" in transforms:
        value = transforms["normalization"]
        if value not in NORMALIZATIONS:
            raise ValueError(f"transforms.normalization must be one of {NORMALIZATIONS}; got {value!r}.")
        return "normalize" if value == "standardize" else value
    for old in ("normalize_variance_only", "normalize", "standardize"):
        if transforms.get(old):
            return "normalize" if old == "standardize" else old
    return None


@functools.lru_cache(maxsize=32)
def resize_weights(n_in: int, n_out: int, antialias: bool) -> torch.Tensor:
    """(n_out, n_in) matrix of PyTorch's bilinear resampling weights along one axis (align_corners=False).

    Bilinear resizing, antialiased or not, is separable and linear, so resizing frames ``X`` (H, W) to
    (H', W') is ``Wy @ X @ Wx.T``: two small matrix products that BLAS runs several times faster than
    ``F.interpolate``'s CPU kernel on (T, 1, H, W) stacks, with the same values (to float rounding). For an
    integer enlargement of the height the second product is replaced by interleaved two-row blends, which skip
    the zeros of ``Wy``.

    Examples
    --------
    >>> resize_weights(2, 4, False)
    tensor([[1.0000, 0.0000],
            [0.7500, 0.2500],
            [0.2500, 0.7500],
            [0.0000, 1.0000]])

    Taught in chapter 04_experanto_chunks.
    """
    # each row of the identity is a one-column image; two identical columns, because PyTorch's antialiased
    # kernel mis-handles images one pixel wide
    eye = torch.eye(n_in).reshape(n_in, 1, n_in, 1).expand(n_in, 1, n_in, 2).contiguous()
    out = F.interpolate(eye, size=(n_out, 2), mode="bilinear", align_corners=False, antialias=antialias)
    return out[:, 0, :, 0].T.contiguous()


def _upsample_rows(frames: torch.Tensor, factor: int) -> torch.Tensor:
    """Bilinear upsampling of axis 1 by an integer factor, as ``factor`` interleaved two-row blends.

    Output row ``factor * i + k`` lies at input position ``i + (k + 0.5) / factor - 0.5``: a blend of row ``i``
    with row ``i - 1`` (first half of k) or ``i + 1`` (second half), clamped at the edges as PyTorch does. Each
    blend writes straight into a strided view of the output: no matrix of zeros is multiplied.
    """
    n, h, w = frames.shape
    prev = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
    nxt = torch.cat([frames[:, 1:], frames[:, -1:]], dim=1)
    out = torch.empty(n, h, factor, w, dtype=frames.dtype)
    for k in range(factor):
        d = (k + 0.5) / factor - 0.5
        torch.lerp(frames, prev if d < 0 else nxt, abs(d), out=out[:, :, k, :])
    return out.reshape(n, h * factor, w)


def _resize(size: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    size = (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)

    def resize(x: torch.Tensor) -> torch.Tensor:  # x: (C, T, H, W)
        if tuple(x.shape[-2:]) == size:
            return x
        c, t, h, w = x.shape
        # bilinear, antialiased when shrinking, as torchvision.transforms.v2.Resize does on tensors
        shrink = size[0] < h or size[1] < w
        wy = resize_weights(h, size[0], shrink)
        wx_t = resize_weights(w, size[1], shrink).T
        frames = torch.matmul(x.reshape(c * t, h, w), wx_t)  # (N, h, W'): the cheap product first
        if size[0] % h == 0 and size[0] > h:
            return _upsample_rows(frames, size[0] // h).reshape(c, t, *size)
        out = torch.empty(c * t, *size, dtype=frames.dtype)
        torch.matmul(wy, frames, out=out)
        return out.reshape(c, t, *size)

    return resize


def _center_crop(size: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    size = (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)

    def crop(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        top, left = max((h - size[0]) // 2, 0), max((w - size[1]) // 2, 0)
        return x[..., top : top + size[0], left : left + size[1]]

    return crop


def _normalize(mean: float, std: float) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: (x - float(mean)) / float(std)


_KNOWN = {"Resize": _resize, "CenterCrop": _center_crop, "Normalize": _normalize}


def screen_transforms_from_config(transforms: dict[str, Any] | None) -> list[Callable[[torch.Tensor], torch.Tensor]]:
    """Screen transforms in config order: ``Resize``, ``CenterCrop``, ``Normalize`` (torchvision's names and
    arguments; ``_target_`` may name them) or any callable. ``ToTensor`` is accepted and does nothing (the
    chunk is already a tensor). Arbitrary ``_target_`` import paths are refused: a config is data, not code.

    Examples
    --------
    >>> fs = screen_transforms_from_config({"Resize": {"size": [4, 6]}})
    >>> fs[0](torch.zeros(1, 2, 2, 3)).shape
    torch.Size([1, 2, 4, 6])

    Taught in chapter 04_experanto_chunks.
    """
    out = []
    for name, spec in (transforms or {}).items():
        if name in ("normalization", "normalize", "standardize", "normalize_variance_only", "ToTensor"):
            continue
        if callable(spec):
            out.append(spec)
            continue
        if not isinstance(spec, dict):
            raise ValueError(f"Screen transform {name!r}: expected a dict of arguments or a callable; got {spec!r}.")
        args = {k: v for k, v in spec.items() if not k.startswith("_")}
        kind = str(spec.get("_target_", name)).rsplit(".", 1)[-1]
        if kind == "ToTensor":
            continue
        if kind not in _KNOWN:
            raise ValueError(
                f"Screen transform {name!r} ({kind}) is not supported: use one of {sorted(_KNOWN)} or pass a callable."
            )
        out.append(_KNOWN[kind](**args))
    return out
