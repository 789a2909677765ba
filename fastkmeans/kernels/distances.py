"""Exact per-point distances: to the assigned centroid, and to every centroid."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE
from .twins import serial_twin


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def sq_dist_f64(X, i, centers, j):
    """IN X (n,d), row i, centers (k,d), center j. Returns ||x_i - c_j||^2, exact in float64.
    The one exact distance every kernel reports (inertia, bounds, transform)."""
    s = 0.0
    for f in range(X.shape[1]):
        t = np.float64(X[i, f]) - np.float64(centers[j, f])
        s += t * t
    return s


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def assigned_sq_distances(X, centers, labels, out):
    """IN X (n,d), centers (k,d), labels (n,); OUT out (n,) f8: exact ||x_i - c_label_i||^2."""
    for i in prange(X.shape[0]):
        out[i] = sq_dist_f64(X, i, centers, labels[i])


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def all_distances(X, centers, out):
    """IN X (n,d), centers (k,d); OUT out (n,k) f8: exact Euclidean distances."""
    for i in prange(X.shape[0]):
        for j in range(centers.shape[0]):
            out[i, j] = np.sqrt(sq_dist_f64(X, i, centers, j))


#: On the calling thread (Dask workers, small data).
assigned_sq_distances_serial = serial_twin(assigned_sq_distances)
all_distances_serial = serial_twin(all_distances)
