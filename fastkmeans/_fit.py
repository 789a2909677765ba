"""The driver: open a source -> n_init runs (seed, loop) -> the best run -> a model.

One path for every kind of data and both loops: :func:`fit` (full batch) and
:func:`fit_minibatch`; ``algorithm="optimal"`` takes the exact one-feature solver of
:mod:`._optimal1d` instead of the runs. Loops here run over runs, never over samples.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _minibatch
from ._assign import Planner, is_small
from ._cold import first_run
from ._compile import guard_cache_writes, on_bar
from ._constrained import size_limits
from ._lloyd import RunResult, lloyd
from ._optimal1d import optimal_run
from ._seeding import initial_centers, resolve_init, run_generators
from ._sources import BlockSource, open_source
from ._threads import thread_limit
from ._validation import as_initial_centers
from .errors import ConvergenceWarning, warn
from .model import FitHistory, KMeansModel

F8 = NDArray[np.float64]


def open_checked(params: Any, X: Any, sample_weight: ArrayLike | None) -> BlockSource:
    """The source for ``X``, with the checks that need both the data and the params."""
    guard_cache_writes()  # before any kernel of any path compiles
    source = open_source(X, sample_weight, params.metric == "cosine", params.n_clusters)
    if isinstance(params.init, np.ndarray):
        as_initial_centers(params.init, params.n_clusters, source.d, source.dtype)
    if source.worker and params.n_threads is not None:
        warn(
            f"n_threads={params.n_threads} applies to the client's steps only on "
            f"{source.kind}: each Dask worker runs one block per worker thread",
            UserWarning,
        )
    return source


def runs_for(params: Any) -> int:
    """``params.n_init``, or 1 with scikit-learn's warning when the centers are given."""
    if isinstance(params.init, np.ndarray) and params.n_init != 1:
        warn(
            f"Explicit initial center position passed: performing only one init instead of "
            f"n_init={params.n_init}.",
            RuntimeWarning,
        )
        return 1
    return int(params.n_init)


@contextlib.contextmanager
def progress(params: Any, total: int, desc: str) -> Iterator[Any]:
    """A tqdm bar when ``params.progress`` (None otherwise), closed whatever happens."""
    if not params.progress:
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, leave=False)
    try:
        with on_bar(bar, desc):  # "compiling kernels (first run only)" while they do
            yield bar
    finally:
        bar.close()


def small_fit(n: int, d: int, k: int, init: Any) -> bool:
    """Whether every kernel a fit of this size runs is a small problem's (see
    :func:`fastkmeans._assign.is_small`): its Lloyd passes and its greedy k-means++ with
    ``2 + ln k`` candidates per step; never with k-means||, whose rounds and candidates
    take the kernels of large data. It tells the first run (:mod:`._cold`) which kernels
    the fit needs."""
    trials = 2 + int(math.log(max(k, 1)))
    return is_small(n, d * trials, k) and not (isinstance(init, str) and init == "k-means||")


def first_run_on(
    source: BlockSource, k: int, init: Any, minibatch: bool = False
) -> contextlib.AbstractContextManager[bool]:
    """:func:`._cold.first_run` for a fit on ``source`` (the stand-ins for data in memory)."""
    local = source.local_array()
    return first_run(local and local[0], small_fit(source.n, source.d, k, init), minibatch)


def fit(params: Any, X: ArrayLike, sample_weight: ArrayLike | None = None) -> KMeansModel:
    """Fit k-means as described by ``params``; see :meth:`KMeansParams.fit`."""
    source = open_checked(params, X, sample_weight)
    if params.algorithm == "optimal":
        with thread_limit(params.n_threads, single_thread_blas=True):  # BLAS in the last pass
            best = optimal_run(params, source)
        return to_model(params, best.centers, best.labels, best.inertia, best.n_iter,
                        best.stop_reason, best.history, best.weights)  # fmt: skip
    n_init = runs_for(params)
    k = params.n_clusters
    sizes = size_limits(params, source, sample_weight)  # None without size limits
    algorithm = source.exact_algorithm(params.algorithm)
    init = resolve_init(params.init, k)
    with (
        progress(params, n_init * params.max_iter, "k-means") as bar,
        # Size limits have no stand-ins: their fits compile.
        first_run_on(source, k, init) if sizes is None else contextlib.nullcontext(False)
        as numpy_kernels,
    ):
        tol = params.tol * source.mean_variance if params.tol else 0.0
        # The stand-ins run Lloyd's iterations (the bounded algorithms give its labels).
        algorithm = "lloyd" if numpy_kernels else algorithm
        # The stand-ins recompute every pass: their inertia is the exact one, keep it.
        incremental = source.incremental and not numpy_kernels
        planner = Planner(algorithm, source.n, source.d, k, source.dtype, source.mean, sizes,
                          incremental)  # fmt: skip
        # One BLAS thread for the stand-ins too: their products are small, and a threaded
        # BLAS stalls when the background compile holds a core.
        blas = source.blas_inside(init, planner.gemm) or numpy_kernels
        best = runs(params, source, planner, tol, n_init, bar, blas)
    return to_model(params, best.centers, best.labels, best.inertia, best.n_iter,
                    best.stop_reason, best.history, best.weights,
                    "array" if isinstance(init, np.ndarray) else init, True)  # fmt: skip


def runs(
    params: Any, source: BlockSource, planner: Planner, tol: float, n_init: int, bar: Any,
    blas: bool,
) -> RunResult:
    """The best of ``n_init`` runs (lowest inertia, the first among equals)."""
    best: RunResult | None = None
    with thread_limit(params.n_threads, single_thread_blas=blas):
        for rng in run_generators(params.seed, n_init):
            centers = initial_centers(params, source, rng)
            run = lloyd(source, planner, centers, params.max_iter, tol, bar.update if bar else None)
            if best is None or run.inertia < best.inertia:
                best = run
    assert best is not None  # n_init >= 1
    return best


def to_model(
    params: Any,
    centers: NDArray[np.floating],
    labels: NDArray[np.int64],
    inertia: float,
    n_iter: int,
    stop_reason: str,
    history: list[tuple[float, float, int, int]],
    weights: F8,
    init_used: str = "",
    weighed_labels: bool = False,
) -> KMeansModel:
    """Wrap a finished run as a model, warning (at the user's line) when clusters came out
    identical."""
    k = params.n_clusters
    # With ``weighed_labels`` (``weights`` are the labels' cluster weights) every cluster of
    # positive weight has rows: the labels are counted only when fewer weigh anything.
    if labels.shape[0] and not (weighed_labels and np.count_nonzero(weights > 0) == k):
        distinct = int(np.count_nonzero(np.bincount(labels, minlength=k)))
        if distinct < k:
            warn(
                f"Number of distinct clusters ({distinct}) found smaller than n_clusters "
                f"({k}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
            )
    return KMeansModel(
        centroids=centers,
        labels=labels.astype(np.int64, copy=False),
        inertia=inertia,
        n_iter=n_iter,
        converged=stop_reason != "max_iter",
        stop_reason=stop_reason,
        history=FitHistory.from_records(history),
        params=params,
        cluster_weights=weights,
        init_used=init_used,
    )


def fit_minibatch(
    params: Any,
    X: ArrayLike,
    sample_weight: ArrayLike | None = None,
    verbose: bool = False,
) -> KMeansModel:
    """Fit mini-batch k-means; see :meth:`MiniBatchKMeansParams.fit`. ``verbose`` prints
    scikit-learn's progress lines (used by the scikit-learn adapter)."""
    source = open_checked(params, X, sample_weight)
    n_init = runs_for(params)
    say = print if verbose else None
    n_steps = (params.max_iter * source.n) // min(params.batch_size, source.n)
    with (
        progress(params, n_steps, "mini-batch k-means") as bar,
        first_run_on(source, params.n_clusters, params.init, minibatch=True),
        thread_limit(params.n_threads, single_thread_blas=True),
    ):
        run = _minibatch.run(params, source, n_init, say, bar)
    return to_model(params, run.centers, run.labels, run.inertia, run.n_iter,
                    run.stop_reason, run.history, run.weights)  # fmt: skip


def start_stream(
    params: Any,
    X: ArrayLike,
    sample_weight: ArrayLike | None,
    rng: np.random.Generator,
    say: Any = None,
) -> KMeansModel:
    """The first ``partial_fit`` of a stream not started with ``fit``: seed on the batch
    ``X`` (``init_size`` of its rows) and take one step with it."""
    source = open_checked(params, X, sample_weight)
    with first_run_on(source, params.n_clusters, params.init, minibatch=True):
        centers = _minibatch.seed_on(params, source, rng)
    start = to_model(params, centers, np.empty(0, dtype=np.int64), np.inf, 0, "max_iter", [],
                     np.zeros(params.n_clusters))  # fmt: skip
    return start.partial_fit(X, sample_weight, random_reassign=True, rng=rng, say=say)
