"""Per-feature mean and variance in float64 without a temporary copy of the data."""

from __future__ import annotations

import numpy as np
from numba import njit

from .._config import FASTMATH, NUMBA_CACHE


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def column_moments(X, bounds, mean, part):
    """IN X (n,d), bounds (n_chunks+1,), mean (d,) f8 or empty; OUT part (n_chunks,d) f8:
    per chunk, the per-feature sums of X (``mean`` empty) or of ``(X - mean)^2``. A chunk
    kernel (see fastkmeans._chunks); the caller merges the chunks in order."""
    d = X.shape[1]
    for c in range(bounds.shape[0] - 1):
        for f in range(d):
            part[c, f] = 0.0
        if mean.shape[0] == 0:
            for i in range(bounds[c], bounds[c + 1]):
                for f in range(d):
                    part[c, f] += X[i, f]
        else:
            for i in range(bounds[c], bounds[c + 1]):
                for f in range(d):
                    t = np.float64(X[i, f]) - mean[f]
                    part[c, f] += t * t
