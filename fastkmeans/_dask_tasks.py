"""Functions that Dask workers run on one block: the Numba block kernels plus the NumPy glue
around them (casting, checks with global row numbers, packing of partial results).

Blocks arriving from another worker can be read-only; they are copied before a kernel sees
them so that each kernel compiles for one array type only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _config
from . import _parallel_init as kp
from ._fit import normalize_rows
from .kernels.blocks import (
    block_all_distances,
    block_assign,
    block_assigned_sq_distances,
    block_lloyd,
    block_nearest,
)

F8 = NDArray[np.float64]
Floats = NDArray[np.floating]


def _writable(a: NDArray[Any]) -> NDArray[Any]:
    """``a``, copied when read-only (as arrays received from another worker can be), so
    the kernels see one array type and compile once."""
    return a if a.flags.writeable else a.copy()


def _weights(w: F8 | None, m: int) -> F8:
    return np.ones(m) if w is None else _writable(np.asarray(w, dtype=np.float64))


def prepare_block(x: NDArray[Any], to: type, cosine: bool) -> Floats:
    """Cast to ``to`` (C order, writable); with ``cosine``, rows of finite non-zero length
    are scaled to unit length (others are left for the checks to report)."""
    x = _writable(np.ascontiguousarray(x, dtype=to))
    dtype = to
    if cosine and x.shape[0]:
        norms = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))
        ok = (norms > 0) & np.isfinite(norms)
        out = x.copy()
        out[ok] = (x[ok] / norms[ok, None]).astype(dtype)
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
    ww = _weights(w, m)
    out["w_bad"] = _first_bad(~np.isfinite(ww))
    out["w_neg"] = _first_bad(ww < 0)
    out["w_sum"] = float(ww.sum())
    out["w_pos"] = int((ww > 0).sum())
    return out


def lloyd_task(
    x: Floats,
    w: F8 | None,
    labels: NDArray[np.intp] | None,
    centers: Floats,
    mean: Floats,
    gemm: bool,
) -> tuple[NDArray[np.intp], F8]:
    """One block of one Lloyd iteration: (new labels, packed partial sums)."""
    k, d = centers.shape
    m = x.shape[0]
    new = np.full(m, -1, dtype=np.intp) if labels is None else np.array(labels, dtype=np.intp)
    packed = np.empty(k * d + k + 2)
    block_lloyd(_writable(x), _weights(w, m), np.array(centers), np.array(mean), gemm, new, packed)
    return new, packed


def sum_packed(*parts: F8) -> F8:
    out = np.array(parts[0], dtype=np.float64)
    for p in parts[1:]:
        out += p
    return out


def farthest_task(
    x: Floats, w: F8 | None, labels: NDArray[np.intp], offset: int, centers: Floats, m: int
) -> tuple[F8, NDArray[np.intp], F8, F8, NDArray[np.intp]]:
    """The block's ``m`` rows farthest from their centre (farthest first, ties to the lower
    row): distances, global rows, the rows in float64, their weights and labels."""
    ww = _weights(w, x.shape[0])
    dist = np.empty(x.shape[0])
    block_assigned_sq_distances(_writable(x), np.array(centers), np.array(labels), dist)
    dist[ww <= 0] = -1.0
    m = min(m, x.shape[0])
    top = np.argpartition(-dist, m - 1)[:m] if m else np.empty(0, dtype=np.intp)
    top = top[np.lexsort((top, -dist[top]))]
    return dist[top], top + offset, x[top].astype(np.float64), ww[top], labels[top]


def final_task(
    x: Floats,
    w: F8 | None,
    labels: NDArray[np.intp] | None,
    centers: Floats,
    mean: Floats,
    gemm: bool,
    k: int,
) -> tuple[NDArray[np.int64], float, F8]:
    """Final labels of a block, its inertia and cluster weights; with ``labels`` given the
    assignment is already known and only the weights are summed."""
    ww = _weights(w, x.shape[0])
    inertia = 0.0
    if labels is None:
        labels = np.full(x.shape[0], -1, dtype=np.intp)
        inertia = block_assign(_writable(x), ww, np.array(centers), np.array(mean), gemm, labels)
    return labels.astype(np.int64), inertia, np.bincount(labels, weights=ww, minlength=k)


def pick_task(x: Floats, w: F8 | None, target: float) -> Floats:
    return x[kp.weighted_index(_weights(w, x.shape[0]), target)][None, :].copy()


def sample_task(
    x: Floats, w: F8 | None, closest: F8, root: int, r: int, b: int, ell: float, pot: float
) -> Floats:
    u = kp.round_uniforms(root, r, b, x.shape[0])
    return x[kp.sample_rows(u, _weights(w, x.shape[0]), closest, ell, pot)]


def nearest_task(
    x: Floats,
    w: F8 | None,
    closest: F8 | None,
    nearest: NDArray[np.intp] | None,
    cands: Floats,
    mean: Floats,
    offset: int,
    gemm: bool,
) -> tuple[F8, NDArray[np.intp], float, F8]:
    """Update the block's nearest-candidate distances with ``cands``; returns them, the
    block's potential and the weight nearest to each candidate so far."""
    m = x.shape[0]
    ww = _weights(w, m)
    closest = np.full(m, np.inf) if closest is None else np.array(closest)
    nearest = np.zeros(m, dtype=np.intp) if nearest is None else np.array(nearest)
    pot = block_nearest(
        _writable(x), ww, np.array(cands), np.array(mean), offset, gemm, closest, nearest
    )
    counts = np.bincount(nearest, weights=ww, minlength=offset + cands.shape[0])
    return closest, nearest, pot, counts


def predict_block(
    x: NDArray[Any], centers: Floats, cosine: bool, block_info: dict[Any, Any] | None = None
) -> NDArray[np.int64]:
    return _assign_block(x, None, centers, cosine, block_info)[0]


def _assign_block(
    x: NDArray[Any], w: F8 | None, centers: Floats, cosine: bool, block_info: dict[Any, Any] | None
) -> tuple[NDArray[np.int64], float, float]:
    """Labels, weighted inertia and weight of one block of new data (checked here)."""
    xp = _checked_block(x, centers.dtype, cosine, block_info)
    ww = _weights(w, xp.shape[0])
    if not np.isfinite(ww).all() or (ww < 0).any():
        raise ValueError("sample_weight must be finite and non-negative")
    k, d = centers.shape
    gemm = _config.use_gemm(d, k) and xp.shape[0] > 0
    mean = xp.mean(axis=0, dtype=np.float64).astype(xp.dtype) if gemm else np.zeros(d, xp.dtype)
    labels = np.full(xp.shape[0], -1, dtype=np.intp)
    inertia = block_assign(xp, ww, np.array(centers), mean, gemm, labels)
    return labels.astype(np.int64), inertia, float(ww.sum())


def transform_block(
    x: NDArray[Any], centers: Floats, cosine: bool, block_info: dict[Any, Any] | None = None
) -> F8:
    xp = _checked_block(x, centers.dtype, cosine, block_info)
    out = np.empty((xp.shape[0], centers.shape[0]))
    block_all_distances(xp, np.array(centers), out)
    return out


def _checked_block(
    x: NDArray[Any], dtype: type, cosine: bool, block_info: dict[Any, Any] | None
) -> Floats:
    xp = _writable(np.ascontiguousarray(x, dtype=dtype))
    start = 0 if not block_info else int(block_info[0]["array-location"][0][0])
    for kind, mask in (("NaN", np.isnan(xp)), ("infinity", np.isinf(xp))):
        bad = _first_bad(mask)
        if bad is not None:
            raise ValueError(
                f"Input X contains {kind} (first at row {start + bad[0]}, column {bad[1]})"
            )
    if cosine and xp.shape[0]:
        xp = normalize_rows(xp) if xp.any(axis=1).all() else _zero_row(xp, start)
    return xp


def _zero_row(xp: Floats, start: int) -> Floats:
    i = start + int(np.flatnonzero(~xp.any(axis=1))[0])
    raise ValueError(
        f'metric="cosine" needs rows of non-zero length, but row {i} of X is all zeros'
    )


def inertia_part(
    x: NDArray[Any], w: F8 | None, centers: Floats, cosine: bool, start: int
) -> tuple[float, float]:
    info = {0: {"array-location": [(start, start + x.shape[0])]}}
    _, inertia, wsum = _assign_block(x, w, centers, cosine, info)
    return inertia, wsum


def inertia_total(*parts: tuple[float, float]) -> F8:
    if sum(p[1] for p in parts) <= 0:
        raise ValueError("sample_weight is zero everywhere; at least one weight must be > 0")
    return np.array(sum(p[0] for p in parts))
