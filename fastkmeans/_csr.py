"""Sparse rows: scipy CSR input checked and prepared once, and what the passes do with it.

:class:`CSRRows` is the block type of sparse data: the three CSR arrays (float32 or float64
values, sorted column indices without duplicates), the number of columns and each row's
squared norm in float64. It is what a sparse source hands to block functions, in place of a
dense array; the functions here run the kernels of :mod:`.kernels.sparse` on it, and the
callers (:mod:`._assign`, :mod:`._seeding`, :mod:`._minibatch`, :mod:`._predict`) pick them
when the rows are sparse. Centers stay dense, (k, d) in the rows' dtype. Nothing here makes
an n x d dense array.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._cold import kernel as chosen
from ._config import SERIAL_MAX_WORK
from ._validation import as_float_array, bad_value, is_sparse, normalize_rows, zero_row
from .kernels import sparse as kernels

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]
Ints = NDArray[np.intp]


class CSRRows:
    """Rows in CSR form, prepared for the kernels (see the module docstring)."""

    def __init__(
        self, data: Floats, indices: NDArray[Any], indptr: NDArray[Any], n_cols: int,
        sq: F8 | None = None,
    ) -> None:  # fmt: skip
        self.data, self.indices, self.indptr = data, indices, indptr
        self.shape = (int(indptr.shape[0] - 1), int(n_cols))
        self.sq = row_sq_norms(data, indptr) if sq is None else sq

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def __getitem__(self, idx: Any) -> CSRRows:
        """The rows ``idx`` (a slice, or integer positions in any order, repeats allowed)."""
        if isinstance(idx, slice):
            idx = np.arange(self.shape[0])[idx]
        idx = np.asarray(idx, dtype=np.intp)
        starts = self.indptr[idx]
        lengths = self.indptr[idx + 1] - starts
        indptr = np.zeros(idx.shape[0] + 1, dtype=self.indptr.dtype)
        np.cumsum(lengths, out=indptr[1:])
        pos = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        return CSRRows(self.data[pos], self.indices[pos], indptr, self.shape[1], self.sq[idx])

    def toarray(self) -> Floats:
        """The rows as a dense array (for a few rows only: seeds, re-seeding)."""
        out = np.zeros(self.shape, dtype=self.dtype)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        out[rows, self.indices] = self.data
        return out


def row_sq_norms(data: Floats, indptr: NDArray[Any]) -> F8:
    """||x_i||^2 of every row in float64, in blocks of rows (temporaries of a block's
    entries only). NumPy, not a kernel: one pass when the rows are prepared, which a first
    fit would otherwise wait on the compiler for."""
    n = indptr.shape[0] - 1
    out = np.empty(n)
    step = 1 << 14
    for a in range(0, n, step):
        b = min(n, a + step)
        p, q = int(indptr[a]), int(indptr[b])
        sq = np.square(data[p:q], dtype=np.float64)
        rows = np.repeat(np.arange(b - a), np.diff(indptr[a : b + 1]))
        out[a:b] = np.bincount(rows, weights=sq, minlength=b - a)
    return out


def as_dense(x: Any) -> Floats:
    """Dense rows: ``x`` itself when it is an array, its :meth:`CSRRows.toarray` when not."""
    return x.toarray() if isinstance(x, CSRRows) else x


def stack(parts: list[Any]) -> Any:
    """Rows of several blocks one after the other (dense or sparse, as they are)."""
    if not isinstance(parts[0], CSRRows):
        return np.concatenate(parts)
    indptr = [np.zeros(1, dtype=parts[0].indptr.dtype)]
    for p in parts:
        indptr.append(p.indptr[1:] + indptr[-1][-1])
    return CSRRows(
        np.concatenate([p.data for p in parts]),
        np.concatenate([p.indices for p in parts]),
        np.concatenate(indptr),
        parts[0].shape[1],
        np.concatenate([p.sq for p in parts]),
    )


# --------------------------------------------------------------------------- checks
def _own(a: NDArray[Any], dtype: Any) -> NDArray[Any]:
    """``a`` as a C-contiguous, writeable array of ``dtype`` (copied only when it is not:
    read-only arrays would compile a second set of kernels)."""
    if a.dtype != dtype or not a.flags.c_contiguous or not a.flags.writeable:
        return np.array(a, dtype=dtype, order="C", copy=True)
    return a.view(np.ndarray) if type(a) is not np.ndarray else a


def as_csr(X: Any, name: str = "X") -> CSRRows:
    """A scipy sparse matrix or array as checked :class:`CSRRows`: 2-D, real, finite;
    float32 stays float32, other dtypes become float64; CSR used as it is when it is in
    canonical form, else converted once (CSC, COO, ...) and its duplicates summed, as
    scipy defines them. The caller's matrix is never modified."""
    shape = tuple(X.shape)
    if len(shape) != 2:
        raise ValueError(
            f"Expected a 2-D sparse matrix of shape (n_samples, n_features) for {name}, got "
            f"{len(shape)}-D with shape {shape}"
        )
    if shape[0] == 0:
        raise ValueError(f"{name} has 0 samples (shape {shape}); at least 1 is required")
    if shape[1] == 0:
        raise ValueError(f"{name} has 0 features (shape {shape}); at least 1 is required")
    kind = np.dtype(X.dtype).kind
    if kind not in "biuf":
        raise ValueError(f"{name} must contain real numbers, got dtype {X.dtype}")
    csr = X.tocsr() if X.format != "csr" else X
    if not csr.has_canonical_format:
        csr = csr.copy() if csr is X else csr
        csr.sum_duplicates()  # sorts the indices and adds up repeated entries
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    data = _own(csr.data, dtype)
    index = np.result_type(csr.indices.dtype, csr.indptr.dtype)
    rows = CSRRows(data, _own(csr.indices, index), _own(csr.indptr, index), shape[1])
    check_values(rows, name)
    return rows


def check_values(rows: CSRRows, name: str = "X") -> None:
    """Raise the dense message for the first NaN or infinity among the stored values."""
    if np.isfinite(rows.sq.sum()):
        return
    for what, mask in (("NaN", np.isnan(rows.data)), ("infinity", np.isinf(rows.data))):
        if mask.any():
            p = int(np.flatnonzero(mask)[0])
            row = int(np.searchsorted(rows.indptr, p, side="right")) - 1
            raise bad_value(what, row, int(rows.indices[p]), name)
    raise ValueError(f"Input {name} holds values too large to square in float64")


def normalize(rows: CSRRows, name: str = "X") -> CSRRows:
    """Rows scaled to unit length (new arrays); an empty row is an error, as a zero dense
    row is. The values are those of the dense ``normalize_rows`` of the same rows."""
    norms = np.sqrt(rows.sq)
    if (norms == 0).any():
        raise zero_row(int(np.flatnonzero(norms == 0)[0]), name)
    data = (rows.data / np.repeat(norms, np.diff(rows.indptr))).astype(rows.dtype, copy=False)
    return CSRRows(data, rows.indices, rows.indptr, rows.shape[1])


def as_rows(X: Any, name: str = "X") -> Any:
    """Data in memory for the kernels: :class:`CSRRows` for sparse input, else the dense
    array of :func:`fastkmeans._validation.as_float_array`."""
    return as_csr(X, name) if is_sparse(X) else as_float_array(X, name)


def unit_rows(x: Any, name: str = "X") -> Any:
    """Rows scaled to unit length, dense (:func:`fastkmeans._validation.normalize_rows`)
    or sparse (:func:`normalize`)."""
    return normalize(x, name) if isinstance(x, CSRRows) else normalize_rows(x, name)


def column_stats(rows: CSRRows) -> tuple[F8, F8]:
    """Per-feature mean and population variance, the zeros included, in float64."""
    mean, var = np.empty(rows.shape[1]), np.empty(rows.shape[1])
    chosen(kernels.column_mean_var)(rows.data, rows.indices, rows.shape[0], mean, var)
    return mean, var


# --------------------------------------------------------------------------- passes
def small(x: CSRRows, k: int) -> bool:
    """Rows this few run on the calling thread: nnz x k multiply-adds at most
    ``_config.SERIAL_MAX_WORK`` (the dense rule, with nnz for n x d)."""
    return x.nnz * k <= SERIAL_MAX_WORK


def center_sq(centers: Floats) -> F8:
    """||c||^2 of every center, summed in float64."""
    c64 = centers.astype(np.float64)
    return np.einsum("ij,ij->i", c64, c64)


def center_terms(centers: Floats) -> tuple[Floats, Floats, F8]:
    """What a sparse pass needs of the centers: their transpose (d, k), 0.5 ||c||^2 in
    their dtype and ||c||^2 in float64."""
    sq = center_sq(centers)
    return np.ascontiguousarray(centers.T), (0.5 * sq).astype(centers.dtype), sq


def assign(
    x: CSRRows, w: F8, centers: Floats, labels: Ints, bounds: Ints, sums: F8 | None,
    wsums: F8 | None,
) -> tuple[float, int]:  # fmt: skip
    """Labels of the nearest center (INOUT ``labels``), and with ``sums`` given (OUT, (k,d)
    f8, and ``wsums`` (k,)) the cluster sums of the new labels. Returns the weighted
    inertia and the number of labels changed."""
    ct, half_sq, center_sq = center_terms(centers)
    n_chunks = bounds.shape[0] - 1
    inertia, changed = np.empty(n_chunks), np.empty(n_chunks, dtype=np.intp)
    serial = small(x, centers.shape[0])
    kernel = chosen(kernels.assign_serial if serial else kernels.assign)
    kernel(x.data, x.indices, x.indptr, w, ct, half_sq, center_sq, bounds, labels, inertia,
           changed)  # fmt: skip
    if sums is not None:
        kernel = chosen(kernels.cluster_sums_serial if serial else kernels.cluster_sums)
        kernel(x.data, x.indices, x.indptr, w, labels, sums, wsums)
    return float(inertia.sum()), int(changed.sum())


def assigned_sq_distances(x: CSRRows, centers: Floats, labels: Ints) -> F8:
    """Each row's squared distance to its center (float64)."""
    out = np.empty(x.shape[0])
    sq = center_sq(centers)
    chosen(kernels.assigned_sq_distances)(x.data, x.indices, x.indptr, centers, sq, labels, out)
    return out


def all_distances(x: CSRRows, centers: Floats) -> F8:
    """(n, k) Euclidean distances to every center (float64)."""
    out = np.empty((x.shape[0], centers.shape[0]))
    chosen(kernels.all_distances)(x.data, x.indices, x.indptr, centers, center_sq(centers), out)
    return out


def minibatch_step(
    x: CSRRows, w: F8, centers: Floats, bounds: Ints, labels: Ints, counts: F8,
    new_centers: Floats,
) -> tuple[float, float]:  # fmt: skip
    """One mini-batch step (INOUT counts, OUT new_centers); returns (batch inertia before
    the update, sum of squared center moves), as the dense step does."""
    inertia, _ = assign(x, w, centers, labels, bounds, None, None)
    shifts = np.empty(centers.shape[0])
    kernel = chosen(kernels.minibatch_update_serial if small(x, 1) else kernels.minibatch_update)
    kernel(x.data, x.indices, x.indptr, w, centers, labels, counts, new_centers, shifts)
    return inertia, float(shifts.sum())


def by_column(x: CSRRows) -> tuple[Ints, Ints, F8]:
    """The rows' entries by column (CSC): column pointers, row numbers and float64 values."""
    cptr = np.empty(x.shape[1] + 1, dtype=np.intp)
    crow = np.empty(x.nnz, dtype=np.intp)
    cval = np.empty(x.nnz)
    chosen(kernels.by_column)(x.indices, x.indptr, x.shape[1], cptr, crow, cval, x.data)
    return cptr, crow, cval


def kmeans_plusplus(
    x: CSRRows, w: F8, bounds: Ints, first_u: float, trial_u: F8, out: Ints
) -> None:
    """Greedy k-means++ on sparse rows (OUT ``out``, the rows chosen); holds a copy of the
    rows by column while it runs (nnz x 16 bytes)."""
    cptr, crow, cval = by_column(x)
    serial = x.shape[0] * trial_u.shape[1] <= SERIAL_MAX_WORK  # a step reads L x n numbers
    kernel = chosen(kernels.kmeans_plusplus_serial if serial else kernels.kmeans_plusplus)
    kernel(x.data, x.indices, x.indptr, cptr, crow, cval, x.sq, w, bounds, first_u, trial_u,
           out)  # fmt: skip


def update_nearest(
    x: CSRRows, w: F8, cands: CSRRows, offset: int, bounds: Ints, closest: F8,
    nearest: Ints, chunk_pot: F8,
) -> None:  # fmt: skip
    """k-means||: each row's nearest candidate so far, with the candidates ``cands``
    (numbered from ``offset``); INOUT closest, nearest; OUT chunk_pot."""
    cptr, crow, cval = by_column(cands)
    chosen(kernels.update_nearest)(x.data, x.indices, x.indptr, x.sq, w, cptr, crow, cval,
                                   cands.sq, offset, bounds, closest, nearest,
                                   chunk_pot)  # fmt: skip
