"""Per-feature mean and variance in float64 without a temporary copy of the data."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .._config import FASTMATH, NUMBA_CACHE
from .launch import Chunked

#: Running sums per chunk of :func:`column_chunks` (at least; a multiple of the features):
#: rows of few features would otherwise wait on one chain of additions per feature.
SUMS_IN_FLIGHT = 64


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def column_chunks(first, stop, flat, d, bounds, mean, square, part):
    """Chunks first..stop-1 of a pass over the columns: IN flat (n*d,) the rows one after
    another (C order), d features, bounds (n_chunks+1,) in rows, mean (d,) f8, square; OUT
    part (n_chunks,d) f8: chunk c's sums of x (``square`` false) or of (x - mean)^2 (true)
    in part[c]. A chunk's values run as wide rows of q rows (q*d values, at least
    ``SUMS_IN_FLIGHT``) into q*d running sums, the loop across contiguous values (SIMD),
    the leftover rows into the first sums; the sums are added up in row order at the
    chunk's end. They depend on the chunks only, never on the threads."""
    q = max(1, SUMS_IN_FLIGHT // max(d, 1))
    wide = q * d
    acc = np.empty(wide)
    shift = np.zeros(wide)
    if square:
        for j in range(wide):
            shift[j] = mean[j % d]
    for c in range(first, stop):
        acc[:] = 0.0
        lo, hi = bounds[c] * d, bounds[c + 1] * d
        full = lo + (hi - lo) // wide * wide
        if square:
            for b in range(lo, full, wide):
                row = flat[b : b + wide]
                for j in range(wide):
                    t = np.float64(row[j]) - shift[j]
                    acc[j] += t * t
        else:
            for b in range(lo, full, wide):
                row = flat[b : b + wide]
                for j in range(wide):
                    acc[j] += np.float64(row[j])
        for b in range(full, hi):  # fewer than q rows: their features' first sums
            t = np.float64(flat[b]) - shift[b - full]
            acc[b - full] += t * t if square else t
        for f in range(d):
            part[c, f] = 0.0
        for j in range(wide):
            part[c, j % d] += acc[j]


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
def column_mean_var_serial(flat, d, bounds, mean, var):
    """IN flat (n*d,) the rows (C order), d features, bounds (n_chunks+1,); OUT mean (d,)
    f8, var (d,) f8 (population variance), on the calling thread (small data): one call
    for both passes of :func:`column_mean_var`, the same chunks and merges."""
    n_chunks = bounds.shape[0] - 1
    part = np.empty((n_chunks, d))
    # Values, not literals: literal arguments would compile column_chunks apart from the
    # specialisation the parallel path uses.
    first, square = np.int64(0), n_chunks < 0
    n = flat.shape[0] // max(d, 1)
    column_chunks(first, n_chunks, flat, d, bounds, mean, square, part)
    merge_columns(part, n, mean)
    column_chunks(first, n_chunks, flat, d, bounds, mean, not square, part)
    merge_columns(part, n, var)


_COLUMNS = Chunked(column_chunks, bounds_at=2)


def column_mean_var(flat: Any, d: int, bounds: Any, mean: Any, var: Any) -> None:
    """IN flat (n*d,) the rows (C order), d features, bounds (n_chunks+1,); OUT mean (d,)
    f8, var (d,) f8 (population variance). Two passes (sum, then squared deviations),
    chunks in parallel (:func:`column_chunks`), merged in chunk order
    (:func:`merge_columns`)."""
    part = np.empty((bounds.shape[0] - 1, d))
    n = flat.shape[0] // max(d, 1)
    for out, square in ((mean, False), (var, True)):
        _COLUMNS(flat, d, bounds, mean, square, part)
        merge_columns(part, n, out)
