"""Kernels for small problems (``n * k * d <= SERIAL_MAX_WORK``): plain row loops.

Small data run on the calling thread, where the tiles, transposes and SIMD layout of the
large-data kernels save microseconds (on the tutorial's 750 points these take 1.2-2.0x
the tiled kernels' time per call, about 10-30 us: ``python -m benchmarks.small_kernels``)
but cost seconds of compilation on the first fit (the tutorial's first fit compiled 9.6 s
of CPU with them, 4.4 s with these: ``python -m benchmarks.compile_profile --workload
tutorial``, empty cache). They compute the same values in the same order:

* :func:`lloyd_small` is :func:`.lloyd.lloyd_direct` row by row: each row's squared
  distances are summed in X's dtype as :func:`.lloyd.direct_column` sums them (four
  features per group, the groups added in order), ties go to the lower center, and the
  sums and exact inertia are added as :func:`.partials._accumulate` adds them, per fixed
  chunk, so labels, sums and inertia equal the tiled kernel's (tested bit for bit).
* :func:`kmeans_plusplus_small` is greedy k-means++ with the same draws as
  :func:`.seeding.kmeans_plusplus_tiles` (the same walk of the chunk potentials); each
  candidate's potential is summed row by row, so picks may differ from the tiled kernel's
  only where two sums agree to their last bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._config import FASTMATH, NUMBA_CACHE
from .partials import MOVES, REFRESH, SUMS, _start_partials, _tile_total, refresh_tile
from .seeding import _pick, _sq_dist_rows


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True, inline="always")
def _row_sq_dist(X, i, centers, j):
    """IN X (n,d), row i, centers (k,d), center j. Returns ||x_i - c_j||^2 in X's dtype,
    grouped as :func:`.lloyd.direct_column` groups it (so the labels are the same)."""
    d = X.shape[1]
    d4 = d // 4 * 4
    s = X.dtype.type(0)
    for f in range(0, d4, 4):
        t0 = X[i, f] - centers[j, f]
        t1 = X[i, f + 1] - centers[j, f + 1]
        t2 = X[i, f + 2] - centers[j, f + 2]
        t3 = X[i, f + 3] - centers[j, f + 3]
        g = (t0 * t0 + t1 * t1) + (t2 * t2 + t3 * t3)
        s = g if f == 0 else s + g
    for f in range(d4, d):
        t0 = X[i, f] - centers[j, f]
        s = t0 * t0 if f == 0 else s + t0 * t0
    return s


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def lloyd_small(X, w, centers, bounds, labels, sums, wsums, stats, smean, inertia, changed,
                mode):  # fmt: skip
    """IN X (n,d), w (n,) f8, centers (k,d), bounds (n_chunks+1,), smean (d,) f8, mode;
    INOUT labels (n,), the per-chunk partials; OUT inertia, changed:
    :func:`.lloyd.lloyd_direct`'s outputs, except that MOVES accumulates afresh as REFRESH
    does (and gives the exact inertia): small problems have nothing to save."""
    k = centers.shape[0]
    fresh = REFRESH if mode == MOVES else mode  # small problems accumulate afresh
    for c in range(bounds.shape[0] - 1):
        s_c = sums[c]
        w_c = wsums[c]
        _start_partials(fresh, s_c, w_c, stats[c])
        moved = 0
        for i in range(bounds[c], bounds[c + 1]):
            best = np.inf
            lab = 0
            for j in range(k):
                v = _row_sq_dist(X, i, centers, j)
                lab = j if v < best else lab
                best = min(v, best)
            moved += labels[i] != lab
            labels[i] = lab
        # The exact terms, sums and stats as the tiled kernels add them (the same helpers).
        lo, m = bounds[c], bounds[c + 1] - bounds[c]
        if fresh == REFRESH:
            total = refresh_tile(X, w, centers, lo, m, labels, smean, s_c, w_c, stats[c], 0.0)
        else:
            total = _tile_total(X, w, centers, lo, m, labels, s_c, w_c, fresh == SUMS, 0.0)
        inertia[c] = total
        changed[c] = moved


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def kmeans_plusplus_small(X, w, bounds, first_u, trial_u, out):
    """IN X (n,d), w (n,) f8, bounds (n_chunks+1,), first_u f8 in [0,1), trial_u (k-1,L)
    f8 uniforms in [0,1); OUT out (k,) intp: the rows chosen as centers (greedy
    k-means++, :func:`.seeding.kmeans_plusplus_tiles`' draws and walk), row by row. The
    totals are summed as :mod:`.seeding`'s ``_first_center``, ``_draw_candidates`` and
    ``_best_candidate`` sum them, here in one kernel (each kernel called costs a
    compilation of its own)."""
    n = X.shape[0]
    n_chunks = bounds.shape[0] - 1
    n_trials = trial_u.shape[1]
    closest = np.ones(n)  # the first draw is by weight alone
    chunk_pot = np.empty(n_chunks)
    cand_pot = np.empty(n_trials)
    candidates = np.empty(n_trials, dtype=np.intp)
    total = 0.0
    for c in range(n_chunks):
        s = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            s += w[i]
        chunk_pot[c] = s
        total += s
    out[0] = _pick(w, closest, bounds, chunk_pot, first_u * total)
    for c in range(n_chunks):
        s = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            closest[i] = _sq_dist_rows(X, i, out[0])
            s += w[i] * closest[i]
        chunk_pot[c] = s
    for step in range(1, out.shape[0]):
        total = 0.0
        for c in range(n_chunks):
            total += chunk_pot[c]
        for t in range(n_trials):
            candidates[t] = _pick(w, closest, bounds, chunk_pot, trial_u[step - 1, t] * total)
        if candidates[0] < 0:
            out[step] = (out[step - 1] + 1) % n  # all rows sit on centers
            continue
        # Each candidate's potential: chunk sums added in chunk order; the lowest wins
        # (ties to the first drawn).
        for t in range(n_trials):
            cand_pot[t] = 0.0
        for c in range(n_chunks):
            for t in range(n_trials):
                s = 0.0
                for i in range(bounds[c], bounds[c + 1]):
                    s += w[i] * min(_sq_dist_rows(X, i, candidates[t]), closest[i])
                cand_pot[t] += s
        best = 0
        for t in range(1, n_trials):
            if cand_pot[t] < cand_pot[best]:
                best = t
        out[step] = candidates[best]
        for c in range(n_chunks):
            s = 0.0
            for i in range(bounds[c], bounds[c + 1]):
                closest[i] = min(closest[i], _sq_dist_rows(X, i, out[step]))
                s += w[i] * closest[i]
            chunk_pot[c] = s
