"""Mini-batch: fastkmeans versus ``sklearn.cluster.MiniBatchKMeans``, same batches and steps.

Both get the same float32 blobs, the same initial centers (scikit-learn's
``kmeans_plusplus`` on 3 * 1024 rows, passed as ``init``), ``batch_size=1024``,
``n_init=1``, and the same number of steps: early
stopping is off (``max_no_improvement=None``, ``tol=0``), so each runs exactly
``max_iter * n // batch_size`` steps, then labels every sample (``compute_labels=True``).
Low-count reassignment is on (the default) for both. Each library fits with three seeds
(which rows make the batches): times are the median wall seconds of ``fit``, inertia the
mean over the seeds, since a single mini-batch run can land in another local minimum
(either library, about one run in five here). fastkmeans' Numba compilation is timed apart
on small data. The final inertia is recomputed by one function, :func:`common.inertia64`
(float64 exact distances to the nearest center).

Run ``python -m benchmarks.bench_minibatch`` (1,000,000 x 16, k = 64) or with ``--quick``
(100,000 x 16, k = 16).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

try:
    from .common import blobs, inertia64, section_main
except ImportError:  # run as a script
    from common import blobs, inertia64, section_main  # type: ignore[no-redef]

BATCH = 1024


def run(quick: bool) -> list[dict[str, Any]]:
    """Time both libraries on one problem; one row per library.

    Parameters
    ----------
    quick : bool
        Small data (100,000 x 16, k = 16) for a smoke run.

    Returns
    -------
    list of dict
        ``library``, ``n``, ``d``, ``k``, ``steps``, ``fit_s``, ``inertia``,
        ``inertia_vs_sklearn`` and ``speedup`` (scikit-learn's time over this one).
    """
    import sklearn.cluster as skc

    import fastkmeans as fk
    from fastkmeans.sklearn import MiniBatchKMeans

    n, d, k, max_iter = (100_000, 16, 16, 2) if quick else (1_000_000, 16, 64, 2)
    seeds = (0, 1, 2)
    X = blobs(n, d, k, dtype=np.float32, seed=0)
    init, _ = skc.kmeans_plusplus(X[: 3 * BATCH], k, random_state=0)
    common = dict(
        n_clusters=k,
        init=init,
        n_init=1,
        batch_size=BATCH,
        max_iter=max_iter,
        tol=0.0,
        max_no_improvement=None,
    )

    t0 = time.perf_counter()
    warm = blobs(5000, d, k, dtype=np.float32, seed=2)
    MiniBatchKMeans(**{**common, "init": warm[:k]}).fit(warm)
    compile_s = time.perf_counter() - t0

    def core(seed: int) -> fk.KMeansModel:
        params = fk.MiniBatchKMeansParams(
            k, init=init, batch_size=BATCH, max_iter=max_iter, max_no_improvement=None, seed=seed
        )
        return params.fit(X)

    candidates = [
        ("scikit-learn MiniBatchKMeans", lambda s: skc.MiniBatchKMeans(**common, random_state=s)),
        ("fastkmeans.sklearn.MiniBatchKMeans", lambda s: MiniBatchKMeans(**common, random_state=s)),
        ("fastkmeans MiniBatchKMeansParams", None),
    ]
    rows: list[dict[str, Any]] = []
    for name, make in candidates:
        times, inertias, steps = [], [], []
        for seed in seeds:
            t0 = time.perf_counter()
            if make is None:
                model = core(seed)
                centers, n_steps = model.centroids, len(model.history)
            else:
                est = make(seed).fit(X)
                centers, n_steps = est.cluster_centers_, est.n_steps_
            times.append(time.perf_counter() - t0)
            inertias.append(inertia64(X, centers))
            steps.append(n_steps)
        rows.append(
            {
                "library": name,
                "n": n,
                "d": d,
                "k": k,
                "batch": BATCH,
                "steps": steps[0],
                "fit_s": statistics.median(times),
                "inertia": statistics.mean(inertias),
            }
        )
    ref = rows[0]
    for row in rows:
        row["inertia_vs_sklearn"] = row["inertia"] / ref["inertia"]
        row["speedup"] = ref["fit_s"] / row["fit_s"]
    rows[1]["compile_s"] = compile_s
    return rows


def main() -> None:
    section_main(run, __doc__)


if __name__ == "__main__":
    main()
