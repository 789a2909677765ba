"""Per-feature mean and variance in float64 without a temporary copy of the data."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .._config import FASTMATH, NUMBA_CACHE
from .launch import Chunked


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def column_chunks(first, stop, X, bounds, mean, square, part):
    """Chunks first..stop-1 of a pass over the columns: IN X (n,d), bounds (n_chunks+1,),
    mean (d,) f8, square; OUT part (n_chunks,d) f8: chunk c's sums of x (``square``
    false) or of (x - mean)^2 (true) in part[c]."""
    d = X.shape[1]
    for c in range(first, stop):
        for f in range(d):
            part[c, f] = 0.0
        if square:
            for i in range(bounds[c], bounds[c + 1]):
                for f in range(d):
                    t = np.float64(X[i, f]) - mean[f]
                    part[c, f] += t * t
        else:
            for i in range(bounds[c], bounds[c + 1]):
                for f in range(d):
                    part[c, f] += X[i, f]


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def merge_columns(part, n, out):
    """IN part (n_chunks,d) f8 per-chunk sums, n rows; OUT out (d,) f8: their sum in chunk
    order, over n."""
    for f in range(part.shape[1]):
        out[f] = 0.0
    for c in range(part.shape[0]):
        for f in range(part.shape[1]):
            out[f] += part[c, f]
    for f in range(part.shape[1]):
        out[f] /= n


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def column_mean_var_serial(X, bounds, mean, var):
    """IN X (n,d), bounds (n_chunks+1,); OUT mean (d,) f8, var (d,) f8 (population
    variance), on the calling thread (Dask workers, small data): one call for both passes
    of :func:`column_mean_var`, the same chunks and merges."""
    n_chunks = bounds.shape[0] - 1
    part = np.empty((n_chunks, X.shape[1]))
    # Values, not literals: literal arguments would compile column_chunks apart from the
    # specialisation the parallel path uses.
    first, square = np.int64(0), n_chunks < 0
    column_chunks(first, n_chunks, X, bounds, mean, square, part)
    merge_columns(part, X.shape[0], mean)
    column_chunks(first, n_chunks, X, bounds, mean, not square, part)
    merge_columns(part, X.shape[0], var)


_COLUMNS = Chunked(column_chunks, bounds_at=1)


def column_mean_var(X: Any, bounds: Any, mean: Any, var: Any) -> None:
    """IN X (n,d), bounds (n_chunks+1,); OUT mean (d,) f8, var (d,) f8 (population
    variance). Two passes (sum, then squared deviations), chunks in parallel
    (:func:`column_chunks`), merged in chunk order (:func:`merge_columns`)."""
    part = np.empty((bounds.shape[0] - 1, X.shape[1]))
    for out, square in ((mean, False), (var, True)):
        _COLUMNS(X, bounds, mean, square, part)
        merge_columns(part, X.shape[0], out)
