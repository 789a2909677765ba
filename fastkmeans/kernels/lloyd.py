"""Fused assignment + accumulation: one pass over the data per Lloyd iteration.

Two distance strategies share one output contract:

* direct differences ``sum((x - c)**2)`` for few features, exact;
* GEMM-style ``0.5 ||c - m||^2 - (x - m).(c - m)`` on tiles of rows for many features,
  with data and centroids centred on the data mean ``m`` to keep cancellation small.

Both report the inertia as the weighted sum of exact squared differences to the chosen
centroid, accumulated in float64, whichever way the labels were found.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE, TILE_ROWS


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _accumulate(X, w, centers, i, j, sums, wsums):
    """IN X (n,d), w (n,) f8, centers (k,d), row i and its centre j; INOUT sums (k,d) f8,
    wsums (k,) f8. Returns w_i ||x_i - c_j||^2, exact in float64."""
    wi = w[i]
    wsums[j] += wi
    exact = 0.0
    for f in range(X.shape[1]):
        xf = np.float64(X[i, f])
        sums[j, f] += wi * xf
        t = xf - np.float64(centers[j, f])
        exact += t * t
    return wi * exact


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _exact(X, w, centers, i, j):
    """IN X (n,d), w (n,) f8, centers (k,d), row i and its centre j.
    Returns w_i ||x_i - c_j||^2, exact in float64."""
    exact = 0.0
    for f in range(X.shape[1]):
        t = np.float64(X[i, f]) - np.float64(centers[j, f])
        exact += t * t
    return w[i] * exact


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _nearest(X, centers, i):
    """IN X (n,d), centers (k,d), row i. Returns the index of the nearest centre by direct
    squared differences in X's dtype; ties go to the lower index."""
    k, d = centers.shape
    best = X.dtype.type(np.inf)
    best_j = 0
    for j in range(k):
        dist = X.dtype.type(0)
        for f in range(d):
            t = X[i, f] - centers[j, f]
            dist += t * t
        if dist < best:
            best = dist
            best_j = j
    return best_j


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _direct_chunk(X, w, centers, start, stop, labels, sums, wsums, accumulate):
    """IN X (n,d), w (n,) f8, centers (k,d), rows start..stop; INOUT labels (n,);
    OUT sums (k,d) f8, wsums (k,) f8 (zeroed here). Returns (inertia, labels changed).
    The accumulate branch sits outside the row loops so that each loop stays branch-free."""
    inertia = 0.0
    changed = 0
    if accumulate:
        sums[:] = 0.0
        wsums[:] = 0.0
        for i in range(start, stop):
            j = _nearest(X, centers, i)
            if labels[i] != j:
                labels[i] = j
                changed += 1
            inertia += _accumulate(X, w, centers, i, j, sums, wsums)
    else:
        for i in range(start, stop):
            j = _nearest(X, centers, i)
            if labels[i] != j:
                labels[i] = j
                changed += 1
            inertia += _exact(X, w, centers, i, j)
    return inertia, changed


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _gemm_chunk(
    X,
    w,
    centers,
    centred,
    half_norms,
    mean,
    start,
    stop,
    labels,
    sums,
    wsums,
    tile,
    dots,
    accumulate,
):
    """IN X (n,d), w (n,) f8, centers (k,d), centred = centers - mean (k,d),
    half_norms = 0.5 ||centred||^2 (k,), mean (d,), rows start..stop; INOUT labels (n,);
    OUT sums (k,d) f8, wsums (k,) f8 (zeroed here); workspace tile (TILE,d), dots (TILE,k).
    Returns (inertia, labels changed)."""
    k, d = centers.shape
    if accumulate:
        sums[:] = 0.0
        wsums[:] = 0.0
    inertia = 0.0
    changed = 0
    big = X.dtype.type(np.inf)
    for t0 in range(start, stop, TILE_ROWS):
        m = min(TILE_ROWS, stop - t0)
        for r in range(m):
            for f in range(d):
                tile[r, f] = X[t0 + r, f] - mean[f]
        np.dot(tile[:m], centred.T, dots[:m])
        for r in range(m):
            best = big
            best_j = 0
            for j in range(k):
                v = half_norms[j] - dots[r, j]
                if v < best:
                    best = v
                    best_j = j
            if labels[t0 + r] != best_j:
                labels[t0 + r] = best_j
                changed += 1
        if accumulate:
            for i in range(t0, t0 + m):
                inertia += _accumulate(X, w, centers, i, labels[i], sums, wsums)
        else:
            for i in range(t0, t0 + m):
                inertia += _exact(X, w, centers, i, labels[i])
    return inertia, changed


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def lloyd_direct(X, w, centers, bounds, labels, sums, wsums, inertia, changed, accumulate):
    """IN X (n,d), w (n,) f8, centers (k,d), bounds (n_chunks+1,); INOUT labels (n,);
    OUT sums (n_chunks,k,d) f8, wsums (n_chunks,k) f8, inertia (n_chunks,) f8,
    changed (n_chunks,) intp. Chunk c writes only its own slots."""
    for c in prange(bounds.shape[0] - 1):
        inertia[c], changed[c] = _direct_chunk(
            X, w, centers, bounds[c], bounds[c + 1], labels, sums[c], wsums[c], accumulate
        )


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def lloyd_direct_serial(X, w, centers, bounds, labels, sums, wsums, inertia, changed, accumulate):
    """As :func:`lloyd_direct` on the calling thread: no thread start-up for small data."""
    for c in range(bounds.shape[0] - 1):
        inertia[c], changed[c] = _direct_chunk(
            X, w, centers, bounds[c], bounds[c + 1], labels, sums[c], wsums[c], accumulate
        )


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def lloyd_gemm(X, w, centers, mean, bounds, labels, sums, wsums, inertia, changed, accumulate):
    """IN X (n,d), w (n,) f8, centers (k,d), mean (d,) of X's dtype, bounds (n_chunks+1,);
    INOUT labels (n,); OUT as :func:`lloyd_direct`. BLAS must run single-threaded."""
    k, d = centers.shape
    centred = np.empty_like(centers)
    half_norms = np.empty(k, dtype=centers.dtype)
    for j in range(k):
        s = 0.0
        for f in range(d):
            v = centers[j, f] - mean[f]
            centred[j, f] = v
            s += np.float64(v) * np.float64(v)
        half_norms[j] = 0.5 * s
    for c in prange(bounds.shape[0] - 1):
        tile = np.empty((TILE_ROWS, d), dtype=X.dtype)
        dots = np.empty((TILE_ROWS, k), dtype=X.dtype)
        inertia[c], changed[c] = _gemm_chunk(
            X,
            w,
            centers,
            centred,
            half_norms,
            mean,
            bounds[c],
            bounds[c + 1],
            labels,
            sums[c],
            wsums[c],
            tile,
            dots,
            accumulate,
        )


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def reduce_chunks(sums, wsums, total_sums, total_wsums):
    """IN sums (n_chunks,k,d) f8, wsums (n_chunks,k) f8; OUT total_sums (k,d) f8,
    total_wsums (k,) f8, summed in chunk order."""
    total_sums[:] = 0.0
    total_wsums[:] = 0.0
    for c in range(sums.shape[0]):
        for j in range(sums.shape[1]):
            total_wsums[j] += wsums[c, j]
            for f in range(sums.shape[2]):
                total_sums[j, f] += sums[c, j, f]
