"""Fused assignment + accumulation: one pass over the data per Lloyd iteration.

Two distance strategies share one output contract:

* direct differences ``sum((x - c)**2)`` in X's dtype, for few features;
* GEMM-style ``0.5 ||c - m||^2 - (x - m).(c - m)`` on tiles of rows for many features,
  with data and centroids centered on the data mean ``m`` to keep cancellation small; in
  float32 for float64 rows too, with the labels certified (:mod:`.mixed`).

Rows go in tiles of ``TILE_ROWS``; a tile is transposed (below ``ROW_MAJOR_MIN_FEATURES``)
so that the search for the nearest center runs across rows, vectorised and branch-free.

Both report the inertia as the weighted sum of exact squared differences to the chosen
centroid, accumulated in float64, whichever way the labels were found.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.extending import overload

from .._config import FASTMATH, NUMBA_CACHE, ROW_MAJOR_MIN_FEATURES, TILE_ROWS
from .launch import Chunked
from .mixed import certified_labels
from .partials import _start_partials, _tile_partials, nothing_moves
from .tiles import _transpose_tile, dot_values

#: The GEMM-style distances' dtype, for rows of either dtype: float32 (float64 rows get
#: labels certified as float64 finds them, :mod:`.mixed`).
DISTANCE_DTYPE = np.float32


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _keep_lower(j, v, best, lab, m):
    """IN center j, v (m,) its values for rows 0..m-1; INOUT best (m,), lab (m,) int32:
    the lowest value so far and its center (ties keep the lower index). Branch-free, so
    that LLVM vectorises it across rows."""
    for r in range(m):
        b = best[r]
        x = v[r]
        lab[r] = j if x < b else lab[r]
        best[r] = min(x, b)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _lower4(j, b, a, x0, x1, x2, x3):
    """IN center j, b and a the lowest value so far and its center, x0..x3 the values of
    centers j..j+3. Returns (b, a) updated in center order (ties keep the lower index):
    the steps of :func:`_keep_lower` for four centers, on one row."""
    a = j if x0 < b else a
    b = min(x0, b)
    a = j + 1 if x1 < b else a
    b = min(x1, b)
    a = j + 2 if x2 < b else a
    b = min(x2, b)
    a = j + 3 if x3 < b else a
    b = min(x3, b)
    return b, a


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _keep_lower4(j, v, best, lab, m):
    """:func:`_keep_lower` for centers j..j+3 at once, their values in the rows of v
    (4, >= m): best and lab are loaded and stored once for the four (the same compares in
    the same order, so the same labels)."""
    v0 = v[0]
    v1 = v[1]
    v2 = v[2]
    v3 = v[3]
    for r in range(m):
        best[r], lab[r] = _lower4(j, best[r], lab[r], v0[r], v1[r], v2[r], v3[r])


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def direct_column(xt, centers, j, acc):
    """IN xt (d,m) a transposed tile, centers (k,d), center j; OUT acc[:m] the rows'
    squared distances to center j, summed in X's dtype, four features per pass over the
    rows (one load and store of acc for four squares), then one by one. Every kernel that
    must find Lloyd's direct labels (Hamerly's and Yinyang's scans) uses this loop, and
    k-means++ weighs its candidates with it."""
    d, m = xt.shape
    c = centers[j]
    d4 = d // 4 * 4
    for f in range(0, d4, 4):
        x0 = xt[f]
        x1 = xt[f + 1]
        x2 = xt[f + 2]
        x3 = xt[f + 3]
        c0 = c[f]
        c1 = c[f + 1]
        c2 = c[f + 2]
        c3 = c[f + 3]
        if f == 0:
            for r in range(m):
                t0 = x0[r] - c0
                t1 = x1[r] - c1
                t2 = x2[r] - c2
                t3 = x3[r] - c3
                acc[r] = (t0 * t0 + t1 * t1) + (t2 * t2 + t3 * t3)
        else:
            for r in range(m):
                t0 = x0[r] - c0
                t1 = x1[r] - c1
                t2 = x2[r] - c2
                t3 = x3[r] - c3
                acc[r] += (t0 * t0 + t1 * t1) + (t2 * t2 + t3 * t3)
    for f in range(d4, d):
        x0 = xt[f]
        c0 = c[f]
        if f == 0:
            for r in range(m):
                t0 = x0[r] - c0
                acc[r] = t0 * t0
        else:
            for r in range(m):
                t0 = x0[r] - c0
                acc[r] += t0 * t0


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _sq_pair(x0, x1, c0, c1):
    """The squared distance of (x0, x1) to (c0, c1), formed as :func:`direct_column` forms
    it for two features: ``t0 * t0``, then ``+= t1 * t1``."""
    t = x0 - c0
    v = t * t
    t = x1 - c1
    v += t * t
    return v


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _keep_lower4_pairs(flat, centers, j, best, lab, m):
    """:func:`_keep_lower4` for rows of two features, read in place (``flat``: the tile's
    rows, row-major, no transposed copy), the four squared distances computed in the same
    loop (no ``acc`` stores and loads): each formed as :func:`direct_column` forms it
    (:func:`_sq_pair`), compared in the same order, so the labels are the same."""
    c00, c01 = centers[j, 0], centers[j, 1]
    c10, c11 = centers[j + 1, 0], centers[j + 1, 1]
    c20, c21 = centers[j + 2, 0], centers[j + 2, 1]
    c30, c31 = centers[j + 3, 0], centers[j + 3, 1]
    for r in range(m):
        x0 = flat[2 * r]
        x1 = flat[2 * r + 1]
        v0 = _sq_pair(x0, x1, c00, c01)
        v1 = _sq_pair(x0, x1, c10, c11)
        v2 = _sq_pair(x0, x1, c20, c21)
        v3 = _sq_pair(x0, x1, c30, c31)
        best[r], lab[r] = _lower4(j, best[r], lab[r], v0, v1, v2, v3)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _assign_pairs(rows, centers, best, lab):
    """IN rows (m,2) C-ordered, centers (k,2); OUT lab (m,) int32 nearest centers, best
    (m,) their squared distances: :func:`_assign_direct`'s labels and values for two
    features, from the rows in place: for two features a transposed copy of the tile costs
    about as much as the search itself (``python -m benchmarks.lowd_passes`` times the
    search alone)."""
    k = centers.shape[0]
    m = rows.shape[0]
    flat = rows.reshape(-1)
    for r in range(m):
        best[r] = np.inf
        lab[r] = 0
    k4 = k // 4 * 4
    for j in range(0, k4, 4):
        _keep_lower4_pairs(flat, centers, j, best, lab, m)
    for j in range(k4, k):
        c0 = centers[j, 0]
        c1 = centers[j, 1]
        for r in range(m):  # _keep_lower, the distance formed in the loop
            v = _sq_pair(flat[2 * r], flat[2 * r + 1], c0, c1)
            b = best[r]
            lab[r] = j if v < b else lab[r]
            best[r] = min(v, b)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _assign_direct(xt, centers, acc, best, lab):
    """IN xt (d,m) a transposed tile, centers (k,d); OUT lab (m,) int32 nearest centers
    by direct squared differences (:func:`direct_column`), best (m,) their values;
    workspace acc (4, TILE). Every inner loop runs across the tile's rows (SIMD); the
    lowest is kept four centers at a time (:func:`_keep_lower4`). Two features go through
    :func:`_assign_pairs` instead (the same labels). Both are calls, not inlined into
    the chunk kernel: it compiles in under half the time, and a call per tile costs
    nothing measurable (``python -m benchmarks.compile_profile --workload compile``)."""
    k = centers.shape[0]
    m = xt.shape[1]
    for r in range(m):
        best[r] = np.inf
        lab[r] = 0
    for j in range(0, k, 4):
        q_stop = min(4, k - j)
        for q in range(q_stop):  # one copy of the column loop: compile time, same labels
            direct_column(xt, centers, j + q, acc[q])
        if q_stop == 4:
            _keep_lower4(j, acc, best, lab, m)
        else:
            for q in range(q_stop):
                _keep_lower(j + q, acc[q], best, lab, m)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _direct_chunk(X, w, centers, start, stop, labels, sums, wsums, stats, smean, mode):
    """IN X (n,d), w (n,) f8, centers (k,d), rows start..stop, smean (d,) f8, mode;
    INOUT labels (n,), the chunk's partials sums (k,d) f8, wsums (k,) f8, stats (k,2) f8
    (see :func:`_tile_partials`). Returns (inertia, labels changed). Rows go in tiles:
    labels first, then the partials while the tile is in cache."""
    d = X.shape[1]
    inertia = 0.0
    changed = 0
    _start_partials(mode, sums, wsums, stats)
    zero = np.zeros(d, dtype=X.dtype)
    tile = np.empty(TILE_ROWS * d, dtype=X.dtype)
    acc = np.empty((4, TILE_ROWS), dtype=X.dtype)
    best = np.empty(TILE_ROWS, dtype=X.dtype)
    lab = np.empty(2 * TILE_ROWS, dtype=np.int32)  # labels, then _tile_partials' workspace
    for t0 in range(start, stop, TILE_ROWS):
        m = min(TILE_ROWS, stop - t0)
        if d == 2:
            _assign_pairs(X[t0 : t0 + m], centers, best, lab)
        else:
            _assign_direct(_transpose_tile(X, t0, m, zero, tile), centers, acc, best, lab)
        if nothing_moves(lab, labels, t0, m, mode):
            continue
        inertia, moved = _tile_partials(X, w, centers, t0, m, lab, labels, smean, sums, wsums,
                                        stats, mode, inertia)  # fmt: skip
        changed += moved
    return inertia, changed


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def center_on(centers, mean, centered, half_norms):
    """IN centers (k,d), mean (d,); OUT centered = centers - mean (k,d) of the centers' dtype,
    half_norms (k,) = 0.5 ||centered||^2 (accumulated in float64): what
    :func:`_gemm_chunk` needs."""
    k, d = centers.shape
    for j in range(k):
        s = 0.0
        for f in range(d):
            v = centers[j, f] - mean[f]
            centered[j, f] = v
            s += np.float64(v) * np.float64(v)
        half_norms[j] = 0.5 * s


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _argmin_transposed(X, centered, half_norms, mean, t0, m, tile, dots, best, lab):
    """Few features: the values of four centers at a time across the transposed,
    centered tile's rows (:func:`.tiles.dot_values`, the chain Hamerly's and Yinyang's
    scans form too), and the lowest kept as :func:`_assign_direct` keeps it (SIMD).
    OUT lab (m,) int32; workspaces tile, dots, best."""
    k = centered.shape[0]
    xt = _transpose_tile(X, t0, m, mean, tile)
    # C-ordered views (a slice of rows would not be one, nor vectorise)
    values = dots.reshape(-1)[: min(k, 4) * TILE_ROWS].reshape((min(k, 4), TILE_ROWS))
    for r in range(m):
        best[r] = np.inf
        lab[r] = 0
    for j in range(0, k, 4):
        q = min(4, k - j)  # a value, not a literal: one specialisation of dot_values
        dot_values(xt, centered, half_norms, j, q, values)
        if q == 4:
            _keep_lower4(j, values, best, lab, m)
        else:
            for p in range(q):
                _keep_lower(j + p, values[p], best, lab, m)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _argmin_row_major(X, centered, half_norms, mean, t0, m, tile, dots, lab):
    """Many features: the tile is copied as it lies (transposing long rows costs more than
    the argmin saves), one BLAS call gives the (m, k) dot products, and the argmin runs
    four rows at a time (independent chains). OUT lab (m,) int32; workspaces tile, dots."""
    k, d = centered.shape
    rows = tile.reshape(-1)[: m * d].reshape((m, d))
    for r in range(m):
        for f in range(d):
            rows[r, f] = X[t0 + r, f] - mean[f]
    prod = dots.reshape(-1)[: m * k].reshape((m, k))
    np.dot(rows, centered.T, prod)
    big = X.dtype.type(np.inf)
    m4 = m // 4 * 4
    for r in range(0, m4, 4):
        b0 = big
        b1 = big
        b2 = big
        b3 = big
        j0 = 0
        j1 = 0
        j2 = 0
        j3 = 0
        for j in range(k):
            h = half_norms[j]
            v0 = h - prod[r, j]
            v1 = h - prod[r + 1, j]
            v2 = h - prod[r + 2, j]
            v3 = h - prod[r + 3, j]
            if v0 < b0:
                b0 = v0
                j0 = j
            if v1 < b1:
                b1 = v1
                j1 = j
            if v2 < b2:
                b2 = v2
                j2 = j
            if v3 < b3:
                b3 = v3
                j3 = j
        lab[r] = j0
        lab[r + 1] = j1
        lab[r + 2] = j2
        lab[r + 3] = j3
    for r in range(m4, m):
        b0 = big
        j0 = 0
        for j in range(k):
            v0 = half_norms[j] - prod[r, j]
            if v0 < b0:
                b0 = v0
                j0 = j
        lab[r] = j0


def tile_labels(X, centers, centered, half_norms, mean, t0, m, tile, dots, work, lab):
    """IN X (n,d), centers (k,d) of X's dtype, centered = centers - mean (k,d) in the
    distances' dtype, half_norms = 0.5 ||centered||^2 (k,) in it, mean (d,) of X's dtype,
    rows t0..t0+m; OUT lab (m,) int32 the rows' nearest centers (ties to the lowest index);
    workspaces tile, dots of at least TILE*d and TILE*k elements and work of 3*TILE, in the
    distances' dtype. Float32 distances for float64 rows (``centered`` float32) are
    certified exact (:func:`.mixed.certified_labels`); otherwise the values and an
    argmin, laid out by :func:`_argmin_transposed` for few features, by
    :func:`_argmin_row_major` for many (``ROW_MAJOR_MIN_FEATURES``). Kernels only: the
    choice is made from the types, when a kernel calling it compiles."""
    raise TypeError("tile_labels runs inside Numba kernels only")


@overload(tile_labels, jit_options={"fastmath": FASTMATH, "nogil": True})
def _tile_labels_typed(X, centers, centered, half_norms, mean, t0, m, tile, dots, work, lab):
    """:func:`tile_labels`' implementation for the argument types: certified float32 for
    float64 rows, else the plain argmin of the rows' own dtype."""
    if X.dtype.bitwidth > centered.dtype.bitwidth:
        def certified(X, centers, centered, half_norms, mean, t0, m, tile, dots, work, lab):
            certified_labels(X, centers, centered, half_norms, mean, t0, m, tile, dots, work,
                             lab)  # fmt: skip

        return certified

    def plain(X, centers, centered, half_norms, mean, t0, m, tile, dots, work, lab):
        if X.shape[1] >= ROW_MAJOR_MIN_FEATURES:
            _argmin_row_major(X, centered, half_norms, mean, t0, m, tile, dots, lab)
        else:
            _argmin_transposed(X, centered, half_norms, mean, t0, m, tile, dots, work, lab)

    return plain


tile_labels.overloaded_by = (_tile_labels_typed,)  # what the call graph walks through


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _gemm_chunk(
    X,
    w,
    centers,
    centered,
    half_norms,
    mean,
    start,
    stop,
    labels,
    sums,
    wsums,
    stats,
    smean,
    mode,
):
    """IN X (n,d), w (n,) f8, centers (k,d), centered = centers - mean (k,d),
    half_norms = 0.5 ||centered||^2 (k,), mean (d,), rows start..stop, smean (d,) f8,
    mode; INOUT labels (n,), the chunk's partials as :func:`_direct_chunk`. Returns
    (inertia, labels changed).

    Per tile, the GEMM-style values and an argmin (:func:`tile_labels`)."""
    _start_partials(mode, sums, wsums, stats)
    inertia = 0.0
    changed = 0
    # 1-D workspaces in the distances' dtype: one type for the helpers
    tile = np.empty(TILE_ROWS * X.shape[1], dtype=centered.dtype)
    dots = np.empty(TILE_ROWS * centers.shape[0], dtype=centered.dtype)
    work = np.empty(3 * TILE_ROWS, dtype=centered.dtype)
    lab = np.empty(2 * TILE_ROWS, dtype=np.int32)  # labels, then _tile_partials' workspace
    for t0 in range(start, stop, TILE_ROWS):
        m = min(TILE_ROWS, stop - t0)
        tile_labels(X, centers, centered, half_norms, mean, t0, m, tile, dots, work, lab)
        if nothing_moves(lab, labels, t0, m, mode):
            continue
        inertia, moved = _tile_partials(X, w, centers, t0, m, lab, labels, smean, sums, wsums,
                                        stats, mode, inertia)  # fmt: skip
        changed += moved
    return inertia, changed


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def lloyd_direct_chunk(first, stop, X, w, centers, bounds, labels, sums, wsums, stats, smean,
                       inertia, changed, mode):  # fmt: skip
    """Chunks first..stop-1 of :data:`lloyd_direct`: IN X (n,d), w (n,) f8, centers (k,d),
    bounds (n_chunks+1,), smean (d,) f8 (the stats' origin), mode (EXACT, SUMS, REFRESH or
    MOVES); INOUT labels (n,), the per-chunk partials sums (n_chunks,k,d) f8, wsums
    (n_chunks,k) f8, stats (n_chunks,k,2) f8 (any shape where ``mode`` does not use them);
    OUT inertia (n_chunks,) f8 (0 for MOVES), changed (n_chunks,) intp. Chunk c writes only
    its own slots."""
    for c in range(first, stop):
        inertia[c], changed[c] = _direct_chunk(X, w, centers, bounds[c], bounds[c + 1],
                                               labels, sums[c], wsums[c], stats[c], smean,
                                               mode)  # fmt: skip


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def lloyd_gemm_chunk(first, stop, X, w, centers, mean, bounds, labels, sums, wsums, stats,
                     smean, inertia, changed, mode):  # fmt: skip
    """Chunks first..stop-1 of :data:`lloyd_gemm`: IN X (n,d), w (n,) f8, centers (k,d),
    mean (d,) of X's dtype, bounds (n_chunks+1,); the rest as :func:`lloyd_direct_chunk`.
    Each call centers the centers itself (k x d work, the same bits in every call). BLAS
    must run single-threaded."""
    centered = np.empty(centers.shape, dtype=DISTANCE_DTYPE)
    half_norms = np.empty(centers.shape[0], dtype=DISTANCE_DTYPE)
    center_on(centers, mean, centered, half_norms)
    for c in range(first, stop):
        inertia[c], changed[c] = _gemm_chunk(
            X,
            w,
            centers,
            centered,
            half_norms,
            mean,
            bounds[c],
            bounds[c + 1],
            labels,
            sums[c],
            wsums[c],
            stats[c],
            smean,
            mode,
        )


#: ``lloyd_direct(X, w, centers, bounds, labels, sums, wsums, stats, smean, inertia,
#: changed, mode)``: one Lloyd pass with direct differences, chunks in parallel
#: (:func:`lloyd_direct_chunk`); the twin runs on the calling thread (small data, Dask
#: workers: no Numba thread pool).
lloyd_direct = Chunked(lloyd_direct_chunk, bounds_at=3)
lloyd_direct_serial = lloyd_direct.serial_twin()
#: ``lloyd_gemm(X, w, centers, mean, bounds, ...)``: as :data:`lloyd_direct` with the
#: GEMM-style distances (:func:`lloyd_gemm_chunk`).
lloyd_gemm = Chunked(lloyd_gemm_chunk, bounds_at=4)
lloyd_gemm_serial = lloyd_gemm.serial_twin()


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def reduce_chunks(sums, wsums, total_sums, total_wsums):
    """IN sums (n_chunks,k,d) f8, wsums (n_chunks,k) f8; OUT total_sums (k,d) f8,
    total_wsums (k,) f8, summed in chunk order."""
    total_sums[:] = 0.0
    total_wsums[:] = 0.0
    for c in range(sums.shape[0]):
        for j in range(sums.shape[1]):
            total_wsums[j] += wsums[c, j]
            for f in range(sums.shape[2]):
                total_sums[j, f] += sums[c, j, f]
