"""Greedy k-means++ seeding (Arthur & Vassilvitskii, with scikit-learn's local trials).

Random numbers are drawn in Python and passed in; the kernel only walks the weighted
potential. Potentials are summed per fixed chunk and merged in chunk order, so the picks do
not depend on the thread count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from .._config import (
    FASTMATH,
    FOUR_CANDIDATES_FROM_FEATURES,
    NUMBA_CACHE,
    TILE_ROWS,
)
from .launch import Chunked, _key, call_chunk
from .lloyd import direct_column
from .tiles import _transpose_tile


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _pick(w, closest, bounds, chunk_pot, target):
    """IN w (n,) f8, closest (n,) f8, bounds, chunk_pot (n_chunks,) f8, target f8.
    Returns the first row where the running sum of w * closest exceeds target, walking the
    chunk totals first; the last row of positive potential when rounding overshoots."""
    n_chunks = chunk_pot.shape[0]
    acc = 0.0
    last = -1
    for c in range(n_chunks):
        if chunk_pot[c] <= 0.0:
            continue
        if acc + chunk_pot[c] > target:
            for i in range(bounds[c], bounds[c + 1]):
                p = w[i] * closest[i]
                if p > 0.0:
                    last = i
                    acc += p
                    if acc > target:
                        return i
            return last
        acc += chunk_pot[c]
        for i in range(bounds[c + 1] - 1, bounds[c] - 1, -1):
            if w[i] * closest[i] > 0.0:
                last = i
                break
    return last


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _sq_dist_rows(X, a, b):
    """IN X (n,d), rows a and b. Returns ||X[a] - X[b]||^2, summed in X's dtype (SIMD-wide
    for float32: seeding only needs distances good enough to draw by), as float64."""
    s = X.dtype.type(0)
    for f in range(X.shape[1]):
        t = X[a, f] - X[b, f]
        s += t * t
    return np.float64(s)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _first_chunk(X, w, closest, lo, hi, row):
    """IN X (n,d), w (n,) f8, rows lo..hi, the first center's row; OUT closest (n,) f8.
    Returns the chunk's potential sum(w * closest)."""
    s = 0.0
    for i in range(lo, hi):
        closest[i] = _sq_dist_rows(X, i, row)
        s += w[i] * closest[i]
    return s


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _take_chunk(w, closest, dstore, lo, hi, t):
    """IN w (n,) f8, dstore (n,L) squared distances to this step's candidates, rows lo..hi,
    the chosen candidate t; INOUT closest (n,) f8. Returns the chunk's new potential."""
    s = 0.0
    for i in range(lo, hi):
        d2 = np.float64(dstore[i, t])
        if d2 < closest[i]:
            closest[i] = d2
        s += w[i] * closest[i]
    return s


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _weigh(out, pot, r, t, s, wr, cr):
    """OUT out[r, t] = s, the squared distance of row r to candidate t; INOUT pot[t] += the
    row's weighted potential were t added (its current one cr, or s if lower)."""
    out[r, t] = s
    d2 = np.float64(s)
    pot[t] += wr * (d2 if d2 < cr else cr)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _candidates_one(rows, wc, near, cand, out, pot):
    """IN rows (m,d), wc (m,) f8 their weights, near (m,) f8 their current potentials,
    cand (L,d); OUT out (m,L) squared distances, INOUT pot (L,) f8 (see
    :func:`_candidate_chunk`). One candidate at a time."""
    n_trials, d = cand.shape
    for r in range(rows.shape[0]):
        x = rows[r]
        wr = wc[r]
        cr = near[r]
        for t in range(n_trials):
            c = cand[t]
            s = rows.dtype.type(0)
            for f in range(d):
                v = x[f] - c[f]
                s += v * v
            _weigh(out, pot, r, t, s, wr, cr)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _candidates_four(rows, wc, near, cand, out, pot):
    """As :func:`_candidates_one`, four candidates at a time: each feature is loaded once
    for four independent sums."""
    n_trials, d = cand.shape
    zero = rows.dtype.type(0)
    four = n_trials // 4 * 4
    for r in range(rows.shape[0]):
        x = rows[r]
        wr = wc[r]
        cr = near[r]
        for t in range(0, four, 4):
            c0 = cand[t]
            c1 = cand[t + 1]
            c2 = cand[t + 2]
            c3 = cand[t + 3]
            s0 = zero
            s1 = zero
            s2 = zero
            s3 = zero
            for f in range(d):
                xf = x[f]
                v0 = xf - c0[f]
                v1 = xf - c1[f]
                v2 = xf - c2[f]
                v3 = xf - c3[f]
                s0 += v0 * v0
                s1 += v1 * v1
                s2 += v2 * v2
                s3 += v3 * v3
            _weigh(out, pot, r, t, s0, wr, cr)
            _weigh(out, pot, r, t + 1, s1, wr, cr)
            _weigh(out, pot, r, t + 2, s2, wr, cr)
            _weigh(out, pot, r, t + 3, s3, wr, cr)
        for t in range(four, n_trials):
            c = cand[t]
            s = zero
            for f in range(d):
                v = x[f] - c[f]
                s += v * v
            _weigh(out, pot, r, t, s, wr, cr)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _candidate_chunk(X, w, closest, lo, hi, cand, dstore, pot):
    """IN X (n,d), w (n,) f8, closest (n,) f8, rows lo..hi, cand (L,d) the candidates' rows;
    OUT dstore (n,L) squared distances to the candidates (rows lo..hi), pot (L,) f8: the
    chunk's potential if each candidate were added. Row by row, each row read once for
    all L candidates: one at a time (:func:`_candidates_one`), or four at a time from
    ``FOUR_CANDIDATES_FROM_FEATURES`` features on (:func:`_candidates_four`). The loops
    index slices from 0 (no index wrap-around checks)."""
    for t in range(cand.shape[0]):
        pot[t] = 0.0
    args = (X[lo:hi], w[lo:hi], closest[lo:hi], cand, dstore[lo:hi], pot)
    if X.shape[1] >= FOUR_CANDIDATES_FROM_FEATURES:
        _candidates_four(*args)
    else:
        _candidates_one(*args)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _candidate_tiles(X, w, closest, lo, hi, cand, pot):
    """IN X (n,d), w (n,) f8, closest (n,) f8, rows lo..hi, cand (L,d) the candidates' rows;
    OUT pot (L,) f8: the chunk's potential if each candidate were added.

    For few features: rows go in transposed tiles, shared by the L candidates, so that
    every inner loop runs across rows (SIMD). Nothing per row is stored: the winner's
    distances are recomputed by :func:`_take_row` (storing n x L distances costs more
    memory traffic than recomputing one candidate's)."""
    n_trials, d = cand.shape
    zero = np.zeros(d, dtype=X.dtype)
    tile = np.empty(TILE_ROWS * d, dtype=X.dtype)
    acc = np.empty(TILE_ROWS, dtype=X.dtype)
    for t in range(n_trials):
        pot[t] = 0.0
    for t0 in range(lo, hi, TILE_ROWS):
        m = min(TILE_ROWS, hi - t0)
        xt = _transpose_tile(X, t0, m, zero, tile)
        near = closest[t0 : t0 + m]  # slices: no index wrap-around checks in the loops
        wt = w[t0 : t0 + m]
        for t in range(n_trials):
            direct_column(xt, cand, t, acc)
            s = 0.0
            for r in range(m):
                a = np.float64(acc[r])
                b = near[r]
                s += wt[r] * (a if a < b else b)
            pot[t] += s


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _take_row(X, w, closest, lo, hi, row):
    """IN X (n,d), w (n,) f8, rows lo..hi, the chosen center's row; INOUT closest (n,) f8.
    Returns the chunk's new potential. The distances are summed as :func:`_sq_dist_rows`
    sums them, which may differ from the tile sums that weighed the candidate in the last
    bits: harmless, since only the draw of later centers depends on them."""
    s = 0.0
    for i in range(lo, hi):
        c = min(closest[i], _sq_dist_rows(X, i, row))
        closest[i] = c
        s += w[i] * c
    return s


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _first_center(w, bounds, first_u, chunk_pot):
    """IN w (n,) f8, bounds, first_u f8; OUT chunk_pot (n_chunks,) f8 (chunk weights).
    Returns the first center: a row drawn with probability proportional to its weight."""
    ones = np.ones(w.shape[0])
    total = 0.0
    for c in range(chunk_pot.shape[0]):
        s = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            s += w[i]
        chunk_pot[c] = s
        total += s
    return _pick(w, ones, bounds, chunk_pot, first_u * total)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _draw_candidates(w, closest, bounds, chunk_pot, u, candidates):
    """IN w, closest, bounds, chunk_pot, u (L,) uniforms; OUT candidates (L,) intp.
    Returns False when no row has positive potential (every row sits on a center)."""
    total = 0.0
    for c in range(chunk_pot.shape[0]):
        total += chunk_pot[c]
    for t in range(candidates.shape[0]):
        candidates[t] = _pick(w, closest, bounds, chunk_pot, u[t] * total)
    return candidates[0] >= 0


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _best_candidate(cand_pot, candidates):
    """IN cand_pot (n_chunks,L) f8, candidates (L,). Returns the index t of the candidate
    whose potential, summed in chunk order, is lowest (ties to the first drawn)."""
    best_t = 0
    best_pot = np.inf
    for t in range(candidates.shape[0]):
        s = 0.0
        for c in range(cand_pot.shape[0]):
            s += cand_pot[c, t]
        if s < best_pot:
            best_pot = s
            best_t = t
    return best_t


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _gather(X, candidates, cand):
    """IN X (n,d), candidates (L,) rows; OUT cand (L,d) = X[candidates], element by element
    (an array assignment would compile Numba's shape-mismatch message)."""
    for t in range(candidates.shape[0]):
        i = candidates[t]
        for f in range(X.shape[1]):
            cand[t, f] = X[i, f]


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def _workspace(X, bounds, trial_u):
    """IN X (n,d), bounds (n_chunks+1,), trial_u (k-1,L). Returns the workspaces of one
    k-means++ run: closest (n,) f8, cand (L,d), chunk_pot (n_chunks,) f8, candidates (L,)
    intp, cand_pot (n_chunks,L) f8."""
    n_chunks = bounds.shape[0] - 1
    n_trials = trial_u.shape[1]
    return (
        np.empty(X.shape[0]),
        np.empty((n_trials, X.shape[1]), dtype=X.dtype),
        np.empty(n_chunks),
        np.empty(n_trials, dtype=np.intp),
        np.empty((n_chunks, n_trials)),
    )


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def first_chunks(first, stop, X, w, closest, bounds, row, chunk_pot):
    """Chunks first..stop-1 of the first step: :func:`_first_chunk`, potentials into
    chunk_pot (n_chunks,) f8."""
    for c in range(first, stop):
        chunk_pot[c] = _first_chunk(X, w, closest, bounds[c], bounds[c + 1], row)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def tile_candidate_chunks(first, stop, X, w, closest, bounds, cand, dstore, cand_pot):
    """Chunks first..stop-1 of a step's weighing on tiles: :func:`_candidate_tiles`
    (dstore unused: the arguments of :func:`row_candidate_chunks`)."""
    for c in range(first, stop):
        _candidate_tiles(X, w, closest, bounds[c], bounds[c + 1], cand, cand_pot[c])


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def take_row_chunks(first, stop, X, w, closest, dstore, bounds, row, best, chunk_pot):
    """Chunks first..stop-1 of taking a step's winner, the center's ``row``:
    :func:`_take_row` (dstore and best unused: the arguments of
    :func:`take_stored_chunks`)."""
    for c in range(first, stop):
        chunk_pot[c] = _take_row(X, w, closest, bounds[c], bounds[c + 1], row)


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def row_candidate_chunks(first, stop, X, w, closest, bounds, cand, dstore, cand_pot):
    """Chunks first..stop-1 of a step's weighing row by row: :func:`_candidate_chunk`."""
    for c in range(first, stop):
        _candidate_chunk(X, w, closest, bounds[c], bounds[c + 1], cand, dstore, cand_pot[c])


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def take_stored_chunks(first, stop, X, w, closest, dstore, bounds, row, best, chunk_pot):
    """Chunks first..stop-1 of taking a step's winner, candidate ``best``, from the stored
    distances: :func:`_take_chunk` (X and row unused)."""
    for c in range(first, stop):
        chunk_pot[c] = _take_chunk(w, closest, dstore, bounds[c], bounds[c + 1], best)


_FIRST = Chunked(first_chunks, bounds_at=3)
_TILE_CANDIDATES = Chunked(tile_candidate_chunks, bounds_at=3)
_TAKE_ROW = Chunked(take_row_chunks, bounds_at=4)
_ROW_CANDIDATES = Chunked(row_candidate_chunks, bounds_at=3)
_TAKE_STORED = Chunked(take_stored_chunks, bounds_at=4)


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def plusplus_steps(X, w, bounds, first_u, trial_u, out, closest, cand, chunk_pot, candidates,
                   cand_pot, dstore, p_first, p_candidates, p_take):  # fmt: skip
    """IN X (n,d), w (n,) f8, bounds (n_chunks+1,), first_u f8 in [0,1), trial_u (k-1,L) f8
    uniforms in [0,1), the workspaces of :func:`_workspace` (arguments of their own: Numba,
    0.68, loses a ``prange`` loop's stores into arrays unpacked from a tuple), dstore (n,L)
    of X's dtype (empty on tiles), p_first, p_candidates, p_take the addresses of the chunk
    kernels (:func:`first_chunks`, then :func:`tile_candidate_chunks` and
    :func:`take_row_chunks` on tiles, or :func:`row_candidate_chunks` and
    :func:`take_stored_chunks` row by row); OUT out (k,) intp: the rows chosen as centers.
    Each phase of a step runs its chunks in parallel through the chunk kernel's address
    (:mod:`.launch`)."""
    n = X.shape[0]
    n_chunks = bounds.shape[0] - 1
    out[0] = _first_center(w, bounds, first_u, chunk_pot)
    row = out[0]
    for c in prange(n_chunks):
        call_chunk(p_first, np.int64(c), (X, w, closest, bounds, row, chunk_pot))
    for step in range(1, out.shape[0]):
        if not _draw_candidates(w, closest, bounds, chunk_pot, trial_u[step - 1], candidates):
            out[step] = (out[step - 1] + 1) % n  # all rows sit on centers
            continue
        _gather(X, candidates, cand)
        for c in prange(n_chunks):
            call_chunk(p_candidates, np.int64(c), (X, w, closest, bounds, cand, dstore, cand_pot))
        best = _best_candidate(cand_pot, candidates)
        out[step] = candidates[best]
        row = out[step]
        for c in prange(n_chunks):
            call_chunk(p_take, np.int64(c), (X, w, closest, dstore, bounds, row, best, chunk_pot))


def _steps(X: Any, w: Any, bounds: Any, work: Any, dstore: Any, candidates: Chunked,
           take: Chunked) -> tuple[Any, Any, Any]:  # fmt: skip
    """The addresses of the chunk kernels of :func:`plusplus_steps`, kept under the types
    of X, w and bounds (the rest are the workspaces of :func:`_workspace`)."""
    closest, cand, chunk_pot, _, cand_pot = work
    row = np.intp(0)
    key = ("plusplus", _key(X), _key(w), _key(bounds))
    return (
        _FIRST.address_by(key, lambda: (X, w, closest, bounds, row, chunk_pot)),
        candidates.address_by(key, lambda: (X, w, closest, bounds, cand, dstore, cand_pot)),
        take.address_by(key, lambda: (X, w, closest, dstore, bounds, row, row, chunk_pot)),
    )


def kmeans_plusplus_tiles(X: Any, w: Any, bounds: Any, first_u: float, trial_u: Any,
                          out: Any, driver: Any = plusplus_steps) -> None:  # fmt: skip
    """IN X (n,d), w (n,) f8, bounds (n_chunks+1,), first_u f8 in [0,1), trial_u (k-1,L) f8
    uniforms in [0,1); OUT out (k,) intp: the rows chosen as centers. For few features
    (below ``SEED_TILES_BELOW_FEATURES``): each step weighs the L candidates on transposed
    tiles (:func:`_candidate_tiles`), nothing stored per row, and reads the data once more
    to take the winner. ``driver``: :func:`plusplus_steps`, or its serial twin
    (``python -m benchmarks.small_kernels`` times the steps on the calling thread)."""
    work = _workspace(X, bounds, trial_u)
    dstore = np.empty((0, trial_u.shape[1]), dtype=X.dtype)
    steps = _steps(X, w, bounds, work, dstore, _TILE_CANDIDATES, _TAKE_ROW)
    driver(X, w, bounds, float(first_u), trial_u, out, *work, dstore, *steps)


def kmeans_plusplus_rows(X: Any, w: Any, bounds: Any, first_u: float, trial_u: Any,
                         out: Any) -> None:  # fmt: skip
    """As :func:`kmeans_plusplus_tiles`, for more features: rows as they lie (transposing
    longer rows costs more than it saves), each row read once for the L candidates
    (:func:`_candidate_chunk`) and their distances kept (n x L) to take the winner."""
    work = _workspace(X, bounds, trial_u)
    dstore = np.empty((X.shape[0], trial_u.shape[1]), dtype=X.dtype)
    steps = _steps(X, w, bounds, work, dstore, _ROW_CANDIDATES, _TAKE_STORED)
    plusplus_steps(X, w, bounds, float(first_u), trial_u, out, *work, dstore, *steps)
