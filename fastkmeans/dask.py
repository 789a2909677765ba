"""The distributed path: exact k-means on a ``dask.array.Array``, never gathering X.

``KMeansParams.fit(dask_array)`` lands here. The data are prepared (cast to float32/float64,
rows normalised for ``metric="cosine"``, one column chunk) and persisted once; every Lloyd
iteration is then one graph: a serial Numba kernel per block returns the block's new labels
(kept on the workers) and one packed float64 vector of partial sums, weight sums, inertia and
labels changed, and the vectors are added in a fixed-order tree. Only that vector (k*d + k + 2
numbers) comes back to the client, which updates the centroids with the same rules as the
in-memory driver (relative ``tol``, strict convergence, empty clusters re-seeded at the
farthest points, a final assignment). Re-seeding costs one extra pass, only in an iteration
that has empty clusters.

What comes back to the client: centroids, per-iteration statistics, the k-means|| candidates
(about ``2k`` rows a round), the sample weights when ``init="random"``, and at the end the
labels (n int64, as the model holds them). ``predict``/``transform`` on a dask array return
lazy dask arrays and ``score`` a lazy 0-d dask array.

Workers run serial, GIL-free kernels (:mod:`fastkmeans.kernels.blocks`): no Numba thread pool
is started in a worker, so any threading layer and any worker start method is safe. Give
each worker one thread per core it should use (``LocalCluster(n_workers=cores,
threads_per_worker=1)`` is the simplest); a worker with several threads runs several blocks
at once.
"""

from __future__ import annotations

import math
from typing import Any

import dask
import dask.array as da
import numpy as np
from dask.delayed import Delayed, delayed
from numpy.typing import ArrayLike, NDArray

from . import _config
from . import _dask_tasks as tasks
from . import _parallel_init as kp
from ._fit import (
    RunResult,
    _progress,
    centers_from_sums,
    normalize_rows,
    runs_for,
    to_model,
)
from ._init import random_rows, run_generators
from ._threads import thread_limit
from ._validation import as_initial_centers, as_sample_weight, check_n_clusters
from .model import KMeansModel
from .params import KMeansParams

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]

#: Fan-in of the tree that adds the per-block vectors.
SPLIT_EVERY: int = 8


# --------------------------------------------------------------------------- the data
class _Data:
    """The prepared, persisted data and what the checks learned about it."""

    def __init__(self, params: Any, X: Any, sample_weight: Any) -> None:
        X = _check_array(X)
        n, d = X.shape
        k = params.n_clusters
        check_n_clusters(n, k)
        self.dtype = np.float32 if X.dtype == np.float32 else np.float64
        if isinstance(params.init, np.ndarray):
            as_initial_centers(params.init, k, d, self.dtype)
        cosine = params.metric == "cosine"
        Xp = X.map_blocks(
            tasks.prepare_block,
            to=self.dtype,
            cosine=cosine,
            dtype=self.dtype,
            meta=np.empty((0, 0), dtype=self.dtype),
        )
        w = _weight_array(sample_weight, n, X.chunks[0])
        self.X, self.w = dask.persist(Xp, w)
        self.n, self.d, self.k = n, d, k
        self.blocks: list[Delayed] = list(self.X.to_delayed().ravel())
        self.wblocks: list[Delayed | None] = (
            [None] * len(self.blocks) if self.w is None else list(self.w.to_delayed().ravel())
        )
        self.offsets = np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(np.intp)
        stats = dask.compute(
            *[delayed(tasks.block_stats)(x, w, cosine) for x, w in zip(self.blocks, self.wblocks)]
        )
        self._check(stats, cosine)
        self.gemm = _config.use_gemm(d, k)
        self.mean_x = self.mean.astype(self.dtype)

    def _check(self, stats: tuple[dict[str, Any], ...], cosine: bool) -> None:
        for kind in ("nan", "inf"):
            for s, off in zip(stats, self.offsets):
                if s[kind] is not None:
                    r, c = s[kind]
                    what = "NaN" if kind == "nan" else "infinity"
                    raise ValueError(
                        f"Input X contains {what} (first at row {off + r}, column {c})"
                    )
        for s, off in zip(stats, self.offsets):
            if s["zero"] is not None:
                raise ValueError(
                    f'metric="cosine" needs rows of non-zero length, but row '
                    f"{off + s['zero']} of X is all zeros"
                )
        for key, problem in (("w_bad", "contains NaN or infinity"), ("w_neg", "is negative")):
            for s, off in zip(stats, self.offsets):
                if s[key] is not None:
                    raise ValueError(f"sample_weight {problem} at index {off + s[key][0]}")
        self.block_weight = np.array([s["w_sum"] for s in stats])
        self.n_positive = sum(s["w_pos"] for s in stats)
        if self.n_positive == 0:
            raise ValueError("sample_weight is zero everywhere; at least one weight must be > 0")
        # Per-feature mean and variance merged block by block (Chan et al.).
        count, mean, m2 = 0, np.zeros(self.d), np.zeros(self.d)
        for s in stats:
            if s["n"] == 0:
                continue
            total = count + s["n"]
            delta = s["mean"] - mean
            mean = mean + delta * (s["n"] / total)
            m2 = m2 + s["m2"] + delta**2 * (count * s["n"] / total)
            count = total
        self.mean = mean
        self.mean_variance = float(np.mean(m2 / count))

    def blockwise(
        self, fn: Any, *per_block: list[Any], nout: int | None = None, **common: Any
    ) -> list[Any]:
        """``fn(x, w, *per_block[i], **common)`` for every block, as delayed values."""
        call = delayed(fn, nout=nout, pure=True)
        rows = (
            zip(self.blocks, self.wblocks, *per_block)
            if per_block
            else zip(self.blocks, self.wblocks)
        )
        return [call(*row, **common) for row in rows]


def _check_array(X: Any) -> da.Array:
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D array of shape (n_samples, n_features) for X, got {X.ndim}-D "
            f"with shape {X.shape}; use .reshape(-1, 1) for a single feature"
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must contain real numbers, got dtype {X.dtype}")
    if any(math.isnan(c) for c in X.chunks[0]):
        raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes() first")
    if X.shape[0] == 0 or X.shape[1] == 0:
        what = "samples" if X.shape[0] == 0 else "features"
        raise ValueError(f"X has 0 {what} (shape {X.shape}); at least 1 is required")
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def _weight_array(sample_weight: Any, n: int, chunks: tuple[int, ...]) -> da.Array | None:
    if sample_weight is None:
        return None
    if isinstance(sample_weight, da.Array):
        if sample_weight.shape != (n,):
            raise ValueError(
                f"sample_weight.shape == {sample_weight.shape}, expected ({n},) to match X"
            )
        return sample_weight.astype(np.float64).rechunk((chunks,))
    return da.from_array(as_sample_weight(sample_weight, n), chunks=(chunks,))


# --------------------------------------------------------------------------- seeding
def _initial_centers(params: KMeansParams, data: _Data, rng: np.random.Generator) -> Floats:
    k = params.n_clusters
    if isinstance(params.init, np.ndarray):
        centers = as_initial_centers(params.init, k, data.d, data.dtype)
        return normalize_rows(centers, "init") if params.metric == "cosine" else centers
    if params.init == "random":
        w = np.ones(data.n) if data.w is None else np.asarray(data.w.compute())
        rows = random_rows(None, w, k, rng)  # type: ignore[arg-type]
        return np.ascontiguousarray(data.X[rows].compute())
    with thread_limit(params.n_threads):
        return _kmeans_parallel(data, k, rng)


def _kmeans_parallel(data: _Data, k: int, rng: np.random.Generator) -> Floats:
    """k-means|| on the blocks; see :mod:`fastkmeans._parallel_init` for the streams."""
    root = kp.root_seed(rng)
    ell = kp.OVERSAMPLING * k
    target = kp.first_target(root, float(data.block_weight.sum()))
    cum = np.cumsum(data.block_weight)
    b = min(int(np.searchsorted(cum, target, side="right")), len(cum) - 1)
    while data.block_weight[b] <= 0:
        b -= 1
    local = target - (cum[b - 1] if b else 0.0)
    first = delayed(tasks.pick_task)(data.blocks[b], data.wblocks[b], local).compute()
    parts = [first]
    n_cands = 1
    state: list[Any] = [[None] * len(data.blocks), [None] * len(data.blocks)]

    def add(new: Floats, offset: int) -> tuple[float, F8]:
        gemm = kp.use_gemm(data.d, new.shape[0])
        res = data.blockwise(
            tasks.nearest_task,
            state[0],
            state[1],
            nout=4,
            cands=delayed(new),
            mean=data.mean_x,
            offset=offset,
            gemm=gemm,
        )
        closest, nearest = [r[0] for r in res], [r[1] for r in res]
        pots, counts = [r[2] for r in res], _tree(tasks.sum_packed, [r[3] for r in res])
        nb = len(closest)
        kept = dask.persist(*closest, *nearest, *pots, counts)
        state[0], state[1] = list(kept[:nb]), list(kept[nb : 2 * nb])
        got = dask.compute(*kept[2 * nb :])
        return float(sum(got[:-1])), np.asarray(got[-1])

    pot, weights = add(first, 0)
    r = 0
    while kp.keep_going(r, n_cands, k, pot):
        r += 1
        samples = [
            delayed(tasks.sample_task, pure=True)(x, w, c, root, r, i, ell, pot)
            for i, (x, w, c) in enumerate(zip(data.blocks, data.wblocks, state[0]))
        ]
        new = np.concatenate(dask.compute(*samples))
        if new.shape[0]:
            parts.append(new)
            pot, weights = add(new, n_cands)
            n_cands += new.shape[0]
    cands = np.ascontiguousarray(np.concatenate(parts))
    return kp.reduce_candidates(cands, weights, k, rng)


def _tree(fn: Any, parts: list[Any]) -> Any:
    """Combine ``parts`` with ``fn`` in a fixed-order tree of fan-in ``SPLIT_EVERY``."""
    while len(parts) > 1:
        parts = [
            delayed(fn, pure=True)(*parts[i : i + SPLIT_EVERY])
            for i in range(0, len(parts), SPLIT_EVERY)
        ]
    return parts[0]


# --------------------------------------------------------------------------- Lloyd
def _lloyd(
    data: _Data, centers: Floats, max_iter: int, tol: float, cosine: bool, on_iter: Any
) -> tuple[RunResult, F8]:
    """Lloyd iterations from ``centers``, as :func:`fastkmeans._fit.lloyd` does in memory."""
    k, d = data.k, data.d
    labels: list[Any] = [None] * len(data.blocks)
    history: list[tuple[float, float, int, int]] = []
    stop, shift, inertia = "max_iter", np.inf, 0.0
    for _ in range(max_iter):
        res = data.blockwise(
            tasks.lloyd_task,
            labels,
            nout=2,
            centers=delayed(centers),
            mean=data.mean_x,
            gemm=data.gemm,
        )
        total = _tree(tasks.sum_packed, [r[1] for r in res])
        *labels, total = dask.persist(*[r[0] for r in res], total)
        packed = np.asarray(total.compute())
        sums = packed[: k * d].reshape(k, d).copy()
        wsums = packed[k * d : k * d + k].copy()
        inertia, changed = float(packed[-2]), int(packed[-1])
        n_reseeded = _relocate_empty(data, labels, centers, sums, wsums)
        new = centers_from_sums(centers, sums, wsums, cosine)
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
    done = stop == "strict" and shift == 0.0  # the centres did not move: labels still exact
    parts = data.blockwise(
        tasks.final_task,
        labels if done else [None] * len(labels),
        centers=delayed(centers),
        mean=data.mean_x,
        gemm=data.gemm,
        k=k,
    )
    out = dask.compute(*parts)
    final_labels = np.concatenate([o[0] for o in out])
    if not done:
        inertia = float(sum(o[1] for o in out))
    weights = np.sum([o[2] for o in out], axis=0)
    run = RunResult(centers, final_labels.astype(np.intp), inertia, len(history), stop, history)
    return run, weights


def _relocate_empty(data: _Data, labels: list[Any], centers: Floats, sums: F8, wsums: F8) -> int:
    """Re-seed empty clusters at the farthest points, as the in-memory engine does."""
    empty = np.flatnonzero(wsums <= 0)
    if empty.shape[0] == 0:
        return 0
    m = min(empty.shape[0], data.n_positive)
    parts = data.blockwise(
        tasks.farthest_task,
        labels,
        [int(o) for o in data.offsets[:-1]],
        centers=delayed(centers),
        m=m,
    )
    out = dask.compute(*parts)
    dist, rows, xs, ws, old = (np.concatenate([o[i] for o in out]) for i in range(5))
    order = np.lexsort((rows, -dist))[:m]
    for j, t in zip(empty[:m], order):
        sums[old[t]] -= ws[t] * xs[t]
        wsums[old[t]] -= ws[t]
        sums[j] = ws[t] * xs[t]
        wsums[j] = ws[t]
    return m


# --------------------------------------------------------------------------- public
def fit_dask(
    params: KMeansParams, X: da.Array, sample_weight: ArrayLike | da.Array | None = None
) -> KMeansModel:
    """Fit k-means on a dask array; what ``params.fit(X)`` does for dask input.

    Parameters
    ----------
    params : KMeansParams
        ``init="k-means++"`` (the default) is run as ``"k-means||"`` on dask input: greedy
        k-means++ needs k passes over the data. ``n_threads`` applies to the client-side
        steps only; workers run one block per worker thread.
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked along rows (several column chunks are merged). Persisted once, never
        gathered.
    sample_weight : array-like or dask.array.Array of shape (n_samples,), optional
        Non-negative weights.

    Returns
    -------
    KMeansModel
        A normal model: numpy centroids, and labels as a numpy array (n int64, computed
        blockwise at the end).

    Examples
    --------
    >>> import dask.array as da, fastkmeans as fk
    >>> X, _ = fk.datasets.make_blobs(1000, 2, 3, seed=0)
    >>> model = fk.KMeansParams(3, seed=0).fit(da.from_array(X, chunks=250))
    >>> model.centroids.shape
    (3, 2)
    """
    data = _Data(params, X, sample_weight)
    n_init = runs_for(params, stacklevel=4)
    tol = params.tol * data.mean_variance
    bar = _progress(params, n_init * params.max_iter, "k-means (dask)")
    best: tuple[RunResult, F8] | None = None
    for rng in run_generators(params.seed, n_init):
        centers = _initial_centers(params, data, rng)
        run = _lloyd(
            data,
            centers,
            params.max_iter,
            tol,
            params.metric == "cosine",
            bar.update if bar is not None else None,
        )
        if best is None or run[0].inertia < best[0].inertia:
            best = run
    if bar is not None:
        bar.close()
    assert best is not None
    return to_model(params, best[0], best[1])


def _check_new_data(model: KMeansModel, X: da.Array) -> tuple[da.Array, Floats, bool]:
    X = _check_array(X)
    if X.shape[1] != model.n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but the model was fitted with "
            f"{model.n_features} features"
        )
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    centers = np.array(model.centroids, dtype=dtype, order="C")
    return X, centers, model.params.metric == "cosine"


def predict_dask(model: KMeansModel, X: da.Array) -> da.Array:
    """Lazy nearest-centroid labels of a dask array (int64, chunked like X's rows).

    Parameters
    ----------
    model : KMeansModel
        The fitted model.
    X : dask.array.Array of shape (n_samples, n_features)

    Returns
    -------
    dask.array.Array of shape (n_samples,), int64
        Nothing is computed until asked; errors in the data surface at compute time.
    """
    X, centers, cosine = _check_new_data(model, X)
    return X.map_blocks(
        tasks.predict_block,
        centers=centers,
        cosine=cosine,
        drop_axis=1,
        dtype=np.int64,
        meta=np.empty(0, dtype=np.int64),
    )


def transform_dask(model: KMeansModel, X: da.Array) -> da.Array:
    """Lazy Euclidean distances of each row of a dask array to each centroid, (n, k) f8."""
    X, centers, cosine = _check_new_data(model, X)
    return X.map_blocks(
        tasks.transform_block,
        centers=centers,
        cosine=cosine,
        chunks=(X.chunks[0], (model.n_clusters,)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )


def assign_dask(
    model: KMeansModel, X: da.Array, sample_weight: ArrayLike | da.Array | None
) -> tuple[da.Array, da.Array]:
    """Lazy labels and lazy 0-d weighted inertia of a dask array (``predict``, ``score``)."""
    labels = predict_dask(model, X)
    X, centers, cosine = _check_new_data(model, X)
    w = _weight_array(sample_weight, X.shape[0], X.chunks[0])
    xs = list(X.to_delayed().ravel())
    ws = [None] * len(xs) if w is None else list(w.to_delayed().ravel())
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])])
    parts = [
        delayed(tasks.inertia_part, pure=True)(x, wb, centers, cosine, int(s))
        for x, wb, s in zip(xs, ws, starts)
    ]
    total = delayed(tasks.inertia_total, pure=True)(*parts)
    return labels, da.from_delayed(total, shape=(), dtype=np.float64)
