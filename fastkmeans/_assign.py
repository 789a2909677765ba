"""The assignment step on one block of rows, wherever the block lives.

Every kind of data runs the same two pieces:

* a :class:`Planner`, on the driver, keeps what one run knows about its centers (which
  exact algorithm, whether Hamerly's or Yinyang's bounds are set, how far each center moved
  since) and turns the current centers into a :class:`Plan`: everything a block needs that
  depends on the centers only, computed once per iteration;
* :func:`assign_block` runs a plan on one block of rows with that block's
  :class:`RowState` (labels and, for the bounded algorithms, the bounds), in this process
  with parallel kernels or on a Dask worker with their serial twins, and returns one packed
  float64 vector ``[sums (k*d), weight sums (k), inertia, labels changed]`` that blocks add
  up with ``+``.

Hamerly's and Yinyang's blocks keep per-chunk partial sums in their state, updated by the
rows that change label only (see :mod:`.kernels.hamerly`); between the refresh passes that
recompute them, the inertia of a pass comes from those partials (:func:`stats_inertia`),
and ``Plan.exact`` is False. The final pass of a run is always exact.

The bounded algorithms give Lloyd's labels (see :mod:`.kernels.hamerly`), so a plan never
changes the result, only the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _config, _csr
from ._cold import kernel as chosen
from ._constrained import assign_sizes
from .kernels.distances import assigned_sq_distances, assigned_sq_distances_serial
from .kernels.hamerly import (
    center_half_gaps,
    center_half_gaps_serial,
    hamerly_step,
    hamerly_step_serial,
)
from .kernels.lloyd import (
    center_on,
    lloyd_direct,
    lloyd_direct_serial,
    lloyd_gemm,
    lloyd_gemm_serial,
    reduce_chunks,
)
from .kernels.partials import EXACT, MOVES, REFRESH, SUMS
from .kernels.small import lloyd_small
from .kernels.yinyang import yinyang_step, yinyang_step_serial

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]


def chunk_bounds(n: int) -> NDArray[np.intp]:
    """Row boundaries of the reduction chunks: a function of ``n`` only, never of threads."""
    n_chunks = max(1, min(_config.MAX_CHUNKS, -(-n // _config.MIN_CHUNK_ROWS)))
    return np.linspace(0, n, n_chunks + 1).astype(np.intp)


def is_small(n: int, d: int, k: int) -> bool:
    """Problems this small run on the calling thread with direct differences."""
    return n * k * d <= _config.SERIAL_MAX_WORK


def resolve_algorithm(algorithm: str, n: int, d: int, k: int) -> str:
    """The exact algorithm ``"auto"`` stands for on data of this shape.

    Hamerly's bounds pay off once there are enough centers to skip (and runs long enough
    to amortise the scan that sets them), Yinyang's group bounds with many more; see
    ``_config.HAMERLY_MIN_CLUSTERS`` and ``_config.YINYANG_MIN_CLUSTERS``.
    """
    if algorithm != "auto":
        return algorithm
    if is_small(n, d, k):
        return "lloyd"  # small problems: the serial Lloyd kernel, no bounds to keep
    if k >= _config.YINYANG_MIN_CLUSTERS:
        return "yinyang"
    if k >= _config.HAMERLY_MIN_CLUSTERS:
        return "hamerly"
    return "lloyd"


def yinyang_groups(n: int, k: int) -> int:
    """Yinyang's number of center groups: k / 10 (the paper's choice), capped so that the
    n x groups float64 bounds fit in ``_config.YINYANG_MAX_BYTES``; at least one."""
    return max(1, min(k // 10, _config.YINYANG_MAX_BYTES // (8 * max(n, 1))))


def group_centers(centers: F8, t: int, n_iter: int = 5) -> NDArray[np.intp]:
    """Yinyang's grouping: ``t`` groups of centers from a few Lloyd iterations on the
    centers themselves, started from evenly spaced centers (deterministic)."""
    k = centers.shape[0]
    if t <= 1:
        return np.zeros(k, dtype=np.intp)
    seeds = centers[np.linspace(0, k - 1, t).astype(np.intp)].copy()
    groups = np.zeros(k, dtype=np.intp)
    sq = (centers**2).sum(axis=1)[:, None]
    for _ in range(n_iter):  # a k x t distance matrix, never k x t x d
        d2 = sq - 2.0 * centers @ seeds.T + (seeds**2).sum(axis=1)[None, :]
        groups = d2.argmin(axis=1)
        for g in range(t):
            members = groups == g
            if members.any():
                seeds[g] = centers[members].mean(axis=0)
    return groups.astype(np.intp)


# --------------------------------------------------------------------------- plans
@dataclass(frozen=True)
class Plan:
    """What one assignment pass needs that depends on the centers only.

    ``kind`` is ``"lloyd"``, ``"hamerly"``, ``"yinyang"`` or ``"constrained"``; ``scan``
    and ``bound`` are the bounded kernels' tuples (None for Lloyd); ``n_groups`` is
    Yinyang's bound width; ``sizes`` the ``(size_min, size_max)`` of a constrained pass;
    ``exact`` is False for a pass whose inertia comes from the partial sums (a bounded
    pass, or an incremental Lloyd pass), ``stat_mean`` the origin of their stats.
    """

    centers: Floats
    kind: str
    accumulate: bool
    gemm: bool
    mean: Floats
    scan: tuple[Any, ...] | None = None
    bound: tuple[Any, ...] | None = None
    n_groups: int = 0
    sizes: tuple[int, int] | None = None
    exact: bool = True
    stat_mean: F8 | None = None


class Planner:
    """One run's view of its centers: picks the kernel of each pass and keeps the state of
    the bounds that lives on the driver (the centers they refer to, Yinyang's groups).
    With ``sizes`` (``(size_min, size_max)``) every pass is the constrained assignment.
    ``incremental``: Lloyd's passes keep per-chunk partial sums and update them by the rows
    that change label between refreshes (never for small problems, which save nothing;
    sources whose kernels recompute every pass say False)."""

    def __init__(
        self,
        algorithm: str,
        n: int,
        d: int,
        k: int,
        dtype: Any,
        mean: F8,
        sizes: tuple[int, int] | None = None,
        incremental: bool = True,
    ) -> None:
        self.n, self.k = n, k
        self.sizes = sizes
        self.kind = "constrained" if sizes else resolve_algorithm(algorithm, n, d, k)
        self.gemm = self.kind != "constrained" and not is_small(n, d, k) and _config.use_gemm(d, k)
        self.dtype = np.dtype(dtype)
        self.mean = (mean if self.gemm else np.zeros(d)).astype(self.dtype)
        self.stat_mean = np.ascontiguousarray(mean, dtype=np.float64)  # the partials' origin
        self.slack = 1e-4 if self.dtype == np.float32 else 1e-10
        self.n_groups = yinyang_groups(n, k) if self.kind == "yinyang" else 0
        self.incremental = incremental and not sizes and not is_small(n, d, k)
        self.reset()

    def reset(self) -> None:
        """Start a new run: no bounds yet, every label about to change."""
        self.bounded_by: F8 | None = None
        self.groups = np.zeros(self.k, dtype=np.intp)
        self.last_changed = self.n
        self.since_refresh = 0  # passes since the partial sums were recomputed (0: never)

    def record(self, changed: int) -> None:
        """Labels changed by the pass just run."""
        self.last_changed = changed

    def _refresh_due(self, asked: bool) -> bool:
        """Whether the next pass that keeps partial sums recomputes them: the first one,
        every ``_config.SUMS_REFRESH_EVERY`` passes, and when ``asked``."""
        due = asked or self.since_refresh in (0, _config.SUMS_REFRESH_EVERY)
        self.since_refresh = 1 if due else self.since_refresh + 1
        return due

    def lloyd(self, centers: Floats, accumulate: bool) -> Plan:
        """A plain Lloyd pass (prediction)."""
        return Plan(centers, "lloyd", accumulate, self.gemm, self.mean)

    def final(self, centers: Floats) -> Plan:
        """The final assignment of a run: Lloyd's, the constrained one, or, once Hamerly's
        or Yinyang's bounds are set, a bounded refresh pass (Lloyd's labels, the exact
        inertia, without a full scan)."""
        if self.kind == "constrained":
            return Plan(centers, "constrained", False, False, self.mean, sizes=self.sizes)
        if self.bounded_by is not None:
            return self.plan(centers, refresh=True)
        return self.lloyd(centers, False)

    def plan(self, centers: Floats, refresh: bool = False) -> Plan:
        """The next accumulating pass. Hamerly and Yinyang start from Lloyd: their bounds
        are set (one full scan) once few labels still change, and kept from then on. The
        partial sums (of incremental Lloyd passes and of bounded ones) are recomputed on
        the first pass that keeps them, on the first bounded pass, every
        ``_config.SUMS_REFRESH_EVERY`` passes and when ``refresh`` is asked."""
        if self.kind == "constrained":
            return Plan(centers, "constrained", True, False, self.mean, sizes=self.sizes)
        bounded = self.kind in ("hamerly", "yinyang") and (
            self.bounded_by is not None or self.last_changed <= _config.HAMERLY_SWITCH * self.n
        )
        if not bounded:
            if not self.incremental:
                return self.lloyd(centers, True)
            return Plan(centers, "lloyd", True, self.gemm, self.mean,
                        exact=self._refresh_due(refresh), stat_mean=self.stat_mean)  # fmt: skip
        c64 = centers.astype(np.float64)
        first = self.bounded_by is None
        refresh = self._refresh_due(refresh or first)
        move = np.zeros(self.k) if first else np.sqrt(((c64 - self.bounded_by) ** 2).sum(axis=1))
        half_gaps = np.empty(self.k)
        small = is_small(self.k, centers.shape[1], self.k)  # k x k distances
        (center_half_gaps_serial if small else center_half_gaps)(centers, half_gaps)
        if self.gemm:
            centered = np.empty_like(centers)
            half_norms = np.empty(self.k, dtype=centers.dtype)
            center_on(centers, self.mean, centered, half_norms)
            radius = float(np.sqrt(2.0 * half_norms.astype(np.float64).max()))
        else:  # direct scans: stand-ins of the same types
            centered, half_norms, radius = centers, np.zeros(self.k, dtype=centers.dtype), 0.0
        gemm_err = (centers.shape[1] + 2) * float(np.finfo(self.dtype).eps)
        scan = (centered, half_norms, self.mean, radius, gemm_err, self.gemm)
        if self.kind == "yinyang":
            if first:
                self.groups = group_centers(c64, self.n_groups)
            group_move = np.zeros(self.n_groups)
            np.maximum.at(group_move, self.groups, move)
            bound: tuple[Any, ...] = (self.groups, half_gaps, move, group_move, first, refresh,
                                      self.slack, self.stat_mean)  # fmt: skip
        else:
            order = np.argsort(-move, kind="stable")
            top = int(order[0])
            second = float(move[order[1]]) if self.k > 1 else 0.0
            bound = (half_gaps, move, float(move[top]), top, second, first, refresh, self.slack,
                     self.stat_mean)  # fmt: skip
        self.bounded_by = c64
        return Plan(centers, self.kind, True, self.gemm, self.mean, scan, bound, self.n_groups,
                    exact=refresh, stat_mean=self.stat_mean)  # fmt: skip


# --------------------------------------------------------------------------- blocks
class RowState:
    """Per-row state of one block for one run: labels, the bounds once they are set, the
    bounded kernels' per-chunk partial sums (``partials``: sums, weight sums and
    ``(w ||x - m||^2, count)`` per cluster, kept up to date by the moves), and the cluster
    prices of the constrained assignment (its warm start). In this process it also keeps
    the block's kernel workspaces between passes."""

    def __init__(self, m: int) -> None:
        self.labels = np.full(m, -1, dtype=np.intp)
        self.prices: F8 | None = None
        self.upper: F8 | None = None
        self.lower: F8 | None = None  # (m,) for Hamerly, (m, groups) for Yinyang
        self.partials: tuple[F8, F8, F8] | None = None
        self.scanned = m  # rows whose distances to every center the last pass computed
        self._bounds: NDArray[np.intp] | None = None
        self._work: dict[tuple[int, ...], tuple[F8, ...]] = {}

    def __getstate__(self) -> dict[str, Any]:  # workspaces never travel
        return {k: v for k, v in self.__dict__.items() if k not in ("_work", "_bounds")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._work = {}
        self._bounds = None

    def chunks(self, worker: bool) -> NDArray[np.intp]:
        """The block's reduction chunks: :func:`chunk_bounds`, or one chunk on a worker."""
        if self._bounds is None:
            m = self.labels.shape[0]
            self._bounds = np.array([0, m], dtype=np.intp) if worker else chunk_bounds(m)
        return self._bounds

    def copy(self) -> RowState:
        """A copy of the labels and bounds (no workspaces)."""
        out = RowState(0)
        out.labels = self.labels.copy()
        out.prices = None if self.prices is None else self.prices.copy()
        out.upper = None if self.upper is None else self.upper.copy()
        out.lower = None if self.lower is None else self.lower.copy()
        out.partials = None if self.partials is None else tuple(p.copy() for p in self.partials)
        out.scanned = self.scanned
        return out

    def work(self, n_chunks: int, k: int, d: int) -> tuple[F8, ...]:
        """Per-chunk sums, weight sums, inertia, labels changed and rows scanned."""
        key = (n_chunks, k, d)
        if key not in self._work:
            self._work = {
                key: (
                    np.zeros((n_chunks, k, d)),
                    np.zeros((n_chunks, k)),
                    np.zeros(n_chunks),
                    np.zeros(n_chunks, dtype=np.intp),
                    np.zeros(n_chunks, dtype=np.intp),
                )
            }
        return self._work[key]

    def bounds_for(self, plan: Plan, n_chunks: int) -> tuple[F8, F8, F8]:
        """Allocate the bounds and the partial sums the first time a bounded plan reaches
        this block (a refresh pass fills them); returns the partials."""
        m = self.labels.shape[0]
        if self.upper is None:
            self.upper = np.empty(m)
        shape: tuple[int, ...] = (m, plan.n_groups) if plan.kind == "yinyang" else (m,)
        if self.lower is None or self.lower.shape != shape:
            self.lower = np.empty(shape)
        return self.partials_for(plan, n_chunks)

    def partials_for(self, plan: Plan, n_chunks: int) -> tuple[F8, F8, F8]:
        """The block's per-chunk partial sums, allocated the first time (a refresh pass
        fills them)."""
        k, d = plan.centers.shape
        if self.partials is None or self.partials[0].shape != (n_chunks, k, d):
            self.partials = (np.zeros((n_chunks, k, d)), np.zeros((n_chunks, k)),
                             np.zeros((n_chunks, k, 2)))  # fmt: skip
        return self.partials


def packed_size(k: int, d: int) -> int:
    """Length of the vector :func:`assign_block` returns."""
    return k * d + k + 2


def unpack(packed: F8, k: int, d: int) -> tuple[F8, F8, float, int]:
    """(sums (k,d), weight sums (k,), inertia, labels changed) of a packed vector (views)."""
    sums = packed[: k * d].reshape(k, d)
    wsums = packed[k * d : k * d + k]
    return sums, wsums, float(packed[-2]), round(packed[-1])


def assign_block(
    X: Floats, w: F8, state: RowState, plan: Plan, worker: bool = False
) -> tuple[RowState, F8]:
    """Run ``plan`` on the rows ``X`` (weights ``w``) and their ``state`` (INOUT).

    ``worker``: on a Dask worker: serial twins and one chunk for the whole block (no
    Numba thread pool in the worker). Otherwise the block's rows go in the fixed chunks of
    :func:`chunk_bounds`, in parallel unless the block is small; results do not depend on
    the thread count either way. Returns the state and the packed partial sums (with
    ``accumulate`` off: the inertia, the changed count and the weight per cluster only).
    """
    m, d = X.shape
    k = plan.centers.shape[0]
    if isinstance(X, _csr.CSRRows):
        return assign_sparse(X, w, state, plan)
    serial = worker or is_small(m, d, k)
    bounds = state.chunks(worker)
    ds = d if plan.accumulate else 1  # Lloyd's passes give the weights either way
    sums, wsums, inertia, changed, scanned = state.work(bounds.shape[0] - 1, k, ds)
    centers = plan.centers
    if plan.kind == "lloyd":
        mode, stats, smean = EXACT, sums, np.zeros(0)  # stats: any 3-D array, unused
        if plan.accumulate:
            mode = SUMS
            if plan.stat_mean is not None:  # incremental: the state keeps the partials
                sums, wsums, stats = state.partials_for(plan, bounds.shape[0] - 1)
                mode, smean = (REFRESH if plan.exact else MOVES), plan.stat_mean
        args = (bounds, state.labels, sums, wsums, stats, smean, inertia, changed, mode)
        if plan.gemm:
            chosen(lloyd_gemm_serial if serial else lloyd_gemm)(X, w, centers, plan.mean, *args)
        elif is_small(m, d, k):
            chosen(lloyd_small)(X, w, centers, *args)  # compiles in a fraction of the tiled one
        else:
            chosen(lloyd_direct_serial if serial else lloyd_direct)(X, w, centers, *args)
        state.scanned = m
    elif plan.kind == "constrained":
        assert plan.sizes is not None
        changed[:] = 0
        changed[0] = assign_sizes(X, w, centers, plan.sizes, state, bounds,
                                  (sums, wsums, inertia), plan.accumulate, serial)  # fmt: skip
        state.scanned = m
    else:
        sums, wsums, stats = state.bounds_for(plan, bounds.shape[0] - 1)
        if plan.kind == "hamerly":
            kernel = hamerly_step_serial if serial else hamerly_step
        else:
            kernel = yinyang_step_serial if serial else yinyang_step
        kernel(X, w, centers, plan.scan, plan.bound, bounds, state.labels, state.upper,
               state.lower, (sums, wsums, stats), (inertia, changed, scanned))  # fmt: skip
        state.scanned = int(scanned.sum())
    packed = np.zeros(packed_size(k, d))
    if plan.accumulate:
        total_sums = packed[: k * d].reshape(k, d)
        chosen(reduce_chunks)(sums, wsums, total_sums, packed[k * d : k * d + k])
    elif plan.kind == "lloyd":
        packed[k * d : k * d + k] = wsums.sum(axis=0)  # the chunks' weights, in chunk order
    else:
        packed[k * d : k * d + k] = np.bincount(state.labels, weights=w, minlength=k)
    if plan.exact:
        packed[-2] = inertia.sum()
    else:
        wsum = packed[k * d : k * d + k]
        packed[-2] = stats_inertia(total_sums, wsum, stats[:, :, 0].sum(axis=0), centers,
                                   plan.stat_mean)  # fmt: skip
    packed[-1] = changed.sum()
    return state, packed


def stats_inertia(sums: F8, wsums: F8, sq: F8, centers: Floats, mean: F8) -> float:
    """The inertia of the labels the partials describe, from their sufficient statistics:
    per cluster, ``sq = sum w ||x - m||^2``, ``sums = sum w x`` and ``wsums = sum w``, about
    the data mean ``m`` (to keep cancellation small); the history of bounded passes between
    refreshes (about 1e-9 relative of the exact sum on well-conditioned data)."""
    c = centers.astype(np.float64) - mean
    s = sums - wsums[:, None] * mean
    terms = sq - 2.0 * np.einsum("kd,kd->k", c, s) + wsums * np.einsum("kd,kd->k", c, c)
    return max(float(terms.sum()), 0.0)


def assign_sparse(X: _csr.CSRRows, w: F8, state: RowState, plan: Plan) -> tuple[RowState, F8]:
    """:func:`assign_block` for sparse rows: Lloyd's assignment (the source never plans
    another), the sums written straight into the packed vector."""
    k, d = plan.centers.shape
    packed = np.zeros(packed_size(k, d))
    sums = packed[: k * d].reshape(k, d) if plan.accumulate else None
    wsums = packed[k * d : k * d + k]
    inertia, changed = _csr.assign(X, w, plan.centers, state.labels, state.chunks(False), sums,
                                   wsums)  # fmt: skip
    if not plan.accumulate:
        wsums[:] = np.bincount(state.labels, weights=w, minlength=k)
    state.scanned = X.shape[0]
    packed[-2], packed[-1] = inertia, changed
    return state, packed


# --------------------------------------------------------------------------- re-seeding
def farthest_order(dist: F8, rows: NDArray[np.intp], m: int) -> NDArray[np.intp]:
    """Positions of the ``m`` entries of largest ``dist``, farthest first, equal distances
    in decreasing ``rows`` order: the one tie rule of every kind of data. It is what
    scikit-learn's ``argpartition(dist, -m)[:-m-1:-1]`` returns when the farthest rows are
    distinct or all tied (its order among other ties is NumPy's selection algorithm's)."""
    if m < dist.shape[0]:
        threshold = np.partition(dist, dist.shape[0] - m)[dist.shape[0] - m]
        pos = np.flatnonzero(dist >= threshold)
    else:
        pos = np.arange(dist.shape[0])
    return pos[np.lexsort((-rows[pos], -dist[pos]))][:m]


def farthest_block(
    X: Floats, w: F8, state: RowState, centers: Floats, m: int, offset: int, worker: bool
) -> tuple[F8, NDArray[np.intp], F8, F8, NDArray[np.intp]]:
    """The block's ``m`` candidates for re-seeding (see :func:`farthest_order`): squared
    distances to their center (-1 for rows of zero weight, which cannot hold a cluster),
    global row numbers, the rows in float64, their weights and labels."""
    if isinstance(X, _csr.CSRRows):
        dist = _csr.assigned_sq_distances(X, centers, state.labels)
    else:
        dist = np.empty(X.shape[0])
        kernel = assigned_sq_distances_serial if worker else assigned_sq_distances
        chosen(kernel)(X, centers, state.labels, dist)
    dist[w <= 0] = -1.0
    rows = np.arange(X.shape[0], dtype=np.intp)
    top = farthest_order(dist, rows, min(m, X.shape[0]))
    xs = _csr.as_dense(X[top]).astype(np.float64)
    return dist[top], top + offset, xs, w[top], state.labels[top]


def kernel_centers(centers: Floats, dtype: Any) -> Floats:
    """``centers`` as a C-contiguous, writeable array of ``dtype`` (a model's centroids are
    read-only, and a read-only argument would compile a second specialisation of every
    kernel it reaches); copied only when needed."""
    if centers.dtype != dtype or not centers.flags.c_contiguous or not centers.flags.writeable:
        return np.array(centers, dtype=dtype, order="C")
    return centers


def nearest(
    X: Floats,
    w: F8,
    centers: Floats,
    worker: bool = False,
    sizes: tuple[int, int] | None = None,
) -> tuple[NDArray[np.int64], float]:
    """Labels of the nearest center for the rows of ``X`` and their weighted inertia (the
    exact float64 sum): prediction, as the final assignment of a fit computes it. With
    ``sizes`` the constrained assignment under those limits instead."""
    n, d = X.shape
    k = centers.shape[0]
    gemm = sizes is None and not is_small(n, d, k) and _config.use_gemm(d, k)
    gemm = gemm and isinstance(X, np.ndarray)
    mean = X.mean(axis=0, dtype=np.float64) if gemm else np.zeros(d)
    plan = Plan(kernel_centers(centers, X.dtype),
                "lloyd" if sizes is None else "constrained", False, gemm,
                mean.astype(X.dtype), sizes=sizes)  # fmt: skip
    state, packed = assign_block(X, w, RowState(n), plan, worker)
    return state.labels.astype(np.int64, copy=False), float(packed[-2])
