"""Incremental cluster sums (Lloyd's passes on large data, Hamerly's and Yinyang's):
moved points only, refreshed now and then.

Between refreshes the per-chunk partial sums are updated by the rows that change label, so
they drift from Lloyd's from-scratch sums by float64 rounding only; these tests hold that
drift below 1e-12 relative, check the history inertia from the sufficient statistics
against the exact one, and check that whole fits stay Lloyd's (labels, iterations, stop
reason; centroids to 1e-12 relative).
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastkmeans as fk
from fastkmeans import _config
from fastkmeans._assign import Planner
from fastkmeans._sources import MemorySource


def _data(n, d, k, dtype, offset, seed):
    X, _ = fk.datasets.make_blobs(n, d, k, cluster_std=2.0, seed=seed, dtype=np.float64)
    return (X + offset).astype(dtype)


def _rel(a, b):
    """Largest error of a row of ``a`` relative to the norm of the same row of ``b``."""
    scale = np.maximum(np.linalg.norm(b, axis=-1), 1e-300)
    return float((np.linalg.norm(a - b, axis=-1) / scale).max())


def _same_fit(got, ref, dtype):
    """Lloyd's fit: labels, iterations, stop reason and moves equal, centroids to 1e-12
    relative in float64 (one rounding step in float32), the exact inertia to 1e-10."""
    np.testing.assert_array_equal(got.labels, ref.labels)
    assert got.n_iter == ref.n_iter and got.stop_reason == ref.stop_reason
    np.testing.assert_array_equal(got.history.labels_changed, ref.history.labels_changed)
    step = 1e-12 if dtype == np.float64 else float(np.finfo(np.float32).eps)
    atol = step * float(np.abs(ref.centroids).max())
    np.testing.assert_allclose(got.centroids, ref.centroids, rtol=0, atol=atol)
    assert got.inertia == pytest.approx(ref.inertia, rel=1e-10)


def _passes(X, w, k, algorithm, n_passes, jitter, seed):
    """Bounded passes from the first (refreshes off after it) next to Lloyd's passes on
    the same centers, which move each time to the new means plus some noise so that
    points keep moving. Yields (bounded pass, Lloyd pass, labels, labels) per pass."""
    rng = np.random.default_rng(seed)
    src, ref = MemorySource(X, w, cosine=False), MemorySource(X, w, cosine=False)
    planner = Planner(algorithm, *X.shape, k, X.dtype, src.mean)
    lloyd = Planner("lloyd", *X.shape, k, X.dtype, src.mean)
    src.start_run()
    ref.start_run()
    planner.record(0)  # set the bounds on the first pass
    centers = X[rng.choice(len(X), k, replace=False)].copy()
    spread = float(np.sqrt(src.mean_variance))
    for _ in range(n_passes):
        plan = planner.plan(centers)
        got = src.assign(plan)
        want = ref.assign(lloyd.lloyd(centers, True))
        yield plan, got, want, src.states[0].labels, ref.states[0].labels
        sums, wsums = want[0], want[1]
        assert wsums.min() > 0  # no empty cluster: the test is about the sums
        new = sums / wsums[:, None] + rng.normal(scale=jitter * spread, size=sums.shape)
        centers = new.astype(X.dtype)


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "yinyang"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_drift_stays_below_1e_12_without_refresh(algorithm, dtype, offset):
    # 20,000 x 8, k = 16: parallel GEMM kernels, ten chunks; 60 passes with refreshes off
    # and points moving on every pass; far from the origin the sums are large and cancel.
    X = _data(20_000, 8, 16, dtype, offset, seed=5)
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(X))
    moved = 0
    with mock.patch.object(_config, "SUMS_REFRESH_EVERY", 10**9):
        for i, (plan, got, want, labels, ref_labels) in enumerate(
            _passes(X, w, 16, algorithm, 60, 0.05, seed=1)
        ):
            np.testing.assert_array_equal(labels, ref_labels)
            assert plan.exact == (i == 0)  # only the first pass recomputes the sums
            assert _rel(got[0], want[0]) < 1e-12
            np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
            assert got[3] == want[3]
            if i > 0:
                moved += got[3]
            if i > 0:  # the history inertia from statistics: within 1e-9 (measured: 1e-12)
                assert got[2] == pytest.approx(want[2], rel=1e-9)
    assert moved > 20 * 60  # the sums were really updated incrementally


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "yinyang"])
def test_refresh_gives_lloyds_sums_bit_for_bit(algorithm):
    X = _data(20_000, 8, 16, np.float64, 1e3, seed=6)
    with mock.patch.object(_config, "SUMS_REFRESH_EVERY", 3):
        for i, (plan, got, want, _, _) in enumerate(_passes(X, None, 16, algorithm, 7, 0.05, 2)):
            assert plan.exact == (i % 3 == 0)
            if plan.exact:  # recomputed in Lloyd's row order: the same bits, exact inertia
                assert got[0].tobytes() == want[0].tobytes() and got[2] == want[2]


def test_a_cluster_left_by_every_row_is_exactly_empty():
    # Non-integer weights: subtracting them back to zero leaves a residue in float64, so
    # a cluster left by its last row is zeroed by its row count.
    X = np.array([[0.0], [0.1], [0.2], [10.0], [10.1], [10.2]] * 200)
    w = np.random.default_rng(0).uniform(0.1, 1.0, len(X))
    src = MemorySource(X, w, cosine=False)
    planner = Planner("hamerly", *X.shape, 3, X.dtype, src.mean)
    src.start_run()
    planner.record(0)
    src.assign(planner.plan(np.array([[-5.0], [0.1], [10.0]])))  # 1 holds the rows near 0
    sums, wsums, _, changed = src.assign(planner.plan(np.array([[-5.0], [40.0], [10.0]])))
    assert changed > 0 and wsums[1] == 0.0 and sums[1, 0] == 0.0
    assert (src.states[0].partials[2][:, 1, :] == 0.0).all()


@given(
    seed=st.integers(0, 10**6),
    n=st.integers(200, 3000),
    d=st.integers(1, 6),
    k=st.integers(2, 12),
    dtype=st.sampled_from([np.float32, np.float64]),
    offset=st.sampled_from([0.0, 1e3]),
    weighted=st.booleans(),
    tol=st.sampled_from([0.0, 1e-4]),
    refresh=st.sampled_from([1, 3, 10, 10**6]),
    algorithm=st.sampled_from(["hamerly", "yinyang"]),
)
def test_bounded_fits_are_lloyds(seed, n, d, k, dtype, offset, weighted, tol, refresh, algorithm):
    X = _data(n, d, k, dtype, offset, seed)
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    init = X[rng.choice(n, k, replace=False)]
    params = fk.KMeansParams(k, init=init, tol=tol, algorithm="lloyd")
    ref = params.fit(X, sample_weight=w)
    with mock.patch.object(_config, "SUMS_REFRESH_EVERY", refresh):
        got = params.replace(algorithm=algorithm).fit(X, sample_weight=w)
    _same_fit(got, ref, dtype)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    d=st.integers(2, 6),
    k=st.integers(4, 12),
    dtype=st.sampled_from([np.float32, np.float64]),
    offset=st.sampled_from([0.0, 1e3]),
    weighted=st.booleans(),
    refresh=st.sampled_from([3, 10, 10**6]),
)
def test_incremental_lloyd_fits_are_from_scratch_ones(seed, d, k, dtype, offset, weighted,
                                                      refresh):  # fmt: skip
    """Large data (above the small-problem size), where Lloyd's passes keep partial sums:
    the same fit as with a refresh on every pass (sums from scratch, exact history)."""
    n = 30_000
    X = _data(n, d, k, dtype, offset, seed)
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    params = fk.KMeansParams(k, init=X[rng.choice(n, k, replace=False)], max_iter=40,
                             algorithm="lloyd")  # fmt: skip
    with mock.patch.object(_config, "SUMS_REFRESH_EVERY", 1):
        ref = params.fit(X, sample_weight=w)
    with mock.patch.object(_config, "SUMS_REFRESH_EVERY", refresh):
        got = params.fit(X, sample_weight=w)
    _same_fit(got, ref, dtype)
    np.testing.assert_allclose(got.inertia_history, ref.inertia_history, rtol=1e-9)
