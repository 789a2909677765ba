"""Data checks at fit/predict time, and the caller's arrays are never touched."""

from __future__ import annotations

import numpy as np
import pytest

import fastkmeans as fk

X_OK = np.arange(40, dtype=np.float64).reshape(20, 2) % 7


@pytest.mark.parametrize(
    "X,match",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]), r"NaN \(first at row 0, column 1\)"),
        (np.array([[0.0, 1.0], [np.inf, 2.0], [3.0, 4.0]]), r"infinity \(first at row 1"),
        (np.arange(5.0), "Expected a 2-D array"),
        (np.zeros((2, 3, 4)), "Expected a 2-D array"),
        (np.zeros((0, 3)), "0 samples"),
        (np.zeros((5, 0)), "0 features"),
        (np.array([["a", "b"], ["c", "d"]]), "real numbers"),
        (np.ones((3, 2), dtype=complex), "complex"),
        (np.zeros((2, 2)), r"n_samples=2 should be >= n_clusters=3\."),
    ],
)
def test_bad_data_raises_value_error(X, match):
    with pytest.raises(ValueError, match=match):
        fk.KMeansParams(3).fit(X)


@pytest.mark.parametrize(
    "w,match",
    [
        (np.ones(19), r"sample_weight.shape == \(19,\), expected \(20,\)"),
        (np.ones((20, 1)), "sample_weight.shape"),
        (np.r_[np.ones(19), -1.0], "non-negative"),
        (np.zeros(20), "zero everywhere"),
        (np.r_[np.ones(19), np.nan], "NaN or infinity"),
        (np.r_[np.ones(19), np.inf], "NaN or infinity"),
    ],
)
def test_bad_weights_raise_value_error(w, match):
    with pytest.raises(ValueError, match=match):
        fk.KMeansParams(3).fit(X_OK, sample_weight=w)


def test_precomputed_init_of_wrong_width_raises():
    with pytest.raises(ValueError, match="does not match"):
        fk.KMeansParams(3, init=np.zeros((3, 5))).fit(X_OK)


def test_predict_checks_features_and_values():
    model = fk.KMeansParams(3, seed=0).fit(X_OK)
    with pytest.raises(ValueError, match="3 features, but the model was fitted with 2"):
        model.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="2-D"):
        model.transform(np.zeros(2))


def _variants(base: np.ndarray, tmp_path):
    ro = base.copy()
    ro.setflags(write=False)
    fortran = np.asfortranarray(base)
    strided = np.repeat(base, 2, axis=0)[::2]
    path = tmp_path / "x.dat"
    mm = np.memmap(path, dtype=base.dtype, mode="w+", shape=base.shape)
    mm[:] = base
    mm.flush()
    mm_ro = np.memmap(path, dtype=base.dtype, mode="r", shape=base.shape)
    return {
        "read-only": ro,
        "fortran": fortran,
        "strided": strided,
        "memmap": mm,
        "memmap-r": mm_ro,
        "list": base.tolist(),
        "int": np.rint(base * 10).astype(np.int32) / 10,
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unusual_layouts_work_and_are_not_modified(blobs64, dtype, tmp_path):
    base = np.ascontiguousarray(blobs64[:600], dtype=dtype)
    init = base[:5].astype(np.float64)
    expected = fk.KMeansParams(5, init=init).fit(base)
    for name, X in _variants(base, tmp_path).items():
        before = np.array(X, copy=True)
        w = np.linspace(1, 2, 600)
        w_before = w.copy()
        model = fk.KMeansParams(5, init=init).fit(X, sample_weight=w)
        np.testing.assert_array_equal(np.asarray(X), before, err_msg=name)
        np.testing.assert_array_equal(w, w_before, err_msg=name)
        unweighted = fk.KMeansParams(5, init=init).fit(X)
        if name != "int":
            np.testing.assert_array_equal(unweighted.labels, expected.labels, err_msg=name)
            np.testing.assert_allclose(unweighted.centroids, expected.centroids, rtol=1e-6)
        model.predict(X)
        model.transform(X)
        np.testing.assert_array_equal(np.asarray(X), before, err_msg=name)


def test_dtype_rules():
    X32 = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    assert fk.KMeansParams(2, seed=0).fit(X32).centroids.dtype == np.float32
    for X in (
        (X32 * 10).astype(np.int64),
        X32.astype(np.float16),
        (X32 * 10).astype(np.uint8),
        X32 > 0,
    ):
        assert fk.KMeansParams(2, seed=0).fit(X).centroids.dtype == np.float64


def test_float32_rows_whose_sum_overflows_are_checked_value_by_value():
    # The check sums in the rows' dtype: finite float32 values can overflow that sum, and
    # must then pass the value-by-value check, while an infinity is still found.
    X = np.ones((100, 2), np.float32)
    X[:4, 0] = 3e38
    with np.errstate(over="ignore"):
        assert not np.isfinite(X.sum())
    labels = fk.KMeansParams(2, seed=0).fit(X).labels  # fitted, not refused
    assert len(set(labels[:4])) == 1 and labels[0] not in set(labels[4:])
    X[50, 1] = np.inf
    with pytest.raises(ValueError, match=r"infinity \(first at row 50, column 1\)"):
        fk.KMeansParams(2, seed=0).fit(X)
