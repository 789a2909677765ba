"""Prediction for a fitted model: labels, inertia and distances of new data.

The same assignment as a fit's final pass (:func:`fastkmeans._assign.nearest`); dask input
gets lazy results (:mod:`fastkmeans.dask`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _config, _csr
from ._assign import is_small, kernel_centers, nearest
from ._cold import first_run
from ._cold import kernel as chosen
from ._constrained import scaled_limits
from ._sources import is_dask
from ._threads import thread_limit
from ._validation import as_sample_weight, check_features
from .kernels.distances import all_distances

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]


def _new_data(model: Any, X: ArrayLike) -> Any:
    """``X`` checked against the model: dense, or :class:`fastkmeans._csr.CSRRows`."""
    Xa = _csr.as_rows(X)
    check_features(Xa, model.n_features)
    return _csr.unit_rows(Xa) if model.params.metric == "cosine" else Xa


def assign(
    model: Any, X: ArrayLike, sample_weight: ArrayLike | None, respect_sizes: bool = False
) -> tuple[Any, Any]:
    """Nearest-centroid labels of ``X`` and their weighted inertia (lazy for dask); with
    ``respect_sizes`` the constrained assignment of the batch under the model's limits
    scaled to it (:func:`fastkmeans._constrained.scaled_limits`)."""
    sizes = _batch_limits(model, X) if respect_sizes else None
    if is_dask(X):
        from .dask import assign_dask

        return assign_dask(model, X, sample_weight)
    Xa = _new_data(model, X)
    w = as_sample_weight(sample_weight, Xa.shape[0])
    n, d = Xa.shape
    if sizes is not None:
        sizes = scaled_limits(*sizes, n)
    gemm = not is_small(n, d, model.n_clusters) and _config.use_gemm(d, model.n_clusters)
    gemm = gemm and isinstance(Xa, np.ndarray)
    small = is_small(n, d, model.n_clusters)
    with first_run(Xa if sizes is None else None, small) as numpy_kernels:
        blas = (gemm and sizes is None) or numpy_kernels  # see _fit.fit
        with thread_limit(model.params.n_threads, single_thread_blas=blas):
            return nearest(Xa, w, model.centroids, sizes=sizes)


def _batch_limits(model: Any, X: Any) -> tuple[int | None, int | None, int]:
    """The model's ``(size_min, size_max, n_fit)`` for a constrained prediction."""
    lo = getattr(model.params, "size_min", None)
    hi = getattr(model.params, "size_max", None)
    if lo is None and hi is None:
        raise ValueError(
            "respect_sizes=True needs a model fitted with size_min or size_max; this one "
            "has no size limits (predict(X) gives the nearest centroids)"
        )
    if is_dask(X):
        raise ValueError(
            "respect_sizes=True needs in-memory data, got a dask array: compute it first "
            "(X.compute()) to assign it under size limits"
        )
    n_fit = int(np.asarray(model.labels).shape[0])
    if n_fit == 0:
        raise ValueError("respect_sizes=True needs the model's training labels")
    return lo, hi, n_fit


def distances(model: Any, X: ArrayLike) -> Any:
    """Exact Euclidean distances of the rows of ``X`` to every centroid (lazy for dask)."""
    if is_dask(X):
        from .dask import transform_dask

        return transform_dask(model, X)
    Xa = _new_data(model, X)
    centers = kernel_centers(model.centroids, Xa.dtype)
    small = is_small(Xa.shape[0], Xa.shape[1], model.n_clusters)
    with thread_limit(model.params.n_threads), first_run(Xa, small):
        if isinstance(Xa, _csr.CSRRows):
            return _csr.all_distances(Xa, centers)
        out = np.empty((Xa.shape[0], centers.shape[0]))
        chosen(all_distances)(Xa, centers, out)
    return out
