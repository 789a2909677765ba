"""Out of core: the exact algorithms on a memmap read in blocks, against the same data in memory.

The data (300,000 x 8 float32 blobs, k = 64; with ``--quick`` 60,000 x 8, k = 32) are
written to a temporary ``.npy`` file and read back as an ``np.memmap`` under
``FASTKMEANS_MEMORY_BUDGET=4M`` (a 4 MiB block buffer: the 9.6 MB of data stream in five
blocks a pass; ``512K`` with ``--quick``). Every fit starts from the same initial centers
(k-means++ on the data in memory, seed 0), runs exactly 80 iterations (``tol=0``, stopping
only on strict convergence) and is timed as the median of three fits; the kernels are
compiled before the clock starts. Hamerly's bounds stay in memory across passes (16 bytes
per row), so where it is faster than Lloyd in memory it should be faster streamed too;
``same labels`` says whether the streamed run gave the in-memory labels.

Run ``python -m benchmarks.bench_out_of_core`` or with ``--quick``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

try:
    from .common import blobs
except ImportError:  # run as a script
    from common import blobs  # type: ignore[no-redef]

BUDGET = "4M"
ITERATIONS = 80


def _median_fit(params: Any, X: Any, repeats: int = 3) -> tuple[float, Any]:
    times, model = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        model = params.fit(X)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), model


def run(quick: bool) -> list[dict[str, Any]]:
    """Lloyd and Hamerly, in memory and streamed; one row per algorithm.

    Returns
    -------
    list of dict
        ``algorithm``, ``n``, ``d``, ``k``, ``in memory s``, ``streamed s``,
        ``streamed / in memory``, ``vs Lloyd streamed`` and ``same labels``.
    """
    import fastkmeans as fk
    from fastkmeans._sources import StreamSource

    n, d, k = (60_000, 8, 32) if quick else (300_000, 8, 64)
    X = blobs(n, d, k, dtype=np.float32, seed=0)
    init = fk.KMeansParams(k, seed=0, max_iter=1).fit(X).centroids
    rows: list[dict[str, Any]] = []
    old = os.environ.get("FASTKMEANS_MEMORY_BUDGET")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "X.npy"
        np.save(path, X)
        mm = np.load(path, mmap_mode="r")
        try:
            os.environ["FASTKMEANS_MEMORY_BUDGET"] = "512K" if quick else BUDGET
            for algorithm in ("lloyd", "hamerly"):
                params = fk.KMeansParams(
                    k, init=init, algorithm=algorithm, max_iter=ITERATIONS, tol=0.0
                )
                params.replace(max_iter=3).fit(mm)  # compile (streamed and in memory)
                params.replace(max_iter=3).fit(X)
                t_mem, ref = _median_fit(params, X)
                t_str, got = _median_fit(params, mm)
                rows.append(
                    {
                        "algorithm": algorithm,
                        "n": n,
                        "d": d,
                        "k": k,
                        "blocks": StreamSource(mm, None, False).n_blocks,
                        "iterations": int(ref.n_iter),
                        "in memory s": t_mem,
                        "streamed s": t_str,
                        "streamed / in memory": t_str / t_mem,
                        "same labels": bool(np.array_equal(ref.labels, got.labels)),
                    }
                )
        finally:
            if old is None:
                os.environ.pop("FASTKMEANS_MEMORY_BUDGET", None)
            else:
                os.environ["FASTKMEANS_MEMORY_BUDGET"] = old
            del mm
    base = rows[0]["streamed s"]
    for row in rows:
        row["streamed vs Lloyd streamed"] = row["streamed s"] / base
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    for row in run(parser.parse_args().quick):
        print(row)


if __name__ == "__main__":
    main()
