"""Kernels for rows held as CSR (``data``, ``indices``, ``indptr``) against dense centers.

A row's dot products with every center come from ``centers_t`` (d, k), the centers
transposed: each stored value ``v`` at column ``f`` adds ``v * centers_t[f]``, a contiguous
run of k numbers, so the work per row is nnz x k multiply-adds in SIMD. Labels are the
argmin of ``0.5 ||c||^2 - x.c`` (ties to the lower center, as for dense rows); the inertia
is each row's squared distance to its center computed from differences in float64,
``||c||^2 + sum over the row's entries of ((x_f - c_f)^2 - c_f^2)``.

Sums per cluster are accumulated cluster by cluster over the rows in row order (a
counting sort of the labels), so a cluster's sum has one writer and one order: results do
not depend on the thread count, and the only workspace is the (k, d) sums themselves.
Rows go in the fixed chunks of the dense kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE
from .launch import Chunked
from .seeding import _best_candidate, _draw_candidates, _first_center
from .twins import serial_twin


# --------------------------------------------------------------------------- primitives
@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _row_dots(data, indices, lo, hi, centers_t, dots):
    """IN data, indices: the row's entries lo..hi, centers_t (d,k); OUT dots (k,): the
    row's dot product with every center, in the centers' dtype."""
    for j in range(dots.shape[0]):
        dots[j] = 0
    for p in range(lo, hi):
        v = data[p]
        col = centers_t[indices[p]]
        for j in range(dots.shape[0]):
            dots[j] += v * col[j]


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _argmin_half(half_sq, dots):
    """IN half_sq (k,) 0.5 ||c_j||^2, dots (k,). Returns argmin_j half_sq[j] - dots[j]
    (the lowest j among ties)."""
    best = 0
    best_v = half_sq[0] - dots[0]
    for j in range(1, dots.shape[0]):
        v = half_sq[j] - dots[j]
        if v < best_v:
            best_v = v
            best = j
    return best


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _sq_dist_t(data, indices, lo, hi, centers_t, j, center_sq):
    """As :func:`_sq_dist` from the transposed centers (d,k): the entries it reads sit in
    the cache lines the row's dot products just loaded. The same numbers, so the same
    result."""
    s = center_sq[j]
    for p in range(lo, hi):
        c = np.float64(centers_t[indices[p], j])
        t = np.float64(data[p]) - c
        s += t * t - c * c
    return max(s, 0.0)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _sq_dist(data, indices, lo, hi, centers, j, center_sq):
    """IN a row's entries lo..hi, centers (k,d), center j, center_sq (k,) f8 ||c||^2.
    Returns ||x - c_j||^2 from differences in float64 (never below zero)."""
    s = center_sq[j]
    for p in range(lo, hi):
        c = np.float64(centers[j, indices[p]])
        t = np.float64(data[p]) - c
        s += t * t - c * c
    return max(s, 0.0)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def column_mean_var(data, indices, n, mean, var):
    """IN data, indices of an n-row matrix; OUT mean (d,) f8, var (d,) f8: per-column mean
    and population variance, the zeros included (two passes, no cancellation)."""
    d = mean.shape[0]
    count = np.zeros(d, dtype=np.intp)
    for f in range(d):
        mean[f] = 0.0
        var[f] = 0.0
    for p in range(data.shape[0]):
        mean[indices[p]] += np.float64(data[p])
        count[indices[p]] += 1
    for f in range(d):
        mean[f] /= n
    for p in range(data.shape[0]):
        t = np.float64(data[p]) - mean[indices[p]]
        var[indices[p]] += t * t
    for f in range(d):
        var[f] = (var[f] + (n - count[f]) * mean[f] * mean[f]) / n


# --------------------------------------------------------------------------- Lloyd
@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _assign_rows(data, indices, indptr, w, centers_t, half_sq, center_sq, lo, hi, labels,
                 dots):  # fmt: skip
    """IN rows lo..hi and the centers as :func:`assign`; INOUT labels; workspace dots (k,).
    Returns (weighted inertia, labels changed) of the rows."""
    s = 0.0
    moved = 0
    for i in range(lo, hi):
        a, b = indptr[i], indptr[i + 1]
        _row_dots(data, indices, a, b, centers_t, dots)
        j = _argmin_half(half_sq, dots)
        if labels[i] != j:
            moved += 1
            labels[i] = j
        s += w[i] * _sq_dist_t(data, indices, a, b, centers_t, j, center_sq)
    return s, moved


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def assign_chunk(first, stop, data, indices, indptr, w, centers_t, half_sq, center_sq, bounds,
                 labels, inertia, changed):  # fmt: skip
    """Chunks first..stop-1 of :data:`assign`: IN data, indices, indptr (n+1,): the rows; w
    (n,) f8, centers_t (d,k) the centers transposed, half_sq (k,) 0.5 ||c||^2 in the
    centers' dtype, center_sq (k,) f8 ||c||^2, bounds (n_chunks+1,); INOUT labels (n,) intp;
    OUT inertia (n_chunks,) f8, changed (n_chunks,) intp: per chunk, the weighted inertia
    and the labels changed."""
    k = centers_t.shape[1]
    for c in range(first, stop):
        dots = np.empty(k, dtype=centers_t.dtype)
        inertia[c], changed[c] = _assign_rows(data, indices, indptr, w, centers_t, half_sq,
                                              center_sq, bounds[c], bounds[c + 1], labels,
                                              dots)  # fmt: skip


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _by_cluster(labels, k):
    """IN labels (n,) in 0..k-1. Returns (order (n,) intp, starts (k+1,) intp): the rows of
    cluster j are order[starts[j]:starts[j+1]], in increasing row order."""
    starts = np.zeros(k + 1, dtype=np.intp)
    for i in range(labels.shape[0]):
        starts[labels[i] + 1] += 1
    for j in range(k):
        starts[j + 1] += starts[j]
    pos = starts[:k].copy()
    order = np.empty(labels.shape[0], dtype=np.intp)
    for i in range(labels.shape[0]):
        order[pos[labels[i]]] = i
        pos[labels[i]] += 1
    return order, starts


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def cluster_sums(data, indices, indptr, w, labels, sums, wsums):
    """IN data, indices, indptr: the rows; w (n,) f8, labels (n,) in 0..k-1; OUT sums (k,d)
    f8, wsums (k,) f8: each cluster's weighted sum of rows and weight, summed in row order
    by one thread per cluster."""
    k = sums.shape[0]
    order, starts = _by_cluster(labels, k)
    for j in prange(k):
        acc = sums[j]
        acc[:] = 0.0
        ws = 0.0
        for q in range(starts[j], starts[j + 1]):
            i = order[q]
            wi = w[i]
            ws += wi
            for p in range(indptr[i], indptr[i + 1]):
                acc[indices[p]] += wi * np.float64(data[p])
        wsums[j] = ws


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def assigned_sq_distances(data, indices, indptr, centers, center_sq, labels, out):
    """IN the rows, centers (k,d), center_sq (k,) f8, labels (n,); OUT out (n,) f8:
    ||x_i - c_label_i||^2 from differences in float64."""
    for i in prange(out.shape[0]):
        out[i] = _sq_dist(data, indices, indptr[i], indptr[i + 1], centers, labels[i],
                          center_sq)  # fmt: skip


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def all_distances(data, indices, indptr, centers, center_sq, out):
    """IN the rows, centers (k,d), center_sq (k,) f8; OUT out (n,k) f8: Euclidean distances
    from differences in float64."""
    for i in prange(out.shape[0]):
        for j in range(centers.shape[0]):
            out[i, j] = np.sqrt(_sq_dist(data, indices, indptr[i], indptr[i + 1], centers, j,
                                         center_sq))  # fmt: skip


# --------------------------------------------------------------------------- mini-batch
@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def minibatch_update(data, indices, indptr, w, centers, labels, counts, new_centers, shifts):
    """IN the batch rows, w (b,) f8, centers (k,d), labels (b,) their nearest centers;
    INOUT counts (k,) f8; OUT new_centers (k,d), shifts (k,) f8 each center's squared move.
    As the dense step: c_j <- (count_j c_j + sum_{i in j} w_i x_i) / (count_j + sum w_i),
    centers that received no rows stay."""
    k, d = centers.shape
    order, starts = _by_cluster(labels, k)
    for j in prange(k):
        ws = 0.0
        for q in range(starts[j], starts[j + 1]):
            ws += w[order[q]]
        if ws > 0.0:
            old = counts[j]
            row = np.empty(d)
            for f in range(d):
                row[f] = np.float64(centers[j, f]) * old
            for q in range(starts[j], starts[j + 1]):
                i = order[q]
                for p in range(indptr[i], indptr[i + 1]):
                    row[indices[p]] += w[i] * np.float64(data[p])
            counts[j] = old + ws
            alpha = 1.0 / counts[j]
            for f in range(d):
                new_centers[j, f] = row[f] * alpha
        else:
            for f in range(d):
                new_centers[j, f] = centers[j, f]
        s = 0.0
        for f in range(d):
            t = np.float64(new_centers[j, f]) - np.float64(centers[j, f])
            s += t * t
        shifts[j] = s


# --------------------------------------------------------------------------- seeding
@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def by_column(indices, indptr, n_cols, cptr, crow, cval, data):
    """IN indices, indptr (n+1,), n_cols, data; OUT cptr (n_cols+1,) intp, crow (nnz,)
    intp, cval (nnz,) f8: the same matrix by column (CSC), rows in increasing order."""
    for f in range(n_cols + 1):
        cptr[f] = 0
    for p in range(indices.shape[0]):
        cptr[indices[p] + 1] += 1
    for f in range(n_cols):
        cptr[f + 1] += cptr[f]
    pos = cptr[:n_cols].copy()
    for i in range(indptr.shape[0] - 1):
        for p in range(indptr[i], indptr[i + 1]):
            q = pos[indices[p]]
            crow[q] = i
            cval[q] = data[p]
            pos[indices[p]] += 1


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _row_distances(data, indices, indptr, cptr, crow, cval, sq, row, dist):
    """IN the rows by row and by column, sq (n,) f8, a row; OUT dist (n,) f8: every row's
    squared distance to it, ``||x||^2 + ||r||^2 - 2 x.r`` in float64, the dot products
    summed over the row's columns in order (work: the rows that share a column with it).
    Values within the form's rounding error (relative 1e-12) count as zero, so that
    duplicates of a center weigh nothing, as for dense rows."""
    n = sq.shape[0]
    for i in range(n):
        dist[i] = 0.0
    for p in range(indptr[row], indptr[row + 1]):
        v = np.float64(data[p])
        f = indices[p]
        for q in range(cptr[f], cptr[f + 1]):
            dist[crow[q]] += v * cval[q]
    r2 = sq[row]
    for i in range(n):
        s = sq[i] + r2 - 2.0 * dist[i]
        dist[i] = 0.0 if s <= 1e-12 * (sq[i] + r2) else s


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _potential(w, closest, dist, lo, hi):
    """IN w, closest, dist (n,) f8, rows lo..hi. Returns sum of w * min(dist, closest)."""
    s = 0.0
    for i in range(lo, hi):
        s += w[i] * min(dist[i], closest[i])
    return s


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def kmeans_plusplus(data, indices, indptr, cptr, crow, cval, sq, w, bounds, first_u, trial_u,
                    out):  # fmt: skip
    """IN the rows by row (data, indices, indptr) and by column (cptr, crow, cval from
    :func:`by_column`), sq (n,) f8 ||x||^2, w (n,) f8, bounds (n_chunks+1,), first_u f8
    and trial_u (k-1,L) f8 uniforms in [0,1); OUT out (k,) intp the rows chosen as
    centers. Greedy k-means++ with the same draws as :func:`.seeding.kmeans_plusplus_rows`: the
    first row by weight, then at each step the candidate of lowest potential among L rows
    drawn by potential. A candidate's distances to every row come from the columns of its
    own few entries (:func:`_row_distances`), not from a pass over all of X."""
    n = sq.shape[0]
    n_chunks = bounds.shape[0] - 1
    n_trials = trial_u.shape[1]
    closest = np.empty(n)
    dist = np.empty((n_trials, n))
    chunk_pot = np.empty(n_chunks)
    candidates = np.empty(n_trials, dtype=np.intp)
    cand_pot = np.empty((n_chunks, n_trials))
    out[0] = _first_center(w, bounds, first_u, chunk_pot)
    _row_distances(data, indices, indptr, cptr, crow, cval, sq, out[0], closest)
    for c in prange(n_chunks):
        chunk_pot[c] = _potential(w, closest, closest, bounds[c], bounds[c + 1])
    for step in range(1, out.shape[0]):
        if not _draw_candidates(w, closest, bounds, chunk_pot, trial_u[step - 1], candidates):
            out[step] = (out[step - 1] + 1) % n  # all rows sit on centers
            continue
        for t in prange(n_trials):
            _row_distances(data, indices, indptr, cptr, crow, cval, sq, candidates[t], dist[t])
        for c in prange(n_chunks):
            for t in range(n_trials):
                cand_pot[c, t] = _potential(w, closest, dist[t], bounds[c], bounds[c + 1])
        best = _best_candidate(cand_pot, candidates)
        out[step] = candidates[best]
        for c in prange(n_chunks):
            for i in range(bounds[c], bounds[c + 1]):
                closest[i] = min(closest[i], dist[best, i])
            chunk_pot[c] = _potential(w, closest, closest, bounds[c], bounds[c + 1])


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _nearest_chunk(data, indices, indptr, sq, w, cptr, crow, cval, cand_sq, offset, lo, hi,
                   closest, nearest):  # fmt: skip
    """IN rows lo..hi and the new candidates by column (see :func:`update_nearest`); INOUT
    closest, nearest. Returns the chunk's potential."""
    dots = np.zeros(cand_sq.shape[0])
    pot = 0.0
    for i in range(lo, hi):
        for p in range(indptr[i], indptr[i + 1]):
            v = np.float64(data[p])
            f = indices[p]
            for q in range(cptr[f], cptr[f + 1]):
                dots[crow[q]] += v * cval[q]
        for j in range(cand_sq.shape[0]):
            s = sq[i] + cand_sq[j] - 2.0 * dots[j]
            s = 0.0 if s <= 1e-12 * (sq[i] + cand_sq[j]) else s
            dots[j] = 0.0
            if s < closest[i]:
                closest[i] = s
                nearest[i] = offset + j
        pot += w[i] * closest[i]
    return pot


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def update_nearest(data, indices, indptr, sq, w, cptr, crow, cval, cand_sq, offset, bounds,
                   closest, nearest, chunk_pot):  # fmt: skip
    """k-means||: IN the rows, sq (n,) f8, w (n,) f8; the m new candidates held by column,
    cptr (d+1,), crow candidate numbers 0..m-1, cval f8 their values (a CSC matrix),
    cand_sq (m,) f8, offset (the number of earlier candidates), bounds; INOUT closest (n,)
    f8, nearest (n,) intp (ties keep the earlier candidate); OUT chunk_pot (n_chunks,) f8.
    Dot products go through the candidates' columns: work nnz(x) x candidates per column."""
    for c in prange(bounds.shape[0] - 1):
        chunk_pot[c] = _nearest_chunk(data, indices, indptr, sq, w, cptr, crow, cval, cand_sq,
                                      offset, bounds[c], bounds[c + 1], closest,
                                      nearest)  # fmt: skip


#: Chunks in parallel; the twin on the calling thread.
assign = Chunked(assign_chunk, bounds_at=7)
assign_serial = assign.serial_twin()
#: On the calling thread, for small data (no thread start-up, no waiting on a busy core).
cluster_sums_serial = serial_twin(cluster_sums)
kmeans_plusplus_serial = serial_twin(kmeans_plusplus)
minibatch_update_serial = serial_twin(minibatch_update)
