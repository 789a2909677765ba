"""The size-constrained assignment step, solved exactly as a min-cost flow on k + 1 nodes.

Assigning n points to k clusters of at least ``L`` and at most ``U`` points at least
total cost ``cost[i, j]`` is a transportation problem (Bradley, Bennett and Demiriz 2000).
Its network has the points as unit supplies, each cluster as a demand of ``L`` and a
slack node (index k) with demand ``n - k L``, reached from every cluster by an arc of
capacity ``U - L``. With k << n it is solved on the k + 1 nodes alone:

* the point arcs are summarised by cluster *prices* ``p`` (node potentials): every point
  sits in a cluster of least reduced cost ``cost[i, j] - p[j]``;
* moving a point i from cluster a to b costs ``cost[i, b] - cost[i, a]``; the residual
  arc a -> b costs the least of that over the points of a (:mod:`.flow_arcs` keeps it);
* successive shortest paths (Dijkstra on reduced costs over k + 1 nodes, from the node of
  largest excess, stopped at the first node in deficit) each move one unit of excess, or
  a block of units when the path runs through slack arcs only, and update the prices so
  that every reduced cost stays >= 0.

The pseudo-flow starts from the argmin of ``cost - p`` for any prices (the driver passes
the prices of a subsample's solution, or of the previous Lloyd iteration) with the slack
arcs pre-filled as far as the prices allow. When no excess is left the flow is optimal:
the assignment has the least total cost, exactly up to the rounding of the float64
costs. Ties go to whichever optimal assignment the paths reach; the result depends on the
input only, never on the thread count (the paths run on one thread; the parallel kernels
write disjoint slots).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE
from .distances import sq_dist_f64
from .flow_arcs import fill, move, refill
from .launch import Chunked
from .partials import _tile_total
from .twins import serial_twin


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def sq_costs(X, centers, out):
    """IN X (n,d), centers (k,d); OUT out (n,k) f8: exact squared distances."""
    for i in prange(X.shape[0]):
        for j in range(centers.shape[0]):
            out[i, j] = sq_dist_f64(X, i, centers, j)


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def price_labels(cost, prices, labels):
    """IN cost (n,k) f8, prices (k+1,) f8; OUT labels (n,) intp: the argmin of
    ``cost[i] - prices[:k]``, ties to the lowest index."""
    k = cost.shape[1]
    for i in prange(cost.shape[0]):
        best = np.inf
        lab = 0
        for j in range(k):
            v = cost[i, j] - prices[j]
            if v < best:
                best = v
                lab = j
        labels[i] = lab


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def label_totals_chunk(first, stop, X, w, centers, labels, bounds, sums, wsums, inertia,
                       accumulate):  # fmt: skip
    """Chunks first..stop-1 of :data:`label_totals`: IN X (n,d), w (n,) f8, centers (k,d),
    labels (n,), bounds (n_chunks+1,); OUT sums (n_chunks,k,d) f8 and wsums (n_chunks,k) f8
    (with ``accumulate``), inertia (n_chunks,) f8: Lloyd's per-chunk sums for the given
    labels. Chunk c writes only its own slots."""
    for c in range(first, stop):
        if accumulate:
            sums[c] = 0.0
            wsums[c] = 0.0
        lo = bounds[c]
        inertia[c] = _tile_total(
            X, w, centers, lo, bounds[c + 1] - lo, labels, sums[c], wsums[c], accumulate, 0.0
        )


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def fill_arcs(cost, order, starts, arcs):
    """IN cost (n,k) f8, the points by cluster ``order[starts[a]:starts[a+1]]``; INOUT
    arcs: every arc filled from its cluster's members. Cluster a writes only a's arcs."""
    k = cost.shape[1]
    for a in prange(k):
        targets = np.empty(k - 1, dtype=np.intp)
        for b in range(k - 1):
            targets[b] = b if b < a else b + 1
        # intp: prange gives a uint64 here, the serial twin an int64 (two compiles of fill)
        fill(cost, order[starts[a] : starts[a + 1]], arcs, np.intp(a), targets)


#: Chunks in parallel; the twin on the calling thread (small data).
label_totals = Chunked(label_totals_chunk, bounds_at=4)
label_totals_serial = label_totals.serial_twin()
#: On the calling thread (small data).
sq_costs_serial = serial_twin(sq_costs)
price_labels_serial = serial_twin(price_labels)
fill_arcs_serial = serial_twin(fill_arcs)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def flow_start(cost, size_min, size_max, prices, labels, heap_cap):
    """IN cost (n,k) f8, the limits, prices (k+1,) f8, labels (n,): the argmin of
    ``cost - prices[:k]``, heap_cap. The starting pseudo-flow: ``flows`` (cluster sizes,
    slack-arc flows, excesses of the k + 1 nodes, slack capacity ``U - L``), the member
    lists, unfilled arcs, and the points sorted by cluster ``(order, starts)``. Slack arcs
    are full for clusters priced below the slack node, empty above it, and carry what the
    cluster's size gives at equal prices: the reduced costs are all >= 0."""
    n, k = cost.shape
    cap = size_max - size_min
    size = np.zeros(k, dtype=np.intp)
    for i in range(n):
        size[labels[i]] += 1
    flow = np.zeros(k, dtype=np.intp)
    exc = np.zeros(k + 1, dtype=np.intp)
    for j in range(k):
        if prices[j] < prices[k]:
            flow[j] = cap
        elif prices[j] == prices[k]:
            flow[j] = min(max(size[j] - size_min, 0), cap)
        exc[j] = size[j] - size_min - flow[j]
    exc[k] = flow.sum() - (n - k * size_min)
    starts = np.zeros(k + 1, dtype=np.intp)
    for j in range(k):  # not starts[1:] = np.cumsum(size): see flow_arcs.fill
        starts[j + 1] = starts[j] + size[j]
    order = np.empty(n, dtype=np.intp)
    head = np.full(k, -1, dtype=np.intp)
    nxt = np.full(n, -1, dtype=np.intp)
    prv = np.full(n, -1, dtype=np.intp)
    fill_at = starts[:k].copy()
    for i in range(n):
        j = labels[i]
        order[fill_at[j]] = i
        fill_at[j] += 1
    for i in range(n - 1, -1, -1):  # each list in increasing point order
        j = labels[i]
        nxt[i] = head[j]
        if head[j] >= 0:
            prv[head[j]] = i
        head[j] = i
    arcs = (
        np.empty((k, k, heap_cap)),
        np.empty((k, k, heap_cap), dtype=np.intp),
        np.zeros((k, k), dtype=np.intp),
        np.full((k, k), -np.inf),  # -inf: not filled yet
        np.full((k, k), np.inf),  # a -> a is no arc
        np.full((k, k), -1, dtype=np.intp),
        ~np.eye(k, dtype=np.bool_),
    )
    lists = (head, nxt, prv, np.empty(n, dtype=np.intp))
    return (size, flow, exc, cap), lists, arcs, order, starts


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _relax(u, v, r, work, point):
    """Dijkstra's relaxation of the arc u -> v of reduced cost r (clamped at 0 against
    rounding) realised by ``point`` (-1 for slack arcs). Settled nodes are never improved
    (their distance is at most u's), so they need no test."""
    dist, _, pred, via, key = work
    nd = dist[u] + max(r, 0.0)
    if nd < dist[v]:
        dist[v] = nd
        key[v] = nd
        pred[v] = u
        via[v] = point


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _shortest_path(s, cost, prices, flows, lists, arcs, work):
    """Dijkstra from node s on reduced costs over the k clusters and the slack node k,
    stopped at the first node in deficit, which it returns (-1: none reachable); OUT
    work (dist, settled, pred, via, key: distances of nodes not settled yet); INOUT
    prices, updated so that every reduced cost stays >= 0."""
    size, flow, exc, cap = flows
    dist, done, pred, via, key = work
    rv, rp, need = arcs[4], arcs[5], arcs[6]
    k = cost.shape[1]
    dist[:] = np.inf
    key[:] = np.inf
    done[:] = False
    dist[s] = 0.0
    key[s] = 0.0
    t = -1
    while True:
        u = np.intp(0)  # not a literal 0: refill would compile once more for it
        for v in range(1, k + 1):
            if key[v] < key[u]:
                u = v
        if key[u] == np.inf:
            break
        key[u] = np.inf
        done[u] = True
        if exc[u] < 0:
            t = u
            break
        if u == k:  # the slack node: back to the clusters that send it flow
            for v in range(k):
                if flow[v] > 0:
                    _relax(u, v, prices[k] - prices[v], work, -1)
            continue
        if flow[u] < cap:
            _relax(u, k, prices[u] - prices[k], work, -1)
        if size[u] == 0:
            continue
        for v in range(k):
            if need[u, v]:
                refill(cost, lists, arcs, u)
                break
        du = dist[u]
        pu = prices[u]
        for v in range(k):  # written out: this loop is the hot one
            nd = du + max(rv[u, v] + pu - prices[v], 0.0)
            if nd < dist[v]:
                dist[v] = nd
                key[v] = nd
                pred[v] = u
                via[v] = rp[u, v]
    if t >= 0:
        far = dist[t]
        for v in range(k + 1):
            prices[v] += dist[v] if done[v] else far
    return t


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _augment(s, t, cost, labels, flows, lists, arcs, work):
    """Send as much excess from s to t along the path just found as its arcs allow (one
    unit when it moves a point): INOUT labels, flows, lists, arcs."""
    size, flow, exc, cap = flows
    pred, via = work[2], work[3]
    k = cost.shape[1]
    amount = min(exc[s], -exc[t])
    v = t
    while v != s:
        u = pred[v]
        if via[v] >= 0:
            amount = 1
        elif v == k:
            amount = min(amount, cap - flow[u])
        else:
            amount = min(amount, flow[v])
        v = u
    v = t
    while v != s:
        u = pred[v]
        if via[v] >= 0:
            move(cost, labels, lists, arcs, via[v], v)
            size[u] -= 1
            size[v] += 1
        elif v == k:
            flow[u] += amount
        else:
            flow[v] -= amount
        v = u
    exc[s] -= amount
    exc[t] += amount


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def transport(cost, prices, labels, flows, lists, arcs):
    """IN cost (n,k) f8; INOUT prices (k+1,) f8 (index k: the slack node; returned shifted
    so that it is 0), labels (n,) intp, and the pseudo-flow of :func:`flow_start`. On exit
    the labels are an assignment of least total cost with every cluster size within the
    limits (when ``k L <= n <= k U``). Returns the number of paths."""
    k = cost.shape[1]
    exc = flows[2]
    work = (
        np.empty(k + 1),
        np.zeros(k + 1, dtype=np.bool_),
        np.full(k + 1, -1, dtype=np.intp),
        np.full(k + 1, -1, dtype=np.intp),
        np.empty(k + 1),
    )
    paths = 0
    while True:
        s = int(np.argmax(exc))
        if exc[s] <= 0:
            break
        t = _shortest_path(s, cost, prices, flows, lists, arcs, work)
        if t < 0:
            break  # infeasible limits (the driver refuses them first)
        _augment(s, t, cost, labels, flows, lists, arcs, work)
        paths += 1
    prices -= prices[k]
    return paths
