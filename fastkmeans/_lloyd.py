"""The one loop of full-batch k-means (Lloyd, Hamerly, Yinyang, size-constrained) over any
data source.

Semantics are scikit-learn's: relative ``tol`` on the sum of squared center shifts, strict
convergence when no label changes, empty clusters re-seeded at the farthest points, and a
final assignment so that labels and inertia belong to the returned centers. Which kernel
runs each pass is the :class:`~fastkmeans._assign.Planner`'s business; the result is
Lloyd's whichever it picks, or with size limits the constrained assignment's (each pass
then solves its assignment exactly under the limits, and the update is the same mean).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._assign import Planner
from ._sources.base import BlockSource

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]
Record = tuple[float, float, int, int]


@dataclass
class RunResult:
    """One finished run: centers, labels, inertia, iterations, why it stopped, its
    per-iteration records ``(inertia, shift, labels changed, re-seeded)`` and the weight
    of each cluster."""

    centers: Floats
    labels: NDArray[np.int64]
    inertia: float
    n_iter: int
    stop_reason: str
    history: list[Record]
    weights: F8


def centers_from_sums(old: Floats, sums: F8, wsums: F8, cosine: bool) -> Floats:
    """New centers as weighted means ``sums / wsums`` in the dtype of ``old``; clusters
    still empty keep their center; with ``cosine`` they are scaled to unit length. The
    sources hold astronomic weights scaled down (``_validation.weight_scale``); data so
    large that the sums still overflow are refused."""
    new = np.array(old, dtype=np.float64)
    full = wsums > 0
    new[full] = sums[full] / wsums[full, None]
    if not np.isfinite(new.sum()) and not np.isfinite(new).all():
        raise ValueError(
            "the weighted sums of a cluster overflowed float64: X holds values too large "
            "to average; scale X down first"
        )
    if cosine:
        norms = np.linalg.norm(new, axis=1)
        ok = norms > 0
        new[ok] /= norms[ok, None]
        new[~ok] = old[~ok]
    return new.astype(old.dtype)


def relocate_empty(
    source: BlockSource, centers: Floats, n_positive: int, sums: F8, wsums: F8
) -> int:
    """Re-seed clusters of zero weight at the points farthest from their center, as
    scikit-learn does: the point leaves its cluster's sums (INOUT ``sums``, ``wsums``)
    and becomes the new center. Nothing moves when every point sits on its center (more
    clusters than distinct points, scikit-learn issue 28055). Returns how many clusters
    were re-seeded."""
    empty = np.flatnonzero(wsums <= 0)
    if empty.shape[0] == 0:
        return 0
    m = min(empty.shape[0], n_positive)
    rows, xs, ws, old = source.farthest(centers, m)
    for j, xi, wi, o in zip(empty, xs, ws, old):
        sums[o] -= wi * xi
        wsums[o] -= wi
        sums[j] = wi * xi
        wsums[j] = wi
    return int(rows.shape[0])


def lloyd(
    source: BlockSource,
    planner: Planner,
    centers: Floats,
    max_iter: int,
    tol: float,
    on_iter: Callable[[], None] | None = None,
) -> RunResult:
    """Iterations from ``centers`` until strict convergence, ``tol`` or ``max_iter``."""
    source.start_run()
    planner.reset()
    history: list[Record] = []
    stop, shift = "max_iter", np.inf
    inertia, weights = np.inf, np.zeros(centers.shape[0])
    exact = True  # the last pass's inertia is the exact sum (not from partial sums)
    for _ in range(max_iter):
        plan = planner.plan(centers)
        exact = plan.exact
        sums, wsums, inertia, changed = source.assign(plan)
        planner.record(changed)
        weights = wsums  # the weight of each cluster of these labels
        n_reseeded = 0
        if not wsums.min() > 0:
            weights = wsums.copy()  # before re-seeding changes them
            n_reseeded = relocate_empty(source, centers, source.n_positive, sums, wsums)
        new = centers_from_sums(centers, sums, wsums, source.cosine)
        shift = float(((new.astype(np.float64) - centers) ** 2).sum())
        history.append((inertia, shift, changed, n_reseeded))
        centers = new
        if on_iter is not None:
            on_iter()
        if changed == 0:
            stop = "strict"
            break
        if shift <= tol:
            stop = "tol"
            break
    if not (stop == "strict" and shift == 0.0 and exact):  # else labels and inertia hold
        _, weights, inertia, _ = source.assign(planner.final(centers))
    with np.errstate(over="ignore"):  # astronomic weights: a cluster may weigh inf
        weights = weights * source.weight_scale
    return RunResult(centers, source.labels(), inertia, len(history), stop, history, weights)
