"""Float64 rows through float32 distances: the labels are float64's, near ties included."""

from __future__ import annotations

import numpy as np
import pytest

from fastkmeans import _config
from fastkmeans.kernels import lloyd, mixed
from tests import naive
from tests.test_kernels import _run

T = _config.TILE_ROWS


def _certify(X: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, int]:
    """Every row's label from :func:`mixed.certified_labels`, tile by tile, and how many
    rows it recomputed in float64."""
    n, d = X.shape
    k = C.shape[0]
    mean = X.mean(axis=0)
    centered = np.empty((k, d), dtype=np.float32)
    half = np.empty(k, dtype=np.float32)
    lloyd.center_on(C, mean, centered, half)
    tile = np.empty(T * d, dtype=np.float32)
    dots = np.empty(T * k, dtype=np.float32)
    work = np.empty(3 * T, dtype=np.float32)
    lab = np.empty(T, dtype=np.int32)
    labels = np.empty(n, dtype=np.intp)
    redone = 0
    for t0 in range(0, n, T):
        m = min(T, n - t0)
        redone += mixed.certified_labels(X, C, centered, half, mean, t0, m, tile, dots, work,
                                         lab)  # fmt: skip
        labels[t0 : t0 + m] = lab[:m]
    return labels, redone


def _near_ties(n: int, d: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows on the bisector of two centers, moved off it by 1e-9 of the data's scale: far
    below float32's resolution, well above float64's. Float32 distances alone cannot tell
    which of the two is nearer."""
    rng = np.random.default_rng(seed)
    C = rng.normal(scale=3.0, size=(k, d))
    a = rng.integers(k, size=n)
    b = (a + 1 + rng.integers(k - 1, size=n)) % k
    t = rng.normal(size=(n, d))
    u = C[b] - C[a]
    t -= ((t * u).sum(axis=1) / (u * u).sum(axis=1))[:, None] * u  # on the bisector plane
    side = rng.choice([-1.0, 1.0], size=n)[:, None]
    X = 0.5 * (C[a] + C[b]) + 0.1 * t + side * 1e-9 * u
    return X, C


@pytest.mark.parametrize("d", [5, 70])  # the transposed and the row-major layouts
def test_certified_labels_are_float64_labels_at_near_ties(d):
    X, C = _near_ties(3 * T + 17, d, 9, seed=d)
    labels, redone = _certify(X, C)
    exact = naive.assign(X, C)
    np.testing.assert_array_equal(labels, exact)
    # float32 alone gets many of them wrong, so the float64 settling is what holds
    X32, C32 = X.astype(np.float32), C.astype(np.float32)
    d32 = ((X32[:, None, :] - C32[None]) ** 2).sum(axis=2, dtype=np.float32)
    assert (d32.argmin(axis=1) != exact).mean() > 0.1
    assert redone >= (labels != d32.argmin(axis=1)).sum()


@pytest.mark.parametrize("d", [5, 70])
def test_clear_rows_are_not_recomputed(d):
    rng = np.random.default_rng(d)
    C = rng.normal(scale=10.0, size=(12, d))
    X = C[rng.integers(12, size=2 * T + 5)] + rng.normal(scale=0.5, size=(2 * T + 5, d))
    labels, redone = _certify(X + 1e3, C + 1e3)  # far from the origin: centering matters
    np.testing.assert_array_equal(labels, naive.assign(X, C))
    assert redone == 0


def test_ties_go_to_the_lowest_index():
    X, C = _near_ties(T + 3, 4, 6, seed=3)
    C[4] = C[1]
    labels, _ = _certify(X, C)
    np.testing.assert_array_equal(labels, naive.assign(X, C))
    assert not (labels == 4).any()


@pytest.mark.parametrize("d", [16, 70])
def test_lloyd_kernel_in_float64_matches_numpy_at_near_ties(d):
    """The whole GEMM Lloyd kernel (float32 distances for float64 rows): labels, sums and
    inertia as NumPy's float64 ones."""
    X, C = _near_ties(20_000, d, 32, seed=5)
    w = np.ones(X.shape[0])
    labels, sums, wsums, inertia, _ = _run("gemm", X, w, C)
    np.testing.assert_array_equal(labels, naive.assign(X, C))
    exp_sums = np.zeros_like(C)
    np.add.at(exp_sums, labels, X)
    np.testing.assert_allclose(sums, exp_sums, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(wsums, np.bincount(labels, minlength=32), rtol=1e-12)
    np.testing.assert_allclose(inertia, naive.inertia(X, C, labels), rtol=1e-12)


@pytest.mark.parametrize("scale", [1e25, 1e100])  # squares, then values, beyond float32's range
def test_values_beyond_float32_are_recomputed_in_float64(scale):
    rng = np.random.default_rng(7)
    C = rng.normal(size=(6, 5)) * scale
    X = C[rng.integers(6, size=T + 9)] + rng.normal(size=(T + 9, 5)) * 0.3 * scale
    labels, redone = _certify(X, C)
    np.testing.assert_array_equal(labels, naive.assign(X, C))
    assert redone == X.shape[0]  # float32 could certify none of them
