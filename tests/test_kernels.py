"""Every kernel against the plain-NumPy reference in tests/naive.py, for both dtypes."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from fastkmeans import _config
from fastkmeans._assign import chunk_bounds
from fastkmeans._seeding import plusplus_kernel
from fastkmeans._sources.memory import column_stats
from fastkmeans.kernels import distances, lloyd, partials, small
from tests import naive

DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-4, np.float64: 1e-6}


def _data(n: int, d: int, k: int, dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    C = rng.normal(size=(k, d)).astype(dtype)
    w = rng.uniform(0.5, 2.0, size=n)
    return X, C, w


def _workspace(n: int, k: int, d: int):
    bounds = chunk_bounds(n)
    nc = bounds.shape[0] - 1
    return (
        bounds,
        np.full(n, -1, dtype=np.intp),
        np.zeros((nc, k, d)),
        np.zeros((nc, k)),
        np.zeros((nc, k, 2)),
        np.zeros(d),
        np.zeros(nc),
        np.zeros(nc, dtype=np.intp),
    )


def _run(kind: str, X, w, C, accumulate=True):
    n, d = X.shape
    k = C.shape[0]
    bounds, labels, sums, wsums, stats, smean, inertia, changed = _workspace(n, k, d)
    mode = partials.SUMS if accumulate else partials.EXACT
    args = (bounds, labels, sums, wsums, stats, smean, inertia, changed, mode)
    if kind == "direct":
        lloyd.lloyd_direct(X, w, C, *args)
    elif kind == "serial":
        lloyd.lloyd_direct_serial(X, w, C, *args)
    elif kind == "small":
        small.lloyd_small(X, w, C, *args)
    else:
        mean = X.mean(axis=0, dtype=np.float64).astype(X.dtype)
        lloyd.lloyd_gemm(X, w, C, mean, *args)
    total_sums, total_wsums = np.zeros((k, d)), np.zeros(k)
    lloyd.reduce_chunks(sums, wsums, total_sums, total_wsums)
    return labels, total_sums, total_wsums, inertia.sum(), changed.sum()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["direct", "serial", "gemm"])
# Shapes cover one row, a ragged last tile (rows not a multiple of 4, 16 or TILE_ROWS),
# the transposed GEMM layout (d < ROW_MAJOR_MIN_FEATURES; d = 45: chains of eight features
# and of one) and the row-major one (d = 70).
@pytest.mark.parametrize(
    "shape",
    [(1, 3, 1), (700, 2, 3), (5000, 20, 7), (9000, 33, 16), (3001, 45, 9), (2333, 70, 11)],
)
def test_assign_accumulate_matches_naive(kind, dtype, shape):
    n, d, k = shape
    X, C, w = _data(n, d, k, dtype)
    labels, sums, wsums, inertia, changed = _run(kind, X, w, C)
    dist = naive.sq_distances(X, C)
    # The predicted centroid is a nearest one: compare distances, not labels (ties).
    picked = dist[np.arange(n), labels]
    np.testing.assert_allclose(picked, dist.min(axis=1), rtol=RTOL[dtype], atol=1e-6)
    if dtype == np.float64:
        np.testing.assert_array_equal(labels, naive.assign(X, C))
    exp_sums = np.zeros((k, d))
    np.add.at(exp_sums, labels, w[:, None] * X.astype(np.float64))
    np.testing.assert_allclose(sums, exp_sums, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(wsums, np.bincount(labels, weights=w, minlength=k), rtol=1e-12)
    np.testing.assert_allclose(inertia, naive.inertia(X, C, labels, w), rtol=1e-10)
    assert changed == n  # labels started at -1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["direct", "serial", "gemm"])
@pytest.mark.parametrize("d", [3, 70])  # the GEMM kernel's transposed and row-major tiles
def test_ties_go_to_the_lowest_index(kind, dtype, d):
    X, C, w = _data(2000, d, 8, dtype, seed=8)
    C[5] = C[2]  # a duplicated center: every row nearest to it must take label 2
    labels, *_ = _run(kind, X, w, C)
    assert (labels == 2).any() and not (labels == 5).any()


@pytest.mark.parametrize("kind", ["direct", "serial", "gemm"])
def test_assign_without_accumulate_gives_weights_not_sums(kind):
    X, C, w = _data(3000, 18, 9, np.float64, seed=1)
    labels, sums, wsums, inertia, _ = _run(kind, X, w, C, accumulate=False)
    np.testing.assert_array_equal(labels, naive.assign(X, C))
    assert not sums.any()
    np.testing.assert_allclose(wsums, np.bincount(labels, weights=w, minlength=9), rtol=1e-12)
    np.testing.assert_allclose(inertia, naive.inertia(X, C, labels, w), rtol=1e-10)


def test_changed_counts_only_moved_labels():
    X, C, w = _data(4000, 4, 5, np.float64, seed=2)
    n, d = X.shape
    work = _workspace(n, 5, d)
    labels, changed = work[1], work[-1]
    for mode in (partials.REFRESH, partials.MOVES):
        lloyd.lloyd_direct(X, w, C, *work, partials.REFRESH)
        before = labels.copy()
        C2 = C.copy()
        C2[0] += 0.3
        lloyd.lloyd_direct(X, w, C2, *work, mode)
        assert changed.sum() == (before != labels).sum() > 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["direct", "serial", "gemm"])
def test_moves_update_the_partials_to_a_refresh(kind, dtype):
    """A MOVES pass after a REFRESH pass leaves the partials (sums, weights, stats) a
    REFRESH pass on the new labels computes, to rounding, and no inertia."""
    X, C, w = _data(6000, 5, 6, dtype, seed=4)
    n, d = X.shape
    mean = X.mean(axis=0, dtype=np.float64).astype(X.dtype)
    smean = X.mean(axis=0, dtype=np.float64)

    def one(work, centers, mode):  # type: ignore[no-untyped-def]
        work = (*work[:5], smean, *work[6:])
        if kind == "gemm":
            lloyd.lloyd_gemm(X, w, centers, mean, *work, mode)
        else:
            (lloyd.lloyd_direct if kind == "direct" else lloyd.lloyd_direct_serial)(
                X, w, centers, *work, mode
            )
        return work

    a, b = _workspace(n, 6, d), _workspace(n, 6, d)
    C2 = (C + 0.2).astype(dtype)
    one(a, C, partials.REFRESH)
    one(a, C2, partials.MOVES)
    one(b, C2, partials.REFRESH)
    np.testing.assert_array_equal(a[1], b[1])
    assert 0 < a[-1].sum() < n and a[-2].sum() == 0.0  # rows moved; MOVES gives no inertia
    scale = np.abs(w[:, None] * X).sum()
    np.testing.assert_allclose(a[2], b[2], rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(a[3], b[3], rtol=1e-13)
    np.testing.assert_allclose(a[4][..., 0], b[4][..., 0], rtol=1e-11, atol=1e-9)
    np.testing.assert_array_equal(a[4][..., 1], b[4][..., 1])


def test_gemm_tolerates_a_large_offset_in_float32():
    # Centering keeps the expanded form accurate far from the origin.
    X, C, w = _data(3000, 32, 10, np.float64, seed=3)
    X32 = (X + 1e4).astype(np.float32)
    C32 = (C + 1e4).astype(np.float32)
    labels, *_ = _run("gemm", X32, w, C32, accumulate=False)
    dist = naive.sq_distances(X32, C32)
    assert (labels == dist.argmin(axis=1)).mean() > 0.99


@pytest.mark.parametrize("dtype", DTYPES)
def test_distance_kernels_match_naive(dtype):
    X, C, _ = _data(500, 7, 6, dtype)
    labels = naive.assign(X, C).astype(np.intp)
    out = np.empty(500)
    distances.assigned_sq_distances(X, C, labels, out)
    np.testing.assert_allclose(out, naive.sq_distances(X, C)[np.arange(500), labels], rtol=1e-12)
    full = np.empty((500, 6))
    distances.all_distances(X, C, full)
    np.testing.assert_allclose(full, np.sqrt(naive.sq_distances(X, C)), rtol=1e-12)


def naive_plusplus(X, w, first_u, trial_u):
    """Greedy k-means++ written plainly (same picking rule as the kernel)."""
    X64 = X.astype(np.float64)
    n = len(X)

    def pick(pot, u):
        c = np.cumsum(pot)
        return int(np.searchsorted(c, u * c[-1], side="right"))

    chosen = [pick(w, first_u)]
    closest = naive.sq_distances(X64, X64[chosen])[:, 0]
    for step in range(trial_u.shape[0]):
        cands = [pick(w * closest, u) for u in trial_u[step]]
        pots = [
            (w * np.minimum(closest, naive.sq_distances(X64, X64[[c]])[:, 0])).sum() for c in cands
        ]
        best = cands[int(np.argmin(pots))]
        chosen.append(best)
        closest = np.minimum(closest, naive.sq_distances(X64, X64[[best]])[:, 0])
    assert all(0 <= c < n for c in chosen)
    return np.array(chosen)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [50, 5000])
# Every layout: transposed tiles, rows one candidate at a time, rows four at a time (five
# trials: one block of four and one left over).
@pytest.mark.parametrize(
    "d",
    [3, _config.SEED_TILES_BELOW_FEATURES + 4, _config.FOUR_CANDIDATES_FROM_FEATURES + 2],
)
def test_kmeans_plusplus_matches_naive(dtype, n, d):
    X, _, w = _data(n, d, 1, dtype, seed=5)
    k, trials = 6, 5
    rng = np.random.default_rng(7)
    first_u, trial_u = float(rng.random()), rng.random((k - 1, trials))
    expected = naive_plusplus(X, w, first_u, trial_u)
    kernels = (plusplus_kernel(d), small.kmeans_plusplus_small)
    for kernel in kernels:
        out = np.empty(k, dtype=np.intp)
        kernel(X, w, chunk_bounds(n), first_u, trial_u, out)
        np.testing.assert_array_equal(out, expected)
    assert len(set(expected.tolist())) == k


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 8, 9])
@pytest.mark.parametrize("accumulate", [True, False])
def test_small_lloyd_is_the_tiled_direct_kernel_bit_for_bit(dtype, d, accumulate):
    """The row-loop kernel of small problems gives the tiled direct kernel's labels, sums,
    inertia and changed count exactly, ties included (rows and centers on a coarse grid,
    so many rows sit at equal distances from two centers)."""
    rng = np.random.default_rng(d)
    for n, k in [(1, 1), (7, 3), (700, 5), (2100, 8)]:
        X = rng.integers(-3, 4, size=(n, d)).astype(dtype) / 2
        X[: n // 2] += rng.normal(size=(n // 2, d)).astype(dtype)
        C = np.concatenate([X[: k // 2], rng.integers(-3, 4, size=(k - k // 2, d)) / 2])
        C = C.astype(dtype)
        w = rng.uniform(0.0, 2.0, size=n)
        a = _run("small", X, w, C, accumulate)
        b = _run("serial", X, w, C, accumulate)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_kmeans_plusplus_never_picks_zero_weight_rows():
    X, _, w = _data(300, 2, 1, np.float64, seed=6)
    w[::2] = 0.0
    out = np.empty(20, dtype=np.intp)
    rng = np.random.default_rng(0)
    plusplus_kernel(2)(X, w, chunk_bounds(300), rng.random(), rng.random((19, 4)), out)
    assert (w[out] > 0).all()


def _kernels():
    import importlib
    import pkgutil

    import fastkmeans.kernels as package

    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, obj in vars(module).items():
            if hasattr(obj, "py_func") and obj.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", obj


@pytest.mark.parametrize("name,kernel", list(_kernels()))
def test_every_kernel_uses_the_shared_flags(name, kernel):
    opts = kernel.targetoptions
    cached = type(kernel._cache).__name__ != "NullCache"
    assert cached == _config.NUMBA_CACHE, name
    assert opts.get("fastmath") == _config.FASTMATH, name
    assert opts.get("nogil") is True, name
    has_prange = "prange(" in inspect.getsource(kernel.py_func)
    twin_of = getattr(kernel, "twin_of", None)
    if twin_of is None:
        assert bool(opts.get("parallel", False)) == has_prange, name
    else:  # a serial twin: the parallel kernel's own body, compiled without parallel
        assert not opts.get("parallel", False) and twin_of.targetoptions.get("parallel"), name
        assert kernel.py_func.__code__ is twin_of.py_func.__code__, name
        assert kernel.py_func.__qualname__ == twin_of.py_func.__qualname__ + "_serial", name


@pytest.mark.parametrize("dtype", DTYPES)
# One row; rows not filling the running sums (SUMS_IN_FLIGHT) of a chunk; several chunks
# on the serial path and the parallel one (above STATS_SERIAL_MAX_VALUES); more features
# than running sums.
@pytest.mark.parametrize("shape", [(1, 1), (37, 3), (5000, 2), (400_001, 3), (3001, 100)])
def test_column_stats_match_numpy(dtype, shape):
    X = np.random.default_rng(3).normal(5.0, 2.0, size=shape).astype(dtype)
    mean, var = column_stats(X)
    x = X.astype(np.float64)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(var, x.var(axis=0), rtol=1e-10, atol=1e-13)

