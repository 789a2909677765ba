"""Seeding, once for every kind of data: an array, random rows, k-means++ or k-means||.

Randomness lives here, in Python: each run gets its own ``numpy.random.Generator`` and the
kernels receive numbers drawn from it.

* **k-means++** is the greedy variant (2 + floor(ln k) local trials per center). Data in
  memory take one fused kernel (:mod:`.kernels.seeding`); data in blocks walk the same
  potential block by block (:mod:`.kernels.plusplus_blocks`): the same draws, with
  potentials summed per block, so picks agree up to summation order.
* **k-means||** (Bahmani, Moseley, Vattani, Kumar, Vassilvitskii, VLDB 2012): a handful of
  rounds each sample about ``l = 2k`` rows, every row independently with probability
  ``min(1, l * w_i * d_i^2 / phi)`` where ``d_i`` is its distance to the nearest candidate
  so far and ``phi`` the weighted potential. The candidates are weighted by the sample
  weight of the rows nearest to them and reduced to k centers with weighted greedy
  k-means++: up to ``REDUCTIONS`` times (as many as cost at most ``REDUCTION_BUDGET`` of a
  pass over the rows), keeping the picks of lowest weighted potential over the
  candidates. Random numbers come from a root seed drawn from the run's generator: the first
  pick uses ``default_rng([root])`` and round ``r`` on block ``b`` uses
  ``default_rng([root, r, b])``; data in memory are block 0, so a Dask array held in one
  chunk seeds exactly as the same data in memory.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _config, _csr
from ._assign import chunk_bounds, is_small, nearest
from ._cold import kernel as chosen
from ._sources.base import BlockSource
from ._validation import as_initial_centers, normalize_rows
from .kernels import seeding
from .kernels.kmeans_parallel import update_nearest, update_nearest_serial
from .kernels.plusplus_blocks import (
    candidate_potentials,
    candidate_potentials_serial,
    closest_update,
    closest_update_serial,
)
from .kernels.small import kmeans_plusplus_small

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]

#: k-means||: sampling rounds after the first pick (Bahmani et al. find ~5 enough).
ROUNDS: int = 5
#: k-means||: expected rows sampled per round, as a multiple of k.
OVERSAMPLING: float = 2.0
#: k-means||: further rounds allowed while there are fewer candidates than clusters.
EXTRA_ROUNDS: int = 10
#: k-means||: the most weighted k-means++ reductions of the candidates, of which the one
#: with the lowest weighted potential over the candidates is kept ...
REDUCTIONS: int = 4
#: ... while their distance work stays within this fraction of one pass over the rows
#: (k-means++ over c candidates costs c (2 + ln k) k d, a pass n k d). Over 8 seeds,
#: 4 reductions against 1 ended 0.26% (± 0.12%) lower at 200,000 x 128, k = 256, and 1.5%
#: (± 0.8%) at 500,000 x 16, k = 64; at 200,000 x 32, k = 1024 the budget leaves one, where
#: four took 1.1 s more for 0.09% (± 0.15%). At k = 256 the four took 383 ms against 108
#: for one (medians of 9 interleaved rounds), about 0.27 s of a 2.3 s fit: a greedy
#: reduction runs far below the GEMM rate of a Lloyd pass, so this flop budget undercounts
#: its time.
REDUCTION_BUDGET: float = 0.5


def run_generators(
    seed: int | np.random.Generator | None, n_runs: int
) -> list[np.random.Generator]:
    """One independent random stream per run, derived from ``seed``."""
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(n_runs))
    # The same streams as default_rng(seed).spawn(n_runs), without the parent generator.
    children = np.random.SeedSequence(seed).spawn(n_runs)
    return [np.random.Generator(np.random.PCG64(c)) for c in children]


def resolve_init(init: Any, k: int) -> Any:
    """The seeding ``init`` stands for: ``"auto"`` is k-means|| from
    ``_config.PARALLEL_INIT_MIN_CLUSTERS`` clusters on, greedy k-means++ below; any other
    value is itself."""
    if isinstance(init, str) and init == "auto":
        return "k-means||" if k >= _config.PARALLEL_INIT_MIN_CLUSTERS else "k-means++"
    return init


def initial_centers(params: Any, source: BlockSource, rng: np.random.Generator) -> Floats:
    """Seed one run according to ``params.init``: the one seeding dispatch."""
    k = params.n_clusters
    init = resolve_init(params.init, k)
    if isinstance(init, np.ndarray):
        centers = as_initial_centers(params.init, k, source.d, source.dtype)
        return normalize_rows(centers, "init") if source.cosine else centers
    if init == "random":
        return _csr.as_dense(source.rows(random_rows(source.all_weights(), k, rng)))
    if init == "k-means||":
        return kmeans_parallel(source, k, rng)
    local = source.local_array()
    if local is not None:
        return _csr.as_dense(source.rows(plusplus_rows(local[0], local[1], k, rng)))
    return source.rows(plusplus_blocks(source, k, rng))


def random_rows(w: F8, k: int, rng: np.random.Generator) -> NDArray[np.intp]:
    """k distinct rows drawn with probability proportional to their weight."""
    positive = np.flatnonzero(w > 0)
    if positive.shape[0] >= k:
        p = w[positive] / w[positive].sum()
        return positive[rng.choice(positive.shape[0], size=k, replace=False, p=p)]
    # Fewer weighted rows than clusters: take them all, then zero-weight rows.
    rest = np.flatnonzero(w <= 0)
    return np.concatenate([positive, rng.choice(rest, size=k - positive.shape[0], replace=False)])


# --------------------------------------------------------------------------- k-means++
def _trials(k: int, rng: np.random.Generator) -> tuple[int, float, F8]:
    n_trials = 2 + int(math.log(k))
    first_u = float(rng.random())
    return n_trials, first_u, rng.random((max(k - 1, 0), n_trials))


def plusplus_rows(X: Floats, w: F8, k: int, rng: np.random.Generator) -> NDArray[np.intp]:
    """Rows of the in-memory ``X`` chosen by greedy k-means++ (one fused kernel; dense
    or :class:`fastkmeans._csr.CSRRows`)."""
    n_trials, first_u, trial_u = _trials(k, rng)
    out = np.empty(k, dtype=np.intp)
    if isinstance(X, _csr.CSRRows):
        _csr.kmeans_plusplus(X, w, chunk_bounds(X.shape[0]), first_u, trial_u, out)
        return out
    if is_small(X.shape[0], X.shape[1] * n_trials, k):
        chosen(kmeans_plusplus_small)(X, w, chunk_bounds(X.shape[0]), first_u, trial_u, out)
        return out
    kernel = chosen(plusplus_kernel(X.shape[1]))
    kernel(X, w, chunk_bounds(X.shape[0]), first_u, trial_u, out)
    return out


def plusplus_kernel(d: int) -> Any:
    """The in-memory k-means++ kernel for ``d`` features: transposed tiles below
    ``_config.SEED_TILES_BELOW_FEATURES``, rows from it on (small problems take
    :func:`.kernels.small.kmeans_plusplus_small`). Two kernels picked here, so that a fit
    compiles only the layout it uses."""
    if d < _config.SEED_TILES_BELOW_FEATURES:
        return seeding.kmeans_plusplus_tiles
    return seeding.kmeans_plusplus_rows


def _block_bounds(m: int, worker: bool) -> NDArray[np.intp]:
    return np.array([0, m], dtype=np.intp) if worker else chunk_bounds(m)


def closest_task(x: Floats, w: F8, closest: Any, offset: int, args: dict[str, Any]) -> Any:
    """Block function: the squared distance of each row to its nearest center so far,
    updated with the center ``row``; returns it and the block's potential."""
    m = x.shape[0]
    first = closest is None
    closest = np.empty(m) if first else closest
    bounds = _block_bounds(m, args["worker"])
    pot = np.empty(bounds.shape[0] - 1)
    kernel = closest_update_serial if args["worker"] else closest_update
    kernel(x, w, args["row"], bounds, first, closest, pot)
    return closest, float(pot.sum())


def candidates_task(x: Floats, w: F8, closest: Any, offset: int, args: dict[str, Any]) -> Any:
    """Block function: the block's share of the potential of each candidate."""
    bounds = _block_bounds(x.shape[0], args["worker"])
    pot = np.empty((bounds.shape[0] - 1, args["rows"].shape[0]))
    kernel = candidate_potentials_serial if args["worker"] else candidate_potentials
    kernel(x, w, closest, args["rows"], bounds, pot)
    return closest, pot.sum(axis=0)


def pick_task(x: Any, w: F8, closest: Any, offset: int, args: dict[str, Any]) -> Any:
    """Block function: for each local target, the first row where the running sum of
    ``w * closest`` exceeds it (global row), or -1 when rounding runs past the block."""
    p = w if closest is None else w * closest
    cum = np.cumsum(p)
    out = []
    for target in args["targets"][offset]:
        i = int(np.searchsorted(cum, target, side="right"))
        out.append(offset + i if i < p.shape[0] else -1)
    return closest, out


def last_positive_task(x: Any, w: F8, closest: Any, offset: int, args: dict[str, Any]) -> Any:
    """Block function: the last row of positive potential (global), or -1."""
    positive = np.flatnonzero((w if closest is None else w * closest) > 0)
    return closest, offset + int(positive[-1]) if positive.shape[0] else -1


def plusplus_blocks(source: BlockSource, k: int, rng: np.random.Generator) -> NDArray[np.intp]:
    """Greedy k-means++ over the blocks of ``source``, three passes per center: the same
    random draws, distances and walk as :func:`plusplus_rows`."""
    _, first_u, trial_u = _trials(k, rng)
    states: list[Any] = [None] * source.n_blocks
    pots = np.array(source.block_weight, dtype=np.float64)
    worker = source.worker

    def pick(targets: F8) -> NDArray[np.intp]:
        cum = np.cumsum(pots)
        by_block: dict[int, list[float]] = {}  # block -> its local targets
        where = []
        for t in targets:
            b = int(np.searchsorted(cum, t, side="right"))  # never an empty block
            if b >= pots.shape[0]:
                where.append((-1, 0))
                continue
            by_block.setdefault(b, []).append(float(t - (cum[b - 1] if b else 0.0)))
            where.append((b, len(by_block[b]) - 1))
        found: dict[int, list[int]] = {}
        if by_block:
            blocks = list(by_block)
            local = {int(source.offsets[b]): by_block[b] for b in blocks}
            _, res = source.map(pick_task, states, {"targets": local}, only=blocks, needs_x=False)
            found = dict(zip(blocks, res))
        out = np.array([found[b][i] if b >= 0 else -1 for b, i in where], dtype=np.intp)
        if (out < 0).any() and pots.sum() > 0:  # rounding ran past the end: the last row
            _, last = source.map(last_positive_task, states, {}, needs_x=False)
            out[out < 0] = max(last)
        return out

    def update(chosen: int) -> None:
        nonlocal states, pots
        row = np.ascontiguousarray(source.rows(np.array([chosen]))[0])
        states, res = source.map(closest_task, states, {"row": row, "worker": worker})
        pots = np.array(res, dtype=np.float64)

    out = np.empty(k, dtype=np.intp)
    out[0] = pick(np.array([first_u * pots.sum()]))[0]
    update(int(out[0]))
    for step in range(1, k):
        cands = pick(trial_u[step - 1] * pots.sum())
        if pots.sum() <= 0 or cands[0] < 0:  # every remaining point coincides with a center
            out[step] = (out[step - 1] + 1) % source.n
            continue
        rows = np.ascontiguousarray(source.rows(cands))
        _, parts = source.map(candidates_task, states, {"rows": rows, "worker": worker})
        cand_pot = np.sum(parts, axis=0)
        out[step] = cands[int(np.argmin(cand_pot))]
        update(int(out[step]))
    return out


# --------------------------------------------------------------------------- k-means||
def root_seed(rng: np.random.Generator) -> int:
    """The root of every per-round, per-block stream of one run."""
    return int(rng.integers(2**63))


def round_uniforms(root: int, r: int, block: int, size: int) -> F8:
    """Uniforms of round ``r`` (from 1) for the rows of block ``block``."""
    return np.random.default_rng([root, r, block]).random(size)


def weighted_index(w: F8, target: float) -> int:
    """First row whose cumulative weight exceeds ``target`` (the last weighted row when
    rounding runs past the end)."""
    i = int(np.searchsorted(np.cumsum(w), target, side="right"))
    if i >= w.shape[0]:
        i = int(np.flatnonzero(w > 0)[-1])
    return i


def keep_going(r: int, n_cands: int, k: int, pot: float) -> bool:
    """Whether to run round ``r + 1``: ``ROUNDS`` rounds, more while there are fewer
    candidates than clusters and rows not yet covered (zero potential: nothing to sample)."""
    if pot <= 0.0:
        return False
    return r < ROUNDS or (n_cands < k and r < ROUNDS + EXTRA_ROUNDS)


def first_row_task(x: Floats, w: F8, state: Any, offset: int, args: dict[str, Any]) -> Any:
    """Block function: the row where the local target falls on the cumulative weight."""
    return state, x[np.array([weighted_index(w, args["target"])])]


def nearest_task(x: Floats, w: F8, state: Any, offset: int, args: dict[str, Any]) -> Any:
    """Block function: each row's nearest candidate so far, updated with the candidates
    ``cands`` (numbered from ``first``); returns ``[potential, weight nearest to each
    candidate so far]`` as one vector, so that blocks add up."""
    m, d = x.shape
    closest, nearest = (np.full(m, np.inf), np.zeros(m, dtype=np.intp)) if state is None else state
    cands = args["cands"]
    bounds = _block_bounds(m, args["worker"])
    pot = np.empty(bounds.shape[0] - 1)
    if isinstance(x, _csr.CSRRows):
        _csr.update_nearest(x, w, cands, args["first"], bounds, closest, nearest, pot)
    else:
        cands = np.ascontiguousarray(cands)
        gemm = _config.use_gemm_candidates(d, cands.shape[0])
        kernel = chosen(update_nearest_serial if args["worker"] else update_nearest)
        kernel(x, w, cands, args["mean"], args["first"], gemm, bounds, closest, nearest, pot)
    counts = np.bincount(nearest, weights=w, minlength=args["first"] + cands.shape[0])
    return (closest, nearest), np.concatenate([[pot.sum()], counts])


def sample_task(x: Floats, w: F8, state: Any, offset: int, args: dict[str, Any]) -> Any:
    """Block function: the rows kept in round ``r``: ``u_i * phi < l * w_i * d_i^2``."""
    # The last block starting at this row: empty chunks before it share its offset.
    block = int(np.searchsorted(args["offsets"], offset, side="right")) - 1
    u = round_uniforms(args["root"], args["r"], block, x.shape[0])
    keep = np.flatnonzero(u * args["pot"] < args["ell"] * (w * state[0]))
    return state, x[keep]


def kmeans_parallel(source: BlockSource, k: int, rng: np.random.Generator) -> Floats:
    """k initial centers by k-means|| over the blocks of ``source``: rows of the data."""
    root = root_seed(rng)
    ell = OVERSAMPLING * k
    target = float(np.random.default_rng([root]).random()) * float(source.block_weight.sum())
    cum = np.cumsum(source.block_weight)
    b = min(int(np.searchsorted(cum, target, side="right")), len(cum) - 1)
    while source.block_weight[b] <= 0:
        b -= 1
    local = target - (cum[b - 1] if b else 0.0)
    states: list[Any] = [None] * source.n_blocks
    _, first = source.map(first_row_task, states, {"target": local}, only=[b])
    parts = [first[0]]
    mean = source.mean.astype(source.dtype)
    common = {"mean": mean, "worker": source.worker}

    def add(new: Floats, n_before: int) -> tuple[float, F8]:
        nonlocal states
        args = {**common, "cands": new, "first": n_before}
        states, total = source.map(nearest_task, states, args, reduce=True)
        total = np.asarray(total)
        return float(total[0]), total[1:]

    pot, weights = add(parts[0], 0)
    n_cands, r = 1, 0
    while keep_going(r, n_cands, k, pot):
        r += 1
        args = {"root": root, "r": r, "ell": ell, "pot": pot, "offsets": source.offsets}
        _, rows = source.map(sample_task, states, args)
        new = _csr.stack(rows)
        if new.shape[0]:
            parts.append(new)
            pot, weights = add(new, n_cands)
            n_cands += new.shape[0]
    cands = _csr.stack(parts)
    if not isinstance(cands, _csr.CSRRows):
        cands = np.ascontiguousarray(cands)
    picked = reduce_candidates(cands, weights, k, source.n, rng)
    return np.ascontiguousarray(_csr.as_dense(cands[picked]))


def n_reductions(n: int, n_cands: int, k: int) -> int:
    """How many k-means++ reductions of ``n_cands`` candidates of ``n`` rows to k centers
    k-means|| runs: ``REDUCTIONS`` at most, at least one, as many as fit in
    ``REDUCTION_BUDGET`` of a pass over the rows."""
    n_trials = 2 + int(math.log(k))
    fit = int(REDUCTION_BUDGET * n / max(n_cands * n_trials, 1))
    return max(1, min(REDUCTIONS, fit))


def reduce_candidates(
    cands: Any, weights: F8, k: int, n: int, rng: np.random.Generator
) -> NDArray[np.intp]:
    """k of the k-means|| candidates (rows of ``cands``, weighted by the rows nearest to
    them): the weighted greedy k-means++ picks with the lowest weighted potential over the
    candidates, of :func:`n_reductions` runs drawn one after another from ``rng`` (the
    first of equal ones)."""
    best: tuple[float, NDArray[np.intp]] | None = None
    runs = n_reductions(n, cands.shape[0], k)
    for _ in range(runs):
        picked = plusplus_rows(cands, weights, k, rng)
        if runs == 1:
            return picked
        centers = np.ascontiguousarray(_csr.as_dense(cands[picked]))
        potential = nearest(cands, weights, centers)[1]
        if best is None or potential < best[0]:
            best = (potential, picked)
    assert best is not None
    return best[1]
