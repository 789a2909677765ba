"""Size-constrained k-means (``size_min``/``size_max``): the exact assignment step against
a 0/1-program reference and brute force, the loop against a plain constrained Lloyd,
the limits always met, and what is refused."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastkmeans as fk
from fastkmeans import _constrained
from fastkmeans.errors import KMeansParamsError

from . import naive


def _total(cost: np.ndarray, labels: np.ndarray) -> float:
    return float(cost[np.arange(cost.shape[0]), labels].sum())


def _random_problem(rng: np.random.Generator, kind: int):
    n = int(rng.integers(2, 80))
    k = int(rng.integers(1, 7))
    lo = int(rng.integers(0, n // k + 1))
    hi = int(rng.integers(max(lo, -(-n // k)), n + 1))
    if kind == 0:
        cost = rng.random((n, k))
    elif kind == 1:
        cost = rng.integers(0, 4, (n, k)).astype(np.float64)  # many ties
    else:
        cost = naive.sq_distances(rng.normal(size=(n, 2)), rng.normal(size=(k, 2)))
    return cost, lo, hi


# --------------------------------------------------------------------------- the step
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("serial", [True, False])
def test_assignment_step_equals_the_0_1_program(seed, serial, monkeypatch):
    """Random costs (some with many ties), random feasible limits, warm starts from random
    prices; small heaps and subsample levels on some, so that every path of the solver
    runs."""
    rng = np.random.default_rng(seed)
    for trial in range(12):
        cost, lo, hi = _random_problem(rng, trial % 3)
        k = cost.shape[1]
        prices = np.zeros(k + 1) if trial % 2 == 0 else rng.normal(size=k + 1)
        if trial % 4 == 1:
            prices[:k] = prices[k]  # at the slack node's price: slack arcs pre-filled
        monkeypatch.setattr(_constrained, "HEAP_CAP", 1 if trial % 3 == 0 else 32)
        monkeypatch.setattr(_constrained, "MIN_LEVEL_ROWS", 4 if trial % 4 == 0 else 1024)
        labels = _constrained.solve(cost, lo, hi, prices, serial)
        sizes = np.bincount(labels, minlength=k)
        assert sizes.min() >= lo and sizes.max() <= hi
        want = _total(cost, naive.constrained_assignment(cost, lo, hi))
        assert _total(cost, labels) == pytest.approx(want, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_assignment_step_equals_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    for _ in range(10):
        n, k = int(rng.integers(1, 8)), int(rng.integers(1, 4))
        lo = int(rng.integers(0, n // k + 1))
        hi = int(rng.integers(max(lo, -(-n // k)), n + 1))
        cost = rng.integers(0, 6, (n, k)).astype(np.float64)
        labels = _constrained.solve(cost, lo, hi, np.zeros(k + 1), True)
        assert _total(cost, labels) == naive.brute_force_assignment(cost, lo, hi)


def test_balanced_step_on_a_larger_problem(monkeypatch):
    """A few thousand points and 16 clusters, balanced: the subsample levels and the
    parallel arc fill are on, and the result is still the program's optimum."""
    monkeypatch.setattr(_constrained, "MIN_LEVEL_ROWS", 64)
    rng = np.random.default_rng(7)
    X, _ = fk.datasets.make_blobs(1600, 3, 5, cluster_std=2.0, seed=7)
    C = X[rng.choice(1600, 16, replace=False)]
    cost = naive.sq_distances(X, C)
    labels = _constrained.solve(cost, 100, 100, np.zeros(17), False)
    assert (np.bincount(labels, minlength=16) == 100).all()
    want = _total(cost, naive.constrained_assignment(cost, 100, 100))
    assert _total(cost, labels) == pytest.approx(want, rel=1e-9)


def test_scaled_limits_are_feasible_for_any_batch():
    """Limits feasible for k clusters on the training data stay feasible for any batch."""
    for lo, hi, n_fit, k in ((900, 1100, 20000, 20), (3, None, 100, 30), (None, 7, 50, 8),
                             (5, 5, 100, 20)):  # fmt: skip
        for m in (1, 7, 19, 20, 100, n_fit, 3 * n_fit + 1):
            a, b = _constrained.scaled_limits(lo, hi, n_fit, m)
            assert 0 <= a <= b <= m
            assert k * a <= m <= k * b
    assert _constrained.scaled_limits(900, 1100, 20000, 20000) == (900, 1100)
    assert _constrained.scaled_limits(900, 1100, 20000, 2000) == (90, 110)


# --------------------------------------------------------------------------- the fit
@pytest.fixture(scope="module")
def blobs():
    X, _ = fk.datasets.make_blobs(300, 2, 4, cluster_std=1.5, seed=11)
    return X


def test_fit_equals_a_plain_constrained_lloyd(blobs):
    init = blobs[[0, 1, 2, 3, 4]]
    params = fk.KMeansParams(5, init=init, size_min=50, size_max=70, tol=1e-6)
    model = params.fit(blobs)
    C, labels, inertia, n_iter, stop = naive.constrained_lloyd(blobs, init, 50, 70, 300, 1e-6)
    assert (model.n_iter, model.stop_reason) == (n_iter, stop)
    np.testing.assert_array_equal(model.labels, labels)
    np.testing.assert_allclose(model.centroids, C, rtol=1e-9)
    assert model.inertia == pytest.approx(inertia, rel=1e-9)
    assert model.inertia == pytest.approx(naive.inertia(blobs, model.centroids, model.labels))
    np.testing.assert_array_equal(model.sizes, np.bincount(labels, minlength=5))
    np.testing.assert_array_equal(model.cluster_weights, model.sizes.astype(float))


@given(
    seed=st.integers(0, 2**16),
    n=st.integers(8, 120),
    k=st.integers(1, 6),
    data=st.data(),
)
def test_sizes_always_within_the_limits_and_inertia_never_rises(seed, n, k, data):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * rng.choice([0.01, 1.0, 100.0])
    X[: n // 3] = X[0]  # duplicates: ties everywhere
    k = min(k, n)
    lo = data.draw(st.one_of(st.none(), st.integers(1, n // k)))
    hi = data.draw(st.one_of(st.none(), st.integers(max(lo or 1, -(-n // k)), n)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.ConvergenceWarning)  # duplicates, size_min None
        model = fk.KMeansParams(k, seed=seed, size_min=lo, size_max=hi).fit(X)
    sizes = model.sizes
    assert sizes.sum() == n
    assert lo is None or sizes.min() >= lo
    assert hi is None or sizes.max() <= hi
    h = model.history
    rises = np.diff(h.inertia) > 1e-9 * np.abs(h.inertia[1:]) + 1e-12
    assert not (rises & (h.n_reseeded[1:] == 0)).any()  # re-seeding aside (size_min None)
    assert model.inertia <= h.inertia[-1] * (1 + 1e-9) + 1e-12
    if lo is not None or hi is not None:  # the final labels: the optimal step for them
        cost = naive.sq_distances(X, model.centroids)
        best = _total(cost, naive.constrained_assignment(cost, lo or 0, hi or n))
        assert model.inertia == pytest.approx(best, rel=1e-9, abs=1e-9)


def test_limits_that_do_not_bind_give_the_unconstrained_fit(blobs):
    init = blobs[[0, 1, 2, 3]]
    free = fk.KMeansParams(4, init=init).fit(blobs)
    loose = fk.KMeansParams(4, init=init, size_min=1, size_max=300).fit(blobs)
    np.testing.assert_array_equal(loose.labels, free.labels)
    np.testing.assert_allclose(loose.centroids, free.centroids, rtol=1e-12)
    assert (loose.n_iter, loose.stop_reason) == (free.n_iter, free.stop_reason)


def test_without_limits_the_constrained_step_never_runs(blobs, monkeypatch):
    """``size_min=None, size_max=None`` is today's fit: the constrained pass is not even
    reached (it is bit for bit the code path of before; the branch was compared with the
    commit before it on Lloyd, Hamerly, Yinyang, cosine, k-means|| and float32)."""
    from fastkmeans import _assign

    def boom(*args, **kwargs):
        raise AssertionError("the constrained pass ran")

    monkeypatch.setattr(_assign, "assign_sizes", boom)
    for algorithm in ("lloyd", "hamerly", "yinyang"):
        a = fk.KMeansParams(4, seed=0, algorithm=algorithm).fit(blobs)
        b = fk.KMeansParams(4, seed=0, algorithm=algorithm, size_min=None, size_max=None)
        b = b.fit(blobs)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.centroids, b.centroids)
        assert a.inertia == b.inertia
    with pytest.raises(AssertionError, match="constrained pass"):
        fk.KMeansParams(4, seed=0, size_max=100).fit(blobs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_threads_and_runs(blobs, dtype):
    X = blobs.astype(dtype)
    params = fk.KMeansParams(4, seed=3, n_init=3, size_min=70, size_max=80)
    one = params.replace(n_threads=1).fit(X)
    two = params.replace(n_threads=2).fit(X)
    assert one.centroids.dtype == dtype
    np.testing.assert_array_equal(one.labels, two.labels)
    np.testing.assert_array_equal(one.centroids, two.centroids)
    assert one.sizes.min() >= 70 and one.sizes.max() <= 80
    runs = [params.replace(n_init=1, seed=s).fit(X).inertia for s in range(3)]
    assert one.inertia <= min(runs) * (1 + 1e-12) or np.isclose(one.inertia, min(runs))


def test_cosine_balanced(blobs):
    model = fk.KMeansParams(4, seed=0, metric="cosine", size_min=75, size_max=75).fit(blobs + 9)
    assert (model.sizes == 75).all()
    np.testing.assert_allclose(np.linalg.norm(model.centroids, axis=1), 1.0, rtol=1e-12)
    U = (blobs + 9) / np.linalg.norm(blobs + 9, axis=1, keepdims=True)
    assert model.inertia == pytest.approx(naive.inertia(U, model.centroids, model.labels))


def test_one_sided_limits(blobs):
    at_least = fk.KMeansParams(6, seed=1, size_min=45).fit(blobs)
    assert at_least.sizes.min() >= 45
    at_most = fk.KMeansParams(3, seed=1, size_max=101).fit(blobs)
    assert at_most.sizes.max() <= 101


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    "kwargs,kind",
    [
        (dict(size_min=0), KMeansParamsError),
        (dict(size_max=-3), KMeansParamsError),
        (dict(size_min=2.5), TypeError),
        (dict(size_max=True), TypeError),
        (dict(size_min="10"), TypeError),
        (dict(size_min=10, size_max=9), KMeansParamsError),
    ],
)
def test_bad_limits_raise_at_construction(kwargs, kind):
    with pytest.raises(kind) as info:
        fk.KMeansParams(3, **kwargs)
    assert info.value.field in kwargs
    assert isinstance(info.value, ValueError)


def test_bad_limits_for_the_data_raise_at_fit(blobs):
    with pytest.raises(ValueError, match=r"size_min=101 is infeasible.*size_min <= 100"):
        fk.KMeansParams(3, size_min=101).fit(blobs)
    with pytest.raises(ValueError, match=r"size_max=99 is infeasible.*size_max >= 100"):
        fk.KMeansParams(3, size_max=99).fit(blobs)
    fk.KMeansParams(3, size_min=100, size_max=100).fit(blobs)  # exactly feasible


def test_weights_and_other_kinds_of_data_are_refused(blobs, tmp_path, monkeypatch):
    params = fk.KMeansParams(3, seed=0, size_max=120)
    with pytest.raises(ValueError, match="sample_weight"):
        params.fit(blobs, sample_weight=np.ones(len(blobs)))
    path = tmp_path / "X.npy"
    np.save(path, blobs)
    monkeypatch.setenv("FASTKMEANS_MEMORY_BUDGET", "4K")
    with pytest.raises(ValueError, match=r"need a dense array in memory, got data read in blocks"):
        params.fit(np.load(path, mmap_mode="r"))
    import dask
    import dask.array as da

    with dask.config.set(scheduler="synchronous"), pytest.raises(ValueError, match="dask"):
        params.fit(da.from_array(blobs, chunks=100))
    import scipy.sparse as sp

    with pytest.raises(ValueError, match="got sparse data"):
        params.fit(sp.csr_matrix(blobs))


def test_bounded_algorithms_say_they_do_not_apply(blobs):
    with pytest.warns(UserWarning, match="algorithm='hamerly' does not apply"):
        fk.KMeansParams(3, seed=0, size_max=120, algorithm="hamerly").fit(blobs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fk.KMeansParams(3, seed=0, size_max=120, algorithm="auto").fit(blobs)


# --------------------------------------------------------------------------- the model
@pytest.fixture(scope="module")
def sized(blobs):
    return fk.KMeansParams(4, seed=5, size_min=70, size_max=80).fit(blobs)


def test_predict_is_the_nearest_centroid_unless_asked(sized, blobs):
    np.testing.assert_array_equal(sized.predict(blobs), naive.assign(blobs, sized.centroids))
    again = sized.predict(blobs, respect_sizes=True)
    sizes = np.bincount(again, minlength=4)
    assert sizes.min() >= 70 and sizes.max() <= 80
    cost = naive.sq_distances(blobs, sized.centroids)
    assert _total(cost, again) == pytest.approx(sized.inertia, rel=1e-9)


def test_predict_respects_limits_scaled_to_the_batch(sized, blobs):
    batch = blobs[::3]  # 100 rows of a fit on 300: limits 23..27
    labels = sized.predict(batch, respect_sizes=True)
    sizes = np.bincount(labels, minlength=4)
    assert sizes.min() >= 23 and sizes.max() <= 27
    cost = naive.sq_distances(batch, sized.centroids)
    want = _total(cost, naive.constrained_assignment(cost, 23, 27))
    assert _total(cost, labels) == pytest.approx(want, rel=1e-9)
    assert sized.predict(blobs[:3], respect_sizes=True).shape == (3,)  # limits 0..1


def test_predict_respect_sizes_needs_a_sized_model(blobs):
    model = fk.KMeansParams(3, seed=0).fit(blobs)
    with pytest.raises(ValueError, match="respect_sizes=True needs a model fitted with"):
        model.predict(blobs, respect_sizes=True)
    np.testing.assert_array_equal(model.sizes, np.bincount(model.labels, minlength=3))


def test_save_load_round_trip_and_refusal(sized, tmp_path):
    path = tmp_path / "m.npz"
    sized.save(path)
    back = fk.KMeansModel.load(path)
    assert back.params == sized.params and back.params.size_min == 70
    np.testing.assert_array_equal(back.labels, sized.labels)
    np.testing.assert_array_equal(back.sizes, sized.sizes)
    with np.load(path) as z:
        arrays = dict(z)
    labels = arrays["labels"].copy()
    labels[labels == 1] = 0  # cluster 0 now holds about 150 samples
    arrays["labels"] = labels
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"cluster sizes .* outside the params"):
        fk.KMeansModel.load(path)


def test_optimal_and_size_limits_do_not_combine():
    with pytest.raises(fk.KMeansParamsError, match="does not take size_min"):
        fk.KMeansParams(3, algorithm="optimal", size_max=10)

