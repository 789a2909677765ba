"""Data larger than memory: a memmap or any sliceable 2-D array-like, read in row blocks.

An ``np.memmap``, or any other 2-D array-like with ``shape``, ``dtype`` and row slicing
(h5py and zarr datasets, for example), whose size is above the memory budget is never
loaded whole. Each pass reads one block of rows at a time into a buffer of at most the
budget, runs the same block functions as data in memory do (parallel kernels inside the
block) and releases it. Block boundaries depend on ``n``, ``d`` and the budget only, and
partial sums are merged in block order.

Per-row state stays in memory for the whole run: labels (8 bytes per row), Hamerly's two
bounds (16 more) or Yinyang's upper bound and group bounds (8 + 8 per group), sample
weights when given (8), and while seeding the distance to the closest center (8; k-means||
adds the nearest candidate, 8 more). Pages of a memory map that a block touched are handed
back to the operating system after the block (``madvise(MADV_DONTNEED)``), so the resident
size stays near the budget.

The budget is ``FASTKMEANS_MEMORY_BUDGET`` (bytes, or with a K/M/G suffix; default 256M),
read at each fit.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _config
from .._validation import (
    as_sample_weight,
    check_n_clusters,
    check_rows,
    normalize_rows,
    weight_scale,
)
from .base import BlockFn, BlockSource, merge_moments, sum_packed

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]

DEFAULT_BUDGET = 256 * 2**20
_SUFFIX = {"K": 2**10, "M": 2**20, "G": 2**30}


def memory_budget() -> int:
    """Bytes a block of rows may take: ``FASTKMEANS_MEMORY_BUDGET`` (e.g. ``"64M"``)."""
    raw = os.environ.get("FASTKMEANS_MEMORY_BUDGET", "").strip().upper().removesuffix("B")
    if not raw:
        return DEFAULT_BUDGET
    scale = _SUFFIX.get(raw[-1], 1)
    digits = raw[:-1] if raw[-1] in _SUFFIX else raw
    try:
        value = int(float(digits) * scale)
    except ValueError:
        raise ValueError(
            f"FASTKMEANS_MEMORY_BUDGET must be a number of bytes such as 268435456 or "
            f"'256M', got {os.environ['FASTKMEANS_MEMORY_BUDGET']!r}"
        ) from None
    if value <= 0:
        raise ValueError(f"FASTKMEANS_MEMORY_BUDGET must be > 0, got {value}")
    return value


def should_stream(X: Any) -> bool:
    """True for a 2-D memmap or sliceable numeric array-like larger than the budget."""
    if isinstance(X, np.ndarray) and not isinstance(X, np.memmap):
        return False
    shape, dtype = getattr(X, "shape", None), getattr(X, "dtype", None)
    if shape is None or dtype is None or not hasattr(X, "__getitem__") or len(shape) != 2:
        return False
    if hasattr(X, "toarray") or isinstance(X, (list, tuple)):  # sparse matrices
        return False
    try:
        dt = np.dtype(dtype)
    except TypeError:
        return False
    if dt.kind not in "biuf":
        return False
    return int(shape[0]) * int(shape[1]) * dt.itemsize > memory_budget()


def _mapping(X: Any) -> mmap.mmap | None:
    """The memory map under a memmap (or a view of one) whose pages may be released;
    None for copy-on-write maps, whose private changes would be lost."""
    a = X
    while isinstance(a, np.ndarray):
        mm = getattr(a, "_mmap", None)
        if mm is not None:
            return None if getattr(a, "mode", "r") == "c" else mm
        a = a.base
    return None


class StreamSource(BlockSource):
    """Rows of a large 2-D array-like, read in blocks of at most the memory budget and
    checked in one pass at construction (finite values, per-feature moments).

    Blocks are float32 (for float32 data) or float64, C-contiguous, and for
    ``metric="cosine"`` scaled to unit length, exactly as data in memory are prepared.
    """

    kind = "data read in blocks (out of core)"

    def __init__(
        self, X: Any, sample_weight: ArrayLike | None, cosine: bool, n_clusters: int = 1
    ) -> None:
        self.X = X
        self.n, self.d = (int(s) for s in X.shape)
        src = np.dtype(X.dtype)
        self.dtype = np.float32 if src == np.float32 else np.float64
        if self.n == 0:
            raise ValueError(f"X has 0 samples (shape {X.shape}); at least 1 is required")
        if self.d == 0:
            raise ValueError(f"X has 0 features (shape {X.shape}); at least 1 is required")
        check_n_clusters(self.n, n_clusters)  # before any value is read
        self.cosine = cosine
        row_bytes = self.d * (src.itemsize + np.dtype(self.dtype).itemsize)
        rows = memory_budget() // row_bytes
        block_rows = max(_config.TILE_ROWS, rows // _config.TILE_ROWS * _config.TILE_ROWS)
        self.offsets = np.array([*range(0, self.n, block_rows), self.n], dtype=np.intp)
        self._mmap = _mapping(X)
        self.w = None if sample_weight is None else as_sample_weight(sample_weight, self.n)
        if self.w is not None:
            self.weight_scale = weight_scale(float(self.w.max()))
            self.w = self.w / self.weight_scale
        w = self.all_weights()
        self.block_weight = np.add.reduceat(w, self.offsets[:-1])
        self.n_positive = int((w > 0).sum())
        self.mean, self.var = self._validate()
        self.start_run()

    def blocks(self) -> Iterator[tuple[int, int]]:
        """Row ranges ``[start, stop)`` of the blocks, in order."""
        for b in range(self.n_blocks):
            yield int(self.offsets[b]), int(self.offsets[b + 1])

    def _convert(self, raw: Any, first_row: int | None) -> Floats:
        block = np.array(raw, dtype=self.dtype, order="C", copy=True)
        self.release()
        if first_row is not None:
            check_rows(block, first_row, self.cosine)
        return normalize_rows(block) if self.cosine else block

    def read(self, start: int, stop: int, check: bool = False) -> Floats:
        """Rows ``start..stop`` as a prepared in-memory block."""
        return self._convert(self.X[start:stop], start if check else None)

    def rows(self, idx: NDArray[np.intp]) -> Floats:
        uniq, inverse = np.unique(idx, return_inverse=True)
        return np.ascontiguousarray(self._convert(self.X[uniq], None)[inverse])

    def release(self) -> None:
        """Hand the memory map's resident pages back to the operating system."""
        if self._mmap is not None and hasattr(mmap, "MADV_DONTNEED"):
            try:
                self._mmap.madvise(mmap.MADV_DONTNEED)
            except (OSError, ValueError):  # pragma: no cover - platform dependent
                self._mmap = None

    def _validate(self) -> tuple[F8, F8]:
        """One pass: every value finite; per-feature mean and variance (float64)."""
        parts = []
        for s, e in self.blocks():
            block = self.read(s, e, check=True)
            bmean = block.mean(axis=0, dtype=np.float64)
            parts.append((e - s, bmean, ((block - bmean) ** 2).sum(axis=0, dtype=np.float64)))
        return merge_moments(parts, self.d)

    def weights(self, s: int, e: int) -> F8:
        """Sample weights of rows ``s..e`` (ones when none were given)."""
        return np.ones(e - s) if self.w is None else self.w[s:e]

    def all_weights(self) -> F8:
        return np.ones(self.n) if self.w is None else self.w

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
        states = list(states)
        results = []
        for b in range(self.n_blocks) if only is None else only:
            s, e = int(self.offsets[b]), int(self.offsets[b + 1])
            x = self.read(s, e) if needs_x else None
            states[b], result = fn(x, self.weights(s, e), states[b], s, args)
            results.append(result)
        return states, (sum_packed(*results) if reduce else results)
