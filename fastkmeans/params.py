"""Validated, immutable hyper-parameters: ``KMeansParams(...).fit(X) -> KMeansModel``."""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._registry import register
from .errors import KMeansParamsError, KMeansParamsTypeError

if TYPE_CHECKING:
    from .model import KMeansModel

InitName = Literal["k-means++", "random", "k-means||"]
Seed = int | np.random.Generator | None

INIT_NAMES = ("auto", "k-means++", "random", "k-means||")
ALGORITHMS = ("auto", "lloyd", "hamerly", "yinyang", "optimal")
METRICS = ("euclidean", "cosine")


def _check_int(field: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise KMeansParamsTypeError(field, f"expected an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise KMeansParamsError(field, f"must be >= {minimum}, got {value!r}")
    return int(value)


def _check_choice(field: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise KMeansParamsTypeError(field, f"expected one of {choices}, got {value!r}")
    if value not in choices:
        raise KMeansParamsError(field, f"expected one of {choices}, got {value!r}")
    return value


def _check_init(value: Any, n_clusters: int) -> str | NDArray[np.float64]:
    if isinstance(value, str):
        return _check_choice("init", value, INIT_NAMES)
    if callable(value) or value is None or isinstance(value, (numbers.Number, bool)):
        raise KMeansParamsTypeError(
            "init", f"expected one of {INIT_NAMES} or an array of shape (k, d), got {value!r}"
        )
    try:
        arr = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise KMeansParamsTypeError(
            "init", f"expected one of {INIT_NAMES} or an array of shape (k, d), got {value!r}"
        ) from None
    if arr.ndim != 2 or arr.shape[0] != n_clusters or arr.shape[1] == 0:
        raise KMeansParamsError(
            "init",
            f"an initial center array must have shape (n_clusters={n_clusters}, n_features), "
            f"got shape {arr.shape}: {np.array2string(arr, threshold=12)}",
        )
    if not np.isfinite(arr).all():
        raise KMeansParamsError("init", "the initial centers contain NaN or infinity")
    arr.setflags(write=False)
    return arr


def _check_seed(value: Any) -> Seed:
    if value is None or isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise KMeansParamsTypeError(
            "seed", f"expected an int >= 0, a numpy.random.Generator or None, got {value!r}"
        )
    if value < 0:
        raise KMeansParamsError("seed", f"must be >= 0, got {value!r}")
    return int(value)


def _check_tol(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise KMeansParamsTypeError("tol", f"expected a float >= 0, got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise KMeansParamsError("tol", f"must be a finite float >= 0, got {value!r}")
    return float(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    return bool(a is b or a == b)


class _ParamsMixin:
    """Equality, hashing and ``replace`` shared by the params dataclasses."""

    def replace(self, **changes: Any) -> Any:
        """Return a copy with ``changes`` applied, validated again.

        Examples
        --------
        >>> import fastkmeans as fk
        >>> fk.KMeansParams(3, seed=0).replace(tol=1e-3).tol
        0.001
        """
        names = {f.name for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        for key in changes:
            if key not in names:
                raise KMeansParamsTypeError(
                    key, f"unknown parameter; expected one of {sorted(names)}"
                )
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            _same(getattr(self, f.name), getattr(other, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        )

    def __hash__(self) -> int:
        key = []
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            key.append(
                v.tobytes()
                if isinstance(v, np.ndarray)
                else id(v)
                if isinstance(v, np.random.Generator)
                else v
            )
        return hash(tuple(key))


@register
@dataclass(frozen=True, slots=True, eq=False)
class KMeansParams(_ParamsMixin):
    """Hyper-parameters of exact k-means, checked when constructed.

    Parameters
    ----------
    n_clusters : int
        Number of clusters k (>= 1). The only positional parameter.
    init : {"auto", "k-means++", "random", "k-means||"} or array of shape (k, d)
        Seeding: greedy k-means++ (2 + floor(ln k) local trials), k distinct random rows
        drawn with probability proportional to their weight, k-means|| (Bahmani et al.;
        its candidates reduced by weighted k-means++ up to four times, the lowest weighted
        potential kept), or the initial centroids themselves. ``"auto"`` (the default) is
        greedy k-means++ below ``_config.PARALLEL_INIT_MIN_CLUSTERS`` (64) clusters and
        k-means|| from 64 on, where every greedy step reads all of X for 2 + ln k
        candidates and k-means|| seeds in a handful of passes (measured in
        ``docs/benchmarks.md``, "Convergence"); the model's ``init_used`` says which ran.
    n_init : int
        Independent runs, each with its own random stream; the lowest inertia wins.
    max_iter : int
        Maximum number of Lloyd iterations of one run.
    tol : float
        Relative tolerance: a run has converged when the sum of squared centroid shifts is
        at most ``tol`` times the mean per-feature variance of X. A run also stops, strictly
        converged, when no label changes.
    algorithm : {"auto", "lloyd", "hamerly", "yinyang", "optimal"}
        The exact algorithm; every choice but "optimal" gives Lloyd's result from the same
        start (up to rounding in near-ties). Hamerly keeps two distance bounds per point,
        Yinyang one upper bound and one lower bound per group of centers (k / 10 groups,
        capped in memory); both skip most distance computations once clusters settle.
        "auto" picks one of these three by the shape of the data. "optimal" (one-feature
        data only, ``metric="euclidean"``) returns the exact global optimum of the
        weighted objective by a dynamic programme after a sort, in O(k u) time and O(n)
        memory for u distinct values; ``init``, ``n_init``, ``max_iter``, ``tol``,
        ``seed`` and ``progress`` play no part, the model has ``n_iter=0``,
        ``stop_reason="optimal"``, an empty history and centroids in ascending order.
        "auto" never picks it.
    metric : {"euclidean", "cosine"}
        ``"cosine"`` is spherical k-means: rows scaled to unit length, unit centroids.
    seed : int, numpy.random.Generator or None
        Source of randomness. The same seed and data give the same result for any thread
        count.
    n_threads : int or None
        Threads for the parallel kernels; None uses all cores.
    progress : bool
        Show a progress bar (tqdm.auto) over runs and iterations.
    size_min, size_max : int or None
        Size-constrained k-means (Bradley, Bennett and Demiriz 2000): every cluster ends
        with at least ``size_min`` and at most ``size_max`` samples (None: no limit). Each
        assignment step is solved exactly under the limits, as a min-cost flow over the
        k clusters (see the user guide for its cost: an n x k float64 distance matrix per
        step); the update step is the usual mean. ``size_min <= size_max`` is checked
        here, ``size_min * n_clusters <= n_samples <= size_max * n_clusters`` by ``fit``.
        Needs data in memory and no ``sample_weight``; ``algorithm`` does not apply
        (every distance is computed).

    Raises
    ------
    KMeansParamsError
        A ``ValueError`` (``TypeError`` too for wrong types) naming the field and value.

    Examples
    --------
    >>> import fastkmeans as fk
    >>> X = fk.datasets.make_tutorial_data(seed=0)
    >>> model = fk.KMeansParams(3, seed=42, max_iter=200, tol=1e-5).fit(X)
    >>> model.centroids.shape
    (3, 2)
    >>> balanced = fk.KMeansParams(3, seed=42, size_min=250, size_max=250).fit(X)
    >>> balanced.sizes.tolist()
    [250, 250, 250]
    """

    n_clusters: int
    _: KW_ONLY
    init: str | NDArray[np.float64] = "auto"
    n_init: int = 1
    max_iter: int = 300
    tol: float = 1e-4
    algorithm: str = "auto"
    metric: str = "euclidean"
    seed: Seed = None
    n_threads: int | None = None
    progress: bool = False
    size_min: int | None = None
    size_max: int | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "n_clusters", _check_int("n_clusters", self.n_clusters, 1))
        set_(self, "init", _check_init(self.init, self.n_clusters))
        set_(self, "n_init", _check_int("n_init", self.n_init, 1))
        set_(self, "max_iter", _check_int("max_iter", self.max_iter, 1))
        set_(self, "tol", _check_tol(self.tol))
        set_(self, "algorithm", _check_choice("algorithm", self.algorithm, ALGORITHMS))
        set_(self, "metric", _check_choice("metric", self.metric, METRICS))
        if self.algorithm == "optimal" and self.metric == "cosine":
            raise KMeansParamsError(
                "metric",
                "'cosine' with algorithm='optimal' is degenerate: one-feature rows scaled "
                "to unit length are all -1 or +1; use metric='euclidean'",
            )
        set_(self, "seed", _check_seed(self.seed))
        if self.n_threads is not None:
            set_(self, "n_threads", _check_int("n_threads", self.n_threads, 1))
        if not isinstance(self.progress, (bool, np.bool_)):
            raise KMeansParamsTypeError("progress", f"expected a bool, got {self.progress!r}")
        set_(self, "progress", bool(self.progress))
        set_(self, "size_min", _check_optional_int("size_min", self.size_min, 1))
        set_(self, "size_max", _check_optional_int("size_max", self.size_max, 1))
        if self.size_min is not None and self.size_max is not None:
            if self.size_min > self.size_max:
                raise KMeansParamsError(
                    "size_max",
                    f"must be >= size_min={self.size_min}, got {self.size_max!r}",
                )
        if self.algorithm == "optimal" and (self.size_min, self.size_max) != (None, None):
            raise KMeansParamsError(
                "algorithm",
                "'optimal' (the unconstrained one-feature optimum) does not take size_min or "
                "size_max; use algorithm='auto' for clusters with size limits",
            )

    def fit(self, X: ArrayLike, sample_weight: ArrayLike | None = None) -> KMeansModel:
        """Cluster ``X`` and return the fitted model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real numbers; float32 stays float32, other dtypes become float64. Never modified.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative finite weights, not all zero.

        Returns
        -------
        KMeansModel
            Centroids, labels and inertia of the best run, with its history.

        Raises
        ------
        ValueError
            Non-finite values, wrong shapes, fewer samples than clusters, bad weights, a
            precomputed ``init`` of the wrong shape, or size limits that ``X`` cannot meet
            (or given with ``sample_weight`` or with data not in memory).
        """
        from ._fit import fit  # the engine loads with the first fit, not at import

        return fit(self, X, sample_weight)


MINIBATCH_INIT_NAMES = ("k-means++", "random")


def _check_optional_int(field: str, value: Any, minimum: int) -> int | None:
    return None if value is None else _check_int(field, value, minimum)


@register
@dataclass(frozen=True, slots=True, eq=False)
class MiniBatchKMeansParams(_ParamsMixin):
    """Hyper-parameters of mini-batch k-means (Sculley 2010), checked when constructed.

    Each step draws ``batch_size`` rows (with replacement, probability proportional to their
    weight), assigns them to the nearest center and moves every center towards the mean of
    its rows with a per-cluster learning rate ``1 / count``, as scikit-learn's
    ``MiniBatchKMeans`` does. The model's ``cluster_weights`` hold the counts, so that
    :meth:`KMeansModel.partial_fit` can continue the stream.

    Parameters
    ----------
    n_clusters : int
        Number of clusters k (>= 1). The only positional parameter.
    batch_size : int
        Rows per mini-batch (capped at the number of samples).
    max_iter : int
        Maximum number of passes over the data; there are at most
        ``max_iter * n_samples // batch_size`` steps.
    init : {"k-means++", "random"} or array of shape (k, d)
        Seeding, run on a random subset of ``init_size`` rows.
    n_init : int
        Number of seedings tried; the one with the lowest inertia on a common random
        validation subset is kept (the mini-batch steps then run once).
    tol : float
        Stop when the sum of squared center moves of a step is at most ``tol`` times the mean
        per-feature variance of X. 0 (the default) switches this rule off.
    max_no_improvement : int or None
        Stop after this many consecutive steps without improvement of the exponentially
        weighted average of the batch inertia. None switches this rule off.
    init_size : int or None
        Rows drawn for the seeding; None means ``3 * batch_size`` (at least
        ``3 * n_clusters``).
    reassignment_ratio : float
        Centers whose count falls below this fraction of the largest count are moved to
        random rows of the batch (checked every ``10 * n_clusters`` samples, and whenever a
        count is zero). 0 switches reassignment off.
    compute_labels : bool
        After the last step, label every sample and compute the exact inertia (one more
        pass over the data). When False, ``labels`` is empty and ``inertia`` is the smoothed
        batch estimate, as in scikit-learn.
    metric : {"euclidean", "cosine"}
        ``"cosine"`` is spherical k-means: rows scaled to unit length.
    seed : int, numpy.random.Generator or None
        Source of randomness. The same seed and data give the same result for any thread
        count.
    n_threads : int or None
        Threads for the parallel kernels; None uses all cores.
    progress : bool
        Show a progress bar (tqdm.auto) over the steps.

    Examples
    --------
    >>> import fastkmeans as fk
    >>> X, _ = fk.datasets.make_blobs(5000, 2, 3, seed=0)
    >>> model = fk.MiniBatchKMeansParams(3, batch_size=256, seed=0).fit(X)
    >>> model.centroids.shape
    (3, 2)
    >>> model.partial_fit(X[:256]).cluster_weights.sum() > model.cluster_weights.sum()
    True
    """

    n_clusters: int
    _: KW_ONLY
    batch_size: int = 1024
    max_iter: int = 100
    init: str | NDArray[np.float64] = "k-means++"
    n_init: int = 1
    tol: float = 0.0
    max_no_improvement: int | None = 10
    init_size: int | None = None
    reassignment_ratio: float = 0.01
    compute_labels: bool = True
    metric: str = "euclidean"
    seed: Seed = None
    n_threads: int | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "n_clusters", _check_int("n_clusters", self.n_clusters, 1))
        set_(self, "batch_size", _check_int("batch_size", self.batch_size, 1))
        set_(self, "max_iter", _check_int("max_iter", self.max_iter, 1))
        if isinstance(self.init, str):
            set_(self, "init", _check_choice("init", self.init, MINIBATCH_INIT_NAMES))
        else:
            set_(self, "init", _check_init(self.init, self.n_clusters))
        set_(self, "n_init", _check_int("n_init", self.n_init, 1))
        set_(self, "tol", _check_tol(self.tol))
        set_(
            self,
            "max_no_improvement",
            _check_optional_int("max_no_improvement", self.max_no_improvement, 0),
        )
        set_(self, "init_size", _check_optional_int("init_size", self.init_size, 1))
        ratio = self.reassignment_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real):
            raise KMeansParamsTypeError(
                "reassignment_ratio", f"expected a float >= 0, got {ratio!r}"
            )
        if not np.isfinite(ratio) or ratio < 0:
            raise KMeansParamsError(
                "reassignment_ratio", f"must be a finite float >= 0, got {ratio!r}"
            )
        set_(self, "reassignment_ratio", float(ratio))
        for name in ("compute_labels", "progress"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise KMeansParamsTypeError(name, f"expected a bool, got {value!r}")
            set_(self, name, bool(value))
        set_(self, "metric", _check_choice("metric", self.metric, METRICS))
        set_(self, "seed", _check_seed(self.seed))
        if self.n_threads is not None:
            set_(self, "n_threads", _check_int("n_threads", self.n_threads, 1))

    def fit(self, X: ArrayLike, sample_weight: ArrayLike | None = None) -> KMeansModel:
        """Cluster ``X`` with mini-batch steps and return the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real numbers; float32 stays float32, other dtypes become float64. Never modified.
            An ``np.memmap`` (or another sliceable array-like) larger than the memory budget
            is read in rows, never loaded whole (see :mod:`fastkmeans._sources.stream`).
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative finite weights, not all zero: rows are drawn with probability
            proportional to their weight.

        Returns
        -------
        KMeansModel
            ``n_iter`` is the number of passes over the data (scikit-learn's ``n_iter_``);
            ``history`` has one entry per step; ``stop_reason`` is ``"tol"``,
            ``"no_improvement"`` or ``"max_iter"``.
        """
        from ._fit import fit_minibatch

        return fit_minibatch(self, X, sample_weight)
