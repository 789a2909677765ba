"""Data in memory: one block, the whole array, parallel kernels on all cores."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _config
from .._assign import chunk_bounds
from .._cold import kernel as chosen
from .._validation import (
    as_float_array,
    as_sample_weight,
    check_n_clusters,
    normalize_rows,
    weight_scale,
)
from ..kernels.stats import column_mean_var, column_mean_var_serial
from .base import BlockFn, BlockSource

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]


def column_stats(X: Floats) -> tuple[F8, F8]:
    """Per-feature mean and population variance of ``X`` in float64, without a temporary
    copy of ``X`` (``np.var`` would allocate one)."""
    mean = np.empty(X.shape[1])
    var = np.empty(X.shape[1])
    bounds = chunk_bounds(X.shape[0])
    serial = X.size <= _config.STATS_SERIAL_MAX_VALUES
    flat = np.ascontiguousarray(X).reshape(-1)  # a view: validated rows are C-ordered
    chosen(column_mean_var_serial if serial else column_mean_var)(flat, X.shape[1], bounds,
                                                                  mean, var)  # fmt: skip
    return mean, var


class MemorySource(BlockSource):
    """A validated in-memory array (copied only when it must be: see
    :func:`fastkmeans._validation.as_float_array`), rows scaled to unit length for
    ``metric="cosine"``; weights as a float64 array."""

    kind = "in-memory data"
    #: The checked rows of the caller's ``X``, and the same scaled to unit length.
    prepare = staticmethod(as_float_array)
    unit_rows = staticmethod(normalize_rows)

    def __init__(
        self, X: ArrayLike, sample_weight: ArrayLike | None, cosine: bool, n_clusters: int = 1
    ) -> None:
        Xa = self.prepare(X)
        check_n_clusters(Xa.shape[0], n_clusters)
        self.X = self.unit_rows(Xa) if cosine else Xa
        self.n, self.d = self.X.shape
        self.dtype = self.X.dtype.type
        self.cosine = cosine
        self.w = as_sample_weight(sample_weight, self.n)
        self.offsets = np.array([0, self.n], dtype=np.intp)
        if sample_weight is None:  # unit weights: their total and count are n, no scans
            self.weight_scale = 1.0
            self.block_weight = np.array([float(self.n)])
            self.n_positive = self.n
        else:
            self.weight_scale = weight_scale(float(self.w.max()))
            if self.weight_scale != 1.0:
                self.w = self.w / self.weight_scale
            self.block_weight = np.array([float(self.w.sum())])
            self.n_positive = int((self.w > 0).sum())
        self._stats: tuple[F8, F8] | None = None
        self.start_run()

    @property
    def mean(self) -> F8:  # type: ignore[override]
        return self._moments()[0]

    @property
    def var(self) -> F8:  # type: ignore[override]
        return self._moments()[1]

    def _moments(self) -> tuple[F8, F8]:
        if self._stats is None:  # computed when first needed (prediction never needs it)
            self._stats = column_stats(self.X)
        return self._stats

    def map(
        self,
        fn: BlockFn,
        states: list[Any],
        args: dict[str, Any],
        *,
        only: list[int] | None = None,
        reduce: bool = False,
        needs_x: bool = True,
    ) -> tuple[list[Any], Any]:
        if only is not None and 0 not in only:
            return states, []
        state, result = fn(self.X, self.w, states[0], 0, args)
        return [state], (result if reduce else [result])

    def rows(self, idx: NDArray[np.intp]) -> Floats:
        return np.take(self.X, idx, axis=0)

    def all_weights(self) -> F8:
        return self.w

    def local_array(self) -> tuple[Floats, F8]:
        """The rows and weights themselves (for the fused in-memory seeding kernel)."""
        return self.X, self.w
