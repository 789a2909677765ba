"""Silhouette coefficients without an n x n matrix.

Each block of rows owns a small (rows, k) table of summed distances to every cluster and
streams over all points once, so memory is O(n·d + block·k) and every row's value is summed in
the same order whatever the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE

#: Rows that share one pass over the data (their coordinates stay in cache).
SILHOUETTE_BLOCK_ROWS: int = 64


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def silhouette_samples(X, labels, counts, out):
    """IN X (n,d), labels (n,) intp in [0, k), counts (k,) intp cluster sizes; OUT out (n,) f8:
    silhouette s_i = (b_i - a_i) / max(a_i, b_i), 0 for members of singleton clusters."""
    n, d = X.shape
    k = counts.shape[0]
    block = SILHOUETTE_BLOCK_ROWS
    n_blocks = (n + block - 1) // block
    for c in prange(n_blocks):
        start = c * block
        stop = min(start + block, n)
        sums = np.zeros((stop - start, k), dtype=np.float64)
        for j in range(n):
            lj = labels[j]
            for r in range(stop - start):
                i = start + r
                s = 0.0
                for f in range(d):
                    t = np.float64(X[i, f]) - np.float64(X[j, f])
                    s += t * t
                sums[r, lj] += np.sqrt(s)
        for r in range(stop - start):
            i = start + r
            li = labels[i]
            if counts[li] <= 1:
                out[i] = 0.0
                continue
            a = sums[r, li] / (counts[li] - 1)
            b = np.inf
            for m in range(k):
                if m != li and counts[m] > 0:
                    mean = sums[r, m] / counts[m]
                    if mean < b:
                        b = mean
            denom = max(a, b)
            out[i] = 0.0 if denom == 0.0 else (b - a) / denom
