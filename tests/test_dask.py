"""The distributed path on a real ``dask.distributed.LocalCluster`` (two worker processes,
one thread each), plus the serial block kernels the workers run, against NumPy."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest

import fastkmeans as fk
from fastkmeans._assign import Plan, RowState, assign_block, nearest
from fastkmeans.kernels import distances

from .naive import inertia as naive_inertia
from .naive import sq_distances


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    X, _ = fk.datasets.make_blobs(4000, 4, 8, cluster_std=1.5, seed=21)
    return X


# --------------------------------------------------------------------------- kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d,gemm", [(3, False), (20, True)])
def test_worker_pass_matches_numpy(dtype, d, gemm):
    # What a worker runs on its block: the serial twins, one chunk for the whole block.
    rng = np.random.default_rng(d)
    m, k = 700, 9
    X = rng.normal(size=(m, d)).astype(dtype)
    w = rng.random(m)
    C = X[:k].copy()
    mean = X.mean(axis=0, dtype=np.float64).astype(dtype)
    D = sq_distances(X, C)
    expect = D.argmin(axis=1)
    state = RowState(m)
    state.labels[:5] = expect[:5]  # these rows keep their label: not counted as changed
    plan = Plan(C, "lloyd", True, gemm, mean)
    state, packed = assign_block(X, w, state, plan, worker=True)
    labels = state.labels
    np.testing.assert_allclose(D[np.arange(m), labels], D.min(axis=1), rtol=1e-5)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    sums = np.zeros((k, d))
    np.add.at(sums, labels, w[:, None] * X.astype(np.float64))
    np.testing.assert_allclose(packed[: k * d].reshape(k, d), sums, rtol=rtol, atol=1e-8)
    np.testing.assert_allclose(packed[k * d : k * d + k], np.bincount(labels, w, k), rtol=1e-12)
    np.testing.assert_allclose(packed[-2], naive_inertia(X, C, labels, w), rtol=rtol)
    assert packed[-1] == m - 5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_worker_distance_twins_match_numpy(dtype):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 5)).astype(dtype)
    C = rng.normal(size=(7, 5)).astype(dtype)
    D = sq_distances(X, C)
    out = np.empty((300, 7))
    distances.all_distances_serial(X, C, out)
    np.testing.assert_allclose(out, np.sqrt(D), rtol=1e-12)
    labels = rng.integers(0, 7, 300).astype(np.intp)
    one = np.empty(300)
    distances.assigned_sq_distances_serial(X, C, labels, one)
    np.testing.assert_allclose(one, D[np.arange(300), labels], rtol=1e-12)
    labels_out, inertia = nearest(X, np.ones(300), C, worker=True)
    np.testing.assert_array_equal(labels_out, D.argmin(axis=1))
    assert inertia == pytest.approx(D.min(axis=1).sum(), rel=1e-12)


# --------------------------------------------------------------------------- fit
def _same_fit(a: fk.KMeansModel, b: fk.KMeansModel, rtol: float) -> None:
    np.testing.assert_allclose(a.centroids, b.centroids, rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.centroids.dtype == b.centroids.dtype
    assert (a.n_iter, a.stop_reason, a.converged) == (b.n_iter, b.stop_reason, b.converged)
    assert a.inertia == pytest.approx(b.inertia, rel=rtol)
    np.testing.assert_allclose(a.history.inertia, b.history.inertia, rtol=rtol)
    np.testing.assert_allclose(
        a.history.center_shift, b.history.center_shift, rtol=1e-3, atol=1e-12
    )
    np.testing.assert_array_equal(a.history.labels_changed, b.history.labels_changed)
    np.testing.assert_array_equal(a.history.n_reseeded, b.history.n_reseeded)
    np.testing.assert_allclose(a.cluster_weights, b.cluster_weights, rtol=1e-12)


@pytest.mark.parametrize(
    "case", ["float64", "float32", "weights", "dask-weights", "cosine", "tol0"]
)
def test_fit_matches_numpy_from_the_same_init(client, blobs, case):
    X = blobs.astype(np.float32) if case == "float32" else blobs
    rng = np.random.default_rng(0)
    w = rng.random(len(X)) + 0.1 if "weights" in case else None
    init = X[rng.choice(len(X), 8, replace=False)]
    params = fk.KMeansParams(
        8,
        init=init,
        metric="cosine" if case == "cosine" else "euclidean",
        tol=0.0 if case == "tol0" else 1e-4,
    )
    ref = params.fit(X, sample_weight=w)
    dX = da.from_array(X, chunks=((700, 1300, 2000), (4,)))
    dw = da.from_array(w, chunks=1000) if case == "dask-weights" else w
    got = params.fit(dX, sample_weight=dw)
    _same_fit(got, ref, 1e-4 if case == "float32" else 1e-9)
    assert isinstance(got.centroids, np.ndarray) and isinstance(got.labels, np.ndarray)


def test_wide_data_takes_the_gemm_kernel_and_agrees(client, blobs_wide64):
    X = blobs_wide64
    params = fk.KMeansParams(10, init=X[:: len(X) // 10][:10])
    _same_fit(params.fit(da.from_array(X, chunks=1000)), params.fit(X), 1e-9)


def test_empty_cluster_is_reseeded_at_the_farthest_point_as_in_memory(client, blobs):
    init = blobs[:8].copy()
    init[3] = 1e3  # nobody's nearest center: empty in the first iteration
    params = fk.KMeansParams(8, init=init)
    ref = params.fit(blobs)
    got = params.fit(da.from_array(blobs, chunks=900))
    assert ref.history.n_reseeded[0] == 1
    _same_fit(got, ref, 1e-9)


def test_random_init_and_n_init_follow_the_in_memory_streams(client, blobs):
    params = fk.KMeansParams(8, init="random", n_init=2, seed=7)
    _same_fit(params.fit(da.from_array(blobs, chunks=1000)), params.fit(blobs), 1e-9)


def test_empty_chunks_and_a_single_row_chunk(client, blobs):
    dX = da.from_array(blobs, chunks=((0, 1, 1999, 0, 1, 1999), (4,)))
    params = fk.KMeansParams(8, init=blobs[100:108])
    _same_fit(params.fit(dX), params.fit(blobs), 1e-9)
    model = fk.KMeansParams(8, seed=0).fit(dX)  # k-means++ over the same blocks
    _same_fit(model, fk.KMeansParams(8, seed=0).fit(blobs), 1e-9)
    model = fk.KMeansParams(8, init="k-means||", seed=0).fit(dX)
    assert np.isfinite(model.centroids).all() and model.labels.shape == (4000,)
    np.testing.assert_array_equal(model.predict(dX).compute(), model.predict(blobs))


# --------------------------------------------------------------------------- k-means||
def test_kmeans_parallel_quality_close_to_greedy_kmeans_plusplus(client):
    X, _ = fk.datasets.make_blobs(8000, 4, 12, cluster_std=1.0, seed=5)
    dX = da.from_array(X, chunks=2000)
    par = [fk.KMeansParams(12, seed=s).fit(dX).inertia for s in range(3)]
    pp = [fk.KMeansParams(12, init="k-means++", seed=s).fit(X).inertia for s in range(3)]
    assert np.mean(par) <= 1.02 * np.mean(pp)


def test_default_init_on_dask_is_greedy_kmeans_plusplus(client, blobs):
    # Nothing is swapped behind the user's back: below 64 clusters the default init is
    # greedy k-means++ on Dask as in memory, run over the blocks, and it picks the
    # in-memory kernel's rows (potentials summed per block, not per chunk).
    dX = da.from_array(blobs, chunks=1000)
    a = fk.KMeansParams(8, seed=3, max_iter=1).fit(dX)
    assert a.params.init == "auto" and a.init_used == "k-means++"
    _same_fit(a, fk.KMeansParams(8, seed=3, max_iter=1).fit(blobs), 1e-9)
    b = fk.KMeansParams(8, seed=3, max_iter=1).fit(dX)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    c = fk.KMeansParams(8, init="k-means||", seed=3, max_iter=1).fit(dX)
    assert not np.array_equal(a.centroids, c.centroids)


def test_kmeans_parallel_streams_follow_the_block_number(client, blobs):
    # Block b draws from default_rng([root, round, b]), empty chunks counted: trailing
    # empty chunks change nothing, one in the middle moves the next block to stream 2.
    params = fk.KMeansParams(8, init="k-means||", seed=2, max_iter=1)
    plain = params.fit(da.from_array(blobs, chunks=((2000, 2000), (4,))))
    tail = params.fit(da.from_array(blobs, chunks=((2000, 2000, 0, 0), (4,))))
    middle = params.fit(da.from_array(blobs, chunks=((2000, 0, 2000), (4,))))
    np.testing.assert_allclose(tail.centroids, plain.centroids, rtol=1e-12)
    assert not np.allclose(middle.centroids, plain.centroids)


def test_one_chunk_seeds_like_in_memory_data(client, blobs):
    params = fk.KMeansParams(8, init="k-means||", seed=11)
    _same_fit(params.fit(da.from_array(blobs, chunks=-1)), params.fit(blobs), 1e-9)


# --------------------------------------------------------------------------- predict
def test_predict_transform_score_are_lazy_and_equal_numpy(client, blobs):
    model = fk.KMeansParams(8, seed=0).fit(blobs)
    dX = da.from_array(blobs, chunks=((1, 999, 0, 3000), (4,)))
    labels = model.predict(dX)
    assert isinstance(labels, da.Array) and labels.chunks == (dX.chunks[0],)
    np.testing.assert_array_equal(labels.compute(), model.predict(blobs))
    dist = model.transform(dX)
    assert isinstance(dist, da.Array) and dist.shape == (4000, 8)
    np.testing.assert_allclose(dist.compute(), model.transform(blobs), rtol=1e-12)
    score = model.score(dX)
    assert isinstance(score, da.Array) and score.shape == ()
    assert float(score) == pytest.approx(model.score(blobs), rel=1e-12)
    w = np.linspace(0.0, 2.0, 4000)
    assert float(model.score(dX, w)) == pytest.approx(model.score(blobs, w), rel=1e-12)


def test_predict_builds_a_graph_without_computing(client, blobs):
    model = fk.KMeansParams(8, seed=0).fit(blobs)

    def boom() -> np.ndarray:
        raise RuntimeError("computed")

    dX = da.from_delayed(dask.delayed(boom)(), shape=(10, 4), dtype=np.float64)
    labels = model.predict(dX)  # must not raise: nothing runs yet
    with pytest.raises(RuntimeError, match="computed"):
        labels.compute()


# --------------------------------------------------------------------------- errors
def test_errors_say_what_and_where(client, blobs):
    bad = blobs.copy()
    bad[2345, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN \(first at row 2345, column 2\)"):
        fk.KMeansParams(3, seed=0).fit(da.from_array(bad, chunks=1000))
    model = fk.KMeansParams(3, seed=0).fit(blobs)
    with pytest.raises(ValueError, match=r"NaN \(first at row 2345"):
        model.predict(da.from_array(bad, chunks=1000)).compute()
    with pytest.raises(ValueError, match="n_samples=4 should be >= n_clusters=5"):
        fk.KMeansParams(5).fit(da.from_array(blobs[:4]))
    with pytest.raises(ValueError, match="2-D"):
        fk.KMeansParams(2).fit(da.from_array(blobs[:, 0]))
    with pytest.raises(ValueError, match="3 features, but the model was fitted with 4"):
        model.predict(da.from_array(blobs[:, :3]))
    w = np.ones(4000)
    w[17] = -1.0
    with pytest.raises(ValueError, match="non-negative"):
        fk.KMeansParams(2).fit(da.from_array(blobs, chunks=1000), sample_weight=w)
    with pytest.raises(ValueError, match="sample_weight is negative at index 17"):
        fk.KMeansParams(2).fit(
            da.from_array(blobs, chunks=1000), sample_weight=da.from_array(w, chunks=500)
        )


def test_column_chunks_are_merged(client, blobs):
    params = fk.KMeansParams(8, init=blobs[:8])
    _same_fit(params.fit(da.from_array(blobs, chunks=(1000, 2))), params.fit(blobs), 1e-9)
