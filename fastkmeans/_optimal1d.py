"""``algorithm="optimal"``: the exact global optimum of k-means on one-feature data.

The column is gathered from any source (n float64 values and their weights: O(n) memory,
also for a memmap or a dask array), sorted (stable), and equal values are merged into one
weighted value, so that equal values always share a cluster and the dynamic programme of
:mod:`.kernels.optimal1d` runs on the ``u`` distinct values of positive weight. The centers
are the weighted means of its clusters; the final assignment is the one every fit ends
with (labels of the nearest center, ties to the lowest index, and the exact inertia).

With ``u <= k`` every distinct value is its own center and the ``k - u`` others repeat the
largest value: they stay empty (the fit warns, as every fit does).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._assign import Planner
from ._csr import as_dense
from ._lloyd import RunResult
from ._sources.base import BlockSource
from .errors import warn
from .kernels.optimal1d import optimal_boundaries

F8 = NDArray[np.float64]


def column_task(x: Any, w: F8, state: Any, offset: int, args: dict[str, Any]) -> Any:
    """The block's one feature as float64 (a block function, see :mod:`._sources.base`);
    sparse rows give their dense column (n numbers: one feature)."""
    return state, np.array(as_dense(x)[:, 0], dtype=np.float64)


def check_optimal(params: Any, source: BlockSource) -> None:
    """Refuse data with more than one feature; say that a given ``init`` goes unused."""
    if source.d != 1:
        raise ValueError(
            f"algorithm='optimal' needs one-feature data; X has {source.d} features "
            f"(use another algorithm, or cluster one column: X[:, [j]])"
        )
    if isinstance(params.init, np.ndarray):
        warn(
            "algorithm='optimal' finds the global optimum without a start: the initial "
            "centers given as init are not used",
            UserWarning,
        )


def optimal_centers(x: F8, w: F8, k: int) -> F8:
    """The ``k`` centers (float64, ascending) of an optimal clustering of the values ``x``
    with weights ``w`` (rows of zero weight take no part)."""
    if (w > 0).all():
        order = np.argsort(x, kind="stable")
    else:
        positive = np.flatnonzero(w > 0)
        order = positive[np.argsort(x[positive], kind="stable")]
    xs, ws = x[order], w[order]
    first = np.flatnonzero(np.concatenate(([True], xs[1:] != xs[:-1])))
    values = xs[first]
    weights = np.add.reduceat(ws, first)
    del order, xs, ws, first  # before the programme's own 144 bytes per distinct value
    u = values.shape[0]
    if u <= k:
        return np.concatenate((values, np.full(k - u, values[-1])))
    starts = np.empty(k + 1, dtype=np.intp)
    optimal_boundaries(values, weights, k, starts)
    shift = float(np.average(values, weights=weights))  # means of deviations: fewer lost digits
    sums = np.add.reduceat(weights * (values - shift), starts[:-1])
    return np.sort(shift + sums / np.add.reduceat(weights, starts[:-1]))


def optimal_run(params: Any, source: BlockSource) -> RunResult:
    """The optimal clustering of ``source`` as a finished run: no iterations, stop reason
    ``"optimal"``, labels and inertia from the final assignment to the centers."""
    check_optimal(params, source)
    k = params.n_clusters
    _, parts = source.map(column_task, [None] * source.n_blocks, {})
    x = np.concatenate(parts) if len(parts) > 1 else parts[0]
    centers = optimal_centers(x, source.all_weights(), k).astype(source.dtype).reshape(k, 1)
    planner = Planner("lloyd", source.n, 1, k, source.dtype, source.mean)
    source.start_run()
    _, weights, inertia, _ = source.assign(planner.lloyd(centers, accumulate=False))
    with np.errstate(over="ignore"):  # astronomic weights: a cluster may weigh inf
        weights = weights * source.weight_scale
    return RunResult(centers, source.labels(), inertia, 0, "optimal", [], weights)
