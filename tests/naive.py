"""Slow, obviously correct NumPy references for every kernel (stumpy's habit)."""

from __future__ import annotations

import numpy as np


def sq_distances(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """(n, k) exact squared distances, in float64."""
    X = np.asarray(X, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    return ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)


def assign(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Nearest center, ties to the lowest index."""
    return np.argmin(sq_distances(X, C), axis=1)


def inertia(X: np.ndarray, C: np.ndarray, labels: np.ndarray, w: np.ndarray | None = None) -> float:
    d = sq_distances(X, C)[np.arange(len(labels)), labels]
    return float(d.sum() if w is None else (d * w).sum())


def lloyd_step(X: np.ndarray, C: np.ndarray, w: np.ndarray | None = None):
    """One Lloyd iteration: labels from C, new centers as weighted means (empty keep C)."""
    X64 = np.asarray(X, dtype=np.float64)
    w = np.ones(len(X64)) if w is None else np.asarray(w, dtype=np.float64)
    labels = assign(X64, C)
    new = np.array(C, dtype=np.float64)
    for j in range(len(C)):
        m = labels == j
        if w[m].sum() > 0:
            new[j] = (w[m, None] * X64[m]).sum(axis=0) / w[m].sum()
    return labels, new


def farthest(dist: np.ndarray, m: int) -> list[int]:
    """The m largest distances, farthest first, equal distances later row first."""
    order = sorted(range(len(dist)), key=lambda i: (-dist[i], -i))
    return order[:m]


def lloyd(X: np.ndarray, C: np.ndarray, max_iter: int, tol: float = 0.0, w=None, step=None):
    """Plain Lloyd with scikit-learn's rules: relative ``tol``, strict convergence, empty
    clusters re-seeded at the farthest points (none when every point sits on its center),
    a final assignment. ``step(X, C)`` gives the labels of each assignment (the nearest
    center by default). Returns (centers, labels, inertia, n_iter, stop reason)."""
    assign_step = assign if step is None else step
    X64 = np.asarray(X, dtype=np.float64)
    w = np.ones(len(X64)) if w is None else np.asarray(w, dtype=np.float64)
    tol_abs = tol * np.var(X64, axis=0).mean()
    C = np.asarray(C, dtype=np.float64)
    old = np.full(len(X64), -1)
    stop, shift = "max_iter", np.inf
    for it in range(max_iter):  # noqa: B007 (it is returned)
        labels = assign_step(X64, C)
        sums = np.zeros_like(C)
        wsums = np.zeros(len(C))
        np.add.at(sums, labels, w[:, None] * X64)
        np.add.at(wsums, labels, w)
        empty = np.flatnonzero(wsums <= 0)
        if empty.size:
            dist = sq_distances(X64, C)[np.arange(len(X64)), labels]
            dist[w <= 0] = -1.0
            if dist.max() > 0:
                for j, i in zip(empty, farthest(dist, min(empty.size, int((w > 0).sum())))):
                    sums[labels[i]] -= w[i] * X64[i]
                    wsums[labels[i]] -= w[i]
                    sums[j], wsums[j] = w[i] * X64[i], w[i]
        new = C.copy()
        full = wsums > 0
        new[full] = sums[full] / wsums[full, None]
        shift = ((new - C) ** 2).sum()
        C = new
        if (labels == old).all():
            stop = "strict"
            break
        if shift <= tol_abs:
            stop = "tol"
            break
        old = labels
    labels = assign_step(X64, C)
    return C, labels, inertia(X64, C, labels, w), it + 1, stop


def weighted_pick(p: np.ndarray, target: float) -> int:
    """First row whose running sum of ``p`` exceeds ``target``."""
    return int(np.searchsorted(np.cumsum(p), target, side="right"))


def kmeans_plusplus(X: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator):
    """Greedy k-means++ with 2 + floor(ln k) local trials, drawing what the library draws:
    one uniform for the first center, then (k - 1) x trials uniforms."""
    X64 = np.asarray(X, dtype=np.float64)
    n_trials = 2 + int(np.log(k))
    first_u = float(rng.random())
    trial_u = rng.random((max(k - 1, 0), n_trials))
    out = [weighted_pick(w, first_u * w.sum())]
    closest = ((X64 - X64[out[0]]) ** 2).sum(axis=1)
    for step in range(1, k):
        pot = w * closest
        if pot.sum() <= 0:
            out.append((out[-1] + 1) % len(X64))
            continue
        cands = [min(weighted_pick(pot, u * pot.sum()), len(X64) - 1) for u in trial_u[step - 1]]
        d2 = [((X64 - X64[c]) ** 2).sum(axis=1) for c in cands]
        best = int(np.argmin([(w * np.minimum(closest, d)).sum() for d in d2]))
        out.append(cands[best])
        closest = np.minimum(closest, d2[best])
    return np.array(out)


def kmeans_parallel(X: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator):
    """k-means|| (Bahmani et al.) with the library's random streams and rounds (data in
    memory are block 0), reduced to k centers by :func:`kmeans_plusplus`."""
    X64 = np.asarray(X, dtype=np.float64)
    root = int(rng.integers(2**63))
    first = weighted_pick(w, float(np.random.default_rng([root]).random()) * w.sum())
    cands = [X64[first]]
    closest = ((X64 - X64[first]) ** 2).sum(axis=1)
    nearest = np.zeros(len(X64), dtype=int)
    pot, r = float((w * closest).sum()), 0
    while pot > 0 and (r < 5 or (len(cands) < k and r < 15)):
        r += 1
        u = np.random.default_rng([root, r, 0]).random(len(X64))
        for i in np.flatnonzero(u * pot < 2.0 * k * (w * closest)):
            d2 = ((X64 - X64[i]) ** 2).sum(axis=1)
            nearer = d2 < closest
            closest[nearer], nearest[nearer] = d2[nearer], len(cands)
            cands.append(X64[i])
        pot = float((w * closest).sum())
    cands = np.array(cands)
    weights = np.bincount(nearest, weights=w, minlength=len(cands))
    # Reductions: as many as cost half a pass over the rows, at most 4; the lowest
    # weighted potential over the candidates wins (the first of equal ones).
    runs = max(1, min(4, int(0.5 * len(X64) / (len(cands) * (2 + int(np.log(k)))))))
    best = None
    for _ in range(runs):
        picked = cands[kmeans_plusplus(cands, weights, k, rng)]
        potential = float((weights * sq_distances(cands, picked).min(axis=1)).sum())
        if best is None or potential < best[0]:
            best = (potential, picked)
    return best[1]


def minibatch_step(X, w, C, counts):
    """scikit-learn's mini-batch update in plain NumPy: (new centers, new counts, inertia,
    labels)."""
    X64 = np.asarray(X, dtype=np.float64)
    C64 = np.asarray(C, dtype=np.float64)
    labels = assign(X64, C64)
    batch_inertia = inertia(X64, C64, labels, w)
    new = C64.copy()
    counts = counts.copy()
    for j in range(len(C64)):
        m = labels == j
        ws = w[m].sum()
        if ws > 0:
            new[j] = (C64[j] * counts[j] + (w[m, None] * X64[m]).sum(axis=0)) / (counts[j] + ws)
            counts[j] += ws
    return new, counts, batch_inertia, labels


def optimal_1d(x: np.ndarray, k: int, w: np.ndarray | None = None) -> float:
    """The least weighted k-means cost of the values ``x`` in ``k`` clusters: the O(k n^2)
    dynamic programme over the sorted values (each cluster of an optimal one-feature
    clustering is a run of consecutive sorted values), every interval's cost computed
    directly from its mean. ``D[m][e]``: the first ``e`` values in ``m`` non-empty runs."""
    x = np.asarray(x, dtype=np.float64).ravel()
    w = np.ones(len(x)) if w is None else np.asarray(w, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    n = len(x)
    cost = np.zeros((n + 1, n + 1))
    for s in range(n):
        for e in range(s + 1, n + 1):
            ws = w[s:e]
            if ws.sum() > 0:
                mean = (ws * x[s:e]).sum() / ws.sum()
                cost[s, e] = (ws * (x[s:e] - mean) ** 2).sum()
    D = np.full((k + 1, n + 1), np.inf)
    D[0, 0] = 0.0
    for m in range(1, k + 1):
        for e in range(m, n + 1):
            D[m, e] = min(D[m - 1, s] + cost[s, e] for s in range(m - 1, e))
    return float(D[k, n])


def constrained_assignment(cost: np.ndarray, size_min: int, size_max: int) -> np.ndarray:
    """Labels of least total ``cost`` (n, k) with every cluster size in
    ``[size_min, size_max]``: the 0/1 program solved by scipy's ``milp`` (HiGHS), one
    variable per point and cluster (Bradley, Bennett and Demiriz's constrained k-means
    step, written as the textbook program)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    cost = np.asarray(cost, dtype=np.float64)
    n, k = cost.shape
    cols = np.arange(n * k)
    each_point = csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), cols)), shape=(n, n * k))
    each_cluster = csr_matrix((np.ones(n * k), (np.tile(np.arange(k), n), cols)), shape=(k, n * k))
    res = milp(
        cost.ravel(),
        constraints=[
            LinearConstraint(each_point, 1, 1),
            LinearConstraint(each_cluster, size_min, size_max),
        ],
        integrality=np.ones(n * k),
        bounds=Bounds(0, 1),
    )
    assert res.success, res.message
    return np.argmax(res.x.reshape(n, k), axis=1)


def brute_force_assignment(cost: np.ndarray, size_min: int, size_max: int) -> float:
    """The least total ``cost`` over every assignment of the n points to the k clusters
    with sizes in the limits (k^n of them: tiny problems only)."""
    import itertools

    n, k = cost.shape
    best = np.inf
    for labels in itertools.product(range(k), repeat=n):
        sizes = np.bincount(labels, minlength=k)
        if sizes.min() >= size_min and sizes.max() <= size_max:
            best = min(best, float(cost[np.arange(n), labels].sum()))
    return best


def constrained_lloyd(X, C, size_min: int, size_max: int, max_iter: int, tol: float = 0.0):
    """Constrained k-means (Bradley, Bennett and Demiriz): :func:`lloyd` whose assignment
    is the :func:`constrained_assignment` program on the squared distances (no cluster
    ever empties: ``size_min >= 1``). Returns (centers, labels, inertia, n_iter, stop
    reason)."""

    def step(X64, C):
        return constrained_assignment(sq_distances(X64, C), size_min, size_max)

    return lloyd(X, C, max_iter, tol, step=step)
