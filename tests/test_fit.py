"""The driver: scikit-learn parity, hand-computed toys, determinism, stopping rules."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans

import fastkmeans as fk
from tests import naive

TOY_X = np.array([[0, 0], [0.5, 0], [0.5, 1], [1, 1]], dtype=np.float64)


def _init(X, k, seed=0):
    return X[np.random.default_rng(seed).choice(len(X), k, replace=False)]


@pytest.mark.parametrize(
    "fixture,k", [("blobs64", 6), ("blobs64", 13), ("blobs_wide64", 10), ("tutorial_data", 3)]
)
@pytest.mark.parametrize("tol", [0.0, 1e-4])
def test_parity_with_sklearn_lloyd_float64(request, fixture, k, tol):
    X = np.asarray(request.getfixturevalue(fixture), dtype=np.float64)
    init = _init(X, k)
    ours = fk.KMeansParams(k, init=init, tol=tol, max_iter=300).fit(X)
    ref = KMeans(k, init=init, n_init=1, tol=tol, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(ours.labels, ref.labels_)
    assert ours.n_iter == ref.n_iter_
    np.testing.assert_allclose(ours.centroids, ref.cluster_centers_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.inertia, ref.inertia_, rtol=1e-9)


@pytest.mark.parametrize("fixture,k", [("blobs64", 6), ("blobs_wide64", 10)])
def test_parity_with_sklearn_lloyd_float32(request, fixture, k):
    X = np.asarray(request.getfixturevalue(fixture), dtype=np.float32)
    init = _init(X, k)
    ours = fk.KMeansParams(k, init=init).fit(X)
    ref = KMeans(k, init=init, n_init=1, algorithm="lloyd").fit(X)
    assert ours.centroids.dtype == np.float32
    assert (ours.labels == ref.labels_).mean() > 0.999
    np.testing.assert_allclose(ours.centroids, ref.cluster_centers_, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.inertia, ref.inertia_, rtol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_the_naive_reference(blobs64, dtype):
    X = blobs64.astype(dtype)
    init = _init(X, 6, seed=1)
    C, labels, inertia, n_iter, _ = naive.lloyd(X, init, max_iter=300, tol=1e-4)
    model = fk.KMeansParams(6, init=init, tol=1e-4).fit(X)
    np.testing.assert_array_equal(model.labels, labels)
    assert model.n_iter == n_iter
    np.testing.assert_allclose(model.centroids, C, rtol={np.float32: 1e-4, np.float64: 1e-6}[dtype])
    np.testing.assert_allclose(model.inertia, inertia, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sklearn_weighted_four_point_toy(dtype):
    X = TOY_X.astype(dtype)
    init = np.array([[0, 0], [1, 1]], dtype=dtype)
    model = fk.KMeansParams(2, init=init).fit(X, sample_weight=[3, 1, 1, 3])
    np.testing.assert_array_equal(model.labels, [0, 0, 1, 1])
    assert model.inertia == pytest.approx(0.375)
    assert model.n_iter == 2
    np.testing.assert_allclose(model.centroids, [[0.125, 0], [0.875, 1]])
    assert model.centroids.dtype == dtype


def test_empty_cluster_is_reseeded_at_the_farthest_point():
    # All points start in cluster 0; cluster 1 (at (3, 3)) is empty in iteration 1.
    init = np.array([[0.5, 0.5], [3.0, 3.0]])
    model = fk.KMeansParams(2, init=init).fit(TOY_X)
    ref = KMeans(2, init=init, n_init=1).fit(TOY_X)
    np.testing.assert_array_equal(model.labels, ref.labels_)
    assert model.inertia == pytest.approx(0.25) == ref.inertia_
    assert model.n_iter == ref.n_iter_ == 3
    np.testing.assert_allclose(model.centroids, ref.cluster_centers_)
    assert model.history.n_reseeded.tolist() == [1, 0, 0]
    assert np.isfinite(model.centroids).all()


def test_single_cluster_is_the_weighted_mean(blobs64):
    w = np.linspace(0.1, 2.0, len(blobs64))
    model = fk.KMeansParams(1, seed=0).fit(blobs64, sample_weight=w)
    np.testing.assert_allclose(model.centroids[0], np.average(blobs64, axis=0, weights=w))
    assert (model.labels == 0).all()
    assert model.stop_reason == "strict"


@pytest.mark.parametrize("fixture", ["blobs64", "blobs_wide64"])
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_results_do_not_depend_on_thread_count(request, fixture, init):
    X = request.getfixturevalue(fixture)
    big = np.concatenate([X] * 4)  # several reduction chunks
    params = fk.KMeansParams(8, init=init, seed=3, n_init=2)
    one = params.replace(n_threads=1).fit(big)
    two = params.replace(n_threads=2).fit(big)
    assert one.centroids.tobytes() == two.centroids.tobytes()
    np.testing.assert_array_equal(one.labels, two.labels)
    assert one.inertia == two.inertia
    np.testing.assert_array_equal(one.history.inertia, two.history.inertia)


def test_thread_setting_is_restored():
    import numba

    before = numba.get_num_threads()
    fk.KMeansParams(2, seed=0, n_threads=1).fit(TOY_X)
    assert numba.get_num_threads() == before


def test_same_seed_same_result_and_generator_seed(blobs64):
    a = fk.KMeansParams(6, seed=11, n_init=3).fit(blobs64)
    b = fk.KMeansParams(6, seed=11, n_init=3).fit(blobs64)
    assert a.centroids.tobytes() == b.centroids.tobytes()
    g1 = fk.KMeansParams(6, seed=np.random.default_rng(5)).fit(blobs64)
    g2 = fk.KMeansParams(6, seed=np.random.default_rng(5)).fit(blobs64)
    assert g1.centroids.tobytes() == g2.centroids.tobytes()


def test_n_init_keeps_the_lowest_inertia(blobs64):
    from fastkmeans._assign import Planner
    from fastkmeans._lloyd import lloyd
    from fastkmeans._seeding import initial_centers, run_generators
    from fastkmeans._sources import MemorySource

    params = fk.KMeansParams(13, init="random", seed=4, n_init=5, tol=0.0)
    source = MemorySource(blobs64, None, cosine=False)
    planner = Planner("auto", *blobs64.shape, 13, blobs64.dtype, source.mean)
    singles = [
        lloyd(source, planner, initial_centers(params, source, rng), 300, 0.0).inertia
        for rng in run_generators(4, 5)
    ]
    assert len(set(singles)) > 1  # the runs really differ
    assert params.fit(blobs64).inertia == min(singles)


def test_labels_and_inertia_belong_to_the_returned_centroids(blobs64):
    for max_iter, tol in [(1, 0.0), (3, 0.0), (300, 1e-2), (300, 0.0)]:
        m = fk.KMeansParams(6, seed=0, max_iter=max_iter, tol=tol).fit(blobs64)
        np.testing.assert_array_equal(m.labels, naive.assign(blobs64, m.centroids))
        assert m.inertia == pytest.approx(naive.inertia(blobs64, m.centroids, m.labels), rel=1e-10)


def test_stop_reasons_and_history(blobs64):
    m = fk.KMeansParams(6, seed=0, max_iter=2, tol=0.0).fit(blobs64)
    assert (m.stop_reason, m.converged, m.n_iter) == ("max_iter", False, 2)
    m = fk.KMeansParams(6, seed=0, tol=0.0).fit(blobs64)
    assert (m.stop_reason, m.converged) == ("strict", True)
    assert m.history.labels_changed[-1] == 0 and m.history.labels_changed[0] == len(blobs64)
    m = fk.KMeansParams(6, seed=0, tol=1.0).fit(blobs64)
    assert m.stop_reason == "tol"
    tol_abs = 1.0 * np.var(blobs64, axis=0).mean()
    assert m.history.center_shift[-1] <= tol_abs < m.history.center_shift[:-1].min()
    assert len(m.history) == m.n_iter == len(m.inertia_history)
    assert np.all(np.diff(m.inertia_history) <= 1e-9 * m.inertia_history[0])


def test_fewer_distinct_points_than_clusters_warns_and_stays_finite():
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 5, axis=0)
    with pytest.warns(fk.ConvergenceWarning, match="distinct clusters"):
        model = fk.KMeansParams(4, seed=0).fit(X)
    assert np.isfinite(model.centroids).all()
    assert model.inertia == pytest.approx(0.0)


@pytest.mark.parametrize("zeros", [0, 5, 10])
def test_the_distinct_cluster_warning_counts_labels_not_weights(zeros):
    # The model skips counting labels when every cluster weighs something; rows of zero
    # weight can hold a cluster of no weight, and then the labels are counted.
    X = np.repeat([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], 5, axis=0)
    w = np.ones(len(X))
    w[len(X) - zeros :] = 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fk.KMeansParams(3, init=X[[0, 5, 10]], max_iter=1).fit(X, sample_weight=w)
    assert not any("distinct clusters" in str(c.message) for c in caught)
    assert len(np.unique(model.labels)) == 3  # a cluster of zero weight still has its rows


def test_explicit_init_with_several_runs_warns_and_runs_once():
    init = np.array([[0, 0], [1, 1]], dtype=float)
    with pytest.warns(RuntimeWarning, match="only one init"):
        fk.KMeansParams(2, init=init, n_init=3).fit(TOY_X)


def test_zero_weight_rows_do_not_move_centroids(blobs64):
    w = np.ones(len(blobs64))
    w[:100] = 0.0
    init = blobs64[200:206]
    a = fk.KMeansParams(6, init=init).fit(blobs64, sample_weight=w)
    b = fk.KMeansParams(6, init=init).fit(blobs64[100:])
    np.testing.assert_allclose(a.centroids, b.centroids, rtol=1e-12)
    assert a.inertia == pytest.approx(b.inertia, rel=1e-12)


def test_cosine_is_spherical_kmeans():
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(4, 6))
    X = np.concatenate([d + 0.05 * rng.normal(size=(50, 6)) for d in directions])
    X *= rng.uniform(0.5, 20, size=(len(X), 1))  # lengths must not matter
    model = fk.KMeansParams(4, metric="cosine", seed=0).fit(X)
    np.testing.assert_allclose(np.linalg.norm(model.centroids, axis=1), 1.0, rtol=1e-12)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    cos = Xn @ model.centroids.T
    np.testing.assert_array_equal(model.labels, cos.argmax(axis=1))
    contrib = 2 * (1 - cos[np.arange(len(X)), model.labels])
    assert model.inertia == pytest.approx(contrib.sum(), rel=1e-9)
    assert model.score(X) == pytest.approx(-model.inertia, rel=1e-9)
    np.testing.assert_array_equal(model.predict(X * 3.0), model.labels)
    with pytest.raises(ValueError, match="non-zero length"):
        model.predict(np.zeros((1, 6)))


def test_no_warnings_on_a_plain_fit(tutorial_data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fk.KMeansParams(3, seed=42, max_iter=200, tol=1e-5).fit(tutorial_data)


def test_progress_bar_reports_and_silent_by_default(tutorial_data, capsys):
    fk.KMeansParams(3, seed=0).fit(tutorial_data)
    assert capsys.readouterr() == ("", "")
    fk.KMeansParams(3, seed=0, progress=True).fit(tutorial_data)
    assert "k-means" in capsys.readouterr().err


def test_init_auto_is_kmeans_plusplus_below_64_clusters_and_kmeans_parallel_from_64(tmp_path):
    """The default seeding: greedy k-means++ below ``PARALLEL_INIT_MIN_CLUSTERS``, k-means||
    from it on; the fit is the one the explicit init gives, and the model says which ran
    (also after a save/load round trip)."""
    from fastkmeans import _config
    from fastkmeans._seeding import resolve_init

    assert fk.KMeansParams(3).init == "auto"
    limit = _config.PARALLEL_INIT_MIN_CLUSTERS
    assert resolve_init("auto", limit - 1) == "k-means++"
    assert resolve_init("auto", limit) == "k-means||"
    X, _ = fk.datasets.make_blobs(3000, 3, 8, seed=3)
    for k, expected in [(limit - 1, "k-means++"), (limit, "k-means||")]:
        auto = fk.KMeansParams(k, seed=7, max_iter=3).fit(X)
        explicit = fk.KMeansParams(k, seed=7, max_iter=3, init=expected).fit(X)
        assert auto.init_used == explicit.init_used == expected
        np.testing.assert_array_equal(auto.centroids, explicit.centroids)
        np.testing.assert_array_equal(auto.labels, explicit.labels)
        path = tmp_path / f"m{k}.npz"
        auto.save(path)
        assert fk.KMeansModel.load(path).init_used == expected
    arr = fk.KMeansParams(3, init=X[:3]).fit(X)
    assert arr.init_used == "array"
    assert fk.KMeansParams(3, init="random", seed=0).fit(X).init_used == "random"
