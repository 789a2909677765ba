"""``python -m benchmarks.lowd_passes [--rows N]``: what one pass of Lloyd's direct kernel
costs on 1,000,000 x 2 rows, k = 8, one thread, by what it does besides the labels (the
``mode`` of ``fastkmeans/kernels/partials.py``), against the labels alone; and, from the
passes of a real 20-iteration fit, the cost of a pass as a fixed part plus a cost per row
that changes label (a least-squares line); and a fit's fixed costs (per-feature statistics,
the finiteness check, fits of 1 and 20 iterations, on the default threads). Not part of
``docs/benchmarks.md``: it says where the time of the low-d row of the fixed-work table
goes."""

from __future__ import annotations

import argparse
import functools
import os
import time

import numpy as np
from numba import njit

import fastkmeans as fk
import fastkmeans._assign as assign
from fastkmeans._sources.memory import column_stats
from fastkmeans._validation import check_rows
from fastkmeans.kernels import lloyd
from fastkmeans.kernels.partials import EXACT, MOVES, REFRESH, SUMS

from .common import blobs
from .tuning import _best_ms

K = 8


@njit(cache=True, nogil=True)
def _labels_only(X, centers, best, lab):
    for t0 in range(0, X.shape[0], lloyd.TILE_ROWS):
        m = min(lloyd.TILE_ROWS, X.shape[0] - t0)
        lloyd._assign_pairs(X[t0 : t0 + m], centers, best, lab)


def _per_mode(X: np.ndarray, centers: np.ndarray) -> None:
    n = X.shape[0]
    w, labels = np.ones(n), np.zeros(n, np.intp)
    sums, wsums, stats, smean = np.zeros((K, 2)), np.zeros(K), np.zeros((K, 2)), np.zeros(2)
    best, lab = np.empty(lloyd.TILE_ROWS, X.dtype), np.empty(2 * lloyd.TILE_ROWS, np.int32)
    print(f"labels alone: {_best_ms(lambda: _labels_only(X, centers, best, lab)):.3f} ms")
    lloyd._direct_chunk(X, w, centers, 0, n, labels, sums, wsums, stats, smean, REFRESH)
    for name, mode in (("MOVES, no row moves", MOVES), ("EXACT", EXACT), ("SUMS", SUMS),
                       ("REFRESH", REFRESH)):  # fmt: skip
        ms = _best_ms(functools.partial(lloyd._direct_chunk, X, w, centers, 0, n, labels,
                                        sums, wsums, stats, smean, mode))  # fmt: skip
        print(f"{name}: {ms:.3f} ms")


def _moves_line(X: np.ndarray, centers: np.ndarray) -> None:
    params = fk.KMeansParams(K, init=centers, max_iter=20, tol=0.0, algorithm="lloyd",
                             n_threads=1)  # fmt: skip
    params.fit(X)
    kernel, log = assign.lloyd_direct, []

    def timed(*args):
        t = time.perf_counter()
        kernel(*args)
        log.append((time.perf_counter() - t, int(args[-2].sum()), int(args[-1])))

    assign.lloyd_direct = timed
    try:
        passes = []
        for _ in range(9):
            log.clear()
            params.fit(X)
            passes.append(list(log))
    finally:
        assign.lloyd_direct = kernel
    ms = 1e3 * np.array([[p[0] for p in run] for run in passes]).min(axis=0)
    moved = np.array([p[1] for p in passes[0]])
    modes = np.array([p[2] for p in passes[0]])
    sel = modes == MOVES
    slope, fixed = np.polyfit(moved[sel], ms[sel], 1)
    print(f"fit: {len(ms)} passes, {ms.sum():.2f} ms in the kernel; MOVES passes: "
          f"{fixed:.3f} ms + {1e6 * slope:.1f} ns per row that moves "
          f"({moved[sel].max()} .. {moved[sel].min()} moved)")  # fmt: skip
    for name, mode in (("REFRESH", REFRESH), ("EXACT", EXACT)):
        print(f"fit: {name} passes {np.round(ms[modes == mode], 3).tolist()} ms")


def _fixed_costs(X: np.ndarray, centers: np.ndarray) -> None:
    column_stats(X)
    cells = [f"column stats {_best_ms(lambda: column_stats(X)):.2f} ms",
             f"finiteness check {_best_ms(lambda: check_rows(X, 0, False)):.2f} ms"]  # fmt: skip
    for it in (1, 20):
        params = fk.KMeansParams(K, init=centers, max_iter=it, tol=0.0, algorithm="lloyd")
        params.fit(X)
        cells.append(f"fit of {it} iterations {_best_ms(lambda p=params: p.fit(X)):.2f} ms")
    print("fixed costs: " + ", ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    os.environ["FASTKMEANS_FIRST_RUN"] = "compile"  # the fits time the kernels, not stand-ins
    X = blobs(args.rows, 2, K, dtype=np.float32)
    centers = X[np.random.default_rng(1).choice(len(X), K, replace=False)].copy()
    _per_mode(X, centers)
    _moves_line(X, centers)
    _fixed_costs(X, centers)


if __name__ == "__main__":
    main()
