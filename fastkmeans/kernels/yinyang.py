"""Yinyang k-means (Ding et al., ICML 2015): one upper bound and one lower bound per group
of centres for every point.

The centres are split into ``t`` fixed groups. A point keeps an upper bound to its own
centre and, per group, a lower bound to every centre of that group other than its own.
After the centres move, each group bound drops only by the largest move within its group
(Hamerly's single bound drops by the largest move of all), so one far-moving centre no
longer un-prunes every point. A point whose upper bound is below both half the gap to
its centre's nearest other centre and every group bound keeps its label unread.

Points that fail are scanned in full, as in :mod:`.hamerly`: gathered per tile for one
GEMM when the engine uses the GEMM-style kernel (group bounds then give way by a bound on
the GEMM's rounding error), else by direct differences. Sums are recomputed per fixed
chunk in row order, so the centroids are Lloyd's whenever the labels are. The bounds take
``8 * n * t`` bytes: ``t`` is capped by a memory budget (``_config``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE, TILE_ROWS
from .hamerly import _dist
from .lloyd import _accumulate


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _scan_gemm_groups(
    X, centred, half_norms, mean, groups, todo, cnt, tile, dots, best, lab, gbest, gsecond, xnorm
):
    """IN X (n,d), centred = centers - mean (k,d), half_norms (k,), mean (d,), groups (k,)
    the group of each centre, todo (cnt,) the rows to scan; OUT lab (cnt,) int32 the
    nearest centre of each row, best (cnt,) its value, gbest and gsecond (t, cnt): the
    lowest and second lowest value within each group, where value is
    ``0.5 ||c - m||^2 - (x - m).(c - m)``; xnorm (cnt,) f8 ``||x - m||^2``.
    One BLAS call on the gathered, transposed rows; every loop below runs across rows."""
    k, d = centred.shape
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
    np.dot(centred, xt, prod)
    for q in range(cnt):
        best[q] = np.inf
        lab[q] = 0
    for g in range(gbest.shape[0]):
        for q in range(cnt):
            gbest[g, q] = np.inf
            gsecond[g, q] = np.inf
    for j in range(k):
        h = half_norms[j]
        g = groups[j]
        for q in range(cnt):
            x = h - prod[j, q]
            b = best[q]
            lab[q] = j if x < b else lab[q]
            best[q] = min(x, b)
            gb = gbest[g, q]
            gsecond[g, q] = min(gsecond[g, q], max(gb, x))
            gbest[g, q] = min(gb, x)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _scan_direct_groups(X, centers, groups, i, gbest, gsecond):
    """IN X (n,d), centers (k,d), groups (k,), row i; OUT gbest, gsecond (t,): the lowest
    and second lowest squared distance within each group. Returns (nearest centre, its
    squared distance), by direct differences in X's dtype as Lloyd's direct kernel."""
    k, d = centers.shape
    for g in range(gbest.shape[0]):
        gbest[g] = np.inf
        gsecond[g] = np.inf
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
        g = groups[j]
        if dist < gbest[g]:
            gsecond[g] = gbest[g]
            gbest[g] = dist
        elif dist < gsecond[g]:
            gsecond[g] = dist
    return best_j, best


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _yinyang_chunk(
    X,
    w,
    centers,
    centred,
    half_norms,
    mean,
    radius,
    gemm_err,
    gemm,
    groups,
    half_gaps,
    move,
    group_move,
    first,
    slack,
    lo,
    hi,
    labels,
    upper,
    glower,
    sums,
    wsums,
):
    """One chunk of :func:`yinyang_step`. Returns (inertia, labels changed, rows scanned)."""
    k, d = centers.shape
    t = glower.shape[1]
    sums[:] = 0.0
    wsums[:] = 0.0
    todo = np.empty(TILE_ROWS, dtype=np.intp)
    tile = np.empty(TILE_ROWS * d, dtype=X.dtype)
    dots = np.empty(TILE_ROWS * k, dtype=X.dtype)
    best = np.empty(TILE_ROWS, dtype=X.dtype)
    lab = np.empty(TILE_ROWS, dtype=np.int32)
    gbest = np.empty((t, TILE_ROWS), dtype=X.dtype)
    gsecond = np.empty((t, TILE_ROWS), dtype=X.dtype)
    xnorm = np.empty(TILE_ROWS)
    rbest = np.empty(t, dtype=X.dtype)
    rsecond = np.empty(t, dtype=X.dtype)
    inert = 0.0
    n_changed = 0
    n_scanned = 0
    for t0 in range(lo, hi, TILE_ROWS):
        t1 = min(t0 + TILE_ROWS, hi)
        cnt = 0
        for i in range(t0, t1):
            scan = first
            if not first:
                a = labels[i]
                u = upper[i] + move[a]
                low = np.inf
                for g in range(t):
                    b = glower[i, g] - group_move[g]
                    glower[i, g] = b
                    low = min(low, b)
                m = max(half_gaps[a], low)
                if u * (1.0 + slack) >= m:
                    u = _dist(X, centers, i, a)
                    scan = u * (1.0 + slack) >= m
                upper[i] = u
            if scan:
                todo[cnt] = i
                cnt += 1
        n_scanned += cnt
        if gemm and cnt > 0:
            _scan_gemm_groups(
                X,
                centred,
                half_norms,
                mean,
                groups,
                todo,
                cnt,
                tile,
                dots,
                best,
                lab,
                gbest,
                gsecond,
                xnorm,
            )
            for q in range(cnt):
                i = todo[q]
                j = lab[q]
                upper[i] = _dist(X, centers, i, j)
                xn = np.sqrt(xnorm[q])
                for g in range(t):
                    # Within the label's own group the bound is to the other centres.
                    v = gsecond[g, q] if g == groups[j] else gbest[g, q]
                    d2 = xnorm[q] + 2.0 * np.float64(v)
                    d2 -= gemm_err * (xn * radius + radius * radius + xnorm[q])
                    glower[i, g] = max(np.sqrt(max(d2, 0.0)) - gemm_err * (xn + radius), 0.0)
                if labels[i] != j:
                    labels[i] = j
                    n_changed += 1
        else:
            for q in range(cnt):
                i = todo[q]
                j, d1 = _scan_direct_groups(X, centers, groups, i, rbest, rsecond)
                upper[i] = np.sqrt(np.float64(d1))
                for g in range(t):
                    v = rsecond[g] if g == groups[j] else rbest[g]
                    glower[i, g] = np.sqrt(np.float64(v))
                if labels[i] != j:
                    labels[i] = j
                    n_changed += 1
        for i in range(t0, t1):
            inert += _accumulate(X, w, centers, i, labels[i], sums, wsums)
    return inert, n_changed, n_scanned


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def yinyang_step(
    X,
    w,
    centers,
    centred,
    half_norms,
    mean,
    radius,
    gemm_err,
    gemm,
    groups,
    half_gaps,
    move,
    group_move,
    first,
    slack,
    bounds,
    labels,
    upper,
    glower,
    sums,
    wsums,
    inertia,
    changed,
    scanned,
):
    """IN X (n,d), w (n,) f8, centers (k,d), centred, half_norms, mean, radius, gemm_err,
    gemm as in :func:`.hamerly.hamerly_step`; groups (k,) the group of each centre,
    half_gaps (k,) f8, move (k,) f8 and group_move (t,) f8 (each centre's move since the
    bounds were set and the largest within each group), first (bounds not yet set: scan
    every row), slack f8, bounds (n_chunks+1,); INOUT labels (n,), upper (n,) f8,
    glower (n,t) f8; OUT sums (n_chunks,k,d) f8, wsums (n_chunks,k) f8,
    inertia (n_chunks,) f8, changed (n_chunks,) intp, scanned (n_chunks,) intp.
    Chunk c writes only its own slots. BLAS must run single-threaded."""
    for c in prange(bounds.shape[0] - 1):
        inertia[c], changed[c], scanned[c] = _yinyang_chunk(
            X,
            w,
            centers,
            centred,
            half_norms,
            mean,
            radius,
            gemm_err,
            gemm,
            groups,
            half_gaps,
            move,
            group_move,
            first,
            slack,
            bounds[c],
            bounds[c + 1],
            labels,
            upper,
            glower,
            sums[c],
            wsums[c],
        )
