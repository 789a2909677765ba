"""Shared helpers for the benchmarks: data, timing, a common inertia, machine limits."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, prange


def blobs(n: int, d: int, k: int, dtype: Any = np.float32, seed: int = 0) -> np.ndarray:
    """Gaussian blobs around k centers in [-10, 10]^d with unit-ish overlap."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(k, d))
    labels = rng.integers(0, k, size=n)
    X = centers[labels] + rng.normal(scale=2.0 + 0.05 * d, size=(n, d))
    return X.astype(dtype)


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls of ``fn`` and the last result."""
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def interleaved(
    fns: dict[Any, Callable[[], Any]], repeats: int
) -> dict[Any, tuple[list[float], Any]]:
    """Wall times of ``repeats`` calls of each of ``fns`` and its last result, the calls
    taken in rounds (each function once per round), so that a slow spell of a shared
    machine falls on every function alike rather than on whichever ran through it."""
    times: dict[Any, list[float]] = {name: [] for name in fns}
    out: dict[Any, Any] = {}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            out[name] = fn()
            times[name].append(time.perf_counter() - t0)
    return {name: (times[name], out[name]) for name in fns}


# Not cached: these modules run both as ``benchmarks.common`` and as a script's ``common``,
# and a cache entry written under one name cannot be loaded under the other.
@njit(parallel=True)
def _min_sq_dist_sum(X, C):
    n = X.shape[0]
    out = np.zeros(n)
    for i in prange(n):
        best = np.inf
        for j in range(C.shape[0]):
            s = 0.0
            for f in range(X.shape[1]):
                t = np.float64(X[i, f]) - C[j, f]
                s += t * t
            best = min(best, s)
        out[i] = best
    return out.sum()


def inertia64(X: np.ndarray, centers: np.ndarray) -> float:
    """The one inertia every library is judged by: float64 exact squared distances of each
    point to its nearest center (independent of every library's own labels)."""
    return float(_min_sq_dist_sum(X, np.asarray(centers, dtype=np.float64)))


def _read_all(a: np.ndarray, threads: int) -> float:
    """Sum ``a`` with ``threads`` threads, each reducing one slice (NumPy drops the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    parts = np.array_split(a, threads)
    with ThreadPoolExecutor(threads) as pool:
        return float(sum(pool.map(np.sum, parts)))


def machine_limits(threads: int, quick: bool = False) -> dict[str, float]:
    """Measured float32 and float64 GEMM rates (GFLOP/s) and read bandwidth (GB/s) on
    ``threads`` (``quick``: small sizes, rough figures)."""
    from threadpoolctl import threadpool_limits

    n = 512 if quick else 2048
    rng = np.random.default_rng(0)
    rates = {}
    for key, dtype in (("gemm_gflops", np.float32), ("gemm64_gflops", np.float64)):
        a = rng.random((n, n)).astype(dtype)
        b = rng.random((n, n)).astype(dtype)
        with threadpool_limits(threads):
            a @ b
            t, _ = median_time(lambda a=a, b=b: a @ b, 5)
        rates[key] = 2 * n**3 / t / 1e9
    mib = 64 if quick else 512  # far beyond the caches unless quick
    big = np.ones(mib * 1024 * 1024 // 4, dtype=np.float32)
    _read_all(big, threads)
    t, _ = median_time(lambda: _read_all(big, threads), 5)
    return {**rates, "bandwidth_gbs": big.nbytes / t / 1e9}


def limit_ms(n: int, d: int, k: int, itemsize: int, limits: dict[str, float]) -> float:
    """Lower bound for one Lloyd iteration: max(GEMM flops at the rate of X's dtype, one
    read of X), in ms."""
    rate = limits["gemm64_gflops"] if itemsize == 8 else limits["gemm_gflops"]
    flops = 2.0 * n * d * k / (rate * 1e9)
    read = n * d * itemsize / (limits["bandwidth_gbs"] * 1e9)
    return 1e3 * max(flops, read)


def cpu_description() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def section_main(run: Callable[[bool], list[dict[str, Any]]], doc: str) -> None:
    """The command line of one benchmark section run as a script: ``--quick`` for a smoke
    run, then its rows printed as a table."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data: a smoke run")
    rows = run(parser.parse_args().quick)
    cols = list(dict.fromkeys(c for r in rows for c in r))
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(f"{r[c]:.6g}" if isinstance(r.get(c), float) else str(r.get(c, ""))
                         for c in cols))  # fmt: skip
