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
from .distances import sq_dist_f64


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
    return w[i] * sq_dist_f64(X, i, centers, j)


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


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _set_label(labels, i, j):
    """INOUT labels (n,). Sets labels[i] = j; returns 1 if that changed it, else 0."""
    if labels[i] != j:
        labels[i] = j
        return 1
    return 0


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _assign_rows(X, centers, lo, hi, labels):
    """IN X (n,d), centers (k,d), rows lo..hi; INOUT labels (n,). Nearest centre of each row
    by direct squared differences, four rows at a time (independent chains for the CPU),
    the same answer as :func:`_nearest` row by row. Returns the number of labels changed."""
    k, d = centers.shape
    big = X.dtype.type(np.inf)
    zero = X.dtype.type(0)
    changed = 0
    hi4 = lo + (hi - lo) // 4 * 4
    for i in range(lo, hi4, 4):
        b0 = big
        b1 = big
        b2 = big
        b3 = big
        j0 = 0
        j1 = 0
        j2 = 0
        j3 = 0
        for j in range(k):
            s0 = zero
            s1 = zero
            s2 = zero
            s3 = zero
            for f in range(d):
                c = centers[j, f]
                t = X[i, f] - c
                s0 += t * t
                t = X[i + 1, f] - c
                s1 += t * t
                t = X[i + 2, f] - c
                s2 += t * t
                t = X[i + 3, f] - c
                s3 += t * t
            if s0 < b0:
                b0 = s0
                j0 = j
            if s1 < b1:
                b1 = s1
                j1 = j
            if s2 < b2:
                b2 = s2
                j2 = j
            if s3 < b3:
                b3 = s3
                j3 = j
        changed += _set_label(labels, i, j0) + _set_label(labels, i + 1, j1)
        changed += _set_label(labels, i + 2, j2) + _set_label(labels, i + 3, j3)
    for i in range(hi4, hi):
        changed += _set_label(labels, i, _nearest(X, centers, i))
    return changed


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _direct_chunk(X, w, centers, start, stop, labels, sums, wsums, accumulate):
    """IN X (n,d), w (n,) f8, centers (k,d), rows start..stop; INOUT labels (n,);
    OUT sums (k,d) f8, wsums (k,) f8 (zeroed here). Returns (inertia, labels changed).
    Rows go in tiles: labels first, then the accumulation while the tile is in cache; the
    accumulate branch sits outside the row loops so that each loop stays branch-free."""
    inertia = 0.0
    changed = 0
    if accumulate:
        sums[:] = 0.0
        wsums[:] = 0.0
    for lo in range(start, stop, TILE_ROWS):
        hi = min(lo + TILE_ROWS, stop)
        changed += _assign_rows(X, centers, lo, hi, labels)
        if accumulate:
            for i in range(lo, hi):
                inertia += _accumulate(X, w, centers, i, labels[i], sums, wsums)
        else:
            for i in range(lo, hi):
                inertia += _exact(X, w, centers, i, labels[i])
    return inertia, changed


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def centre_on(centers, mean, centred, half_norms):
    """IN centers (k,d), mean (d,); OUT centred = centers - mean (k,d) of the centres' dtype,
    half_norms (k,) = 0.5 ||centred||^2 (accumulated in float64): what
    :func:`_gemm_chunk` needs."""
    k, d = centers.shape
    for j in range(k):
        s = 0.0
        for f in range(d):
            v = centers[j, f] - mean[f]
            centred[j, f] = v
            s += np.float64(v) * np.float64(v)
        half_norms[j] = 0.5 * s


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
        m4 = m // 4 * 4
        for r in range(0, m4, 4):
            b0 = big
            b1 = big
            b2 = big
            b3 = big
            j0 = 0
            j1 = 0
            j2 = 0
            j3 = 0
            for j in range(k):
                h = half_norms[j]
                v0 = h - dots[r, j]
                v1 = h - dots[r + 1, j]
                v2 = h - dots[r + 2, j]
                v3 = h - dots[r + 3, j]
                if v0 < b0:
                    b0 = v0
                    j0 = j
                if v1 < b1:
                    b1 = v1
                    j1 = j
                if v2 < b2:
                    b2 = v2
                    j2 = j
                if v3 < b3:
                    b3 = v3
                    j3 = j
            changed += _set_label(labels, t0 + r, j0) + _set_label(labels, t0 + r + 1, j1)
            changed += _set_label(labels, t0 + r + 2, j2) + _set_label(labels, t0 + r + 3, j3)
        for r in range(m4, m):
            best = big
            best_j = 0
            for j in range(k):
                v = half_norms[j] - dots[r, j]
                if v < best:
                    best = v
                    best_j = j
            changed += _set_label(labels, t0 + r, best_j)
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
    centre_on(centers, mean, centred, half_norms)
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
