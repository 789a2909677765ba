"""scikit-learn's own k-means tests (``sklearn/cluster/tests/test_k_means.py``, as shipped
in the installed wheel) run against ``fastkmeans.sklearn.KMeans`` and ``MiniBatchKMeans``.

The module is read from the wheel and executed here with one change: its
``from sklearn.cluster import KMeans, MiniBatchKMeans, ...`` line imports our estimators
instead, so every test function and every parametrization (dense, ``csr_matrix`` and
``csr_array`` inputs, ``lloyd``/``elkan``) runs on our code, collected by pytest from this
module. Tests of scikit-learn's private helpers (``_inertia_dense``, ``_mini_batch_step``,
...) still test scikit-learn's helpers; they run too, harmlessly. The fixtures
``global_random_seed`` and ``global_dtype`` come from scikit-learn's conftest, which is
not installed: they are defined here with its defaults (seed 42) and both dtypes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

SOURCE = Path(sklearn.__file__).parent / "cluster" / "tests" / "test_k_means.py"
IMPORT = "from sklearn.cluster import KMeans, MiniBatchKMeans, k_means, kmeans_plusplus"
OURS = (
    "from sklearn.cluster import k_means, kmeans_plusplus\n"
    "from fastkmeans.sklearn import KMeans, MiniBatchKMeans"
)

_text = SOURCE.read_text()
assert IMPORT in _text, f"{SOURCE} no longer imports the estimators as expected"
exec(compile(_text.replace(IMPORT, OURS), str(SOURCE), "exec"), globals())

assert KMeans.__module__ == "fastkmeans.sklearn"  # noqa: F821 (defined by the exec)


@pytest.fixture(params=[42])
def global_random_seed(request: pytest.FixtureRequest) -> int:
    return request.param


@pytest.fixture(params=[np.float64, np.float32])
def global_dtype(request: pytest.FixtureRequest) -> type:
    return request.param


# Two tests call scikit-learn's private ``KMeans._init_centroids``, which our estimator
# does not have (seeding is ``fastkmeans._seeding``'s job); they cannot apply.
_PRIVATE = "calls scikit-learn's private KMeans._init_centroids, not part of the estimator API"
for _name in ("test_sample_weight_init", "test_sample_weight_zero"):
    globals()[_name] = pytest.mark.xfail(raises=AttributeError, strict=True, reason=_PRIVATE)(
        globals()[_name]
    )
