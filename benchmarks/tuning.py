"""``python -m benchmarks.tuning``: the measurements behind constants in
``fastkmeans/_config.py`` and ``fastkmeans/_standins.py`` (not part of
``docs/benchmarks.md``).

* ``ROW_MAJOR_MIN_FEATURES``: what transposing a tile costs against one read of the data,
  by number of features.
* ``SEED_TILES_BELOW_FEATURES``: greedy k-means++ with candidates weighed on transposed
  tiles against row by row, by number of features.
* ``FOUR_CANDIDATES_FROM_FEATURES``: row by row, four candidates at a time against one.
* ``GEMM_MIN_FEATURES`` and ``GEMM_MIN_WORK``: a Lloyd pass (assignment, sums and exact
  inertia) with direct differences against the GEMM form, by features and clusters;
  ``CANDIDATES_GEMM_MIN_WORK``: the same for a k-means|| candidate pass.
* ``tiles.dot_values`` below ``ROW_MAJOR_MIN_FEATURES``: the labels of transposed tiles
  with their values from our chains of products against one BLAS call per tile, float32
  rows, one thread.
* ``_standins.NEAREST_BLOCK_VALUES``: a NumPy stand-in Lloyd pass (the first run's) by
  the size of its blocks of distances, on the start-up benchmark's photo and on blobs.

The seeding switches are compile-time constants, so each side runs in a fresh process with
the on-disk cache off.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
from numba import njit, prange
from threadpoolctl import threadpool_limits

from fastkmeans._assign import chunk_bounds
from fastkmeans._config import FASTMATH, TILE_ROWS
from fastkmeans.kernels.kmeans_parallel import update_nearest
from fastkmeans.kernels.lloyd import _keep_lower4, _lower4, center_on, lloyd_direct, lloyd_gemm
from fastkmeans.kernels.partials import REFRESH
from fastkmeans.kernels.tiles import _dot_column, _transpose_tile

from .common import blobs, interleaved


@njit(parallel=True, fastmath=FASTMATH)
def _transpose_all(X, bounds, out):
    for c in prange(bounds.shape[0] - 1):
        zero = np.zeros(X.shape[1], X.dtype)
        tile = np.empty(TILE_ROWS * X.shape[1], X.dtype)
        for t0 in range(bounds[c], bounds[c + 1], TILE_ROWS):
            xt = _transpose_tile(X, t0, min(TILE_ROWS, bounds[c + 1] - t0), zero, tile)
            out[c] += xt[0, 0]


@njit(parallel=True, fastmath=FASTMATH)
def _read_all(X, bounds, out):
    for c in prange(bounds.shape[0] - 1):
        s = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            for f in range(X.shape[1]):
                s += X[i, f]
        out[c] += s


def _best_ms(fn, repeats: int = 15) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * min(times)


_SEED_CHILD = """
import sys, time, numpy as np
import fastkmeans._config as cfg
setattr(cfg, sys.argv[1], int(sys.argv[2]))
from fastkmeans._assign import chunk_bounds
from fastkmeans._seeding import plusplus_rows
from benchmarks.common import blobs
n, d, k = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
X = blobs(n, d, k)
w, b = np.ones(n), chunk_bounds(n)
plusplus_rows(X, w, k, np.random.default_rng(0))
ts = []
for s in range(3):
    t0 = time.perf_counter()
    plusplus_rows(X, w, k, np.random.default_rng(s))
    ts.append(time.perf_counter() - t0)
print(min(ts))
"""


def _seeding_s(constant: str, value: int, n: int, d: int, k: int) -> float:
    """Best of three k-means++ seedings in a fresh process with ``_config.constant = value``."""
    env = {**os.environ, "FASTKMEANS_NO_CACHE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _SEED_CHILD, constant, str(value), str(n), str(d), str(k)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _alternate(constant: str, a: int, b: int, n: int, d: int, k: int) -> tuple[float, float]:
    """Seeding seconds with ``constant = a`` and ``= b``: processes alternate, three each,
    and each side keeps its best, so that a slow spell of the shared machine hits both."""
    times_a, times_b = [], []
    for _ in range(3):
        times_a.append(_seeding_s(constant, a, n, d, k))
        times_b.append(_seeding_s(constant, b, n, d, k))
    return min(times_a), min(times_b)


def _interleaved_ms(fns: dict[str, object], repeats: int = 15) -> dict[str, float]:
    """Best time of each function, in ms, the functions called in turn ``repeats`` times,
    so that a slow spell of the shared machine hits all of them."""
    for fn in fns.values():
        fn()
    return {name: 1e3 * min(ts) for name, (ts, _) in interleaved(fns, repeats).items()}


def _pass_ms(n: int, d: int, k: int) -> dict[str, float]:
    """One Lloyd pass of both kernels on ``n`` blobs rows, best of interleaved repeats."""
    X = blobs(n, d, k)
    w = np.ones(n)
    C = X[np.random.default_rng(1).choice(n, k, replace=False)].copy()
    b = chunk_bounds(n)
    nc = b.shape[0] - 1
    labels = np.zeros(n, np.intp)
    out = (np.zeros((nc, k, d)), np.zeros((nc, k)), np.zeros((nc, k, 2)), np.zeros(d),
           np.zeros(nc), np.zeros(nc, np.intp))  # fmt: skip
    mean = X.mean(axis=0).astype(X.dtype)
    return _interleaved_ms(
        {
            "direct": lambda: lloyd_direct(X, w, C, b, labels, *out, REFRESH),
            "gemm": lambda: lloyd_gemm(X, w, C, mean, b, labels, *out, REFRESH),
        }
    )


def direct_vs_gemm() -> None:
    """One Lloyd pass (labels, sums and stats from scratch, exact inertia: a refresh) of
    the direct-difference kernel against the GEMM-form kernel, on 2**21 / d rows (8 MiB of
    float32, as the benchmark cases)."""
    print("Lloyd pass, ms: direct / gemm (ratio > 1: gemm is faster)")
    for d in (2, 3, 4, 6, 8, 12, 16, 24):
        cells = []
        for k in (4, 8, 16, 32, 64, 128):
            ms = _pass_ms(2**21 // d, d, k)
            ratio = ms["direct"] / ms["gemm"]
            cells.append(f"k={k}: {ms['direct']:.2f}/{ms['gemm']:.2f}={ratio:.2f}")
        print(f"  d={d}: " + "  ".join(cells), flush=True)


def _candidates_ms(n: int, d: int, m: int) -> dict[str, float]:
    """One ``update_nearest`` pass of both forms on ``n`` blobs rows and ``m`` candidates,
    best of interleaved repeats."""
    X = blobs(n, d, 16)
    w = np.ones(n)
    cands = X[np.random.default_rng(1).choice(n, m, replace=False)].copy()
    mean = X.mean(axis=0).astype(X.dtype)
    b = chunk_bounds(n)
    closest, nearest = np.full(n, np.inf), np.zeros(n, np.intp)
    pot = np.zeros(b.shape[0] - 1)

    def one(gemm: bool) -> None:
        closest[:] = np.inf
        update_nearest(X, w, cands, mean, 0, gemm, b, closest, nearest, pot)

    return _interleaved_ms({"direct": lambda: one(False), "gemm": lambda: one(True)})


def candidates_direct_vs_gemm() -> None:
    """One k-means|| candidate pass (``update_nearest``: each row's nearest of m new
    candidates) with direct differences against the GEMM form, on 2**19 rows."""
    print("k-means|| candidate pass, ms: direct / gemm (ratio > 1: gemm is faster)")
    for d in (2, 3, 4, 6, 8):
        cells = []
        for m in (8, 32, 128, 512):
            ms = _candidates_ms(2**19, d, m)
            ratio = ms["direct"] / ms["gemm"]
            cells.append(f"m={m}: {ms['direct']:.2f}/{ms['gemm']:.2f}={ratio:.2f}")
        print(f"  d={d}: " + "  ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    choices = ["transpose", "seeding", "gemm", "values", "standins"]
    parser.add_argument("--only", nargs="*", choices=choices)
    only = set(parser.parse_args().only or choices)
    if "gemm" in only:
        direct_vs_gemm()
        candidates_direct_vs_gemm()
    if "values" in only:
        values_vs_blas()
    if "transpose" in only:
        transposing()
    if "seeding" in only:
        seeding()
    if "standins" in only:
        standin_blocks()


@njit(fastmath=FASTMATH, nogil=True)
def _blas_tile(X, centered, half_norms, mean, t0, m, tile, dots, best, lab):
    """Labels of a transposed tile from one BLAS call for the (k, m) dot products, the
    argmin across rows (k a multiple of 4)."""
    k = centered.shape[0]
    xt = _transpose_tile(X, t0, m, mean, tile)
    prod = dots.reshape(-1)[: k * m].reshape((k, m))
    np.dot(centered, xt, prod)
    for r in range(m):
        best[r] = np.inf
        lab[r] = 0
    for j in range(0, k, 4):
        p0, p1, p2, p3 = prod[j], prod[j + 1], prod[j + 2], prod[j + 3]
        h0, h1, h2, h3 = half_norms[j], half_norms[j + 1], half_norms[j + 2], half_norms[j + 3]
        for r in range(m):
            best[r], lab[r] = _lower4(j, best[r], lab[r], h0 - p0[r], h1 - p1[r], h2 - p2[r],
                                      h3 - p3[r])  # fmt: skip


@njit(fastmath=FASTMATH, nogil=True)
def _chain_tile(X, centered, half_norms, mean, t0, m, tile, dots, best, lab):
    """The same labels from the chains (``tiles._dot_column``), four centers at a time, as
    ``lloyd._argmin_transposed`` forms them."""
    k = centered.shape[0]
    xt = _transpose_tile(X, t0, m, mean, tile)
    values = dots.reshape(-1)[: 4 * m].reshape((4, m))
    for r in range(m):
        best[r] = np.inf
        lab[r] = 0
    for j in range(0, k, 4):
        for p in range(4):
            _dot_column(xt, centered[j + p], half_norms[j + p], values[p], m)
        _keep_lower4(j, values, best, lab, m)


@njit(fastmath=FASTMATH, nogil=True)
def _all_labels(X, centered, half_norms, mean, blas, lab):
    """Every tile's labels (into one tile-sized ``lab``), by either form."""
    d, k = X.shape[1], centered.shape[0]
    tile = np.empty(TILE_ROWS * d, X.dtype)
    dots = np.empty(TILE_ROWS * k, X.dtype)
    best = np.empty(TILE_ROWS, X.dtype)
    for t0 in range(0, X.shape[0], TILE_ROWS):
        m = min(TILE_ROWS, X.shape[0] - t0)
        if blas:
            _blas_tile(X, centered, half_norms, mean, t0, m, tile, dots, best, lab)
        else:
            _chain_tile(X, centered, half_norms, mean, t0, m, tile, dots, best, lab)


def _labels_ms(n: int, d: int, k: int) -> dict[str, float]:
    """Both forms' labels of ``n`` blobs rows, best of interleaved repeats, BLAS on one
    thread (as in a fit)."""
    X = blobs(n, d, k)
    C = X[np.random.default_rng(1).choice(n, k, replace=False)].copy()
    mean = X.mean(axis=0).astype(X.dtype)
    centered, half_norms = np.empty_like(C), np.empty(k, X.dtype)
    center_on(C, mean, centered, half_norms)
    lab = np.empty(TILE_ROWS, np.int32)
    with threadpool_limits(1):
        return _interleaved_ms({
            "blas": lambda: _all_labels(X, centered, half_norms, mean, True, lab),
            "chains": lambda: _all_labels(X, centered, half_norms, mean, False, lab),
        })  # fmt: skip


def values_vs_blas() -> None:
    """Labels of every row on one thread: one BLAS call per tile against the chains of
    ``tiles.dot_values`` (k a multiple of 4, as both forms above need)."""
    print("few-feature labels, ms: BLAS per tile / chains (ratio > 1: chains are faster)")
    for n, d, k in [(300_000, 8, 32), (500_000, 16, 64), (200_000, 32, 64), (200_000, 48, 64)]:
        ms = _labels_ms(n, d, k)
        print(f"  {n}x{d} k={k}: {ms['blas']:.2f} / {ms['chains']:.2f} = "
              f"{ms['blas'] / ms['chains']:.2f}", flush=True)  # fmt: skip


def transposing() -> None:
    print("transposing tiles, ms per pass: transpose / read")
    for n, d in [(1_000_000, 2), (300_000, 8), (500_000, 16), (200_000, 32), (200_000, 128)]:
        X = blobs(n, d, 8)
        b = chunk_bounds(n)
        out = np.zeros(b.shape[0] - 1)
        tr = _best_ms(lambda X=X, b=b, out=out: _transpose_all(X, b, out))
        rd = _best_ms(lambda X=X, b=b, out=out: _read_all(X, b, out))
        print(f"  {n}x{d}: {tr:.2f} / {rd:.2f} = {tr / rd:.2f}", flush=True)


def seeding() -> None:
    print("k-means++ seeding, s: tiles / rows")
    for n, d, k in [(1_000_000, 2, 8), (300_000, 8, 32), (500_000, 16, 64), (200_000, 32, 256)]:
        tiles, rows = _alternate("SEED_TILES_BELOW_FEATURES", 10**6, 0, n, d, k)
        print(f"  {n}x{d} k={k}: {tiles:.3f} / {rows:.3f} = {tiles / rows:.2f}", flush=True)
    print("k-means++ seeding row by row, s: four candidates at a time / one")
    for d in (32, 48, 64, 128):
        n, k = 200_000, 256
        four, one = _alternate("FOUR_CANDIDATES_FROM_FEATURES", 0, 10**6, n, d, k)
        print(f"  {n}x{d} k={k}: {four:.3f} / {one:.3f} = {four / one:.2f}", flush=True)


def standin_blocks() -> None:
    """One stand-in Lloyd pass (labels with the near-tie check, sums, exact inertia) for
    each block size, the sizes interleaved."""
    from fastkmeans import _standins
    from fastkmeans.kernels.partials import SUMS

    from .compile_profile import photo_pixels

    print("NumPy stand-in Lloyd pass, ms, by NEAREST_BLOCK_VALUES (rows x centers)")
    saved = _standins.NEAREST_BLOCK_VALUES
    cases = [("china.jpg", photo_pixels(), 64), ("blobs", blobs(300_000, 8, 32), 32)]
    try:
        for name, X, k in cases:
            n, d = X.shape
            b = chunk_bounds(n)
            nc = b.shape[0] - 1
            centers = X[np.random.default_rng(0).choice(n, k, replace=False)].copy()
            args = (np.ones(n), centers, b, np.zeros(n, dtype=np.intp), np.empty((nc, k, d)),
                    np.empty((nc, k)), np.empty((nc, k, 2)), np.zeros(d), np.empty(nc),
                    np.empty(nc, dtype=np.intp), SUMS)  # fmt: skip

            def one(p: int, X: np.ndarray = X, args: tuple = args) -> None:
                _standins.NEAREST_BLOCK_VALUES = 1 << p
                _standins.lloyd_direct(X, *args)

            powers = range(15, 22)
            ms = _interleaved_ms({p: (lambda p=p: one(p)) for p in powers}, repeats=5)
            print(f"  {name} {n}x{d} k={k}: " + ", ".join(f"2^{p} {ms[p]:.1f}" for p in powers),
                  flush=True)  # fmt: skip
    finally:
        _standins.NEAREST_BLOCK_VALUES = saved


if __name__ == "__main__":
    main()
