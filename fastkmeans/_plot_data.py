"""The numbers behind the figures, without Plotly: input checks, the PCA projection, the
stratified sample of large data, the elbow's bend and silhouette values.
:mod:`fastkmeans.plot` draws them (and re-exports the public ones)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _check_points(
    X: ArrayLike, labels: ArrayLike, centroids: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64] | None]:
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
        ca = np.asarray(centroids, dtype=np.float64)
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
