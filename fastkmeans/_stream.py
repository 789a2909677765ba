"""Out of core: fit data larger than memory by reading it in row blocks.

An ``np.memmap``, or any other 2-D array-like with ``shape``, ``dtype`` and row slicing
(h5py and zarr datasets, for example), whose size is above the memory budget is never
loaded whole. Each pass over the data reads one block of rows at a time into a buffer of at
most the budget, runs the usual kernels on it and releases it:

* full-batch Lloyd (:func:`fit_stream`): per-block partial sums, merged in fixed block
  order, so the result equals the in-memory fit up to float rounding (the same seeds,
  the same k-means++ picks, the same iterations and stopping rules);
* mini-batch (:class:`Source` is the row source of :mod:`fastkmeans._minibatch`): each
  batch gathers its random rows, so the result is identical to the in-memory fit.

Per-row state stays in memory: labels (8 bytes per row), sample weights when given
(8 bytes per row) and, while seeding with k-means++, the distance to the closest centre
(8 bytes per row). Pages of a memory map that a block touched are handed back to the
operating system after the block (``madvise(MADV_DONTNEED)``), so the resident size stays
near the budget.

The budget is ``FASTKMEANS_MEMORY_BUDGET`` (bytes, or with a K/M/G suffix; default 256M),
read at each fit.
"""

from __future__ import annotations

import math
import mmap
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _config
from ._fit import (
    Engine,
    RunResult,
    _progress,
    centers_from_sums,
    chunk_bounds,
    runs_for,
    to_model,
)
from ._init import random_rows, run_generators
from ._threads import thread_limit
from ._validation import as_initial_centers, as_sample_weight, check_n_clusters
from .kernels.distances import assigned_sq_distances
from .kernels.stream import candidate_potentials, closest_update
from .model import KMeansModel
from .params import KMeansParams

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]

DEFAULT_BUDGET = 256 * 2**20
_SUFFIX = {"K": 2**10, "M": 2**20, "G": 2**30}


def memory_budget() -> int:
    """Bytes a block of rows may take: ``FASTKMEANS_MEMORY_BUDGET`` (e.g. ``"64M"``)."""
    raw = os.environ.get("FASTKMEANS_MEMORY_BUDGET", "").strip().upper().removesuffix("B")
    if not raw:
        return DEFAULT_BUDGET
    scale = _SUFFIX.get(raw[-1], 1)
    digits = raw[:-1] if raw[-1] in _SUFFIX else raw
    try:
        value = int(float(digits) * scale)
    except ValueError:
        raise ValueError(
            f"FASTKMEANS_MEMORY_BUDGET must be a number of bytes such as 268435456 or "
            f"'256M', got {os.environ['FASTKMEANS_MEMORY_BUDGET']!r}"
        ) from None
    if value <= 0:
        raise ValueError(f"FASTKMEANS_MEMORY_BUDGET must be > 0, got {value}")
    return value


def should_stream(X: Any) -> bool:
    """True for a 2-D memmap or sliceable numeric array-like larger than the budget."""
    if isinstance(X, np.ndarray) and not isinstance(X, np.memmap):
        return False
    shape, dtype = getattr(X, "shape", None), getattr(X, "dtype", None)
    if shape is None or dtype is None or not hasattr(X, "__getitem__") or len(shape) != 2:
        return False
    if hasattr(X, "toarray") or isinstance(X, (list, tuple)):  # sparse matrices
        return False
    try:
        dt = np.dtype(dtype)
    except TypeError:
        return False
    if dt.kind not in "biuf":
        return False
    return int(shape[0]) * int(shape[1]) * dt.itemsize > memory_budget()


def _mapping(X: Any) -> mmap.mmap | None:
    """The memory map under a memmap (or a view of one) whose pages may be released;
    None for copy-on-write maps, whose private changes would be lost."""
    a = X
    while isinstance(a, np.ndarray):
        mm = getattr(a, "_mmap", None)
        if mm is not None:
            return None if getattr(a, "mode", "r") == "c" else mm
        a = a.base
    return None


class Source:
    """Rows of a large 2-D array-like, read in blocks of at most the memory budget.

    Blocks are float32 (for float32 data) or float64, C-contiguous, and for
    ``metric="cosine"`` scaled to unit length, exactly as the in-memory path prepares X.
    """

    def __init__(self, X: Any, metric: str = "euclidean") -> None:
        self.X = X
        self.n, self.d = (int(s) for s in X.shape)
        src = np.dtype(X.dtype)
        self.dtype: type = np.float32 if src == np.float32 else np.float64
        if self.n == 0:
            raise ValueError(f"X has 0 samples (shape {X.shape}); at least 1 is required")
        if self.d == 0:
            raise ValueError(f"X has 0 features (shape {X.shape}); at least 1 is required")
        self.cosine = metric == "cosine"
        row_bytes = self.d * (src.itemsize + np.dtype(self.dtype).itemsize)
        rows = memory_budget() // row_bytes
        self.block_rows = max(_config.TILE_ROWS, rows // _config.TILE_ROWS * _config.TILE_ROWS)
        self._mmap = _mapping(X)
        self._stats: tuple[F8, F8] | None = None

    def blocks(self) -> Iterator[tuple[int, int]]:
        """Row ranges ``[start, stop)`` of the blocks, in order (a function of ``n``,
        ``d`` and the budget only)."""
        for s in range(0, self.n, self.block_rows):
            yield s, min(self.n, s + self.block_rows)

    def _convert(self, raw: Any, first_row: int | None) -> Floats:
        block = np.array(raw, dtype=self.dtype, order="C", copy=True)
        self.release()
        if first_row is not None and not np.isfinite(block).all():
            bad = ~np.isfinite(block)
            i, j = np.argwhere(bad)[0]
            what = "NaN" if np.isnan(block[i, j]) else "infinity"
            raise ValueError(f"Input X contains {what} (first at row {first_row + i}, column {j})")
        if self.cosine:
            from ._fit import normalize_rows

            block = normalize_rows(block)
        return block

    def read(self, start: int, stop: int, check: bool = False) -> Floats:
        """Rows ``start..stop`` as a prepared in-memory block."""
        return self._convert(self.X[start:stop], start if check else None)

    def take(self, idx: NDArray[np.intp]) -> Floats:
        """The rows ``idx`` (any order, repeats allowed), read in increasing order."""
        uniq, inverse = np.unique(idx, return_inverse=True)
        return self._convert(self.X[uniq], None)[inverse]

    def release(self) -> None:
        """Hand the memory map's resident pages back to the operating system."""
        if self._mmap is not None and hasattr(mmap, "MADV_DONTNEED"):
            try:
                self._mmap.madvise(mmap.MADV_DONTNEED)
            except (OSError, ValueError):  # pragma: no cover - platform dependent
                self._mmap = None

    def validate(self) -> tuple[F8, F8]:
        """One pass: check every value is finite; per-feature mean and variance (float64,
        blocks combined with Chan's update)."""
        if self._stats is None:
            count = 0
            mean = np.zeros(self.d)
            m2 = np.zeros(self.d)
            for s, e in self.blocks():
                block = self.read(s, e, check=True)
                nb = e - s
                bmean = block.mean(axis=0, dtype=np.float64)
                bm2 = ((block - bmean) ** 2).sum(axis=0, dtype=np.float64)
                delta = bmean - mean
                total = count + nb
                mean = mean + delta * (nb / total)
                m2 = m2 + bm2 + delta**2 * (count * nb / total)
                count = total
            self._stats = (mean, m2 / count)
        return self._stats

    def mean_variance(self) -> float:
        """Mean over features of the per-feature variance (scikit-learn's tol scale)."""
        return float(np.mean(self.validate()[1]))

    def weights(self, w: F8 | None, s: int, e: int) -> F8:
        """Sample weights of rows ``s..e`` (ones when ``w`` is None)."""
        return np.ones(e - s) if w is None else w[s:e]

    def engine(self, s: int, e: int, w: F8 | None, k: int, accumulate: bool) -> Engine:
        """The in-memory engine on block ``s..e``, centring GEMM distances on the mean of
        all the data (as the in-memory fit does) rather than the block's."""
        return Engine(
            self.read(s, e), self.weights(w, s, e), k, accumulate, mean=self.validate()[0]
        )

    def assign(
        self, centers: Floats, w: F8 | None, n_threads: int | None
    ) -> tuple[NDArray[np.int64], float]:
        """Labels of every row and the weighted inertia, one pass. Call it inside
        ``thread_limit(n_threads, single_thread_blas=True)``."""
        labels = np.full(self.n, -1, dtype=np.intp)
        total = 0.0
        centers = np.ascontiguousarray(centers, dtype=self.dtype)
        for s, e in self.blocks():
            engine = self.engine(s, e, w, centers.shape[0], False)
            total += engine.step(centers, labels[s:e], accumulate=False)[0]
        return labels.astype(np.int64, copy=False), total


# --------------------------------------------------------------------------- seeding
def plusplus_stream(
    src: Source, w: F8 | None, k: int, rng: np.random.Generator
) -> NDArray[np.intp]:
    """Greedy k-means++ (2 + floor(ln k) local trials) over blocks, two passes per centre:
    the same random draws, distances and walk as :func:`fastkmeans._init.plusplus`;
    potentials are summed per block, so picks agree with it up to summation order."""
    n_trials = 2 + int(math.log(k))
    first_u = float(rng.random())
    trial_u = rng.random((max(k - 1, 0), n_trials))
    closest = np.ones(src.n)
    blocks = list(src.blocks())
    pots = np.array([float(src.weights(w, s, e).sum()) for s, e in blocks])
    out = np.empty(k, dtype=np.intp)
    out[0] = _pick(src, w, closest, blocks, pots, first_u * pots.sum())

    def update(chosen: int, first: bool) -> None:
        row = np.ascontiguousarray(src.take(np.array([chosen]))[0], dtype=src.dtype)
        for b, (s, e) in enumerate(blocks):
            bounds = chunk_bounds(e - s)
            chunk_pot = np.empty(bounds.shape[0] - 1)
            closest_update(
                src.read(s, e), src.weights(w, s, e), row, bounds, first, closest[s:e], chunk_pot
            )
            pots[b] = chunk_pot.sum()

    update(int(out[0]), True)
    for step in range(1, k):
        total = pots.sum()
        cands = np.array(
            [_pick(src, w, closest, blocks, pots, u * total) for u in trial_u[step - 1]]
        )
        if cands[0] < 0:  # every remaining point coincides with a centre
            out[step] = (out[step - 1] + 1) % src.n
            continue
        rows = np.ascontiguousarray(src.take(cands), dtype=src.dtype)
        cand_pot = np.zeros(n_trials)
        for s, e in blocks:
            bounds = chunk_bounds(e - s)
            chunk_pot = np.empty((bounds.shape[0] - 1, n_trials))
            candidate_potentials(
                src.read(s, e), src.weights(w, s, e), closest[s:e], rows, bounds, chunk_pot
            )
            cand_pot += chunk_pot.sum(axis=0)
        out[step] = cands[int(np.argmin(cand_pot))]
        update(int(out[step]), False)
    return out


def _pick(
    src: Source,
    w: F8 | None,
    closest: F8,
    blocks: list[tuple[int, int]],
    pots: F8,
    target: float,
) -> int:
    """First row where the running sum of ``w * closest`` exceeds ``target`` (block
    totals first, then rows); the last row of positive potential when rounding
    overshoots; -1 when every potential is zero."""
    acc = 0.0
    for b, (s, e) in enumerate(blocks):
        if pots[b] > 0.0 and acc + pots[b] > target:
            p = src.weights(w, s, e) * closest[s:e]
            i = int(np.searchsorted(acc + np.cumsum(p), target, side="right"))
            if i < e - s:
                return s + i
            break
        acc += pots[b]
    for b in range(len(blocks) - 1, -1, -1):
        s, e = blocks[b]
        if pots[b] > 0.0:
            positive = np.flatnonzero(src.weights(w, s, e) * closest[s:e] > 0)
            if positive.shape[0]:
                return s + int(positive[-1])
    return -1


def initial_centers_stream(
    params: KMeansParams, src: Source, w: F8 | None, rng: np.random.Generator
) -> Floats:
    """Seed one run of a streamed fit according to ``params.init``."""
    k = params.n_clusters
    if isinstance(params.init, np.ndarray):
        centers = as_initial_centers(params.init, k, src.d, src.dtype)
        if src.cosine:
            from ._fit import normalize_rows

            centers = normalize_rows(centers, "init")
        return centers
    if params.init == "random":
        rows = random_rows(np.empty((src.n, 0)), np.ones(src.n) if w is None else w, k, rng)
    else:
        rows = plusplus_stream(src, w, k, rng)
    return src.take(rows)


# --------------------------------------------------------------------------- Lloyd
class _Totals:
    """Per-cluster sums of one pass, merged block by block in block order."""

    def __init__(self, k: int, d: int) -> None:
        self.sums = np.zeros((k, d))
        self.wsums = np.zeros(k)


def _relocate_empty(
    src: Source, w: F8 | None, centers: Floats, labels: NDArray[np.intp], tot: _Totals
) -> int:
    """Re-seed clusters of zero weight at the farthest points (as the in-memory
    ``Engine.relocate_empty``), finding them with one more pass."""
    empty = np.flatnonzero(tot.wsums <= 0)
    if empty.shape[0] == 0:
        return 0
    m_max = empty.shape[0]
    best_d = np.empty(0)
    best_i = np.empty(0, dtype=np.intp)
    for s, e in src.blocks():
        dist = np.empty(e - s)
        assigned_sq_distances(src.read(s, e), centers, labels[s:e], dist)
        dist[src.weights(w, s, e) <= 0] = -1.0
        cand_d = np.concatenate([best_d, dist])
        cand_i = np.concatenate([best_i, np.arange(s, e)])
        order = np.lexsort((cand_i, -cand_d))[:m_max]
        best_d, best_i = cand_d[order], cand_i[order]
    far = best_i[best_d >= 0]
    rows = src.take(far).astype(np.float64) if far.shape[0] else np.empty((0, src.d))
    for j, i, xi in zip(empty, far, rows):
        wi = 1.0 if w is None else w[i]
        old = labels[i]
        tot.sums[old] -= wi * xi
        tot.wsums[old] -= wi
        tot.sums[j] = wi * xi
        tot.wsums[j] = wi
    return int(far.shape[0])


def _pass(
    src: Source,
    w: F8 | None,
    centers: Floats,
    labels: NDArray[np.intp],
    accumulate: bool,
    tot: _Totals,
) -> tuple[float, int]:
    """One Lloyd assignment pass over the blocks; returns (inertia, labels changed).
    Runs inside the caller's ``thread_limit``."""
    k = centers.shape[0]
    inertia, changed = 0.0, 0
    tot.sums[:] = 0.0
    tot.wsums[:] = 0.0
    for s, e in src.blocks():
        engine = src.engine(s, e, w, k, accumulate)
        i_b, c_b = engine.step(centers, labels[s:e], accumulate)
        inertia += i_b
        changed += c_b
        if accumulate:
            tot.sums += engine.total_sums
            tot.wsums += engine.total_wsums
    return inertia, changed


def lloyd_stream(
    src: Source,
    w: F8 | None,
    centers: Floats,
    params: KMeansParams,
    tol: float,
    bar: Any,
) -> RunResult:
    """Lloyd iterations over blocks with the in-memory driver's stopping rules."""
    k = params.n_clusters
    labels = np.full(src.n, -1, dtype=np.intp)
    tot = _Totals(k, src.d)
    history: list[tuple[float, float, int, int]] = []
    stop = "max_iter"
    shift = np.inf
    inertia = np.inf
    for _ in range(params.max_iter):
        inertia, changed = _pass(src, w, centers, labels, True, tot)
        n_reseeded = _relocate_empty(src, w, centers, labels, tot)
        new = centers_from_sums(centers, tot.sums, tot.wsums, src.cosine)
        shift = float(((new.astype(np.float64) - centers) ** 2).sum())
        history.append((inertia, shift, changed, n_reseeded))
        centers = new
        if bar is not None:
            bar.update()
        if changed == 0:
            stop = "strict"
            break
        if shift <= tol:
            stop = "tol"
            break
    if not (stop == "strict" and shift == 0.0):
        inertia, _ = _pass(src, w, centers, labels, False, tot)
    return RunResult(centers, labels, inertia, len(history), stop, history)


def fit_stream(params: KMeansParams, X: Any, sample_weight: ArrayLike | None = None) -> KMeansModel:
    """Full-batch k-means over data read in blocks; see :meth:`KMeansParams.fit`."""
    if isinstance(params.init, str) and params.init == "k-means||":  # before reading
        raise ValueError(
            'init="k-means||" is not available for data read in blocks (out of core); '
            'use init="k-means++" or init="random"'
        )
    src = Source(X, params.metric)
    check_n_clusters(src.n, params.n_clusters)
    w = None if sample_weight is None else as_sample_weight(sample_weight, src.n)
    if isinstance(params.init, np.ndarray):
        as_initial_centers(params.init, params.n_clusters, src.d, src.dtype)
    src.validate()
    n_init = runs_for(params, stacklevel=4)
    tol = params.tol * src.mean_variance()
    bar = _progress(params, n_init * params.max_iter, "k-means (out of core)")
    best: RunResult | None = None
    with thread_limit(params.n_threads, single_thread_blas=True):
        for rng in run_generators(params.seed, n_init):
            centers = initial_centers_stream(params, src, w, rng)
            run = lloyd_stream(src, w, centers, params, tol, bar)
            if best is None or run.inertia < best.inertia:
                best = run
    if bar is not None:
        bar.close()
    assert best is not None
    weights = np.bincount(best.labels, weights=w, minlength=params.n_clusters).astype(np.float64)
    return to_model(params, best, weights)
