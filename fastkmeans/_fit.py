"""The plain-Python driver: validate -> seed -> iterate -> re-seed empties -> stop.

Loops here run over iterations and runs, never over samples: every pass over the data is
a kernel call.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _config
from ._init import plusplus, random_rows, run_generators
from ._threads import thread_limit
from ._validation import (
    as_float_array,
    as_initial_centers,
    as_sample_weight,
    check_features,
    check_n_clusters,
)
from .errors import ConvergenceWarning
from .kernels.distances import all_distances, assigned_sq_distances
from .kernels.hamerly import center_half_gaps, hamerly_step
from .kernels.lloyd import (
    centre_on,
    lloyd_direct,
    lloyd_direct_serial,
    lloyd_gemm,
    reduce_chunks,
)
from .kernels.stats import column_mean_var
from .kernels.yinyang import yinyang_step
from .model import FitHistory, KMeansModel
from .params import KMeansParams

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]


def chunk_bounds(n: int) -> NDArray[np.intp]:
    """Row boundaries of the reduction chunks: a function of ``n`` only, never of threads."""
    n_chunks = max(1, min(_config.MAX_CHUNKS, -(-n // _config.MIN_CHUNK_ROWS)))
    return np.linspace(0, n, n_chunks + 1).astype(np.intp)


def normalize_rows(X: Floats, name: str = "X") -> Floats:
    """Rows scaled to unit Euclidean length (a new array); zero rows are an error."""
    norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
    if (norms == 0).any():
        i = int(np.flatnonzero(norms == 0)[0])
        raise ValueError(
            f'metric="cosine" needs rows of non-zero length, but row {i} of {name} is all zeros'
        )
    return (X / norms[:, None]).astype(X.dtype, copy=False)


def column_stats(X: Floats, bounds: NDArray[np.intp]) -> tuple[F8, F8]:
    """Per-feature mean and population variance of ``X`` in float64, without a temporary
    copy of ``X`` (``np.var`` would allocate one)."""
    mean = np.empty(X.shape[1])
    var = np.empty(X.shape[1])
    column_mean_var(X, bounds, mean, var)
    return mean, var


# --------------------------------------------------------------------------- the engine
def resolve_algorithm(algorithm: str, n: int, d: int, k: int) -> str:
    """The exact algorithm ``"auto"`` stands for on data of this shape.

    Hamerly's bounds pay off once there are enough centres to skip (and runs long enough
    to amortise the scan that sets them), Yinyang's group bounds with many more; see
    ``_config.HAMERLY_MIN_CLUSTERS`` and ``_config.YINYANG_MIN_CLUSTERS``.
    """
    if algorithm != "auto":
        return algorithm
    if n * k * d <= _config.SERIAL_MAX_WORK:
        return "lloyd"  # small problems: the serial Lloyd kernel, no bounds to keep
    if k >= _config.YINYANG_MIN_CLUSTERS:
        return "yinyang"
    if k >= _config.HAMERLY_MIN_CLUSTERS:
        return "hamerly"
    return "lloyd"


def yinyang_groups(n: int, k: int) -> int:
    """Yinyang's number of centre groups: k / 10 (the paper's choice), capped so that the
    n x groups float64 bounds fit in ``_config.YINYANG_MAX_BYTES``; at least one."""
    return max(1, min(k // 10, _config.YINYANG_MAX_BYTES // (8 * max(n, 1))))


def group_centres(centers: F8, t: int, n_iter: int = 5) -> NDArray[np.intp]:
    """Yinyang's grouping: ``t`` groups of centres from a few Lloyd iterations on the
    centres themselves, started from evenly spaced centres (deterministic)."""
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


class Engine:
    """Chooses and calls the assignment kernel for one data set; owns the workspaces."""

    def __init__(
        self,
        X: Floats,
        w: F8,
        k: int,
        accumulate: bool = True,
        algorithm: str = "lloyd",
        mean: F8 | None = None,
    ) -> None:
        """``mean``: the centre of the GEMM-style distances when it is known already (the
        mean of all the data when ``X`` is one block of it); computed from ``X`` if None."""
        n, d = X.shape
        self.X, self.w, self.k = X, w, k
        self.bounds = chunk_bounds(n)
        n_chunks = self.bounds.shape[0] - 1
        # Small problems run on the calling thread (no thread start-up), larger ones in
        # parallel with the GEMM-style kernel where it is faster.
        self.serial = n * k * d <= _config.SERIAL_MAX_WORK
        self.gemm = not self.serial and _config.use_gemm(d, k)
        self.algorithm = resolve_algorithm(algorithm, n, d, k) if accumulate else "lloyd"
        if self.algorithm in ("hamerly", "yinyang"):
            self.upper = np.empty(n)
            self.half_gaps = np.empty(k)
            self.scanned = np.zeros(n_chunks, dtype=np.intp)
            self.slack = 1e-4 if X.dtype == np.float32 else 1e-10
        if self.algorithm == "hamerly":
            self.lower = np.empty(n)
        elif self.algorithm == "yinyang":
            self.groups = np.zeros(k, dtype=np.intp)  # set with the bounds
            self.glower = np.empty((n, yinyang_groups(n, k)))
        self.bounded_by: F8 | None = None  # the centres the bounds refer to
        self.last_changed = n  # labels changed by the last step
        self._stats: tuple[F8, F8] | None = None
        if self.gemm:
            self.mean = (self.stats()[0] if mean is None else mean).astype(X.dtype)
        else:
            self.mean = None
        # Prediction never accumulates: one-element stand-ins keep the kernel signature.
        ks, ds = (k, d) if accumulate else (1, 1)
        self.sums = np.zeros((n_chunks, ks, ds))
        self.wsums = np.zeros((n_chunks, ks))
        self.inertia = np.zeros(n_chunks)
        self.changed = np.zeros(n_chunks, dtype=np.intp)
        self.total_sums = np.zeros((ks, ds))
        self.total_wsums = np.zeros(ks)

    def stats(self) -> tuple[F8, F8]:
        """Per-feature mean and variance of the data, computed once."""
        if self._stats is None:
            self._stats = column_stats(self.X, self.bounds)
        return self._stats

    def step(
        self, centers: Floats, labels: NDArray[np.intp], accumulate: bool
    ) -> tuple[float, int]:
        """Assign every row to its nearest centre (INOUT labels); with ``accumulate`` also
        leave per-cluster sums in ``total_sums``/``total_wsums``. Returns (inertia, changed)."""
        if self.algorithm in ("hamerly", "yinyang") and accumulate and self._bounds_pay_off():
            self._bounded(centers, labels)
            reduce_chunks(self.sums, self.wsums, self.total_sums, self.total_wsums)
            self.last_changed = int(self.changed.sum())
            return float(self.inertia.sum()), self.last_changed
        args = (self.bounds, labels, self.sums, self.wsums, self.inertia, self.changed, accumulate)
        if self.gemm:
            lloyd_gemm(self.X, self.w, centers, self.mean, *args)
        elif self.serial:
            lloyd_direct_serial(self.X, self.w, centers, *args)
        else:
            lloyd_direct(self.X, self.w, centers, *args)
        if accumulate:
            reduce_chunks(self.sums, self.wsums, self.total_sums, self.total_wsums)
        self.last_changed = int(self.changed.sum())
        return float(self.inertia.sum()), self.last_changed

    def reset(self) -> None:
        """Start a new run: no bounds yet, every label about to change."""
        self.bounded_by = None
        self.last_changed = self.X.shape[0]

    def _bounds_pay_off(self) -> bool:
        """Hamerly and Yinyang start from Lloyd: their bounds are set (one full scan)
        once few labels still change, and kept from then on. The result is Lloyd's either
        way."""
        if self.bounded_by is not None:
            return True
        return self.last_changed <= _config.HAMERLY_SWITCH * self.X.shape[0]

    def _bounded(self, centers: Floats, labels: NDArray[np.intp]) -> None:
        """One Hamerly or Yinyang assignment + accumulation; the bounds follow the
        centres' moves."""
        c64 = centers.astype(np.float64)
        first = self.bounded_by is None
        if first:
            move = np.zeros(self.k)
        else:
            move = np.sqrt(((c64 - self.bounded_by) ** 2).sum(axis=1))
        center_half_gaps(centers, self.half_gaps)
        d = self.X.shape[1]
        if self.gemm:
            centred = np.empty_like(centers)
            half_norms = np.empty(self.k, dtype=centers.dtype)
            centre_on(centers, self.mean, centred, half_norms)
            mean = self.mean
            radius = float(np.sqrt(2.0 * half_norms.astype(np.float64).max()))
        else:  # direct scans: stand-ins of the same types
            centred, half_norms = centers, np.zeros(self.k, dtype=centers.dtype)
            mean, radius = np.zeros(d, dtype=self.X.dtype), 0.0
        gemm_err = (d + 2) * float(np.finfo(self.X.dtype).eps)
        scan = (centred, half_norms, mean, radius, gemm_err, self.gemm)
        out = (self.sums, self.wsums, self.inertia, self.changed, self.scanned)
        if self.algorithm == "yinyang":
            if first:
                self.groups = group_centres(c64, self.glower.shape[1])
            group_move = np.zeros(self.glower.shape[1])
            np.maximum.at(group_move, self.groups, move)
            yinyang_step(
                self.X,
                self.w,
                centers,
                scan,
                self.groups,
                self.half_gaps,
                move,
                group_move,
                first,
                self.slack,
                self.bounds,
                labels,
                self.upper,
                self.glower,
                *out,
            )
        else:
            order = np.argsort(-move, kind="stable")
            top = int(order[0])
            second = float(move[order[1]]) if self.k > 1 else 0.0
            hamerly_step(
                self.X,
                self.w,
                centers,
                scan,
                self.half_gaps,
                move,
                float(move[top]),
                top,
                second,
                first,
                self.slack,
                self.bounds,
                labels,
                self.upper,
                self.lower,
                *out,
            )
        self.bounded_by = c64

    def relocate_empty(self, centers: Floats, labels: NDArray[np.intp]) -> int:
        """Re-seed clusters of zero weight at the points farthest from their centre, as
        scikit-learn does: the point leaves its cluster's sums and becomes the new centre.
        Modifies ``total_sums``/``total_wsums``; returns how many clusters were re-seeded."""
        empty = np.flatnonzero(self.total_wsums <= 0)
        if empty.shape[0] == 0:
            return 0
        dist = np.empty(self.X.shape[0])
        assigned_sq_distances(self.X, centers, labels, dist)
        dist[self.w <= 0] = -1.0  # a zero-weight point cannot hold a cluster
        m = min(empty.shape[0], int((self.w > 0).sum()))
        # scikit-learn's selection, so that ties between equally far points match it too.
        far = np.argpartition(dist, -m)[: -m - 1 : -1]
        for j, i in zip(empty[:m], far):
            wi, old = self.w[i], labels[i]
            xi = self.X[i].astype(np.float64)
            self.total_sums[old] -= wi * xi
            self.total_wsums[old] -= wi
            self.total_sums[j] = wi * xi
            self.total_wsums[j] = wi
        return m

    def new_centers(self, old: Floats, cosine: bool) -> Floats:
        """Weighted means of the accumulated sums (see :func:`centers_from_sums`)."""
        return centers_from_sums(old, self.total_sums, self.total_wsums, cosine)


def centers_from_sums(old: Floats, sums: F8, wsums: F8, cosine: bool) -> Floats:
    """New centres as weighted means ``sums / wsums`` in the dtype of ``old``; clusters
    still empty keep their centre; with ``cosine`` they are scaled to unit length.
    Shared by the in-memory, out-of-core and Dask drivers."""
    new = np.array(old, dtype=np.float64)
    full = wsums > 0
    new[full] = sums[full] / wsums[full, None]
    if cosine:
        norms = np.linalg.norm(new, axis=1)
        ok = norms > 0
        new[ok] /= norms[ok, None]
        new[~ok] = old[~ok]
    return new.astype(old.dtype)


def runs_for(params: Any, stacklevel: int) -> int:
    """``params.n_init``, or 1 with scikit-learn's warning when the centres are given."""
    if isinstance(params.init, np.ndarray) and params.n_init != 1:
        warnings.warn(
            f"Explicit initial center position passed: performing only one init instead of "
            f"n_init={params.n_init}.",
            RuntimeWarning,
            stacklevel=stacklevel + 1,
        )
        return 1
    return int(params.n_init)


@dataclass
class RunResult:
    centers: Floats
    labels: NDArray[np.intp]
    inertia: float
    n_iter: int
    stop_reason: str
    history: list[tuple[float, float, int, int]]


def lloyd(
    engine: Engine,
    centers: Floats,
    max_iter: int,
    tol: float,
    cosine: bool,
    on_iter: Callable[[], None] | None = None,
) -> RunResult:
    """Lloyd iterations from ``centers`` with scikit-learn's stopping rules."""
    n = engine.X.shape[0]
    labels = np.full(n, -1, dtype=np.intp)
    engine.reset()
    history: list[tuple[float, float, int, int]] = []
    stop = "max_iter"
    shift = np.inf
    for _ in range(max_iter):
        inertia, changed = engine.step(centers, labels, accumulate=True)
        n_reseeded = engine.relocate_empty(centers, labels)
        new = engine.new_centers(centers, cosine)
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
    if stop == "strict" and shift == 0.0:
        inertia = float(engine.inertia.sum())  # the centres did not move: still exact
    else:
        inertia, _ = engine.step(centers, labels, accumulate=False)
    return RunResult(centers, labels, inertia, len(history), stop, history)


def initial_centers(
    params: KMeansParams, X: Floats, w: F8, rng: np.random.Generator, engine: Engine
) -> Floats:
    """Seed one run according to ``params.init``."""
    k = params.n_clusters
    if isinstance(params.init, np.ndarray):
        centers = as_initial_centers(params.init, k, X.shape[1], X.dtype)
        return normalize_rows(centers, "init") if params.metric == "cosine" else centers
    if params.init == "random":
        rows = random_rows(X, w, k, rng)
    elif params.init == "k-means||":
        from ._parallel_init import kmeans_parallel

        return kmeans_parallel(X, w, k, rng, engine.bounds)
    else:
        rows = plusplus(X, w, k, rng, engine.bounds)
    return X[rows].copy()


def _progress(params: Any, total: int, desc: str) -> Any:
    if not params.progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)


def prepare(params: Any, X: ArrayLike, sample_weight: ArrayLike | None) -> tuple[Floats, F8]:
    """Validate the data and weights for ``params`` (cosine rows normalised)."""
    Xa = as_float_array(X)
    check_n_clusters(Xa.shape[0], params.n_clusters)
    w = as_sample_weight(sample_weight, Xa.shape[0])
    if isinstance(params.init, np.ndarray):
        as_initial_centers(params.init, params.n_clusters, Xa.shape[1], Xa.dtype)
    if params.metric == "cosine":
        Xa = normalize_rows(Xa)
    return Xa, w


def fit(params: KMeansParams, X: ArrayLike, sample_weight: ArrayLike | None = None) -> KMeansModel:
    """Fit k-means as described by ``params``; see :meth:`KMeansParams.fit`."""
    if _is_dask(X):
        from .dask import fit_dask

        return fit_dask(params, X, sample_weight)
    from . import _stream

    if _stream.should_stream(X):
        return _stream.fit_stream(params, X, sample_weight)
    Xa, w = prepare(params, X, sample_weight)
    n_init = runs_for(params, stacklevel=3)
    engine = Engine(Xa, w, params.n_clusters, algorithm=params.algorithm)
    tol = params.tol * float(engine.stats()[1].mean()) if params.tol else 0.0
    bar = _progress(params, n_init * params.max_iter, "k-means")
    best: RunResult | None = None
    # k-means|| calls BLAS inside parallel loops too, whatever the Lloyd kernel.
    blas_inside = engine.gemm or (isinstance(params.init, str) and params.init == "k-means||")
    try:
        with thread_limit(params.n_threads, single_thread_blas=blas_inside):
            for rng in run_generators(params.seed, n_init):
                centers = initial_centers(params, Xa, w, rng, engine)
                run = lloyd(
                    engine,
                    centers,
                    params.max_iter,
                    tol,
                    params.metric == "cosine",
                    bar.update if bar is not None else None,
                )
                if best is None or run.inertia < best.inertia:
                    best = run
            assert best is not None
            weights = cluster_weights(engine, best)
    finally:
        if bar is not None:
            bar.close()
    return to_model(params, best, weights)


def cluster_weights(engine: Engine, run: RunResult) -> F8:
    """Total sample weight of each cluster of ``run``'s labels."""
    return np.bincount(run.labels, weights=engine.w, minlength=engine.k)


def to_model(params: Any, run: RunResult, weights: F8) -> KMeansModel:
    """Wrap a finished run as a model, warning when clusters came out identical."""
    k = params.n_clusters
    distinct = int(np.count_nonzero(np.bincount(run.labels, minlength=k)))
    if distinct < k:
        warnings.warn(
            f"Number of distinct clusters ({distinct}) found smaller than n_clusters ({k}). "
            f"Possibly due to duplicate points in X.",
            ConvergenceWarning,
            stacklevel=4,
        )
    return KMeansModel(
        centroids=run.centers,
        labels=run.labels.astype(np.int64, copy=False),
        inertia=run.inertia,
        n_iter=run.n_iter,
        converged=run.stop_reason != "max_iter",
        stop_reason=run.stop_reason,
        history=FitHistory.from_records(run.history),
        params=params,
        cluster_weights=weights,
    )


# --------------------------------------------------------------------------- prediction
def _predict_data(model: KMeansModel, X: ArrayLike) -> Floats:
    Xa = as_float_array(X)
    check_features(Xa, model.n_features)
    if model.params.metric == "cosine":
        Xa = normalize_rows(Xa)
    return Xa


def assign(
    model: KMeansModel, X: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[NDArray[np.int64], float]:
    """Nearest-centroid labels of ``X`` and their weighted inertia."""
    if _is_dask(X):  # lazy: dask labels and a 0-d dask inertia
        from .dask import assign_dask

        return assign_dask(model, X, sample_weight)  # type: ignore[return-value]
    Xa = _predict_data(model, X)
    w = as_sample_weight(sample_weight, Xa.shape[0])
    centers = np.ascontiguousarray(model.centroids, dtype=Xa.dtype)
    engine = Engine(Xa, w, model.n_clusters, accumulate=False)
    labels = np.full(Xa.shape[0], -1, dtype=np.intp)
    with thread_limit(model.params.n_threads, single_thread_blas=engine.gemm):
        inertia, _ = engine.step(centers, labels, accumulate=False)
    return labels.astype(np.int64, copy=False), inertia


def distances(model: KMeansModel, X: ArrayLike) -> F8:
    """Exact Euclidean distances of the rows of ``X`` to every centroid."""
    if _is_dask(X):  # lazy
        from .dask import transform_dask

        return transform_dask(model, X)  # type: ignore[return-value]
    Xa = _predict_data(model, X)
    centers = np.ascontiguousarray(model.centroids, dtype=Xa.dtype)
    out = np.empty((Xa.shape[0], model.n_clusters))
    with thread_limit(model.params.n_threads):
        all_distances(Xa, centers, out)
    return out


def _is_dask(X: Any) -> bool:
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "chunks")
