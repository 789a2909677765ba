"""Seeding: k-means++, random rows, k-means||, or centroids given by the user.

Randomness lives here, in Python: each run gets its own ``numpy.random.Generator`` and the
kernels receive numbers drawn from it.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from . import _config
from .kernels.seeding import kmeans_plusplus, kmeans_plusplus_serial

F8 = NDArray[np.float64]


def run_generators(
    seed: int | np.random.Generator | None, n_runs: int
) -> list[np.random.Generator]:
    """One independent random stream per run, derived from ``seed``."""
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(n_runs))
    # The same streams as default_rng(seed).spawn(n_runs), without the parent generator.
    children = np.random.SeedSequence(seed).spawn(n_runs)
    return [np.random.Generator(np.random.PCG64(c)) for c in children]


def plusplus(
    X: NDArray[np.floating], w: F8, k: int, rng: np.random.Generator, bounds: NDArray[np.intp]
) -> NDArray[np.intp]:
    """Rows chosen by greedy k-means++ with 2 + floor(ln k) local trials per centre."""
    n_trials = 2 + int(math.log(k))
    first_u = float(rng.random())
    trial_u = rng.random((max(k - 1, 0), n_trials))
    out = np.empty(k, dtype=np.intp)
    small = X.shape[0] * X.shape[1] * k * n_trials <= _config.SERIAL_MAX_WORK
    (kmeans_plusplus_serial if small else kmeans_plusplus)(X, w, bounds, first_u, trial_u, out)
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
