"""Mini-batch k-means steps (Sculley 2010, with scikit-learn's count-based learning rates).

A step assigns the rows of one batch to their nearest center with Lloyd's own pass
(:mod:`.lloyd`, in parallel over fixed row chunks of the batch, direct or GEMM-style
distances), merges the per-chunk sums in chunk order, and moves every center that
received rows to the weighted mean of its old position (weighted by its count) and its
new rows:

    c_j <- (count_j * c_j + sum_{i in j} w_i x_i) / (count_j + sum_{i in j} w_i)

which is the per-sample learning rate ``w_i / count_j`` of Sculley's algorithm. Centers
that received no rows stay where they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .._config import FASTMATH, NUMBA_CACHE
from .launch import _key, call_chunk
from .lloyd import lloyd_direct, lloyd_gemm
from .partials import EXACT, SUMS


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def centers_mean(centers, mean):
    """IN centers (k,d); OUT mean (d,): the centers' mean, summed in float64, used to
    center the batch and the centers for the GEMM-style distances."""
    k, d = centers.shape
    for f in range(d):
        s = 0.0
        for j in range(k):
            s += np.float64(centers[j, f])
        mean[f] = s / k


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


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def sums_scratch(n_chunks):
    """What Lloyd's chunk kernels take besides a batch: changed (n_chunks,) intp, stats
    (n_chunks,0,2) f8 and smean (0,) f8 (SUMS keeps no stats), and the mode SUMS as a value,
    not the literal (a literal would compile the chunk kernels once more, apart from the
    specialisation Lloyd's passes use)."""
    mode = SUMS if n_chunks >= 0 else EXACT
    return np.empty(n_chunks, dtype=np.intp), np.empty((n_chunks, 0, 2)), np.empty(0), mode


def _assign(X, w, centers, bounds, gemm, labels, sums, wsums, inertia):
    """The batch's labels, per-chunk sums and inertia: Lloyd's pass (``SUMS``), chunks in
    parallel; GEMM-style distances centered on the centers' mean."""
    changed, stats, smean, mode = sums_scratch(bounds.shape[0] - 1)
    rest = (bounds, labels, sums, wsums, stats, smean, inertia, changed, mode)
    if gemm:
        mean = np.empty(centers.shape[1], dtype=centers.dtype)
        centers_mean(centers, mean)
        lloyd_gemm(X, w, centers, mean, *rest)
    else:
        lloyd_direct(X, w, centers, *rest)


def minibatch_step(
    X: Any,
    w: Any,
    centers: Any,
    bounds: Any,
    gemm: bool,
    labels: Any,
    sums: Any,
    wsums: Any,
    inertia: Any,
    counts: Any,
    new_centers: Any,
) -> tuple[float, float]:
    """IN X (b,d) the batch rows, w (b,) f8, centers (k,d), bounds (n_chunks+1,), gemm
    bool; workspaces labels (b,) intp, sums (n_chunks,k,d) f8, wsums (n_chunks,k) f8,
    inertia (n_chunks,) f8; INOUT counts (k,) f8; OUT new_centers (k,d), not ``centers``.
    The batch's chunks in parallel (Lloyd's kernels), then their sums merged in chunk
    order (:func:`_update`). Returns (batch inertia before the update, sum of squared
    center moves). BLAS must run single-threaded when ``gemm``."""
    _assign(X, w, centers, bounds, gemm, labels, sums, wsums, inertia)
    return _update(centers, sums, wsums, inertia, counts, new_centers)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _step_direct(assign, X, w, centers, bounds, labels, sums, wsums, inertia, counts,
                 new_centers):  # fmt: skip
    """:func:`minibatch_step_serial` with direct differences: ``assign`` the address of
    :func:`.lloyd.lloyd_direct_chunk` for these arguments."""
    n_chunks = bounds.shape[0] - 1
    changed, stats, smean, mode = sums_scratch(n_chunks)
    flat = (X, w, centers, bounds, labels, sums, wsums, stats, smean, inertia, changed, mode)
    for c in range(n_chunks):
        call_chunk(assign, np.int64(c), flat)
    return _update(centers, sums, wsums, inertia, counts, new_centers)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _step_gemm(assign, X, w, centers, bounds, labels, sums, wsums, inertia, counts,
               new_centers):  # fmt: skip
    """:func:`minibatch_step_serial` with the GEMM-style distances: ``assign`` the address
    of :func:`.lloyd.lloyd_gemm_chunk` for these arguments."""
    n_chunks = bounds.shape[0] - 1
    changed, stats, smean, mode = sums_scratch(n_chunks)
    mean = np.empty(centers.shape[1], dtype=centers.dtype)
    centers_mean(centers, mean)
    flat = (X, w, centers, mean, bounds, labels, sums, wsums, stats, smean, inertia, changed,
            mode)  # fmt: skip
    for c in range(n_chunks):
        call_chunk(assign, np.int64(c), flat)
    return _update(centers, sums, wsums, inertia, counts, new_centers)


def minibatch_step_serial(X: Any, w: Any, centers: Any, bounds: Any, gemm: bool, labels: Any,
                          sums: Any, wsums: Any, inertia: Any, counts: Any,
                          new_centers: Any) -> tuple[float, float]:  # fmt: skip
    """:func:`minibatch_step` on the calling thread (small batches: no thread start-up), in
    one kernel call (a small batch's step takes microseconds): Lloyd's chunk kernel through
    its address, looked up once per kind of batch (the workspaces are the stepper's own)."""
    def args() -> tuple[Any, ...]:
        changed, stats, smean, mode = sums_scratch(bounds.shape[0] - 1)
        rest = (bounds, labels, sums, wsums, stats, smean, inertia, changed, mode)
        if gemm:
            return (X, w, centers, np.empty(centers.shape[1], dtype=centers.dtype), *rest)
        return (X, w, centers, *rest)

    key = ("minibatch", _key(X), _key(w), _key(centers))
    assign = (lloyd_gemm if gemm else lloyd_direct).address_by(key, args)
    step = _step_gemm if gemm else _step_direct
    return step(assign, X, w, centers, bounds, labels, sums, wsums, inertia, counts, new_centers)
