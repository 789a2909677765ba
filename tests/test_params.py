"""KMeansParams: construction-time validation, replace, equality."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import fastkmeans as fk
from fastkmeans.errors import KMeansParamsError

BAD_VALUES = [
    ("n_clusters", 0, ValueError),
    ("n_clusters", -3, ValueError),
    ("n_clusters", 2.5, TypeError),
    ("n_clusters", True, TypeError),
    ("n_clusters", "3", TypeError),
    ("init", "kmeans++", ValueError),
    ("init", None, TypeError),
    ("init", np.zeros((2, 2)), ValueError),  # 2 rows for 3 clusters
    ("init", np.zeros(3), ValueError),
    ("init", np.full((3, 2), np.nan), ValueError),
    ("init", [["a", "b"]] * 3, TypeError),
    ("n_init", 0, ValueError),
    ("n_init", "auto", TypeError),
    ("max_iter", 0, ValueError),
    ("max_iter", 1.0, TypeError),
    ("tol", -1e-3, ValueError),
    ("tol", float("nan"), ValueError),
    ("tol", float("inf"), ValueError),
    ("tol", "small", TypeError),
    ("algorithm", "fastest", ValueError),
    ("algorithm", 1, TypeError),
    ("metric", "manhattan", ValueError),
    ("seed", -1, ValueError),
    ("seed", 1.5, TypeError),
    ("seed", "42", TypeError),
    ("n_threads", 0, ValueError),
    ("n_threads", 2.0, TypeError),
    ("progress", "yes", TypeError),
]


@pytest.mark.parametrize("field,value,kind", BAD_VALUES)
def test_invalid_values_raise_at_construction(field, value, kind):
    kwargs = {"n_clusters": 3, field: value}
    with pytest.raises(kind) as info:
        fk.KMeansParams(**kwargs)
    assert isinstance(info.value, KMeansParamsError)
    assert info.value.field == field
    assert field in str(info.value)


def test_fields_after_n_clusters_are_keyword_only():
    assert fk.KMeansParams(3).n_clusters == 3
    with pytest.raises(TypeError):
        fk.KMeansParams(3, "random")  # type: ignore[misc]


def test_frozen_and_replace_revalidates():
    p = fk.KMeansParams(3, seed=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.n_clusters = 4  # type: ignore[misc]
    q = p.replace(tol=1e-3, max_iter=50)
    assert (q.tol, q.max_iter, q.seed, p.tol) == (1e-3, 50, 1, 1e-4)
    with pytest.raises(KMeansParamsError, match="max_iter"):
        p.replace(max_iter=0)
    with pytest.raises(TypeError, match="unknown parameter"):
        p.replace(n_clusterz=3)


def test_equality_and_hash_with_array_init():
    a = fk.KMeansParams(2, init=[[0.0, 1.0], [2.0, 3.0]])
    b = fk.KMeansParams(2, init=np.array([[0.0, 1.0], [2.0, 3.0]]))
    assert a == b and hash(a) == hash(b)
    assert a != fk.KMeansParams(2, init=[[0.0, 1.0], [2.0, 4.0]])
    assert fk.KMeansParams(3) == fk.KMeansParams(3) != fk.KMeansParams(4)


def test_init_array_is_a_private_read_only_copy():
    init = np.array([[0.0, 1.0], [2.0, 3.0]])
    p = fk.KMeansParams(2, init=init)
    init[0, 0] = 99.0
    assert p.init[0, 0] == 0.0
    assert not p.init.flags.writeable


def test_numpy_integers_are_accepted():
    p = fk.KMeansParams(np.int64(3), n_init=np.int32(2), seed=np.uint8(4))
    assert (p.n_clusters, p.n_init, p.seed) == (3, 2, 4)
    assert type(p.n_clusters) is int
