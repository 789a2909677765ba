"""Sparse (CSR) input: the same fit as on the dense array, scikit-learn's sparse KMeans
from the same start, thread-count invariance, bad input, and no dense n x d array."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import fastkmeans as fk
from fastkmeans import _csr


def sparse_data(n, d, density, seed, dtype=np.float64, full_rows=False):
    """A random CSR matrix with Gaussian values (no exact ties between distances)."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, random_state=rng, format="csr", dtype=np.float64)
    X.data = rng.normal(size=X.nnz) + 2.0
    if full_rows:  # one stored value in every row
        X = (X + sp.csr_matrix((np.ones(n), (np.arange(n), rng.integers(0, d, n))), (n, d)))
    return X.tocsr().astype(dtype)


def dense_init(k, d, seed, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=(k, d)).astype(dtype) + 1.0


def assert_same_fit(a, b, dtype=np.float64, X=None):
    """The same fit; for float32 with ``X`` given, rows may differ only where two centers
    are equally near to float32 rounding (the two sides compute distances differently), and
    such a tie may change the iteration count."""
    tol = 1e-4 if dtype == np.float32 else 1e-9
    if X is not None and dtype == np.float32:
        D = b.transform(X) ** 2
        rows = np.flatnonzero(a.labels != b.labels)
        gap = D[rows, a.labels[rows]] - D[rows, b.labels[rows]]
        assert np.all(np.abs(gap) <= 1e-5 * (1.0 + D[rows].max(axis=1))), "not a tie"
    else:
        np.testing.assert_array_equal(a.labels, b.labels)
        assert a.n_iter == b.n_iter and a.stop_reason == b.stop_reason
    np.testing.assert_allclose(a.centroids, b.centroids, rtol=tol, atol=tol)
    assert a.inertia == pytest.approx(b.inertia, rel=tol)
    assert a.centroids.dtype == b.centroids.dtype == dtype


@pytest.fixture(scope="module")
def X():
    return sparse_data(1500, 60, 0.1, seed=0, full_rows=True)


# --------------------------------------------------------------------------- equivalence
@given(
    density=st.sampled_from([0.02, 0.1, 0.4]),
    k=st.integers(1, 6),
    dtype=st.sampled_from([np.float64, np.float32]),
    weighted=st.booleans(),
    cosine=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_same_fit_as_dense_from_the_same_init(density, k, dtype, weighted, cosine, seed):
    X = sparse_data(300, 25, density, seed, dtype, full_rows=True)
    w = np.random.default_rng(seed).uniform(0.5, 2.0, 300) if weighted else None
    params = fk.KMeansParams(k, init=dense_init(k, 25, seed, dtype),
                             metric="cosine" if cosine else "euclidean")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.ConvergenceWarning)
        assert_same_fit(params.fit(X, w), params.fit(X.toarray(), w), dtype, X.toarray())


@pytest.mark.parametrize("init", ["k-means++", "random", "k-means||"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_seeding_picks_the_dense_rows(X, init, dtype):
    Xs = X.astype(dtype)
    params = fk.KMeansParams(5, init=init, seed=7, n_init=2)
    assert_same_fit(params.fit(Xs), params.fit(Xs.toarray()), dtype)


def test_empty_clusters_reseeded_as_dense(X):
    init = np.vstack([X[:3].toarray(), np.full((2, X.shape[1]), 100.0)])  # two far centers
    params = fk.KMeansParams(5, init=init, tol=0)
    sparse, dense = params.fit(X), params.fit(X.toarray())
    assert_same_fit(sparse, dense)
    assert sparse.history.n_reseeded[0] == 2


def test_empty_rows_are_the_zero_vector():
    X = sparse_data(400, 30, 0.05, seed=1)  # some rows hold nothing
    assert (X.getnnz(axis=1) == 0).any()
    params = fk.KMeansParams(3, init=dense_init(3, 30, 1))
    assert_same_fit(params.fit(X), params.fit(X.toarray()))


def test_predict_transform_score_match_dense(X):
    model = fk.KMeansParams(4, seed=0).fit(X)
    new = sparse_data(200, 60, 0.1, seed=9)
    np.testing.assert_array_equal(model.predict(new), model.predict(new.toarray()))
    np.testing.assert_allclose(model.transform(new), model.transform(new.toarray()), rtol=1e-10)
    assert model.score(new) == pytest.approx(model.score(new.toarray()), rel=1e-12)
    with pytest.raises(ValueError, match="60 features"):
        model.predict(sp.csr_matrix((3, 7)))


def test_minibatch_and_partial_fit_match_dense(X):
    params = fk.MiniBatchKMeansParams(4, batch_size=128, seed=2)
    assert_same_fit(params.fit(X), params.fit(X.toarray()))
    model = params.fit(X[:500])
    a, b = model.partial_fit(X[500:700]), model.partial_fit(X[500:700].toarray())
    np.testing.assert_allclose(a.centroids, b.centroids, rtol=1e-12)
    np.testing.assert_array_equal(a.labels, b.labels)


def test_thread_count_does_not_change_the_result():
    X = sparse_data(9000, 120, 0.03, seed=3, full_rows=True)  # four reduction chunks
    fits = [fk.KMeansParams(6, seed=1, n_threads=t).fit(X) for t in (1, 2)]
    np.testing.assert_array_equal(fits[0].centroids, fits[1].centroids)
    np.testing.assert_array_equal(fits[0].labels, fits[1].labels)
    assert fits[0].inertia == fits[1].inertia


@pytest.mark.parametrize("fmt", ["csc", "coo", "csr_array", "lil"])
def test_other_formats_are_converted_once(X, fmt):
    Y = sp.csr_array(X) if fmt == "csr_array" else X.asformat(fmt)
    params = fk.KMeansParams(3, init=dense_init(3, 60, 2))
    assert_same_fit(params.fit(Y), params.fit(X))


@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_integer_values_and_either_index_width(index):
    X = sp.random(300, 20, density=0.2, random_state=4, format="csr")
    Xi = sp.csr_matrix(((X.data * 10).astype(np.int64), X.indices.astype(index),
                        X.indptr.astype(index)), X.shape)  # fmt: skip
    model = fk.KMeansParams(3, init=dense_init(3, 20, 3)).fit(Xi)
    assert model.centroids.dtype == np.float64
    assert_same_fit(model, fk.KMeansParams(3, init=dense_init(3, 20, 3)).fit(Xi.toarray()))


# --------------------------------------------------------------------------- scikit-learn
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_parity_with_sklearn_sparse_kmeans(X, dtype):
    skc = pytest.importorskip("sklearn.cluster")
    Xs = X.astype(dtype)
    init = dense_init(5, 60, 5, dtype)
    ours = fk.KMeansParams(5, init=init, tol=1e-6).fit(Xs)
    ref = skc.KMeans(5, init=init, n_init=1, tol=1e-6).fit(Xs)
    np.testing.assert_array_equal(ours.labels, ref.labels_)
    assert ours.n_iter == ref.n_iter_
    tol = 1e-4 if dtype == np.float32 else 1e-8
    np.testing.assert_allclose(ours.centroids, ref.cluster_centers_, rtol=tol, atol=tol)
    assert ours.inertia == pytest.approx(ref.inertia_, rel=tol)


# --------------------------------------------------------------------------- bad input
def test_nan_and_infinity_named_with_row_and_column(X):
    for value, what in ((np.nan, "NaN"), (np.inf, "infinity")):
        Y = X.copy()
        Y.data[Y.indptr[7] + 1] = value
        col = Y.indices[Y.indptr[7] + 1]
        with pytest.raises(ValueError, match=rf"contains {what} \(first at row 7, column {col}\)"):
            fk.KMeansParams(2).fit(Y)


def test_cosine_refuses_an_empty_row_as_a_zero_dense_row():
    X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]))
    with pytest.raises(ValueError, match="row 1 of X is all zeros"):
        fk.KMeansParams(2, metric="cosine").fit(X)
    fk.KMeansParams(2).fit(X)  # euclidean: the zero vector


def test_shapes_and_dtypes_refused_clearly():
    with pytest.raises(ValueError, match="0 samples"):
        fk.KMeansParams(1).fit(sp.csr_matrix((0, 4)))
    with pytest.raises(ValueError, match="0 features"):
        fk.KMeansParams(1).fit(sp.csr_matrix((4, 0)))
    with pytest.raises(ValueError, match="real numbers"):
        fk.KMeansParams(1).fit(sp.csr_matrix(np.ones((3, 2), dtype=complex)))
    with pytest.raises(ValueError, match="2-D"):
        fk.KMeansParams(1).fit(sp.coo_array(np.ones(5)))
    with pytest.raises(ValueError, match="n_samples=3 should be >= n_clusters=4"):
        fk.KMeansParams(4).fit(sp.csr_matrix(np.eye(3)))


def test_unsorted_and_duplicate_indices_as_scipy_defines_them():
    data = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    indices = np.array([2, 0, 2, 1, 0, 1], dtype=np.int32)  # row 0: unsorted, 2 twice
    indptr = np.array([0, 3, 4, 6], dtype=np.int32)
    X = sp.csr_matrix((data, indices, indptr), shape=(3, 3))
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    rows = _csr.as_csr(X)
    np.testing.assert_array_equal(rows.toarray(), X.toarray())  # 1 + 3 at column 2
    assert X.toarray()[0, 2] == 4.0
    model = fk.KMeansParams(2, init=np.array([[0.0, 0, 4], [5, 6, 0]])).fit(X)
    np.testing.assert_array_equal(model.labels, [0, 1, 1])
    for a, b in zip(before, (X.data, X.indices, X.indptr)):
        np.testing.assert_array_equal(a, b)  # the caller's matrix is untouched


def test_callers_matrix_is_not_modified_by_cosine(X):
    data = X.data.copy()
    fk.KMeansParams(3, metric="cosine", seed=0).fit(X)
    np.testing.assert_array_equal(X.data, data)


def test_dask_array_of_sparse_blocks_is_refused():
    da = pytest.importorskip("dask.array")
    X = sp.random(100, 5, density=0.3, format="csr", random_state=0)
    with pytest.raises(TypeError, match="Dask array of scipy sparse blocks"):
        fk.KMeansParams(2).fit(da.from_array(X, chunks=(50, 5), asarray=False))


def test_bounded_algorithms_say_lloyd_runs(X):
    init = dense_init(4, 60, 6)
    with pytest.warns(UserWarning, match="no sparse kernel"):
        model = fk.KMeansParams(4, init=init, algorithm="hamerly").fit(X)
    assert_same_fit(model, fk.KMeansParams(4, init=init).fit(X))


# --------------------------------------------------------------------------- memory
def test_memmapped_csr_is_read_in_place(X, tmp_path):
    arrays = {}
    for name in ("data", "indices", "indptr"):
        a = getattr(X, name)
        m = np.lib.format.open_memmap(tmp_path / f"{name}.npy", "w+", a.dtype, a.shape)
        m[:] = a
        m.flush()
        arrays[name] = np.load(tmp_path / f"{name}.npy", mmap_mode="r+")
    Y = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), X.shape)
    rows = _csr.as_csr(Y)
    assert np.shares_memory(rows.data, arrays["data"])  # no copy
    params = fk.KMeansParams(3, init=dense_init(3, 60, 7))
    assert_same_fit(params.fit(Y), params.fit(X))


def test_no_dense_n_by_d_array_is_made():
    n, d = 100_000, 20_000  # 16 GB as a dense float64 array
    rng = np.random.default_rng(0)
    nnz = 300_000
    X = sp.csr_matrix((rng.random(nnz) + 0.5, (rng.integers(0, n, nnz), rng.integers(0, d, nnz))),
                      shape=(n, d))  # fmt: skip
    fk.KMeansParams(4, seed=0, max_iter=3).fit(X[:2000])  # compile outside the measurement
    fk.MiniBatchKMeansParams(4, seed=0, max_iter=1).fit(X[:5000])
    for params in (fk.KMeansParams(4, seed=0, max_iter=3),
                   fk.MiniBatchKMeansParams(4, seed=0, max_iter=2)):  # fmt: skip
        tracemalloc.start()
        model = params.fit(X)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert model.centroids.shape == (4, d)
        # The CSR arrays (3.6 MB), per-row state and a few (k, d) arrays: far below n x d.
        assert peak < 40e6, f"{type(params).__name__}: peak {peak / 1e6:.0f} MB"


def test_optimal_on_a_sparse_column_is_the_dense_optimum():
    X = sp.random(500, 1, density=0.5, format="csr", random_state=0)
    a = fk.KMeansParams(4, algorithm="optimal").fit(X)
    b = fk.KMeansParams(4, algorithm="optimal").fit(X.toarray())
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    assert a.inertia == pytest.approx(b.inertia, rel=1e-12) and a.stop_reason == "optimal"
