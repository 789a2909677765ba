"""Slow, obviously correct NumPy references for every kernel (stumpy's habit)."""

from __future__ import annotations

import numpy as np


def sq_distances(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """(n, k) exact squared distances, in float64."""
    X = np.asarray(X, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    return ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)


def assign(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Nearest centre, ties to the lowest index."""
    return np.argmin(sq_distances(X, C), axis=1)


def inertia(X: np.ndarray, C: np.ndarray, labels: np.ndarray, w: np.ndarray | None = None) -> float:
    d = sq_distances(X, C)[np.arange(len(labels)), labels]
    return float(d.sum() if w is None else (d * w).sum())


def lloyd_step(X: np.ndarray, C: np.ndarray, w: np.ndarray | None = None):
    """One Lloyd iteration: labels from C, new centres as weighted means (empty keep C)."""
    X64 = np.asarray(X, dtype=np.float64)
    w = np.ones(len(X64)) if w is None else np.asarray(w, dtype=np.float64)
    labels = assign(X64, C)
    new = np.array(C, dtype=np.float64)
    for j in range(len(C)):
        m = labels == j
        if w[m].sum() > 0:
            new[j] = (w[m, None] * X64[m]).sum(axis=0) / w[m].sum()
    return labels, new


def lloyd(X: np.ndarray, C: np.ndarray, max_iter: int, tol: float = 0.0, w=None):
    """Plain Lloyd with scikit-learn's stopping rules (no empty clusters expected)."""
    X64 = np.asarray(X, dtype=np.float64)
    tol_abs = tol * np.var(X64, axis=0).mean()
    C = np.asarray(C, dtype=np.float64)
    old = None
    it = 0
    for it in range(max_iter):  # noqa: B007 (it is returned)
        labels, new = lloyd_step(X64, C, w)
        shift = ((new - C) ** 2).sum()
        C = new
        if old is not None and (labels == old).all():
            break
        if shift <= tol_abs:
            break
        old = labels
    labels = assign(X64, C)
    return C, labels, inertia(X64, C, labels, w), it + 1
