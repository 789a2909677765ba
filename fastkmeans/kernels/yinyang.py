"""Yinyang k-means (Ding et al., ICML 2015): one upper bound and one lower bound per group
of centers for every point.

The centers are split into ``t`` fixed groups. A point keeps an upper bound to its own
center and, per group, a lower bound to every center of that group other than its own.
After the centers move, each group bound drops only by the largest move within its group
(Hamerly's single bound drops by the largest move of all), so one far-moving center no
longer un-prunes every point. A point keeps its label unread when its upper bound is below
half the gap from its center to the nearest other center, or below every group bound.

Points that fail are scanned in full, as in :mod:`.hamerly` (:func:`.hamerly.scan_values`,
the engine's Lloyd scan), and all their group bounds are set afresh. Sums are incremental
per fixed chunk with periodic refreshes, exactly as in :mod:`.hamerly`. The bounds take
``8 * n * t`` bytes: ``t`` is capped by a memory budget (``_config``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._config import FASTMATH, NUMBA_CACHE, TILE_ROWS
from .hamerly import _dist, lower_bound, scan_values
from .launch import Chunked
from .partials import clear_partials, refresh_tile, relabel


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _yinyang_chunk(X, w, centers, scan, bound, lo, hi, labels, upper, glower, sums, wsums, stats):
    """One chunk of :data:`yinyang_step`. Returns (inertia, labels changed, rows scanned);
    the partials are kept as in :func:`.hamerly._hamerly_chunk`."""
    centered, half_norms, mean, radius, gemm_err, gemm = scan
    groups, half_gaps, move, group_move, first, refresh, slack, smean = bound
    k, d = centers.shape
    t = glower.shape[1]
    clear_partials(refresh, sums, wsums, stats)
    todo = np.empty(TILE_ROWS, dtype=np.intp)
    tile = np.empty(TILE_ROWS * d, dtype=X.dtype)
    dots = np.empty(TILE_ROWS * k, dtype=X.dtype)
    best = np.empty(TILE_ROWS, dtype=X.dtype)
    lab = np.empty(TILE_ROWS, dtype=np.int32)
    gbest = np.empty((t, TILE_ROWS), dtype=X.dtype)
    gsecond = np.empty((t, TILE_ROWS), dtype=X.dtype)
    xnorm = np.empty(TILE_ROWS)
    inert, n_changed, n_scanned = 0.0, 0, 0
    for t0 in range(lo, hi, TILE_ROWS):
        t1 = min(t0 + TILE_ROWS, hi)
        cnt = np.intp(0)  # not a literal 0: scan_values would compile once more for it
        # Slices of the tile, indexed from 0: no index wrap-around checks in the loops.
        Xt = X[t0:t1]
        wt = w[t0:t1]
        lt = labels[t0:t1]
        ut = upper[t0:t1]
        lw = glower[t0:t1]
        for r in range(t1 - t0):
            scan = first
            if not first:
                a = lt[r]
                u = ut[r] + move[a]
                low = np.inf
                gl = lw[r]
                for g in range(t):
                    b = gl[g] - group_move[g]
                    gl[g] = b
                    low = min(low, b)
                m = max(half_gaps[a], low)
                if u * (1.0 + slack) >= m:
                    u = _dist(Xt, centers, r, a)
                    scan = u * (1.0 + slack) >= m
                ut[r] = u
            if scan:
                todo[cnt] = r
                cnt += 1
        n_scanned += cnt
        if cnt > 0:
            vals = scan_values(
                Xt, centers, centered, half_norms, mean, gemm, todo, cnt, tile, dots, xnorm
            )
            for q in range(cnt):
                best[q] = np.inf
                lab[q] = 0
            for g in range(t):
                for q in range(cnt):
                    gbest[g, q] = np.inf
                    gsecond[g, q] = np.inf
            for j in range(k):  # the lowest value of each row, the two lowest per group
                g = groups[j]
                for q in range(cnt):
                    x = vals[j, q]
                    b = best[q]
                    lab[q] = j if x < b else lab[q]
                    best[q] = min(x, b)
                    gb = gbest[g, q]
                    gsecond[g, q] = min(gsecond[g, q], max(gb, x))
                    gbest[g, q] = min(gb, x)
            for q in range(cnt):
                r = todo[q]
                j = lab[q]
                ut[r] = _dist(Xt, centers, r, j)
                for g in range(t):
                    # Within the label's own group the bound is to the other centers.
                    v = gsecond[g, q] if g == groups[j] else gbest[g, q]
                    lw[r, g] = lower_bound(gemm, v, xnorm[q], radius, gemm_err)
                if lt[r] != j:  # see relabel: no call for the rows that stay
                    n_changed += relabel(Xt, wt, lt, r, j, refresh, smean, sums, wsums, stats)
        if refresh:
            inert = refresh_tile(X, w, centers, t0, t1 - t0, labels, smean, sums, wsums, stats,
                                 inert)  # fmt: skip
    return inert, n_changed, n_scanned


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def yinyang_step_chunk(first, stop, X, w, centers, scan, bound, bounds, labels, upper, glower,
                       partials, out):  # fmt: skip
    """Chunks first..stop-1 of :data:`yinyang_step`: IN X (n,d), w (n,) f8, centers (k,d), scan as
    in :func:`.hamerly.hamerly_step_chunk`; bound = (groups (k,) the group of each center,
    half_gaps (k,) f8, move (k,) f8 and group_move (t,) f8 (each center's move since the bounds
    were set and the largest within each group), first (bounds not yet set: scan every row),
    refresh, slack f8, smean (d,) f8); bounds (n_chunks+1,); INOUT labels (n,), upper (n,) f8,
    glower (n,t) f8, partials sums, wsums, stats; OUT inertia, changed, scanned, all as in
    :func:`.hamerly.hamerly_step_chunk`. Chunk c writes only its own slots. BLAS must run
    single-threaded."""
    sums, wsums, stats = partials
    inertia, changed, scanned = out
    for c in range(first, stop):
        done = _yinyang_chunk(
            X,
            w,
            centers,
            scan,
            bound,
            bounds[c],
            bounds[c + 1],
            labels,
            upper,
            glower,
            sums[c],
            wsums[c],
            stats[c],
        )
        inertia[c], changed[c], scanned[c] = done


#: ``yinyang_step(X, w, centers, scan, bound, bounds, labels, upper, glower, partials,
#: out)``: a Yinyang pass, chunks in parallel (:func:`yinyang_step_chunk`); the twin on
#: the calling thread (Dask workers).
yinyang_step = Chunked(yinyang_step_chunk, bounds_at=5)
yinyang_step_serial = yinyang_step.serial_twin()
