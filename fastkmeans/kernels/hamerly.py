"""Hamerly's exact k-means: one upper and one lower distance bound per point.

A point whose upper bound to its centre is below both half the distance from that centre
to its nearest other centre and its lower bound to every other centre cannot change label,
so its distances are not computed. Bounds live in float64 distance (not squared) space and
a relative ``slack`` keeps pruning strictly on the safe side of rounding, so labels are
those Lloyd's direct kernel would find. Sums are recomputed from scratch every iteration,
per fixed chunk, in the same row order as Lloyd: the centroids are bitwise Lloyd's.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE
from .distances import sq_dist_f64
from .lloyd import _accumulate


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _nearest_two(X, centers, i):
    """IN X (n,d), centers (k,d), row i. Returns (nearest index, its squared distance,
    the second smallest squared distance), scanning as Lloyd's direct kernel does."""
    k, d = centers.shape
    best = X.dtype.type(np.inf)
    second = X.dtype.type(np.inf)
    best_j = 0
    for j in range(k):
        dist = X.dtype.type(0)
        for f in range(d):
            t = X[i, f] - centers[j, f]
            dist += t * t
        if dist < best:
            second = best
            best = dist
            best_j = j
        elif dist < second:
            second = dist
    return best_j, best, second


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _dist(X, centers, i, j):
    """IN X (n,d), centers (k,d), row i, centre j. Returns ||x_i - c_j|| in float64."""
    return np.sqrt(sq_dist_f64(X, i, centers, j))


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def center_half_gaps(centers, out):
    """IN centers (k,d); OUT out (k,) f8: half the distance from each centre to its nearest
    other centre (inf when k == 1)."""
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


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def hamerly_step(
    X,
    w,
    centers,
    half_gaps,
    move,
    max_move,
    argmax_move,
    second_move,
    first,
    slack,
    bounds,
    labels,
    upper,
    lower,
    sums,
    wsums,
    inertia,
    changed,
    scanned,
):
    """IN X (n,d), w (n,) f8, centers (k,d), half_gaps (k,) f8, move (k,) f8 (how far each
    centre moved since the bounds were set), max_move f8, argmax_move, second_move f8,
    first (bounds not yet set: scan every row), slack f8, bounds (n_chunks+1,);
    INOUT labels (n,), upper (n,) f8, lower (n,) f8;
    OUT sums (n_chunks,k,d) f8, wsums (n_chunks,k) f8, inertia (n_chunks,) f8,
    changed (n_chunks,) intp, scanned (n_chunks,) intp (rows whose distances were all
    computed). Chunk c writes only its own slots."""
    for c in prange(bounds.shape[0] - 1):
        s = sums[c]
        ws = wsums[c]
        s[:] = 0.0
        ws[:] = 0.0
        inert = 0.0
        n_changed = 0
        n_scanned = 0
        for i in range(bounds[c], bounds[c + 1]):
            a = labels[i]
            scan = first
            if not first:
                u = upper[i] + move[a]
                low = lower[i] - (second_move if a == argmax_move else max_move)
                lower[i] = low
                m = max(half_gaps[a], low)
                if u * (1.0 + slack) >= m:
                    u = _dist(X, centers, i, a)
                    scan = u * (1.0 + slack) >= m
                upper[i] = u
            if scan:
                n_scanned += 1
                j, d1, d2 = _nearest_two(X, centers, i)
                upper[i] = np.sqrt(np.float64(d1))
                lower[i] = np.sqrt(np.float64(d2))
                if j != a:
                    labels[i] = j
                    n_changed += 1
                    a = j
            inert += _accumulate(X, w, centers, i, a, s, ws)
        inertia[c] = inert
        changed[c] = n_changed
        scanned[c] = n_scanned
