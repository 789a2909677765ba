"""Exact 1-D k-means: `algorithm="optimal"` versus `kmeans1d` (C++ SMAWK) and k-means++ + Lloyd.

Three problems: 1,000,000 float64 standard-normal values (a weight-quantisation stand-in,
every value distinct) at k = 16, and the grey levels of scikit-learn's ``china.jpg``
sample photo (273,280 pixels, luma ``0.299 R + 0.587 G + 0.114 B`` as float64, 81,572
distinct values) at k = 8 and 16. ``kmeans1d.cluster`` and ``fastkmeans.KMeansParams(k,
algorithm="optimal").fit`` both return the exact optimum; times are the median wall
seconds of three calls (fastkmeans' time includes the checks, the sort and the final
assignment; kmeans1d's its conversion of the array), after one warm-up call on small data
that compiles fastkmeans' kernels (``compile_s``, timed apart). k-means++ + Lloyd is
``fastkmeans.KMeansParams(k, seed=s)`` (greedy k-means++, ``n_init=1``, ``tol=1e-4``), the
mean over seeds 0, 1, 2, after one untimed fit of the same problem (its own kernels).
Every inertia is recomputed by :func:`common.inertia64` (float64
exact distances to the nearest center); ``vs_optimal`` is the inertia over
``algorithm="optimal"``'s, minus one.

Run ``python -m benchmarks --only optimal`` or ``python -m benchmarks.bench_optimal1d``
(``--quick``: 100,000 values and k = 8 on the photo).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import kmeans1d  # the section is skipped when the peer is missing
import numpy as np

try:
    from .common import inertia64, median_time, section_main
except ImportError:  # run as a script
    from common import inertia64, median_time, section_main  # type: ignore[no-redef]

SEEDS = (0, 1, 2)


def problems(quick: bool) -> list[tuple[str, np.ndarray, int]]:
    """(name, values (n, 1) float64, k) of each row group; the photo needs Pillow."""
    n = 100_000 if quick else 1_000_000
    x = np.random.default_rng(0).standard_normal((n, 1))
    out = [(f"normal {n:,}", x, 16)]
    try:
        from sklearn.datasets import load_sample_image

        rgb = load_sample_image("china.jpg").reshape(-1, 3).astype(np.float64)
    except ImportError as exc:  # Pillow missing
        print(f"skipping china.jpg: {exc}")
        return out
    grey = (rgb @ np.array([0.299, 0.587, 0.114])).reshape(-1, 1)
    out += [("china.jpg grey", grey, k) for k in ((8,) if quick else (8, 16))]
    return out


def run(quick: bool) -> list[dict[str, Any]]:
    """Time the three methods on each problem; one row per method and problem.

    Returns
    -------
    list of dict
        ``data``, ``n``, ``distinct``, ``k``, ``method``, ``fit_s``, ``inertia``,
        ``vs_optimal``, ``kmeans1d_s_over`` (kmeans1d's time over this one) and, on the
        first fastkmeans row, ``compile_s``.
    """
    import fastkmeans as fk

    t0 = time.perf_counter()
    fk.KMeansParams(4, algorithm="optimal").fit(np.random.default_rng(1).random((1000, 1)))
    compile_s = time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    for name, X, k in problems(quick):
        base = {"data": name, "n": X.shape[0], "distinct": int(np.unique(X).shape[0]), "k": k}
        params = fk.KMeansParams(k, algorithm="optimal")
        fit_s, model = median_time(lambda p=params, X=X: p.fit(X), 3)
        best = inertia64(X, model.centroids)
        k1_s, (_, centers) = median_time(lambda X=X, k=k: kmeans1d.cluster(X[:, 0], k), 3)
        k1_inertia = inertia64(X, np.asarray(centers).reshape(-1, 1))
        times, inertias = [], []
        fk.KMeansParams(k, seed=0).fit(X)  # warm-up: its kernels compile or load, untimed
        for seed in SEEDS:
            t0 = time.perf_counter()
            lloyd = fk.KMeansParams(k, seed=seed).fit(X)
            times.append(time.perf_counter() - t0)
            inertias.append(inertia64(X, lloyd.centroids))
        for method, s, inertia in (
            ('fastkmeans algorithm="optimal"', fit_s, best),
            ("kmeans1d.cluster", k1_s, k1_inertia),
            ("fastkmeans k-means++ + Lloyd (3 seeds)", statistics.mean(times),
             statistics.mean(inertias)),
        ):  # fmt: skip
            ratio = {"vs_optimal": inertia / best - 1.0, "kmeans1d_s_over": k1_s / s}
            rows.append({**base, "method": method, "fit_s": s, "inertia": inertia, **ratio})
    rows[0]["compile_s"] = compile_s
    return rows


def main() -> None:
    section_main(run, __doc__)


if __name__ == "__main__":
    main()
