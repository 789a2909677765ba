"""Size-constrained k-means: fastkmeans `size_min`/`size_max` versus `k-means-constrained`.

Both fit the same float32 blobs (``k-means-constrained`` gets them as float64, which it
converts to anyway) from the same initial centers (scikit-learn's ``kmeans_plusplus``,
``random_state=0``, passed as ``init``), ``n_init=1``, ``tol=1e-4`` (both relative to the
mean variance, scikit-learn's rule), ``max_iter=300``. Times are the median wall seconds
of ``fit`` (three repeats for fastkmeans, one for ``k-means-constrained``); fastkmeans'
Numba compilation is timed apart, on small data. The inertia of each is recomputed by one
float64 function from its own labels and centers (the nearest-center inertia of
:func:`common.inertia64` does not apply: labels are constrained), and the sizes are checked
against the limits.

``k-means-constrained`` solves every assignment step as a min-cost flow over all n x k
point-to-cluster arcs with OR-Tools, on integer costs (Euclidean, not squared, distances
times 1000, rounded); fastkmeans solves the squared-distance step exactly on the k + 1
node cluster graph. On the 1,000,000 x 16, k = 64 balanced problem the n x k arcs are 64
million: ``k-means-constrained`` is not run there, only fastkmeans (``max_iter`` capped).

Run ``python -m benchmarks.bench_constrained`` or with ``--quick`` (2,000 x 16, k = 20;
100,000 x 16, k = 16).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

try:
    from .common import blobs, section_main
except ImportError:  # run as a script
    from common import blobs, section_main  # type: ignore[no-redef]


def labelled_inertia(X: np.ndarray, centers: np.ndarray, labels: np.ndarray) -> float:
    """Sum of float64 squared distances of each point to the center of its label."""
    X64 = np.asarray(X, dtype=np.float64)
    C = np.asarray(centers, dtype=np.float64)
    total = 0.0
    for start in range(0, X64.shape[0], 65536):  # blocks: no n x d temporary
        block = X64[start : start + 65536] - C[labels[start : start + 65536]]
        total += float(np.einsum("ij,ij->", block, block))
    return total


def _row(name: str, case: str, X: np.ndarray, centers: Any, labels: Any, lo: int, hi: int,
         fit_s: float, n_iter: int) -> dict[str, Any]:  # fmt: skip
    sizes = np.bincount(np.asarray(labels), minlength=len(centers))
    return {
        "case": case,
        "library": name,
        "fit_s": fit_s,
        "n_iter": int(n_iter),
        "inertia": labelled_inertia(X, centers, np.asarray(labels)),
        "sizes": f"{sizes.min()}..{sizes.max()}",
        "within_limits": bool(sizes.min() >= lo and sizes.max() <= hi),
    }


def _problem(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import kmeans_plusplus

    X = blobs(n, 16, k, dtype=np.float32, seed=seed)
    init, _ = kmeans_plusplus(X[: min(n, 100_000)], k, random_state=0)
    return X, init


def run(quick: bool) -> list[dict[str, Any]]:
    """One row per library and problem.

    Parameters
    ----------
    quick : bool
        Small data (2,000 x 16, k = 20 at 90..110; 100,000 x 16, k = 16 balanced).

    Returns
    -------
    list of dict
        ``case``, ``library``, ``fit_s``, ``n_iter``, ``inertia``, ``sizes`` (smallest and
        largest cluster), ``within_limits``, and for the first problem ``inertia_vs_kmc``
        and ``speedup`` (k-means-constrained's time over this one); ``compile_s`` on the
        first fastkmeans row.
    """
    import fastkmeans as fk

    t0 = time.perf_counter()
    warm = blobs(3000, 16, 8, dtype=np.float32, seed=5)
    fk.KMeansParams(8, seed=0, size_min=300, size_max=450, max_iter=5).fit(warm)
    compile_s = time.perf_counter() - t0

    n, k, lo, hi = (2_000, 20, 90, 110) if quick else (20_000, 20, 900, 1100)
    case = f"{n:,}x16 k={k} sizes {lo}..{hi}"
    X, init = _problem(n, k)
    params = fk.KMeansParams(k, init=init, size_min=lo, size_max=hi, tol=1e-4, max_iter=300)
    times, model = [], None
    for _ in range(3):
        t = time.perf_counter()
        model = params.fit(X)
        times.append(time.perf_counter() - t)
    assert model is not None
    ours = _row("fastkmeans", case, X, model.centroids, model.labels, lo, hi,
                statistics.median(times), model.n_iter)  # fmt: skip
    ours["compile_s"] = compile_s
    rows = [ours]
    try:
        from k_means_constrained import KMeansConstrained
    except ImportError:
        rows.append({"case": case, "library": "k-means-constrained", "note": "not installed"})
    else:
        est = KMeansConstrained(n_clusters=k, size_min=lo, size_max=hi, n_init=1,
                                init=init.astype(np.float64), max_iter=300, tol=1e-4)  # fmt: skip
        t = time.perf_counter()
        est.fit(X.astype(np.float64))
        theirs = _row("k-means-constrained", case, X, est.cluster_centers_, est.labels_, lo, hi,
                      time.perf_counter() - t, est.n_iter_)  # fmt: skip
        rows.append(theirs)
        for row in rows:
            row["inertia_vs_kmc"] = row["inertia"] / theirs["inertia"]
            row["speedup"] = theirs["fit_s"] / row["fit_s"]

    n, k, cap = (100_000, 16, 300) if quick else (1_000_000, 64, 50)
    size = n // k
    case = f"{n:,}x16 k={k} sizes {size}..{size} (max_iter {cap})"
    X, init = _problem(n, k)
    params = fk.KMeansParams(k, init=init, size_min=size, size_max=size, tol=1e-4, max_iter=cap)
    t = time.perf_counter()
    model = params.fit(X)
    rows.append(_row("fastkmeans", case, X, model.centroids, model.labels, size, size,
                     time.perf_counter() - t, model.n_iter))  # fmt: skip
    arcs = f"not run: {n * k:,} point-to-cluster arcs in every step's flow"
    rows.append({"case": case, "library": "k-means-constrained", "note": arcs})
    return rows


def main() -> None:
    section_main(run, __doc__)


if __name__ == "__main__":
    main()
