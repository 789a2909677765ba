"""The fitted model: an immutable value with predict, transform, score, save and load."""

from __future__ import annotations

import dataclasses
import io
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._registry import PARAMS_CLASSES

if TYPE_CHECKING:
    from .params import KMeansParams

_FORMAT = "fastkmeans-model/1"


def _frozen(a: NDArray[Any]) -> NDArray[Any]:
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.copy() if a.base is not None else a
        a.setflags(write=False)
    return a


@dataclass(frozen=True, slots=True, eq=False)
class FitHistory:
    """Per-iteration record of one run; every field has one entry per iteration.

    Attributes
    ----------
    inertia : ndarray of float64
        Inertia of the assignment made in the iteration (to the centroids it started with).
        Iterations between refreshes of the incremental sums (Lloyd's on large data,
        Hamerly's and Yinyang's bounded ones) compute it from per-cluster sufficient
        statistics (about 1e-12 relative of the exact sum on well-conditioned data); the
        model's ``inertia`` is always the exact sum.
    center_shift : ndarray of float64
        Sum of squared centroid shifts made by the iteration's update.
    labels_changed : ndarray of int64
        Number of samples whose label changed in the iteration.
    n_reseeded : ndarray of int64
        Number of empty clusters re-seeded at the farthest points.
    """

    inertia: NDArray[np.float64]
    center_shift: NDArray[np.float64]
    labels_changed: NDArray[np.int64]
    n_reseeded: NDArray[np.int64]

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _frozen(getattr(self, f.name)))

    def __len__(self) -> int:
        return int(self.inertia.shape[0])

    @classmethod
    def from_records(cls, records: list[tuple[float, float, int, int]]) -> FitHistory:
        """Build from a list of ``(inertia, center_shift, labels_changed, n_reseeded)``."""
        cols = list(zip(*records)) if records else [(), (), (), ()]
        return cls(
            np.array(cols[0], dtype=np.float64),
            np.array(cols[1], dtype=np.float64),
            np.array(cols[2], dtype=np.int64),
            np.array(cols[3], dtype=np.int64),
        )


@dataclass(frozen=True, slots=True, eq=False)
class KMeansModel:
    """A fitted k-means model. Immutable: arrays are read-only.

    Attributes
    ----------
    centroids : ndarray of shape (k, d)
        Cluster centers, in the dtype of the training data.
    labels : ndarray of shape (n,)
        Cluster of each training sample (int64).
    inertia : float
        Weighted sum of squared distances of the samples to their centroid.
    n_iter : int
        Iterations of the winning run (for mini-batch models: passes over the data).
    converged : bool
        Whether the winning run stopped before ``max_iter``.
    stop_reason : {"strict", "tol", "max_iter", "no_improvement", "optimal"}
        Why the winning run stopped: no label changed, centroid shift within tolerance,
        iteration budget spent, (mini-batch only) no improvement of the smoothed inertia,
        or (``algorithm="optimal"``, no iterations) the exact optimum was computed.
    history : FitHistory
        Per-iteration record of the winning run; for mini-batch models one entry per step,
        with ``labels_changed`` set to -1 (not tracked).
    params : KMeansParams
        The parameters that produced the model.
    cluster_weights : ndarray of shape (k,)
        Total sample weight in each cluster (the counts that ``partial_fit`` continues from).
    init_used : str
        The seeding that ran: ``"k-means++"``, ``"k-means||"``, ``"random"`` or
        ``"array"`` (``params.init="auto"`` picks one of the first two by ``n_clusters``);
        ``""`` where there was none (``algorithm="optimal"``, mini-batch models).
    """

    centroids: NDArray[np.floating]
    labels: NDArray[np.int64]
    inertia: float
    n_iter: int
    converged: bool
    stop_reason: str
    history: FitHistory
    params: KMeansParams
    cluster_weights: NDArray[np.float64]
    init_used: str = ""

    def __post_init__(self) -> None:
        for name in ("centroids", "labels", "cluster_weights"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "inertia", float(self.inertia))

    @property
    def n_clusters(self) -> int:
        """Number of clusters k."""
        return int(self.centroids.shape[0])

    @property
    def n_features(self) -> int:
        """Number of features d seen at fit time."""
        return int(self.centroids.shape[1])

    @property
    def inertia_history(self) -> NDArray[np.float64]:
        """Inertia of each iteration of the winning run (``history.inertia``)."""
        return self.history.inertia

    @property
    def sizes(self) -> NDArray[np.int64]:
        """Number of training samples in each cluster, shape (k,), counted from
        :attr:`labels` (all zeros for a mini-batch model fitted without labels). With
        ``params.size_min``/``size_max`` every size lies within them."""
        return np.bincount(np.asarray(self.labels), minlength=self.n_clusters)

    def predict(self, X: ArrayLike, *, respect_sizes: bool = False) -> NDArray[np.int64]:
        """Label of the nearest centroid for each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        respect_sizes : bool, keyword-only
            For a model fitted with ``size_min``/``size_max``: assign the batch ``X``
            jointly, with the least total squared distance under the model's limits
            scaled to the batch (``floor(size_min * m / n)`` and
            ``ceil(size_max * m / n)`` for a batch of m rows and n training samples, so
            that it is always feasible and a batch the size of the training data gets the
            limits themselves). Labels then depend on the whole batch, not on each row
            alone. False (the default) gives each row its nearest centroid, whatever the
            limits.

        Returns
        -------
        ndarray of shape (n_samples,), int64
            Ties go to the lowest centroid index.

        Raises
        ------
        ValueError
            ``respect_sizes=True`` for a model without size limits, or for a dask array.

        Examples
        --------
        >>> import numpy as np, fastkmeans as fk
        >>> model = fk.KMeansParams(2, init=np.array([[0.0], [10.0]])).fit([[1.0], [9.0]])
        >>> model.predict([[2.0], [8.0]]).tolist()
        [0, 1]
        >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
        >>> sized = fk.KMeansParams(2, init=[[0.0], [10.0]], size_max=2).fit(X)
        >>> sized.predict([[1.0], [2.0], [3.0], [4.0]], respect_sizes=True).tolist()
        [0, 0, 1, 1]
        """
        from . import _predict  # the engine loads with the first call, not at import

        return _predict.assign(self, X, None, respect_sizes=respect_sizes)[0]

    def transform(self, X: ArrayLike) -> NDArray[np.float64]:
        """Euclidean distance of each row of ``X`` to each centroid, shape (n_samples, k).

        With ``metric="cosine"`` the rows are first scaled to unit length.
        """
        from . import _predict

        return _predict.distances(self, X)

    def score(self, X: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Minus the inertia of ``X`` (weighted sum of squared distances to the nearest
        centroid): larger is better, as in scikit-learn."""
        from . import _predict

        return -_predict.assign(self, X, sample_weight)[1]

    def partial_fit(
        self,
        X: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        random_reassign: bool | None = None,
        rng: np.random.Generator | None = None,
        say: Any = None,
    ) -> KMeansModel:
        """Return a new model updated with one mini-batch ``X`` (the old one is unchanged).

        The update is Sculley's mini-batch step with per-cluster learning rates from
        :attr:`cluster_weights`, as in scikit-learn's ``MiniBatchKMeans.partial_fit``. The
        new model's ``labels`` and ``inertia`` belong to the batch and the updated centers
        (when ``compute_labels``); its history gains one entry. ``random_reassign``,
        ``rng`` and ``say`` (a print function) are for the scikit-learn adapter, which
        keeps its own reassignment counter and random stream.
        """
        from . import _minibatch

        centers, counts, labels, inertia, record = _minibatch.partial_step(
            self.params,
            np.asarray(self.centroids),
            np.asarray(self.cluster_weights),
            len(self.history),
            X,
            sample_weight,
            random_reassign=random_reassign,
            rng=rng,
            say=say,
        )
        h = self.history
        return dataclasses.replace(
            self,
            centroids=centers,
            labels=labels,
            inertia=inertia,
            history=FitHistory(
                np.append(h.inertia, record[0]),
                np.append(h.center_shift, record[1]),
                np.append(h.labels_changed, record[2]),
                np.append(h.n_reseeded, record[3]),
            ),
            cluster_weights=counts,
        )

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path`` as a NumPy ``.npz`` file (no pickle involved).

        The file is written exactly at ``path`` (no suffix is added).
        """
        params, init = _params_to_json(self.params)
        arrays: dict[str, NDArray[Any]] = {
            "format": np.array(_FORMAT),
            "params": np.array(params),
            "centroids": np.asarray(self.centroids),
            "labels": np.asarray(self.labels),
            "inertia": np.array(self.inertia, dtype=np.float64),
            "n_iter": np.array(self.n_iter, dtype=np.int64),
            "converged": np.array(self.converged),
            "stop_reason": np.array(self.stop_reason),
            "cluster_weights": np.asarray(self.cluster_weights),
            "init_used": np.array(self.init_used),
        }
        for f in dataclasses.fields(FitHistory):
            arrays[f"history_{f.name}"] = np.asarray(getattr(self.history, f.name))
        if init is not None:
            arrays["params_init"] = init
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        with open(path, "wb") as fh:
            fh.write(buf.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> KMeansModel:
        """Read a model written by :meth:`save`; loading never executes pickled code.

        Raises
        ------
        ValueError
            The file is not a fastkmeans model, or its arrays do not agree with each other
            or with its params (shapes, dtypes, values).
        """
        name = os.fspath(path)
        with np.load(path, allow_pickle=False) as z:
            if "format" not in z.files or str(z["format"]) != _FORMAT:
                raise ValueError(f"{name!r} is not a fastkmeans model file")
            missing = [f for f in _FILE_ARRAYS if f not in z.files]
            if missing:
                raise ValueError(f"{name!r} lacks the arrays {missing}")
            arrays = {f: z[f] for f in z.files}
        init = arrays.get("params_init")
        try:
            params = _params_from_json(str(arrays["params"]), init)
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"{name!r} holds parameters that do not validate: {exc}") from None
        _check_file(name, arrays, params)
        history = FitHistory(*(arrays[f"history_{f.name}"] for f in dataclasses.fields(FitHistory)))
        return cls(
            centroids=arrays["centroids"],
            labels=arrays["labels"],
            inertia=float(arrays["inertia"]),
            n_iter=int(arrays["n_iter"]),
            converged=bool(arrays["converged"]),
            stop_reason=str(arrays["stop_reason"]),
            history=history,
            params=params,
            cluster_weights=arrays["cluster_weights"],
            init_used=str(arrays["init_used"]) if "init_used" in arrays else "",
        )


_FILE_ARRAYS = (
    "params",
    "centroids",
    "labels",
    "inertia",
    "n_iter",
    "converged",
    "stop_reason",
    "cluster_weights",
    *(f"history_{f}" for f in ("inertia", "center_shift", "labels_changed", "n_reseeded")),
)
_STOP_REASONS = ("strict", "tol", "max_iter", "no_improvement", "optimal")


def _check_file(name: str, z: dict[str, NDArray[Any]], params: Any) -> None:
    """Refuse a model file whose arrays disagree with each other or with ``params``."""

    def bad(what: str) -> ValueError:
        return ValueError(f"{name!r} is not a consistent fastkmeans model: {what}")

    c, labels, weights = z["centroids"], z["labels"], z["cluster_weights"]
    k = params.n_clusters
    if c.dtype not in (np.float32, np.float64) or c.ndim != 2 or c.shape[0] != k or not c.size:
        raise bad(f"centroids of dtype {c.dtype} and shape {c.shape}, expected float32 or "
                  f"float64 of shape ({k}, n_features) for n_clusters={k}")  # fmt: skip
    if not np.isfinite(c).all():
        raise bad("centroids contain NaN or infinity")
    if isinstance(params.init, np.ndarray) and params.init.shape != c.shape:
        raise bad(f"params.init has shape {params.init.shape}, centroids {c.shape}")
    if labels.dtype != np.int64 or labels.ndim != 1:
        raise bad(f"labels of dtype {labels.dtype} and shape {labels.shape}, expected 1-D int64")
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise bad(f"labels outside [0, {k})")
    if weights.dtype != np.float64 or weights.shape != (k,) or not (weights >= 0).all():
        raise bad(f"cluster_weights of dtype {weights.dtype} and shape {weights.shape}, "
                  f"expected {k} non-negative float64")  # fmt: skip
    for key, kind in (("inertia", "f"), ("n_iter", "i"), ("converged", "b"), ("stop_reason", "U")):
        if z[key].shape != () or z[key].dtype.kind != kind:
            raise bad(f"{key} of dtype {z[key].dtype} and shape {z[key].shape}")
    if int(z["n_iter"]) < 0 or not float(z["inertia"]) >= 0:
        raise bad(f"n_iter={int(z['n_iter'])}, inertia={float(z['inertia'])}")
    reason = str(z["stop_reason"])
    if reason not in _STOP_REASONS or bool(z["converged"]) != (reason != "max_iter"):
        raise bad(f"stop_reason={reason!r} with converged={bool(z['converged'])}")
    lengths = set()
    for f, dtype in (("inertia", np.float64), ("center_shift", np.float64),
                     ("labels_changed", np.int64), ("n_reseeded", np.int64)):  # fmt: skip
        h = z[f"history_{f}"]
        if h.dtype != dtype or h.ndim != 1:
            raise bad(f"history_{f} of dtype {h.dtype} and shape {h.shape}")
        lengths.add(h.shape[0])
    if len(lengths) != 1:
        raise bad(f"history arrays of different lengths {sorted(lengths)}")
    lo, hi = getattr(params, "size_min", None), getattr(params, "size_max", None)
    if labels.size and (lo is not None or hi is not None):
        sizes = np.bincount(labels, minlength=k)
        if (lo is not None and sizes.min() < lo) or (hi is not None and sizes.max() > hi):
            raise bad(f"cluster sizes {sizes.min()}..{sizes.max()} outside the params' "
                      f"size_min={lo}, size_max={hi}")  # fmt: skip


def _params_to_json(params: Any) -> tuple[str, NDArray[np.float64] | None]:
    out: dict[str, Any] = {"class": type(params).__name__}
    init = None
    for f in dataclasses.fields(params):
        v = getattr(params, f.name)
        if isinstance(v, np.ndarray):
            init = v
            v = {"array": "params_init"}
        elif isinstance(v, np.random.Generator):
            v = {"generator": v.bit_generator.state}
        out[f.name] = v
    return json.dumps(out), init


def _params_from_json(text: str, init: NDArray[np.float64] | None) -> Any:
    raw = json.loads(text)
    name = raw.pop("class")
    if name not in PARAMS_CLASSES:
        raise ValueError(f"unknown parameter class {name!r} in the model file")
    cls = PARAMS_CLASSES[name]
    for key, v in raw.items():
        if isinstance(v, dict) and "array" in v:
            raw[key] = init
        elif isinstance(v, dict) and "generator" in v:
            state = v["generator"]
            bit_gen = getattr(np.random, state["bit_generator"])()
            bit_gen.state = state
            raw[key] = np.random.Generator(bit_gen)
    return cls(**raw)
