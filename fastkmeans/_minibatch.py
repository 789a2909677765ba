"""The mini-batch driver: seed on a subset -> mini-batch steps -> early stopping -> labels.

Semantics follow scikit-learn's ``MiniBatchKMeans`` (Sculley's updates with count-based
learning rates, low-count center reassignment, early stopping on an exponentially weighted
average of the batch inertia, greedy k-means++ on ``init_size`` random rows). Randomness is
drawn here from ``numpy.random.Generator`` streams derived from the seed; the kernels in
:mod:`fastkmeans.kernels.minibatch` only compute.

Loops here run over steps, never over samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _config, _csr
from ._assign import Planner, is_small, nearest
from ._cold import first_run
from ._cold import kernel as chosen
from ._lloyd import RunResult
from ._seeding import plusplus_rows, random_rows
from ._sources.base import BlockSource
from ._threads import thread_limit
from ._validation import (
    as_initial_centers,
    as_sample_weight,
    check_features,
    normalize_rows,
)
from .errors import warn
from .kernels.minibatch import minibatch_step, minibatch_step_serial

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]
Printer = Callable[[str], None]


def batch_bounds(b: int) -> NDArray[np.intp]:
    """Row chunks of a batch of ``b`` rows: tiles of at least ``TILE_ROWS`` rows, at most
    ``MAX_CHUNKS`` of them; a function of ``b`` only, never of the thread count."""
    n_chunks = max(1, min(_config.MAX_CHUNKS, b // _config.TILE_ROWS))
    return np.linspace(0, b, n_chunks + 1).astype(np.intp)


class Stepper:
    """Runs mini-batch steps for batches of one size; owns the kernel workspaces."""

    def __init__(self, b: int, k: int, d: int) -> None:
        self.bounds = batch_bounds(b)
        n_chunks = self.bounds.shape[0] - 1
        self.gemm = _config.use_gemm(d, k)
        self.serial = b * k * d <= _config.SERIAL_MAX_WORK
        self.labels = np.full(b, -1, dtype=np.intp)
        self.shape = (n_chunks, k, d)
        self.sums: F8 | None = None  # per-chunk sums of dense batches, made when first needed

    def workspaces(self) -> tuple[F8, F8, F8]:
        """Per-chunk sums (n_chunks, k, d), weight sums and inertia of the dense kernel."""
        if self.sums is None:
            self.sums = np.empty(self.shape)
            self.wsums = np.empty(self.shape[:2])
            self.inertia = np.empty(self.shape[0])
        return self.sums, self.wsums, self.inertia

    def step(
        self, Xb: Floats, wb: F8, centers: Floats, counts: F8, new_centers: Floats
    ) -> tuple[float, float]:
        """One update (INOUT counts, OUT new_centers); returns (batch inertia, shift)."""
        if isinstance(Xb, _csr.CSRRows):
            return _csr.minibatch_step(Xb, wb, centers, self.bounds, self.labels, counts,
                                       new_centers)  # fmt: skip
        kernel = chosen(minibatch_step_serial if self.serial else minibatch_step)
        sums, wsums, chunk_inertia = self.workspaces()
        inertia, shift = kernel(Xb, wb, centers, self.bounds, self.gemm, self.labels, sums,
                                wsums, chunk_inertia, counts, new_centers)  # fmt: skip
        return float(inertia), float(shift)


def reassign(
    Xb: Floats,
    centers: Floats,
    counts: F8,
    ratio: float,
    rng: np.random.Generator,
    say: Printer | None,
) -> int:
    """Move centers whose count is below ``ratio * max(counts)`` to random rows of the
    batch (at most half the batch), as scikit-learn does; INOUT centers, counts.
    Returns how many centers moved."""
    to_reassign = counts < ratio * counts.max()
    to_reassign[np.argmax(counts)] = False  # ratio > 1 would flag every center otherwise
    b = Xb.shape[0]
    if to_reassign.sum() > 0.5 * b:
        to_reassign[np.argsort(counts, kind="stable")[int(0.5 * b) :]] = False
    m = int(to_reassign.sum())
    if m:
        rows = rng.choice(b, size=m, replace=False)
        if say is not None:
            say(f"[MiniBatchKMeans] Reassigning {m} cluster centers.")
        centers[to_reassign] = _csr.as_dense(Xb[rows])
        # Not reset to zero, which would make them reassigned again at once.
        counts[to_reassign] = np.min(counts[~to_reassign])
    return m


class EarlyStopping:
    """scikit-learn's stopping rules: small center moves, or no improvement of the
    exponentially weighted average (EWA) of the mean batch inertia."""

    def __init__(self, b: int, n: int, tol: float, max_no_improvement: int | None) -> None:
        self.b, self.n, self.tol = b, n, tol
        self.max_no_improvement = max_no_improvement
        self.ewa: float | None = None
        self.ewa_min: float | None = None
        self.no_improvement = 0

    def done(
        self, step: int, n_steps: int, shift: float, batch_inertia: float, say: Printer | None
    ) -> str | None:
        """Return the stop reason after 0-based ``step``, or None to go on."""
        batch_inertia /= self.b
        step += 1
        if step == 1:  # the first batch measures the initialisation
            if say is not None:
                say(f"Minibatch step {step}/{n_steps}: mean batch inertia: {batch_inertia}")
            return None
        if self.ewa is None:
            self.ewa = batch_inertia
        else:
            alpha = min(self.b * 2.0 / (self.n + 1), 1.0)
            self.ewa = self.ewa * (1 - alpha) + batch_inertia * alpha
        if say is not None:
            say(
                f"Minibatch step {step}/{n_steps}: mean batch inertia: "
                f"{batch_inertia}, ewa inertia: {self.ewa}"
            )
        if self.tol > 0.0 and shift <= self.tol:
            if say is not None:
                say(f"Converged (small centers change) at step {step}/{n_steps}")
            return "tol"
        if self.ewa_min is None or self.ewa < self.ewa_min:
            self.no_improvement = 0
            self.ewa_min = self.ewa
        else:
            self.no_improvement += 1
        if self.max_no_improvement is not None and self.no_improvement >= self.max_no_improvement:
            if say is not None:
                say(f"Converged (lack of improvement in inertia) at step {step}/{n_steps}")
            return "no_improvement"
        return None


def init_size_for(params: Any, n: int, b: int) -> int:
    """Rows used for seeding, scikit-learn's rule (warns when ``init_size`` < k)."""
    k = params.n_clusters
    size = params.init_size
    if size is None:
        size = 3 * b
        if size < k:
            size = 3 * k
    elif size < k:
        warn(
            f"init_size={size} should be larger than n_clusters={k}. Setting it to "
            f"min(3*n_clusters, n_samples)",
            RuntimeWarning,
        )
        size = 3 * k
    return min(size, n)


def seed_centers(
    params: Any, source: BlockSource, w: F8 | None, init_size: int, rng: np.random.Generator
) -> Floats:
    """One seeding on ``init_size`` random rows (all rows when there are no more)."""
    k = params.n_clusters
    if isinstance(params.init, np.ndarray):
        centers = as_initial_centers(params.init, k, source.d, source.dtype)
        return normalize_rows(centers, "init") if source.cosine else centers
    n = source.n
    idx = rng.integers(0, n, init_size) if init_size < n else np.arange(n)
    Xs = source.rows(idx)
    ws = np.ones(idx.shape[0]) if w is None else w[idx]
    if not (ws > 0).any():
        ws = np.ones(idx.shape[0])
    if params.init == "random":
        rows = random_rows(ws, k, rng)
    else:
        rows = plusplus_rows(Xs, ws, k, rng)
    return np.ascontiguousarray(_csr.as_dense(Xs[rows]))


def seed_on(params: Any, source: BlockSource, rng: np.random.Generator) -> Floats:
    """Seed a stream on its first batch (see :func:`seed_centers`)."""
    b = min(params.batch_size, source.n)
    w = source.all_weights()
    return seed_centers(params, source, w, init_size_for(params, source.n, b), rng)


def _given_weights(source: BlockSource) -> F8 | None:
    """The sample weights, or None when every weight is one."""
    w = source.all_weights()
    return None if bool((w == 1.0).all()) else w


def run(params: Any, source: BlockSource, n_init: int, say: Printer | None, bar: Any) -> RunResult:
    """The mini-batch loop over a validated source. Runs inside the caller's
    ``thread_limit``."""
    n, d, k = source.n, source.d, params.n_clusters
    b = min(params.batch_size, n)
    init_size = init_size_for(params, n, b)
    tol = params.tol * source.mean_variance if params.tol > 0 else 0.0
    init_rng, batch_rng, reassign_rng = root_generator(params.seed).spawn(3)
    w = _given_weights(source)

    # Seedings are compared on one common validation subset.
    valid = init_rng.integers(0, n, init_size)
    Xv = source.rows(valid)
    wv = np.ones(valid.shape[0]) if w is None else w[valid]
    best: Floats | None = None
    best_inertia = np.inf
    for r in range(n_init):
        if say is not None:
            say(f"Init {r + 1}/{n_init} with method {_init_name(params.init)}")
        centers = seed_centers(params, source, w, init_size, init_rng)
        inertia = nearest(Xv, wv, centers)[1]
        if say is not None:
            say(f"Inertia for init {r + 1}/{n_init}: {inertia}")
        if best is None or inertia < best_inertia:
            best, best_inertia = centers, inertia
    assert best is not None
    centers = np.array(best, dtype=source.dtype, order="C")
    new_centers = np.empty_like(centers)
    counts = np.zeros(k)

    n_steps = (params.max_iter * n) // b
    batches = _batches(source, _sampler(n, b, w, batch_rng), n_steps)
    unit = np.ones(b)
    stepper = Stepper(b, k, d)
    stopping = EarlyStopping(b, n, tol, params.max_no_improvement)
    records: list[tuple[float, float, int, int]] = []
    since_reassign = 0
    stop = "max_iter"
    for i in range(n_steps):
        Xb = next(batches)
        since_reassign += b
        do_reassign = bool((counts == 0).any()) or since_reassign >= 10 * k
        if do_reassign:
            since_reassign = 0
        inertia, shift = stepper.step(Xb, unit, centers, counts, new_centers)
        moved = 0
        if do_reassign and params.reassignment_ratio > 0:
            moved = reassign(Xb, new_centers, counts, params.reassignment_ratio, reassign_rng, say)
            if moved:
                shift = float(((new_centers.astype(np.float64) - centers) ** 2).sum())
        if source.cosine:
            _unit_rows(new_centers)
        records.append((inertia, shift, -1, moved))
        centers, new_centers = new_centers, centers
        if bar is not None:
            bar.update()
        reason = stopping.done(i, n_steps, shift, inertia, say)
        if reason is not None:
            stop = reason
            break
    steps = len(records)
    if params.compute_labels:
        source.start_run()
        planner = Planner("lloyd", n, d, k, source.dtype, source.mean)
        final_inertia = source.assign(planner.lloyd(centers, accumulate=False))[2]
        labels = source.labels()
    else:
        labels = np.empty(0, dtype=np.int64)
        total_w = float(source.block_weight.sum() * source.weight_scale)
        ewa = stopping.ewa if stopping.ewa is not None else records[-1][0] / b
        final_inertia = ewa * total_w
    n_iter = math.ceil(steps * b / n) if steps else 0
    return RunResult(centers, labels, final_inertia, n_iter, stop, records, counts)


def _init_name(init: Any) -> Any:
    return init if isinstance(init, str) else init.tolist()


def _unit_rows(C: Floats) -> None:
    """Scale the rows of ``C`` to unit length in place (zero rows are left alone)."""
    norms = np.sqrt(np.einsum("ij,ij->i", C, C, dtype=np.float64))
    ok = norms > 0
    C[ok] = (C[ok] / norms[ok, None]).astype(C.dtype)


def _sampler(
    n: int, b: int, w: F8 | None, rng: np.random.Generator
) -> Callable[[], NDArray[np.intp]]:
    """Draws of ``b`` row indices with replacement, proportional to the weights."""
    if w is None or bool((w == w[0]).all()):
        return lambda: rng.integers(0, n, b)
    cdf = np.cumsum(w)
    cdf /= cdf[-1]

    def draw() -> NDArray[np.intp]:
        return np.minimum(np.searchsorted(cdf, rng.random(b), side="right"), n - 1)

    return draw


#: Batches gathered per read of the source: one Dask graph (or one pass of memmap reads) per
#: this many steps instead of one per step. The draws are the same either way.
PREFETCH_STEPS: int = 32


def _batches(source: BlockSource, draw: Callable[[], NDArray[np.intp]], n_steps: int) -> Any:
    """The rows of each step's batch, read ``PREFETCH_STEPS`` batches at a time."""
    done = 0
    while done < n_steps:
        m = min(PREFETCH_STEPS, n_steps - done)
        idx = [draw() for _ in range(m)]
        rows = source.rows(np.concatenate(idx))
        start = 0
        for i in idx:
            yield rows[start : start + i.shape[0]]
            start += i.shape[0]
        done += m


def root_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


# --------------------------------------------------------------------------- partial_fit
def _step_seed(seed: Any, step: int) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed.spawn(1)[0]
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([int(seed), step])


def partial_step(
    params: Any,
    centroids: Floats,
    cluster_weights: F8,
    steps_before: int,
    X: ArrayLike,
    sample_weight: ArrayLike | None = None,
    *,
    random_reassign: bool | None = None,
    rng: np.random.Generator | None = None,
    say: Printer | None = None,
) -> tuple[Floats, F8, NDArray[np.int64], float, tuple[float, float, int, int]]:
    """One mini-batch step on the batch ``X``, continuing from ``centroids`` and
    ``cluster_weights`` after ``steps_before`` steps (nothing given is modified).

    Returns the new centers and counts, the batch's labels and inertia to the new centers
    (empty labels and the step's inertia unless ``compute_labels``), and the step's
    history record. Low-count centers are moved when a count is zero or ``10 *
    n_clusters`` samples went by since the last check (the step counter is the history
    length). ``random_reassign`` and ``rng`` override that rule and the random stream
    (the scikit-learn adapter keeps its own).
    """
    Xa = _csr.as_rows(X)
    check_features(Xa, centroids.shape[1])
    metric = getattr(params, "metric", "euclidean")
    if metric == "cosine":
        Xa = _csr.unit_rows(Xa)
    w = as_sample_weight(sample_weight, Xa.shape[0])
    k, d = centroids.shape
    b = Xa.shape[0]
    centers = np.array(centroids, dtype=Xa.dtype, order="C")
    counts = np.array(cluster_weights, dtype=np.float64)
    if random_reassign is None:
        # scikit-learn's counter, reconstructed from the number of steps of the same size.
        period = 10 * k
        random_reassign = bool((counts == 0).any()) or (
            (steps_before + 1) * b // period > steps_before * b // period
        )
    if rng is None:
        rng = _step_seed(params.seed, steps_before)
    new_centers = np.empty_like(centers)
    stepper = Stepper(b, k, d)
    with (
        first_run(Xa, is_small(b, d, k), minibatch=True) as numpy_kernels,
        thread_limit(params.n_threads, single_thread_blas=stepper.gemm or numpy_kernels),
    ):
        inertia, shift = stepper.step(Xa, w, centers, counts, new_centers)
        moved = 0
        ratio = getattr(params, "reassignment_ratio", 0.01)
        if random_reassign and ratio > 0:
            moved = reassign(Xa, new_centers, counts, ratio, rng, say)
            if moved:
                shift = float(((new_centers.astype(np.float64) - centers) ** 2).sum())
        if metric == "cosine":
            _unit_rows(new_centers)
        if getattr(params, "compute_labels", True):
            labels, batch_inertia = nearest(Xa, w, new_centers)
        else:
            labels, batch_inertia = np.empty(0, dtype=np.int64), inertia
    return new_centers, counts, labels, batch_inertia, (inertia, shift, -1, moved)
