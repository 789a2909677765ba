"""Per-feature mean and variance in float64 without a temporary copy of the data."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE
from .twins import serial_twin


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def column_mean_var(X, bounds, mean, var):
    """IN X (n,d), bounds (n_chunks+1,); OUT mean (d,) f8, var (d,) f8 (population
    variance). Two passes (sum, then squared deviations), per chunk, merged in chunk order."""
    n, d = X.shape
    n_chunks = bounds.shape[0] - 1
    part = np.zeros((n_chunks, d))
    for c in prange(n_chunks):
        for i in range(bounds[c], bounds[c + 1]):
            for f in range(d):
                part[c, f] += X[i, f]
    for f in range(d):
        mean[f] = 0.0
    for c in range(n_chunks):
        for f in range(d):
            mean[f] += part[c, f]
    for f in range(d):
        mean[f] /= n
    for c in prange(n_chunks):
        for f in range(d):
            part[c, f] = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            for f in range(d):
                t = np.float64(X[i, f]) - mean[f]
                part[c, f] += t * t
    for f in range(d):
        var[f] = 0.0
    for c in range(n_chunks):
        for f in range(d):
            var[f] += part[c, f]
    for f in range(d):
        var[f] /= n


#: On the calling thread (Dask workers, small data).
column_mean_var_serial = serial_twin(column_mean_var)
