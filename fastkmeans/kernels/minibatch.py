"""Mini-batch k-means steps (Sculley 2010, with scikit-learn's count-based learning rates).

A step assigns the rows of one batch to their nearest center (in parallel over fixed row
chunks of the batch, with the direct or GEMM-style distance helpers of :mod:`.lloyd`),
merges the per-chunk sums in chunk order, and moves every center that received rows to the
weighted mean of its old position (weighted by its count) and its new rows:

    c_j <- (count_j * c_j + sum_{i in j} w_i x_i) / (count_j + sum_{i in j} w_i)

which is the per-sample learning rate ``w_i / count_j`` of Sculley's algorithm. Centers
that received no rows stay where they are.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE
from .lloyd import DISTANCE_DTYPE, _direct_chunk, _gemm_chunk, center_on
from .partials import EXACT, SUMS
from .twins import serial_twin


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _prepare_gemm(centers, centered, half_norms, mean):
    """IN centers (k,d); OUT centered = centers - mean (k,d), half_norms (k,), mean (d,):
    the centers' mean, used to center the batch and the centers for the GEMM-style
    distances."""
    k, d = centers.shape
    for f in range(d):
        s = 0.0
        for j in range(k):
            s += np.float64(centers[j, f])
        mean[f] = s / k
    center_on(centers, mean, centered, half_norms)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _assign_chunk(
    X, w, centers, centered, half_norms, mean, gemm, start, stop, labels, sums, wsums
):
    """IN X (b,d), w (b,) f8, centers (k,d), GEMM workspaces as :func:`_prepare_gemm`,
    rows start..stop; INOUT labels (b,); OUT sums (k,d) f8, wsums (k,) f8.
    Returns the weighted inertia of the rows to their nearest center."""
    # Always SUMS, but an int, not the literal: a literal would compile the chunk kernels
    # once more, apart from the specialisation Lloyd's kernels use.
    mode = SUMS if stop >= start else EXACT
    stats = np.empty((0, 2))  # SUMS keeps no stats
    smean = np.empty(0)
    if gemm:
        inertia, _ = _gemm_chunk(
            X,
            w,
            centers,
            centered,
            half_norms,
            mean,
            start,
            stop,
            labels,
            sums,
            wsums,
            stats,
            smean,
            mode,
        )
    else:
        inertia, _ = _direct_chunk(X, w, centers, start, stop, labels, sums, wsums, stats, smean,
                                   mode)  # fmt: skip
    return inertia


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _update(centers, sums, wsums, inertia, counts, new_centers):
    """IN centers (k,d), sums (n_chunks,k,d) f8, wsums (n_chunks,k) f8, inertia
    (n_chunks,) f8; INOUT counts (k,) f8; OUT new_centers (k,d). Chunks merged in order.
    Returns (batch inertia, sum of squared center moves)."""
    k, d = centers.shape
    n_chunks = sums.shape[0]
    batch_inertia = 0.0
    for c in range(n_chunks):
        batch_inertia += inertia[c]
    shift = 0.0
    row = np.empty(d)
    for j in range(k):
        ws = 0.0
        for c in range(n_chunks):
            ws += wsums[c, j]
        if ws > 0.0:
            old = counts[j]
            for f in range(d):
                row[f] = np.float64(centers[j, f]) * old
            for c in range(n_chunks):
                for f in range(d):
                    row[f] += sums[c, j, f]
            counts[j] = old + ws
            alpha = 1.0 / counts[j]
            for f in range(d):
                new_centers[j, f] = row[f] * alpha
        else:
            for f in range(d):
                new_centers[j, f] = centers[j, f]
        for f in range(d):
            t = np.float64(new_centers[j, f]) - np.float64(centers[j, f])
            shift += t * t
    return batch_inertia, shift


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def minibatch_step(X, w, centers, bounds, gemm, labels, sums, wsums, inertia, counts, new_centers):
    """IN X (b,d) the batch rows, w (b,) f8, centers (k,d), bounds (n_chunks+1,), gemm
    bool; workspaces labels (b,) intp, sums (n_chunks,k,d) f8, wsums (n_chunks,k) f8,
    inertia (n_chunks,) f8; INOUT counts (k,) f8; OUT new_centers (k,d), not ``centers``.
    Chunk c writes only its own slots. Returns (batch inertia before the update, sum of
    squared center moves). BLAS must run single-threaded when ``gemm``."""
    k, d = centers.shape
    centered = np.empty(centers.shape, dtype=DISTANCE_DTYPE)
    half_norms = np.empty(k, dtype=DISTANCE_DTYPE)
    mean = np.empty(d, dtype=centers.dtype)
    if gemm:
        _prepare_gemm(centers, centered, half_norms, mean)
    for c in prange(bounds.shape[0] - 1):
        inertia[c] = _assign_chunk(
            X,
            w,
            centers,
            centered,
            half_norms,
            mean,
            gemm,
            bounds[c],
            bounds[c + 1],
            labels,
            sums[c],
            wsums[c],
        )
    return _update(centers, sums, wsums, inertia, counts, new_centers)


#: On the calling thread: no thread start-up for small batches.
minibatch_step_serial = serial_twin(minibatch_step)
