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


_COLUMNS = Chunked(column_chunks, bounds_at=1)
_COLUMNS_SERIAL = _COLUMNS.serial_twin()


def _mean_var(columns: Chunked, X: Any, bounds: Any, mean: Any, var: Any) -> None:
    """Two passes (sums, then squared deviations), per chunk, merged in chunk order."""
    n = X.shape[0]
    part = np.empty((bounds.shape[0] - 1, X.shape[1]))
    for out, square in ((mean, False), (var, True)):
        columns(X, bounds, mean, square, part)
        total = np.zeros(X.shape[1])
        for row in part:
            total += row
        out[:] = total / n


def column_mean_var(X: Any, bounds: Any, mean: Any, var: Any) -> None:
    """IN X (n,d), bounds (n_chunks+1,); OUT mean (d,) f8, var (d,) f8 (population
    variance). Two passes (sum, then squared deviations), chunks in parallel, merged in
    chunk order (:func:`column_chunks`)."""
    _mean_var(_COLUMNS, X, bounds, mean, var)


def column_mean_var_serial(X: Any, bounds: Any, mean: Any, var: Any) -> None:
    """:func:`column_mean_var` on the calling thread (Dask workers, small data)."""
    _mean_var(_COLUMNS_SERIAL, X, bounds, mean, var)
