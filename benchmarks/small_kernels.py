"""``python -m benchmarks.small_kernels``: what the row-loop kernels of small problems
(``fastkmeans/kernels/small.py``) cost per call against the tiled kernels they replace,
on the tutorial's 750 points (k = 3), one thread; not part of ``docs/benchmarks.md``.
The compile time they save: ``python -m benchmarks.compile_profile --workload tutorial``
with an empty ``NUMBA_CACHE_DIR``."""

from __future__ import annotations

import time

import numpy as np

import fastkmeans as fk
from fastkmeans._assign import chunk_bounds
from fastkmeans.kernels import lloyd, seeding, small
from fastkmeans.kernels.partials import SUMS
from fastkmeans.kernels.twins import serial_twin

CALLS = 3000


def _per_call(fn) -> float:
    fn()  # compile, or load from the cache
    t = time.perf_counter()
    for _ in range(CALLS):
        fn()
    return (time.perf_counter() - t) / CALLS * 1e6


def main() -> None:
    steps = serial_twin(seeding.plusplus_steps)  # the former small path: tiles, one thread

    def tiles_plusplus(*args):
        seeding.kmeans_plusplus_tiles(*args, driver=steps)

    X = fk.datasets.make_tutorial_data(seed=0).astype(np.float32)
    n, k = X.shape[0], 3
    w, b = np.ones(n), chunk_bounds(n)
    nc = b.shape[0] - 1
    C = X[:k].copy()
    work = (b, np.zeros(n, np.intp), np.zeros((nc, k, 2)), np.zeros((nc, k)),
            np.zeros((nc, k, 2)), np.zeros(2), np.zeros(nc), np.zeros(nc, np.intp),
            SUMS)  # fmt: skip
    rng = np.random.default_rng(0)
    first_u, trial_u = float(rng.random()), rng.random((k - 1, 2 + int(np.log(k))))
    out = np.empty(k, np.intp)
    rows = {
        "Lloyd pass": (lambda: small.lloyd_small(X, w, C, *work),
                       lambda: lloyd.lloyd_direct_serial(X, w, C, *work)),
        "k-means++": (lambda: small.kmeans_plusplus_small(X, w, b, first_u, trial_u, out),
                      lambda: tiles_plusplus(X, w, b, first_u, trial_u, out)),
    }  # fmt: skip
    for name, (row_loop, tiled) in rows.items():
        a, t = _per_call(row_loop), _per_call(tiled)
        print(f"{name}: row loop {a:.1f} us, tiled {t:.1f} us per call ({a / t:.2f}x)")


if __name__ == "__main__":
    main()
