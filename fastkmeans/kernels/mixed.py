"""Float64 rows, float32 distances: GEMM-style labels certified against float64.

A float64 tile's dot products with the centers run in float32 (twice float64's lanes: in
:func:`.tiles.dot_values` for few features, one ``sgemm`` for many), with the rounding of
every term bounded: for a row ``x`` centered on the mean (``x'``) and a center ``c'``,
the float32 value of ``0.5 ||c'||^2 - x'.c'`` is within

    ``e(x) = (d + 4) * eps32 * (||x'|| * max ||c'|| + max 0.5 ||c'||^2)``

of its exact value (Higham's bound ``d u sum |x'_f c'_f|`` for the dot product, in any
order of summation, one rounding of each operand and of ``h``, of the difference;
``eps32 = 2u``, so twice over).
A row whose second-lowest value exceeds its lowest by more than ``2 e(x)`` has its label
for certain; the rest (near ties) are recomputed from float64 differences. The labels
are those of float64 arithmetic, ties to the lowest index, at about float32's cost. Data
beyond float32's range (values, or their squares) make the bound infinite or NaN, and
every such row is recomputed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._config import FASTMATH, NUMBA_CACHE, ROW_MAJOR_MIN_FEATURES, TILE_ROWS
from .tiles import _transpose_tile, dot_values

#: float32's machine epsilon (2^-23), in float64.
EPS32 = float(np.finfo(np.float32).eps)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _lower_second(j, b, s, a, x):
    """IN center j, b the lowest value so far, s the second lowest, a b's center, x center
    j's value. Returns (b, s, a) updated (ties keep the lower index; a tie sets s = b)."""
    s = min(s, max(b, x))
    a = j if x < b else a
    b = min(x, b)
    return b, s, a


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _centered_rows(X, mean, t0, m, tile, sq, transpose):
    """IN X (n,d) f8, mean (d,) f8, rows t0..t0+m; OUT tile: the rows minus the mean in
    tile's dtype, as a C-ordered (d, m) view when ``transpose`` (:func:`.tiles._transpose_tile`)
    and (m, d) otherwise, returned; sq[:m] their squared norms (of the rounded values:
    within the bound's 1%)."""
    d = X.shape[1]
    if transpose:
        xt = _transpose_tile(X, t0, m, mean, tile)
        for r in range(m):
            sq[r] = 0.0
        for f in range(d):  # across rows: SIMD, on the tile while it is in cache
            col = xt[f]
            for r in range(m):
                sq[r] += col[r] * col[r]
        return xt
    rows = X[t0 : t0 + m]  # slices: indices from 0, no wrap-around checks in the loops
    out = tile.reshape(-1)[: m * d].reshape((m, d))
    for r in range(m):
        s = 0.0
        for f in range(d):
            v = rows[r, f] - mean[f]
            out[r, f] = v
            s += v * v
        sq[r] = s
    return out


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _lowest_two(xt, centered, half_norms, dots, m, best, second, lab):
    """IN xt (d, m) the transposed, centered tile, centered (k,d), half_norms (k,); OUT
    best, second (m,) the lowest two of the GEMM-style values per row, lab (m,) int32 the
    lowest's center (ties to the lowest index); workspace dots. The values come four
    centers at a time from :func:`.tiles.dot_values` (as Lloyd's float32 kernel forms
    them), the updates run across rows (SIMD)."""
    k = half_norms.shape[0]
    big = best.dtype.type(np.inf)
    values = dots.reshape(-1)[: min(k, 4) * TILE_ROWS].reshape((min(k, 4), TILE_ROWS))
    for r in range(m):
        best[r] = big
        second[r] = big
        lab[r] = 0
    for j in range(0, k, 4):
        q = min(4, k - j)
        dot_values(xt, centered, half_norms, j, q, values)
        if q == 4:  # best, second and lab loaded and stored once for the four
            v0, v1, v2, v3 = values[0], values[1], values[2], values[3]
            for r in range(m):
                b, s, a = _lower_second(j, best[r], second[r], lab[r], v0[r])
                b, s, a = _lower_second(j + 1, b, s, a, v1[r])
                b, s, a = _lower_second(j + 2, b, s, a, v2[r])
                best[r], second[r], lab[r] = _lower_second(j + 3, b, s, a, v3[r])
            continue
        for p in range(q):
            v = values[p]
            for r in range(m):
                best[r], second[r], lab[r] = _lower_second(j + p, best[r], second[r], lab[r],
                                                           v[r])  # fmt: skip


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _lowest_two_rows(prod, half_norms, m, best, second, lab):
    """:func:`_lowest_two` for many features: IN prod (m, k) the rows' dot products with
    the centered centers (one BLAS call), the values ``half_norms - prod`` formed here."""
    k = half_norms.shape[0]
    big = best.dtype.type(np.inf)
    for r in range(m):
        b = big
        s = big
        a = 0
        p = prod[r]
        for j in range(k):
            b, s, a = _lower_second(j, b, s, a, half_norms[j] - p[j])
        best[r] = b
        second[r] = s
        lab[r] = a


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _settle_near_ties(X, centers, half_norms, t0, m, best, second, sq, lab):
    """IN X (n,d) f8, centers (k,d) f8, half_norms (k,) the float32 ones, rows t0..t0+m,
    best, second, sq (m,) as :func:`_lowest_two` and :func:`_centered_rows` left them;
    INOUT lab (m,): rows whose two lowest values lie within twice the rounding bound get
    the float64 argmin of their squared differences (ties to the lowest index).
    Returns how many rows were recomputed."""
    k, d = centers.shape
    hmax = 0.0
    for j in range(k):
        hmax = max(hmax, np.float64(half_norms[j]))
    cmax = np.sqrt(2.0 * hmax)
    scale = 2.0 * (d + 4) * EPS32 * 1.01  # twice the bound, 1% for the float32 norms
    redone = 0
    for r in range(m):
        err = scale * (np.sqrt(np.float64(sq[r])) * cmax + hmax)
        if np.float64(second[r]) - np.float64(best[r]) > err:
            continue
        redone += 1
        a = 0
        low = np.inf
        for j in range(k):
            s = 0.0
            for f in range(d):
                t = X[t0 + r, f] - centers[j, f]
                s += t * t
            if s < low:
                low = s
                a = j
        lab[r] = a
    return redone


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def certified_labels(X, centers, centered, half_norms, mean, t0, m, tile, dots, work, lab):
    """IN X (n,d) f8, centers (k,d) f8, centered = centers - mean (k,d) f4, half_norms =
    0.5 ||centered||^2 (k,) f4, mean (d,) f8, rows t0..t0+m; OUT lab (m,) int32 the rows'
    nearest centers, as float64 finds them; workspaces (f4) tile and dots of at least
    TILE*d and TILE*k elements, work of 3*TILE. The float32 values (:func:`_lowest_two`;
    one BLAS call for many features), the two lowest per row, and float64 for the near
    ties. Returns the rows recomputed."""
    k, d = centered.shape
    transpose = d < ROW_MAJOR_MIN_FEATURES
    best = work[:m]
    second = work[TILE_ROWS : TILE_ROWS + m]
    sq = work[2 * TILE_ROWS : 2 * TILE_ROWS + m]
    rows = _centered_rows(X, mean, t0, m, tile, sq, transpose)
    if transpose:
        _lowest_two(rows, centered, half_norms, dots, m, best, second, lab)
    else:
        prod = dots.reshape(-1)[: m * k].reshape((m, k))
        np.dot(rows, centered.T, prod)
        _lowest_two_rows(prod, half_norms, m, best, second, lab)
    return _settle_near_ties(X, centers, half_norms, t0, m, best, second, sq, lab)
