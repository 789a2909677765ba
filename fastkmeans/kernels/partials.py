"""What a pass adds to each chunk's partial sums: the labels' sums, weights and stats.

Every chunk keeps float64 partials per cluster: the sums of ``w x``, the weights, and the
stats ``(sum of w ||x - m||^2 about the data mean m, row count)``. A pass either
accumulates them from scratch in row order (with each row's exact squared distance to its
center, summed in float64 for the inertia) or, between refreshes, moves the terms of the
rows whose label changes from their old cluster to their new one (Hamerly 2010), reading
no other row; the inertia of such a pass comes from the stats
(``fastkmeans._assign.stats_inertia``). Lloyd's, Hamerly's and Yinyang's kernels share
these helpers, so their partials agree bit for bit after a refresh.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._config import FASTMATH, NUMBA_CACHE, TILE_ROWS
from .distances import sq_dist_f64

#: What a pass does besides the labels (the ``mode`` of the Lloyd kernels): EXACT, the exact
#: inertia and each chunk's weight per cluster; SUMS, also each chunk's sums from scratch;
#: REFRESH, also the stats (w ||x - m||^2 and the row count per cluster) of incremental
#: passes; MOVES, the partials of the previous labels updated by the rows that change
#: label, no inertia.
EXACT, SUMS, REFRESH, MOVES = 0, 1, 2, 3


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _accumulate(X, w, centers, i, j, sums, wsums):
    """IN X (n,d), w (n,) f8, centers (k,d), row i and its center j; INOUT sums (k,d) f8,
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
    """IN X (n,d), w (n,) f8, centers (k,d), row i and its center j.
    Returns w_i ||x_i - c_j||^2, exact in float64."""
    return w[i] * sq_dist_f64(X, i, centers, j)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _merge_labels(lab, t0, m, labels):
    """IN lab (m,) the labels of rows t0..t0+m; INOUT labels (n,). Returns how many changed.
    Branch-free, every label stored, so that LLVM vectorises it."""
    out = labels[t0 : t0 + m]
    changed = 0
    for r in range(m):
        j = lab[r]
        changed += out[r] != j
        out[r] = j
    return changed


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _tile_total(X, w, centers, t0, m, labels, sums, wsums, accumulate, inertia):
    """IN X (n,d), w (n,) f8, centers (k,d), rows t0..t0+m and their labels, the chunk's
    inertia so far; INOUT sums (k,d) f8 (with ``accumulate``), wsums (k,) f8. Returns the
    inertia with these rows' exact terms added one by one, in row order (the order
    Hamerly's kernel adds them in). The accumulate branch sits outside the row loops;
    without it the rows' weights still go to their clusters (a pass that finds the final
    labels also gives their weights, with no second pass over them)."""
    Xt = X[t0 : t0 + m]  # slices: indices from 0, no wrap-around checks in the loops
    wt = w[t0 : t0 + m]
    lt = labels[t0 : t0 + m]
    if accumulate:
        for r in range(m):
            inertia += _accumulate(Xt, wt, centers, r, lt[r], sums, wsums)
    else:
        for r in range(m):
            inertia += _exact(Xt, wt, centers, r, lt[r])
            wsums[lt[r]] += wt[r]
    return inertia


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def move_row(X, w, r, a, j, smean, sums, wsums, stats):
    """IN X (n,d), w (n,) f8, row r, its old cluster a and new one j, smean (d,) f8 the data
    mean; INOUT sums (k,d) f8, wsums (k,) f8, stats (k,2) f8 (w ||x - m||^2, row count):
    the row's terms leave a and join j. A cluster left with no row is zeroed exactly."""
    wi = w[r]
    q = 0.0
    for f in range(X.shape[1]):
        v = np.float64(X[r, f])
        t = wi * v
        sums[a, f] -= t
        sums[j, f] += t
        u = v - smean[f]
        q += u * u
    q *= wi
    wsums[a] -= wi
    wsums[j] += wi
    stats[a, 0] -= q
    stats[j, 0] += q
    stats[a, 1] -= 1.0
    stats[j, 1] += 1.0
    if stats[a, 1] == 0.0:
        sums[a, :] = 0.0
        wsums[a] = 0.0
        stats[a, 0] = 0.0


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def clear_partials(refresh, sums, wsums, stats):
    """IN refresh; INOUT sums, wsums, stats: zeroed on a refresh pass."""
    if refresh:
        sums[:] = 0.0
        wsums[:] = 0.0
        stats[:] = 0.0


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def relabel(X, w, labels, r, j, refresh, smean, sums, wsums, stats):
    """IN X (n,d), w (n,) f8, row r and its new label j, refresh, smean (d,) f8; INOUT
    labels (n,), partials sums, wsums, stats (as :func:`move_row`, unless ``refresh``:
    the tile is accumulated afresh then). Returns 1 if the label changed, else 0.
    Call it only for rows whose label changes (``labels[r] != j``): a call passes seven
    arrays, whose reference counts cost more than the rest of a row (a pass over 1,000,000
    x 2 rows none of which moved took 7x as long with a call on every row, Numba 0.68).
    A call, not inlined: Hamerly's and Yinyang's chunk kernels compile faster without the
    copy (``python -m benchmarks.compile_profile --workload compile``)."""
    a = labels[r]
    if a == j:
        return 0
    if not refresh:
        move_row(X, w, r, a, j, smean, sums, wsums, stats)
    labels[r] = j
    return 1


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def refresh_tile(X, w, centers, t0, m, labels, smean, sums, wsums, stats, inertia):
    """IN X (n,d), w (n,) f8, centers (k,d), rows t0..t0+m and their labels, smean (d,) f8,
    the chunk's inertia so far; INOUT sums (k,d), wsums (k,), stats (k,2) f8: the rows
    accumulated in Lloyd's row order (:func:`_accumulate`: the same bits as
    :func:`_tile_total`) with their w ||x - m||^2 and counts, in one loop over the rows.
    Returns the inertia with the rows' exact terms added."""
    Xt = X[t0 : t0 + m]
    wt = w[t0 : t0 + m]
    lt = labels[t0 : t0 + m]
    for r in range(m):
        j = lt[r]
        inertia += _accumulate(Xt, wt, centers, r, j, sums, wsums)
        q = 0.0
        for f in range(X.shape[1]):
            u = np.float64(Xt[r, f]) - smean[f]
            q += u * u
        stats[j, 0] += wt[r] * q
        stats[j, 1] += 1.0
    return inertia


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _tile_partials(X, w, centers, t0, m, lab, labels, smean, sums, wsums, stats, mode, inertia):
    """IN X (n,d), w (n,) f8, centers (k,d), rows t0..t0+m, lab (2*TILE,) int32: their
    new labels in lab[:m], the rest a workspace; smean (d,) f8, mode, the chunk's inertia
    so far; INOUT labels (n,) and the chunk's partials. Stores the labels and, by ``mode``:
    EXACT adds the rows' exact terms to the inertia and their weights to wsums, SUMS also
    their sums, REFRESH also their stats; MOVES moves the terms of the rows whose label
    changes between the partials (:func:`move_row`) and adds no inertia. Returns (inertia,
    labels changed)."""
    if mode == MOVES:
        Xt = X[t0 : t0 + m]
        wt = w[t0 : t0 + m]
        lt = labels[t0 : t0 + m]
        moved = lab[TILE_ROWS:]
        changed = 0
        for r in range(m):  # branch-free: the offsets of the rows that move, compacted
            moved[changed] = r
            changed += lt[r] != lab[r]
        # Then the moves alone. A branch on every row instead cost 5-10x as much per move
        # (1,000,000 x 2 rows, 1% of them moving: 350 ns a move against 35, Numba 0.68).
        for q in range(changed):
            r = moved[q]
            move_row(Xt, wt, r, lt[r], lab[r], smean, sums, wsums, stats)
            lt[r] = lab[r]
        return inertia, changed
    changed = _merge_labels(lab, t0, m, labels)
    if mode == REFRESH:
        inertia = refresh_tile(X, w, centers, t0, m, labels, smean, sums, wsums, stats, inertia)
    else:
        inertia = _tile_total(X, w, centers, t0, m, labels, sums, wsums, mode == SUMS, inertia)
    return inertia, changed


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def nothing_moves(lab, labels, t0, m, mode):
    """IN lab (>= m,) int32 the new labels of rows t0..t0+m, labels (n,), mode. True for a
    MOVES pass over rows none of whose labels changes: the caller then skips
    :func:`_tile_partials` and its branch-free compaction. A vectorised count: in the late
    passes of a fit most tiles have no move (``python -m benchmarks.lowd_passes`` times
    such a pass against its labels alone)."""
    if mode != MOVES:
        return False
    lt = labels[t0 : t0 + m]
    changed = 0
    for r in range(m):
        changed += lt[r] != lab[r]
    return changed == 0


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _start_partials(mode, sums, wsums, stats):
    """INOUT the chunk's partials: zeroed where ``mode`` accumulates them from scratch
    (EXACT: the weights only)."""
    if mode == SUMS or mode == REFRESH:
        sums[:] = 0.0
    if mode != MOVES:
        wsums[:] = 0.0
    if mode == REFRESH:
        stats[:] = 0.0
