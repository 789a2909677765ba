"""What the scikit-learn adapters share: validation, init handling, predict, transform and
score (:mod:`fastkmeans.sklearn` holds the estimators themselves)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    _is_arraylike_not_scalar,
    check_array,
    check_is_fitted,
    validate_data,
)

from .errors import warn
from .model import KMeansModel

_INT32_MAX = int(np.iinfo(np.int32).max)


def _same_clustering(a: NDArray[Any], b: NDArray[Any]) -> bool:
    """True when two labelings are equal up to a permutation of the labels."""
    pairs = np.unique(np.stack([a, b]), axis=1).shape[1]
    return pairs == np.unique(a).shape[0] == np.unique(b).shape[0]


class _BaseKMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """What both adapters share: validation, init handling, predict/transform/score."""

    _model: KMeansModel

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR, as scikit-learn's own KMeans takes it
        return tags

    # ------------------------------------------------------------------ checks
    def _check_params_vs_input(self, X: NDArray[np.floating], default_n_init: int) -> None:
        if X.shape[0] < self.n_clusters:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")
        # Only the verbose message shows the absolute tolerance: computed there, when asked.
        self._tol_data = X if self.verbose and self.tol else None
        if self.n_init == "auto":
            is_pp = isinstance(self.init, str) and self.init == "k-means++"
            self._n_init = 1 if is_pp or _is_arraylike_not_scalar(self.init) else default_n_init
        else:
            self._n_init = self.n_init
        if _is_arraylike_not_scalar(self.init) and self._n_init != 1:
            warn(
                "Explicit initial center position passed: performing only one init in "
                f"{type(self).__name__} instead of n_init={self._n_init}.",
                RuntimeWarning,
            )
            self._n_init = 1

    def _validate_center_shape(self, X: NDArray[np.floating], centers: NDArray[Any]) -> None:
        if centers.shape[0] != self.n_clusters:
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not match the "
                f"number of clusters {self.n_clusters}."
            )
        if centers.shape[1] != X.shape[1]:
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not match the "
                f"number of features of the data {X.shape[1]}."
            )

    def _array_init(self, X: NDArray[np.floating]) -> NDArray[np.floating] | None:
        if not _is_arraylike_not_scalar(self.init):
            return None
        init = check_array(self.init, dtype=X.dtype, copy=True, order="C")
        self._validate_center_shape(X, init)
        return init

    def _callable_init(
        self, X: NDArray[np.floating], random_state: np.random.RandomState
    ) -> NDArray[np.floating]:
        centers = self.init(X, self.n_clusters, random_state=random_state)
        centers = check_array(centers, dtype=X.dtype, copy=False, order="C")
        self._validate_center_shape(X, centers)
        return centers

    def _check_test_data(self, X: ArrayLike) -> NDArray[np.floating]:
        return validate_data(
            self, X, reset=False, dtype=[np.float64, np.float32], order="C", accept_sparse="csr"
        )

    def _check_fit_data(self, X: ArrayLike, reset: bool = True) -> NDArray[np.floating]:
        return validate_data(
            self, X, reset=reset, dtype=[np.float64, np.float32], order="C", accept_sparse="csr"
        )

    # ------------------------------------------------------------------ fitted state
    def _current_model(self) -> KMeansModel:
        """The fitted model, with ``cluster_centers_`` as set on the estimator."""
        centers = np.array(self.cluster_centers_, order="C")
        if np.array_equal(centers, self._model.centroids):
            return self._model
        return dataclasses.replace(self._model, centroids=centers)

    def _set_fitted(self, model: KMeansModel, labels: bool = True) -> None:
        self._model = model
        self.cluster_centers_ = np.array(model.centroids)
        self._n_features_out = self.cluster_centers_.shape[0]
        if labels:
            self.labels_ = np.asarray(model.labels, dtype=np.int32)
            self.inertia_ = float(model.inertia)

    # ------------------------------------------------------------------ methods
    def fit_predict(
        self, X: ArrayLike, y: Any = None, sample_weight: ArrayLike | None = None
    ) -> NDArray[np.int32]:
        """Compute cluster centers and predict cluster index for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.fit(X, sample_weight=sample_weight).labels_

    def predict(self, X: ArrayLike) -> NDArray[np.int32]:
        """Predict the closest cluster each sample in X belongs to.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._check_test_data(X)
        return self._current_model().predict(X).astype(np.int32)

    def fit_transform(
        self, X: ArrayLike, y: Any = None, sample_weight: ArrayLike | None = None
    ) -> NDArray[np.floating]:
        """Compute clustering and transform X to cluster-distance space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
        """
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def transform(self, X: ArrayLike) -> NDArray[np.floating]:
        """Transform X to a cluster-distance space (Euclidean distance to each center).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
        """
        check_is_fitted(self)
        X = self._check_test_data(X)
        return self._current_model().transform(X).astype(X.dtype, copy=False)

    def score(self, X: ArrayLike, y: Any = None, sample_weight: ArrayLike | None = None) -> float:
        """Opposite of the value of X on the K-means objective.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        X = self._check_test_data(X)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        return self._current_model().score(X, sample_weight)
