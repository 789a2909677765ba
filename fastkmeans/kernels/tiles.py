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


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _dot_column(xt, c, h, a, m):
    """OUT a[:m] = h - xt.T @ c, one chain per row from ``h`` down, the features in order,
    eight per pass over the rows. Each pass's loop reads at most eight rows of ``xt`` and
    stores one array, the coefficients held in scalars: with more arrays in one loop the
    compiler's run-time overlap checks exceed its limit and the loop stays scalar."""
    d = xt.shape[0]
    f = 0
    first = True
    while f + 8 <= d:
        x0, x1, x2, x3 = xt[f], xt[f + 1], xt[f + 2], xt[f + 3]
        x4, x5, x6, x7 = xt[f + 4], xt[f + 5], xt[f + 6], xt[f + 7]
        c0, c1, c2, c3 = c[f], c[f + 1], c[f + 2], c[f + 3]
        c4, c5, c6, c7 = c[f + 4], c[f + 5], c[f + 6], c[f + 7]
        for r in range(m):
            v = h if first else a[r]
            v = (((v - x0[r] * c0) - x1[r] * c1) - x2[r] * c2) - x3[r] * c3
            a[r] = (((v - x4[r] * c4) - x5[r] * c5) - x6[r] * c6) - x7[r] * c7
        first = False
        f += 8
    while f + 4 <= d:
        x0, x1, x2, x3 = xt[f], xt[f + 1], xt[f + 2], xt[f + 3]
        c0, c1, c2, c3 = c[f], c[f + 1], c[f + 2], c[f + 3]
        for r in range(m):
            v = h if first else a[r]
            a[r] = (((v - x0[r] * c0) - x1[r] * c1) - x2[r] * c2) - x3[r] * c3
        first = False
        f += 4
    while f < d:
        x0 = xt[f]
        c0 = c[f]
        for r in range(m):
            v = h if first else a[r]
            a[r] = v - x0[r] * c0
        first = False
        f += 1


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def dot_values(xt, centered, half_norms, j, q, out):
    """IN xt (d,m) a transposed, centered tile, centered (k,d), half_norms (k,), centers
    j..j+q-1; OUT out[0..q-1, :m] = half_norms[c] - xt.T @ centered[c] for those centers:
    the GEMM-style values ``0.5 ||c - m||^2 - (x - m).(c - m)`` whose lowest is a row's
    label, in the distances' dtype. Each value is one chain from the half norm down, the
    features in order (:func:`_dot_column`), so every kernel that forms it (Lloyd's
    assignment, Hamerly's and Yinyang's scans) gets the same bits. For the few features of
    this layout a small BLAS call per tile cost more than these loops
    (``python -m benchmarks.tuning --only values``)."""
    m = xt.shape[1]
    for p in range(q):
        _dot_column(xt, centered[j + p], half_norms[j + p], out[p], m)
