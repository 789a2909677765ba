"""fastkmeans on Dask versus ``dask_ml.cluster.KMeans``, on one LocalCluster, same data.

Both libraries get the same persisted dask array (Gaussian blobs, float64, 8 row chunks),
k-means|| seeding (dask-ml's default; fastkmeans is asked for it, its default being greedy
k-means++), the same stopping tolerance and ``max_iter=300``, and are
timed from the call to the fitted model (seeding included). fastkmeans' ``tol=1e-4`` is
relative (times the mean per-feature variance of X, as in scikit-learn) while dask-ml
compares the squared centroid shift with ``tol`` as it is, so dask-ml is given the same
absolute tolerance, ``1e-4 * mean(var(X, axis=0))``. The inertia of each result is recomputed by one
function, :func:`common.inertia64` (float64 exact distances to the nearest center), so
nobody's own bookkeeping is trusted. Both are warmed up on small data first; that time
(Numba compilation in the workers, imports) is reported apart.

Run ``python benchmarks/bench_dask.py`` (2,000,000 x 16, k = 64) or with ``--quick``
(200,000 x 16, k = 16). Needs the ``bench`` extra (dask-ml).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import Any

import numpy as np

try:
    from .common import blobs, cpu_description, inertia64
except ImportError:  # run as a script
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import blobs, cpu_description, inertia64  # type: ignore[no-redef]

N_CHUNKS = 8
SEED = 0


def _sizes(quick: bool) -> tuple[int, int, int]:
    return (200_000, 16, 16) if quick else (2_000_000, 16, 64)


def run(quick: bool = False, n_workers: int = 2) -> list[dict[str, Any]]:
    """Time both libraries on one LocalCluster; one dict per library.

    Parameters
    ----------
    quick : bool
        Smaller data (200,000 x 16, k = 16) for a smoke run.
    n_workers : int
        Worker processes, one thread each.

    Returns
    -------
    list of dict
        ``library``, ``n``, ``d``, ``k``, ``warmup_s``, ``fit_s``, ``n_iter``, ``inertia``
        (recomputed in float64) and ``inertia_vs_dask_ml`` (ratio).
    """
    import dask.array as da
    from dask.distributed import Client, LocalCluster
    from dask_ml.cluster import KMeans as DaskMLKMeans

    import fastkmeans as fk

    n, d, k = _sizes(quick)
    X = blobs(n, d, k, dtype=np.float64, seed=SEED)
    small = blobs(20_000, d, 8, dtype=np.float64, seed=SEED + 1)
    rel_tol = 1e-4

    def abs_tol(data: np.ndarray) -> float:
        return rel_tol * float(data.var(axis=0).mean())

    rows: list[dict[str, Any]] = []
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        dX = client.persist(da.from_array(X, chunks=(-(-n // N_CHUNKS), d)))
        dsmall = client.persist(da.from_array(small, chunks=2_500))

        def fit_fastkmeans(data: Any, kk: int, _: float) -> tuple[np.ndarray, int]:
            model = fk.KMeansParams(
                kk, init="k-means||", seed=SEED, tol=rel_tol, max_iter=300
            ).fit(data)
            return model.centroids, model.n_iter

        def fit_dask_ml(data: Any, kk: int, tol: float) -> tuple[np.ndarray, int]:
            model = DaskMLKMeans(
                n_clusters=kk, init="k-means||", random_state=SEED, tol=tol, max_iter=300
            ).fit(data)
            return np.asarray(model.cluster_centers_), int(model.n_iter_)

        for name, fit in (("fastkmeans", fit_fastkmeans), ("dask-ml", fit_dask_ml)):
            t0 = time.perf_counter()
            fit(dsmall, 8, abs_tol(small))
            warm = time.perf_counter() - t0
            t0 = time.perf_counter()
            centers, n_iter = fit(dX, k, abs_tol(X))
            elapsed = time.perf_counter() - t0
            rows.append(
                {
                    "library": name,
                    "n": n,
                    "d": d,
                    "k": k,
                    "warmup_s": warm,
                    "fit_s": elapsed,
                    "n_iter": n_iter,
                    "abs_tol": abs_tol(X),
                    "inertia": inertia64(X, centers),
                }
            )
    base = next(r for r in rows if r["library"] == "dask-ml")
    for r in rows:
        r["inertia_vs_dask_ml"] = r["inertia"] / base["inertia"]
        r["speedup_vs_dask_ml"] = base["fit_s"] / r["fit_s"]
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller data, for a smoke run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (1 thread)")
    args = parser.parse_args(argv)
    rows = run(args.quick, args.workers)
    r0 = rows[0]
    print(
        f"# {r0['n']:,} x {r0['d']} float64, k = {r0['k']}, {N_CHUNKS} chunks, "
        f"LocalCluster {args.workers} workers x 1 thread; tol 1e-4 relative = "
        f"{r0['abs_tol']:.3g} absolute; {cpu_description()}"
    )
    print(
        "| library | fit (s) | iterations | inertia (float64) | vs dask-ml | speed-up "
        "| warm-up (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['library']} | {r['fit_s']:.2f} | {r['n_iter']} | {r['inertia']:.6e} | "
            f"{r['inertia_vs_dask_ml']:.4f} | {r['speedup_vs_dask_ml']:.1f}x | "
            f"{r['warmup_s']:.1f} |"
        )


if __name__ == "__main__":
    main()
