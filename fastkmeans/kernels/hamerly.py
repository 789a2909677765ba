"""Hamerly's exact k-means: one upper and one lower distance bound per point.

A point keeps its label unread when its upper bound to its center is below half the
distance from that center to its nearest other center, or below its lower bound to every
other center. Bounds live in float64 distance (not squared) space and a relative ``slack``
keeps pruning strictly on the safe side of rounding. The points that must be scanned are
gathered per tile and scanned as the engine's Lloyd kernel scans a tile (:func:`scan_values`:
one GEMM, or the same direct-difference loop); after a GEMM, lower bounds give way by a
bound on its rounding error. Labels are therefore Lloyd's, up to BLAS rounding in near-ties
on the GEMM path.

Sums are incremental (Hamerly 2010), as in :mod:`.partials`: every chunk keeps its own
float64 partial sums (w x, w, w ||x - m||^2 about the data mean m, and the row count per
cluster) from one pass to the next, and a row whose label changes moves its terms from its
old cluster to its new one; rows whose bounds hold are not read at all. A *refresh* pass
(the first bounded pass, then every ``_config.SUMS_REFRESH_EVERY`` passes, and the final
one) recomputes the partials from scratch in Lloyd's row order, with the exact inertia;
between refreshes the inertia comes from the partials (``_assign.stats_inertia``).
Partials are merged in chunk order, so nothing depends on the thread count, and the
centroids are Lloyd's to float64 rounding of the moves (bitwise after a refresh).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE, ROW_MAJOR_MIN_FEATURES, TILE_ROWS
from .distances import sq_dist_f64
from .launch import Chunked
from .lloyd import direct_column
from .partials import clear_partials, refresh_tile, relabel
from .tiles import dot_values
from .twins import serial_twin


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _dist(X, centers, i, j):
    """IN X (n,d), centers (k,d), row i, center j. Returns ||x_i - c_j|| in float64."""
    return np.sqrt(sq_dist_f64(X, i, centers, j))


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def center_half_gaps(centers, out):
    """IN centers (k,d); OUT out (k,) f8: half the distance from each center to its nearest
    other center (inf when k == 1)."""
    k, d = centers.shape
    for j in prange(k):
        best = np.inf
        for m in range(k):
            if m != j:
                s = 0.0
                for f in range(d):
                    t = np.float64(centers[j, f]) - np.float64(centers[m, f])
                    s += t * t
                best = min(best, s)
        out[j] = 0.5 * np.sqrt(best)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def scan_values(X, centers, centered, half_norms, mean, gemm, todo, cnt, tile, dots, xnorm):
    """IN X (n,d), centers (k,d), centered = centers - mean (k,d), half_norms (k,), mean
    (d,), gemm, todo (cnt,) the rows to scan; OUT xnorm (cnt,) f8 ``||x - m||^2`` (with
    ``gemm``); workspaces tile and dots of TILE*d and TILE*k elements. Returns the (k, cnt)
    view of dots holding, for every center and row, the value whose lowest is the row's
    label in the engine's Lloyd kernel: ``0.5 ||c - m||^2 - (x - m).(c - m)`` when
    ``gemm`` (:func:`.tiles.dot_values` below ``ROW_MAJOR_MIN_FEATURES`` features, one BLAS
    call from there on), else the squared distance by :func:`.lloyd.direct_column`.
    The rows are gathered transposed, so the callers' loops run across rows (SIMD)."""
    k, d = centers.shape
    xt = tile.reshape(-1)[: d * cnt].reshape((d, cnt))
    for q in range(cnt):
        i = todo[q]
        s = 0.0
        for f in range(d):
            v = X[i, f] - mean[f]
            xt[f, q] = v
            s += np.float64(v) * np.float64(v)
        xnorm[q] = s
    prod = dots.reshape(-1)[: k * cnt].reshape((k, cnt))
    if gemm and d < ROW_MAJOR_MIN_FEATURES:  # as Lloyd's kernel forms them
        dot_values(xt, centered, half_norms, np.int64(0), k, prod)  # 0 as a value
    elif gemm:
        np.dot(centered, xt, prod)
        for j in range(k):
            h = half_norms[j]
            for q in range(cnt):
                prod[j, q] = h - prod[j, q]
    else:
        for j in range(k):
            direct_column(xt, centers, j, prod[j])
    return prod


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def lower_bound(gemm, value, xnorm, radius, gemm_err):
    """A float64 lower bound on the distance whose value :func:`scan_values` gave: with
    ``gemm``, the value's distance less a bound on the GEMM's rounding error (and on the
    centering's); else the square root of the direct squared distance."""
    if not gemm:
        return np.sqrt(np.float64(value))
    xn = np.sqrt(xnorm)
    d2 = xnorm + 2.0 * np.float64(value)
    d2 -= gemm_err * (xn * radius + radius * radius + xnorm)
    return max(np.sqrt(max(d2, 0.0)) - gemm_err * (xn + radius), 0.0)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _hamerly_chunk(X, w, centers, scan, bound, lo, hi, labels, upper, lower, sums, wsums, stats):
    """One chunk of :data:`hamerly_step`. Returns (inertia, labels changed, rows scanned).

    Rows go in tiles: the bounds of every row are checked first and the rows that fail
    are scanned together (:func:`scan_values`: one GEMM, or direct differences, as the
    engine's Lloyd kernel does). A row that changes label moves its terms between the
    chunk's partials; a refresh pass instead accumulates every tile in row order (Lloyd's
    sums) and returns the exact inertia (0 otherwise)."""
    centered, half_norms, mean, radius, gemm_err, gemm = scan
    half_gaps, move, max_move, argmax_move, second_move, first, refresh, slack, smean = bound
    k, d = centers.shape
    clear_partials(refresh, sums, wsums, stats)
    todo = np.empty(TILE_ROWS, dtype=np.intp)
    tile = np.empty(TILE_ROWS * d, dtype=X.dtype)
    dots = np.empty(TILE_ROWS * k, dtype=X.dtype)
    best = np.empty(TILE_ROWS, dtype=X.dtype)
    second = np.empty(TILE_ROWS, dtype=X.dtype)
    lab = np.empty(TILE_ROWS, dtype=np.int32)
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
        lw = lower[t0:t1]
        for r in range(t1 - t0):
            scan = first
            if not first:
                a = lt[r]
                u = ut[r] + move[a]
                low = lw[r] - (second_move if a == argmax_move else max_move)
                lw[r] = low
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
                second[q] = np.inf
                lab[q] = 0
            for j in range(k):  # the two lowest values of each row, branch-free
                for q in range(cnt):
                    b = best[q]
                    x = vals[j, q]
                    second[q] = min(second[q], max(b, x))
                    lab[q] = j if x < b else lab[q]
                    best[q] = min(x, b)
            for q in range(cnt):
                r = todo[q]
                j = lab[q]
                ut[r] = _dist(Xt, centers, r, j)
                lw[r] = lower_bound(gemm, second[q], xnorm[q], radius, gemm_err)
                if lt[r] != j:  # see relabel: no call for the rows that stay
                    n_changed += relabel(Xt, wt, lt, r, j, refresh, smean, sums, wsums, stats)
        if refresh:
            inert = refresh_tile(X, w, centers, t0, t1 - t0, labels, smean, sums, wsums, stats,
                                 inert)  # fmt: skip
    return inert, n_changed, n_scanned


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def hamerly_step_chunk(first, stop, X, w, centers, scan, bound, bounds, labels, upper, lower,
                       partials, out):  # fmt: skip
    """Chunks first..stop-1 of :data:`hamerly_step`: IN X (n,d), w (n,) f8, centers (k,d), scan =
    (centered, half_norms, mean, radius, gemm_err, gemm): centered = centers - mean (k,d) and
    half_norms = 0.5 ||centered||^2 (k,) in X's dtype, mean (d,), radius = max ||centered||
    (f8), gemm_err (f8, the relative rounding of the GEMM-style distances), gemm (scan with
    GEMM-style values, else direct differences); bound = (half_gaps (k,) f8, move (k,) f8 (how
    far each center moved since the bounds were set), max_move f8, argmax_move, second_move f8,
    first (bounds not yet set: scan every row), refresh (recompute the partials), slack f8,
    smean (d,) f8 the data mean); bounds (n_chunks+1,); INOUT labels (n,), upper (n,) f8, lower
    (n,) f8, the per-chunk partials = (sums (n_chunks,k,d) f8, wsums (n_chunks,k) f8, stats
    (n_chunks,k,2) f8); OUT out = (inertia (n_chunks,) f8 (exact on refresh, else 0), changed
    (n_chunks,) intp, scanned (n_chunks,) intp (rows whose distances were all computed)). Chunk
    c writes only its own slots. BLAS must run single-threaded."""
    sums, wsums, stats = partials
    inertia, changed, scanned = out
    for c in range(first, stop):
        done = _hamerly_chunk(
            X,
            w,
            centers,
            scan,
            bound,
            bounds[c],
            bounds[c + 1],
            labels,
            upper,
            lower,
            sums[c],
            wsums[c],
            stats[c],
        )
        inertia[c], changed[c], scanned[c] = done


#: ``hamerly_step(X, w, centers, scan, bound, bounds, labels, upper, lower, partials,
#: out)``: a Hamerly pass, chunks in parallel (:func:`hamerly_step_chunk`); the twin on
#: the calling thread (Dask workers).
hamerly_step = Chunked(hamerly_step_chunk, bounds_at=5)
hamerly_step_serial = hamerly_step.serial_twin()
#: On the calling thread: the half gaps of few centers.
center_half_gaps_serial = serial_twin(center_half_gaps)
