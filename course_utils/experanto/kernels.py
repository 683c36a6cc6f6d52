"""Compiled (numba) kernel of ChunkDataset's hot path: normalise and enlarge screen frames in one pass.

Upstream's default config turns each sample's 60 stored 36x64 frames into 144x256 ones (8.8 MB of float32):
a z-score, then each pixel repeated as a 4x4 block. NumPy needs several passes for that (normalise, widen
each row by strided copies, copy each wide row four times; :func:`~course_utils.experanto.transforms.repeat_pixels`).
This kernel reads each stored pixel once and writes each output row once while it is in the cache, with the
same float32 operations in the same order, so its values are the NumPy path's bit for bit (tests compare them,
NaN, infinities, -0.0 and subnormals included). Measured with ``benchmarks/bench_experanto.py``.

The first time ever, numba compiles the kernel and keeps the compiled code in its own cache beside this file,
like Python's ``.pyc`` files (or in a user cache folder where this one is not writable); later processes load
it from there. Either way a process pays once, before its first screen chunk (``ChunkDataset`` does it when
it is built, so forked DataLoader workers inherit the kernel): measured on the course's 2-core machine, 1.6 s
the first time ever and 1.05 s afterwards, mostly ``import numba`` (``bench_experanto.py`` prints it). Code
that never enlarges screen frames never imports numba. No data is ever stored in that cache.

Set the environment variable ``COURSE_COMPILED_KERNELS=0`` to use the NumPy path instead (same values,
slower): for a platform without numba, or to compare the two.

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
    """(N, H, W) float32 ``frames`` as (N, H * fy, W * fx): each pixel an ``fy`` x ``fx`` block, after
    ``(frames - mean) / std`` (``mean`` None: ``frames / std``; both None: no normalisation), in float32.

    The compiled form of :func:`~course_utils.experanto.transforms.repeat_pixels` (which calls it when numba
    is available), with the same values bit for bit.

    Examples
    --------
    >>> frames = np.array([[[1.0, 3.0]]], dtype=np.float32)
    >>> repeat_normalized(frames, 2, 2, mean=np.float32(1), std=np.float32(2))[0].tolist()
    [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]]

    Not called in the chapter: chapter 4's ``ChunkDataset`` reaches it through ``repeat_pixels``.
    Taught in chapter 04_experanto_chunks.
    """
    if frames.dtype != np.float32 or frames.ndim != 3:
        raise TypeError(f"repeat_normalized takes (N, H, W) float32 frames; got {frames.dtype} {frames.shape}.")
    if fy < 1 or fx < 1:
        raise ValueError(f"repetition factors must be positive integers; got fy={fy}, fx={fx}.")
    mode = RAW if std is None else DIVIDE if mean is None else SUBTRACT_DIVIDE
    if not (frames.flags.c_contiguous and frames.flags.writeable):
        frames = np.array(frames)  # one compiled variant (C order, writable) rather than one per layout
    n, h, w = frames.shape
    out = np.empty((n, h * fy, w * fx), dtype=np.float32)
    _repeat_kernel(frames, int(fy), int(fx), np.float32(0 if mean is None else mean),
                   np.float32(1 if std is None else std), mode, out)
    return out
