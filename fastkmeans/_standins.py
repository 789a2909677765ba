"""NumPy stand-ins for the kernels of a dense fit in memory: the first run, before Numba.

Each function here takes the arguments of the kernels it stands in for and fills the same
outputs (see :data:`STAND_INS`), in float64 and with BLAS for the distances, so that a fit
that runs them walks the same steps as one that runs the kernels: the same random draws,
the same picks, the same labels, up to float rounding (a label or a pick can differ only
where two distances agree to rounding; float32 kernels sum distances in float32). They
compile nothing, so the first fit in a new environment does not wait for Numba
(:mod:`._cold` says when they run). Work goes in the kernels' own row chunks, on several
threads for large data (:func:`_each_chunk`), in blocks that never hold n x k numbers.

Distances to many centers come from ``||c - s||^2 - 2 (x - s).(c - s)`` (the row's own
``||x - s||^2`` does not change the argmin), in float64 about ``s``, the centers' mean
rounded to integers, so that data far from the origin keep their precision and data on an
integer grid keep their exact ties (which go to the lower center, as in the kernels); every
distance that is reported (inertia, potentials, ``transform``) is the exact
``sum((x - c)**2)``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from .kernels.partials import EXACT, REFRESH, SUMS

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]
Ints = NDArray[np.intp]

#: Rows x centers x features of one temporary block of direct differences (32 MB).
BLOCK_VALUES: int = 1 << 22
#: Rows x centers of one block of the distance form in :func:`_nearest` (4 MB). From
#: ``python -m benchmarks.tuning --only standins`` (AMD EPYC, 2 threads): a pass over the
#: photo took 64 ms at 2^19 against 73 at 2^17 and 67-71 at 2^18, 2^20 and 2^21.
NEAREST_BLOCK_VALUES: int = 1 << 19
#: Chunks run on several threads from this many rows on (a chosen size, not tuned: on
#: small data starting the threads costs more than the chunks take).
THREADS_FROM_ROWS: int = 50_000


def _nearest(x: F8, c: F8, exact: bool) -> NDArray[np.intp]:
    """Index of the nearest row of ``c`` for each row of ``x`` (ties to the lower index),
    in blocks of rows: by ``||c - s||^2 - 2 (x - s).(c - s)``, with ``s`` the centers' mean
    rounded to integers (which keeps the form's rounding small on data far from the origin,
    and exact ties exact on integer grids), from one product of the rows with a column of
    ones appended and ``(-2 (c - s), ||c - s||^2)``. With ``exact``, where another center
    comes within that form's rounding of the nearest, the exact distances decide, as they
    do in the kernels that use direct differences (the GEMM-style kernels decide by their
    own rounding)."""
    n, d = x.shape
    shift = np.round(c.mean(axis=0)) if c.shape[0] else np.zeros(d)
    cs = c - shift
    c_sq = np.einsum("ij,ij->i", cs, cs)
    form = np.vstack([-2.0 * cs.T, c_sq[None, :]])  # (d + 1, k)
    step = max(1, NEAREST_BLOCK_VALUES // max(c.shape[0], 1))
    xa = np.empty((min(step, n), d + 1))
    xa[:, d] = 1.0
    parts = []
    for a in range(0, n, step):
        block = xa[: min(step, n - a)]
        np.subtract(x[a : a + step], shift, out=block[:, :d])
        parts.append(_nearest_block(block, form, cs, exact))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)


def _nearest_block(xa: F8, form: F8, c: F8, exact: bool) -> NDArray[np.intp]:
    """:func:`_nearest` on one block: ``xa`` the rows about ``s`` with a column of ones,
    ``form`` the centers' ``(-2 (c - s), ||c - s||^2)`` and ``c`` the centers about ``s``."""
    v = xa @ form
    lab = np.argmin(v, axis=1)
    if not exact or c.shape[0] < 2:
        return lab
    x = xa[:, :-1]
    best = np.take_along_axis(v, lab[:, None], axis=1)[:, 0]
    slack = 1e-12 * (np.einsum("ij,ij->i", x, x) + form[-1].max()) + 1e-300
    limit = best + slack
    within = v <= limit[:, None]
    # One count for the block, not one per row: with every limit finite, each row counts
    # its nearest center, so a count of one per row means no row has a near tie.
    if np.count_nonzero(within) == v.shape[0] and np.isfinite(limit).all():
        return lab
    close = np.flatnonzero(np.count_nonzero(within, axis=1) > 1)  # near ties: few rows
    step = max(1, BLOCK_VALUES // max(c.size, 1))
    for a in range(0, close.shape[0], step):
        near = close[a : a + step]
        t = x[near, None, :] - c[None, :, :]
        d2 = np.einsum("ijk,ijk->ij", t, t)
        d2[~within[near]] = np.inf
        lab[near] = np.argmin(d2, axis=1)
    return lab


def _sq(x: F8, c: F8) -> F8:
    """Exact ``||x_i - c_i||^2`` row by row (``c`` holds each row's center)."""
    t = x - c
    return np.einsum("ij,ij->i", t, t)


def _f8(x: Floats) -> F8:
    return np.asarray(x, dtype=np.float64)


def _each_chunk(fn: Any, bounds: Ints) -> None:
    """``fn(c)`` for every chunk ``c`` of ``bounds``, on Numba's thread count of threads
    when the data are large (NumPy releases the GIL in its loops; each chunk writes only
    its own rows and slots, so results do not depend on the threads)."""
    n_chunks = bounds.shape[0] - 1
    threads = min(numba.get_num_threads(), n_chunks)
    if threads <= 1 or int(bounds[-1]) < THREADS_FROM_ROWS:
        for ch in range(n_chunks):
            fn(ch)
        return
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(fn, range(n_chunks)))


def _lloyd(X: Floats, w: F8, centers: Floats, rest: tuple[Any, ...], exact: bool) -> None:
    """The Lloyd kernels' pass. Every mode but EXACT accumulates the partials afresh (the
    stats too, but for SUMS), which is also what a MOVES pass leaves; EXACT the weights
    only; the inertia is always the exact one."""
    bounds, labels, sums, wsums, stats, smean, inertia, changed, mode = rest[-9:]
    k, d = centers.shape
    c = _f8(centers)
    cols = np.arange(d)

    def chunk(ch: int) -> None:
        lo, hi = int(bounds[ch]), int(bounds[ch + 1])
        x = _f8(X[lo:hi])
        lab = _nearest(x, c, exact)
        changed[ch] = np.count_nonzero(labels[lo:hi] != lab)
        labels[lo:hi] = lab
        inertia[ch] = float(_sq(x, c[lab]) @ w[lo:hi])
        if mode >= REFRESH:
            q = _sq(x, np.broadcast_to(smean, x.shape)) * w[lo:hi]
            stats[ch, :, 0] = np.bincount(lab, weights=q, minlength=k)
            stats[ch, :, 1] = np.bincount(lab, minlength=k)
        if mode != EXACT:
            wx = x * w[lo:hi, None]
            if d <= 16:  # a bincount per feature: fewer passes than one over n * d
                for f in range(d):
                    sums[ch, :, f] = np.bincount(lab, weights=wx[:, f], minlength=k)
            else:
                flat = (lab[:, None] * d + cols).ravel()
                sums[ch] = np.bincount(flat, weights=wx.ravel(), minlength=k * d).reshape(k, d)
        wsums[ch] = np.bincount(lab, weights=w[lo:hi], minlength=k)

    _each_chunk(chunk, bounds)


def lloyd_direct(X: Floats, w: F8, centers: Floats, *rest: Any) -> None:
    """Stands in for ``lloyd_small`` and ``lloyd_direct`` (and its serial twin): ``rest``
    is ``bounds, labels, sums, wsums, stats, smean, inertia, changed, mode``; the same
    per-chunk outputs."""
    _lloyd(X, w, centers, rest, True)


def lloyd_gemm(X: Floats, w: F8, centers: Floats, mean: Floats, *rest: Any) -> None:
    """Stands in for ``lloyd_gemm`` (and its serial twin): as :func:`lloyd_direct`."""
    _lloyd(X, w, centers, rest, False)


def minibatch_step(
    X: Floats,
    w: F8,
    centers: Floats,
    bounds: Ints,
    gemm: bool,
    labels: Ints,
    sums: F8,
    wsums: F8,
    inertia: F8,
    counts: F8,
    new_centers: Floats,
) -> tuple[float, float]:
    """Stands in for ``minibatch.minibatch_step`` (and its serial twin): the batch's
    labels and per-chunk sums, then each center with weight in the batch moves to
    ``(c * count + sum) / (count + weight)``; INOUT counts, OUT new_centers. Returns (batch
    inertia before the update, sum of squared center moves)."""
    changed = np.zeros(bounds.shape[0] - 1, dtype=np.intp)
    _lloyd(X, w, centers, (bounds, labels, sums, wsums, None, None, inertia, changed, SUMS),
           not gemm)  # fmt: skip
    c = _f8(centers)
    total_w = wsums.sum(axis=0)
    moved = total_w > 0
    grown = counts + total_w
    new = c.copy()
    new[moved] = (c[moved] * counts[moved, None] + sums.sum(axis=0)[moved]) * (
        1.0 / grown[moved]
    )[:, None]
    counts[moved] = grown[moved]
    new_centers[:] = new
    shift = float(((_f8(new_centers) - c) ** 2).sum())
    return float(inertia.sum()), shift


def reduce_chunks(sums: F8, wsums: F8, total_sums: F8, total_wsums: F8) -> None:
    """Stands in for ``lloyd.reduce_chunks``: the chunks' sums added up."""
    total_sums[:] = sums.sum(axis=0)
    total_wsums[:] = wsums.sum(axis=0)


def column_mean_var(flat: Floats, d: int, bounds: Ints, mean: F8, var: F8) -> None:
    """Stands in for ``stats.column_mean_var``: per-feature mean and population variance in
    float64, chunk by chunk (no float64 copy of all of the rows ``flat``, C order)."""
    X = flat.reshape(-1, d)
    n = X.shape[0]
    chunks = [(int(bounds[c]), int(bounds[c + 1])) for c in range(bounds.shape[0] - 1)]
    mean[:] = sum(X[lo:hi].sum(axis=0, dtype=np.float64) for lo, hi in chunks) / n
    var[:] = sum(((X[lo:hi] - mean) ** 2).sum(axis=0) for lo, hi in chunks) / n


def assigned_sq_distances(X: Floats, centers: Floats, labels: Ints, out: F8) -> None:
    """Stands in for ``distances.assigned_sq_distances``: exact ``||x_i - c_label_i||^2``."""
    step = max(1, BLOCK_VALUES // max(X.shape[1], 1))
    for lo in range(0, X.shape[0], step):
        x = _f8(X[lo : lo + step])
        out[lo : lo + step] = _sq(x, _f8(centers[labels[lo : lo + step]]))


def all_distances(X: Floats, centers: Floats, out: F8) -> None:
    """Stands in for ``distances.all_distances``: exact Euclidean distances (n, k)."""
    k, d = centers.shape
    c = centers.astype(np.float64)
    step = max(1, BLOCK_VALUES // max(k * d, 1))
    for lo in range(0, X.shape[0], step):
        t = X[lo : lo + step, None, :].astype(np.float64) - c[None, :, :]
        out[lo : lo + step] = np.sqrt(np.einsum("ijk,ijk->ij", t, t))


def _pick(p: F8, target: float) -> int:
    """The first row where the running sum of ``p`` exceeds ``target``; the last row of
    positive ``p`` when rounding runs past the end; -1 when no row has any."""
    i = int(np.searchsorted(np.cumsum(p), target, side="right"))
    if i < p.shape[0]:
        return i
    positive = np.flatnonzero(p > 0)
    return int(positive[-1]) if positive.shape[0] else -1


def _row_sq(X: Floats, row: int) -> F8:
    """``||x_i - x_row||^2`` for every row, summed in X's dtype (as the seeding kernels sum
    them), as float64; in blocks of rows (no copy of all of X)."""
    out = np.empty(X.shape[0])
    step = max(1, BLOCK_VALUES // max(X.shape[1], 1))
    for a in range(0, X.shape[0], step):
        t = X[a : a + step] - X[row]
        out[a : a + step] = np.einsum("ij,ij->i", t, t)
    return out


def kmeans_plusplus(X: Floats, w: F8, bounds: Ints, first_u: float, trial_u: F8, out: Ints) -> None:
    """Stands in for ``kmeans_plusplus_small``, ``_tiles`` and ``_rows``: greedy k-means++
    with the kernels' draws (``first_u``, ``trial_u``) and the same walk of the potential
    (``bounds`` only orders the kernels' sums)."""
    greedy_plusplus(w, first_u, trial_u, out, lambda row: _row_sq(X, row))


def greedy_plusplus(
    w: F8, first_u: float, trial_u: F8, out: Ints, row_dist: Callable[[int], F8]
) -> None:
    """Greedy k-means++ as the kernels walk it: the first row by weight, then at each step
    the candidate of lowest potential among those drawn by potential; ``row_dist(i)``
    gives every row's squared distance to row ``i``. OUT out (k,) the rows chosen."""
    n = w.shape[0]
    out[0] = _pick(w, first_u * float(w.sum()))
    closest = row_dist(int(out[0]))
    for step in range(1, out.shape[0]):
        p = w * closest
        total = float(p.sum())
        cands = [_pick(p, u * total) for u in trial_u[step - 1]]
        if cands[0] < 0:
            out[step] = (out[step - 1] + 1) % n  # all rows sit on centers
            continue
        dists = [np.minimum(row_dist(c), closest) for c in cands]
        best = int(np.argmin([float(w @ dist) for dist in dists]))  # ties to the first drawn
        out[step] = cands[best]
        closest = dists[best]


def update_nearest(
    X: Floats,
    w: F8,
    cands: Floats,
    mean: Floats,
    offset: int,
    gemm: bool,
    bounds: Ints,
    closest: F8,
    nearest: Ints,
    chunk_pot: F8,
) -> None:
    """Stands in for ``kmeans_parallel.update_nearest``: each row's nearest candidate so far
    (candidate ``offset + j`` is ``cands[j]``; ties keep the earlier one) and the chunks'
    sums of ``w * closest``."""
    c = _f8(cands)

    def chunk(ch: int) -> None:
        lo, hi = int(bounds[ch]), int(bounds[ch + 1])
        x = _f8(X[lo:hi])
        lab = _nearest(x, c, not gemm)
        s = _sq(x, c[lab])
        better = s < closest[lo:hi]
        closest[lo:hi] = np.where(better, s, closest[lo:hi])
        nearest[lo:hi] = np.where(better, lab + offset, nearest[lo:hi])
        chunk_pot[ch] = float(w[lo:hi] @ closest[lo:hi])

    _each_chunk(chunk, bounds)


def _table() -> dict[Any, Any]:
    from .kernels import distances, kmeans_parallel, minibatch, seeding, small, stats
    from .kernels import lloyd as lloyd_kernels

    pairs = {
        lloyd_direct: (small.lloyd_small, lloyd_kernels.lloyd_direct,
                       lloyd_kernels.lloyd_direct_serial),
        lloyd_gemm: (lloyd_kernels.lloyd_gemm, lloyd_kernels.lloyd_gemm_serial),
        reduce_chunks: (lloyd_kernels.reduce_chunks,),
        column_mean_var: (stats.column_mean_var, stats.column_mean_var_serial),
        assigned_sq_distances: (distances.assigned_sq_distances,
                                distances.assigned_sq_distances_serial),
        all_distances: (distances.all_distances,),
        kmeans_plusplus: (small.kmeans_plusplus_small, seeding.kmeans_plusplus_tiles,
                          seeding.kmeans_plusplus_rows),
        update_nearest: (kmeans_parallel.update_nearest, kmeans_parallel.update_nearest_serial),
        minibatch_step: (minibatch.minibatch_step, minibatch.minibatch_step_serial),
    }  # fmt: skip
    return {kernel: stand_in for stand_in, kernels in pairs.items() for kernel in kernels}


#: Kernel dispatcher -> its NumPy stand-in.
STAND_INS: dict[Any, Any] = _table()
