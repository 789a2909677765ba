"""``python -m benchmarks.compile_profile [--workload NAME ...] [--top N]``

Where compile time goes: every ``Dispatcher.compile`` (nested calls included) is timed
while a workload runs in this process, and the CPU seconds are reported per kernel and
specialisation, inclusive (with the kernels it compiled on the way) and exclusive (its
own). Run it with an empty ``NUMBA_CACHE_DIR`` to see a first run, with a warm one to see
what still compiles (nothing should).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _workloads() -> dict[str, Callable[[], Any]]:
    import fastkmeans as fk

    def tutorial() -> Any:
        X = fk.datasets.make_tutorial_data(seed=42)
        return fk.KMeansParams(3, seed=42, max_iter=200, tol=1e-5).fit(X).predict(X)

    def photo() -> Any:
        X = photo_pixels()
        return fk.KMeansParams(64, seed=0).fit(X)

    def hamerly() -> Any:
        X, _ = fk.datasets.make_blobs(20_000, 3, 64, seed=0)
        return fk.KMeansParams(64, seed=0, algorithm="hamerly").fit(X)

    def parallel_init() -> Any:
        X, _ = fk.datasets.make_blobs(20_000, 3, 8, seed=0)
        return fk.KMeansParams(8, seed=0, init="k-means||").fit(X)

    def minibatch() -> Any:
        X, _ = fk.datasets.make_blobs(5_000, 3, 8, seed=0)
        return fk.MiniBatchKMeansParams(8, seed=0, batch_size=256, max_iter=5).fit(X)

    def everything() -> Any:
        from fastkmeans._precompile import compile_all

        return compile_all(jobs=1)  # in this process, where the timer listens

    return {
        "tutorial": tutorial,
        "photo": photo,
        "hamerly": hamerly,
        "kmeans||": parallel_init,
        "minibatch": minibatch,
        "compile": everything,
    }


def photo_pixels() -> np.ndarray:
    """scikit-learn's ``china.jpg`` as 273,280 x 3 float64 pixels in [0, 1]."""
    from sklearn.datasets import load_sample_image

    china = load_sample_image("china.jpg")
    return (np.asarray(china, dtype=np.float64) / 255.0).reshape(-1, 3)


class CompileTimer:
    """Wraps ``Dispatcher.compile``: CPU seconds per (kernel, signature), inclusive and
    exclusive of the compiles nested inside it."""

    def __init__(self) -> None:
        self.inclusive: dict[tuple[str, str], float] = collections.defaultdict(float)
        self.exclusive: dict[tuple[str, str], float] = collections.defaultdict(float)
        self.count = 0
        self._stack: list[float] = []

    def __enter__(self) -> CompileTimer:
        from numba.core.dispatcher import Dispatcher

        self._orig = Dispatcher.compile
        timer = self

        def compile(disp: Any, sig: Any) -> Any:
            start = time.process_time()
            timer._stack.append(0.0)
            try:
                return timer._orig(disp, sig)
            finally:
                spent = time.process_time() - start
                nested = timer._stack.pop()
                if timer._stack:
                    timer._stack[-1] += spent
                name = f"{disp.py_func.__module__}.{disp.py_func.__qualname__}"
                key = (name.removeprefix("fastkmeans."), str(sig))
                timer.inclusive[key] += spent
                timer.exclusive[key] += spent - nested
                timer.count += 1

        Dispatcher.compile = compile
        return self

    def __exit__(self, *exc: Any) -> None:
        from numba.core.dispatcher import Dispatcher

        Dispatcher.compile = self._orig

    def report(self, top: int) -> str:
        rows = sorted(self.inclusive.items(), key=lambda kv: -self.exclusive[kv[0]])[:top]
        lines = [f"{'excl s':>7} {'incl s':>7}  kernel [signature]"]
        for key, incl in rows:
            lines.append(f"{self.exclusive[key]:7.2f} {incl:7.2f}  {key[0]} {key[1][:70]}")
        return "\n".join(lines)

    def by_kernel(self, top: int) -> str:
        """Exclusive CPU seconds summed over each kernel's specialisations, with their count."""
        total: dict[str, float] = collections.defaultdict(float)
        count: dict[str, int] = collections.Counter()
        for (name, _), spent in self.exclusive.items():
            total[name] += spent
            count[name] += 1
        rows = sorted(total.items(), key=lambda kv: -kv[1])[:top]
        lines = [f"{'excl s':>7} {'specs':>5}  kernel (all its specialisations)"]
        lines += [f"{spent:7.2f} {count[name]:5d}  {name}" for name, spent in rows]
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compile_profile")
    loads = _workloads()
    parser.add_argument("--workload", nargs="+", choices=list(loads), default=["tutorial"])
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    # Fits compile their kernels here (never the first run's NumPy stand-ins).
    os.environ["FASTKMEANS_FIRST_RUN"] = "compile"
    for name in args.workload:
        with CompileTimer() as timer:
            cpu, wall = time.process_time(), time.perf_counter()
            loads[name]()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        own = sum(timer.exclusive.values())
        print(f"== {name}: {wall:.2f} s wall, {cpu:.2f} s CPU, {timer.count} compiles, "
              f"{own:.2f} s CPU compiling")  # fmt: skip
        print(timer.report(args.top))
        print(timer.by_kernel(args.top), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
