"""The accumulation of Lloyd's kernels (:func:`fastkmeans.kernels.lloyd._tile_total`:
row by row, in row order) and the tile transposition, for few features above all.

Sums are compared with ``np.add.at`` over each chunk (row order, as the kernels add them)
merged in chunk order, to 1e-12 (the kernels may fuse the product into the add); labels
with the plain NumPy reference wherever X's rounding cannot tie two centers; the inertia
with the exact float64 reference to 1e-12.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastkmeans as fk
from fastkmeans._assign import chunk_bounds
from fastkmeans._threads import thread_limit
from fastkmeans.kernels import lloyd
from tests import naive
from tests.test_kernels import _run

KINDS = ["direct", "serial", "gemm", "small"]


def _reference_sums(X, w, labels, k):
    """Per-chunk sums in row order (``np.add.at`` adds in index order), chunk order merge."""
    d = X.shape[1]
    bounds = chunk_bounds(X.shape[0])
    sums, wsums = np.zeros((k, d)), np.zeros(k)
    for lo, hi in itertools.pairwise(bounds):
        part, wpart = np.zeros((k, d)), np.zeros(k)
        np.add.at(part, labels[lo:hi], w[lo:hi, None] * X[lo:hi].astype(np.float64))
        np.add.at(wpart, labels[lo:hi], w[lo:hi])
        sums += part
        wsums += wpart
    return sums, wsums


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 6000),
    d=st.integers(1, 6),
    k=st.integers(1, 12),
    dtype=st.sampled_from([np.float32, np.float64]),
    kind=st.sampled_from(KINDS),
    seed=st.integers(0, 2**16),
)
def test_sums_inertia_and_labels_match_the_references(n, d, k, dtype, kind, seed):
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, d)) * 3).astype(dtype)
    C = X[rng.integers(0, n, size=k)] + rng.normal(scale=0.1, size=(k, d)).astype(dtype)
    w = rng.uniform(0.5, 2.0, size=n)
    labels, sums, wsums, inertia, changed = _run(kind, X, w, C)
    dist = naive.sq_distances(X, C)
    tol = 1e-4 if dtype == np.float32 else 1e-9
    # Every label is a nearest center, and the nearest one wherever X's rounding cannot
    # tie the two nearest (ties and near-ties: compare distances, not labels).
    picked = dist[np.arange(n), labels]
    np.testing.assert_allclose(picked, dist.min(axis=1), rtol=tol, atol=tol)
    two = np.sort(dist, axis=1)[:, :2] if k > 1 else np.c_[dist, dist + 1.0]
    clear = two[:, 1] - two[:, 0] > tol * (1.0 + two[:, 1])
    np.testing.assert_array_equal(labels[clear], naive.assign(X, C)[clear])
    ref_sums, ref_wsums = _reference_sums(X, w, labels, k)
    # The same adds in the same order; the kernels may fuse w * x into the add (contract).
    scale = np.abs(w[:, None] * X).sum() + 1e-300
    np.testing.assert_allclose(sums, ref_sums, rtol=1e-12, atol=1e-15 * scale)
    np.testing.assert_array_equal(wsums, ref_wsums)
    assert inertia == pytest.approx(naive.inertia(X, C, labels, w), rel=1e-12, abs=1e-300)
    assert changed == n


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_transposed_tile_is_exact(dtype, d):
    rng = np.random.default_rng(d)
    X = rng.normal(size=(300, d)).astype(dtype)
    shift = rng.normal(size=d).astype(dtype)
    tile = np.empty(lloyd.TILE_ROWS * d, dtype=dtype)
    for t0, m in ((0, 256), (40, 201), (299, 1)):
        xt = lloyd._transpose_tile(X, t0, m, shift, tile)
        np.testing.assert_array_equal(xt, (X[t0 : t0 + m] - shift).T)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(50_000, 2, 8), (30_000, 3, 5), (40_000, 1, 3), (20_000, 6, 4)])
def test_one_and_two_threads_agree_bit_for_bit(kind, shape):
    n, d, k = shape
    X, _ = fk.datasets.make_blobs(n, d, k, seed=d, dtype=np.float32)
    C = X[:k].copy()
    w = np.random.default_rng(0).uniform(0.5, 2.0, n)
    with thread_limit(1):
        one = _run(kind, X, w, C)
    with thread_limit(2):
        two = _run(kind, X, w, C)
    np.testing.assert_array_equal(one[0], two[0])
    assert one[1].tobytes() == two[1].tobytes() and one[2].tobytes() == two[2].tobytes()
    assert one[3] == two[3] and one[4] == two[4]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_final_pass_inertia_is_the_exact_sum(dtype):
    X, C, w = (np.random.default_rng(5).normal(size=s) for s in ((5000, 2), (6, 2), (5000,)))
    X, C, w = X.astype(dtype), C.astype(dtype), np.abs(w) + 0.1
    labels, sums, wsums, inertia, _ = _run("direct", X, w, C, accumulate=False)
    assert not sums.any()
    np.testing.assert_allclose(wsums, np.bincount(labels, weights=w, minlength=6), rtol=1e-12)
    assert inertia == pytest.approx(naive.inertia(X, C, labels, w), rel=1e-12)


@pytest.mark.parametrize("algorithm", ["hamerly", "yinyang"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
# Above the serial size (n * k * d > 200,000), one to three features.
@pytest.mark.parametrize("shape", [(30_000, 2, 8), (20_000, 3, 12), (60_000, 1, 5)])
def test_bounded_algorithms_still_give_lloyds_labels(algorithm, dtype, shape):
    n, d, k = shape
    X, _ = fk.datasets.make_blobs(n, d, k, cluster_std=3.0, seed=n, dtype=dtype)
    init = X[np.random.default_rng(k).choice(n, k, replace=False)]
    w = np.random.default_rng(1).uniform(0.5, 2, n)
    ref = fk.KMeansParams(k, init=init, tol=0.0, algorithm="lloyd").fit(X, sample_weight=w)
    got = fk.KMeansParams(k, init=init, tol=0.0, algorithm=algorithm).fit(X, sample_weight=w)
    # Labels and iterations exactly; the bounded algorithms' sums are incremental between
    # refreshes (tests/test_incremental.py), so centroids agree to float rounding.
    np.testing.assert_array_equal(got.labels, ref.labels)
    assert got.n_iter == ref.n_iter
    step = 1e-12 if dtype == np.float64 else float(np.finfo(np.float32).eps)
    atol = step * float(np.abs(ref.centroids).max())
    np.testing.assert_allclose(got.centroids, ref.centroids, rtol=0, atol=atol)
    assert got.inertia == pytest.approx(ref.inertia, rel=1e-10)


@settings(max_examples=30, deadline=None)
@given(
    d=st.integers(1, 5),
    k=st.integers(1, 11),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_direct_labels_break_ties_towards_the_lower_center(d, k, dtype, seed):
    """Small integers: every distance is exact in either dtype, many of them tie, and the
    label must be the first nearest center, whichever loop formed the distances (with two
    features Lloyd's keep-lower loop forms them itself, from the rows in place)."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, lloyd.TILE_ROWS + 1))
    xt = rng.integers(-3, 4, size=(d, m)).astype(dtype)
    centers = rng.integers(-3, 4, size=(k, d)).astype(dtype)
    acc = np.empty((4, lloyd.TILE_ROWS), dtype=dtype)
    best = np.empty(lloyd.TILE_ROWS, dtype=dtype)
    lab = np.empty(2 * lloyd.TILE_ROWS, dtype=np.int32)
    lloyd._assign_direct(xt, centers, acc, best, lab)
    dist = ((xt.T[:, None, :] - centers[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(lab[:m], dist.argmin(axis=1))
    np.testing.assert_array_equal(best[:m], dist.min(axis=1))
    if d == 2:  # Lloyd's kernel reads two features in place, untransposed
        lab[:] = -1
        best[:] = np.nan
        lloyd._assign_pairs(np.ascontiguousarray(xt.T), centers, best, lab)
        np.testing.assert_array_equal(lab[:m], dist.argmin(axis=1))
        np.testing.assert_array_equal(best[:m], dist.min(axis=1))
