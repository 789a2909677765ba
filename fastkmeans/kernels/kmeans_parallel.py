"""k-means|| (Bahmani et al.): distances to the nearest candidate, one pass per round.

One pass over fixed row chunks; chunk ``c`` owns its rows of ``closest`` and ``nearest``
and its slot of ``chunk_pot``, so results do not depend on the thread count. The serial
twin runs on Dask workers and for small data.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._config import FASTMATH, NUMBA_CACHE, TILE_ROWS
from .launch import Chunked
from .lloyd import DISTANCE_DTYPE, center_on, tile_labels


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
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


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _nearest_rows_gemm(
    X, w, cands, centered, half_norms, mean, offset, start, stop, closest, nearest, tile, dots
):
    """As :func:`_nearest_rows_direct`, with the nearest new candidate of each tile's rows
    found as Lloyd's kernel finds labels (:func:`.lloyd.tile_labels`, from ``centered`` and
    ``half_norms`` of :func:`center_on`), and its exact distance then compared with
    ``closest``. Workspace tile (TILE,d), dots (TILE,m)."""
    d = X.shape[1]
    work = np.empty(3 * TILE_ROWS, dtype=centered.dtype)
    lab = np.empty(TILE_ROWS, dtype=np.int32)
    pot = 0.0
    for t0 in range(start, stop, TILE_ROWS):
        r_n = min(TILE_ROWS, stop - t0)
        tile_labels(X, cands, centered, half_norms, mean, t0, r_n, tile, dots, work, lab)
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
def update_nearest_chunk(first, stop, X, w, cands, mean, offset, gemm, bounds, closest,
                         nearest, chunk_pot):  # fmt: skip
    """Chunks first..stop-1 of :data:`update_nearest`: IN X (n,d), w (n,) f8, cands (m,d) of
    X's dtype, mean (d,), offset, gemm, bounds (n_chunks+1,); INOUT closest (n,) f8, nearest
    (n,) intp; OUT chunk_pot (n_chunks,) f8: per-chunk sum of w * closest. Each call
    centers the candidates itself (m x d work, the same bits in every call)."""
    m = cands.shape[0]
    centered = np.empty(cands.shape, dtype=DISTANCE_DTYPE)
    half_norms = np.empty(m, dtype=DISTANCE_DTYPE)
    if gemm:
        center_on(cands, mean, centered, half_norms)
    # 1-D, as every tile workspace, in the distances' dtype
    tile = np.empty(TILE_ROWS * X.shape[1] if gemm else 0, dtype=DISTANCE_DTYPE)
    dots = np.empty(TILE_ROWS * m if gemm else 0, dtype=DISTANCE_DTYPE)
    for c in range(first, stop):
        if gemm:
            chunk_pot[c] = _nearest_rows_gemm(
                X,
                w,
                cands,
                centered,
                half_norms,
                mean,
                offset,
                bounds[c],
                bounds[c + 1],
                closest,
                nearest,
                tile,
                dots,
            )
        else:
            chunk_pot[c] = _nearest_rows_direct(
                X, w, cands, offset, bounds[c], bounds[c + 1], closest, nearest
            )


#: ``update_nearest(X, w, cands, mean, offset, gemm, bounds, closest, nearest,
#: chunk_pot)``: each row's nearest candidate so far, chunks in parallel
#: (:func:`update_nearest_chunk`); the twin on the calling thread (Dask workers, small data).
update_nearest = Chunked(update_nearest_chunk, bounds_at=6)
update_nearest_serial = update_nearest.serial_twin()
