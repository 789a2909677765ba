"""One engine for every kind of data: the same params and initial centers give the same fit
in memory, streamed from a memmap in blocks, and on a Dask LocalCluster, for every exact
algorithm; nothing the params ask for is silently replaced; the naive references agree."""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
import pytest

import fastkmeans as fk
from fastkmeans._assign import Planner
from fastkmeans._seeding import kmeans_parallel, plusplus_blocks, plusplus_rows
from fastkmeans._sources import MemorySource, StreamSource

from . import naive

ALGORITHMS = ("lloyd", "hamerly", "yinyang")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Blobs with two tied far points in different blocks, and a memmap of them."""
    X, _ = fk.datasets.make_blobs(6000, 5, 12, cluster_std=2.0, seed=8)
    path = tmp_path_factory.mktemp("engine") / "X.npy"
    np.save(path, X)
    return X, np.load(path, mmap_mode="r")


@pytest.fixture()
def small_budget(monkeypatch):
    monkeypatch.setenv("FASTKMEANS_MEMORY_BUDGET", "64K")


def _same(a: fk.KMeansModel, b: fk.KMeansModel, rtol: float = 1e-9) -> None:
    np.testing.assert_array_equal(a.labels, b.labels)
    assert (a.n_iter, a.stop_reason) == (b.n_iter, b.stop_reason)
    np.testing.assert_allclose(a.centroids, b.centroids, rtol=rtol, atol=rtol)
    assert a.inertia == pytest.approx(b.inertia, rel=rtol)
    np.testing.assert_array_equal(a.history.labels_changed, b.history.labels_changed)
    np.testing.assert_array_equal(a.history.n_reseeded, b.history.n_reseeded)
    np.testing.assert_allclose(a.cluster_weights, b.cluster_weights, rtol=1e-12)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_kind_of_data_gives_the_same_fit(client, data, small_budget, algorithm):
    X, mm = data
    init = X[200:212].copy()
    init[5] = -1e3  # nobody's nearest center: re-seeded in the first iteration
    params = fk.KMeansParams(12, init=init, algorithm=algorithm, tol=0.0)
    ref = params.fit(X)
    assert ref.history.n_reseeded[0] == 1
    C, labels, inertia, n_iter, stop = naive.lloyd(X, init, 300, tol=0.0)
    np.testing.assert_array_equal(ref.labels, labels)
    assert (ref.n_iter, ref.stop_reason) == (n_iter, stop)
    np.testing.assert_allclose(ref.centroids, C, rtol=1e-9)
    assert ref.inertia == pytest.approx(inertia, rel=1e-9)
    _same(params.fit(mm), ref)  # streamed in blocks of 64K
    _same(params.fit(da.from_array(X, chunks=((700, 1300, 2000, 2000), (5,)))), ref)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_float32_and_yinyang_groups_agree_across_kinds_of_data(client, data, small_budget,
                                                               algorithm):  # fmt: skip
    X, _ = data
    X32 = X.astype(np.float32)
    path = str(data[1].filename).replace("X.npy", "X32.npy")
    np.save(path, X32)
    init = X32[::250][:24].copy()  # k = 24: Yinyang keeps two groups of centers
    params = fk.KMeansParams(24, init=init, algorithm=algorithm, tol=0.0, max_iter=60)
    ref = params.fit(X32)
    if algorithm == "yinyang":
        from fastkmeans._assign import yinyang_groups

        assert yinyang_groups(len(X32), 24) == 2
    _same(params.fit(np.load(path, mmap_mode="r")), ref, rtol=1e-5)
    _same(params.fit(da.from_array(X32, chunks=1500)), ref, rtol=1e-5)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_tied_farthest_points_are_picked_by_one_rule_everywhere(client, algorithm, tmp_path,
                                                                monkeypatch):  # fmt: skip
    # Cluster A is symmetric about its center 0: its two farthest points, -10 (row 10) and
    # +10 (row 1100), are equally far. The empty third cluster takes the later row, +10,
    # in memory, in blocks and on Dask (scikit-learn's argpartition picks it too here).
    rng = np.random.default_rng(0)
    half = rng.uniform(0.5, 5.0, 600)
    a = np.concatenate([half, -half])
    a[10], a[1100] = -10.0, 10.0
    X = np.concatenate([a, 100.0 + rng.uniform(-1, 1, 200)])[:, None]
    X[:1200] -= X[:1200].mean()  # exactly symmetric values, centered on 0
    init = np.array([[0.0], [100.0], [1e6]])
    params = fk.KMeansParams(3, init=init, algorithm=algorithm, tol=0.0)
    ref = params.fit(X)
    assert ref.history.n_reseeded[0] == 1
    assert ref.labels[1100] == 2 and ref.labels[10] != 2
    path = tmp_path / "tie.npy"
    np.save(path, X)
    monkeypatch.setenv("FASTKMEANS_MEMORY_BUDGET", "4K")  # 256 rows a block
    assert StreamSource(np.load(path, mmap_mode="r"), None, False).n_blocks == 6
    _same(params.fit(np.load(path, mmap_mode="r")), ref)
    _same(params.fit(da.from_array(X, chunks=300)), ref)


def test_out_of_core_hamerly_keeps_its_bounds_across_passes(data, small_budget):
    X, mm = data
    source = StreamSource(mm, None, cosine=False)
    assert source.n_blocks > 4
    planner = Planner("hamerly", *X.shape, 12, X.dtype, source.mean)
    source.start_run()
    planner.record(0)  # bounds from the first pass on
    centers = fk.KMeansParams(12, seed=0).fit(X).centroids  # converged: little moves
    scanned = []
    for _ in range(3):
        sums, wsums, _, _ = source.assign(planner.plan(centers))
        scanned.append(sum(s.scanned for s in source.states))
        centers = sums / wsums[:, None]
    assert scanned[0] == len(X) and scanned[-1] < len(X) // 4
    assert all(s.upper is not None and s.lower.shape == s.labels.shape for s in source.states)


def test_kmeans_plusplus_over_blocks_picks_the_in_memory_rows(data, small_budget):
    X, mm = data
    w = np.random.default_rng(1).random(len(X))
    mem = plusplus_rows(X, w, 12, np.random.default_rng(4))
    blocks = plusplus_blocks(StreamSource(mm, w, False), 12, np.random.default_rng(4))
    ref = naive.kmeans_plusplus(X, w, 12, np.random.default_rng(4))
    np.testing.assert_array_equal(mem, ref)
    np.testing.assert_array_equal(blocks, ref)


def test_kmeans_parallel_matches_the_naive_reference(data):
    X, _ = data
    w = np.random.default_rng(2).random(len(X))
    got = kmeans_parallel(MemorySource(X, w, False), 12, np.random.default_rng(9))
    np.testing.assert_array_equal(got, naive.kmeans_parallel(X, w, 12, np.random.default_rng(9)))


def test_kmeans_parallel_runs_out_of_core(data, small_budget):
    X, mm = data
    # Other blocks, other draws: the same quality on average, not the same centers.
    fits = [fk.KMeansParams(12, init="k-means||", seed=s, max_iter=1).fit(mm) for s in range(3)]
    rand = [fk.KMeansParams(12, init="random", seed=s, max_iter=1).fit(mm) for s in range(3)]
    mem = [fk.KMeansParams(12, init="k-means||", seed=s, max_iter=1).fit(X) for s in range(3)]
    first = [np.mean([m.history.inertia[0] for m in ms]) for ms in (fits, rand, mem)]
    assert first[0] < 0.7 * first[1] and first[0] < 1.2 * first[2]


# --------------------------------------------------------------------------- nothing swapped
def _user_line_warning(fn, category):
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        fn()
    hits = [w for w in got if issubclass(w.category, category)]
    assert hits, f"no {category.__name__}"
    assert all(w.filename == __file__ for w in hits), [w.filename for w in hits]
    return hits


def test_warnings_point_at_the_users_line_on_every_path(client, data, small_budget):
    X, mm = data
    dup = np.repeat(X[:3], 400, axis=0)
    dup_path = str(mm.filename).replace("X.npy", "dup.npy")
    np.save(dup_path, dup)
    few = fk.KMeansParams(5, seed=0)
    for fit in (
        lambda: few.fit(dup),
        lambda: few.fit(np.load(dup_path, mmap_mode="r")),
        lambda: few.fit(da.from_array(dup, chunks=400)),
        lambda: fk.MiniBatchKMeansParams(5, seed=0, batch_size=256).fit(dup),
    ):
        _user_line_warning(fit, fk.ConvergenceWarning)
    init = X[:12]
    _user_line_warning(lambda: fk.KMeansParams(12, init=init, n_init=3).fit(mm), RuntimeWarning)
    with pytest.warns(UserWarning, match="n_threads=1 applies to the client's steps only"):
        fk.KMeansParams(12, init=init, n_threads=1).fit(da.from_array(X, chunks=2000))


def test_progress_bar_is_closed_when_a_fit_fails(data, small_budget, monkeypatch):
    from tqdm.auto import tqdm

    from fastkmeans import _fit

    X, mm = data

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(_fit, "lloyd", boom)
    monkeypatch.setattr(_fit._minibatch, "run", boom)
    before = len(tqdm._instances)
    for params, data_ in (
        (fk.KMeansParams(3, progress=True), mm),
        (fk.KMeansParams(3, progress=True), da.from_array(X, chunks=2000)),
        (fk.MiniBatchKMeansParams(3, progress=True), X),
    ):
        with pytest.raises(RuntimeError, match="boom"):
            params.fit(data_)
        assert len(tqdm._instances) == before


# --------------------------------------------------------------------------- defects
def test_astronomic_weights_give_finite_centroids(client, data, small_budget):
    X, mm = data
    w = np.full(len(X), 1e308)
    w[::2] = 5e307
    ref = fk.KMeansParams(12, seed=1).fit(X, sample_weight=w / 1e300)
    for got in (
        fk.KMeansParams(12, seed=1).fit(X, sample_weight=w),
        fk.KMeansParams(12, seed=1).fit(mm, sample_weight=w),
        fk.KMeansParams(12, seed=1).fit(da.from_array(X, chunks=2000), sample_weight=w),
    ):
        assert np.isfinite(got.centroids).all()
        np.testing.assert_array_equal(got.labels, ref.labels)
        np.testing.assert_allclose(got.centroids, ref.centroids, rtol=1e-9)
        assert got.inertia == np.inf or got.inertia == pytest.approx(ref.inertia * 1e300)


def test_more_centers_than_distinct_points_stops_after_one_iteration():
    # scikit-learn's test_relocating_with_duplicates (its issue 28055).
    X = np.array([[0, 0], [1, 1], [1, 1], [1, 0], [0, 1]], dtype=float)
    with pytest.warns(fk.ConvergenceWarning, match=r"distinct clusters \(4\)"):
        model = fk.KMeansParams(5, init=X).fit(X)
    assert model.n_iter == 1 and model.history.n_reseeded[0] == 0


def test_a_wrong_init_shows_the_value():
    with pytest.raises(fk.KMeansParamsError, match="got 5"):
        fk.KMeansParams(3, init=5)
    with pytest.raises(fk.KMeansParamsError, match=r"shape \(2,\): \[1\. 2\.\]"):
        fk.KMeansParams(3, init=[1.0, 2.0])
