"""Exact per-point distances: to the assigned centroid, and to every centroid."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def assigned_sq_distances(X, centers, labels, out):
    """IN X (n,d), centers (k,d), labels (n,); OUT out (n,) f8: exact ||x_i - c_label_i||^2."""
    for i in prange(X.shape[0]):
        j = labels[i]
        s = 0.0
        for f in range(X.shape[1]):
            t = np.float64(X[i, f]) - np.float64(centers[j, f])
            s += t * t
        out[i] = s


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def all_distances(X, centers, out):
    """IN X (n,d), centers (k,d); OUT out (n,k) f8: exact Euclidean distances."""
    k, d = centers.shape
    for i in prange(X.shape[0]):
        for j in range(k):
            s = 0.0
            for f in range(d):
                t = np.float64(X[i, f]) - np.float64(centers[j, f])
                s += t * t
            out[i, j] = np.sqrt(s)
