"""Data sources: the only place that knows what X is (see :mod:`.base` for the protocol).

* :class:`.memory.MemorySource`: an array in memory, one block;
* :class:`.sparse.SparseSource`: a scipy sparse matrix or array, as CSR in memory;
* :class:`.stream.StreamSource`: a memmap or other sliceable array larger than the memory
  budget, read in row blocks;
* :class:`.dask.DaskSource`: a ``dask.array.Array``, blocks on the workers (imported only
  for dask input, so that ``import fastkmeans`` does not import Dask).
"""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from .._validation import is_sparse
from .base import BlockSource
from .memory import MemorySource
from .sparse import SparseSource
from .stream import StreamSource, should_stream


def is_dask(X: Any) -> bool:
    """Whether ``X`` is a dask array (without importing Dask)."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "chunks")


def open_source(
    X: Any, sample_weight: ArrayLike | None, cosine: bool, n_clusters: int = 1
) -> BlockSource:
    """The source for ``X``: validated once (at least ``n_clusters`` rows, checked before
    any value is read), weights checked, rows prepared."""
    if is_dask(X):
        if is_sparse(getattr(X, "_meta", None)):
            raise TypeError(
                "X is a Dask array of scipy sparse blocks, which fastkmeans cannot fit yet: "
                "fit the sparse matrix in memory (X.compute()), or a dense Dask array"
            )
        from .dask import DaskSource

        return DaskSource(X, sample_weight, cosine, n_clusters)
    if is_sparse(X):
        return SparseSource(X, sample_weight, cosine, n_clusters)
    if should_stream(X):
        return StreamSource(X, sample_weight, cosine, n_clusters)
    return MemorySource(X, sample_weight, cosine, n_clusters)


__all__ = [
    "BlockSource",
    "MemorySource",
    "SparseSource",
    "StreamSource",
    "is_dask",
    "open_source",
    "should_stream",
]
