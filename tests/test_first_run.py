"""The first run: NumPy stand-ins of the dense kernels while Numba compiles in the background.

The stand-ins must walk the kernels' steps (same draws, picks, labels and iterations on
data without distance ties, same centroids to rounding), be chosen only where they apply,
and the default first run in a new environment must compile nothing, say so, and leave a
background compile behind that makes the next process run the kernels.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import fastkmeans as fk
from fastkmeans import _cold, _standins
from fastkmeans._compile import watch

ROOT = Path(__file__).resolve().parent.parent


def _blobs(n: int, d: int, k: int, dtype: type, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, (k, d))
    return (centers[rng.integers(k, size=n)] + rng.normal(scale=3.0, size=(n, d))).astype(dtype)


def _both(monkeypatch: pytest.MonkeyPatch, fit):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FASTKMEANS_FIRST_RUN", "compile")
    kernels = fit()
    monkeypatch.setenv("FASTKMEANS_FIRST_RUN", "numpy")
    with watch() as compiling:
        stand_ins = fit()
    assert compiling.count == 0  # the stand-ins compile nothing
    return kernels, stand_ins


CASES = [
    # n, d, k, dtype: small problems, direct kernels, the GEMM kernels (_config.use_gemm)
    (750, 2, 3, np.float32),
    (20_000, 2, 8, np.float32),
    (20_000, 8, 32, np.float64),
    (6_000, 40, 80, np.float64),
]


@pytest.mark.parametrize("init", ["auto", "k-means++", "k-means||", "random"])
@pytest.mark.parametrize(("n", "d", "k", "dtype"), CASES)
def test_stand_ins_walk_the_kernels_steps(monkeypatch, n, d, k, dtype, init):
    X = _blobs(n, d, k, dtype)
    w = np.random.default_rng(1).uniform(0.5, 2.0, n)
    params = fk.KMeansParams(k, seed=3, init=init, n_init=2, algorithm="auto")
    a, b = _both(monkeypatch, lambda: params.fit(X, sample_weight=w))
    np.testing.assert_array_equal(a.labels, b.labels)
    assert (a.n_iter, a.stop_reason, a.init_used) == (b.n_iter, b.stop_reason, b.init_used)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(b.centroids, a.centroids, rtol=rtol, atol=rtol)
    assert b.inertia == pytest.approx(a.inertia, rel=1e-9)
    assert b.centroids.dtype == a.centroids.dtype


def test_stand_ins_agree_in_blocks_of_a_few_rows(monkeypatch):
    """A chunk split into many blocks of distances (the default block holds a chunk of
    the cases above whole) gives the kernels' labels and steps too."""
    monkeypatch.setattr(_standins, "NEAREST_BLOCK_VALUES", 8 * 37)  # 37 rows at k = 8
    X = _blobs(20_000, 2, 8, np.float32)
    params = fk.KMeansParams(8, seed=3, algorithm="lloyd")
    a, b = _both(monkeypatch, lambda: params.fit(X))
    np.testing.assert_array_equal(a.labels, b.labels)
    assert (a.n_iter, a.stop_reason) == (b.n_iter, b.stop_reason)
    assert b.inertia == pytest.approx(a.inertia, rel=1e-9)


@pytest.mark.parametrize(("n", "d", "k", "batch", "dtype"),
                         [(3_000, 2, 3, 64, np.float32), (20_000, 8, 64, 1024, np.float64)])
def test_stand_ins_walk_the_mini_batch_steps(monkeypatch, n, d, k, batch, dtype):
    X = _blobs(n, d, k, dtype)
    params = fk.MiniBatchKMeansParams(k, seed=2, batch_size=batch, max_iter=3)
    a, b = _both(monkeypatch, lambda: params.fit(X))
    np.testing.assert_array_equal(a.labels, b.labels)
    assert (a.n_iter, a.stop_reason) == (b.n_iter, b.stop_reason)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(b.centroids, a.centroids, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(b.cluster_weights, a.cluster_weights, rtol=1e-12)
    a2, b2 = _both(monkeypatch, lambda: params.fit(X[:batch]).partial_fit(X[batch:2 * batch]))
    np.testing.assert_allclose(b2.centroids, a2.centroids, rtol=rtol, atol=rtol)


def test_stand_ins_predict_transform_score_and_reseed(monkeypatch):
    X = _blobs(5_000, 3, 16, np.float64)
    far = np.full((16, 3), 1e3)
    far[0] = 0.0  # all but one center end empty: re-seeded at the farthest points
    a, b = _both(monkeypatch, lambda: fk.KMeansParams(16, init=far, max_iter=5).fit(X))
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_allclose(b.centroids, a.centroids, rtol=1e-10)
    same_predictions(monkeypatch, a, _blobs(700, 3, 16, np.float64, seed=5), 1e-12)


def same_predictions(monkeypatch, model, Y, rtol: float) -> None:  # type: ignore[no-untyped-def]
    """``predict``, ``transform`` and ``score`` of ``Y`` on the stand-ins (compiling
    nothing) against the kernels: the same labels, distances and score to ``rtol``."""
    monkeypatch.setenv("FASTKMEANS_FIRST_RUN", "compile")
    expected = model.predict(Y), model.transform(Y), model.score(Y)
    monkeypatch.setenv("FASTKMEANS_FIRST_RUN", "numpy")
    with watch() as compiling:
        got = model.predict(Y), model.transform(Y), model.score(Y)
    assert compiling.count == 0
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], rtol=rtol)
    assert got[2] == pytest.approx(expected[2], rel=rtol)


def test_stand_ins_keep_their_precision_far_from_the_origin(monkeypatch):
    """float64 data about 1e8 from the origin with unit spread (the GEMM-style path)."""
    X = _blobs(8_000, 4, 16, np.float64) + 1e8
    a, b = _both(monkeypatch, lambda: fk.KMeansParams(16, seed=0, init="k-means||").fit(X))
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.n_iter == b.n_iter


_FRESH = """
import numpy as np, scipy
import fastkmeans as fk
from fastkmeans._compile import watch
from fastkmeans.sklearn import KMeans, MiniBatchKMeans
rng = np.random.default_rng(0)
with watch() as w:
    for n, d, k, dtype in ((300, 2, 3, np.float32), (20000, 3, 16, np.float64),
                           (5000, 4, 8, np.float64), (3000, 40, 70, np.float32)):
        X = rng.normal(size=(n, d)).astype(dtype)
        for init in ("auto", "k-means++", "k-means||", "random"):
            m = fk.KMeansParams(k, seed=0, init=init, algorithm="hamerly", n_init=2).fit(X)
        far = np.full((k, d), 1e3, dtype=dtype)
        far[0] = -1.0  # the others end empty: re-seeded at the farthest points
        m = fk.KMeansParams(k, init=far, max_iter=3, metric="cosine").fit(X)
        m.predict(X), m.transform(X), m.score(X)
"""
#: The end of every fresh-process script: the scikit-learn adapters and mini-batch on X.
FRESH_TAIL = """
        KMeans(k, random_state=0).fit(X).predict(X)
        mb = fk.MiniBatchKMeansParams(k, seed=0, batch_size=256, max_iter=2).fit(X)
        mb.partial_fit(X[:256])
        MiniBatchKMeans(k, random_state=0).partial_fit(X[:512]).partial_fit(X[:64])
print("compiles", w.count)
"""


def compiles_in_fresh_process(script: str, cache: Path) -> int:
    """Numba compilations of ``script`` (ending in ``FRESH_TAIL``) in a new process with an
    empty cache and the stand-ins on."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "FASTKMEANS_FIRST_RUN": "numpy",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", script + FRESH_TAIL], capture_output=True,
                         text=True, env=env, check=True, timeout=600)  # fmt: skip
    words = out.stdout.split()
    assert words[-2] == "compiles", out.stderr
    return int(words[-1])


def test_stand_ins_compile_nothing_in_a_fresh_process(tmp_path):
    """A new process with an empty cache: every dense fit, prediction and the scikit-learn
    adapter run without one compilation."""
    assert compiles_in_fresh_process(_FRESH, tmp_path) == 0


def test_stand_ins_break_exact_ties_as_the_direct_kernels_do(monkeypatch):
    """Integer grid data with centers on the grid: many rows sit exactly between two
    centers, and both go to the lower index."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 6, size=(4_000, 2)).astype(np.float64)
    init = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [4.0, 4.0]])
    a, b = _both(monkeypatch, lambda: fk.KMeansParams(4, init=init, max_iter=1).fit(X))
    np.testing.assert_array_equal(a.labels, b.labels)


def test_stand_ins_only_where_they_apply(monkeypatch):
    """Rows that are not in memory (blocks, Dask: no array) and integer arrays run their
    kernels whatever the setting; dense data takes the stand-ins for the block only."""
    monkeypatch.setenv("FASTKMEANS_FIRST_RUN", "numpy")
    for X in (None, np.zeros((10, 2), dtype=np.int64)):
        with _cold.first_run(X, True) as on:
            assert not on
    with _cold.first_run(np.zeros((10, 2), dtype=np.float32), True) as on:
        assert on and _cold.active()
    assert not _cold.active()


def test_a_wrong_setting_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("FASTKMEANS_FIRST_RUN", "later")
    with pytest.raises(ValueError, match="FASTKMEANS_FIRST_RUN must be 'background'"):
        fk.KMeansParams(3, seed=0).fit(_blobs(100, 2, 3, np.float64))


def test_a_group_is_compiled_when_its_stamp_is_current(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr("numba.core.config.CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_cold, "_KNOWN", set())  # what this process has seen so far
    assert not _cold.compiled(_cold.SMALL, np.float32)
    _cold.mark_compiled(_cold.SMALL, np.float32)
    assert _cold.compiled(_cold.SMALL, np.float32)
    assert not _cold.compiled(_cold.SMALL, np.float64)
    stamp = next(tmp_path.glob("fastkmeans-ready-*"))
    stamp.write_text(stamp.read_text().replace("lloyd.py", "lloyd.py 0"))  # a source changed
    _cold._KNOWN.clear()  # as in a new process
    assert not _cold.compiled(_cold.SMALL, np.float32)


def _demo(cache: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "FASTKMEANS_FIRST_RUN": "background",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    command = [sys.executable, "-m", "fastkmeans", "demo", "--out", str(out)]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=True,
                          timeout=300)  # fmt: skip


def test_a_new_environment_runs_the_demo_at_once_and_compiles_behind_it(tmp_path):
    """An empty cache: the demo compiles nothing and says why; the background compile it
    starts fills the cache (its stamp written, its lock gone), and the next demo runs the
    kernels without compiling or announcing anything, to the same result."""
    cache = tmp_path / "cache"
    first = _demo(cache, tmp_path / "a.html")
    assert _cold.MESSAGE in first.stderr
    assert "compile=0.000" in first.stdout
    # While the background compile runs, a notebook's progress bar says the same.
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "FASTKMEANS_FIRST_RUN": "background",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    code = ("import fastkmeans as fk; X = fk.datasets.make_tutorial_data(seed=0); "
            "fk.KMeansParams(3, seed=0, progress=True).fit(X)")  # fmt: skip
    bar = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, timeout=300)  # fmt: skip
    assert f"k-means: {_cold.MESSAGE}" in bar.stderr
    lock = cache / _cold.LOCK
    start = time.monotonic()
    while lock.exists() and time.monotonic() - start < 300:
        time.sleep(0.5)
    assert not lock.exists(), "the background compile did not finish in 5 minutes"
    assert list(cache.glob("fastkmeans-ready-dense-small-data-float32.txt"))
    second = _demo(cache, tmp_path / "b.html")
    assert second.stderr == ""
    assert "compile=0.000" in second.stdout
    inertia = [line.split("inertia=")[1].split()[0] for line in (first.stdout, second.stdout)]
    assert inertia[0] == inertia[1]


def test_a_stale_lock_does_not_block_the_background_compile(tmp_path):
    lock = tmp_path / _cold.LOCK
    lock.write_text("")  # a start that died before it wrote the child's pid
    old = time.time() - 2 * _cold.EMPTY_LOCK_GRACE
    os.utime(lock, (old, old))
    assert not _cold._running(str(lock)) and not lock.exists()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    lock.write_text(str(ended.pid))  # a compile that has ended without removing it
    assert not _cold._running(str(lock)) and not lock.exists()
    lock.write_text(str(os.getpid()))  # a live one
    assert _cold._running(str(lock)) and lock.exists()


def test_cache_index_writes_wait_for_each_other(tmp_path):
    """A kernel's cache index is written under an exclusive lock: a second writer (here a
    thread, as another process would) waits until the first is done."""
    import fcntl
    import threading

    from fastkmeans._compile import exclusive, guard_cache_writes, kernel_dispatchers

    lock = tmp_path / "index.nbi.lock"
    done: list[tuple[str, str]] = []
    save = exclusive(lambda key, data: done.append((key, data)), str(lock))
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        writer = threading.Thread(target=save, args=("key", "data"))
        writer.start()
        writer.join(0.3)
        assert writer.is_alive() and not done  # waiting for the lock
        fcntl.flock(held, fcntl.LOCK_UN)
    writer.join(5)
    assert done == [("key", "data")]
    guard_cache_writes()  # every fit does this first: each kernel's index save is guarded
    for name, disp in kernel_dispatchers(inlined=True).items():
        assert disp._cache._cache_file.save.__name__ == "save_exclusive", name


def test_stand_ins_do_not_depend_on_the_thread_count(monkeypatch):
    """Above ``THREADS_FROM_ROWS`` the stand-ins run their chunks on threads; each chunk
    writes only its own slots, so one thread and two give the same fit bit for bit."""
    from fastkmeans import _standins

    X = _blobs(_standins.THREADS_FROM_ROWS + 10_000, 3, 16, np.float64)
    monkeypatch.setenv("FASTKMEANS_FIRST_RUN", "numpy")
    fits = [fk.KMeansParams(16, seed=0, init="k-means||", n_threads=t).fit(X) for t in (1, 2)]
    np.testing.assert_array_equal(fits[0].labels, fits[1].labels)
    np.testing.assert_array_equal(fits[0].centroids, fits[1].centroids)
    assert fits[0].inertia == fits[1].inertia
