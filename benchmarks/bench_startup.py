"""Start-up: new processes, empty and warm Numba cache (demo, china.jpg k = 64, compile)

The demo; a k = 64 fit of scikit-learn's china.jpg pixels (273,280 x 3) against
scikit-learn's KMeans on the same data and seed; ``fastkmeans compile`` and its groups.

Every row is a new Python process: "empty" gives it a fresh ``NUMBA_CACHE_DIR``, "warm" the
one the row before it filled. Seconds are the child's wall time (CPU time: user + system);
compiles are the kernel specialisations Numba compiled (its ``numba:compile`` events).
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

ROOT = Path(__file__).resolve().parent.parent

_FIT = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from sklearn.datasets import load_sample_image
X = (np.asarray(load_sample_image("china.jpg"), dtype=np.float64) / 255.0).reshape(-1, 3)
if sys.argv[1] == "sklearn":
    from sklearn.cluster import KMeans
    t = time.perf_counter()
    KMeans(64, n_init=1, random_state=0).fit(X)
    print(json.dumps({"fit": time.perf_counter() - t, "compiles": 0}))
else:
    import fastkmeans as fk
    from fastkmeans._compile import watch
    with watch() as w:
        t = time.perf_counter()
        fk.KMeansParams(64, seed=0).fit(X)
        fit = time.perf_counter() - t
    print(json.dumps({"fit": fit, "compiles": w.count, "compile": w.seconds}))
"""

_COMPILE = """
import json
from fastkmeans._compile import watch
from fastkmeans._precompile import compile_all
with watch() as w:
    s = compile_all()
print(json.dumps({"groups": s.groups, "kernels": s.kernels, "compiles": w.count}))
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
            "fit s": float(fields["fit"])}  # fmt: skip


def _fit(cache: str, who: str) -> dict[str, Any]:
    wall, cpu, out = _child(["-c", _FIT, who], cache)
    res = json.loads(out.strip().splitlines()[-1])
    return {"wall s": wall, "CPU s": cpu, "fit s": res["fit"], "compiles": res["compiles"],
            "compile s": res.get("compile")}  # fmt: skip


def run(quick: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fk-startup-") as tmp:
        for name in ("demo", "photo"):
            cache = tempfile.mkdtemp(dir=tmp)
            for state in ("empty", "warm", "warm"):
                res = _demo(cache, tmp) if name == "demo" else _fit(cache, "fastkmeans")
                rows.append({"case": f"fastkmeans {name}", "cache": state, **res})
            rows.pop()  # the first warm run only warmed the OS file cache
            cold, warm = rows[-2]["wall s"], rows[-1]["wall s"]
            rows[-2]["vs warm"] = cold / warm
        sk = _fit(tempfile.mkdtemp(dir=tmp), "sklearn")
        rows.append({"case": "scikit-learn photo", "cache": "—", **sk})
        for row in rows:
            if row["case"] == "fastkmeans photo":
                row["vs scikit-learn"] = row["wall s"] / sk["wall s"]
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
