"""k-means|| seeding on in-memory data: kernels against NumPy, determinism, quality."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fastkmeans as fk
from fastkmeans import _seeding
from fastkmeans._assign import chunk_bounds
from fastkmeans._seeding import kmeans_parallel, weighted_index
from fastkmeans._sources import MemorySource
from fastkmeans.kernels import kmeans_parallel as kernels

from .naive import sq_distances


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    X, _ = fk.datasets.make_blobs(6000, 4, 12, cluster_std=1.0, seed=11)
    return X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [3, 20])  # direct and GEMM-style distances
def test_update_nearest_matches_numpy(dtype, d):
    rng = np.random.default_rng(d)
    n = 5000
    X = rng.normal(size=(n, d)).astype(dtype)
    w = rng.random(n)
    first, second = X[rng.choice(n, 3)], X[rng.choice(n, 12)]
    gemm = d == 20
    mean = X.mean(axis=0, dtype=np.float64).astype(dtype)
    bounds = chunk_bounds(n)
    closest, nearest = np.full(n, np.inf), np.zeros(n, dtype=np.intp)
    pot = np.empty(bounds.shape[0] - 1)
    for offset, cands in ((0, first), (3, second)):
        kernels.update_nearest(X, w, cands, mean, offset, gemm, bounds, closest, nearest, pot)
    D = sq_distances(X, np.concatenate([first, second]))
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(closest, D.min(axis=1), rtol=rtol, atol=1e-6)
    # The chosen candidate is a nearest one (compare distances, not indices: ties).
    np.testing.assert_allclose(D[np.arange(n), nearest], D.min(axis=1), rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(pot.sum(), (w * D.min(axis=1)).sum(), rtol=rtol)


def test_weighted_index_walks_the_cumulative_weight():
    w = np.array([0.0, 1.0, 0.0, 2.0, 0.0])
    assert [weighted_index(w, t) for t in (0.0, 0.99, 1.0, 2.9)] == [1, 1, 3, 3]
    assert weighted_index(w, 3.0) == 3  # rounding past the end: the last weighted row


def test_same_seed_same_centers_and_seeds_differ(blobs):
    source = MemorySource(blobs, None, cosine=False)
    a = kmeans_parallel(source, 12, np.random.default_rng(5))
    b = kmeans_parallel(source, 12, np.random.default_rng(5))
    c = kmeans_parallel(source, 12, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_centers_are_distinct_rows_of_x(blobs):
    C = kmeans_parallel(MemorySource(blobs, None, cosine=False), 12, np.random.default_rng(0))
    assert C.shape == (12, 4) and C.dtype == blobs.dtype
    rows = [np.flatnonzero((blobs == c).all(axis=1)) for c in C]
    assert all(r.shape[0] >= 1 for r in rows)
    assert np.unique(C, axis=0).shape[0] == 12


def test_result_does_not_depend_on_the_thread_count(blobs):
    p = fk.KMeansParams(12, init="k-means||", seed=3, max_iter=1)
    one = p.replace(n_threads=1).fit(blobs)
    two = p.replace(n_threads=2).fit(blobs)
    np.testing.assert_array_equal(one.centroids, two.centroids)


def test_quality_close_to_greedy_kmeans_plusplus(blobs):
    """Final inertia within 2% of in-memory greedy k-means++, seed by seed on average."""
    par = [fk.KMeansParams(12, init="k-means||", seed=s).fit(blobs).inertia for s in range(4)]
    pp = [fk.KMeansParams(12, init="k-means++", seed=s).fit(blobs).inertia for s in range(4)]
    assert np.mean(par) <= 1.02 * np.mean(pp)
    # ... and the seeding alone is far better than random rows.
    seed_only = fk.KMeansParams(12, init="k-means||", seed=0, max_iter=1).fit(blobs)
    rand_only = fk.KMeansParams(12, init="random", seed=0, max_iter=1).fit(blobs)
    assert seed_only.history.inertia[0] < rand_only.history.inertia[0]


def test_zero_weight_rows_are_never_centers(blobs):
    w = np.ones(len(blobs))
    w[::2] = 0.0
    C = kmeans_parallel(MemorySource(blobs, w, cosine=False), 12, np.random.default_rng(1))
    chosen = np.concatenate([np.flatnonzero((blobs == c).all(axis=1)) for c in C])
    assert (w[chosen] > 0).all()


def test_fewer_distinct_points_than_clusters_warns_and_stays_finite():
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 5.0], [9.0, 0.0]]), 40, axis=0)
    with pytest.warns(fk.ConvergenceWarning):
        model = fk.KMeansParams(5, init="k-means||", seed=0).fit(X)
    assert np.isfinite(model.centroids).all()
    assert model.inertia == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_with_kmeans_parallel_keeps_dtype_and_single_cluster(blobs, dtype):
    X = blobs.astype(dtype)
    model = fk.KMeansParams(1, init="k-means||", seed=0).fit(X)
    assert model.centroids.dtype == dtype
    np.testing.assert_allclose(model.centroids[0], X.mean(axis=0, dtype=np.float64), rtol=1e-4)


def test_cosine_centers_are_unit_length(blobs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = fk.KMeansParams(6, init="k-means||", metric="cosine", seed=0).fit(blobs + 20)
    np.testing.assert_allclose(np.linalg.norm(model.centroids, axis=1), 1.0, rtol=1e-12)


def test_reductions_fit_half_a_pass_over_the_rows():
    # 2 + ln k trials per pick over c candidates, against n rows
    assert _seeding.n_reductions(200_000, 2_561, 256) == 4  # 0.1 of a pass each
    assert _seeding.n_reductions(200_000, 10_241, 1024) == 1  # 0.46 of a pass each
    assert _seeding.n_reductions(30_000, 2_561, 256) == 1
    assert _seeding.n_reductions(100, 1, 1) == 4


def test_the_kept_reduction_has_the_lowest_potential(blobs):
    rng = np.random.default_rng(3)
    cands = blobs[rng.choice(len(blobs), 100, replace=False)]
    weights = rng.random(100)
    runs = _seeding.n_reductions(len(blobs), 100, 12)
    assert runs > 1

    def potential(picked):  # type: ignore[no-untyped-def]
        return float((weights * sq_distances(cands, cands[picked]).min(axis=1)).sum())

    kept = _seeding.reduce_candidates(cands, weights, 12, len(blobs), np.random.default_rng(5))
    again = np.random.default_rng(5)
    each = [_seeding.plusplus_rows(cands, weights, 12, again) for _ in range(runs)]
    assert any(np.array_equal(kept, p) for p in each)
    assert potential(kept) == pytest.approx(min(potential(p) for p in each), rel=1e-12)
    assert potential(kept) < max(potential(p) for p in each)  # the choice matters here
