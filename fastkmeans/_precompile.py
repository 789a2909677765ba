"""``fastkmeans compile``: every kernel, both dtypes, into Numba's on-disk cache.

The kernels are compiled the way a user's fits compile them: by running the public paths
(each algorithm and seeding, mini-batch, prediction, rows held in blocks as out of core and
on Dask workers, sparse rows with 32- and 64-bit indices, ``algorithm="optimal"``) on tiny
data of each dtype, sized to reach both the serial kernels of small problems and the
parallel ones of large problems. What a user's first fit would otherwise compile is then
loaded from the cache. A kernel that no group reaches shows in the summary
(``kernels=N/M``) and fails the test suite.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._cold import child_env, mark_compiled
from ._compile import cache_folder, callees, guard_cache_writes, kernel_dispatchers

DTYPES = (np.float32, np.float64)


def _data(n: int, d: int, dtype: Any, groups: int = 8) -> np.ndarray:
    """``n`` points near ``groups`` well-separated centers: fits converge in a few
    iterations and reach the bounded algorithms' bounds."""
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=10.0, size=(groups, d))
    return (centers[rng.integers(groups, size=n)] + rng.normal(size=(n, d))).astype(dtype)


def _fits(X: Any, k: int, **fields: Any) -> None:
    """One fit per seeding and exact algorithm, with predict, transform and score, and one
    from centers all but one of which end empty (re-seeded at the farthest points)."""
    from .params import KMeansParams

    for init in ("k-means++", "random", "k-means||"):
        KMeansParams(k, seed=0, init=init, max_iter=2, **fields).fit(X)
    far = np.full((k, X.shape[1]), 1e3, dtype=X.dtype)
    far[0] = 0.0
    KMeansParams(k, init=far, max_iter=2, **fields).fit(X)
    for algorithm in ("hamerly", "yinyang"):
        model = KMeansParams(k, seed=0, algorithm=algorithm, max_iter=20, **fields).fit(X)
    model.predict(X), model.transform(X), model.score(X)


def dense_small(dtype: Any) -> None:
    """Small problems: the row-loop kernels of :mod:`.kernels.small`."""
    _fits(_data(300, 2, dtype), 3)


def dense_large(dtype: Any) -> None:
    """Large problems: the parallel kernels, direct (few features x clusters) and GEMM."""
    from .params import KMeansParams

    _fits(_data(40_000, 2, dtype, 4), 4)  # direct differences
    _fits(_data(8_000, 8, dtype, 64), 16)  # GEMM, k-means++ on tiles
    _fits(_data(2_000, 20, dtype), 8)  # k-means++ row by row
    X = _data(3_000, 4, dtype, 256)  # the centers' half gaps in parallel
    KMeansParams(256, seed=0, init="random", algorithm="hamerly", max_iter=20).fit(X)
    X = _data(350_000, 3, dtype)  # per-feature statistics in parallel
    KMeansParams(2, seed=0, init="random", max_iter=1).fit(X)


def minibatch(dtype: Any) -> None:
    """Mini-batch k-means, small and large batches, and partial_fit."""
    from .params import MiniBatchKMeansParams

    for n, d, k, batch in ((300, 2, 3, 64), (8_000, 8, 64, 1024), (8_000, 2, 4, 4096)):
        X = _data(n, d, dtype)
        model = MiniBatchKMeansParams(k, seed=0, batch_size=batch, max_iter=2).fit(X)
        model.partial_fit(X[:batch])


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def _budget(value: str) -> contextlib.AbstractContextManager[None]:
    return _env("FASTKMEANS_MEMORY_BUDGET", value)


def _first_run(value: str) -> contextlib.AbstractContextManager[None]:
    """Compiling means running the kernels, never their NumPy stand-ins."""
    return _env("FASTKMEANS_FIRST_RUN", value)


def blocks(dtype: Any) -> None:
    """Rows held in blocks: a memory map above the memory budget (parallel kernels per
    block) and a Dask array (the serial twins Dask workers run), when Dask is installed."""
    from .params import KMeansParams, MiniBatchKMeansParams

    X = _data(6_000, 12, dtype)
    with tempfile.TemporaryDirectory() as tmp, _budget("64K"):
        mm = np.lib.format.open_memmap(os.path.join(tmp, "x.npy"), "w+", X.dtype, X.shape)
        mm[:] = X
        for d in (12, 2):  # GEMM and direct assignment
            _fits(np.lib.format.open_memmap(mm.filename, "r")[:, :d], 8)
        MiniBatchKMeansParams(8, seed=0, max_iter=1).fit(mm)
        del mm
    try:
        import dask
        import dask.array as da
    except ImportError:  # pragma: no cover - the dask extra is not installed
        return
    with dask.config.set(scheduler="synchronous"):
        big = _data(80_000, 2, dtype)  # blocks above the small-problem size: direct
        for Xb, k in ((X, 16), (X[:, :2], 3), (big, 3)):  # GEMM, small, direct
            Xd = da.from_array(Xb, chunks=(Xb.shape[0] // 2, Xb.shape[1]))
            _fits(Xd, k)
            model = KMeansParams(k, seed=0, max_iter=2).fit(Xd)
            model.predict(Xd).compute(), model.transform(Xd).compute()


def sparse(dtype: Any) -> None:
    """Sparse rows (CSR), 32- and 64-bit indices, small and large problems."""
    import scipy.sparse as sp

    from .params import KMeansParams, MiniBatchKMeansParams

    for n, d, k in ((300, 20, 3), (60_000, 50, 16)):
        X = sp.random(n, d, density=0.1, format="csr", dtype=dtype, random_state=0)
        X.data += 1.0
        for index in (np.int32, np.int64):
            Xi = sp.csr_matrix((X.data, X.indices.astype(index), X.indptr.astype(index)),
                               shape=X.shape)  # fmt: skip
            for init in ("k-means++", "random", "k-means||"):
                model = KMeansParams(k, seed=0, init=init, max_iter=2).fit(Xi)
            model.predict(Xi), model.transform(Xi), model.score(Xi)
            far = np.full((k, d), 1e3, dtype=dtype)
            far[0] = 0.0
            KMeansParams(k, init=far, max_iter=2).fit(Xi)  # re-seeding empty clusters
            for batch in (256, n):
                MiniBatchKMeansParams(k, seed=0, batch_size=batch, max_iter=1).fit(Xi)


def other(dtype: Any) -> None:
    """``algorithm="optimal"`` on one feature, and the silhouette of a labelling."""
    from ._plot_data import silhouette_samples
    from .params import KMeansParams

    for n in (200, 300_000):
        KMeansParams(4, algorithm="optimal").fit(_data(n, 1, dtype))
    X = _data(200, 2, dtype)
    silhouette_samples(X, np.arange(200) % 3)


def constrained(dtype: Any) -> None:
    """Size-limited fits: the calling-thread step (small n k) and the parallel one."""
    from .params import KMeansParams

    for n, k in ((200, 4), (40_000, 32)):
        X = _data(n, 4, dtype)
        KMeansParams(k, seed=0, size_min=n // k - 2, size_max=n // k + 2, max_iter=2).fit(X)


#: The groups ``fastkmeans compile`` runs, each for both dtypes.
GROUPS: tuple[tuple[str, Callable[[Any], None]], ...] = (
    ("dense, small data", dense_small),
    ("dense, large data", dense_large),
    ("mini-batch", minibatch),
    ("blocks (out of core, Dask)", blocks),
    ("sparse", sparse),
    ("size limits", constrained),
    ("optimal, silhouette", other),
)


#: Groups whose kernels' types mostly do not depend on the dtype (the flow kernels of size
#: limits, the 1-D optimum's), and the child of :func:`_in_processes` that runs each first.
#: The float32 child (0) takes size limits: the float64 child has more kernels of its own
#: (certified float32 labels for float64 rows), and the first group of a process also pays
#: Numba's set-up. From an empty cache the two children took 76.6 and 90.5 s the other way
#: round, 76.1 and 68.8 s this way (``python -m fastkmeans._precompile float32 --child=0``
#: and ``float64 --child=1`` side by side, AMD EPYC, 2026-12-03).
SHARED_GROUPS = {"optimal, silhouette": 1, "size limits": 0}


def child_order(child: int) -> list[tuple[str, Callable[[Any], None]]]:
    """The order of :data:`GROUPS` in compile child 0 or 1. A kernel whose types do not
    depend on the dtype is compiled by whichever child reaches it first and loaded from
    the cache by the other; two children reaching it at the same time would both compile
    it. So each child starts with its own shared group and ends with the other's, and the
    groups between run first to last in child 0 and last to first in child 1."""
    first = [g for g in GROUPS if SHARED_GROUPS.get(g[0]) == child]
    last = [g for g in GROUPS if g[0] in SHARED_GROUPS and SHARED_GROUPS[g[0]] != child]
    middle = [g for g in GROUPS if g[0] not in SHARED_GROUPS]
    return first + (middle[::-1] if child else middle) + last


@dataclass
class Summary:
    """What :func:`compile_all` did: kernels compiled or loaded (of all there are),
    specialisations compiled now and loaded from the cache, seconds (wall and CPU) per
    group and in all, and the cache folder."""

    kernels: int
    total: int
    compiled: int
    loaded: int
    seconds: float
    cpu_seconds: float
    folder: str
    groups: dict[str, tuple[float, float]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    up_to_date: bool = False

    def line(self) -> str:
        """The one-line summary the command prints."""
        state = "up-to-date" if self.up_to_date else f"compiled={self.compiled} " \
            f"from_cache={self.loaded}"  # fmt: skip
        return (
            f"kernels={self.kernels}/{self.total} {state} seconds={self.seconds:.1f} "
            f"cache={self.folder}"
        )


STAMP = "fastkmeans-compiled.txt"


def _stamp() -> str:
    """What the cache held after the last full ``compile_all``: Numba's version and each
    kernel's source and cache index (size and time), so that any change reruns it."""
    import numba

    parts = [numba.__version__]
    for name, disp in sorted(entry_kernels(kernel_dispatchers()).items()):
        index = disp._cache._cache_file._index_path
        source = disp.py_func.__code__.co_filename
        for path in (source, index):
            st = os.stat(path)
            parts.append(f"{name} {st.st_size} {st.st_mtime_ns}")
    return "\n".join(parts) + "\n"


def _up_to_date() -> bool:
    """Whether the cache still holds what the last full run compiled (no kernel loaded)."""
    try:
        with open(os.path.join(cache_folder(), STAMP), encoding="utf-8") as fh:
            return fh.read() == _stamp()
    except (OSError, AttributeError):  # no stamp, a cache file gone, or Numba's layout moved
        return False


def _write_stamp() -> None:
    with contextlib.suppress(OSError, AttributeError):  # a read-only cache: no stamp
        with open(os.path.join(cache_folder(), STAMP), "w", encoding="utf-8") as fh:
            fh.write(_stamp())


def compile_all(
    progress: bool = False,
    groups: tuple[str, ...] | None = None,
    dtypes: tuple[Any, ...] = DTYPES,
    jobs: int | None = None,
) -> Summary:
    """Compile (or load from the cache) every kernel for both dtypes; a tqdm bar over the
    groups with ``progress``. ``groups`` picks some of :data:`GROUPS` by name, ``dtypes``
    some of :data:`DTYPES`. Each group leaves a stamp per dtype in the cache folder (which
    tells :mod:`._cold` that a fit can run the kernels), a full run one more; the next full
    run returns at once while the kernels' sources and cache files are unchanged.

    ``jobs`` (default: one per dtype, at most one per CPU): with more than one, each dtype
    compiles in a process of its own, at the same time (the dtypes share no
    specialisation, and the kernels' cache index writes are exclusive:
    :func:`fastkmeans._compile.guard_cache_writes`)."""
    start, cpu = time.perf_counter(), time.process_time()
    full = groups is None and tuple(dtypes) == DTYPES
    if full and _up_to_date():
        for name, _ in GROUPS:  # a cache filled before the groups had stamps
            for dtype in DTYPES:
                mark_compiled(name, dtype)
        n = len(entry_kernels(kernel_dispatchers()))
        return Summary(n, n, 0, 0, time.perf_counter() - start, time.process_time() - cpu,
                       cache_folder(), up_to_date=True)  # fmt: skip
    unknown = sorted(set(groups or ()) - {name for name, _ in GROUPS})
    if unknown:
        raise ValueError(f"no such group: {', '.join(unknown)}; the groups are: "
                         + ", ".join(name for name, _ in GROUPS))  # fmt: skip
    todo = [(name, fn, dt) for name, fn in GROUPS for dt in dtypes
            if groups is None or name in groups]  # fmt: skip
    jobs = min(len(dtypes), os.cpu_count() or 1) if jobs is None else jobs
    if jobs > 1 and len(dtypes) > 1 and os.name == "posix":  # the index lock is POSIX's
        return _in_processes(todo, groups, dtypes, progress, full, start)
    guard_cache_writes()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc="compiling kernels", unit="group")
    times: dict[str, tuple[float, float]] = {}
    try:
        for name, fn, dtype in todo:
            if bar is not None:
                bar.set_postfix_str(f"{name}, {np.dtype(dtype).name}")
            wall, cpu_s = _run_group(name, fn, dtype)
            wall0, cpu0 = times.get(name, (0.0, 0.0))
            times[name] = (wall0 + wall, cpu0 + cpu_s)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    summary = _summary(times, time.perf_counter() - start, time.process_time() - cpu)
    if full and not summary.missing:
        _write_stamp()
    return summary


def _in_processes(
    todo: list[tuple[str, Any, Any]],
    groups: tuple[str, ...] | None,
    dtypes: tuple[Any, ...],
    progress: bool,
    full: bool,
    start: float,
) -> Summary:
    """:func:`compile_all` with each dtype in a process of its own (``python -m
    fastkmeans._precompile``), their reports merged."""
    import json
    import resource
    import subprocess
    import sys
    import tempfile
    import threading

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc="compiling kernels", unit="group")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    reports: list[list[dict[str, Any]]] = []
    children = []
    errors = []  # stderr in files: a full pipe nobody reads would stall a child
    env = child_env()
    for i, dtype in enumerate(dtypes):
        command = [sys.executable, "-m", "fastkmeans._precompile", np.dtype(dtype).name]
        command += [f"--child={i % 2}", *(groups or ())]
        errors.append(tempfile.TemporaryFile(mode="w+"))
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors[-1],
                                 text=True, env=env)  # fmt: skip
        lines: list[dict[str, Any]] = []
        reports.append(lines)
        children.append(child)

    def read(child: Any, lines: list[dict[str, Any]]) -> None:
        for text in child.stdout:  # read to the end, whatever else a library prints
            try:
                line = json.loads(text)
            except ValueError:
                continue
            if not isinstance(line, dict):
                continue
            lines.append(line)
            if bar is not None and "group" in lines[-1]:
                bar.set_postfix_str(f"{lines[-1]['group']}, {lines[-1]['dtype']}")
                bar.update()

    readers = [threading.Thread(target=read, args=pair) for pair in zip(children, reports)]
    for reader in readers:
        reader.start()
    try:
        for child, reader, err in zip(children, readers, errors):
            reader.join()
            if child.wait() != 0:
                err.seek(0)
                raise RuntimeError(f"compiling failed: {err.read().strip()[-2000:]}")
    finally:
        if bar is not None:
            bar.close()
        for child in children:
            if child.poll() is None:
                child.kill()
        for err in errors:
            err.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = _merged(reports, time.perf_counter() - start, cpu)
    if full and not summary.missing:
        _write_stamp()
    return summary


def _merged(reports: list[list[dict[str, Any]]], seconds: float, cpu: float) -> Summary:
    """One :class:`Summary` from the children's JSON lines."""
    times: dict[str, tuple[float, float]] = {}
    reached: set[str] = set()
    compiled = loaded = 0
    for lines in reports:
        for line in lines:
            if "group" in line:
                wall0, cpu0 = times.get(line["group"], (0.0, 0.0))
                times[line["group"]] = (wall0 + line["wall"], cpu0 + line["cpu"])
            else:
                reached.update(line["reached"])
                compiled += line["compiled"]
                loaded += line["loaded"]
    entries = entry_kernels(kernel_dispatchers())
    missing = sorted(set(entries) - reached)
    return Summary(len(reached & set(entries)), len(entries), compiled, loaded, seconds, cpu,
                   cache_folder(), times, missing)  # fmt: skip


def _report(dtype_name: str, groups: list[str]) -> None:
    """A child of :func:`_in_processes`: compile ``groups`` (all when empty) for one dtype
    and print JSON lines, one per group, then what was reached. ``--child=N`` first in
    ``groups`` sets their order (:func:`child_order`)."""
    import json

    dtype = np.dtype(dtype_name).type
    child = groups[0] if groups[:1] and groups[0].startswith("--child=") else None
    order = child_order(int(child.split("=")[1])) if child else list(GROUPS)
    groups = groups[1:] if child else groups
    guard_cache_writes()
    for name, fn in order:
        if groups and name not in groups:
            continue
        wall, cpu = _run_group(name, fn, dtype)
        print(json.dumps({"group": name, "dtype": dtype_name, "wall": wall, "cpu": cpu}),
              flush=True)  # fmt: skip
    reached, compiled, loaded = _reached()
    print(json.dumps({"reached": sorted(reached), "compiled": compiled, "loaded": loaded}),
          flush=True)  # fmt: skip


def _run_group(name: str, fn: Callable[[Any], None], dtype: Any) -> tuple[float, float]:
    """Run one group for one dtype (its fits compile, never the stand-ins) and stamp it;
    returns its wall and CPU seconds."""
    t, c = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(), _first_run("compile"):
        warnings.simplefilter("ignore")  # tiny data: too few distinct points etc.
        fn(dtype)
    mark_compiled(name, dtype)
    return time.perf_counter() - t, time.process_time() - c


def _reached() -> tuple[set[str], int, int]:
    """The entry kernels this process compiled or loaded, and its specialisations compiled
    (cache misses) and loaded (hits)."""
    kernels = kernel_dispatchers()
    reached = {name for name, d in entry_kernels(kernels).items() if d.signatures}
    compiled = sum(sum(d.stats.cache_misses.values()) for d in kernels.values())
    loaded = sum(sum(d.stats.cache_hits.values()) for d in kernels.values())
    return reached, compiled, loaded


def entry_kernels(kernels: dict[str, Any]) -> dict[str, Any]:
    """The kernels Python calls: those no other kernel calls (a kernel loaded from the cache
    brings its callees' code along, without compiling or loading them one by one)."""
    called = set()
    for disp in kernel_dispatchers(inlined=True).values():
        called.update(id(obj) for obj in callees(disp.py_func))
    return {name: d for name, d in kernels.items() if id(d) not in called}


def _summary(times: dict[str, tuple[float, float]], seconds: float, cpu: float) -> Summary:
    reached, compiled, loaded = _reached()
    entries = entry_kernels(kernel_dispatchers())
    missing = sorted(set(entries) - reached)
    return Summary(len(reached), len(entries), compiled, loaded, seconds, cpu, cache_folder(),
                   times, missing)  # fmt: skip


if __name__ == "__main__":  # pragma: no cover - run by _in_processes
    import sys

    _report(sys.argv[1], sys.argv[2:])
