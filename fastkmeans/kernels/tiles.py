"""Tile primitives shared by the kernel families: rows gathered into a tile workspace."""

from __future__ import annotations

from numba import njit

from .._config import FASTMATH, NUMBA_CACHE


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _transpose_tile(X, t0, m, shift, tile):
    """IN X (n,d), rows t0..t0+m, shift (d,) (zeros or the data mean); OUT tile: a
    workspace of at least d*m elements, returned as the C-ordered (d, m) view holding
    (X[t0:t0+m] - shift).T, so that loops over rows run along contiguous memory."""
    d = X.shape[1]
    xt = tile.reshape(-1)[: d * m].reshape((d, m))
    rows = X[t0 : t0 + m]  # slices: indices from 0, no wrap-around checks in the loops
    if d == 2:  # stride-2 loads of one flat run
        flat = rows.reshape(-1)  # (for two features the 8-row blocks below were slower)
        x0 = xt[0]
        x1 = xt[1]
        s0 = shift[0]
        s1 = shift[1]
        for r in range(m):
            x0[r] = flat[2 * r] - s0
            x1[r] = flat[2 * r + 1] - s1
        return xt
    m8 = m // 8 * 8  # 8 rows at a time, written as 8-wide runs
    for r0 in range(0, m8, 8):
        block = rows[r0 : r0 + 8]
        for f in range(d):
            s = shift[f]
            out = xt[f, r0 : r0 + 8]
            for r in range(8):
                out[r] = block[r, f] - s
    for r in range(m8, m):
        for f in range(d):
            xt[f, r] = rows[r, f] - shift[f]
    return xt
