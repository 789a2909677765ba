"""Every exact algorithm gives Lloyd's labels, iterations and centroids from the same init.

Hamerly's and Yinyang's cluster sums are updated by the points that move (with periodic
refreshes), so their centroids are Lloyd's to float64 rounding: 1e-12 relative in float64,
one float32 rounding step (of the largest coordinate) in float32; the history inertia of
their bounded passes comes from sufficient statistics (1e-9 relative).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastkmeans as fk
from fastkmeans._assign import Planner, resolve_algorithm
from fastkmeans._lloyd import lloyd
from fastkmeans._sources import MemorySource
from fastkmeans.kernels.hamerly import center_half_gaps
from tests import naive

ALGORITHMS = ["hamerly", "yinyang"]


def _same_fit(a: fk.KMeansModel, b: fk.KMeansModel) -> None:
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.n_iter == b.n_iter and a.stop_reason == b.stop_reason
    assert a.centroids.dtype == b.centroids.dtype
    step = 1e-12 if a.centroids.dtype == np.float64 else float(np.finfo(np.float32).eps)
    atol = step * float(np.abs(b.centroids).max())
    np.testing.assert_allclose(a.centroids, b.centroids, rtol=0, atol=atol)
    assert a.inertia == pytest.approx(b.inertia, rel=1e-10)
    np.testing.assert_allclose(a.inertia_history, b.inertia_history, rtol=1e-9)
    np.testing.assert_array_equal(a.history.labels_changed, b.history.labels_changed)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
# Serial direct-difference shapes (n * k * d <= 200,000, among them d = 40 and Yinyang with
# 2 groups), GEMM shapes (transposed ones, k = 24 with 2 groups, and a row-major one) and
# a parallel direct-difference one.
@pytest.mark.parametrize(
    "shape",
    [
        (3000, 2, 8),
        (3000, 5, 13),
        (800, 3, 1),
        (600, 40, 8),
        (1500, 4, 24),
        (2500, 20, 16),
        (4000, 12, 24),
        (2000, 45, 12),  # transposed: chains of eight features, then four, then one
        (1500, 70, 20),
        (12000, 3, 24),  # direct differences on the parallel tiled kernels, 2 groups
    ],
)
def test_same_result_as_lloyd(algorithm, dtype, shape):
    n, d, k = shape
    X, _ = fk.datasets.make_blobs(n, d, max(k, 2), cluster_std=3.0, seed=n + d, dtype=dtype)
    init = X[np.random.default_rng(k).choice(n, k, replace=False)]
    w = np.random.default_rng(1).uniform(0.5, 2, n)
    for tol in (0.0, 1e-4):
        ref = fk.KMeansParams(k, init=init, tol=tol, algorithm="lloyd").fit(X, sample_weight=w)
        got = fk.KMeansParams(k, init=init, tol=tol, algorithm=algorithm).fit(X, sample_weight=w)
        _same_fit(got, ref)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_result_with_empty_clusters_and_cosine(algorithm):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(400, 3)), rng.normal(size=(400, 3)) + 6])
    init = np.array(
        [
            [0.0, 0, 0],
            [6, 6, 6],
            [50, 50, 50],
            [60, 60, 60],
            [0.1, 0, 0],
            [70, 0, 0],
            [0, 70, 0],
            [0, 0, 70],
        ]
    )
    ref = fk.KMeansParams(8, init=init, algorithm="lloyd").fit(X)
    assert ref.history.n_reseeded[0] > 0
    _same_fit(fk.KMeansParams(8, init=init, algorithm=algorithm).fit(X), ref)
    init = init + 0.5  # cosine needs non-zero centers
    ref = fk.KMeansParams(8, init=init, metric="cosine", algorithm="lloyd").fit(X)
    _same_fit(fk.KMeansParams(8, init=init, metric="cosine", algorithm=algorithm).fit(X), ref)


def test_auto_picks_hamerly_here_and_gives_lloyds_result():
    X, _ = fk.datasets.make_blobs(20_000, 16, 64, cluster_std=4.0, seed=9)
    assert resolve_algorithm("auto", *X.shape, 64) == "hamerly"
    init = X[:64]
    _same_fit(
        fk.KMeansParams(64, init=init, algorithm="auto").fit(X),
        fk.KMeansParams(64, init=init, algorithm="lloyd").fit(X),
    )


def test_hamerly_matches_sklearn(blobs64):
    from sklearn.cluster import KMeans

    init = blobs64[:9]
    ours = fk.KMeansParams(9, init=init, algorithm="hamerly").fit(blobs64)
    ref = KMeans(9, init=init, n_init=1, algorithm="lloyd").fit(blobs64)
    np.testing.assert_array_equal(ours.labels, ref.labels_)
    assert ours.n_iter == ref.n_iter_
    np.testing.assert_allclose(ours.centroids, ref.cluster_centers_, rtol=1e-6)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_results_do_not_depend_on_thread_count(blobs64, algorithm):
    X = np.concatenate([blobs64] * 4)
    p = fk.KMeansParams(24, seed=1, algorithm=algorithm)
    a = p.replace(n_threads=1).fit(X)
    b = p.replace(n_threads=2).fit(X)
    _same_fit(a, b)


@given(st.integers(1, 12), st.integers(1, 5), st.integers(0, 1000))
def test_center_half_gaps_matches_naive(k, d, seed):
    C = np.random.default_rng(seed).normal(size=(k, d))
    out = np.empty(k)
    center_half_gaps(C, out)
    D = np.sqrt(naive.sq_distances(C, C))
    np.fill_diagonal(D, np.inf)
    np.testing.assert_allclose(out, 0.5 * D.min(axis=1), rtol=1e-12)


def test_auto_rule():
    assert resolve_algorithm("auto", 10**6, 16, 64) == "hamerly"
    assert resolve_algorithm("auto", 10**6, 2, 8) == "lloyd"
    assert resolve_algorithm("auto", 10**6, 8, 32) == "lloyd"
    assert resolve_algorithm("auto", 10**5, 128, 256) == "hamerly"
    assert resolve_algorithm("auto", 10**5, 32, 1000) == "hamerly"
    assert resolve_algorithm("auto", 10**5, 32, 1024) == "yinyang"
    assert resolve_algorithm("auto", 100, 16, 64) == "lloyd"  # small: the serial kernel
    assert resolve_algorithm("hamerly", 100, 2, 3) == "hamerly"


def _bounded_passes(source, planner, centers, n_passes):
    """Accumulating passes with the bounds set from the first; rows scanned per pass."""
    source.start_run()
    planner.reset()
    planner.record(0)  # few labels changing: set the bounds at once
    scanned = []
    for _ in range(n_passes):
        sums, wsums, _, _ = source.assign(planner.plan(centers))
        scanned.append(source.states[0].scanned)
        centers = (sums / wsums[:, None]).astype(centers.dtype)
    return scanned, centers


def test_hamerly_takes_over_from_lloyd_and_prunes():
    X, _ = fk.datasets.make_blobs(20_000, 4, 16, cluster_std=1.0, seed=3)
    source = MemorySource(X, None, cosine=False)
    planner = Planner("hamerly", *X.shape, 16, X.dtype, source.mean)
    run = lloyd(source, planner, X[:16].copy(), 300, 0.0)
    assert planner.bounded_by is not None  # the bounds were set
    lloyd_planner = Planner("lloyd", *X.shape, 16, X.dtype, source.mean)
    ref = lloyd(source, lloyd_planner, X[:16].copy(), 300, 0.0)
    np.testing.assert_array_equal(run.labels, ref.labels)
    assert run.n_iter == ref.n_iter and run.stop_reason == ref.stop_reason
    np.testing.assert_allclose(run.centers, ref.centers, rtol=1e-12, atol=1e-12)
    scanned, _ = _bounded_passes(source, planner, run.centers, 3)
    assert scanned[0] == len(X) and scanned[-1] < 0.5 * len(X)  # converged: rows skipped


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_scan_bounds_hold(algorithm, dtype):
    # Tight clusters far apart and far from the origin: the GEMM-style values of near
    # centers cancel, and the bounds that the batched GEMM scans leave must still hold.
    X, _ = fk.datasets.make_blobs(6000, 12, 24, cluster_std=0.05, seed=4, dtype=dtype)
    X = (X + 300).astype(dtype)
    source = MemorySource(X, None, cosine=False)
    planner = Planner(algorithm, *X.shape, 24, X.dtype, source.mean)
    assert planner.gemm  # the batched GEMM scan is what this test is about
    source.start_run()
    planner.record(0)  # set the bounds on the first step
    centers = X[:24].copy()
    scanned = []
    for _ in range(6):
        sums, wsums, _, _ = source.assign(planner.plan(centers))
        state = source.states[0]
        scanned.append(state.scanned)
        labels = state.labels
        D = np.sqrt(naive.sq_distances(X, centers))
        rows = np.arange(len(X))
        assert (state.upper >= D[rows, labels] * (1 - 1e-12)).all()
        D[rows, labels] = np.inf
        if algorithm == "hamerly":
            assert (state.lower <= D.min(axis=1) * (1 + 1e-12)).all()
        else:  # one bound per group of centers, each below that group's distances
            assert state.lower.shape[1] == 2 and set(planner.groups.tolist()) == {0, 1}
            for g in range(state.lower.shape[1]):
                in_g = D[:, planner.groups == g].min(axis=1)
                assert (state.lower[:, g] <= in_g * (1 + 1e-12)).all()
        full = wsums > 0
        new = centers.astype(np.float64)
        new[full] = sums[full] / wsums[full, None]
        centers = new.astype(dtype)
    assert scanned[0] == len(X) and scanned[-1] < len(X) // 2  # the bounds did prune


def test_yinyang_groups_are_capped_by_memory(monkeypatch):
    from fastkmeans import _config
    from fastkmeans._assign import group_centers, yinyang_groups

    assert yinyang_groups(1000, 1024) == 102  # k / 10 ...
    monkeypatch.setattr(_config, "YINYANG_MAX_BYTES", 8 * 1000 * 7)
    assert yinyang_groups(1000, 1024) == 7  # ... unless n x groups bounds exceed the cap
    assert yinyang_groups(1000, 5) == 1
    C = np.concatenate([np.zeros((5, 2)), np.full((5, 2), 10.0)])
    groups = group_centers(C, 2)
    assert len(set(groups[:5].tolist())) == 1 and len(set(groups[5:].tolist())) == 1
    assert groups[0] != groups[5]
