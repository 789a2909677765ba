"""Mini-batch k-means: params, the step kernel against NumPy, determinism, stopping rules,
reassignment, partial_fit (new model, old one unchanged), persistence."""

from __future__ import annotations

import numpy as np
import pytest

import fastkmeans as fk
from fastkmeans import _minibatch
from fastkmeans.errors import KMeansParamsError
from tests import naive


@pytest.fixture(scope="module")
def blobs():
    X, _ = fk.datasets.make_blobs(4000, 3, 5, cluster_std=0.6, seed=11)
    return X


# --------------------------------------------------------------------------- params
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("batch_size", 0),
        ("max_iter", 0),
        ("max_no_improvement", -1),
        ("init_size", 0),
        ("reassignment_ratio", -0.5),
        ("reassignment_ratio", float("nan")),
        ("init", "k-means||"),
        ("init", "nope"),
        ("compute_labels", "yes"),
        ("tol", -1.0),
        ("n_init", 0),
        ("metric", "manhattan"),
    ],
)
def test_invalid_params_name_the_field(field, value):
    with pytest.raises(KMeansParamsError) as err:
        fk.MiniBatchKMeansParams(3, **{field: value})
    assert err.value.field == field


def test_params_defaults_and_replace():
    p = fk.MiniBatchKMeansParams(4)
    assert (p.batch_size, p.max_iter, p.max_no_improvement, p.init_size) == (1024, 100, 10, None)
    assert p.replace(batch_size=10).batch_size == 10
    with pytest.raises(KMeansParamsError):
        p.replace(batch_size=-1)
    with pytest.raises(TypeError):
        fk.MiniBatchKMeansParams(4, 100)  # everything but n_clusters is keyword-only


# --------------------------------------------------------------------------- kernel
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("d", "k"), [(3, 4), (20, 9)])  # direct and GEMM-style distances
def test_step_kernel_matches_numpy(dtype, d, k):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(700, d)).astype(dtype)
    w = rng.random(700) + 0.1
    C = X[:k].copy()
    counts = rng.integers(0, 5, size=k).astype(np.float64)
    stepper = _minibatch.Stepper(700, k, d)
    assert stepper.gemm == (d >= 16)
    new = np.empty_like(C)
    got_counts = counts.copy()
    inertia, shift = stepper.step(X, w, C, got_counts, new)
    ref, ref_counts, ref_inertia, ref_labels = naive.minibatch_step(X, w, C, counts)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_array_equal(stepper.labels, ref_labels)
    np.testing.assert_allclose(new, ref, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(got_counts, ref_counts)
    assert inertia == pytest.approx(ref_inertia, rel=rtol)
    assert shift == pytest.approx(((new.astype(np.float64) - C) ** 2).sum(), rel=1e-6)


# --------------------------------------------------------------------------- fit
def test_fit_is_close_to_full_kmeans(blobs):
    full = fk.KMeansParams(5, seed=0).fit(blobs)
    mb = fk.MiniBatchKMeansParams(5, batch_size=256, seed=0).fit(blobs)
    assert mb.inertia <= 1.05 * full.inertia
    assert mb.labels.shape == (len(blobs),)
    assert mb.centroids.dtype == blobs.dtype
    # labels and inertia belong to the returned centroids
    np.testing.assert_array_equal(mb.labels, naive.assign(blobs, mb.centroids))
    assert mb.inertia == pytest.approx(naive.inertia(blobs, mb.centroids, mb.labels), rel=1e-9)
    # counts: one per sampled row over all steps (unit weights), reassignments aside
    assert mb.cluster_weights.shape == (5,)
    assert len(mb.history) == mb.history.inertia.shape[0] >= 1


def test_same_seed_same_model_for_any_thread_count(blobs):
    p = fk.MiniBatchKMeansParams(5, batch_size=300, seed=7, max_no_improvement=None, max_iter=3)
    a = p.fit(blobs)
    b = p.replace(n_threads=1).fit(blobs)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    np.testing.assert_array_equal(a.cluster_weights, b.cluster_weights)
    c = p.replace(seed=8).fit(blobs)
    assert not np.array_equal(a.centroids, c.centroids)


def test_parallel_step_kernel_is_thread_count_independent():
    # A batch large enough for the parallel step kernel (several fixed chunks).
    X, _ = fk.datasets.make_blobs(20_000, 20, 9, cluster_std=3.0, seed=5, dtype=np.float32)
    p = fk.MiniBatchKMeansParams(9, batch_size=8192, seed=1, max_no_improvement=None, max_iter=2)
    a = p.replace(n_threads=1).fit(X)
    b = p.replace(n_threads=2).fit(X)
    assert a.centroids.tobytes() == b.centroids.tobytes()
    np.testing.assert_array_equal(a.cluster_weights, b.cluster_weights)


def test_number_of_steps_and_passes(blobs):
    n = len(blobs)
    p = fk.MiniBatchKMeansParams(5, batch_size=500, max_iter=2, max_no_improvement=None, seed=0)
    m = p.fit(blobs)
    assert len(m.history) == 2 * n // 500
    assert m.n_iter == 2 and m.stop_reason == "max_iter" and not m.converged
    # without reassignment, the counts are exactly the rows drawn
    m = p.replace(reassignment_ratio=0.0).fit(blobs)
    assert m.cluster_weights.sum() == 2 * n // 500 * 500


def test_early_stopping_rules(blobs):
    m = fk.MiniBatchKMeansParams(5, batch_size=100, max_no_improvement=3, seed=0).fit(blobs)
    assert m.stop_reason == "no_improvement" and m.converged
    assert len(m.history) < 100 * len(blobs) // 100
    m = fk.MiniBatchKMeansParams(5, batch_size=100, tol=1e-3, max_no_improvement=None, seed=0).fit(
        blobs
    )
    assert m.stop_reason == "tol"
    tol = 1e-3 * np.var(blobs, axis=0).mean()
    assert m.history.center_shift[-1] <= tol < m.history.center_shift[1:-1].min()


def test_low_count_center_is_reassigned(blobs):
    init = np.array(blobs[:5], dtype=np.float64)
    init[0] = 1e4  # a center no row will ever be nearest to
    p = fk.MiniBatchKMeansParams(5, init=init, batch_size=200, max_iter=2, seed=0)
    with pytest.warns(fk.ConvergenceWarning, match="distinct clusters"):  # one stays empty
        m = p.fit(blobs)
    assert m.history.n_reseeded.sum() >= 1
    assert np.abs(m.centroids).max() < 100
    # with reassignment off it stays where it was
    with pytest.warns(fk.ConvergenceWarning, match="distinct clusters"):
        m = p.replace(reassignment_ratio=0.0).fit(blobs)
    assert m.centroids[0, 0] == 1e4 and m.history.n_reseeded.sum() == 0


def test_sample_weight_draws_rows_in_proportion(blobs):
    far = blobs + 1000.0
    X = np.vstack([blobs, far])
    w = np.r_[np.ones(len(blobs)), np.zeros(len(far))]
    m = fk.MiniBatchKMeansParams(5, batch_size=256, seed=0).fit(X, sample_weight=w)
    assert np.abs(m.centroids).max() < 100  # zero-weight rows are never drawn


def test_compute_labels_false_gives_smoothed_inertia(blobs):
    m = fk.MiniBatchKMeansParams(5, batch_size=256, seed=0, compute_labels=False).fit(blobs)
    assert m.labels.shape == (0,)
    exact = naive.inertia(blobs, m.centroids, naive.assign(blobs, m.centroids))
    assert 0.5 * exact < m.inertia < 2 * exact


def test_cosine_centroids_are_unit_length(blobs):
    m = fk.MiniBatchKMeansParams(4, batch_size=256, seed=0, metric="cosine").fit(blobs + 5)
    np.testing.assert_allclose(np.linalg.norm(m.centroids, axis=1), 1.0, rtol=1e-6)


def test_errors(blobs):
    with pytest.raises(ValueError, match="n_samples=3 should be >= n_clusters=5"):
        fk.MiniBatchKMeansParams(5).fit(blobs[:3])
    bad = blobs.copy()
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fk.MiniBatchKMeansParams(5).fit(bad)
    with pytest.warns(RuntimeWarning, match="init_size=2 should be larger than n_clusters=5"):
        fk.MiniBatchKMeansParams(5, init_size=2, seed=0).fit(blobs)


def test_save_load_round_trip(tmp_path, blobs):
    m = fk.MiniBatchKMeansParams(5, batch_size=256, seed=0).fit(blobs)
    m.save(tmp_path / "m.npz")
    back = fk.KMeansModel.load(tmp_path / "m.npz")
    assert back.params == m.params
    np.testing.assert_array_equal(back.centroids, m.centroids)
    np.testing.assert_array_equal(back.cluster_weights, m.cluster_weights)


# --------------------------------------------------------------------------- partial_fit
def test_partial_fit_returns_new_model_and_leaves_old_one(blobs):
    m = fk.MiniBatchKMeansParams(5, batch_size=256, seed=0).fit(blobs[:1000])
    before = (m.centroids.copy(), m.cluster_weights.copy(), m.labels.copy(), m.inertia)
    batch = blobs[1000:1300]
    m2 = m.partial_fit(batch)
    assert m2 is not m
    np.testing.assert_array_equal(m.centroids, before[0])
    np.testing.assert_array_equal(m.cluster_weights, before[1])
    np.testing.assert_array_equal(m.labels, before[2])
    assert m.inertia == before[3]
    assert len(m2.history) == len(m.history) + 1
    assert m2.cluster_weights.sum() >= m.cluster_weights.sum() + 300 - 1e-9
    assert m2.labels.shape == (300,)  # labels of the batch, for the new centroids
    np.testing.assert_array_equal(m2.labels, naive.assign(batch, m2.centroids))


def test_partial_fit_continues_a_kmeans_model_from_its_cluster_weights(blobs):
    m = fk.KMeansParams(5, seed=0).fit(blobs[:2000])
    np.testing.assert_allclose(m.cluster_weights, np.bincount(m.labels, minlength=5))
    batch = blobs[2000:2400]
    w = np.linspace(0.5, 2.0, 400)
    m2 = m.partial_fit(batch, sample_weight=w)
    counts = np.asarray(m.cluster_weights)
    ref, ref_counts, _, _ = naive.minibatch_step(batch, w, m.centroids, counts)
    # reassignment cannot trigger: every count is far above 1% of the largest
    np.testing.assert_allclose(m2.centroids, ref, rtol=1e-10)
    np.testing.assert_allclose(m2.cluster_weights, ref_counts)
    assert m2.params is m.params


def test_a_stream_of_batches_learns_the_clusters(blobs):
    rng = np.random.default_rng(0)
    order = rng.permutation(len(blobs))
    batches = np.array_split(blobs[order], 20)
    first = fk.MiniBatchKMeansParams(5, batch_size=200, seed=0).fit(batches[0])
    model = first
    for batch in batches[1:]:
        model = model.partial_fit(batch)
    full = fk.KMeansParams(5, seed=0).fit(blobs)
    assert -model.score(blobs) < -first.score(blobs)
    assert -model.score(blobs) <= 1.25 * full.inertia


def test_partial_fit_is_deterministic_for_a_seed(blobs):
    m = fk.MiniBatchKMeansParams(5, batch_size=256, seed=3).fit(blobs[:500])
    a = m.partial_fit(blobs[500:600]).partial_fit(blobs[600:700])
    b = m.partial_fit(blobs[500:600]).partial_fit(blobs[600:700])
    np.testing.assert_array_equal(a.centroids, b.centroids)


def test_partial_fit_checks_the_features(blobs):
    m = fk.MiniBatchKMeansParams(5, batch_size=256, seed=0).fit(blobs)
    with pytest.raises(ValueError, match="features"):
        m.partial_fit(blobs[:10, :2])
