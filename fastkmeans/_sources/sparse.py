"""Sparse data in memory: a scipy CSR matrix (or one converted once), one block.

The same source as :class:`.memory.MemorySource` with :class:`fastkmeans._csr.CSRRows`
for rows: block functions receive the CSR rows and pick the sparse kernels. Centers stay
dense; nothing of size n x d is made.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _csr
from ..errors import warn
from .memory import MemorySource

F8 = NDArray[np.float64]


class SparseSource(MemorySource):
    """Validated CSR rows in memory (see :func:`fastkmeans._csr.as_csr`); an empty row is
    the zero vector, and an error under ``metric="cosine"``."""

    kind = "sparse data"
    incremental = False
    prepare = staticmethod(_csr.as_csr)
    unit_rows = staticmethod(_csr.normalize)

    def _moments(self) -> tuple[F8, F8]:
        if self._stats is None:
            self._stats = _csr.column_stats(self.X)
        return self._stats

    def rows(self, idx: NDArray[np.intp]) -> Any:
        return self.X[idx]

    def exact_algorithm(self, algorithm: str) -> str:
        if algorithm in ("hamerly", "yinyang"):
            warn(
                f"algorithm={algorithm!r} has no sparse kernel: Lloyd's algorithm runs on "
                f"sparse data instead (the same result)",
                UserWarning,
            )
            return "lloyd"
        return "lloyd" if algorithm == "auto" else algorithm

    def blas_inside(self, init: Any, gemm: bool) -> bool:
        return False
