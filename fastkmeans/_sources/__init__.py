"""Data sources: the only place that knows what X is (see :mod:`.base` for the protocol).

* :class:`.memory.MemorySource`: an array in memory, one block;
* :class:`.stream.StreamSource`: a memmap or other sliceable array larger than the memory
  budget, read in row blocks;
* :class:`.dask.DaskSource`: a ``dask.array.Array``, blocks on the workers (imported only
  for dask input, so that ``import fastkmeans`` does not import Dask).
"""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from .._validation import check_not_sparse
from .base import BlockSource
from .memory import MemorySource
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
        from .dask import DaskSource

        return DaskSource(X, sample_weight, cosine, n_clusters)
    check_not_sparse(X)
    if should_stream(X):
        return StreamSource(X, sample_weight, cosine, n_clusters)
    return MemorySource(X, sample_weight, cosine, n_clusters)


__all__ = [
    "BlockSource",
    "MemorySource",
    "StreamSource",
    "is_dask",
    "open_source",
    "should_stream",
]
