"""Serial kernels over one block of rows: what a Dask worker runs on its share of the data.

Each kernel handles a whole block on the calling thread (no ``prange``, so no Numba thread
pool is ever started inside a worker process) and releases the GIL, so a worker with
several threads runs several blocks at once. The Lloyd kernels reuse the chunk helpers of
:mod:`fastkmeans.kernels.lloyd`; results go into one packed float64 vector per block,

    packed = [sums (k*d), weight sums (k), inertia, labels changed]

so that the per-block partial results of an iteration add up with a plain ``+``.

The nearest-candidate helpers ``_nearest_rows_direct``/``_nearest_rows_gemm`` serve
k-means|| seeding both here and in the parallel in-memory kernel
(:mod:`fastkmeans.kernels.oversample`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._config import FASTMATH, NUMBA_CACHE, TILE_ROWS
from .distances import sq_dist_f64
from .lloyd import _direct_chunk, _gemm_chunk, centre_on, tile_labels


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _assign_block(X, w, centers, mean, gemm, labels, sums, wsums, accumulate):
    """IN X (m,d), w (m,) f8, centers (k,d), mean (d,), gemm; INOUT labels (m,);
    OUT sums (k,d) f8, wsums (k,) f8 when accumulating. Returns (inertia, changed)."""
    k, d = centers.shape
    m = X.shape[0]
    if gemm:
        centred = np.empty_like(centers)
        half_norms = np.empty(k, dtype=centers.dtype)
        centre_on(centers, mean, centred, half_norms)
        tile = np.empty((TILE_ROWS, d), dtype=X.dtype)
        dots = np.empty((TILE_ROWS, k), dtype=X.dtype)
        return _gemm_chunk(
            X,
            w,
            centers,
            centred,
            half_norms,
            mean,
            0,
            m,
            labels,
            sums,
            wsums,
            tile,
            dots,
            accumulate,
        )
    return _direct_chunk(X, w, centers, 0, m, labels, sums, wsums, accumulate)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def block_lloyd(X, w, centers, mean, gemm, labels, packed):
    """IN X (m,d), w (m,) f8, centers (k,d), mean (d,) of X's dtype, gemm (bool);
    INOUT labels (m,) intp; OUT packed (k*d + k + 2,) f8 = [sums, wsums, inertia, changed]."""
    k, d = centers.shape
    sums = packed[: k * d].reshape((k, d))
    wsums = packed[k * d : k * d + k]
    inertia, changed = _assign_block(X, w, centers, mean, gemm, labels, sums, wsums, True)
    packed[k * d + k] = inertia
    packed[k * d + k + 1] = changed


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def block_assign(X, w, centers, mean, gemm, labels):
    """IN X (m,d), w (m,) f8, centers (k,d), mean (d,), gemm; OUT labels (m,) intp.
    Returns the weighted inertia (exact squared differences, float64)."""
    sums = np.zeros((1, 1))
    wsums = np.zeros(1)
    inertia, _ = _assign_block(X, w, centers, mean, gemm, labels, sums, wsums, False)
    return inertia


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def block_assigned_sq_distances(X, centers, labels, out):
    """IN X (m,d), centers (k,d), labels (m,); OUT out (m,) f8: ||x_i - c_label_i||^2."""
    for i in range(X.shape[0]):
        out[i] = sq_dist_f64(X, i, centers, labels[i])


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def block_all_distances(X, centers, out):
    """IN X (m,d), centers (k,d); OUT out (m,k) f8: exact Euclidean distances.
    The serial twin of :func:`fastkmeans.kernels.distances.all_distances` for workers."""
    for i in range(X.shape[0]):
        for j in range(centers.shape[0]):
            out[i, j] = np.sqrt(sq_dist_f64(X, i, centers, j))


# --------------------------------------------------------------------------- k-means||
@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _nearest_rows_direct(X, w, cands, offset, start, stop, closest, nearest):
    """IN X (n,d), w (n,) f8, cands (m,d), offset, rows start..stop; INOUT closest (n,) f8
    squared distance to the nearest candidate so far, nearest (n,) intp its index (cands[j]
    is candidate offset + j; ties keep the earlier one). Returns sum of w * closest."""
    m, d = cands.shape
    pot = 0.0
    for i in range(start, stop):
        best = closest[i]
        best_j = nearest[i]
        for j in range(m):
            s = 0.0
            for f in range(d):
                t = np.float64(X[i, f]) - np.float64(cands[j, f])
                s += t * t
            if s < best:
                best = s
                best_j = offset + j
        closest[i] = best
        nearest[i] = best_j
        pot += w[i] * best
    return pot


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _nearest_rows_gemm(
    X, w, cands, centred, half_norms, mean, offset, start, stop, closest, nearest, tile, dots
):
    """As :func:`_nearest_rows_direct`, with the nearest new candidate of each tile's rows
    found as Lloyd's kernel finds labels (:func:`.lloyd.tile_labels`, from ``centred`` and
    ``half_norms`` of :func:`centre_on`), and its exact distance then compared with
    ``closest``. Workspace tile (TILE,d), dots (TILE,m)."""
    d = X.shape[1]
    best = np.empty(TILE_ROWS, dtype=X.dtype)
    lab = np.empty(TILE_ROWS, dtype=np.int32)
    pot = 0.0
    for t0 in range(start, stop, TILE_ROWS):
        r_n = min(TILE_ROWS, stop - t0)
        tile_labels(X, centred, half_norms, mean, t0, r_n, tile, dots, best, lab)
        rows = X[t0 : t0 + r_n]  # slices: indices from 0, no wrap-around checks
        near = closest[t0 : t0 + r_n]
        idx = nearest[t0 : t0 + r_n]
        wt = w[t0 : t0 + r_n]
        for r in range(r_n):
            j = lab[r]
            s = 0.0
            for f in range(d):
                t = np.float64(rows[r, f]) - np.float64(cands[j, f])
                s += t * t
            if s < near[r]:
                near[r] = s
                idx[r] = offset + j
            pot += wt[r] * near[r]
    return pot


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def block_nearest(X, w, cands, mean, offset, gemm, closest, nearest):
    """IN X (m,d), w (m,) f8, cands (c,d) of X's dtype, mean (d,), offset, gemm;
    INOUT closest (m,) f8, nearest (m,) intp. Returns the block's potential sum w*closest."""
    n, d = X.shape
    c = cands.shape[0]
    if gemm:
        centred = np.empty_like(cands)
        half_norms = np.empty(c, dtype=cands.dtype)
        centre_on(cands, mean, centred, half_norms)
        tile = np.empty((TILE_ROWS, d), dtype=X.dtype)
        dots = np.empty((TILE_ROWS, c), dtype=X.dtype)
        return _nearest_rows_gemm(
            X, w, cands, centred, half_norms, mean, offset, 0, n, closest, nearest, tile, dots
        )
    return _nearest_rows_direct(X, w, cands, offset, 0, n, closest, nearest)
