"""Data sets: the tutorial's three squares plus noise, and Gaussian blobs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import DTypeLike, NDArray

Seed = int | np.random.Generator | None


def make_square(
    center: Sequence[float],
    edge: float,
    n: int,
    seed: Seed = None,
    dtype: DTypeLike = np.float32,
) -> NDArray[np.floating]:
    """``n`` points uniform in the axis-aligned square (cube) of side ``edge`` at ``center``.

    Parameters
    ----------
    center : sequence of float
        Center of the square; its length is the number of features (2 for a square).
    edge : float
        Side length (> 0).
    n : int
        Number of points (>= 0).
    seed : int, numpy.random.Generator or None
        Source of randomness; a Generator is advanced.
    dtype : dtype
        Output dtype, float32 by default as in the tutorial.

    Returns
    -------
    ndarray of shape (n, len(center))

    Examples
    --------
    >>> from fastkmeans.datasets import make_square
    >>> make_square((7, 5), 1.0, 150, seed=0).shape
    (150, 2)
    """
    c = np.asarray(center, dtype=np.float64)
    if c.ndim != 1 or c.shape[0] == 0:
        raise ValueError(f"center must be a non-empty 1-D sequence, got {center!r}")
    if not edge > 0:
        raise ValueError(f"edge must be > 0, got {edge!r}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n!r}")
    rng = np.random.default_rng(seed)
    half = edge / 2.0
    return rng.uniform(c - half, c + half, size=(n, c.shape[0])).astype(dtype)


def make_tutorial_data(seed: Seed = None) -> NDArray[np.float32]:
    """The linfa tutorial's data: three dense squares plus uniform noise, (750, 2) float32.

    Squares centered at (7, 5) edge 1, (2, 2) edge 2 and (3, 8) edge 1 with 150 points each,
    then 300 noise points in the square centered at (5, 5) with edge 9, in that order.

    Examples
    --------
    >>> from fastkmeans.datasets import make_tutorial_data
    >>> X = make_tutorial_data(seed=0)
    >>> X.shape, X.dtype.name
    ((750, 2), 'float32')
    """
    rng = np.random.default_rng(seed)
    parts = [
        make_square((7.0, 5.0), 1.0, 150, rng),
        make_square((2.0, 2.0), 2.0, 150, rng),
        make_square((3.0, 8.0), 1.0, 150, rng),
        make_square((5.0, 5.0), 9.0, 300, rng),
    ]
    return np.concatenate(parts).astype(np.float32)


def make_blobs(
    n_samples: int,
    n_features: int,
    centers: int | NDArray[np.floating],
    cluster_std: float = 1.0,
    seed: Seed = None,
    dtype: DTypeLike = np.float64,
) -> tuple[NDArray[np.floating], NDArray[np.int64]]:
    """Isotropic Gaussian blobs.

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible between the blobs.
    n_features : int
        Number of features.
    centers : int or array of shape (n_centers, n_features)
        Number of blobs (centers drawn uniformly in [-10, 10]^d) or the centers themselves.
    cluster_std : float
        Standard deviation of every blob.
    seed : int, numpy.random.Generator or None
        Source of randomness.
    dtype : dtype
        Output dtype (float64 by default).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,), int64
        The blob each point was drawn from.

    Examples
    --------
    >>> from fastkmeans.datasets import make_blobs
    >>> X, y = make_blobs(100, 3, 4, seed=0)
    >>> X.shape, int(y.max())
    ((100, 3), 3)
    """
    rng = np.random.default_rng(seed)
    if isinstance(centers, (int, np.integer)):
        if centers < 1:
            raise ValueError(f"centers must be >= 1, got {centers}")
        means = rng.uniform(-10.0, 10.0, size=(int(centers), n_features))
    else:
        means = np.asarray(centers, dtype=np.float64)
        if means.ndim != 2 or means.shape[1] != n_features:
            raise ValueError(
                f"centers must have shape (n_centers, {n_features}), got {means.shape}"
            )
    n_centers = means.shape[0]
    sizes = np.full(n_centers, n_samples // n_centers)
    sizes[: n_samples % n_centers] += 1
    labels = np.repeat(np.arange(n_centers, dtype=np.int64), sizes)
    X = means[labels] + rng.normal(scale=cluster_std, size=(n_samples, n_features))
    order = rng.permutation(n_samples)
    return X[order].astype(dtype), labels[order]
