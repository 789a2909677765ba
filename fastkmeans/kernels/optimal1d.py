"""The exact k-means optimum of sorted one-feature data, in O(k u) time and O(u) memory.

The input is the ``u`` distinct values of the data in increasing order with their summed
weights. A clustering of sorted values into ``k`` groups of consecutive values is a set of
boundaries; the best one is a dynamic programme over layers (Wang and Song 2011):
``D_m[e] = min_s D_{m-1}[s] + cost(s, e)``, the least cost of the first ``e`` values in
``m`` clusters, where ``cost(s, e)`` is the weighted sum of squared deviations of values
``s..e-1`` from their mean, O(1) from prefix sums of ``w``, ``w y`` and ``w y^2``. The
matrix ``D_{m-1}[s] + cost(s, e)`` is totally monotone, so each layer takes O(u) with
SMAWK (Aggarwal et al. 1987; Grønlund et al. 2017 for k-means).

The boundaries are recovered without the O(k u) table of choices a backtrack would read:
Hirschberg's split (:func:`optimal_boundaries`) runs ``k // 2`` layers forwards and the
other ``k - k // 2`` backwards (on the reversed values), splits where the two sums are
smallest, and recurses on both sides. That is about 1.5 times the layers of one forward
pass (22 full-length SMAWK layers instead of 14 at k = 16), for 144 bytes per distinct
value at the widest level whatever k. The halves of every level are independent tasks
(two at the top, four below, ...), which run in parallel.

Prefix sums are taken in float64 around the mean of each sub-problem (fewer cancelled
digits than around zero), scaled by a power of two to unit spread.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE

#: SMAWK's recursion depth is log2 of the rows; 64 levels cover any intp length.
_MAX_LEVELS = 64


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _entry(T, s, e):
    """IN T (L+1,4) f8: prefix sums of w, w y, w y^2 and the previous layer's costs.
    Returns ``D[s] + cost(s, e)`` for the values s..e-1, or inf when ``s >= e``."""
    if s >= e:
        return np.inf
    sw = T[e, 0] - T[s, 0]
    sx = T[e, 1] - T[s, 1]
    return T[s, 3] + (T[e, 2] - T[s, 2]) - sx * (sx / sw)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _put(table, i, a, b, c, d, e):
    """OUT table[i, :5] = (a, b, c, d, e) (intp rows of bookkeeping)."""
    table[i, 0] = a
    table[i, 1] = b
    table[i, 2] = c
    table[i, 3] = d
    table[i, 4] = e


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def prefix_moments(v, w, lo, hi, reverse, T):
    """IN v (u,) f8 sorted values, w (u,) f8 weights > 0, the range lo..hi-1, reverse
    (bool); OUT T (>= hi-lo+1, 4) f8: rows 0..L of prefix sums of w, w y, w y^2 with
    y = v - (the weighted mean of the range), over the range in increasing order (or
    decreasing with ``reverse``), scaled by the power of two that brings the largest
    ``|y|`` into [0.5, 1) (squares neither overflow nor underflow; costs in one range all
    scale alike). Column 3 is left to the layers."""
    total = 0.0
    wsum = 0.0
    for i in range(lo, hi):
        total += w[i] * v[i]
        wsum += w[i]
    center = total / wsum
    spread = 0.0
    for i in range(lo, hi):
        spread = max(spread, abs(v[i] - center))
    scale = math.ldexp(1.0, -math.frexp(spread)[1]) if spread > 0 else 1.0
    T[0, 0] = 0.0
    T[0, 1] = 0.0
    T[0, 2] = 0.0
    L = hi - lo
    for t in range(L):
        i = hi - 1 - t if reverse else lo + t
        y = (v[i] - center) * scale
        wy = w[i] * y
        T[t + 1, 0] = T[t, 0] + w[i]
        T[t + 1, 1] = T[t, 1] + wy
        T[t + 1, 2] = T[t, 2] + wy * y


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def smawk_layer(T, rlo, nrows, clo, ncols, value, arg, cols, meta):
    """IN T (L+1,4) f8 (column 3: the previous layer), rows e = rlo..rlo+nrows-1, columns
    s = clo..clo+ncols-1; OUT value (>= nrows,) f8 and arg (>= nrows,) intp: for row
    ``rlo + t`` the minimum of ``D[s] + cost(s, e)`` over s < e and its leftmost column;
    workspaces cols (>= 2 nrows,) intp, meta (64, 5) intp. SMAWK without recursion: the
    REDUCE steps run top-down (level l keeps the rows ``start + stride * t``), then the
    interpolation steps bottom-up."""
    start, stride, cnt, off = 0, 1, nrows, 0
    in_off, in_len = -1, ncols
    levels = 0
    while cnt > 0:
        top = -1
        for q in range(in_len):
            c = clo + q if in_off < 0 else cols[in_off + q]
            while top >= 0:
                e = rlo + start + stride * top
                if _entry(T, cols[off + top], e) <= _entry(T, c, e):
                    break
                top -= 1
            if top + 1 < cnt:
                top += 1
                cols[off + top] = c
        _put(meta, levels, start, stride, cnt, off, top + 1)
        in_off, in_len = off, top + 1
        off += cnt
        start += stride
        stride *= 2
        cnt //= 2
        levels += 1
    for lev in range(levels - 1, -1, -1):
        start, stride, cnt = meta[lev, 0], meta[lev, 1], meta[lev, 2]
        off, n_kept = meta[lev, 3], meta[lev, 4]
        c = 0
        for t in range(0, cnt, 2):
            row = start + stride * t
            e = rlo + row
            if t == cnt - 1:
                c_end = n_kept - 1
            else:
                target = arg[row + stride]
                c_end = c
                while cols[off + c_end] != target:
                    c_end += 1
            best = cols[off + c]
            best_value = _entry(T, best, e)
            for q in range(c + 1, c_end + 1):
                s = cols[off + q]
                x = _entry(T, s, e)
                if x < best_value:
                    best_value = x
                    best = s
            arg[row] = best
            value[row] = best_value
            c = c_end


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def last_layer(v, w, lo, hi, reverse, K, spare, T, value, arg, cols, meta):
    """IN v (u,), w (u,) f8, the range lo..hi-1 (L values) and its direction, K >= 1
    clusters, ``spare`` values to leave for the clusters after them; OUT T[e, 3] for
    e = K..L-spare: the least cost of the first e values of the range in K clusters;
    workspaces T (>= L+1, 4), value, arg (>= L+1,), cols (>= 2L+2,), meta (64, 5)."""
    L = hi - lo
    prefix_moments(v, w, lo, hi, reverse, T)
    T[0, 3] = 0.0
    for e in range(1, L - spare - (K - 1) + 1):
        T[e, 3] = _entry(T, 0, e)
    for m in range(2, K + 1):
        rhi = L - spare - (K - m)
        nrows = rhi - m + 1
        smawk_layer(T, m, nrows, m - 1, nrows, value, arg, cols, meta)
        for t in range(nrows):
            T[m + t, 3] = value[t]


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def half_costs(v, w, lo, hi, reverse, K, spare, out, off):
    """IN v (u,), w (u,) f8, the range lo..hi-1 (L values) and its direction, K clusters,
    ``spare`` values left for the others; OUT out[off + e] for e = K..L-spare: the least
    cost of the first (``reverse``: last) e values of the range in K clusters. Allocates
    its workspaces (64 bytes per value of the range)."""
    L = hi - lo
    T = np.empty((L + 1, 4))
    value = np.empty(L + 1)
    arg = np.empty(L + 1, dtype=np.intp)
    cols = np.empty(2 * L + 2, dtype=np.intp)
    meta = np.empty((_MAX_LEVELS, 5), dtype=np.intp)
    last_layer(v, w, lo, hi, reverse, K, spare, T, value, arg, cols, meta)
    for e in range(K, L - spare + 1):
        out[off + e] = T[e, 3]


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def optimal_boundaries(v, w, k, starts):
    """IN v (u,) f8 distinct values in increasing order, w (u,) f8 their weights (> 0),
    1 <= k <= u; OUT starts (k+1,) intp: cluster j holds the values starts[j]..starts[j+1]-1
    of an optimal clustering (ties: the split with the fewest values on the left).

    Hirschberg's recursion, breadth first: the sub-problems of one level cover disjoint
    ranges, and their forward and backward halves run as independent tasks, each writing
    its own slots, so the result does not depend on the thread count."""
    u = v.shape[0]
    starts[0] = 0
    starts[k] = u
    nodes = np.empty((k, 5), dtype=np.intp)  # (lo, hi, clusters, first cluster, -), by lo
    _put(nodes, 0, 0, u, k, 0, 0)
    n_nodes = 1 if k > 1 else 0
    while n_nodes > 0:
        forward = np.empty(u + n_nodes)
        backward = np.empty(u + n_nodes)
        for task in prange(2 * n_nodes):
            i = task // 2
            lo, hi, kk = nodes[i, 0], nodes[i, 1], nodes[i, 2]
            k1 = kk // 2
            # One call with a run-time direction: a literal True and False would compile
            # half_costs and its callees twice.
            back = task % 2 == 1
            first = kk - k1 if back else k1
            half_costs(v, w, lo, hi, back, first, kk - first, backward if back else forward,
                       lo + i)  # fmt: skip
        split = np.empty(n_nodes, dtype=np.intp)
        for i in prange(n_nodes):
            off = nodes[i, 0] + i
            L = nodes[i, 1] - nodes[i, 0]
            k1 = nodes[i, 2] // 2
            best_s, best = k1, np.inf
            for s in range(k1, L - (nodes[i, 2] - k1) + 1):
                total = forward[off + s] + backward[off + L - s]
                if total < best:
                    best_s, best = s, total
            split[i] = nodes[i, 0] + best_s
        children = np.empty((2 * n_nodes, 5), dtype=np.intp)
        m = 0
        for i in range(n_nodes):
            lo, hi, kk, j0 = nodes[i, 0], nodes[i, 1], nodes[i, 2], nodes[i, 3]
            k1 = kk // 2
            starts[j0 + k1] = split[i]
            for c_lo, c_hi, c_k, c_j0 in ((lo, split[i], k1, j0), (split[i], hi, kk - k1, j0 + k1)):
                if c_k > 1:
                    _put(children, m, c_lo, c_hi, c_k, c_j0, 0)
                    m += 1
        nodes = children
        n_nodes = m
