"""The first sparse run: NumPy and scipy stand-ins of the sparse kernels.

As for dense rows (``test_first_run.py``): the stand-ins walk the kernels' steps (same
draws, picks, labels and iterations, centroids to rounding), compile nothing, and a new
process with an empty cache fits, predicts and runs the scikit-learn adapter on sparse
rows without one compilation.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import fastkmeans as fk
from fastkmeans import _cold, _csr, _precompile
from tests.test_first_run import _both, compiles_in_fresh_process, same_predictions


def _text_like(n: int, d: int, k: int, dtype: type, seed: int = 0) -> sp.csr_matrix:
    """Rows of k topics: each row draws most of its few entries from its topic's columns."""
    rng = np.random.default_rng(seed)
    topic = rng.integers(k, size=n)
    per_row = 12
    own = rng.integers(0, d // k, size=(n, per_row)) + (topic * (d // k))[:, None]
    noise = rng.integers(0, d, size=(n, per_row // 3))
    cols = np.concatenate([own, noise], axis=1)
    rows = np.repeat(np.arange(n), cols.shape[1])
    vals = rng.uniform(0.5, 2.0, size=rows.shape[0])
    X = sp.csr_matrix((vals, (rows, cols.ravel())), shape=(n, d), dtype=dtype)
    X.sum_duplicates()
    return X


def _close(a: fk.KMeansModel, b: fk.KMeansModel, dtype: type) -> None:
    np.testing.assert_array_equal(a.labels, b.labels)
    assert (a.n_iter, a.stop_reason) == (b.n_iter, b.stop_reason)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(b.centroids, a.centroids, rtol=rtol, atol=rtol)
    assert b.inertia == pytest.approx(a.inertia, rel=1e-6 if dtype == np.float32 else 1e-9)
    assert b.centroids.dtype == a.centroids.dtype


# n, d, k: the serial kernels (nnz x k <= 200,000) and the parallel ones.
@pytest.mark.parametrize(("n", "d", "k"), [(400, 60, 3), (6_000, 400, 20)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("init", ["k-means++", "k-means||", "random"])
def test_sparse_stand_ins_walk_the_kernels_steps(monkeypatch, n, d, k, dtype, init):
    X = _text_like(n, d, k, dtype)
    w = np.random.default_rng(1).uniform(0.5, 2.0, n)
    params = fk.KMeansParams(k, seed=3, init=init, n_init=2)
    a, b = _both(monkeypatch, lambda: params.fit(X, sample_weight=w))
    _close(a, b, dtype)
    assert a.init_used == b.init_used


@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_sparse_stand_ins_mini_batch_partial_fit_and_cosine(monkeypatch, index):
    X = _text_like(5_000, 300, 10, np.float64, seed=2)
    X = sp.csr_matrix((X.data, X.indices.astype(index), X.indptr.astype(index)), shape=X.shape)
    params = fk.MiniBatchKMeansParams(10, seed=2, batch_size=512, max_iter=3)
    a, b = _both(monkeypatch, lambda: params.fit(X))
    _close(a, b, np.float64)
    np.testing.assert_allclose(b.cluster_weights, a.cluster_weights, rtol=1e-12)
    a2, b2 = _both(monkeypatch, lambda: params.fit(X[:512]).partial_fit(X[512:1024]))
    np.testing.assert_allclose(b2.centroids, a2.centroids, rtol=1e-10, atol=1e-10)
    cosine = fk.KMeansParams(10, seed=0, metric="cosine")
    a3, b3 = _both(monkeypatch, lambda: cosine.fit(X))
    _close(a3, b3, np.float64)


def test_sparse_stand_ins_predict_transform_score_and_reseed(monkeypatch):
    X = _text_like(3_000, 200, 8, np.float64)
    far = np.full((8, 200), 50.0)
    far[0] = 0.0  # all but one center end empty: re-seeded at the farthest rows
    a, b = _both(monkeypatch, lambda: fk.KMeansParams(8, init=far, max_iter=5).fit(X))
    _close(a, b, np.float64)
    same_predictions(monkeypatch, a, _text_like(500, 200, 8, np.float64, seed=5), 1e-9)


def test_sparse_stand_ins_match_the_kernels_one_by_one():
    """Each stand-in against its kernel on the same arguments: empty rows, a column no row
    uses, 64-bit indices, weights."""
    from fastkmeans import _standins_sparse as stand
    from fastkmeans.kernels import sparse as kernels

    X = _text_like(700, 90, 5, np.float64, seed=4).tolil()
    X[3] = 0  # an empty row
    X[:, 7] = 0  # an unused column
    x = _csr.as_csr(sp.csr_matrix(X))
    x = _csr.CSRRows(x.data, x.indices.astype(np.int64), x.indptr.astype(np.int64), 90)
    rng = np.random.default_rng(0)
    w = rng.uniform(0.5, 2.0, 700)
    C = rng.uniform(0, 1, (5, 90))
    labels = rng.integers(0, 5, 700)
    csq = _csr.center_sq(C)

    def twice(fn_k, fn_s, make):  # type: ignore[no-untyped-def]
        outs = [make(), make()]
        fn_k(*outs[0])
        fn_s(*outs[1])
        return outs

    a, b = twice(kernels.all_distances, stand.all_distances,
                 lambda: (x.data, x.indices, x.indptr, C, csq, np.empty((700, 5))))  # fmt: skip
    np.testing.assert_allclose(b[-1], a[-1], rtol=1e-10)
    a, b = twice(kernels.assigned_sq_distances, stand.assigned_sq_distances,
                 lambda: (x.data, x.indices, x.indptr, C, csq, labels, np.empty(700)))  # fmt: skip
    np.testing.assert_allclose(b[-1], a[-1], rtol=1e-10)
    a, b = twice(kernels.cluster_sums, stand.cluster_sums,
                 lambda: (x.data, x.indices, x.indptr, w, labels, np.empty((5, 90)),
                          np.empty(5)))  # fmt: skip
    np.testing.assert_allclose(b[-2], a[-2], rtol=1e-12)
    np.testing.assert_allclose(b[-1], a[-1], rtol=1e-12)
    a, b = twice(kernels.column_mean_var, stand.column_mean_var,
                 lambda: (x.data, x.indices, 700, np.empty(90), np.empty(90)))  # fmt: skip
    np.testing.assert_allclose(b[-2:], a[-2:], rtol=1e-12, atol=1e-15)
    a, b = twice(kernels.by_column, stand.by_column,
                 lambda: (x.indices, x.indptr, 90, np.empty(91, np.intp), np.empty(x.nnz, np.intp),
                          np.empty(x.nnz), x.data))  # fmt: skip
    for got, want in zip(b[3:6], a[3:6]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(x.sq, (x.toarray() ** 2).sum(axis=1), rtol=1e-14)


def test_sparse_rows_take_the_stand_ins_and_need_the_sparse_group(monkeypatch):
    monkeypatch.setenv("FASTKMEANS_FIRST_RUN", "numpy")
    x = _csr.as_csr(_text_like(100, 30, 3, np.float32))
    with _cold.first_run(x, True) as on:
        assert on and _cold.active()
    assert not _cold.active()
    with _cold.first_run(None, True) as on:  # size limits, blocks: their kernels compile
        assert not on
    assert _cold.needed(True, sparse=True) == [_cold.SPARSE]
    groups = dict(_precompile.GROUPS)  # what the background compile is asked to run
    assert all(g in groups for g in (_cold.SPARSE, _cold.SMALL, _cold.LARGE, _cold.MINIBATCH))


_FRESH = """
import numpy as np, scipy.sparse as sp
import fastkmeans as fk
from fastkmeans._compile import watch
from fastkmeans.sklearn import KMeans, MiniBatchKMeans
with watch() as w:
    for n, d, k, dtype, index in ((300, 40, 3, np.float32, np.int32),
                                  (8000, 500, 16, np.float64, np.int64)):
        X = sp.random(n, d, density=0.05, format="csr", dtype=dtype, random_state=0)
        X.data += 1.0
        X = sp.csr_matrix((X.data, X.indices.astype(index), X.indptr.astype(index)),
                          shape=X.shape)
        for init in ("k-means++", "k-means||", "random"):
            m = fk.KMeansParams(k, seed=0, init=init, n_init=2).fit(X)
        m.predict(X), m.transform(X), m.score(X)
        far = np.full((k, d), 50.0, dtype=dtype)
        far[0] = 0.0
        fk.KMeansParams(k, init=far, max_iter=3).fit(X)
        ones = sp.csr_matrix(np.ones((n, 1), dtype=dtype))  # no empty row for cosine
        fk.KMeansParams(k, seed=0, metric="cosine").fit(sp.hstack([X, ones], format="csr"))
"""


def test_sparse_stand_ins_compile_nothing_in_a_fresh_process(tmp_path):
    assert compiles_in_fresh_process(_FRESH, tmp_path) == 0
