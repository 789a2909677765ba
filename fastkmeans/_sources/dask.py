"""Data in a ``dask.array.Array``: blocks on the workers, never gathered.

The data are prepared once (cast to float32/float64, rows scaled to unit length for
``metric="cosine"``, one column chunk), checked blockwise (finite values, weights, moments)
and persisted. Every pass is then one graph: a block function per block on the worker that
holds the block, with the serial twins of the kernels (no Numba thread pool is started in a
worker, so any threading layer and start method is safe). Per-block state (labels, the
bounds of Hamerly and Yinyang, the seeding distances) stays persisted on the workers between
passes; partial sums come back as one packed float64 vector per pass, added in a fixed-order
tree. Only centroids, per-pass statistics, seeding candidates and, at the end, the labels
come back to the client.
"""

from __future__ import annotations

import math
from typing import Any

import dask
import dask.array as da
import numpy as np
from dask.delayed import delayed
from numpy.typing import NDArray

from .._validation import as_sample_weight, bad_value, check_n_clusters, weight_scale, zero_row
from .base import BlockFn, BlockSource, merge_moments, sum_packed

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]

#: Fan-in of the tree that adds the per-block vectors.
SPLIT_EVERY: int = 8


def writable(a: NDArray[Any]) -> NDArray[Any]:
    """``a``, copied when read-only (as arrays received from another worker can be), so
    the kernels see one array type and compile once."""
    return a if a.flags.writeable else a.copy()


def block_weights(w: Any, m: int) -> F8:
    return np.ones(m) if w is None else writable(np.asarray(w, dtype=np.float64))


def prepare_block(x: NDArray[Any], to: type, cosine: bool) -> Floats:
    """Cast to ``to`` (C order, writable); with ``cosine``, rows of finite non-zero length
    are scaled to unit length (others are left for the checks to report)."""
    x = writable(np.ascontiguousarray(x, dtype=to))
    if cosine and x.shape[0]:
        norms = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))
        ok = (norms > 0) & np.isfinite(norms)
        out = x.copy()
        out[ok] = (x[ok] / norms[ok, None]).astype(to)
        return out
    return x


def _first_bad(mask: NDArray[np.bool_]) -> tuple[int, ...] | None:
    return None if not mask.any() else tuple(int(i) for i in np.argwhere(mask)[0])


def block_stats(x: Floats, w: F8 | None, cosine: bool) -> dict[str, Any]:
    """Checks and moments of one prepared block (indices local to the block)."""
    m = x.shape[0]
    out: dict[str, Any] = {"n": m, "nan": None, "inf": None, "zero": None}
    finite = np.isfinite(x)
    if not finite.all():
        out["nan"] = _first_bad(np.isnan(x))
        out["inf"] = _first_bad(~finite & ~np.isnan(x))
    elif m:
        out["mean"] = x.mean(axis=0, dtype=np.float64)
        out["m2"] = np.var(x, axis=0, dtype=np.float64) * m
        if cosine:
            zero = np.flatnonzero(~x.any(axis=1))
            out["zero"] = int(zero[0]) if zero.shape[0] else None
    ww = block_weights(w, m)
    out["w_bad"] = _first_bad(~np.isfinite(ww))
    out["w_neg"] = _first_bad(ww < 0)
    out["w_sum"] = float(ww.sum())
    out["w_max"] = float(ww.max()) if m else 0.0
    out["w_pos"] = int((ww > 0).sum())
    return out


def check_array(X: Any) -> da.Array:
    """Shape and dtype checks of a dask array; one column chunk."""
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D array of shape (n_samples, n_features) for X, got {X.ndim}-D "
            f"with shape {X.shape}; use .reshape(-1, 1) for a single feature"
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must contain real numbers, got dtype {X.dtype}")
    if any(math.isnan(c) for c in X.chunks[0]):
        raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes() first")
    if X.shape[0] == 0 or X.shape[1] == 0:
        what = "samples" if X.shape[0] == 0 else "features"
        raise ValueError(f"X has 0 {what} (shape {X.shape}); at least 1 is required")
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def weight_array(sample_weight: Any, n: int, chunks: tuple[int, ...]) -> da.Array | None:
    """Sample weights as a dask array chunked like X's rows (checked blockwise later)."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, da.Array):
        if sample_weight.shape != (n,):
            raise ValueError(
                f"sample_weight.shape == {sample_weight.shape}, expected ({n},) to match X"
            )
        return sample_weight.astype(np.float64).rechunk((chunks,))
    return da.from_array(as_sample_weight(sample_weight, n), chunks=(chunks,))


def _sum_positive(w: F8) -> tuple[float, int]:
    return float(np.sum(w)), int((np.asarray(w) > 0).sum())


def _call(fn: BlockFn, x: Floats, w: Any, state: Any, offset: int, args: Any) -> Any:
    return fn(writable(x), block_weights(w, x.shape[0]), state, offset, args)


def _tree(parts: list[Any]) -> Any:
    """Add ``parts`` in a fixed-order tree of fan-in ``SPLIT_EVERY``."""
    while len(parts) > 1:
        parts = [
            delayed(sum_packed, pure=True)(*parts[i : i + SPLIT_EVERY])
            for i in range(0, len(parts), SPLIT_EVERY)
        ]
    return parts[0]


class DaskSource(BlockSource):
    """A ``dask.array.Array`` prepared, checked and persisted on the workers."""

    kind = "a dask array"
    worker = True

    def __init__(self, X: Any, sample_weight: Any, cosine: bool, n_clusters: int = 1) -> None:
        X = check_array(X)
        self.n, self.d = (int(s) for s in X.shape)
        check_n_clusters(self.n, n_clusters)  # before any block is computed
        self.dtype = np.float32 if X.dtype == np.float32 else np.float64
        self.cosine = cosine
        Xp = X.map_blocks(
            prepare_block,
            to=self.dtype,
            cosine=cosine,
            dtype=self.dtype,
            meta=np.empty((0, 0), dtype=self.dtype),
        )
        w = weight_array(sample_weight, self.n, X.chunks[0])
        self.X, self.w = dask.persist(Xp, w)
        self.xblocks = list(self.X.to_delayed().ravel())
        self.wblocks = (
            [None] * len(self.xblocks) if self.w is None else list(self.w.to_delayed().ravel())
        )
        self.offsets = np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(np.intp)
        stats = dask.compute(
            *[delayed(block_stats)(x, w, cosine) for x, w in zip(self.xblocks, self.wblocks)]
        )
        self._check(stats)
        self.weight_scale = weight_scale(max(s["w_max"] for s in stats))
        if self.weight_scale != 1.0:
            (self.w,) = dask.persist(self.w / self.weight_scale)
            self.wblocks = list(self.w.to_delayed().ravel())
            # Sums and counts again, of the weights as held: the old sums overflowed.
            parts = dask.compute(*[delayed(_sum_positive)(wb) for wb in self.wblocks])
            self.block_weight = np.array([p[0] for p in parts], dtype=np.float64)
            self.n_positive = sum(p[1] for p in parts)
        self.start_run()

    def _check(self, stats: tuple[dict[str, Any], ...]) -> None:
        for kind in ("nan", "inf"):
            for s, off in zip(stats, self.offsets):
                if s[kind] is not None:
                    r, c = s[kind]
                    raise bad_value("NaN" if kind == "nan" else "infinity", off + r, c)
        for s, off in zip(stats, self.offsets):
            if s["zero"] is not None:
                raise zero_row(off + s["zero"])
        for key, problem in (("w_bad", "contains NaN or infinity"), ("w_neg", "is negative")):
            for s, off in zip(stats, self.offsets):
                if s[key] is not None:
                    raise ValueError(f"sample_weight {problem} at index {off + s[key][0]}")
        self.block_weight = np.array([s["w_sum"] for s in stats])
        self.n_positive = sum(s["w_pos"] for s in stats)
        if self.n_positive == 0:
            raise ValueError("sample_weight is zero everywhere; at least one weight must be > 0")
        parts = [(s["n"], s.get("mean"), s.get("m2")) for s in stats]
        self.mean, self.var = merge_moments(parts, self.d)

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
        shared = delayed(args, traverse=False)
        blocks = range(self.n_blocks) if only is None else only
        call = delayed(_call, nout=2, pure=False)
        out = [
            call(fn, self.xblocks[b], self.wblocks[b], states[b], int(self.offsets[b]), shared)
            for b in blocks
        ]
        new = [o[0] for o in out]
        results: list[Any] = [o[1] for o in out]
        if reduce:
            results = [_tree(results)]
        kept = dask.persist(*new, *results)
        states = list(states)
        for b, s in zip(blocks, kept[: len(new)]):
            states[b] = s
        got = dask.compute(*kept[len(new) :])
        return states, (got[0] if reduce else list(got))

    def rows(self, idx: NDArray[np.intp]) -> Floats:
        uniq, inverse = np.unique(idx, return_inverse=True)
        return np.ascontiguousarray(np.asarray(self.X[uniq].compute())[inverse])

    def all_weights(self) -> F8:
        return np.ones(self.n) if self.w is None else np.asarray(self.w.compute())
