"""The scikit-learn adapters: every estimator check, pipelines, grid search, clone, pickle,
scikit-learn's messages and warnings, and parity with scikit-learn's KMeans."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks

from fastkmeans.sklearn import KMeans, MiniBatchKMeans

# scikit-learn marks these as expected failures for its own KMeans and MiniBatchKMeans
# (sklearn/utils/_test_common/instance_generator.py, PER_ESTIMATOR_XFAIL_CHECKS): k-means
# with weights is not equivalent to repeating samples, because the random seeding sees a
# different number of rows. The same holds here, for the same reason.
_WEIGHT_XFAIL = {
    "check_sample_weight_equivalence_on_dense_data": (
        "sample_weight is not equivalent to removing/repeating samples."
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "sample_weight is not equivalent to removing/repeating samples."
    ),
}


def _expected_failed_checks(estimator):
    return _WEIGHT_XFAIL


@parametrize_with_checks(
    [
        KMeans(n_init=2, n_clusters=2, max_iter=5),
        MiniBatchKMeans(n_init=2, n_clusters=2, max_iter=5, batch_size=10),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check, monkeypatch):
    # scikit-learn skips its array-API check with NumPy inputs unless this is set; set it
    # for the check only, so that it runs instead of skipping.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


# --------------------------------------------------------------------------- behaviour
import pickle  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import sklearn.cluster as skc  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import fastkmeans as fk  # noqa: E402


@pytest.fixture(scope="module")
def X():
    X, _ = fk.datasets.make_blobs(1500, 4, 5, cluster_std=1.5, seed=21)
    return X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kmeans_parity_with_sklearn_from_the_same_init(X, dtype):
    Xd = X.astype(dtype)
    init = Xd[[0, 300, 600, 900, 1200]]
    ours = KMeans(5, init=init, n_init=1, tol=1e-6).fit(Xd)
    ref = skc.KMeans(5, init=init, n_init=1, tol=1e-6).fit(Xd)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-5, atol=1e-5)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-5)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.cluster_centers_.dtype == ref.cluster_centers_.dtype == dtype
    assert ours.labels_.dtype == ref.labels_.dtype
    np.testing.assert_allclose(ours.transform(Xd), ref.transform(Xd), rtol=1e-4, atol=1e-4)
    assert ours.transform(Xd).dtype == ref.transform(Xd).dtype
    assert ours.score(Xd) == pytest.approx(ref.score(Xd), rel=1e-5)


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_lloyd_runs_the_fastest_exact_algorithm_with_lloyds_result(algorithm):
    """scikit-learn's "lloyd" and "elkan" run what ``algorithm="auto"`` picks (Hamerly
    here, k = 64), and the result is still scikit-learn's Lloyd from the same init."""
    from fastkmeans._assign import resolve_algorithm

    X, _ = fk.datasets.make_blobs(3000, 4, 64, cluster_std=1.0, seed=5)
    init = X[:: 3000 // 64][:64]
    ours = KMeans(64, init=init, n_init=1, algorithm=algorithm)
    assert ours._algorithm() == "auto"
    assert resolve_algorithm("auto", *X.shape, 64) == "hamerly"
    assert ours.get_params()["algorithm"] == algorithm
    ours.fit(X)
    ref = skc.KMeans(64, init=init, n_init=1, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10)


def test_minibatch_quality_matches_sklearn(X):
    ours = MiniBatchKMeans(5, batch_size=100, random_state=0).fit(X)
    ref = skc.MiniBatchKMeans(5, batch_size=100, random_state=0).fit(X)
    assert ours.inertia_ <= 1.05 * ref.inertia_
    assert ours.n_steps_ >= 1 and ours.n_iter_ >= 1
    assert ours.labels_.shape == (len(X),)


def test_defaults_are_sklearns():
    for ours, ref in [(KMeans(), skc.KMeans()), (MiniBatchKMeans(), skc.MiniBatchKMeans())]:
        assert ours.get_params() == ref.get_params()


def test_pipeline_gridsearch_clone_pickle(X):
    pipe = make_pipeline(StandardScaler(), KMeans(3, random_state=0))
    pipe.fit(X)
    assert pipe.predict(X).shape == (len(X),)
    search = GridSearchCV(KMeans(random_state=0), {"n_clusters": [2, 5]}, cv=3).fit(X)
    assert search.best_params_ == {"n_clusters": 5}
    km = MiniBatchKMeans(5, random_state=0, batch_size=200).fit(X)
    twin = clone(km)
    assert not hasattr(twin, "cluster_centers_") and twin.get_params() == km.get_params()
    back = pickle.loads(pickle.dumps(km))
    np.testing.assert_array_equal(back.predict(X), km.predict(X))
    np.testing.assert_array_equal(back.cluster_centers_, km.cluster_centers_)


def test_same_random_state_same_result(X):
    a = KMeans(5, init="random", random_state=3).fit(X)
    b = KMeans(5, init="random", random_state=3).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    a = MiniBatchKMeans(5, random_state=3, batch_size=64).fit(X)
    b = MiniBatchKMeans(5, random_state=3, batch_size=64).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_sklearn_messages_and_warnings(X):
    with pytest.raises(ValueError, match=re.escape("n_samples=3 should be >= n_clusters=5.")):
        KMeans(5).fit(X[:3])
    dense = KMeans(2, random_state=0).fit(X)
    for matrix in (sp.csr_matrix, sp.bsr_matrix):  # converted to CSR, as scikit-learn does
        sparse = KMeans(2, random_state=0).fit(matrix(X))
        np.testing.assert_array_equal(dense.labels_, sparse.labels_)
    km = KMeans(5, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 2 features, but KMeans is expecting 4"):
        km.predict(X[:, :2])
    with pytest.raises(NotFittedError):
        KMeans().predict(X)
    with pytest.warns(RuntimeWarning, match="performing only one init in KMeans instead of"):
        KMeans(5, init=X[:5], n_init=3).fit(X)
    with pytest.warns(RuntimeWarning, match="only one init in MiniBatchKMeans instead of"):
        MiniBatchKMeans(5, init=X[:5], n_init=3).fit(X)
    with pytest.warns(SkConvergenceWarning, match=r"Number of distinct clusters \(2\)"):
        KMeans(3, random_state=0).fit(np.repeat([[0.0, 0.0], [1.0, 1.0]], 10, axis=0))
    with pytest.warns(RuntimeWarning, match="init_size=2 should be larger than n_clusters=5"):
        MiniBatchKMeans(5, init_size=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="n_clusters"):  # scikit-learn's parameter check
        KMeans(n_clusters=0).fit(X)


@pytest.mark.parametrize("Estimator", [KMeans, MiniBatchKMeans])
@pytest.mark.parametrize("tol", [1e-2, 0])
def test_verbose_wording(Estimator, tol, capsys):
    # the assertions of scikit-learn's own test_verbose; uniform data converges slowly,
    # so tol=1e-2 stops on the center shift and tol=0 on unchanged labels
    X = np.random.default_rng(0).random((300, 2))
    Estimator(n_clusters=5, random_state=42, verbose=1, tol=tol).fit(X)
    out = capsys.readouterr().out
    if Estimator is KMeans:
        assert re.search(r"Initialization complete", out)
        assert re.search(r"Iteration [0-9]+, inertia", out)
        if tol == 0:
            assert re.search(r"strict convergence", out)
        else:
            assert re.search(r"center shift .* within tolerance", out)
    else:
        assert re.search(r"Init 1/1 with method k-means\+\+", out)
        assert re.search(r"Minibatch step [0-9]+/[0-9]+: mean batch inertia", out)
        if tol == 0:
            assert re.search(r"Converged \(lack of improvement in inertia\)", out)
        else:
            assert re.search(r"Converged \(small centers change\)", out)


def test_partial_fit_stream(X):
    km = MiniBatchKMeans(5, random_state=0, batch_size=100)
    for batch in np.array_split(X, 15):
        km.partial_fit(batch)
        assert km.labels_.shape == (len(batch),)
    assert km.n_steps_ == 15
    ref = skc.MiniBatchKMeans(5, random_state=0, batch_size=100)
    for batch in np.array_split(X, 15):
        ref.partial_fit(batch)
    assert -km.score(X) <= 1.1 * -ref.score(X)
    # partial_fit after fit continues from the fitted centers
    km = MiniBatchKMeans(5, random_state=0, batch_size=100).fit(X)
    before, steps = km.cluster_centers_.copy(), km.n_steps_
    km.partial_fit(X[:50])
    assert km.n_steps_ == steps + 1 and not np.array_equal(before, km.cluster_centers_)


def test_feature_names(X):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    km = KMeans(3, random_state=0).fit(df)
    np.testing.assert_array_equal(km.feature_names_in_, ["a", "b", "c", "d"])
    np.testing.assert_array_equal(km.get_feature_names_out(), ["kmeans0", "kmeans1", "kmeans2"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        km.predict(df)


def test_import_fastkmeans_does_not_import_sklearn():
    code = "import sys, fastkmeans; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
