"""The residual arcs of the cluster graph of :mod:`.constrained`: one small heap per arc.

Moving a point i from cluster a to cluster b changes the cost by
``cost[i, b] - cost[i, a]``; the residual arc a -> b costs the least of that over the
members of a. Each of the k (k - 1) arcs keeps, in a min-heap of at most ``cap``
entries, its smallest values, with a threshold ``theta[a, b]`` below which every member
of a is in the heap (inf when all are). A point that leaves a stays in a's heaps until
it surfaces at a root, where it is dropped; a heap that runs dry, or whose root rises
above ``theta``, is refilled from a's members, every low heap of a in one pass over
their rows. The roots are copied to contiguous k x k arrays for Dijkstra's scans.

``arcs`` is the tuple ``(hv, hp, hn, theta, rv, rp, need)``: heap values (k,k,cap) f8,
heap points (k,k,cap), heap sizes (k,k), thresholds (k,k) f8 (-inf: not filled yet),
root values (k,k) f8 and points (k,k) (inf, -1: no arc), and (k,k) flags of heaps to
refill before their root can be read. ``lists`` is ``(head, nxt, prv, scratch)``: the
members of each cluster as doubly linked lists, and an (n,) workspace.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._config import FASTMATH, NUMBA_CACHE


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _swap(hv, hp, a, b, c, e):
    """INOUT the heap of arc a -> b: entries c and e trade places."""
    hv[a, b, c], hv[a, b, e] = hv[a, b, e], hv[a, b, c]
    hp[a, b, c], hp[a, b, e] = hp[a, b, e], hp[a, b, c]


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _sift_down(hv, hp, a, b, n, c):
    """INOUT the min-heap hv[a, b, :n] (values), hp[a, b, :n] (points): entry c sinks."""
    while True:
        m = 2 * c + 1
        if m >= n:
            return
        if m + 1 < n and hv[a, b, m + 1] < hv[a, b, m]:
            m += 1
        if hv[a, b, c] <= hv[a, b, m]:
            return
        _swap(hv, hp, a, b, c, m)
        c = m


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _sift_up(hv, hp, a, b, c):
    """INOUT the min-heap of arc a -> b: entry c rises."""
    while c > 0:
        parent = (c - 1) >> 1
        if hv[a, b, parent] <= hv[a, b, c]:
            return
        _swap(hv, hp, a, b, c, parent)
        c = parent


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def set_root(arcs, a, b):
    """INOUT arcs: the root copy of the heap of arc a -> b, or its ``need`` flag when the
    heap must be refilled first (empty while members may be left out, or its root above
    ``theta``). A root is always a point still in a."""
    hv, hp, hn, theta, rv, rp, need = arcs
    if hn[a, b] > 0 and hv[a, b, 0] <= theta[a, b]:  # members left out are >= theta
        rv[a, b] = hv[a, b, 0]
        rp[a, b] = hp[a, b, 0]
        need[a, b] = False
    elif hn[a, b] == 0 and theta[a, b] == np.inf:  # a has no member: no arc
        rv[a, b] = np.inf
        rp[a, b] = -1
        need[a, b] = False
    else:
        need[a, b] = True


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def fill(cost, members, arcs, a, targets):
    """IN cost (n,k) f8, members (m,) the points of cluster a, targets: clusters b;
    INOUT arcs: each heap a -> b rebuilt with the ``cap`` or fewer smallest
    ``cost[i, b] - cost[i, a]`` over the members, ``theta[a, b]`` the smallest value left
    out (inf when none was). One pass over the members' rows serves every target; the
    heaps are max-heaps of negated values meanwhile, their roots mirrored in ``worst``."""
    hv, hp, hn, theta = arcs[0], arcs[1], arcs[2], arcs[3]
    cap = hv.shape[2]
    m = targets.shape[0]
    count = np.zeros(m, dtype=np.intp)
    worst = np.full(m, -np.inf)  # the negated largest value kept, once a heap is full
    dropped = np.full(m, -np.inf)  # the negated smallest value left out
    for i in members:
        ca = cost[i, a]
        for t in range(m):
            v = ca - cost[i, targets[t]]
            if v > worst[t]:
                b = targets[t]
                n = count[t]
                if n < cap:
                    hv[a, b, n] = v
                    hp[a, b, n] = i
                    count[t] = n + 1
                    _sift_up(hv, hp, a, b, n)
                    if n + 1 == cap:
                        worst[t] = hv[a, b, 0]
                else:  # it replaces the largest kept
                    dropped[t] = max(dropped[t], hv[a, b, 0])
                    hv[a, b, 0] = v
                    hp[a, b, 0] = i
                    _sift_down(hv, hp, a, b, n, 0)
                    worst[t] = hv[a, b, 0]
            else:
                dropped[t] = max(dropped[t], v)
    for t in range(m):
        b = targets[t]
        n = count[t]
        order = np.argsort(-hv[a, b, :n], kind="mergesort")  # ascending: a min-heap
        vals = -hv[a, b, :n][order]
        pts = hp[a, b, :n][order]
        for q in range(n):  # element by element: an array slice assignment compiles a
            hv[a, b, q] = vals[q]  # formatted shape-mismatch error (seconds, once)
            hp[a, b, q] = pts[q]
        hn[a, b] = n
        theta[a, b] = -dropped[t]
        set_root(arcs, a, b)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def refill(cost, lists, arcs, a):
    """IN cost (n,k) f8; INOUT lists (scratch), arcs: every heap of cluster a that must be
    refilled or holds under a quarter of its capacity, refilled from a's members."""
    hn, need = arcs[2], arcs[6]
    head, nxt, scratch = lists[0], lists[1], lists[3]
    k = cost.shape[1]
    low = np.empty(k, dtype=np.intp)
    m = 0
    for b in range(k):
        if b != a and (need[a, b] or hn[a, b] < arcs[0].shape[2] // 2):
            low[m] = b
            m += 1
    count = 0
    i = head[a]
    while i >= 0:
        scratch[count] = i
        count += 1
        i = nxt[i]
    fill(cost, scratch[:count], arcs, a, low[:m])


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _pop(arcs, a, b):
    """INOUT arcs: drop the root of the heap of arc a -> b."""
    hv, hp, hn = arcs[0], arcs[1], arcs[2]
    n = hn[a, b] - 1
    hn[a, b] = n
    hv[a, b, 0] = hv[a, b, n]
    hp[a, b, 0] = hp[a, b, n]
    _sift_down(hv, hp, a, b, n, 0)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _compact(labels, arcs, a, b):
    """INOUT arcs: a full heap of arc a -> b keeps the entries of points still in a, at
    most half of its capacity, the smallest; ``theta`` drops to the smallest let go."""
    hv, hp, hn, theta = arcs[0], arcs[1], arcs[2], arcs[3]
    n = hn[a, b]
    keep = np.zeros(n, dtype=np.bool_)
    for c in range(n):
        keep[c] = labels[hp[a, b, c]] == a
    vals = hv[a, b, :n][keep]
    pts = hp[a, b, :n][keep]
    order = np.argsort(vals, kind="mergesort")
    m = min(vals.shape[0], hv.shape[2] // 2)
    if m < vals.shape[0]:
        theta[a, b] = min(theta[a, b], vals[order[m]])
    for q in range(m):  # ascending values: a sorted array is a min-heap (a loop: see fill)
        hv[a, b, q] = vals[order[q]]
        hp[a, b, q] = pts[order[q]]
    hn[a, b] = m
    set_root(arcs, a, b)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def move(cost, labels, lists, arcs, i, b):
    """Move point i to cluster b: INOUT labels (n,), lists, arcs. The heaps of a's arcs
    whose root it was drop it; b's heaps take it where it falls below their threshold."""
    head, nxt, prv = lists[0], lists[1], lists[2]
    hv, hp, hn, theta, rp = arcs[0], arcs[1], arcs[2], arcs[3], arcs[5]
    a = labels[i]
    if prv[i] >= 0:
        nxt[prv[i]] = nxt[i]
    else:
        head[a] = nxt[i]
    if nxt[i] >= 0:
        prv[nxt[i]] = prv[i]
    prv[i] = -1
    nxt[i] = head[b]
    if head[b] >= 0:
        prv[head[b]] = i
    head[b] = i
    labels[i] = b
    k = cost.shape[1]
    for x in range(k):
        if rp[a, x] == i:
            while hn[a, x] > 0 and labels[hp[a, x, 0]] != a:
                _pop(arcs, a, x)
            set_root(arcs, a, x)
    for x in range(k):
        v = cost[i, x] - cost[i, b]
        if x != b and v < theta[b, x]:  # below the threshold: the heap must hold it
            if hn[b, x] == hv.shape[2]:
                _compact(labels, arcs, b, x)
            if v < theta[b, x]:
                n = hn[b, x]
                hv[b, x, n] = v
                hp[b, x, n] = i
                hn[b, x] = n + 1
                _sift_up(hv, hp, b, x, n)
                set_root(arcs, b, x)
