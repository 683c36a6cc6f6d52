"""Compiled (numba) kernel of ChunkDataset's hot path: normalise and enlarge screen frames in one pass.

Upstream's default config turns each sample's 60 stored 36x64 frames into 144x256 ones (8.8 MB of float32):
a z-score, then each pixel repeated as a 4x4 block. NumPy needs several passes for that (normalise, widen
each row by strided copies, copy each wide row four times:
:func:`~course_utils.experanto.transforms.repeat_pixels`).
This kernel reads each stored pixel once and writes each output row once while it is in the cache, with the
same float32 operations in the same order, so its values are the NumPy path's bit for bit (tests compare them,
NaN, infinities, -0.0 and subnormals included). Measured with ``benchmarks/bench_experanto.py``.

The first time ever, numba compiles the kernel and keeps the compiled code in its own cache beside this file,
like Python's ``.pyc`` files (or in a user cache folder where this one is not writable, or in
``$NUMBA_CACHE_DIR``); later processes load it from there. Either way a process pays once, before its first
screen chunk: ``ChunkDataset`` does it when it is built, so DataLoader workers forked afterwards inherit the
kernel (workers started by spawn or forkserver, the default on macOS and Windows, load it again, once per
worker; ``persistent_workers=True`` keeps them across epochs). ``bench_experanto.py`` prints what it costs:
on the course's 2-core machine 1.4-1.6 s the first time ever and 0.8-1.0 s afterwards (``import numba`` and
loading the cached code). Code that never enlarges screen frames never imports numba. No data is ever stored
in that cache.

Where numba cannot be imported (or cannot cache its code), ``repeat_pixels`` warns once and uses the NumPy
path: the same values, slower. Set the environment variable ``COURSE_COMPILED_KERNELS=0`` to use the NumPy
path anyway (to compare the two, or to avoid the one-off cost in short scripts).

Taught in chapter 04_experanto_chunks.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["repeat_normalized"]

# Kernel modes: which normalisation runs before the repetition.
RAW, DIVIDE, SUBTRACT_DIVIDE = 0, 1, 2


@numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy", inline="always")
def _scaled(v, mean, std, mode):  # numba infers the types
    if mode == SUBTRACT_DIVIDE:
        return (v - mean) / std
    if mode == DIVIDE:
        return v / std
    return v


@numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
def _repeat_kernel(frames, fy, fx, mean, std, mode, out):
    n, h, w = frames.shape
    width = w * fx
    for i in range(n):
        for y in range(h):
            top = y * fy
            # the usual factors as constants, so that the compiler vectorises the widening
            if fx == 4:
                for x in range(w):
                    v = _scaled(frames[i, y, x], mean, std, mode)
                    for k in range(4):
                        out[i, top, 4 * x + k] = v
            elif fx == 2:
                for x in range(w):
                    v = _scaled(frames[i, y, x], mean, std, mode)
                    for k in range(2):
                        out[i, top, 2 * x + k] = v
            else:
                for x in range(w):
                    v = _scaled(frames[i, y, x], mean, std, mode)
                    for k in range(fx):
                        out[i, top, fx * x + k] = v
            for j in range(1, fy):  # the row just written is in the cache: copy it fy - 1 times
                for c in range(width):
                    out[i, top + j, c] = out[i, top, c]
    return out


def repeat_normalized(frames: np.ndarray, fy: int, fx: int, mean: np.float32 | None = None,
                      std: np.float32 | None = None) -> np.ndarray:
    """Normalise and enlarge (N, H, W) float32 ``frames`` in one pass: (N, H * fy, W * fx), each pixel an
    ``fy`` x ``fx`` block of ``(pixel - mean) / std`` in float32.

    The compiled form of :func:`~course_utils.experanto.transforms.repeat_pixels` (which calls it when numba
    is available), with the same values bit for bit.

    Parameters
    ----------
    frames
        (N, H, W) float32 frames (any memory layout; left untouched).
    fy, fx
        Positive integer repetition factors along the height and the width.
    mean, std
        float32 scalars: ``(frames - mean) / std``; ``mean`` None: ``frames / std``; both None: the frames as
        they are. Other dtypes are refused, since converting them would change the arithmetic.

    Returns
    -------
    numpy.ndarray
        (N, H * fy, W * fx) float32, C-contiguous.

    Examples
    --------
    >>> frames = np.array([[[1.0, 3.0]]], dtype=np.float32)
    >>> repeat_normalized(frames, 2, 2, mean=np.float32(1), std=np.float32(2))[0].tolist()
    [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]]

    Not called in the chapter: chapter 4's ``ChunkDataset`` reaches it through ``repeat_pixels``.
    Taught in chapter 04_experanto_chunks.
    """
    if frames.dtype != np.float32:
        raise TypeError(f"repeat_normalized takes float32 frames; got {frames.dtype}. Convert them first, or "
                        "use course_utils.experanto.transforms.repeat_pixels, which takes any dtype.")
    if frames.ndim != 3:
        raise ValueError(f"repeat_normalized takes (N, H, W) frames; got shape {frames.shape}.")
    if not all(isinstance(f, (int, np.integer)) and f >= 1 for f in (fy, fx)):
        raise ValueError(f"repeat_normalized: fy and fx must be positive integers; got fy={fy!r}, fx={fx!r}.")
    if mean is not None and std is None:
        raise ValueError("repeat_normalized: a mean without a std; pass std too (mean=None divides only).")
    for name, value in (("mean", mean), ("std", std)):
        if value is not None and not (isinstance(value, np.float32)):
            raise TypeError(f"repeat_normalized: {name} must be a np.float32 scalar; got {value!r} "
                            f"({type(value).__name__}). Other dtypes would change the arithmetic.")
    mode = RAW if std is None else DIVIDE if mean is None else SUBTRACT_DIVIDE
    if not (frames.flags.c_contiguous and frames.flags.writeable):
        frames = np.array(frames)  # one compiled variant (C order, writable) rather than one per layout
    n, h, w = frames.shape
    out = np.empty((n, h * fy, w * fx), dtype=np.float32)
    _repeat_kernel(frames, int(fy), int(fx), mean if mean is not None else np.float32(0),
                   std if std is not None else np.float32(1), mode, out)
    return out
