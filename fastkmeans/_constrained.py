"""Size-constrained k-means: the limits a fit checks, and the exact assignment pass.

With ``size_min``/``size_max`` the assignment step of the one Lloyd loop is the
transportation problem of Bradley, Bennett and Demiriz (2000): the least total squared
distance with every cluster size in ``[size_min, size_max]``. :func:`assign_sizes` runs
it on a block of rows (the whole data: only in-memory data are accepted) in place of the
nearest-center kernel, through :func:`fastkmeans._assign.assign_block`:

1. the exact float64 squared distances, n x k (the one n x k array of this path);
2. prices from a subsample: the same problem on every 8th row, with the limits scaled to
   it, solved first (recursively, down to a few thousand rows), so that the argmin of
   cost minus price is nearly balanced already; the coarsest level starts from the
   prices of the previous iteration;
3. the exact solution from there by successive shortest paths on the k + 1 node graph
   (:mod:`.kernels.constrained`), then Lloyd's sums for the labels found.

Memory: 8 n k bytes for the distances (plus 1/7 of that for the subsamples) and O(n)
for the labels and member lists, during the pass; O(k^2) for the arc heaps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import warn
from .kernels.constrained import (
    fill_arcs,
    fill_arcs_serial,
    flow_start,
    label_totals,
    label_totals_serial,
    price_labels,
    price_labels_serial,
    sq_costs,
    sq_costs_serial,
    transport,
)

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]

#: Rows of a level below which no coarser subsample is solved first ...
MIN_LEVEL_ROWS = 1024
#: ... the stride of the subsample (every LEVEL_STRIDE-th row) ...
LEVEL_STRIDE = 8
#: ... and the share of samples outside the limits from which it is tried (1/256).
OUTSIDE_SHARE = 256
#: Problems of at most this many distances (n k) run on the calling thread: the flow is
#: serial, and waking the thread pool for each of the other kernels cost more than it
#: saved (measured on 20,000 x 16, k = 20: 0.04 s a fit on one thread, 0.15-0.24 s on two
#: threads of a shared two-core machine).
SERIAL_MAX_COSTS = 2**20
#: Entries each arc heap keeps: HEAP_CAP, or one per HEAP_ROWS points of an average
#: cluster up to 4 HEAP_CAP (a larger cluster refills its heaps less often, each refill
#: costing a pass over its members), while all k^2 heaps fit in HEAP_BYTES. Measured
#: (one run each, a first step from k-means++ centers): 32 was the fastest of 8-128 on
#: 20,000 x 16 (k = 20) and 300,000 x 16 (k = 64), 64 on 1,000,000 x 16 (k = 64).
HEAP_CAP = 32
HEAP_ROWS = 256
HEAP_BYTES = 64 * 2**20


def size_limits(params: Any, source: Any, sample_weight: Any) -> tuple[int, int] | None:
    """``(size_min, size_max)`` as ints (0 and n when not given) for a fit of ``params``
    on ``source``, or None without limits. Refuses what the constrained step cannot
    run: weights, data not in memory, limits that no assignment can meet."""
    lo, hi = params.size_min, params.size_max
    if lo is None and hi is None:
        return None
    if sample_weight is not None:
        raise ValueError(
            "size_min/size_max count samples and do not take sample_weight: fit without "
            "weights (repeat rows to weigh them), or without size limits"
        )
    local = source.local_array()
    if local is None or not isinstance(local[0], np.ndarray):
        how = "X.toarray()" if source.kind == "sparse data" else "np.asarray(X)"
        raise ValueError(
            f"size_min/size_max need a dense array in memory, got {source.kind}: load X "
            f"into one ({how}) to fit with size limits"
        )
    n, k = source.n, params.n_clusters
    lo = 0 if lo is None else int(lo)
    hi = n if hi is None else min(int(hi), n)
    if lo * k > n:
        raise ValueError(
            f"size_min={lo} is infeasible: {k} clusters of at least {lo} samples need "
            f"{lo * k} samples and X has {n}; use size_min <= {n // k}"
        )
    if hi * k < n:
        raise ValueError(
            f"size_max={hi} is infeasible: {k} clusters of at most {hi} samples hold "
            f"{hi * k} samples and X has {n}; use size_max >= {-(-n // k)}"
        )
    if params.algorithm in ("hamerly", "yinyang"):
        warn(
            f"algorithm={params.algorithm!r} does not apply to the size-constrained "
            f"assignment, which computes every distance: it runs without bounds",
            UserWarning,
        )
    return lo, hi


def scaled_limits(
    size_min: int | None, size_max: int | None, n_fit: int, m: int
) -> tuple[int, int]:
    """The limits of a fit on ``n_fit`` samples scaled to a batch of ``m``: floor of
    ``size_min * m / n_fit`` and ceiling of ``size_max * m / n_fit`` (0 and m when not
    given), always feasible when the fit's limits were."""
    lo = 0 if size_min is None else size_min * m // n_fit
    hi = m if size_max is None else min(m, -(-size_max * m // n_fit))
    return lo, max(hi, lo)


def heap_capacity(n: int, k: int) -> int:
    """Entries per arc heap for n points in k clusters (see :data:`HEAP_CAP`; never
    under 4)."""
    cap = min(4 * HEAP_CAP, max(HEAP_CAP, n // (HEAP_ROWS * k)))
    return max(4, min(cap, HEAP_BYTES // (16 * k * k)))


def _labels(cost: F8, prices: F8, serial: bool) -> NDArray[np.intp]:
    labels = np.empty(cost.shape[0], dtype=np.intp)
    (price_labels_serial if serial else price_labels)(cost, prices, labels)
    return labels


def _outside(labels: NDArray[np.intp], k: int, size_min: int, size_max: int) -> int:
    """How many samples the cluster sizes of ``labels`` lie outside the limits."""
    sizes = np.bincount(labels, minlength=k)
    return int(np.maximum(sizes - size_max, 0).sum() + np.maximum(size_min - sizes, 0).sum())


def solve(cost: F8, size_min: int, size_max: int, prices: F8, serial: bool) -> NDArray[np.intp]:
    """Labels of least total ``cost`` (n, k) with every cluster size in
    ``[size_min, size_max]``; ``prices`` (k + 1,) INOUT: the warm start on entry, the
    optimal prices of this problem on exit (shifted so that the slack node's is 0).

    When the warm start leaves more than 1/:data:`OUTSIDE_SHARE` of the samples outside
    the limits (always at the first pass of a run), the problem on every
    :data:`LEVEL_STRIDE`-th row is solved first, from the same warm start, and its
    prices are kept if they leave fewer outside."""
    n, k = cost.shape
    labels = _labels(cost, prices, serial)
    outside = _outside(labels, k, size_min, size_max)
    if outside > n // OUTSIDE_SHARE and n // LEVEL_STRIDE >= MIN_LEVEL_ROWS:
        sub = np.ascontiguousarray(cost[::LEVEL_STRIDE])
        m = sub.shape[0]
        coarse = prices.copy()
        solve(sub, size_min * m // n, -(-size_max * m // n), coarse, serial)
        del sub
        trial = _labels(cost, coarse, serial)
        if _outside(trial, k, size_min, size_max) < outside:
            labels, prices[:] = trial, coarse
    flows, lists, arcs, order, starts = flow_start(
        cost, size_min, size_max, prices, labels, heap_capacity(n, k)
    )
    excess = int(flows[2][flows[2] > 0].sum())
    if excess:
        if excess >= k:  # paths from most clusters: fill every arc now, in parallel
            (fill_arcs_serial if serial else fill_arcs)(cost, order, starts, arcs)
        transport(cost, prices, labels, flows, lists, arcs)  # fills the others on demand
    else:
        prices -= prices[k]
    return labels


def assign_sizes(
    X: Floats,
    w: F8,
    centers: Floats,
    sizes: tuple[int, int],
    state: Any,
    bounds: NDArray[np.intp],
    totals: tuple[F8, F8, F8],
    accumulate: bool,
    serial: bool,
) -> int:
    """The constrained assignment of the rows ``X`` to ``centers``: INOUT ``state``
    (``labels``, and ``prices`` kept between the passes of a run), OUT ``totals`` (the
    per-chunk sums, weight sums and inertia of :func:`.kernels.constrained.label_totals`).
    Returns how many labels changed."""
    n, k = X.shape[0], centers.shape[0]
    serial = serial or n * k <= SERIAL_MAX_COSTS
    cost = np.empty((n, k))
    (sq_costs_serial if serial else sq_costs)(X, centers, cost)
    if getattr(state, "prices", None) is None:
        state.prices = np.zeros(k + 1)
    labels = solve(cost, sizes[0], sizes[1], state.prices, serial)
    del cost
    changed = int(np.count_nonzero(labels != state.labels))
    state.labels = labels
    sums, wsums, inertia = totals
    (label_totals_serial if serial else label_totals)(
        X, w, centers, labels, bounds, sums, wsums, inertia, accumulate
    )
    return changed
