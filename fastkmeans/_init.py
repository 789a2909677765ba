"""Seeding: k-means++, random rows, k-means||, or centroids given by the user.

Randomness lives here, in Python: each run gets its own ``numpy.random.Generator`` and the
kernels receive numbers drawn from it.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from .kernels.seeding import kmeans_plusplus

F8 = NDArray[np.float64]


def run_generators(
    seed: int | np.random.Generator | None, n_runs: int
) -> list[np.random.Generator]:
    """One independent random stream per run, derived from ``seed``."""
    root = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return list(root.spawn(n_runs))


def plusplus(
    X: NDArray[np.floating], w: F8, k: int, rng: np.random.Generator, bounds: NDArray[np.intp]
) -> NDArray[np.intp]:
    """Rows chosen by greedy k-means++ with 2 + floor(ln k) local trials per centre."""
    n_trials = 2 + int(math.log(k))
    first_u = float(rng.random())
    trial_u = rng.random((max(k - 1, 0), n_trials))
    out = np.empty(k, dtype=np.intp)
    kmeans_plusplus(X, w, bounds, first_u, trial_u, out)
    return out


def random_rows(
    X: NDArray[np.floating], w: F8, k: int, rng: np.random.Generator
) -> NDArray[np.intp]:
    """k distinct rows drawn with probability proportional to their weight."""
    positive = np.flatnonzero(w > 0)
    if positive.shape[0] >= k:
        p = w[positive] / w[positive].sum()
        return positive[rng.choice(positive.shape[0], size=k, replace=False, p=p)]
    # Fewer weighted rows than clusters: take them all, then zero-weight rows.
    rest = np.flatnonzero(w <= 0)
    return np.concatenate([positive, rng.choice(rest, size=k - positive.shape[0], replace=False)])
