"""k-means|| (Bahmani et al.) on in-memory data: distances to the nearest candidate.

One parallel pass per round over fixed row chunks; chunk ``c`` owns its rows of ``closest``
and ``nearest`` and its slot of ``chunk_pot``, so results do not depend on the thread count.
The row-range helpers are shared with the serial block kernels run by Dask workers.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE, TILE_ROWS
from .blocks import _nearest_rows_direct, _nearest_rows_gemm
from .lloyd import centre_on


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def update_nearest(X, w, cands, mean, offset, gemm, bounds, closest, nearest, chunk_pot):
    """IN X (n,d), w (n,) f8, cands (m,d) of X's dtype, mean (d,), offset, gemm,
    bounds (n_chunks+1,); INOUT closest (n,) f8, nearest (n,) intp; OUT chunk_pot
    (n_chunks,) f8: per-chunk sum of w * closest."""
    d = X.shape[1]
    m = cands.shape[0]
    centred = np.empty_like(cands)
    half_norms = np.empty(m, dtype=cands.dtype)
    if gemm:
        centre_on(cands, mean, centred, half_norms)
    for c in prange(bounds.shape[0] - 1):
        if gemm:
            tile = np.empty((TILE_ROWS, d), dtype=X.dtype)
            dots = np.empty((TILE_ROWS, m), dtype=X.dtype)
            chunk_pot[c] = _nearest_rows_gemm(
                X,
                w,
                cands,
                centred,
                half_norms,
                mean,
                offset,
                bounds[c],
                bounds[c + 1],
                closest,
                nearest,
                tile,
                dots,
            )
        else:
            chunk_pot[c] = _nearest_rows_direct(
                X, w, cands, offset, bounds[c], bounds[c + 1], closest, nearest
            )
