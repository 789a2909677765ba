"""The tutorial's data and the blob generator."""

from __future__ import annotations

import numpy as np
import pytest

import fastkmeans as fk


def test_tutorial_data_layout():
    X = fk.datasets.make_tutorial_data(seed=0)
    assert X.shape == (750, 2) and X.dtype == np.float32
    boxes = [((7, 5), 1), ((2, 2), 2), ((3, 8), 1)]
    for i, (center, edge) in enumerate(boxes):
        part = X[150 * i : 150 * (i + 1)]
        assert (np.abs(part - np.array(center)) <= edge / 2 + 1e-6).all()
        assert np.ptp(part[:, 0]) > 0.8 * edge  # spread over the square
    noise = X[450:]
    assert (np.abs(noise - 5) <= 4.5 + 1e-6).all() and np.ptp(noise[:, 0]) > 7
    np.testing.assert_array_equal(X, fk.datasets.make_tutorial_data(seed=0))
    assert not np.array_equal(X, fk.datasets.make_tutorial_data(seed=1))


def test_the_tutorial_finds_the_three_squares():
    X = fk.datasets.make_tutorial_data(seed=0)
    model = fk.KMeansParams(3, seed=42, max_iter=200, tol=1e-5).fit(X)
    found = sorted(map(tuple, np.round(model.centroids).astype(int)))
    assert found == [(2, 2), (3, 8), (7, 5)]
    square_labels = model.labels[:450].reshape(3, 150)
    # Each square's points all fall into one cluster, a different one per square.
    assert all(len(set(row)) == 1 for row in square_labels)
    assert len({row[0] for row in square_labels}) == 3


def test_make_square_bounds_and_dtype():
    S = fk.datasets.make_square((1.0, -2.0, 3.0), 0.5, 1000, seed=1, dtype=np.float64)
    assert S.shape == (1000, 3) and S.dtype == np.float64
    assert (np.abs(S - [1.0, -2.0, 3.0]) <= 0.25).all()
    with pytest.raises(ValueError, match="edge"):
        fk.datasets.make_square((0, 0), 0, 10)
    with pytest.raises(ValueError, match="center"):
        fk.datasets.make_square([], 1, 10)


def test_make_blobs():
    X, y = fk.datasets.make_blobs(101, 4, 3, cluster_std=0.1, seed=2)
    assert X.shape == (101, 4) and y.shape == (101,)
    assert np.bincount(y).tolist() == [34, 34, 33]
    centers = np.array([X[y == j].mean(axis=0) for j in range(3)])
    X2, y2 = fk.datasets.make_blobs(50, 4, centers, seed=3, dtype=np.float32)
    assert X2.dtype == np.float32 and y2.max() == 2
    with pytest.raises(ValueError, match="centers"):
        fk.datasets.make_blobs(10, 2, np.zeros((3, 3)))


def test_docstring_corpus_is_real_text_on_the_machine():
    texts, names = fk.datasets.load_docstrings(["json", "email"])
    assert len(texts) == len(names) > 50 and len(set(texts)) == len(texts)
    assert all(len(t) >= 40 for t in texts) and any(n.startswith("json.") for n in names)
    paragraphs, owners = fk.datasets.load_docstrings(["json"], unit="paragraph")
    assert len(paragraphs) > len([n for n in names if n.startswith("json")])
    assert set(owners) <= set(names)
    with pytest.raises(ValueError, match="unit"):
        fk.datasets.load_docstrings(["json"], unit="word")
