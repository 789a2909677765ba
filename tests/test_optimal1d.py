"""algorithm="optimal": the exact optimum of one-feature k-means, against the O(k n^2)
dynamic programme of tests/naive.py, with ties, weights, duplicates, both dtypes, every
kind of data, and the errors for what it cannot do."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastkmeans as fk
from fastkmeans.errors import ConvergenceWarning, KMeansParamsError
from fastkmeans.kernels.optimal1d import optimal_boundaries

from . import naive


def optimal(k: int, **changes) -> fk.KMeansParams:
    return fk.KMeansParams(k, algorithm="optimal", **changes)


def fit_quiet(params, X, w=None) -> fk.KMeansModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return params.fit(X, sample_weight=w)


def check_nearest(model: fk.KMeansModel, X) -> None:
    """Each sample's label is a nearest centroid (distances compared, not labels)."""
    d = naive.sq_distances(np.asarray(X, dtype=np.float64), model.centroids)
    own = d[np.arange(d.shape[0]), model.labels]
    np.testing.assert_allclose(own, d.min(axis=1), rtol=1e-6, atol=1e-9)


def check_model(model: fk.KMeansModel, X, w=None) -> None:
    X = np.asarray(X)
    assert (model.n_iter, model.converged, model.stop_reason) == (0, True, "optimal")
    assert len(model.history) == 0 and model.inertia_history.shape == (0,)
    assert model.centroids.shape == (model.params.n_clusters, 1)
    assert np.isfinite(model.centroids).all()
    assert (np.diff(model.centroids[:, 0]) >= 0).all()  # ascending
    assert model.labels.shape == (X.shape[0],) and model.labels.dtype == np.int64
    check_nearest(model, X)
    expected = naive.inertia(X, model.centroids, model.labels, w)
    assert model.inertia == pytest.approx(expected, rel=1e-12, abs=1e-300)


@st.composite
def problems(draw):
    n = draw(st.integers(1, 24))
    if draw(st.booleans()):  # few distinct values: duplicates and ties
        x = draw(st.lists(st.integers(-4, 4), min_size=n, max_size=n))
    else:
        x = draw(st.lists(st.floats(-1e3, 1e3, width=32), min_size=n, max_size=n))
    w = None
    if draw(st.booleans()):
        w = draw(st.lists(st.sampled_from([0.0, 0.25, 1.0, 3.0]), min_size=n, max_size=n))
        if not any(w):
            w[draw(st.integers(0, n - 1))] = 1.0
        w = np.array(w)
    k = draw(st.integers(1, n))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return np.array(x, dtype=dtype).reshape(-1, 1), w, k


@given(problems())
def test_equals_the_naive_dynamic_programme(problem):
    X, w, k = problem
    model = fit_quiet(optimal(k), X, w)
    check_model(model, X, w)
    assert model.centroids.dtype == X.dtype
    best = naive.optimal_1d(X, k, w)
    scale = max(float(np.abs(X).max()), 1.0) ** 2 * (1.0 if w is None else w.sum())
    rel = 1e-9 if X.dtype == np.float64 else 1e-6  # float32 centroids are rounded
    assert model.inertia == pytest.approx(best, rel=rel, abs=rel * 1e-3 * scale)
    assert model.inertia >= best * (1 - 1e-12) - 1e-12 * scale  # the optimum is the least


@given(st.integers(2, 60), st.integers(1, 12), st.integers(0, 2**16))
def test_the_kernel_equals_the_naive_programme(u, k, seed):
    rng = np.random.default_rng(seed)
    v = np.unique(rng.standard_normal(u) * 10.0 ** rng.integers(-3, 4))
    k = min(k, v.shape[0])
    w = rng.random(v.shape[0]) + 0.01
    starts = np.empty(k + 1, dtype=np.intp)
    optimal_boundaries(v, w, k, starts)
    assert starts[0] == 0 and starts[-1] == v.shape[0] and (np.diff(starts) > 0).all()
    labels = np.repeat(np.arange(k), np.diff(starts))
    means = np.array([np.average(v[labels == j], weights=w[labels == j]) for j in range(k)])
    cost = float((w * (v - means[labels]) ** 2).sum())
    assert cost == pytest.approx(naive.optimal_1d(v, k, w), rel=1e-9, abs=1e-12)


def test_hand_computed_toys():
    m = optimal(2).fit([[0.0], [1.0], [10.0], [11.0], [12.0]])
    np.testing.assert_array_equal(m.centroids[:, 0], [0.5, 11.0])
    np.testing.assert_array_equal(m.labels, [0, 0, 1, 1, 1])
    assert m.inertia == 0.5 + 2.0
    one = optimal(1).fit([[1.0], [2.0], [6.0]], sample_weight=[1.0, 2.0, 1.0])
    assert one.centroids[0, 0] == 2.75
    assert one.inertia == pytest.approx(1.75**2 + 2 * 0.75**2 + 3.25**2)
    assert one.cluster_weights.tolist() == [4.0]


def test_k_equal_n_and_fewer_distinct_values_than_k():
    X = np.array([[3.0], [1.0], [2.0], [7.0]])
    m = optimal(4).fit(X)
    np.testing.assert_array_equal(m.centroids[:, 0], [1.0, 2.0, 3.0, 7.0])
    np.testing.assert_array_equal(m.labels, [2, 0, 1, 3])
    assert m.inertia == 0.0
    dup = np.array([[5.0], [1.0], [5.0], [1.0], [5.0]])
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(2\)"):
        m = optimal(4).fit(dup)
    check_model(m, dup)
    assert m.inertia == 0.0 and m.cluster_weights.tolist() == [2.0, 3.0, 0.0, 0.0]
    np.testing.assert_array_equal(m.centroids[:, 0], [1.0, 5.0, 5.0, 5.0])


def test_equal_values_share_a_cluster_and_ties_are_deterministic():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 12, size=(400, 1)).astype(np.float64)
    m = optimal(5).fit(X)
    for v in np.unique(X):
        assert np.unique(m.labels[X[:, 0] == v]).shape[0] == 1
    tie = np.array([[0.0], [1.0], [2.0]])  # {0}{1,2} and {0,1}{2} both cost 0.5
    a, b = optimal(2).fit(tie), optimal(2).fit(tie[::-1])
    assert a.inertia == b.inertia == 0.5
    assert a.centroids.tobytes() == b.centroids.tobytes()


def test_labels_follow_the_rows_in_their_order():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 1))
    perm = rng.permutation(300)
    a, b = optimal(6).fit(X), optimal(6).fit(X[perm])
    assert a.centroids.tobytes() == b.centroids.tobytes()
    np.testing.assert_array_equal(a.labels[perm], b.labels)


def test_weights_count_like_repeated_rows_and_zero_weights_take_no_part():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 1))
    reps = rng.integers(1, 4, size=60)
    a = optimal(4).fit(X, sample_weight=reps.astype(float))
    b = optimal(4).fit(np.repeat(X, reps, axis=0))
    np.testing.assert_allclose(a.centroids, b.centroids, rtol=1e-12)
    assert a.inertia == pytest.approx(b.inertia, rel=1e-12)
    w = np.where(np.arange(60) % 3 == 0, 0.0, 1.0)
    c = optimal(4).fit(X, sample_weight=w)
    d = optimal(4).fit(X[w > 0])
    np.testing.assert_allclose(c.centroids, d.centroids, rtol=1e-12)
    check_model(c, X, w)  # rows of zero weight are labelled with their nearest centroid
    np.testing.assert_allclose(c.cluster_weights, d.cluster_weights)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_dtypes(dtype):
    X = (np.random.default_rng(3).standard_normal((200, 1)) * 50).astype(dtype)
    m = optimal(3).fit(X)
    assert m.centroids.dtype == (np.float32 if dtype == np.float32 else np.float64)
    check_model(m, X)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_never_worse_than_lloyd_from_kmeans_plusplus(seed):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(c, 1.0, 150) for c in (0, 3, 5, 11)]).reshape(-1, 1)
    best = optimal(6).fit(X)
    for n_init in (1, 5):
        lloyd = fk.KMeansParams(6, seed=seed, n_init=n_init).fit(X)
        assert best.inertia <= lloyd.inertia * (1 + 1e-12)


def test_offset_data_keep_their_digits():
    X = 1e8 + np.random.default_rng(4).standard_normal((500, 1))
    m = optimal(4).fit(X)
    assert m.inertia == pytest.approx(optimal(4).fit(X - 1e8).inertia, rel=1e-6)


@pytest.mark.parametrize("scale", [2.0**500, 2.0**-500, 2.0**-600])
def test_huge_and_tiny_values_are_clustered_alike(scale):
    X = np.random.default_rng(9).standard_normal((300, 1))
    a, b = optimal(5).fit(X), fit_quiet(optimal(5), X * scale)
    np.testing.assert_allclose(b.centroids / scale, a.centroids, rtol=1e-12)
    if scale > 2.0**-510:  # below, squared distances underflow in the final assignment
        np.testing.assert_array_equal(a.labels, b.labels)


def test_same_result_for_any_thread_count():
    X = np.random.default_rng(5).standard_normal((5000, 1))
    a, b = optimal(16, n_threads=1).fit(X), optimal(16, n_threads=2).fit(X)
    assert a.centroids.tobytes() == b.centroids.tobytes()
    np.testing.assert_array_equal(a.labels, b.labels)


def test_memmap_and_dask_give_the_in_memory_result(tmp_path, monkeypatch):
    import dask
    import dask.array as da

    rng = np.random.default_rng(6)
    X = rng.standard_normal((20000, 1))
    w = rng.random(20000)
    np.save(tmp_path / "x.npy", X)
    monkeypatch.setenv("FASTKMEANS_MEMORY_BUDGET", "64K")
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    ref = optimal(5).fit(X, sample_weight=w)
    with dask.config.set(scheduler="synchronous"):
        others = [optimal(5).fit(mm, w), optimal(5).fit(da.from_array(X, chunks=3000), w)]
    for m in others:
        assert m.centroids.tobytes() == ref.centroids.tobytes()
        np.testing.assert_array_equal(m.labels, ref.labels)
        assert m.inertia == pytest.approx(ref.inertia, rel=1e-12)


def test_save_load_round_trip(tmp_path):
    X = np.random.default_rng(7).standard_normal((100, 1)).astype(np.float32)
    m = optimal(3).fit(X)
    m.save(tmp_path / "m.fkm")
    back = fk.KMeansModel.load(tmp_path / "m.fkm")
    assert back.centroids.tobytes() == m.centroids.tobytes()
    np.testing.assert_array_equal(back.labels, m.labels)
    assert (back.inertia, back.n_iter, back.stop_reason, back.converged) == (
        m.inertia, 0, "optimal", True
    )  # fmt: skip
    assert back.params == m.params and len(back.history) == 0
    np.testing.assert_array_equal(back.predict(X), m.labels)


def test_errors_and_what_is_ignored():
    with pytest.raises(ValueError, match="needs one-feature data; X has 2 features"):
        optimal(2).fit(np.zeros((5, 2)))
    with pytest.raises(KMeansParamsError, match="cosine") as exc:
        optimal(2, metric="cosine")
    assert exc.value.field == "metric"
    X = np.array([[0.0], [1.0], [5.0], [6.0]])
    with pytest.warns(UserWarning, match="not used"):
        m = optimal(2, init=np.array([[0.0], [0.1]])).fit(X)
    assert m.centroids[:, 0].tolist() == [0.5, 5.5]
    with pytest.raises(ValueError, match="n_samples=4 should be >= n_clusters=5"):
        optimal(5).fit(X)


def test_auto_never_picks_optimal():
    X = np.random.default_rng(8).standard_normal((300, 1))
    assert fk.KMeansParams(3, seed=0).fit(X).stop_reason != "optimal"
    assert fk.KMeansParams(3, seed=0, algorithm="auto").fit(X).n_iter > 0
