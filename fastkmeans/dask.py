"""The distributed path: exact k-means on a ``dask.array.Array``, never gathering X.

``KMeansParams.fit(dask_array)`` and ``MiniBatchKMeansParams.fit(dask_array)`` run the
same loops as data in memory, over a Dask source (:mod:`fastkmeans._sources.dask`): the
data are prepared, checked and persisted once; every pass is one graph of block functions
on the workers holding the blocks, with the serial twins of the same Numba kernels, and
partial sums come back as one packed float64 vector per pass, added in a fixed-order tree.

Every parameter takes effect, as in memory:

* ``init``: greedy ``"k-means++"`` (what the default ``"auto"`` runs below 64 clusters)
  runs as asked, with three passes over the blocks per center; k-means|| (``"auto"`` from
  64 clusters) takes a handful of passes;
  ``"random"`` gathers the sample weights (n floats) to draw from; an array is used as given.
* ``algorithm``: Lloyd, Hamerly and Yinyang run on the workers, their bounds persisted
  with each block between passes (Hamerly: 16 bytes per row, Yinyang: 8 + 8 per group).
* ``n_threads`` applies to the client's steps only (a warning says so): give each worker
  one thread per core it should use (``LocalCluster(n_workers=cores,
  threads_per_worker=1)`` is the simplest); a worker with several threads runs several
  blocks at once.

What comes back to the client: centroids, per-pass statistics, seeding candidates (the
k-means|| candidates, about ``2k`` rows a round), the sample weights when
``init="random"`` and at the end the labels (n int64, as the model holds them).
``predict``/``transform`` on a dask array return lazy dask arrays and ``score`` a lazy
0-d dask array (this module's functions).

Examples
--------
>>> import dask.array as da, fastkmeans as fk
>>> X, _ = fk.datasets.make_blobs(1000, 2, 3, seed=0)
>>> model = fk.KMeansParams(3, seed=0).fit(da.from_array(X, chunks=250))
>>> model.centroids.shape
(3, 2)
>>> model.predict(da.from_array(X, chunks=250)).compute().shape
(1000,)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np
from dask.delayed import delayed
from numpy.typing import ArrayLike, NDArray

from ._assign import nearest
from ._sources.dask import block_weights, check_array, weight_array, writable
from ._validation import check_rows, normalize_rows
from .kernels.distances import all_distances_serial

if TYPE_CHECKING:
    from .model import KMeansModel

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]


def _check_new_data(model: KMeansModel, X: da.Array) -> tuple[da.Array, Floats, bool]:
    X = check_array(X)
    if X.shape[1] != model.n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but the model was fitted with "
            f"{model.n_features} features"
        )
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    centers = np.array(model.centroids, dtype=dtype, order="C")
    return X, centers, model.params.metric == "cosine"


def _checked_block(x: NDArray[Any], dtype: Any, cosine: bool, start: int) -> Floats:
    xp = writable(np.ascontiguousarray(x, dtype=dtype))
    check_rows(xp, start, cosine)
    return normalize_rows(xp) if cosine and xp.shape[0] else xp


def _start(block_info: dict[Any, Any] | None) -> int:
    return 0 if not block_info else int(block_info[0]["array-location"][0][0])


def _predict_block(
    x: NDArray[Any], centers: Floats, cosine: bool, block_info: dict[Any, Any] | None = None
) -> NDArray[np.int64]:
    xp = _checked_block(x, centers.dtype, cosine, _start(block_info))
    return nearest(xp, np.ones(xp.shape[0]), centers, worker=True)[0]


def _transform_block(
    x: NDArray[Any], centers: Floats, cosine: bool, block_info: dict[Any, Any] | None = None
) -> F8:
    xp = _checked_block(x, centers.dtype, cosine, _start(block_info))
    out = np.empty((xp.shape[0], centers.shape[0]))
    all_distances_serial(xp, centers, out)
    return out


def _inertia_part(
    x: NDArray[Any], w: F8 | None, centers: Floats, cosine: bool, start: int
) -> tuple[float, float]:
    xp = _checked_block(x, centers.dtype, cosine, start)
    ww = block_weights(w, xp.shape[0])
    if not np.isfinite(ww).all() or (ww < 0).any():
        raise ValueError("sample_weight must be finite and non-negative")
    return nearest(xp, ww, centers, worker=True)[1], float(ww.sum())


def _inertia_total(*parts: tuple[float, float]) -> F8:
    if sum(p[1] for p in parts) <= 0:
        raise ValueError("sample_weight is zero everywhere; at least one weight must be > 0")
    return np.array(sum(p[0] for p in parts))


def predict_dask(model: KMeansModel, X: da.Array) -> da.Array:
    """Lazy nearest-centroid labels of a dask array (int64, chunked like X's rows).

    Parameters
    ----------
    model : KMeansModel
        The fitted model.
    X : dask.array.Array of shape (n_samples, n_features)

    Returns
    -------
    dask.array.Array of shape (n_samples,), int64
        Nothing is computed until asked; errors in the data surface at compute time.
    """
    X, centers, cosine = _check_new_data(model, X)
    return X.map_blocks(
        _predict_block,
        centers=centers,
        cosine=cosine,
        drop_axis=1,
        dtype=np.int64,
        meta=np.empty(0, dtype=np.int64),
    )


def transform_dask(model: KMeansModel, X: da.Array) -> da.Array:
    """Lazy Euclidean distances of each row of a dask array to each centroid, (n, k) f8."""
    X, centers, cosine = _check_new_data(model, X)
    return X.map_blocks(
        _transform_block,
        centers=centers,
        cosine=cosine,
        chunks=(X.chunks[0], (model.n_clusters,)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )


def assign_dask(
    model: KMeansModel, X: da.Array, sample_weight: ArrayLike | da.Array | None
) -> tuple[da.Array, da.Array]:
    """Lazy labels and lazy 0-d weighted inertia of a dask array (``predict``, ``score``)."""
    labels = predict_dask(model, X)
    X, centers, cosine = _check_new_data(model, X)
    w = weight_array(sample_weight, X.shape[0], X.chunks[0])
    xs = list(X.to_delayed().ravel())
    ws = [None] * len(xs) if w is None else list(w.to_delayed().ravel())
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])])
    parts = [
        delayed(_inertia_part, pure=True)(x, wb, centers, cosine, int(s))
        for x, wb, s in zip(xs, ws, starts)
    ]
    total = delayed(_inertia_total, pure=True)(*parts)
    return labels, da.from_delayed(total, shape=(), dtype=np.float64)
