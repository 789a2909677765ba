"""NumPy and scipy stand-ins for the sparse kernels (:mod:`.kernels.sparse`): the first
sparse run, before Numba.

As :mod:`._standins` for dense rows: each function takes the arguments of the kernels it
stands in for and fills the same outputs, in float64, so that a fit on them takes the same
draws, picks and labels up to float rounding (the float32 kernels find labels in float32).
Products of the rows with the centers (or candidates) go through scipy's sparse products,
in blocks of rows that never hold more than ``NEAREST_BLOCK_VALUES`` dense numbers; a
squared distance is ``||x||^2 + ||c||^2 - 2 x.c`` in float64, never below zero, as the
kernels' differences give it up to rounding. Nothing of size n x d is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ._standins import NEAREST_BLOCK_VALUES, greedy_plusplus

F8 = NDArray[np.float64]
Ints = NDArray[np.intp]


def _blocks(lo: int, hi: int, width: int) -> Iterator[tuple[int, int]]:
    """Row ranges of ``lo..hi`` whose dense (rows, ``width``) products stay small."""
    step = max(1, NEAREST_BLOCK_VALUES // max(width, 1))
    for a in range(lo, hi, step):
        yield a, min(hi, a + step)


def _rows(data: Any, indices: Any, indptr: Any, d: int, a: int, b: int) -> sp.csr_matrix:
    """Rows ``a..b`` as a float64 scipy CSR matrix (views of the index arrays)."""
    p, q = int(indptr[a]), int(indptr[b])
    return sp.csr_matrix(
        (np.asarray(data[p:q], dtype=np.float64), indices[p:q], indptr[a : b + 1] - p),
        shape=(b - a, d),
    )


def _sq_rows(x: sp.csr_matrix) -> F8:
    """||x_i||^2 of every row of ``x`` in float64."""
    return np.asarray(x.multiply(x).sum(axis=1), dtype=np.float64).ravel()


def _by_label(labels: Ints, w: F8, k: int) -> sp.csr_matrix:
    """The (k, m) matrix holding ``w_i`` at (label_i, i): cluster sums are it @ rows."""
    m = labels.shape[0]
    return sp.csr_matrix((w, (labels, np.arange(m))), shape=(k, m))


def column_mean_var(data: Any, indices: Any, n: int, mean: F8, var: F8) -> None:
    """Stands in for ``sparse.column_mean_var``: per-column mean and population variance,
    the zeros included."""
    d = mean.shape[0]
    v = np.asarray(data, dtype=np.float64)
    count = np.bincount(indices, minlength=d)
    mean[:] = np.bincount(indices, weights=v, minlength=d) / n
    t = v - mean[indices]
    var[:] = (np.bincount(indices, weights=t * t, minlength=d) + (n - count) * mean**2) / n


def assign(data: Any, indices: Any, indptr: Any, w: F8, centers_t: Any, half_sq: Any,
           center_sq: F8, bounds: Ints, labels: Ints, inertia: F8,
           changed: Ints) -> None:  # fmt: skip
    """Stands in for ``sparse.assign`` (and its serial twin): per chunk, the labels of the
    nearest centers (ties to the lower one), the weighted inertia, the labels changed."""
    d, k = centers_t.shape
    ct = np.asarray(centers_t, dtype=np.float64)
    half = np.asarray(half_sq, dtype=np.float64)
    for ch in range(bounds.shape[0] - 1):
        total, moved = 0.0, 0
        for a, b in _blocks(int(bounds[ch]), int(bounds[ch + 1]), k):
            x = _rows(data, indices, indptr, d, a, b)
            dots = np.asarray(x @ ct)
            lab = np.argmin(half - dots, axis=1)
            moved += int(np.count_nonzero(labels[a:b] != lab))
            labels[a:b] = lab
            dist = center_sq[lab] + _sq_rows(x) - 2.0 * dots[np.arange(b - a), lab]
            total += float(np.maximum(dist, 0.0) @ w[a:b])
        inertia[ch], changed[ch] = total, moved


def cluster_sums(data: Any, indices: Any, indptr: Any, w: F8, labels: Ints, sums: F8,
                 wsums: F8) -> None:  # fmt: skip
    """Stands in for ``sparse.cluster_sums`` (and its serial twin): each cluster's weighted
    sum of rows and weight."""
    k, d = sums.shape
    n = labels.shape[0]
    sums[:] = 0.0
    for a, b in _blocks(0, n, 1):  # sparse products: no dense block to bound
        x = _rows(data, indices, indptr, d, a, b)
        part = (_by_label(labels[a:b], w[a:b], k) @ x).tocoo()
        sums[part.row, part.col] += part.data
    wsums[:] = np.bincount(labels, weights=w, minlength=k)


def assigned_sq_distances(data: Any, indices: Any, indptr: Any, centers: Any, center_sq: F8,
                          labels: Ints, out: F8) -> None:  # fmt: skip
    """Stands in for ``sparse.assigned_sq_distances``: ||x_i - c_label_i||^2."""
    d = centers.shape[1]
    for a, b in _blocks(0, out.shape[0], 1):
        x = _rows(data, indices, indptr, d, a, b)
        lab = labels[a:b]
        rows = np.repeat(np.arange(b - a), np.diff(x.indptr))
        values = x.data * centers[lab[rows], x.indices]  # each entry times its center's
        dots = np.bincount(rows, weights=values, minlength=b - a)
        out[a:b] = np.maximum(center_sq[lab] + _sq_rows(x) - 2.0 * dots, 0.0)


def all_distances(data: Any, indices: Any, indptr: Any, centers: Any, center_sq: F8,
                  out: F8) -> None:  # fmt: skip
    """Stands in for ``sparse.all_distances``: (n, k) Euclidean distances."""
    k, d = centers.shape
    ct = np.asarray(centers, dtype=np.float64).T
    for a, b in _blocks(0, out.shape[0], k):
        x = _rows(data, indices, indptr, d, a, b)
        dist = _sq_rows(x)[:, None] + center_sq[None, :] - 2.0 * np.asarray(x @ ct)
        out[a:b] = np.sqrt(np.maximum(dist, 0.0))


def minibatch_update(data: Any, indices: Any, indptr: Any, w: F8, centers: Any, labels: Ints,
                     counts: F8, new_centers: Any, shifts: F8) -> None:  # fmt: skip
    """Stands in for ``sparse.minibatch_update`` (and its serial twin): each center that
    received weight moves to ``(count c + sum w x) / (count + sum w)``; INOUT counts, OUT
    new_centers and each center's squared move."""
    k, d = centers.shape
    c = np.asarray(centers, dtype=np.float64)
    sums = np.empty((k, d))
    wsums = np.empty(k)
    cluster_sums(data, indices, indptr, w, labels, sums, wsums)
    new = c.copy()
    moved = wsums > 0
    old = counts[moved]
    counts[moved] = old + wsums[moved]
    new[moved] = (c[moved] * old[:, None] + sums[moved]) * (1.0 / counts[moved])[:, None]
    new_centers[:] = new
    shifts[:] = ((np.asarray(new_centers, dtype=np.float64) - c) ** 2).sum(axis=1)


def by_column(indices: Any, indptr: Any, n_cols: int, cptr: Ints, crow: Ints, cval: F8,
              data: Any) -> None:  # fmt: skip
    """Stands in for ``sparse.by_column``: the rows by column (CSC), rows in increasing
    order within each column."""
    cptr[0] = 0
    np.cumsum(np.bincount(indices, minlength=n_cols), out=cptr[1:])
    order = np.argsort(indices, kind="stable")
    crow[:] = np.repeat(np.arange(indptr.shape[0] - 1), np.diff(indptr))[order]
    cval[:] = np.asarray(data, dtype=np.float64)[order]


def _row_distances(data: Any, indices: Any, indptr: Any, cptr: Ints, crow: Ints, cval: F8,
                   sq: F8, row: int) -> F8:  # fmt: skip
    """Every row's squared distance to row ``row``, through the columns of its entries;
    values within the form's rounding (1e-12 relative) count as zero, as in the kernel."""
    p, q = int(indptr[row]), int(indptr[row + 1])
    cols = indices[p:q]
    starts, lengths = cptr[cols], cptr[cols + 1] - cptr[cols]
    pos = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    pos = pos + np.arange(pos.shape[0])
    values = cval[pos] * np.repeat(np.asarray(data[p:q], dtype=np.float64), lengths)
    dots = np.bincount(crow[pos], weights=values, minlength=sq.shape[0])
    dist = sq + sq[row] - 2.0 * dots
    dist[dist <= 1e-12 * (sq + sq[row])] = 0.0
    return dist


def kmeans_plusplus(data: Any, indices: Any, indptr: Any, cptr: Ints, crow: Ints, cval: F8,
                    sq: F8, w: F8, bounds: Ints, first_u: float, trial_u: F8,
                    out: Ints) -> None:  # fmt: skip
    """Stands in for ``sparse.kmeans_plusplus`` (and its serial twin): greedy k-means++
    with the kernel's draws."""

    def row_dist(row: int) -> F8:
        return _row_distances(data, indices, indptr, cptr, crow, cval, sq, row)

    greedy_plusplus(w, first_u, trial_u, out, row_dist)


def update_nearest(data: Any, indices: Any, indptr: Any, sq: F8, w: F8, cptr: Ints,
                   crow: Ints, cval: F8, cand_sq: F8, offset: int, bounds: Ints, closest: F8,
                   nearest: Ints, chunk_pot: F8) -> None:  # fmt: skip
    """Stands in for ``sparse.update_nearest``: each row's nearest candidate so far (ties
    keep the earlier one) and the chunks' potentials."""
    m = cand_sq.shape[0]
    d = cptr.shape[0] - 1
    cands_t = sp.csc_matrix((cval, crow, cptr), shape=(m, d)).T.tocsc()
    for ch in range(bounds.shape[0] - 1):
        lo, hi = int(bounds[ch]), int(bounds[ch + 1])
        for a, b in _blocks(lo, hi, m):
            x = _rows(data, indices, indptr, d, a, b)
            s = sq[a:b, None] + cand_sq[None, :] - 2.0 * (x @ cands_t).toarray()
            s[s <= 1e-12 * (sq[a:b, None] + cand_sq[None, :])] = 0.0
            j = np.argmin(s, axis=1)
            best = s[np.arange(b - a), j]
            better = best < closest[a:b]
            closest[a:b] = np.where(better, best, closest[a:b])
            nearest[a:b] = np.where(better, j + offset, nearest[a:b])
        chunk_pot[ch] = float(w[lo:hi] @ closest[lo:hi])


def _table() -> dict[Any, Any]:
    from .kernels import sparse

    pairs = {
        column_mean_var: (sparse.column_mean_var,),
        assign: (sparse.assign, sparse.assign_serial),
        cluster_sums: (sparse.cluster_sums, sparse.cluster_sums_serial),
        assigned_sq_distances: (sparse.assigned_sq_distances,),
        all_distances: (sparse.all_distances,),
        minibatch_update: (sparse.minibatch_update, sparse.minibatch_update_serial),
        by_column: (sparse.by_column,),
        kmeans_plusplus: (sparse.kmeans_plusplus, sparse.kmeans_plusplus_serial),
        update_nearest: (sparse.update_nearest,),
    }
    return {kernel: stand_in for stand_in, kernels in pairs.items() for kernel in kernels}


#: Sparse kernel dispatcher -> its stand-in.
STAND_INS: dict[Any, Any] = _table()
