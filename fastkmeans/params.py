"""Validated, immutable hyper-parameters: ``KMeansParams(...).fit(X) -> KMeansModel``."""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import KMeansParamsError, KMeansParamsTypeError

if TYPE_CHECKING:
    from .model import KMeansModel

InitName = Literal["k-means++", "random", "k-means||"]
Seed = int | np.random.Generator | None

INIT_NAMES = ("k-means++", "random", "k-means||")
ALGORITHMS = ("auto", "lloyd")
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
    if callable(value) or value is None:
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
            f"an initial centre array must have shape (n_clusters={n_clusters}, n_features), "
            f"got shape {arr.shape}",
        )
    if not np.isfinite(arr).all():
        raise KMeansParamsError("init", "the initial centres contain NaN or infinity")
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


@dataclass(frozen=True, slots=True, eq=False)
class KMeansParams(_ParamsMixin):
    """Hyper-parameters of exact k-means, checked when constructed.

    Parameters
    ----------
    n_clusters : int
        Number of clusters k (>= 1). The only positional parameter.
    init : {"k-means++", "random", "k-means||"} or array of shape (k, d)
        Seeding: greedy k-means++ (2 + floor(ln k) local trials), k distinct random rows
        drawn with probability proportional to their weight, k-means|| (Bahmani et al.), or
        the initial centroids themselves.
    n_init : int
        Independent runs, each with its own random stream; the lowest inertia wins.
    max_iter : int
        Maximum number of Lloyd iterations of one run.
    tol : float
        Relative tolerance: a run has converged when the sum of squared centroid shifts is
        at most ``tol`` times the mean per-feature variance of X. A run also stops, strictly
        converged, when no label changes.
    algorithm : {"auto", "lloyd"}
        The exact algorithm; every choice gives Lloyd's result from the same start.
    metric : {"euclidean", "cosine"}
        ``"cosine"`` is spherical k-means: rows scaled to unit length, unit centroids.
    seed : int, numpy.random.Generator or None
        Source of randomness. The same seed and data give the same result for any thread
        count.
    n_threads : int or None
        Threads for the parallel kernels; None uses all cores.
    progress : bool
        Show a progress bar (tqdm.auto) over runs and iterations.

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
    """

    n_clusters: int
    _: KW_ONLY
    init: str | NDArray[np.float64] = "k-means++"
    n_init: int = 1
    max_iter: int = 300
    tol: float = 1e-4
    algorithm: str = "auto"
    metric: str = "euclidean"
    seed: Seed = None
    n_threads: int | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "n_clusters", _check_int("n_clusters", self.n_clusters, 1))
        set_(self, "init", _check_init(self.init, self.n_clusters))
        set_(self, "n_init", _check_int("n_init", self.n_init, 1))
        set_(self, "max_iter", _check_int("max_iter", self.max_iter, 1))
        set_(self, "tol", _check_tol(self.tol))
        set_(self, "algorithm", _check_choice("algorithm", self.algorithm, ALGORITHMS))
        set_(self, "metric", _check_choice("metric", self.metric, METRICS))
        set_(self, "seed", _check_seed(self.seed))
        if self.n_threads is not None:
            set_(self, "n_threads", _check_int("n_threads", self.n_threads, 1))
        if not isinstance(self.progress, (bool, np.bool_)):
            raise KMeansParamsTypeError("progress", f"expected a bool, got {self.progress!r}")
        set_(self, "progress", bool(self.progress))

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
            Non-finite values, wrong shapes, fewer samples than clusters, bad weights, or a
            precomputed ``init`` of the wrong shape.
        """
        from ._fit import fit

        return fit(self, X, sample_weight)
