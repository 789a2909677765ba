"""k-means|| seeding (Bahmani, Moseley, Vattani, Kumar, Vassilvitskii, VLDB 2012).

A handful of rounds each sample about ``l = 2k`` rows, every row independently with
probability ``min(1, l * w_i * d_i^2 / phi)`` where ``d_i`` is its distance to the nearest
candidate so far and ``phi`` the weighted potential. The candidates are then weighted by the
sample weight of the rows nearest to them and reduced to k centres with the weighted greedy
k-means++ of :mod:`fastkmeans.kernels.seeding`.

Random numbers come from a root seed drawn from the run's generator: the first pick uses
``default_rng([root])`` and round ``r`` on block ``b`` uses ``default_rng([root, r, b])``.
In memory the whole array is block 0, so a Dask array held in one chunk seeds exactly as
the in-memory data does, and a given chunking is deterministic for a seed whatever the
workers or threads.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from . import _config
from ._init import plusplus
from .kernels.oversample import update_nearest

F8 = NDArray[np.float64]

#: Sampling rounds after the first pick (Bahmani et al. find ~5 enough in practice).
ROUNDS: int = 5
#: Expected rows sampled per round, as a multiple of k.
OVERSAMPLING: float = 2.0
#: Further rounds allowed while there are fewer candidates than clusters.
EXTRA_ROUNDS: int = 10


def root_seed(rng: np.random.Generator) -> int:
    """The root of every per-round, per-block stream of one run."""
    return int(rng.integers(2**63))


def first_target(root: int, total_weight: float) -> float:
    """Where the first centre falls on the cumulative weight, in ``[0, total_weight)``."""
    return float(np.random.default_rng([root]).random()) * total_weight


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


def sample_rows(u: F8, w: F8, closest: F8, ell: float, pot: float) -> NDArray[np.intp]:
    """Rows kept in a round: ``u_i < l * w_i * d_i^2 / phi``, written without division."""
    return np.flatnonzero(u * pot < ell * (w * closest))


def use_gemm(n_features: int, n_cands: int) -> bool:
    """Whether distances to ``n_cands`` candidates take the GEMM-style kernel."""
    return _config.use_gemm(n_features, n_cands)


def keep_going(r: int, n_cands: int, k: int, pot: float) -> bool:
    """Whether to run round ``r + 1``: ``ROUNDS`` rounds, more while there are fewer
    candidates than clusters and rows not yet covered (zero potential: nothing to sample)."""
    if pot <= 0.0:
        return False
    return r < ROUNDS or (n_cands < k and r < ROUNDS + EXTRA_ROUNDS)


def reduce_candidates(
    cands: NDArray[np.floating], weights: F8, k: int, rng: np.random.Generator
) -> NDArray[np.floating]:
    """k of the candidates, chosen by weighted greedy k-means++ (a copy, candidates' dtype)."""
    from ._fit import chunk_bounds

    rows = plusplus(cands, weights, k, rng, chunk_bounds(cands.shape[0]))
    return cands[rows].copy()


def kmeans_parallel(
    X: NDArray[np.floating],
    w: F8,
    k: int,
    rng: np.random.Generator,
    bounds: NDArray[np.intp],
) -> NDArray[np.floating]:
    """k initial centres of in-memory data by k-means||.

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64, C-contiguous
        The (validated) data.
    w : ndarray of shape (n,), float64
        Sample weights, not all zero.
    k : int
        Number of centres.
    rng : numpy.random.Generator
        The run's random stream; the result is a function of it and the data.
    bounds : ndarray of intp
        Reduction chunk boundaries (:func:`fastkmeans._fit.chunk_bounds`).

    Returns
    -------
    ndarray of shape (k, d), X's dtype
        Rows of X.
    """
    n, d = X.shape
    root = root_seed(rng)
    ell = OVERSAMPLING * k
    mean = X.mean(axis=0, dtype=np.float64).astype(X.dtype)
    closest = np.full(n, np.inf)
    nearest = np.zeros(n, dtype=np.intp)
    chunk_pot = np.empty(bounds.shape[0] - 1)

    def add(new: NDArray[np.floating], offset: int) -> float:
        new = np.ascontiguousarray(new)
        update_nearest(
            X, w, new, mean, offset, use_gemm(d, new.shape[0]), bounds, closest, nearest, chunk_pot
        )
        return float(chunk_pot.sum())

    first = weighted_index(w, first_target(root, float(w.sum())))
    parts = [X[first : first + 1]]
    n_cands = 1
    pot = add(parts[0], 0)
    r = 0
    while keep_going(r, n_cands, k, pot):
        r += 1
        rows = sample_rows(round_uniforms(root, r, 0, n), w, closest, ell, pot)
        if rows.shape[0]:
            parts.append(X[rows])
            pot = add(parts[-1], n_cands)
            n_cands += rows.shape[0]
    cands = np.concatenate(parts)
    weights = np.bincount(nearest, weights=w, minlength=n_cands)
    return reduce_candidates(cands, weights, k, rng)
