"""scikit-learn drop-ins: ``KMeans`` and ``MiniBatchKMeans`` on fastkmeans' engine.

Thin ``BaseEstimator`` shells (fast_hdbscan's pattern): scikit-learn's constructor
parameters, defaults, validation, attributes, warnings, error messages and verbose output,
with the clustering done by :class:`fastkmeans.KMeansParams` /
:class:`fastkmeans.MiniBatchKMeansParams` and :class:`fastkmeans.KMeansModel`. Change one
import::

    from fastkmeans.sklearn import KMeans, MiniBatchKMeans

scikit-learn (>= 1.6) is needed for this module only; ``import fastkmeans`` does not
import it. Sparse input (CSR, as scikit-learn takes it) is clustered without densifying.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import (
    _fit_context,
)
from sklearn.cluster import KMeans as _SkKMeans
from sklearn.cluster import MiniBatchKMeans as _SkMiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning as _SkConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_sample_weight,
)

from ._assign import nearest
from ._cold import first_run
from ._csr import as_rows
from ._fit import fit_minibatch, small_fit, start_stream
from ._seeding import resolve_init
from ._sklearn_base import _INT32_MAX, _BaseKMeans, _same_clustering
from .errors import ConvergenceWarning, warn
from .model import KMeansModel
from .params import ALGORITHMS, KMeansParams, MiniBatchKMeansParams

__all__ = ["KMeans", "MiniBatchKMeans"]


class KMeans(_BaseKMeans):
    """K-Means clustering, scikit-learn's ``KMeans`` on fastkmeans' Numba engine.

    Parameters, attributes and behaviour are scikit-learn's (see
    :class:`sklearn.cluster.KMeans`); results equal scikit-learn's from the same initial
    centers, up to float rounding. ``algorithm`` keeps scikit-learn's default ``"lloyd"``
    in :meth:`get_params`, but ``"lloyd"`` and ``"elkan"`` run the fastest exact algorithm
    for the data's shape (:class:`fastkmeans.KMeansParams`' ``algorithm="auto"``: Lloyd,
    Hamerly or Yinyang), since every exact algorithm gives Lloyd's result; ``"hamerly"`` and
    ``"yinyang"`` ask for one of them. ``copy_x`` is accepted for compatibility: fastkmeans
    never modifies X.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {"k-means++", "random"}, callable or array-like of shape (n_clusters, n_features)
    n_init : "auto" or int, default="auto"
        1 for "k-means++" or an array, 10 otherwise.
    max_iter : int, default=300
    tol : float, default=1e-4
        Relative to the mean per-feature variance of X.
    verbose : int, default=0
    random_state : int, RandomState instance or None, default=None
    copy_x : bool, default=True
    algorithm : {"lloyd", "elkan", "auto", "hamerly", "yinyang"}, default="lloyd"
        ``"lloyd"`` and ``"elkan"`` (Elkan's bounds are not implemented here) mean
        ``"auto"``: the fastest exact algorithm for the data's shape. ``"auto"``,
        ``"hamerly"`` and ``"yinyang"`` are those of :class:`fastkmeans.KMeansParams`. All
        give Lloyd's result.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str, one name per feature
        Defined only when X has feature names that are all strings.

    Examples
    --------
    >>> import numpy as np
    >>> from fastkmeans.sklearn import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist())
    [[1.0, 2.0], [10.0, 2.0]]
    """

    _parameter_constraints: ClassVar[dict] = dict(_SkKMeans._parameter_constraints)

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        n_init: str | int = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        verbose: int = 0,
        random_state: Any = None,
        copy_x: bool = True,
        algorithm: str = "lloyd",
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm

    def _algorithm(self) -> str:
        if self.algorithm == "elkan" and self.n_clusters == 1:
            warn(
                "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead.",
                RuntimeWarning,
            )
            return "lloyd"
        if self.algorithm in ("lloyd", "elkan"):
            return "auto"  # every exact algorithm gives Lloyd's result: the fastest one
        return self.algorithm if self.algorithm in ALGORITHMS else "auto"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: Any = None, sample_weight: ArrayLike | None = None) -> KMeans:
        """Compute k-means clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training instances to cluster; a scipy sparse matrix is used as CSR.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            The weights for each observation in X.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = self._check_fit_data(X)
        self._check_params_vs_input(X, default_n_init=10)
        algorithm = self._algorithm()
        random_state = check_random_state(self.random_state)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        array_init = self._array_init(X)
        seeds = np.random.default_rng(random_state.randint(_INT32_MAX)).spawn(self._n_init)
        n, d = X.shape
        init_kind = "array" if array_init is not None or callable(self.init) else self.init
        # One choice of kernels for all the runs (the first run's stand-ins or the kernels).
        small = small_fit(n, d, self.n_clusters, resolve_init(init_kind, self.n_clusters))
        with first_run(X, small):
            best = self._best_run(X, sample_weight, seeds, array_init, algorithm, random_state)
        distinct = np.unique(best.labels).shape[0]
        if distinct < self.n_clusters:
            warn(
                f"Number of distinct clusters ({distinct}) found smaller than n_clusters "
                f"({self.n_clusters}). Possibly due to duplicate points in X.",
                _SkConvergenceWarning,
            )
        self._set_fitted(best)
        self.n_iter_ = int(best.n_iter)
        return self

    def _best_run(
        self,
        X: NDArray[np.floating],
        sample_weight: NDArray[np.floating],
        seeds: list[np.random.Generator],
        array_init: NDArray[np.floating] | None,
        algorithm: str,
        random_state: Any,
    ) -> KMeansModel:
        """scikit-learn's choice among the ``n_init`` runs: the lowest inertia, unless it
        is the same clustering as the best so far."""
        best: KMeansModel | None = None
        for seed in seeds:
            if array_init is not None:
                init: Any = array_init
            elif callable(self.init):
                init = self._callable_init(X, random_state)
            else:
                init = self.init
            params = KMeansParams(
                self.n_clusters,
                init=init,
                n_init=1,
                max_iter=self.max_iter,
                tol=self.tol,
                algorithm=algorithm,
                seed=seed,
            )
            with warnings.catch_warnings():
                # Re-issued below, once, as scikit-learn's ConvergenceWarning.
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = params.fit(X, sample_weight)
            if self.verbose:
                self._say(model)
            if best is None or (
                model.inertia < best.inertia and not _same_clustering(model.labels, best.labels)
            ):
                best = model
        assert best is not None
        return best

    def _absolute_tol(self) -> float:
        if self._tol_data is None:
            return 0.0
        return float(np.mean(np.var(self._tol_data, axis=0))) * self.tol

    def _say(self, model: KMeansModel) -> None:
        """scikit-learn's verbose lines for one run, from the run's history."""
        print("Initialization complete")
        h = model.history
        for i, inertia in enumerate(h.inertia):
            print(f"Iteration {i}, inertia {inertia}.")
        last = len(h) - 1
        if model.stop_reason == "strict":
            print(f"Converged at iteration {last}: strict convergence.")
        elif model.stop_reason == "tol":
            print(
                f"Converged at iteration {last}: center shift {h.center_shift[last]} "
                f"within tolerance {self._absolute_tol()}."
            )


class MiniBatchKMeans(_BaseKMeans):
    """Mini-Batch K-Means, scikit-learn's ``MiniBatchKMeans`` on fastkmeans' engine.

    Parameters, attributes and behaviour are scikit-learn's (see
    :class:`sklearn.cluster.MiniBatchKMeans`): Sculley's updates with count-based learning
    rates, low-count center reassignment, early stopping on the smoothed batch inertia,
    and ``partial_fit`` for data that arrives in batches. The steps run on
    :class:`fastkmeans.MiniBatchKMeansParams`' Numba kernels.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {"k-means++", "random"}, callable or array-like of shape (n_clusters, n_features)
    max_iter : int, default=100
    batch_size : int, default=1024
    verbose : int, default=0
    compute_labels : bool, default=True
    random_state : int, RandomState instance or None, default=None
    tol : float, default=0.0
    max_no_improvement : int or None, default=10
    init_size : int or None, default=None
    n_init : "auto" or int, default="auto"
        1 for "k-means++" or an array, 3 otherwise.
    reassignment_ratio : float, default=0.01

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
    n_iter_ : int
    n_steps_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str, one name per feature

    Examples
    --------
    >>> import numpy as np
    >>> from fastkmeans.sklearn import MiniBatchKMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 0], [4, 4],
    ...               [4, 5], [0, 1], [2, 2], [3, 2], [5, 5], [1, -1]])
    >>> km = MiniBatchKMeans(n_clusters=2, random_state=0, batch_size=6).fit(X)
    >>> km.cluster_centers_.shape
    (2, 2)
    """

    _parameter_constraints: ClassVar[dict] = dict(_SkMiniBatchKMeans._parameter_constraints)

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        max_iter: int = 100,
        batch_size: int = 1024,
        verbose: int = 0,
        compute_labels: bool = True,
        random_state: Any = None,
        tol: float = 0.0,
        max_no_improvement: int | None = 10,
        init_size: int | None = None,
        n_init: str | int = "auto",
        reassignment_ratio: float = 0.01,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.verbose = verbose
        self.compute_labels = compute_labels
        self.random_state = random_state
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.n_init = n_init
        self.reassignment_ratio = reassignment_ratio

    def _check_params_vs_input(self, X: NDArray[np.floating], default_n_init: int = 3) -> None:
        super()._check_params_vs_input(X, default_n_init)
        self._batch_size = min(self.batch_size, X.shape[0])
        init_size = self.init_size
        if init_size is None:
            init_size = 3 * self._batch_size
            if init_size < self.n_clusters:
                init_size = 3 * self.n_clusters
        elif init_size < self.n_clusters:
            warn(
                f"init_size={init_size} should be larger than n_clusters={self.n_clusters}. "
                "Setting it to min(3*n_clusters, n_samples)",
                RuntimeWarning,
            )
            init_size = 3 * self.n_clusters
        self._init_size = min(init_size, X.shape[0])

    def _params(self, init: Any, n_init: int, seed: Any) -> MiniBatchKMeansParams:
        return MiniBatchKMeansParams(
            self.n_clusters,
            batch_size=self.batch_size,
            max_iter=self.max_iter,
            init=init,
            n_init=n_init,
            tol=self.tol,
            max_no_improvement=self.max_no_improvement,
            init_size=self._init_size,
            reassignment_ratio=self.reassignment_ratio,
            compute_labels=self.compute_labels,
            seed=seed,
        )

    def _best_callable_init(
        self,
        X: NDArray[np.floating],
        sample_weight: NDArray[np.floating],
        random_state: np.random.RandomState,
    ) -> NDArray[np.floating]:
        """scikit-learn's choice among ``n_init`` calls of a callable ``init`` on random
        subsets: the lowest inertia on one random validation subset."""
        n = X.shape[0]
        valid = random_state.randint(0, n, self._init_size)
        best, best_inertia = None, np.inf
        for _ in range(self._n_init):
            idx = random_state.randint(0, n, self._init_size)
            centers = self._callable_init(X[idx], random_state)
            weights = sample_weight[valid].astype(np.float64)
            inertia = nearest(as_rows(X[valid]), weights, centers)[1]
            if best is None or inertia < best_inertia:
                best, best_inertia = centers, inertia
        assert best is not None
        return best

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: Any = None, sample_weight: ArrayLike | None = None
    ) -> MiniBatchKMeans:
        """Compute the centroids on X by chunking it into mini-batches.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training instances to cluster; a scipy sparse matrix is used as CSR.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            The weights for each observation in X (rows are drawn in proportion).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = self._check_fit_data(X)
        self._check_params_vs_input(X)
        random_state = check_random_state(self.random_state)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        init: Any = self._array_init(X)
        n_init = self._n_init
        if init is None and callable(self.init):
            init, n_init = self._best_callable_init(X, sample_weight, random_state), 1
        elif init is None:
            init = self.init
        params = self._params(init, n_init, random_state.randint(_INT32_MAX))
        model = fit_minibatch(params, X, sample_weight, verbose=bool(self.verbose))
        self._set_fitted(model, labels=self.compute_labels)
        if not self.compute_labels:
            self.inertia_ = float(model.inertia)
        self.n_steps_ = len(model.history)
        self.n_iter_ = int(model.n_iter)
        self._n_since_last_reassign = 0
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: ArrayLike, y: Any = None, sample_weight: ArrayLike | None = None
    ) -> MiniBatchKMeans:
        """Update k means estimate on a single mini-batch X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
            Return updated estimator.
        """
        has_centers = hasattr(self, "cluster_centers_")
        X = self._check_fit_data(X, reset=not has_centers)
        self._random_state = getattr(self, "_random_state", check_random_state(self.random_state))
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        self.n_steps_ = getattr(self, "n_steps_", 0)
        say = print if self.verbose else None
        if getattr(self, "_rng", None) is None:
            self._rng = np.random.default_rng(self._random_state.randint(_INT32_MAX))
        if not has_centers:
            self._check_params_vs_input(X)
            init: Any = self._array_init(X)
            if init is None and callable(self.init):
                idx = self._random_state.randint(0, X.shape[0], self._init_size)
                init = self._callable_init(X[idx], self._random_state)
            elif init is None:
                init = self.init
            params = self._params(init, 1, self._random_state.randint(_INT32_MAX))
            self._n_since_last_reassign = 0
            model = start_stream(params, X, sample_weight, self._rng, say)
        else:
            start = self._current_model()
            self._n_since_last_reassign += self._batch_size
            reassign = bool((start.cluster_weights == 0).any()) or (
                self._n_since_last_reassign >= 10 * self.n_clusters
            )
            if reassign:
                self._n_since_last_reassign = 0
            model = start.partial_fit(
                X, sample_weight, random_reassign=reassign, rng=self._rng, say=say
            )
        self._set_fitted(model, labels=self.compute_labels)
        self.n_steps_ += 1
        return self
