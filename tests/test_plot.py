"""fastkmeans.plot: figure contents, shape errors, the silhouette kernel against NumPy."""

from __future__ import annotations

import subprocess
import sys

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastkmeans as fk
from fastkmeans.kernels.silhouette import SILHOUETTE_BLOCK_ROWS


def naive_silhouette(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The textbook silhouette from the full n x n distance matrix (float64)."""
    X = np.asarray(X, dtype=np.float64)
    D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    out = np.zeros(len(X))
    for i in range(len(X)):
        same = labels == labels[i]
        if same.sum() == 1:
            continue
        a = D[i, same].sum() / (same.sum() - 1)
        b = min(D[i, labels == m].mean() for m in np.unique(labels) if m != labels[i])
        out[i] = (b - a) / max(a, b)
    return out


@pytest.fixture(scope="module")
def tutorial_model(tutorial_data: np.ndarray) -> fk.KMeansModel:
    return fk.KMeansParams(3, seed=42, max_iter=200, tol=1e-5).fit(tutorial_data)


# --------------------------------------------------------------------------- silhouette
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_silhouette_kernel_matches_naive(dtype: type) -> None:
    rng = np.random.default_rng(1)
    # More rows than one block, a singleton cluster and labels that are not 0..k-1.
    n = 2 * SILHOUETTE_BLOCK_ROWS + 17
    X = rng.normal(size=(n, 3)).astype(dtype)
    labels = rng.choice([2, 5, 9], size=n)
    labels[7] = 40
    got = fk.plot.silhouette_samples(X, labels)
    want = naive_silhouette(X, labels)
    assert got[7] == 0.0
    np.testing.assert_allclose(got, want, rtol=1e-4 if dtype == np.float32 else 1e-6, atol=1e-7)


def test_silhouette_matches_scikit_learn(tutorial_data, tutorial_model) -> None:
    from sklearn.metrics import silhouette_samples

    want = silhouette_samples(tutorial_data.astype(np.float64), tutorial_model.labels)
    got = fk.plot.silhouette_samples(tutorial_data, tutorial_model.labels)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_silhouette_same_for_any_thread_count(blobs64) -> None:
    labels = fk.KMeansParams(6, seed=0).fit(blobs64).labels
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fk.plot.silhouette_samples(blobs64[:700], labels[:700])
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = fk.plot.silhouette_samples(blobs64[:700], labels[:700])
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one, many)


@given(
    st.integers(2, 40).flatmap(
        lambda n: st.tuples(
            st.lists(st.floats(-100, 100), min_size=2 * n, max_size=2 * n),
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
        )
    )
)
def test_silhouette_property_bounded_and_naive(data) -> None:
    coords, labels = data
    labels = np.array(labels)
    if np.unique(labels).shape[0] < 2:
        with pytest.raises(ValueError, match="2 distinct labels"):
            fk.plot.silhouette_samples(np.reshape(coords, (-1, 2)), labels)
        return
    X = np.reshape(coords, (-1, 2))
    got = fk.plot.silhouette_samples(X, labels)
    assert np.all(got >= -1.0) and np.all(got <= 1.0)
    np.testing.assert_allclose(got, naive_silhouette(X, labels), rtol=1e-6, atol=1e-9)


def test_silhouette_figure_samples_large_data() -> None:
    X, y = fk.datasets.make_blobs(3000, 2, 3, cluster_std=0.5, seed=2)
    fig = fk.plot.silhouette(X, y, sample_size=500, seed=1)
    assert fig.layout.meta["n"] == 500
    assert "sample of 500 of 3,000" in fig.layout.title.text
    assert len(fig.data) == 3
    assert 0.5 < fig.layout.meta["mean"] <= 1.0  # well separated blobs
    # The profile draws every sampled point exactly once.
    assert sum(len(t.x) - 2 for t in fig.data) == 500


def test_silhouette_errors() -> None:
    with pytest.raises(ValueError, match="2 distinct labels"):
        fk.plot.silhouette(np.zeros((5, 2)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="do not fit"):
        fk.plot.silhouette(np.zeros((5, 2)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="NaN"):
        fk.plot.silhouette_samples([[0.0, np.nan], [1.0, 1.0]], [0, 1])


# --------------------------------------------------------------------------- clusters
def test_clusters_2d_one_trace_per_cluster(tutorial_data, tutorial_model) -> None:
    fig = fk.plot.clusters(tutorial_data, tutorial_model.labels, tutorial_model.centroids, "t")
    assert [t.type for t in fig.data] == ["scattergl"] * 4
    assert [t.name for t in fig.data] == ["cluster 0", "cluster 1", "cluster 2", "centroids"]
    assert [t.marker.color for t in fig.data[:3]] == list(fk.plot.PALETTE[:3])
    assert fig.layout.title.text == "t"
    # Hover data: the row index points back at the same coordinates in X.
    for trace in fig.data[:3]:
        rows = np.asarray(trace.customdata)[:, 0].astype(int)
        np.testing.assert_allclose(np.asarray(trace.x), tutorial_data[rows, 0])
        assert "row %{customdata[0]}" in trace.hovertemplate
        assert "cluster %{customdata[1]}" in trace.hovertemplate
    assert sum(len(t.x) for t in fig.data[:3]) == len(tutorial_data)
    np.testing.assert_allclose(np.asarray(fig.data[3].x), tutorial_model.centroids[:, 0])


def test_clusters_3d_and_pca() -> None:
    X3, y3 = fk.datasets.make_blobs(300, 3, 3, seed=0)
    fig = fk.plot.clusters(X3, y3)
    assert {t.type for t in fig.data} == {"scatter3d"}
    assert fig.layout.scene.zaxis.title.text == "x2"
    X8, y8 = fk.datasets.make_blobs(300, 8, 4, seed=0)
    C = np.array([X8[y8 == j].mean(axis=0) for j in range(4)])
    fig = fk.plot.clusters(X8, y8, C)
    assert [t.type for t in fig.data] == ["scattergl"] * 5
    assert fig.layout.xaxis.title.text.startswith("PC1 (")
    assert "% of variance" in fig.layout.yaxis.title.text
    # Centroids are projected with the points: each sits at its cluster's projected mean.
    for j in range(4):
        pts = np.column_stack([fig.data[j].x, fig.data[j].y])
        np.testing.assert_allclose(pts.mean(axis=0), [fig.data[4].x[j], fig.data[4].y[j]])


def test_clusters_downsampling_keeps_every_cluster() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 2))
    labels = np.zeros(20_000, dtype=int)
    labels[:4] = 1  # a tiny cluster
    fig = fk.plot.clusters(X, labels, max_points=1000)
    shown = sum(len(t.x) for t in fig.data)
    assert 1000 <= shown <= 1500
    assert len(fig.data[1].x) == 4
    assert "showing" in fig.layout.annotations[0].text
    assert len(fk.plot.clusters(X, labels, max_points=None).data[0].x) == 19_996


@pytest.mark.parametrize(
    ("X", "labels", "centroids", "match"),
    [
        (np.zeros(5), np.zeros(5, int), None, "2-D"),
        (np.zeros((5, 1)), np.zeros(5, int), None, "2 columns"),
        (np.zeros((0, 2)), np.zeros(0, int), None, "at least 1 row"),
        (np.zeros((5, 2)), np.zeros(4, int), None, "labels must have shape"),
        (np.zeros((5, 2)), np.zeros(5), None, "integers"),
        (np.zeros((5, 2)), np.zeros(5, int), np.zeros((2, 3)), "centroids must have shape"),
    ],
)
def test_clusters_shape_errors(X, labels, centroids, match) -> None:
    with pytest.raises(ValueError, match=match):
        fk.plot.clusters(X, labels, centroids)


# --------------------------------------------------------------------------- clusters, sparse
def _topics(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Dense (500, 300) rows of three topics of unequal size (300, 150, 50 rows): each row a
    random multiple of its topic's profile over 100 terms, plus weak sparse noise: the top
    three singular values stand far above the rest, so the randomized SVD is exact up to
    rounding (on text, whose spectrum decays slowly, it is within about 1e-3)."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(3), [300, 150, 50])
    D = np.where(rng.random((500, 300)) < 0.02, 0.05 * rng.random((500, 300)), 0.0)
    for g in range(3):
        profile = np.where(rng.random(100) < 0.2, rng.random(100), 0.0)
        rows = truth == g
        D[rows, 100 * g : 100 * (g + 1)] += rng.uniform(0.5, 1.5, (rows.sum(), 1)) * profile
    return D, truth


def _xy(trace) -> np.ndarray:
    return np.column_stack([np.asarray(trace.x, float), np.asarray(trace.y, float)])


def _drawn(fig, n: int) -> np.ndarray:
    """The (n, 2) coordinates the figure draws for each row of X (from the hover's row index)."""
    out = np.full((n, 2), np.nan)
    for trace in fig.data:
        if trace.name != "centroids":
            out[np.asarray(trace.customdata)[:, 0].astype(int)] = _xy(trace)
    return out


def _same_up_to_sign(got: np.ndarray, want: np.ndarray, atol: float) -> None:
    for j in range(want.shape[1]):
        sign = 1.0 if got[:, j] @ want[:, j] >= 0 else -1.0
        np.testing.assert_allclose(got[:, j], sign * want[:, j], atol=atol)


def test_clusters_sparse_is_a_truncated_svd() -> None:
    scipy_sparse = pytest.importorskip("scipy.sparse")
    D, truth = _topics()
    X = scipy_sparse.csr_matrix(D)
    C = np.array([D[truth == j].mean(axis=0) for j in range(3)])
    fig = fk.plot.clusters(X, truth, C)
    assert [t.type for t in fig.data] == ["scattergl"] * 4
    _, s, vt = np.linalg.svd(D, full_matrices=False)  # not centered: the sparse projection
    want = D @ vt[:2].T
    got = _drawn(fig, D.shape[0])
    _same_up_to_sign(got, want, atol=1e-6 * np.abs(want).max())
    share = s[:2] ** 2 / (s**2).sum()
    for axis, r, i in zip((fig.layout.xaxis, fig.layout.yaxis), share, (1, 2)):
        assert axis.title.text == f"SVD {i} ({100 * r:.1f}% of the squared norm)"
    # Centroids with the same directions: each at its cluster's projected mean.
    for j in range(3):
        np.testing.assert_allclose(_xy(fig.data[j]).mean(axis=0), _xy(fig.data[3])[j])
    # Hover: row, projected coordinates and cluster, no raw feature values.
    hover = fig.data[0].hovertemplate
    assert "row %{customdata[0]}" in hover and "cluster %{customdata[1]}" in hover
    assert "SVD 1 (" in hover and "SVD 2 (" in hover


def test_clusters_sparse_exact_when_the_range_finder_spans_every_column() -> None:
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X = scipy_sparse.random(200, 9, density=0.3, format="csr", random_state=3)
    fig = fk.plot.clusters(X, np.arange(200) % 4)
    D = X.toarray()
    want = D @ np.linalg.svd(D, full_matrices=False)[2][:2].T
    _same_up_to_sign(_drawn(fig, 200), want, atol=1e-10)


def test_clusters_sparse_every_format_dtype_and_the_callers_matrix_untouched() -> None:
    scipy_sparse = pytest.importorskip("scipy.sparse")
    D, truth = _topics(seed=1)
    base = fk.plot.clusters(scipy_sparse.csr_matrix(D), truth)
    want = _drawn(base, D.shape[0])
    # A CSR matrix with unsorted indices and every entry stored as two halves: scipy sums them.
    coo = scipy_sparse.coo_matrix(D)
    r, c, v = np.r_[coo.row, coo.row], np.r_[coo.col, coo.col], np.r_[coo.data, coo.data] / 2
    perm = np.random.default_rng(0).permutation(r.shape[0])
    order = perm[np.argsort(r[perm], kind="stable")]
    indptr = np.r_[0, np.cumsum(np.bincount(r, minlength=D.shape[0]))]
    messy = scipy_sparse.csr_matrix((v[order], c[order], indptr), shape=D.shape)
    before = (messy.data.copy(), messy.indices.copy(), messy.indptr.copy())
    variants = [
        scipy_sparse.csr_array(D),
        scipy_sparse.csc_matrix(D),
        scipy_sparse.coo_array(D),
        scipy_sparse.csr_matrix(D.astype(np.float32)),
    ]
    for X in variants:
        rtol = 1e-5 if X.dtype == np.float32 else 1e-9
        np.testing.assert_allclose(_drawn(fk.plot.clusters(X, truth), 500), want, rtol=rtol,
                                   atol=rtol * np.abs(want).max())  # fmt: skip
    assert not messy.has_canonical_format
    np.testing.assert_allclose(_drawn(fk.plot.clusters(messy, truth), 500), want, atol=1e-9)
    for a, b in zip(before, (messy.data, messy.indices, messy.indptr)):
        assert np.array_equal(a, b)


def test_clusters_sparse_same_picture_every_call_and_from_a_model() -> None:
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X = scipy_sparse.random(400, 1000, density=0.02, format="csr", random_state=0)
    model = fk.KMeansParams(4, metric="cosine", seed=0).fit(X)
    one = fk.plot.clusters(X, model.labels, model.centroids, title="text")
    two = fk.plot.clusters(X, model.labels, model.centroids, title="text")
    assert one.to_json() == two.to_json()
    assert [t.name for t in one.data] == [f"cluster {j}" for j in range(4)] + ["centroids"]
    assert one.layout.title.text == "text"


def test_clusters_sparse_with_few_columns_is_drawn_as_dense(tutorial_data) -> None:
    scipy_sparse = pytest.importorskip("scipy.sparse")
    labels = np.arange(len(tutorial_data)) % 3
    for X in (tutorial_data, np.c_[tutorial_data, tutorial_data[:, 0]]):
        want = fk.plot.clusters(X, labels, X[:3]).to_json()
        assert fk.plot.clusters(scipy_sparse.csr_matrix(X), labels, X[:3]).to_json() == want


def test_clusters_sparse_huge_d_is_never_densified() -> None:
    import tracemalloc

    scipy_sparse = pytest.importorskip("scipy.sparse")
    n, d = 50_000, 200_000
    rng = np.random.default_rng(0)
    nnz = int(n * d * 1e-5)
    X = scipy_sparse.coo_matrix(
        (rng.random(nnz), (rng.integers(0, n, nnz), rng.integers(0, d, nnz))), shape=(n, d)
    )
    labels = rng.integers(0, 5, n)
    C = rng.random((5, d))
    tracemalloc.start()
    try:
        fig = fk.plot.clusters(X, labels, C)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    dense = n * d * 8  # 80 GB
    assert peak < dense / 500, f"peak {peak / 1e6:.0f} MB"
    assert len(fig.data) == 6 and sum(len(t.x) for t in fig.data[:5]) == n
    assert fig.layout.xaxis.title.text.startswith("SVD 1 (")
    assert np.isfinite(_xy(fig.data[5])).all()


@pytest.mark.parametrize(
    ("shape", "labels", "centroids", "match"),
    [
        ((5, 1), np.zeros(5, int), None, "2 columns"),
        ((0, 8), np.zeros(0, int), None, "at least 1 row"),
        ((5, 8), np.zeros(4, int), None, "labels must have shape"),
        ((5, 8), np.zeros(5), None, "integers"),
        ((5, 8), np.zeros(5, int), np.zeros((2, 7)), "centroids must have shape"),
    ],
)
def test_clusters_sparse_shape_errors(shape, labels, centroids, match) -> None:
    scipy_sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(ValueError, match=match):
        fk.plot.clusters(scipy_sparse.csr_matrix(shape), labels, centroids)


def test_clusters_sparse_refuses_nan() -> None:
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X = scipy_sparse.random(10, 8, density=0.5, format="csr", random_state=0)
    X.data[3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        fk.plot.clusters(X, np.zeros(10, int))


def test_elbow_takes_sparse_data() -> None:
    scipy_sparse = pytest.importorskip("scipy.sparse")
    D, _ = _topics()
    fig = fk.plot.elbow(scipy_sparse.csr_matrix(D), [1, 2, 3], seed=0, progress=False)
    want = [fk.KMeansParams(k, seed=0).fit(D).inertia for k in (1, 2, 3)]
    np.testing.assert_allclose(fig.layout.meta["inertia"], want, rtol=1e-6)


# --------------------------------------------------------------------------- convergence
def test_clusters_size_panel_with_limits(tutorial_data) -> None:
    model = fk.KMeansParams(3, seed=0, size_min=240, size_max=260).fit(tutorial_data)
    limits = (model.params.size_min, model.params.size_max)
    fig = fk.plot.clusters(tutorial_data, model.labels, model.centroids, size_limits=limits)
    assert [t.type for t in fig.data] == ["scattergl"] * 4 + ["bar"]
    bars = fig.data[-1]
    assert list(bars.x) == ["0", "1", "2"] and list(bars.y) == model.sizes.tolist()
    assert list(bars.marker.color) == list(fk.plot.PALETTE[:3])
    assert fig.layout.meta["sizes"] == model.sizes.tolist()
    lines = sorted(s.y0 for s in fig.layout.shapes)
    assert lines == [240, 260]
    assert {a.text for a in fig.layout.annotations} >= {"size_min = 240", "size_max = 260"}
    assert bars.xaxis == "x2" and fig.data[0].xaxis == "x"  # beside the scatter
    # Without limits a bar still counts every point, including clusters left empty.
    fig = fk.plot.clusters(tutorial_data[:10], np.zeros(10, int), model.centroids, sizes=True)
    assert list(fig.data[-1].y) == [10, 0, 0]
    assert not fig.layout.shapes


def test_clusters_size_panel_marks_sizes_out_of_limits_and_samples() -> None:
    X, y = fk.datasets.make_blobs(3000, 3, 3, seed=0)
    fig = fk.plot.clusters(X, y, size_limits=(None, 900), max_points=300)
    assert fig.data[0].type == "scatter3d" and fig.data[-1].type == "bar"
    assert sum(fig.data[-1].y) == 3000  # every point counted, not the sample drawn
    sizes = np.bincount(y)
    want = ["red" if s > 900 else "rgba(0,0,0,0)" for s in sizes]
    assert list(fig.data[-1].marker.line.color) == want
    assert [s.y0 for s in fig.layout.shapes] == [900]


@pytest.mark.parametrize("limits", [(1,), (1, 2, 3), ("a", 3), (1.5, None), 7])
def test_clusters_size_limits_errors(tutorial_data, tutorial_model, limits) -> None:
    with pytest.raises(ValueError, match="size_limits"):
        fk.plot.clusters(tutorial_data, tutorial_model.labels, size_limits=limits)


def test_convergence(tutorial_model) -> None:
    fig = fk.plot.convergence(tutorial_model)
    h = tutorial_model.history
    np.testing.assert_allclose(fig.data[0].y, h.inertia)
    assert list(fig.data[0].x) == list(range(1, tutorial_model.n_iter + 1))
    assert fig.layout.yaxis2.type == "log"
    assert f"{tutorial_model.n_iter} iterations" in fig.layout.title.text


def test_convergence_names_max_iter(tutorial_data) -> None:
    model = fk.KMeansParams(3, seed=0, max_iter=1, tol=0.0).fit(tutorial_data)
    fig = fk.plot.convergence(model)
    assert model.stop_reason == "max_iter"
    assert "max_iter = 1 without converging" in fig.layout.title.text
    with pytest.raises(TypeError, match="KMeansModel"):
        fk.plot.convergence("not a model")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- elbow
def test_elbow_finds_the_blobs(capsys) -> None:
    X, _ = fk.datasets.make_blobs(1200, 2, np.array([[0, 0], [20, 0], [0, 20], [20, 20.0]]),
                                  cluster_std=1.0, seed=0)  # fmt: skip
    fig = fk.plot.elbow(X, [8, 1, 2, 3, 4, 5, 6, 7], seed=0, n_init=2, progress=False)
    assert capsys.readouterr().err == ""
    meta = fig.layout.meta
    assert meta["ks"] == list(range(1, 9))
    assert meta["elbow"] == 4
    assert np.all(np.diff(meta["inertia"]) < 0)
    assert fig.data[1].name == "elbow" and list(fig.data[1].x) == [4]
    assert meta["inertia"][3] == pytest.approx(fk.KMeansParams(4, seed=0, n_init=2).fit(X).inertia)


def test_elbow_progress_bar_and_validation(tutorial_data, capsys) -> None:
    fk.plot.elbow(tutorial_data, range(1, 4), seed=0)
    assert "3/3" in capsys.readouterr().err
    with pytest.raises(fk.KMeansParamsError):
        fk.plot.elbow(tutorial_data, [2, 0], seed=0)
    with pytest.raises(fk.KMeansParamsError):
        fk.plot.elbow(tutorial_data, [2, 3], tol=-1.0)
    with pytest.raises(ValueError, match="at least one"):
        fk.plot.elbow(tutorial_data, [])
    assert fk.plot.elbow(tutorial_data, [2, 3], progress=False).layout.meta["elbow"] is None


def test_elbow_index_toy() -> None:
    from fastkmeans.plot import _elbow_index

    ks = np.arange(1.0, 7.0)
    assert _elbow_index(ks, np.array([100, 20, 15, 12, 10, 9.0])) == 1
    assert _elbow_index(ks, np.array([100, 80, 60, 40, 20, 0.0])) is None  # a straight line
    assert _elbow_index(ks[:2], np.array([100, 20.0])) is None


# --------------------------------------------------------------------------- regions
def test_decision_regions(tutorial_data, tutorial_model) -> None:
    fig = fk.plot.decision_regions(tutorial_model, tutorial_data, resolution=60)
    heat = fig.data[0]
    assert heat.type == "heatmap" and [t.type for t in fig.data[1:]] == ["scattergl"] * 4
    z = np.asarray(heat.z)
    assert z.shape == (60, 60)
    gx, gy = np.asarray(heat.x), np.asarray(heat.y)
    gxx, gyy = np.meshgrid(gx, gy)
    grid = np.column_stack([gxx.ravel(), gyy.ravel()])
    assert np.array_equal(z.ravel(), tutorial_model.predict(grid))
    assert set(np.unique(z).astype(int)) == {0, 1, 2}


def test_decision_regions_errors(blobs64) -> None:
    model = fk.KMeansParams(3, seed=0).fit(blobs64)
    with pytest.raises(ValueError, match="2-D data and a 2-feature model"):
        fk.plot.decision_regions(model, blobs64)


def test_decision_regions_cosine_skips_the_origin() -> None:
    X = np.array([[1.0, 0.1], [0.9, 0.0], [-1.0, 0.2], [-0.8, -0.1]])
    model = fk.KMeansParams(2, seed=0, metric="cosine").fit(X)
    fig = fk.plot.decision_regions(model, np.r_[X, -X], resolution=3)  # grid holds (0, 0)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.isnan(z[1, 1]) and np.isfinite(np.delete(z.ravel(), 4)).all()


# --------------------------------------------------------------------------- packaging
def test_figures_serialise(tutorial_data, tutorial_model) -> None:
    import plotly.io as pio

    for fig in (
        fk.plot.clusters(tutorial_data, tutorial_model.labels, tutorial_model.centroids),
        fk.plot.convergence(tutorial_model),
        fk.plot.silhouette(tutorial_data, tutorial_model.labels),
    ):
        assert pio.from_json(fig.to_json()).to_dict()["data"]


def test_import_fastkmeans_does_not_import_plotly() -> None:
    code = "import sys, fastkmeans; assert 'plotly' not in sys.modules; fastkmeans.plot; " \
           "assert 'plotly' in sys.modules"  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)


def test_docstring_examples_run() -> None:
    import doctest

    import fastkmeans.plot

    result = doctest.testmod(fastkmeans.plot, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10 and result.failed == 0


def test_silhouette_refuses_sparse_input_clearly():
    sp = pytest.importorskip("scipy.sparse")
    X = sp.random(50, 4, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match=r"dense X.*toarray\(\)"):
        fk.plot.silhouette(X, np.zeros(50, dtype=int))
