"""Per-modality transforms of a chunk: normalisation with the folder's statistics, resize, crop.

Upstream's names are confusing ("normalize" is a z-score; "standardize" meant the same in old configs), so
each option is spelled out here:

* ``"normalize"`` (alias ``"standardize"``): ``(x - mean) / std``, a z-score with the folder's statistics.
* ``"normalize_variance_only"``: ``x / std`` (keeps zero at zero: right for non-negative responses).
* ``None``: raw values.

Stds of the ``responses`` below 1 % of their mean std are raised to that 1 % (upstream's and neuralpredictors'
rule, so that a silent neuron does not blow up); stds of other modalities below ``1e-8`` become 1.

Two resizes, as upstream has two:

* ``interpolation: {rescale: True, rescale_size: [H, W]}`` (upstream's default) resizes frames as OpenCV's
  area interpolation (``cv2.INTER_AREA``) does: block averages when shrinking, and when enlarging by an
  integer factor, such as 36x64 -> 144x256, exact pixel repetition (each pixel becomes a 4x4 block).
  :func:`area_resize` gives the same values without OpenCV.
* ``transforms: {Resize: {size: [H, W]}}`` is torchvision's ``Resize``: bilinear, antialiased when shrinking
  (:func:`resize_weights`). A no-op when the frames already have that size.

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import functools
import importlib
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..fileio import BadFileError, load_npy

__all__ = [
    "NORMALIZATIONS",
    "area_resize",
    "area_weights",
    "load_statistics",
    "normalization_from_config",
    "prepare_compiled_kernel",
    "repeat_factors",
    "repeat_pixels",
    "screen_transforms_from_config",
]

NORMALIZATIONS = ("normalize", "standardize", "normalize_variance_only", None)
RESPONSE_STD_FRACTION = 0.01
# Widened rows per block of repeat_pixels: the fastest size in a micro-benchmark of the function alone (60
# frames 36x64 -> 144x256, 2-core AMD EPYC, 512 kB L2 per core): 256 kB blocks took 6-7 % longer, 1 MB no less.
REPEAT_BLOCK_BYTES = 1 << 19


def load_statistics(
    folder: Path, n_signals: int | None = None, std_threshold: float = 1e-8
) -> tuple[np.ndarray, np.ndarray]:
    """``meta/means.npy`` and ``meta/stds.npy`` of a modality, as float32 rows (1, n) or (1, 1).

    Parameters
    ----------
    folder
        The modality folder.
    n_signals
        For sequences, the number of signals: the files must hold one value per signal (any shape with that
        many values: (n,), (1, n) or (n, 1)). ``None`` (the screen): one value.
    std_threshold
        Stds below it become 1 (a constant signal stays finite); for ``responses`` the 1 % rule applies
        instead (see the module docstring).

    Examples
    --------
    >>> import tempfile; d = Path(tempfile.mkdtemp()); (d / "meta").mkdir()
    >>> np.save(d / "meta" / "means.npy", np.zeros(3)); np.save(d / "meta" / "stds.npy", np.array([2.0, 0, 1]))
    >>> load_statistics(d, n_signals=3)[1].tolist()
    [[2.0, 1.0, 1.0]]

    Taught in chapter 04_experanto_chunks.
    """
    folder = Path(folder)
    fix = ("Normalisation needs the modality's means and stds: regenerate them (course_utils.experanto.writer) "
           "or set the modality's transforms normalization to None.")
    stats = []
    for name in ("means", "stds"):
        path = folder / "meta" / f"{name}.npy"
        values = np.asarray(load_npy(path, fix=fix), dtype=np.float64)
        expected = 1 if n_signals is None else n_signals
        if values.size != expected:
            what = "one value (the screen's mean or std)" if n_signals is None else f"one value per signal ({n_signals})"
            raise BadFileError(path, f"has shape {values.shape}; expected {what}.", fix)
        stats.append(values.reshape(1, expected))
    mean, std = stats
    if folder.name == "responses":
        floor = RESPONSE_STD_FRACTION * np.nanmean(std)
        std = np.where(std < floor, floor, std)
    else:
        std = np.where(np.abs(std) < std_threshold, 1.0, std)
    return mean.astype(np.float32), std.astype(np.float32)


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


@functools.lru_cache(maxsize=64)
def area_weights(n_in: int, n_out: int, shrink_both: bool) -> np.ndarray:
    """(n_out, n_in) float32 weights of OpenCV's ``INTER_AREA`` resize along one axis.

    OpenCV does true area averaging only when neither axis grows (``shrink_both``): output pixel ``i`` covers
    input ``[i * s, (i + 1) * s)`` with ``s = n_in / n_out`` and averages the pixels it overlaps, weighted by
    the overlap. When an axis grows, OpenCV emulates area interpolation with two-tap weights: output ``i``
    reads input ``k = floor(i * s)`` and ``k + 1`` with weight ``f = (i + 1) - (k + 1) / s`` (0 when
    ``f <= 0``, else its fractional part) on ``k + 1``; for an integer factor ``f`` is always 0, so each input
    pixel is repeated. The arithmetic (double precision, then float32 weights) follows OpenCV's.

    Examples
    --------
    >>> area_weights(2, 4, False).tolist()
    [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]
    >>> area_weights(4, 10, False)[2].tolist()
    [0.5, 0.5, 0.0, 0.0]
    >>> area_weights(4, 2, True).tolist()
    [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]

    Taught in chapter 04_experanto_chunks.
    """
    inv_scale = n_out / n_in
    scale = 1.0 / inv_scale
    weights = np.zeros((n_out, n_in), dtype=np.float32)
    if shrink_both:
        for i in range(n_out):
            lo = i * scale
            hi = lo + scale
            cell = min(scale, n_in - lo)
            first, last = int(np.ceil(lo)), int(np.floor(hi))
            last = min(last, n_in - 1)
            first = min(first, last)
            if first - lo > 1e-3:
                weights[i, first - 1] += np.float32((first - lo) / cell)
            weights[i, first:last] += np.float32(1.0 / cell)
            if hi - last > 1e-3:
                weights[i, last] += np.float32(min(hi - last, 1.0, cell) / cell)
        return weights
    for i in range(n_out):
        k = int(np.floor(i * scale))
        f = float(np.float32((i + 1) - (k + 1) * inv_scale))
        f = 0.0 if f <= 0 else f - np.floor(f)
        if k >= n_in - 1:
            k, f = n_in - 1, 0.0
        weights[i, k] += np.float32(1.0) - np.float32(f)
        if f:
            weights[i, k + 1] += np.float32(f)
    return weights


def _repeat_factor(weights: np.ndarray) -> int:
    """The integer factor if ``weights`` is pure pixel repetition, else 0."""
    n_out, n_in = weights.shape
    if n_out % n_in:
        return 0
    factor = n_out // n_in
    return factor if np.array_equal(weights, np.repeat(np.eye(n_in, dtype=np.float32), factor, axis=0)) else 0


@functools.lru_cache(maxsize=64)
def _area_plan(h: int, w: int, size: tuple[int, int]) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(fy, fx, wy, wx) of an area resize of (h, w) frames to ``size``: integer repetition factors (0 if not
    pure repetition) and the weight matrices, worked out once per shape rather than per sample."""
    shrink_both = size[0] <= h and size[1] <= w
    wy, wx = area_weights(h, size[0], shrink_both), area_weights(w, size[1], shrink_both)
    return _repeat_factor(wy), _repeat_factor(wx), wy, wx


def repeat_pixels(frames: np.ndarray, fy: int, fx: int,
                  normalize: tuple[np.ndarray | None, np.ndarray] | None = None,
                  compiled: bool | None = None) -> np.ndarray:
    """Each pixel of (N, H, W) ``frames`` as an ``fy`` x ``fx`` block: (N, H * fy, W * fx), C-contiguous.

    The exact values of an integer area (or nearest) enlargement. float32 frames go through a compiled kernel
    (:func:`course_utils.experanto.kernels.repeat_normalized`, numba) that reads each pixel once and writes
    each output row once; otherwise (another dtype, no numba, ``COURSE_COMPILED_KERNELS=0``) NumPy does it
    block by block of frames (``REPEAT_BLOCK_BYTES`` of widened rows), each block widened and copied while it
    is still in the core's caches: each pixel is repeated ``fx`` times along the row by ``fx`` strided copies
    (far cheaper than ``np.repeat``'s element-by-element loop), then each wide row is copied ``fy`` times into
    the output. Both give the same values bit for bit; only NumPy's floating-point warnings (a division by a
    zero std, an overflow) have no counterpart in the kernel, which returns the same infinities and NaNs
    silently. The output is NumPy memory, so ``torch.from_numpy`` wraps it without a copy.

    Parameters
    ----------
    frames
        (N, H, W) frames, any dtype (float32 with ``normalize``).
    fy, fx
        Positive integer repetition factors along the height and the width.
    normalize
        ``(mean, std)``, float32 scalars (``mean`` None: divide only): each block of frames becomes
        ``(frames - mean) / std`` in float32 just before it is repeated, while it is in the cache (the same
        operations in the same order as normalising ``frames`` first, so the same values bit for bit,
        without a separate pass over the frames). ``frames`` is left untouched.
    compiled
        Use the compiled kernel: None (default) where it applies (float32 frames and statistics) and numba
        is available, False never (the NumPy path), True always (an error if it cannot).

    Returns
    -------
    numpy.ndarray
        (N, H * fy, W * fx), the dtype of ``frames``.

    Examples
    --------
    >>> repeat_pixels(np.array([[[1, 2], [3, 4]]]), 2, 3)[0]
    array([[1, 1, 1, 2, 2, 2],
           [1, 1, 1, 2, 2, 2],
           [3, 3, 3, 4, 4, 4],
           [3, 3, 3, 4, 4, 4]])

    Not called in the chapter: chapter 4's ``ChunkDataset`` enlarges its screen frames with it (with
    ``normalize`` in the default config, else through :func:`area_resize`). Taught in chapter 04_experanto_chunks.
    """
    n, h, w = frames.shape
    if normalize is not None and frames.dtype != np.float32:
        raise TypeError(f"repeat_pixels normalises float32 frames only; got {frames.dtype}.")
    if not all(isinstance(f, (int, np.integer)) and f >= 1 for f in (fy, fx)):
        raise ValueError(f"repeat_pixels: fy and fx are repetition factors, positive integers; got fy={fy!r}, "
                         f"fx={fx!r}. For other sizes use area_resize.")
    if compiled is not False:
        kernel = _compiled_kernel(frames, normalize, required=bool(compiled))
        if kernel is not None:
            return kernel(frames, int(fy), int(fx))
    out = np.empty((n, h, fy, w * fx), dtype=frames.dtype)
    block = max(1, min(n, REPEAT_BLOCK_BYTES // max(1, h * w * fx * frames.dtype.itemsize)))
    wide = np.empty((block, h, w, fx), dtype=frames.dtype)
    scaled = np.empty((block, h, w), dtype=np.float32) if normalize is not None else None
    for s in range(0, n, block):
        b = min(block, n - s)
        source = frames[s : s + b]
        if scaled is not None:
            mean, std = normalize
            if mean is not None:
                np.subtract(source, mean, out=scaled[:b])
                source = np.divide(scaled[:b], std, out=scaled[:b])
            else:
                source = np.divide(source, std, out=scaled[:b])
        for k in range(fx):
            wide[:b, :, :, k] = source
        out[s : s + b] = wide[:b].reshape(b, h, 1, w * fx)
    return out.reshape(n, h * fy, w * fx)


def _float32_scalar(value: Any) -> np.float32 | None:
    """``value`` as a float32 scalar if it is one float32 value (a scalar, a 0-d or a (1, 1) array), else None."""
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype == np.float32 and value.size == 1:
        return np.float32(np.asarray(value).reshape(()))
    return None


@functools.lru_cache(maxsize=1)
def _kernels_module() -> tuple[Any, str | None]:
    """(course_utils.experanto.kernels, None), or (None, why it cannot be used), tried once per process: a
    failed import costs about a millisecond, too much to repeat for every sample."""
    try:
        kernels = importlib.import_module(".kernels", __package__)
    except Exception as err:  # numba missing, too old for this numpy, or unable to cache its code
        why = (f"numba cannot be used ({type(err).__name__}: {err}); install it with `pip install numba`, "
               "or, if it cannot write its cache, set NUMBA_CACHE_DIR to a writable folder")
        warnings.warn(f"{why}. repeat_pixels (and ChunkDataset's screen frames) use the NumPy path: the same "
                      "values, slower.", RuntimeWarning, stacklevel=4)
        return None, why
    return kernels, None


def _compiled_kernel(frames: np.ndarray, normalize: tuple[Any, Any] | None,
                     required: bool) -> Callable[..., np.ndarray] | None:
    """:func:`~course_utils.experanto.kernels.repeat_normalized`, with the statistics as float32 scalars,
    where it gives this call's values, else None (``required``: an error saying why not)."""
    why, mean, std = None, None, None
    if normalize is not None:
        mean = None if normalize[0] is None else _float32_scalar(normalize[0])
        std = _float32_scalar(normalize[1])
    if frames.dtype != np.float32 or frames.ndim != 3:
        why = f"it takes float32 frames; got {frames.dtype}"
    elif normalize is not None and (std is None or (normalize[0] is not None and mean is None)):
        why = "the statistics must be single float32 values (other dtypes would change the arithmetic)"
    elif not required and os.environ.get("COURSE_COMPILED_KERNELS", "1").strip() == "0":
        return None
    else:
        kernels, why = _kernels_module()
        if kernels is not None:
            return functools.partial(kernels.repeat_normalized, mean=mean, std=std)
    if required:
        raise TypeError(f"repeat_pixels(compiled=True): the compiled kernel cannot be used: {why}.")
    return None


def prepare_compiled_kernel() -> bool:
    """Load (or compile, the first time ever) the compiled kernel of :func:`repeat_pixels` now, so that the
    first sample does not wait for it and DataLoader workers forked afterwards inherit it. True if it will be
    used (numba available, ``COURSE_COMPILED_KERNELS`` not ``0``).

    Not called in the chapter: ``ChunkDataset`` calls it when its config repeats screen pixels.
    Taught in chapter 04_experanto_chunks.
    """
    tiny = np.zeros((1, 1, 1), dtype=np.float32)
    kernel = _compiled_kernel(tiny, None, required=False)
    if kernel is not None:
        kernel(tiny, 1, 1)
    return kernel is not None


def _numpy_view(x: torch.Tensor) -> np.ndarray | None:
    """``x``'s memory as a NumPy array, or None if it has none (GPU, autograd, a dtype NumPy lacks)."""
    if x.device.type != "cpu" or x.requires_grad:
        return None
    try:
        return x.numpy()
    except (TypeError, RuntimeError):
        return None


def area_resize(size: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    """A resize of (..., H, W) frames to ``size`` that gives OpenCV's ``INTER_AREA`` values.

    Integer enlargements are pure pixel repetition (:func:`repeat_pixels`: copies, no arithmetic);
    everything else is a product with the two :func:`area_weights` matrices.

    Examples
    --------
    >>> area_resize([4, 6])(torch.arange(6.0).reshape(1, 2, 3))[0, :2].tolist()
    [[0.0, 0.0, 1.0, 1.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]]

    Taught in chapter 04_experanto_chunks.
    """
    size = (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)

    def resize(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if (h, w) == size:
            return x
        fy, fx, wy, wx = _area_plan(int(h), int(w), size)
        lead = x.shape[:-2]
        frames = x.reshape(-1, h, w)
        array = _numpy_view(frames) if fy and fx else None
        if array is not None:  # the output is numpy's memory: no copy to make it a tensor
            out = torch.from_numpy(repeat_pixels(array, fy, fx))
        elif fy and fx:  # a GPU tensor, or one that needs gradients
            out = frames[:, :, None, :, None].expand(-1, h, fy, w, fx).reshape(-1, *size)
        else:
            out = torch.from_numpy(wy).to(x.dtype) @ (frames @ torch.from_numpy(wx.T.copy()).to(x.dtype))
        return out.reshape(*lead, *size)

    return resize


def repeat_factors(in_size: tuple[int, int], out_size: tuple[int, int]) -> tuple[int, int] | None:
    """``(fy, fx)`` if the area resize from ``in_size`` to ``out_size`` enlarges by pure pixel repetition
    (:func:`repeat_pixels`), else None (also for the identity and for shrinking).

    Examples
    --------
    >>> repeat_factors((36, 64), (144, 256)), repeat_factors((36, 64), (100, 200))
    ((4, 4), None)

    Taught in chapter 04_experanto_chunks.
    """
    if out_size[0] <= in_size[0] and out_size[1] <= in_size[1]:
        return None
    fy, fx, _, _ = _area_plan(int(in_size[0]), int(in_size[1]), tuple(int(v) for v in out_size))
    return (fy, fx) if fy and fx else None


def is_pixel_repetition(in_size: tuple[int, int], out_size: tuple[int, int]) -> bool:
    """True if the area resize from ``in_size`` to ``out_size`` only repeats pixels (exact, commutes with
    normalisation).

    Examples
    --------
    >>> is_pixel_repetition((36, 64), (144, 256)), is_pixel_repetition((36, 64), (100, 200))
    (True, False)
    """
    if out_size[0] <= in_size[0] and out_size[1] <= in_size[1]:
        return tuple(out_size) == tuple(in_size)
    return repeat_factors(in_size, out_size) is not None


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
        if tuple(x.shape[-2:]) == size:  # torchvision's Resize also returns the input then
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

    resize.kind, resize.size = "Resize", size  # type: ignore[attr-defined]
    return resize


def _center_crop(size: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    size = (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)

    def crop(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        top, left = max((h - size[0]) // 2, 0), max((w - size[1]) // 2, 0)
        return x[..., top : top + size[0], left : left + size[1]]

    crop.kind, crop.size = "CenterCrop", size  # type: ignore[attr-defined]
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
