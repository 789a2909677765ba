"""fastkmeans against scikit-learn (lloyd, elkan), sklearnex and faiss, in one process.

Two modes: fixed work (the same initial centroids, n_init=1, exactly 20 iterations:
milliseconds per iteration) and convergence (each library's own k-means++ or default
seeding, tol=1e-4, three seeds: seconds to converge and final inertia).
"""

from __future__ import annotations

import functools
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Any

import numpy as np

import fastkmeans as fk
from fastkmeans._seeding import initial_centers, resolve_init
from fastkmeans._sources.memory import MemorySource
from fastkmeans._threads import thread_limit

from .common import blobs, inertia64, interleaved, limit_ms, median_time

ITERS = 20
#: (name, n, d, k, dtype)
CASES = [
    ("tutorial 750x2 k=3", 750, 2, 3, np.float32),
    ("1,000,000x2 k=8", 1_000_000, 2, 8, np.float32),
    ("300,000x8 k=32", 300_000, 8, 32, np.float32),
    ("500,000x16 k=64", 500_000, 16, 64, np.float32),
    ("200,000x128 k=256", 200_000, 128, 256, np.float32),
    ("200,000x32 k=1024", 200_000, 32, 1024, np.float32),
    ("500,000x16 k=64 f64", 500_000, 16, 64, np.float64),
]
QUICK_CASES = [
    ("tutorial 750x2 k=3", 750, 2, 3, np.float32),
    ("20,000x2 k=8", 20_000, 2, 8, np.float32),
    ("10,000x16 k=16", 10_000, 16, 16, np.float32),
]


def _data(name: str, n: int, d: int, k: int, dtype: Any) -> np.ndarray:
    if name.startswith("tutorial"):
        return fk.datasets.make_tutorial_data(seed=0).astype(dtype)
    return blobs(n, d, k, dtype=dtype)


def _peers(threads: int) -> dict[str, Any]:
    """Constructors ``(k, init, max_iter, tol, seed) -> fitted centers, n_iter`` per peer."""
    from sklearn.cluster import KMeans

    peers: dict[str, Any] = {}

    def sk(algorithm: str):
        def fit(X, k, init, max_iter, tol, seed):
            est = KMeans(
                k,
                init=init,
                n_init=1,
                max_iter=max_iter,
                tol=tol,
                algorithm=algorithm,
                random_state=seed,
            ).fit(X)
            return est.cluster_centers_, est.n_iter_

        return fit

    peers["sklearn lloyd"] = sk("lloyd")
    peers["sklearn elkan"] = sk("elkan")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from sklearnex.cluster import KMeans as KMeansX

        def skx(X, k, init, max_iter, tol, seed):
            est = KMeansX(
                k, init=init, n_init=1, max_iter=max_iter, tol=tol, random_state=seed
            ).fit(X)
            return est.cluster_centers_, est.n_iter_

        peers["sklearnex"] = skx
    except ImportError:
        pass
    try:
        import faiss

        faiss.omp_set_num_threads(threads)

        def fa(X, k, init, max_iter, tol, seed):
            # faiss has no tolerance: it runs exactly niter iterations (25 by default), on
            # all points (no sub-sampling), from random rows when no init is given.
            niter = max_iter if tol == 0 else 25
            X32 = np.ascontiguousarray(X, dtype=np.float32)
            km = faiss.Kmeans(
                X.shape[1],
                k,
                niter=niter,
                seed=seed + 1234,
                verbose=False,
                max_points_per_centroid=10**9,
            )
            if isinstance(init, np.ndarray):
                km.train(X32, init_centroids=np.ascontiguousarray(init, dtype=np.float32))
            else:
                km.train(X32)
            return km.centroids, niter

        peers["faiss"] = fa
    except ImportError:
        pass
    return peers


def _ours(algorithm: str, threads: int):
    def fit(X, k, init, max_iter, tol, seed):
        m = fk.KMeansParams(
            k,
            init=init,
            max_iter=max_iter,
            tol=tol,
            seed=seed,
            algorithm=algorithm,
            n_threads=threads,
        ).fit(X)
        return m.centroids, m.n_iter

    return fit


def fixed_work(threads: int, limits: dict[str, float], quick: bool) -> list[dict[str, Any]]:
    """Milliseconds per iteration from the same initial centroids, exactly 20 iterations."""
    rows = []
    peers = _peers(threads)
    for name, n, d, k, dtype in QUICK_CASES if quick else CASES:
        X = _data(name, n, d, k, dtype)
        init = X[np.random.default_rng(1).choice(len(X), k, replace=False)]
        repeats = 5 if n * d * k < 10**9 else 1
        if name.startswith("tutorial"):
            repeats = 50
        row: dict[str, Any] = {"case": name}
        libs = {"fastkmeans lloyd": _ours("lloyd", threads), **peers}
        if dtype != np.float32:
            libs.pop("faiss", None)  # float32 only
        for fit in libs.values():
            fit(X, k, init, 2, 0.0, 0)  # warm-up: compile, allocate
        runs = {lib: functools.partial(fit, X, k, init, ITERS, 0.0, 0) for lib, fit in libs.items()}
        for lib, (times, (_, n_iter)) in interleaved(runs, repeats).items():
            row[lib] = 1e3 * statistics.median(times) / max(int(n_iter), 1)
        best_peer = min(v for key, v in row.items() if key in peers)
        row["best peer / fastkmeans"] = best_peer / row["fastkmeans lloyd"]
        tiny = name.startswith("tutorial")  # no meaningful machine limit (see the notes)
        row["limit"] = math.nan if tiny else limit_ms(n, d, k, X.itemsize, limits)
        row["fastkmeans / limit"] = row["fastkmeans lloyd"] / row["limit"]
        row["input MiB"] = X.nbytes / 2**20
        row["fastkmeans auto extra peak RSS MiB"] = extra_peak_rss(X, init, threads)
        rows.append(row)
        print(_short(row), flush=True)
    return rows


_RSS_CHILD = """
import sys, numpy as np, fastkmeans as fk

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key + ":"))

X = np.load(sys.argv[1]); init = np.load(sys.argv[2])
k = len(init)
params = fk.KMeansParams(k, init=init, max_iter=20, tol=0.0, n_threads=int(sys.argv[3]))
# Compile or load every kernel the measured fit calls by running that very fit (Hamerly's
# and Yinyang's kernels start only once few labels change), then reset the peak.
params.fit(X)
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak (VmHWM) to the current resident size
before = status("VmRSS")
params.fit(X)
print((status("VmHWM") - before) / 1024)
"""


def extra_peak_rss(X: np.ndarray, init: np.ndarray, threads: int) -> float:
    """Peak RSS a 20-iteration fit (``algorithm="auto"``, so Yinyang's capped bounds at
    k >= 1024) adds on top of the loaded input, in MiB, measured in a fresh process (so
    no other library's peak is counted)."""
    with tempfile.TemporaryDirectory() as tmp:
        xp, ip = os.path.join(tmp, "X.npy"), os.path.join(tmp, "init.npy")
        np.save(xp, X)
        np.save(ip, init)
        out = subprocess.run(
            [sys.executable, "-c", _RSS_CHILD, xp, ip, str(threads)],
            capture_output=True,
            text=True,
            check=True,
        )
    return float(out.stdout.strip().splitlines()[-1])


def convergence(threads: int, quick: bool) -> list[dict[str, Any]]:
    """Seconds to converge (seeding included) and final inertia, mean over three seeds.
    Every peer seeds with k-means++ (faiss: random rows). fastkmeans runs both of its
    seedings, k-means++ and k-means||; "fastkmeans auto" is its defaults (``init="auto"``,
    ``algorithm="auto"``), which is one of the two by ``n_clusters`` (the same fit, bit for
    bit: tests/test_fit.py), copied from that column rather than run a third time."""
    rows = []
    peers = _peers(threads)
    seeds = (0, 1, 2)
    for name, n, d, k, dtype in QUICK_CASES if quick else CASES:
        X = _data(name, n, d, k, dtype)
        ours = _ours("auto", threads)
        libs = {"fastkmeans k-means++": ours, "fastkmeans k-means||": ours, **peers}
        row: dict[str, Any] = {"case": name}
        errors: dict[str, float] = {}  # standard error of each library's mean inertia
        for lib, fit in libs.items():
            if lib == "faiss" and dtype != np.float32:
                continue
            init = "k-means||" if lib.endswith("k-means||") else "k-means++"
            # Warm-up: a whole fit, so that the kernels of every phase (the bounded passes
            # of Hamerly and Yinyang start late) are compiled or loaded before the timing.
            fit(X, k, init, 300, 1e-4, 0)
            times, inertias = [], []
            for seed in seeds:
                t0 = time.perf_counter()
                centers, _ = fit(X, k, init, 300, 1e-4, seed)
                times.append(time.perf_counter() - t0)
                inertias.append(inertia64(X, centers))
            row[f"{lib} s"] = float(np.mean(times))
            row[f"{lib} inertia"] = float(np.mean(inertias))
            errors[lib] = float(np.std(inertias, ddof=1) / np.sqrt(len(inertias)))
        default = resolve_init("auto", k)
        row = {"case": name, "fastkmeans auto seeds with": default,
               "fastkmeans auto s": row[f"fastkmeans {default} s"],
               "fastkmeans auto inertia": row[f"fastkmeans {default} inertia"],
               **{c: v for c, v in row.items() if c != "case"}}  # fmt: skip
        for init in ("k-means++", "k-means||"):
            source = MemorySource(X, None, False, k)
            with thread_limit(threads, single_thread_blas=True):  # as a fit seeds
                t0 = time.perf_counter()
                initial_centers(fk.KMeansParams(k, init=init), source, np.random.default_rng(0))
                row[f"fastkmeans seeding s, {init}"] = time.perf_counter() - t0
        peer_names = [p for p in peers if f"{p} s" in row]
        ours_inertia = row["fastkmeans auto inertia"]
        # The target: the fastest peer that reaches our inertia (within 0.5%).
        level = [p for p in peer_names if row[f"{p} inertia"] <= 1.005 * ours_inertia]
        row["fastest peer at our inertia / fastkmeans (time)"] = (
            min(row[f"{p} s"] for p in level) / row["fastkmeans auto s"] if level else None
        )
        best = min(peer_names, key=lambda p: row[f"{p} inertia"])
        best_inertia = row[f"{best} inertia"]
        row["inertia vs best peer (%)"] = 100 * (ours_inertia / best_inertia - 1)
        # Seeds give local minima a few percent apart: the difference's standard error.
        ours_error = errors[f"fastkmeans {default}"]
        row["± 1 s.e. (%)"] = 100 * float(np.hypot(ours_error, errors[best])) / best_inertia
        rows.append(row)
        print(_short(row), flush=True)
    return rows


def algorithms(threads: int, quick: bool) -> list[dict[str, Any]]:
    """fastkmeans' exact algorithms from the same initial centroids to convergence
    (tol=1e-4): the measurements behind ``algorithm="auto"``."""
    from fastkmeans._assign import resolve_algorithm

    rows = []
    for name, n, d, k, dtype in QUICK_CASES if quick else CASES:
        X = _data(name, n, d, k, dtype)
        init = X[np.random.default_rng(2).choice(len(X), k, replace=False)]
        row: dict[str, Any] = {"case": name}
        for alg in ("lloyd", "hamerly", "yinyang"):
            fit = _ours(alg, threads)
            fit(X, k, init, 1, 1e-4, 0)  # warm-up
            t, (_, n_iter) = median_time(
                lambda f=fit, X=X, k=k, init=init: f(X, k, init, 300, 1e-4, 0), 3
            )
            row[f"{alg} s"] = t
            row["iterations"] = int(n_iter)
        row["auto picks"] = resolve_algorithm("auto", n, d, k)
        rows.append(row)
        print(_short(row), flush=True)
    return rows


def _short(row: dict[str, Any]) -> str:
    return "  ".join(
        f"{k}={v:.4g}" if isinstance(v, float) and math.isfinite(v) else f"{k}={v}"
        for k, v in row.items()
    )
