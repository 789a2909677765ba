"""Greedy k-means++ over data held in row blocks (out of core, Dask).

The in-memory kernel in :mod:`.seeding` walks all of X once per center; here the same
walk is split into blocks: each block updates its slice of the per-row ``closest``
potential, or adds its rows' share to the potential of each candidate. Blocks are merged
by the caller in block order; inside a block, rows are summed in fixed chunks merged in
chunk order, so results do not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._config import FASTMATH, NUMBA_CACHE
from .launch import Chunked


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _sq_dist(X, i, row):
    """IN X (b,d), row index i, row (d,) in X's dtype. Returns ||X[i] - row||^2 summed in
    X's dtype, as the in-memory seeding kernel does, as float64."""
    s = X.dtype.type(0)
    for f in range(X.shape[1]):
        t = X[i, f] - row[f]
        s += t * t
    return np.float64(s)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def closest_update_chunk(first, stop, X, w, row, bounds, overwrite, closest, chunk_pot):
    """Chunks first..stop-1 of :data:`closest_update`: IN X (b,d), w (b,) f8, row (d,) the
    new center (X's dtype), bounds (n_chunks+1,), overwrite (instead of taking the
    minimum); INOUT closest (b,) f8; OUT chunk_pot
    (n_chunks,) f8: sum of w * closest per chunk."""
    for c in range(first, stop):
        s = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            d2 = _sq_dist(X, i, row)
            if overwrite or d2 < closest[i]:
                closest[i] = d2
            s += w[i] * closest[i]
        chunk_pot[c] = s


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def candidate_potentials_chunk(first, stop, X, w, closest, candidates, bounds, chunk_pot):
    """Chunks first..stop-1 of :data:`candidate_potentials`: IN X (b,d), w (b,) f8, closest
    (b,) f8, candidates (t,d) of X's dtype, bounds (n_chunks+1,); OUT chunk_pot (n_chunks,t)
    f8: per chunk, sum of w * min(closest, d2 to candidate)."""
    n_trials = candidates.shape[0]
    for c in range(first, stop):
        for t in range(n_trials):
            chunk_pot[c, t] = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            wi = w[i]
            ci = closest[i]
            for t in range(n_trials):
                d2 = _sq_dist(X, i, candidates[t])
                chunk_pot[c, t] += wi * min(ci, d2)


#: Chunks in parallel; the twins on the calling thread (Dask workers).
closest_update = Chunked(closest_update_chunk, bounds_at=3)
closest_update_serial = closest_update.serial_twin()
candidate_potentials = Chunked(candidate_potentials_chunk, bounds_at=4)
candidate_potentials_serial = candidate_potentials.serial_twin()
