"""Start-up: new processes, empty and warm Numba cache (demo, china.jpg k = 64, text, compile)

The demo; a k = 64 fit of scikit-learn's china.jpg pixels (273,280 x 3) and a k = 20 fit of
the sparse TF-IDF rows of ``bench_sparse --quick`` (about 20,000 docstring paragraphs),
each against scikit-learn's KMeans on the same data and seed; ``fastkmeans compile`` and
its groups.

Every row is a new Python process: "empty" gives it a fresh ``NUMBA_CACHE_DIR``, "warm" the
one the rows before it filled. A first fit on an empty cache runs the NumPy stand-ins while
a background process compiles the kernels (the default); the "background compile" row is
how long that process ran after the fit, and "compiling in the fit" is the same first run
with ``FASTKMEANS_FIRST_RUN=compile``. Seconds are the child's wall time (CPU time: user +
system); compiles are the kernel specialisations Numba compiled (its ``numba:compile``
events). ``fastkmeans compile`` runs one process per dtype at the same time: its group rows
add up both dtypes' seconds, which overlapped (a kernel whose types do not depend on the
dtype counts in the group of the process that compiled it first; the other loads it), and
its compiles are the specialisations its processes compiled (cache misses).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastkmeans._cold import LOCK

ROOT = Path(__file__).resolve().parent.parent

_FIT = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
if sys.argv[2] == "photo":
    from sklearn.datasets import load_sample_image
    X = (np.asarray(load_sample_image("china.jpg"), dtype=np.float64) / 255.0).reshape(-1, 3)
    k = 64
else:
    from benchmarks.bench_sparse import corpus
    X, k = corpus(quick=True), 20
if sys.argv[1] == "sklearn":
    from sklearn.cluster import KMeans
    t = time.perf_counter()
    km = KMeans(k, n_init=1, random_state=0).fit(X)
    print(json.dumps({"fit": time.perf_counter() - t, "compiles": 0,
                      "inertia": float(km.inertia_)}))
else:
    import fastkmeans as fk
    from fastkmeans._compile import watch
    with watch() as w:
        t = time.perf_counter()
        model = fk.KMeansParams(k, seed=0).fit(X)
        fit = time.perf_counter() - t
    print(json.dumps({"fit": fit, "compiles": w.count, "compile": w.seconds,
                      "inertia": model.inertia}))
"""

_COMPILE = """
import json
from fastkmeans._precompile import compile_all
s = compile_all()
print(json.dumps({"groups": s.groups, "kernels": s.kernels, "compiles": s.compiled}))
"""


def _child(args: list[str], cache: str) -> tuple[float, float, str]:
    """Wall and CPU seconds of a new Python process, and its stdout."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          check=True, cwd=ROOT)  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def _demo(cache: str, tmp: str) -> dict[str, Any]:
    wall, cpu, out = _child(["-m", "fastkmeans", "demo", "--out", f"{tmp}/demo.html"], cache)
    fields = dict(kv.split("=", 1) for kv in out.split() if "=" in kv)
    return {"wall s": wall, "CPU s": cpu, "compile s": float(fields["compile"]),
            "fit s": float(fields["fit"]), "inertia": float(fields["inertia"])}  # fmt: skip


def _fit(cache: str, who: str, data: str) -> dict[str, Any]:
    wall, cpu, out = _child(["-c", _FIT, who, data], cache)
    res = json.loads(out.strip().splitlines()[-1])
    return {"wall s": wall, "CPU s": cpu, "fit s": res["fit"], "compiles": res["compiles"],
            "compile s": res.get("compile"), "inertia": res["inertia"]}  # fmt: skip


def _wait_for_background(cache: str, limit: float = 900.0) -> float:
    """Seconds until the background compile a first fit started on ``cache`` is done."""
    start = time.perf_counter()
    lock = Path(cache) / LOCK
    while lock.exists() and time.perf_counter() - start < limit:
        time.sleep(0.5)
    return time.perf_counter() - start


def _case(name: str, cache: str, tmp: str, first_run: str | None = None) -> dict[str, Any]:
    old = os.environ.get("FASTKMEANS_FIRST_RUN")
    os.environ["FASTKMEANS_FIRST_RUN"] = first_run or "background"
    try:
        return _demo(cache, tmp) if name == "demo" else _fit(cache, "fastkmeans", name)
    finally:
        if old is None:
            del os.environ["FASTKMEANS_FIRST_RUN"]
        else:
            os.environ["FASTKMEANS_FIRST_RUN"] = old


def run(quick: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fk-startup-") as tmp:
        for name in ("demo", "photo", "text"):
            # The default first run: NumPy stand-ins while a background process compiles.
            cache = tempfile.mkdtemp(dir=tmp)
            rows.append({"case": f"fastkmeans {name}", "cache": "empty",
                         **_case(name, cache, tmp)})  # fmt: skip
            waited = _wait_for_background(cache)
            rows.append({"case": f"  background compile after the {name}", "cache": "empty",
                         "wall s": waited})  # fmt: skip
            for state in ("warm", "warm"):
                rows.append({"case": f"fastkmeans {name}", "cache": state,
                             **_case(name, cache, tmp)})  # fmt: skip
            rows.pop(-2)  # the first warm run only warmed the OS file cache
            cold, warm = rows[-3]["wall s"], rows[-1]["wall s"]
            rows[-3]["vs warm"] = cold / warm
            # The same first run compiling in the fit (FASTKMEANS_FIRST_RUN=compile).
            res = _case(name, tempfile.mkdtemp(dir=tmp), tmp, "compile")
            rows.append({"case": f"fastkmeans {name}, compiling in the fit", "cache": "empty",
                         **res, "vs warm": res["wall s"] / warm})  # fmt: skip
        for name in ("photo", "text"):
            sk = _fit(tempfile.mkdtemp(dir=tmp), "sklearn", name)
            rows.append({"case": f"scikit-learn {name}", "cache": "—", **sk})
            for row in rows:
                if row["case"].startswith(f"fastkmeans {name}"):
                    row["vs scikit-learn"] = row["wall s"] / sk["wall s"]
                    row["fit vs scikit-learn"] = row["fit s"] / sk["fit s"]
        cache = tempfile.mkdtemp(dir=tmp)
        for state in ("empty", "warm"):
            wall, cpu, out = _child(["-c", _COMPILE], cache)
            res = json.loads(out.strip().splitlines()[-1])
            rows.append({"case": "fastkmeans compile", "cache": state, "wall s": wall,
                         "CPU s": cpu, "compiles": res["compiles"]})  # fmt: skip
            if state == "empty":
                for group, (g_wall, g_cpu) in res["groups"].items():
                    rows.append({"case": f"  compile: {group}", "cache": state,
                                 "wall s": g_wall, "CPU s": g_cpu})  # fmt: skip
    return rows
