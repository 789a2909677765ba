"""KMeansModel: predict, transform, score, immutability, save/load."""

from __future__ import annotations

import numpy as np
import pytest

import fastkmeans as fk
from tests import naive


@pytest.fixture(scope="module")
def model(blobs64):
    return fk.KMeansParams(6, seed=0).fit(blobs64)


def test_predict_transform_score(model, blobs64):
    X = blobs64[:700] + 0.5
    labels = model.predict(X)
    np.testing.assert_array_equal(labels, naive.assign(X, model.centroids))
    assert labels.dtype == np.int64
    np.testing.assert_allclose(
        model.transform(X), np.sqrt(naive.sq_distances(X, model.centroids)), rtol=1e-12
    )
    w = np.linspace(0.5, 1.5, 700)
    assert model.score(X, sample_weight=w) == pytest.approx(
        -naive.inertia(X, model.centroids, labels, w), rel=1e-10
    )
    np.testing.assert_array_equal(model.predict(blobs64), model.labels)


def test_predict_wide_data_uses_gemm_and_agrees(blobs_wide64):
    m = fk.KMeansParams(10, seed=0).fit(blobs_wide64)
    np.testing.assert_array_equal(m.predict(blobs_wide64), naive.assign(blobs_wide64, m.centroids))


def test_model_is_immutable(model):
    with pytest.raises(ValueError):
        model.centroids[0, 0] = 1.0
    with pytest.raises(ValueError):
        model.labels[0] = 1
    with pytest.raises(AttributeError):
        model.inertia = 0.0  # type: ignore[misc]
    assert model.n_clusters == 6 and model.n_features == 5


def test_rerun_an_experiment_from_the_model(model, blobs64):
    again = model.params.replace(seed=0).fit(blobs64)
    assert again.centroids.tobytes() == model.centroids.tobytes()


@pytest.mark.parametrize("seed", [7, None, "generator"])
def test_save_load_round_trip_is_exact(blobs64, tmp_path, seed):
    seed = np.random.default_rng(3) if seed == "generator" else seed
    init = blobs64[:4]
    for params in (fk.KMeansParams(4, seed=seed), fk.KMeansParams(4, init=init, seed=seed)):
        m = params.fit(blobs64.astype(np.float32))
        path = tmp_path / "model.fkm"
        m.save(path)
        assert path.exists()
        back = fk.KMeansModel.load(path)
        assert back.centroids.dtype == np.float32
        assert back.centroids.tobytes() == m.centroids.tobytes()
        np.testing.assert_array_equal(back.labels, m.labels)
        assert back.inertia == m.inertia and back.n_iter == m.n_iter
        assert (back.converged, back.stop_reason) == (m.converged, m.stop_reason)
        for f in ("inertia", "center_shift", "labels_changed", "n_reseeded"):
            np.testing.assert_array_equal(getattr(back.history, f), getattr(m.history, f))
        np.testing.assert_array_equal(back.cluster_weights, m.cluster_weights)
        if seed is None or isinstance(seed, int):
            assert back.params == m.params
        np.testing.assert_array_equal(back.predict(blobs64), m.predict(blobs64))


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.arange(3))
    with pytest.raises(ValueError, match="not a fastkmeans model"):
        fk.KMeansModel.load(path)
    obj = tmp_path / "pickled.npz"
    np.savez(obj, format=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError):
        fk.KMeansModel.load(obj)


def _tampered(model, tmp_path, **arrays):
    """A saved model file with some arrays replaced."""
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as z:
        content = {k: z[k] for k in z.files}
    content.update(arrays)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **content)
    return bad


@pytest.mark.parametrize(
    "change,match",
    [
        ({"centroids": np.zeros((4, 5))}, r"centroids .* shape \(4, 5\)"),
        ({"centroids": np.zeros((6, 5), dtype=np.int64)}, "centroids of dtype int64"),
        ({"centroids": np.full((6, 5), np.nan)}, "NaN"),
        ({"labels": np.full(3000, 7)}, r"labels outside \[0, 6\)"),
        ({"labels": np.zeros((3000, 1), dtype=np.int64)}, "labels of dtype"),
        ({"cluster_weights": np.ones(5)}, "cluster_weights"),
        ({"cluster_weights": -np.ones(6)}, "cluster_weights"),
        ({"history_inertia": np.zeros(1)}, "history arrays of different lengths"),
        ({"stop_reason": np.array("bored")}, "stop_reason='bored'"),
        ({"converged": np.array(False)}, "converged=False"),
        ({"n_iter": np.array(2.5)}, "n_iter of dtype float64"),
    ],
)
def test_load_refuses_arrays_that_do_not_agree(model, tmp_path, change, match):
    with pytest.raises(ValueError, match=match):
        fk.KMeansModel.load(_tampered(model, tmp_path, **change))


def test_load_refuses_params_that_do_not_fit_the_arrays(blobs64, tmp_path):
    init = blobs64[:6].copy()
    model = fk.KMeansParams(6, init=init).fit(blobs64)
    with pytest.raises(ValueError, match=r"params.init has shape \(6, 4\)"):
        fk.KMeansModel.load(_tampered(model, tmp_path, params_init=init[:, :4]))
    with pytest.raises(ValueError, match="do not validate"):
        fk.KMeansModel.load(_tampered(model, tmp_path, params_init=init[:3]))
