"""Checks that need data: shapes, dtypes, finiteness, weights. Run at the top of fit."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def as_float_array(X: Any, name: str = "X") -> NDArray[np.floating]:
    """Return ``X`` as a 2-D, finite, C-contiguous, writeable float32/float64 array.

    float32 stays float32, every other real dtype becomes float64. The caller's array is
    never modified: it is used as it is when it already qualifies, otherwise copied.
    """
    check_not_sparse(X, name)
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be read as a numeric array: {exc}") from None
    if arr.dtype.kind in "OUSV":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must contain real numbers, got dtype {arr.dtype}; "
                f"convert it first, e.g. with {name}.astype(np.float64)"
            ) from None
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} must contain real numbers, got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must contain real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(
            f"Expected a 2-D array of shape (n_samples, n_features) for {name}, got "
            f"{arr.ndim}-D with shape {arr.shape}; use .reshape(-1, 1) for a single feature "
            f"or .reshape(1, -1) for a single sample"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has 0 samples (shape {arr.shape}); at least 1 is required")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has 0 features (shape {arr.shape}); at least 1 is required")
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    if arr.dtype != dtype or not arr.flags.c_contiguous or not arr.flags.writeable:
        # Read-only inputs are copied: Numba would otherwise compile a second kernel set.
        arr = np.array(arr, dtype=dtype, order="C", copy=True)
    elif type(arr) is not np.ndarray:
        arr = arr.view(np.ndarray)
    check_finite(arr, name)
    return arr


def check_finite(arr: NDArray[np.floating], name: str) -> None:
    """Raise ``ValueError`` saying where the first NaN or infinity of ``arr`` is."""
    check_rows(arr, 0, False, name)


def bad_value(what: str, row: int, column: int, name: str = "X") -> ValueError:
    """The one message for a NaN or an infinity in the data (global row and column)."""
    return ValueError(f"Input {name} contains {what} (first at row {row}, column {column})")


def zero_row(row: int, name: str = "X") -> ValueError:
    """The one message for an all-zero row under ``metric="cosine"``."""
    return ValueError(
        f'metric="cosine" needs rows of non-zero length, but row {row} of {name} is all zeros'
    )


def check_rows(block: NDArray[np.floating], first_row: int, cosine: bool, name: str = "X") -> None:
    """Check the rows ``first_row..`` of the data held in ``block``: NaN, then infinity,
    then (with ``cosine``) all-zero rows, each reported with its global row number."""
    # A finite sum has no NaN or inf; one that overflows is checked value by value. In the
    # rows' own dtype: a float64 sum of float32 rows would convert every value first.
    with np.errstate(over="ignore"):  # an overflow here is no news for the caller
        total = block.sum()
    if not np.isfinite(total):
        for what, mask in (("NaN", np.isnan(block)), ("infinity", np.isinf(block))):
            if mask.any():
                i, j = (int(v) for v in np.argwhere(mask)[0])
                raise bad_value(what, first_row + i, j, name)
    if cosine and block.shape[0]:
        zero = np.flatnonzero(~block.any(axis=1))
        if zero.shape[0]:
            raise zero_row(first_row + int(zero[0]), name)


def check_n_clusters(n_samples: int, n_clusters: int) -> None:
    """Raise ``ValueError`` when there are fewer samples than clusters."""
    if n_samples < n_clusters:
        raise ValueError(f"n_samples={n_samples} should be >= n_clusters={n_clusters}.")


def check_features(X: NDArray[np.floating], n_features: int, name: str = "X") -> None:
    """Raise ``ValueError`` when ``X`` has another number of features than expected."""
    if X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the model was fitted with {n_features} features"
        )


def as_sample_weight(sample_weight: ArrayLike | None, n_samples: int) -> NDArray[np.float64]:
    """Return float64 weights of shape (n_samples,), checked: finite, >= 0, not all zero."""
    if sample_weight is None:
        return np.ones(n_samples, dtype=np.float64)
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must contain real numbers, got dtype {w.dtype}")
    if w.ndim == 0:
        w = np.full(n_samples, w, dtype=np.float64)
    if w.shape != (n_samples,):
        raise ValueError(f"sample_weight.shape == {w.shape}, expected ({n_samples},) to match X")
    w = np.array(w, dtype=np.float64, copy=True)
    if not np.isfinite(w).all():
        raise ValueError(
            f"sample_weight contains NaN or infinity (first at index "
            f"{int(np.flatnonzero(~np.isfinite(w))[0])})"
        )
    if (w < 0).any():
        i = int(np.flatnonzero(w < 0)[0])
        raise ValueError(f"sample_weight must be non-negative, got {w[i]} at index {i}")
    if not (w > 0).any():
        raise ValueError("sample_weight is zero everywhere; at least one weight must be > 0")
    return w


def as_initial_centers(
    init: NDArray[np.float64], n_clusters: int, n_features: int, dtype: type
) -> NDArray[np.floating]:
    """Check a precomputed ``init`` against the data and cast it to the data's dtype."""
    if init.shape != (n_clusters, n_features):
        raise ValueError(
            f"The shape of the initial centers {init.shape} does not match the number of "
            f"clusters and features: expected ({n_clusters}, {n_features})"
        )
    return np.array(init, dtype=dtype, order="C", copy=True)


def is_sparse(X: Any) -> bool:
    """Whether ``X`` is a scipy sparse matrix or array (a duck test: scipy is not imported)."""
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def check_not_sparse(X: Any, name: str = "X") -> None:
    """Refuse a scipy sparse matrix or array with a message that says what to do."""
    if is_sparse(X):
        raise TypeError(
            f"{name} is a scipy sparse {type(X).__name__}, and sparse input is not supported "
            f"yet: convert it with {name}.toarray() if the dense array fits in memory "
            f"({X.shape[0]} x {X.shape[1]} values)"
        )


def normalize_rows(X: NDArray[np.floating], name: str = "X") -> NDArray[np.floating]:
    """Rows scaled to unit Euclidean length (a new array); zero rows are an error."""
    norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
    if (norms == 0).any():
        raise zero_row(int(np.flatnonzero(norms == 0)[0]), name)
    return (X / norms[:, None]).astype(X.dtype, copy=False)


def weight_scale(w_max: float) -> float:
    """A power of two that brings weights of astronomic size (above 2**500) down to at most
    2, so that weighted sums cannot overflow float64; 1.0 for every other weight. Scaling
    by a power of two is exact, and weighted means do not depend on it."""
    if not w_max > 2.0**500:
        return 1.0
    return float(2.0 ** (np.ceil(np.log2(w_max)) - 1))
