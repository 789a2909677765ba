"""The numbers behind the figures, without Plotly: input checks, the projections (PCA of
dense data, a truncated SVD of sparse data), the stratified sample of large data, the elbow's
bend and silhouette values. :mod:`fastkmeans.plot` draws them (and re-exports the public
ones)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import is_sparse

#: The truncated SVD of sparse data (Halko, Martinsson and Tropp's randomized range finder):
#: random directions beyond the two drawn, power iterations, and the seed of the Gaussian
#: test matrix, fixed so that the same matrix always gives the same picture.
SVD_OVERSAMPLES = 10
SVD_POWER_ITERATIONS = 4
SVD_SEED = 0


def _check_sparse(X: Any) -> Any:
    """A scipy sparse ``X`` as float64 CSR in canonical form (duplicates summed, indices
    sorted; converted or copied first, so the caller's matrix is never modified); as a dense
    array when it has at most 3 columns, which it then draws like the dense array."""
    shape = tuple(X.shape)
    if len(shape) != 2 or shape[0] == 0 or shape[1] < 2:
        raise ValueError(
            f"X must be a 2-D array with at least 1 row and 2 columns, got shape {shape}"
        )
    if np.dtype(X.dtype).kind not in "biuf":
        raise ValueError(f"X must contain real numbers, got dtype {X.dtype}")
    csr = X.tocsr()
    if not csr.has_canonical_format:
        csr = csr.copy() if csr is X else csr
        csr.sum_duplicates()
    csr = csr.astype(np.float64, copy=False)
    if not np.isfinite(csr.data).all():
        raise ValueError("X contains NaN or infinity")
    return csr.toarray() if shape[1] <= 3 else csr


def _check_points(
    X: ArrayLike, labels: ArrayLike, centroids: ArrayLike | None
) -> tuple[Any, NDArray[np.int64], NDArray[np.float64] | None]:
    """``X`` as a float64 array (a float64 CSR matrix when it is sparse with d > 3), labels
    as int64 and centroids as a float64 array, with their shapes checked."""
    if is_sparse(X):
        Xa = _check_sparse(X)
    else:
        Xa = np.asarray(X, dtype=np.float64)
        if Xa.ndim != 2 or Xa.shape[0] == 0 or Xa.shape[1] < 2:
            raise ValueError(
                f"X must be a 2-D array with at least 1 row and 2 columns, got shape {Xa.shape}"
            )
    la = np.asarray(labels)
    if la.shape != (Xa.shape[0],):
        raise ValueError(f"labels must have shape ({Xa.shape[0]},) to match X, got {la.shape}")
    if la.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers, got dtype {la.dtype}")
    ca = None
    if centroids is not None:
        dense: Any = centroids.toarray() if is_sparse(centroids) else centroids  # k x d
        ca = np.asarray(dense, dtype=np.float64)
        if ca.ndim != 2 or ca.shape[1] != Xa.shape[1]:
            raise ValueError(
                f"centroids must have shape (k, {Xa.shape[1]}) to match X, got {ca.shape}"
            )
    return Xa, la.astype(np.int64), ca


def _pca(
    X: NDArray[np.float64], extra: NDArray[np.float64] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None, NDArray[np.float64]]:
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    ratio = s**2 / max(float((s**2).sum()), np.finfo(float).tiny)
    proj = (X - mean) @ vt[:2].T
    return proj, None if extra is None else (extra - mean) @ vt[:2].T, ratio[:2]


def _orth(Y: NDArray[np.float64]) -> NDArray[np.float64]:
    """An orthonormal basis of the columns of a tall, thin ``Y``, from the eigenvectors of its
    small Gram matrix, done twice (as CholeskyQR2 does; several times faster than LAPACK's
    QR of a tall matrix). Directions below 1e-7 of the largest singular value are dropped."""
    for _ in range(2):
        w, U = np.linalg.eigh(Y.T @ Y)
        keep = w > w[-1] * 1e-14
        Y = Y @ (U[:, keep] / np.sqrt(w[keep]))
    return Y


def _truncated_svd(
    X: Any, extra: NDArray[np.float64] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None, NDArray[np.float64]]:
    """Rows of a float64 CSR ``X`` (and ``extra``) on its first two right singular vectors,
    and the share of ``||X||_F^2`` each one holds; X is not centered (centering would make
    it dense). Randomized SVD (Halko, Martinsson and Tropp 2011, algorithms 4.4 and 5.1):
    every product is sparse x dense with at most ``2 + SVD_OVERSAMPLES`` columns, so memory
    is O(nnz + (n + d) * 12). Signs: each direction's largest entry is positive."""
    n, d = X.shape
    total = float(np.dot(X.data, X.data))
    V = np.zeros((d, 2))
    if total > 0:
        width = min(2 + SVD_OVERSAMPLES, n, d)
        rng = np.random.default_rng(SVD_SEED)
        Q = _orth(np.asarray(X @ rng.standard_normal((d, width))))
        for _ in range(SVD_POWER_ITERATIONS):
            Q = _orth(np.asarray(X @ _orth(np.asarray(X.T @ Q))))
        Bt = np.asarray(X.T @ Q)  # (d, width): (Q^T X)^T, whose SVD approximates X's
        s2, U = np.linalg.eigh(Bt.T @ Bt)
        top = np.argsort(s2)[::-1][:2]
        top = top[s2[top] > 0]
        V[:, : top.shape[0]] = Bt @ (U[:, top] / np.sqrt(s2[top]))
        big = np.argmax(np.abs(V), axis=0)
        V *= np.where(V[big, [0, 1]] < 0, -1.0, 1.0)
    proj = np.asarray(X @ V)
    ratio = np.einsum("ij,ij->j", proj, proj) / max(total, np.finfo(float).tiny)
    return proj, None if extra is None else extra @ V, ratio


def _project(
    X: Any, extra: NDArray[np.float64] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None, list[str]]:
    """What :func:`fastkmeans.plot.clusters` draws: the points and ``extra`` (centroids) in
    at most 3 coordinates, and the axis titles. d <= 3: as they are; dense d > 3: their first
    two principal components; sparse (d > 3): a truncated SVD that never densifies X."""
    if is_sparse(X):
        proj, extra, ratio = _truncated_svd(X, extra)
        return proj, extra, [f"SVD {i + 1} ({100 * r:.1f}% of the squared norm)"
                             for i, r in enumerate(ratio)]  # fmt: skip
    if X.shape[1] > 3:
        proj, extra, ratio = _pca(X, extra)
        return proj, extra, [f"PC{i + 1} ({100 * r:.1f}% of variance)" for i, r in enumerate(ratio)]
    return X, extra, [f"x{i}" for i in range(X.shape[1])]


def stratified_sample(labels: ArrayLike, max_points: int, seed: int = 0) -> NDArray[np.intp]:
    """Sorted row indices of a sample of about ``max_points`` rows that keeps every cluster.

    Each cluster gets a share proportional to its size, but never fewer than
    ``min(size, max_points // (2 k))`` rows, so small clusters stay visible next to large ones.

    Parameters
    ----------
    labels : array-like of shape (n,), int
        Cluster of each row.
    max_points : int
        Target sample size (the result may exceed it by at most ``max_points // 2``).
    seed : int
        Seed of the sample, so the same data always gives the same picture.

    Returns
    -------
    ndarray of intp
        Increasing row indices; all rows when ``n <= max_points``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastkmeans.plot import stratified_sample
    >>> labels = np.r_[np.zeros(10_000, int), np.ones(5, int)]
    >>> rows = stratified_sample(labels, 1000)
    >>> len(rows) <= 1500, int((labels[rows] == 1).sum())
    (True, 5)
    """
    la = np.asarray(labels)
    n = la.shape[0]
    if max_points < 1:
        raise ValueError(f"max_points must be >= 1, got {max_points}")
    if n <= max_points:
        return np.arange(n, dtype=np.intp)
    rng = np.random.default_rng(seed)
    values, inverse, counts = np.unique(la, return_inverse=True, return_counts=True)
    floor = max(1, max_points // (2 * values.shape[0]))
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)])
    picked = []
    for j, size in enumerate(counts):
        want = max(min(int(size), floor), int(max_points * size / n))
        members = order[starts[j] : starts[j + 1]]
        picked.append(rng.choice(members, size=min(want, int(size)), replace=False))
    return np.sort(np.concatenate(picked)).astype(np.intp)


def _elbow_index(ks: NDArray[np.float64], inertia: NDArray[np.float64]) -> int | None:
    """Index of the point farthest below the chord from the first to the last point (kneedle)
    with k and log inertia scaled to [0, 1]; None for fewer than 3 points or no bend.

    The log makes the bend a matter of relative drops: a cluster split that removes 60 % of
    what is left counts as much late as early."""
    if ks.shape[0] < 3:
        return None
    y = np.log(inertia) if np.all(inertia > 0) else inertia.astype(np.float64)
    span = y[0] - y[-1]
    if not span > 0:
        return None
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    gap = (1.0 - x) - (y - y[-1]) / span  # distance below the chord from (0, 1) to (1, 0)
    best = int(np.argmax(gap))
    return best if gap[best] > 1e-9 else None


def silhouette_samples(X: ArrayLike, labels: ArrayLike) -> NDArray[np.float64]:
    """Silhouette coefficient of every row, computed by a Numba kernel in O(n·d) memory.

    ``s = (b - a) / max(a, b)`` with ``a`` the mean Euclidean distance to the other members of
    the row's cluster and ``b`` the smallest mean distance to another cluster; 0 for members of
    one-point clusters (scikit-learn's convention). Time is O(n² d): sample large data first.

    Parameters
    ----------
    X : array-like of shape (n, d)
    labels : array-like of shape (n,), int, with at least 2 distinct values

    Returns
    -------
    ndarray of shape (n,), float64

    Examples
    --------
    >>> from fastkmeans.plot import silhouette_samples
    >>> silhouette_samples([[0.0], [1.0], [10.0], [11.0]], [0, 0, 1, 1]).round(3).tolist()
    [0.905, 0.895, 0.895, 0.905]
    """
    from .kernels.silhouette import silhouette_samples as kernel  # Numba: loaded when used

    Xa = np.asarray(X)
    if Xa.ndim != 2 or Xa.shape[0] == 0 or Xa.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D array, got shape {Xa.shape}")
    dtype = np.float32 if Xa.dtype == np.float32 else np.float64
    Xa = np.ascontiguousarray(Xa, dtype=dtype)
    if not np.isfinite(Xa).all():
        raise ValueError("X contains NaN or infinity")
    la = np.asarray(labels)
    if la.shape != (Xa.shape[0],) or la.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers of shape ({Xa.shape[0]},), got {la.shape}")
    _, inverse, counts = np.unique(la, return_inverse=True, return_counts=True)
    if counts.shape[0] < 2:
        raise ValueError("the silhouette needs at least 2 distinct labels")
    out = np.empty(Xa.shape[0], dtype=np.float64)
    kernel(Xa, inverse.astype(np.intp), counts.astype(np.intp), out)
    return out
