"""Greedy k-means++ seeding (Arthur & Vassilvitskii, with scikit-learn's local trials).

Random numbers are drawn in Python and passed in; the kernel only walks the weighted
potential. Potentials are summed per fixed chunk and merged in chunk order, so the picks do
not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._config import FASTMATH, NUMBA_CACHE


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
    """IN X (n,d), rows a and b. Returns ||X[a] - X[b]||^2 in float64."""
    s = 0.0
    for f in range(X.shape[1]):
        t = np.float64(X[a, f]) - np.float64(X[b, f])
        s += t * t
    return s


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def kmeans_plusplus(X, w, bounds, first_u, trial_u, out):
    """IN X (n,d), w (n,) f8, bounds (n_chunks+1,), first_u f8 in [0,1), trial_u (k-1,L) f8
    uniforms in [0,1); OUT out (k,) intp: the rows chosen as centres."""
    n = X.shape[0]
    k = out.shape[0]
    n_trials = trial_u.shape[1]
    n_chunks = bounds.shape[0] - 1
    closest = np.ones(n)
    chunk_pot = np.empty(n_chunks)
    for c in prange(n_chunks):
        s = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            s += w[i]
        chunk_pot[c] = s
    total = 0.0
    for c in range(n_chunks):
        total += chunk_pot[c]
    out[0] = _pick(w, closest, bounds, chunk_pot, first_u * total)
    first = out[0]
    for c in prange(n_chunks):
        s = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            closest[i] = _sq_dist_rows(X, i, first)
            s += w[i] * closest[i]
        chunk_pot[c] = s

    candidates = np.empty(n_trials, dtype=np.intp)
    cand_pot = np.empty((n_chunks, n_trials))
    for step in range(1, k):
        total = 0.0
        for c in range(n_chunks):
            total += chunk_pot[c]
        for t in range(n_trials):
            candidates[t] = _pick(w, closest, bounds, chunk_pot, trial_u[step - 1, t] * total)
        if candidates[0] < 0:
            # Every remaining point coincides with a centre: take the next rows in order.
            out[step] = (out[step - 1] + 1) % n
            continue
        for c in prange(n_chunks):
            for t in range(n_trials):
                cand_pot[c, t] = 0.0
            for i in range(bounds[c], bounds[c + 1]):
                wi = w[i]
                ci = closest[i]
                for t in range(n_trials):
                    d2 = _sq_dist_rows(X, i, candidates[t])
                    cand_pot[c, t] += wi * min(ci, d2)
        best_t = 0
        best_pot = np.inf
        for t in range(n_trials):
            s = 0.0
            for c in range(n_chunks):
                s += cand_pot[c, t]
            if s < best_pot:
                best_pot = s
                best_t = t
        chosen = candidates[best_t]
        out[step] = chosen
        for c in prange(n_chunks):
            s = 0.0
            for i in range(bounds[c], bounds[c + 1]):
                d2 = _sq_dist_rows(X, i, chosen)
                if d2 < closest[i]:
                    closest[i] = d2
                s += w[i] * closest[i]
            chunk_pot[c] = s
