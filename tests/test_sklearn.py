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
