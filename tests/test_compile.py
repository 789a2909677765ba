"""Compiling: ``fastkmeans compile``, no kernel compiled twice, fits that say they compile."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
from numba import njit

from fastkmeans import _compile, _precompile


def _python(code: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_every_kernel_is_an_entry_or_called_by_one():
    """The compile command counts the kernels Python calls; every other kernel is reached
    through them (or inlined into them)."""
    every = _compile.kernel_dispatchers(inlined=True)
    entries = _precompile.entry_kernels(_compile.kernel_dispatchers())
    assert entries and set(entries) <= set(every)
    reached = set(entries)
    todo = list(entries.values())
    by_id = {id(d): name for name, d in every.items()}
    while todo:
        for obj in _compile.callees(todo.pop().py_func):
            callee = by_id.get(id(obj))
            if callee is not None and callee not in reached:
                reached.add(callee)
                todo.append(every[callee])
    assert reached == set(every)


def test_compile_command_reaches_every_kernel_and_is_quick_when_warm():
    """Against the suite's cache (scripts/test.sh runs the command before the tests)."""
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "fastkmeans", "compile"],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        line = proc.stdout.strip().splitlines()[-1]
        m = re.fullmatch(r"kernels=(\d+)/(\d+) (.*) seconds=([\d.]+) cache=(.+)", line)
        assert m, line
        assert m[1] == m[2]
        assert m[5] == os.environ["NUMBA_CACHE_DIR"]
    assert m[3] == "up-to-date"  # the second run: nothing loaded, nothing compiled
    assert float(m[4]) < 5.0


def test_compile_children_run_every_group_each_starting_with_its_own_shared_one():
    """The dtype-independent groups are named in GROUPS, each child runs every group once,
    and no shared group comes first in both children."""
    names = [name for name, _ in _precompile.GROUPS]
    assert set(_precompile.SHARED_GROUPS) <= set(names)
    orders = [[name for name, _ in _precompile.child_order(c)] for c in (0, 1)]
    for order in orders:
        assert sorted(order) == sorted(names)
    assert orders[0][0] != orders[1][0]
    assert {orders[0][0], orders[1][0]} == set(_precompile.SHARED_GROUPS)


_PARALLEL = """
import json
from fastkmeans._precompile import compile_all
s = compile_all(groups=("optimal, silhouette",), jobs=2)
print(json.dumps({"groups": sorted(s.groups), "kernels": s.kernels, "compiled": s.compiled,
                  "missing": s.missing, "folder": s.folder}))
"""


def test_compile_runs_each_dtype_in_a_process_of_its_own(tmp_path):
    """From an empty cache, one group in two processes (one per dtype): the merged summary
    names the group, counts what the children compiled, and both dtypes are stamped."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", _PARALLEL], capture_output=True, text=True,
                          env=env, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["groups"] == ["optimal, silhouette"]
    assert res["compiled"] > 0 and res["kernels"] >= 2
    assert res["folder"] == str(tmp_path)
    for dtype in ("float32", "float64"):
        assert (tmp_path / f"fastkmeans-ready-optimal-silhouette-{dtype}.txt").exists()


def test_no_kernel_compiles_twice():
    """In a new process with a warm cache, the tutorial fit, a k = 64 Hamerly fit,
    k-means||, mini-batch and a Dask worker's block compile nothing."""
    code = """
        import numpy as np
        import fastkmeans as fk
        from fastkmeans._assign import Planner, RowState, assign_block
        from fastkmeans._compile import kernel_dispatchers

        X = fk.datasets.make_tutorial_data(seed=0)
        fk.KMeansParams(3, seed=42, max_iter=200, tol=1e-5).fit(X).predict(X)
        B, _ = fk.datasets.make_blobs(20_000, 3, 64, seed=0)
        fk.KMeansParams(64, seed=0, algorithm="hamerly", max_iter=30).fit(B)
        fk.KMeansParams(8, seed=0, init="k-means||", max_iter=5).fit(B)
        fk.MiniBatchKMeansParams(8, seed=0, batch_size=256, max_iter=3).fit(B)
        w = np.ones(B.shape[0])
        for algorithm in ("lloyd", "hamerly"):
            planner = Planner(algorithm, *B.shape, 64, B.dtype, B.mean(axis=0))
            planner.record(0)  # as if few labels changed: the bounded kernel
            state = RowState(B.shape[0])
            for _ in range(2):
                state, _ = assign_block(B, w, state, planner.plan(B[:64].copy()), worker=True)
        misses = {name: dict(d.stats.cache_misses)
                  for name, d in kernel_dispatchers(inlined=True).items()
                  if d.stats.cache_misses}
        print("MISSES", misses)
        """
    first = _python(code)  # warms the cache, whatever ran before
    assert first.returncode == 0, first.stderr[-3000:]
    second = _python(code)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "MISSES {}" in second.stdout, second.stdout


def test_watch_says_once_when_a_kernel_compiles():
    @njit(cache=False)
    def twice(x):
        return 2 * x

    said: list[str] = []
    busy: list[bool] = []
    with _compile.watch(said.append, busy.append) as compiling:
        twice(1.0)
        twice(2.0)  # compiled already
        twice(np.int64(3))  # a new specialisation: compiles, says nothing more
    assert said == [_compile.MESSAGE]
    assert compiling.count == 2 and compiling.seconds > 0
    assert busy == [True, False, True, False]
    with _compile.watch(said.append) as again:
        twice(4.0)
    assert again.count == 0 and len(said) == 1


def test_progress_bar_reads_compiling_while_kernels_compile():
    @njit(cache=False)
    def thrice(x):
        return 3 * x

    class Bar:
        def __init__(self):
            self.seen: list[str] = []

        def set_description(self, desc, refresh=True):
            self.seen.append(desc)

    bar = Bar()
    with _compile.on_bar(bar, "k-means"):
        thrice(1.0)
    assert bar.seen == [f"k-means: {_compile.MESSAGE}", "k-means"]


_READONLY = """
import numpy as np
from numba import types
import fastkmeans as fk
from fastkmeans._compile import kernel_dispatchers
rng = np.random.default_rng(0)
for n, d, k in ((300, 2, 3), (20000, 3, 16), (20000, 2, 4)):
    X = rng.normal(size=(n, d))
    model = fk.KMeansParams(k, seed=0).fit(X)
    model.predict(X), model.transform(X), model.score(X)
    fk.MiniBatchKMeansParams(k, seed=0, max_iter=1).fit(X).partial_fit(X[:256])
    for algorithm in ("lloyd", "hamerly", "yinyang"):  # the params keep init read-only
        fk.KMeansParams(k, init=X[:k].copy(), algorithm=algorithm, max_iter=5).fit(X)
        fk.MiniBatchKMeansParams(k, init=X[:k].copy(), max_iter=1).fit(X)
bad = sorted(name for name, disp in kernel_dispatchers(inlined=True).items()
             for sig in disp.signatures for t in sig
             if isinstance(t, types.Array) and not t.mutable)
print("read-only:", bad)
"""


def test_prediction_passes_no_read_only_array_to_a_kernel():
    """A model's centroids are read-only; handed to a kernel as they are, they would make
    Numba compile a second specialisation of it on the first predict."""
    proc = subprocess.run([sys.executable, "-c", _READONLY], capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "read-only: []"
