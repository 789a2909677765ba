"""Out of core: a memmap larger than the memory budget is read in blocks, never loaded
whole, and gives the in-memory result.

The budget is the documented setting ``FASTKMEANS_MEMORY_BUDGET``; tests set it small so
that small files (a few MB) are split into many blocks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import fastkmeans as fk
from fastkmeans._sources import stream as _stream

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    X, _ = fk.datasets.make_blobs(20000, 20, 9, cluster_std=3.0, seed=5, dtype=np.float32)
    path = tmp_path_factory.mktemp("ooc") / "X.npy"
    np.save(path, X)
    return path


@pytest.fixture()
def small_budget(monkeypatch):
    monkeypatch.setenv("FASTKMEANS_MEMORY_BUDGET", "96K")


def _same(a: fk.KMeansModel, b: fk.KMeansModel) -> None:
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_allclose(a.centroids, b.centroids, rtol=1e-5, atol=1e-6)
    assert a.inertia == pytest.approx(b.inertia, rel=1e-9)
    assert a.n_iter == b.n_iter and a.stop_reason == b.stop_reason
    np.testing.assert_allclose(a.cluster_weights, b.cluster_weights)


@pytest.mark.parametrize(
    "changes",
    [
        {},  # float32, GEMM-style distances, k-means++
        {"init": "random", "n_init": 2},
        {"metric": "cosine"},
        {"n_clusters": 4},  # fewer clusters than blobs
    ],
)
def test_streamed_lloyd_equals_in_memory(data_file, small_budget, changes):
    mm = np.load(data_file, mmap_mode="r")
    assert _stream.should_stream(mm)
    assert _stream.StreamSource(mm, None, False).n_blocks > 4
    params = fk.KMeansParams(9, seed=1, max_iter=30).replace(**changes)
    _same(params.fit(mm), params.fit(np.array(mm)))


def test_streamed_float64_weights_and_empty_cluster(tmp_path, small_budget):
    X, _ = fk.datasets.make_blobs(6000, 3, 4, seed=2)
    path = tmp_path / "X64.npy"
    np.save(path, X)
    mm = np.load(path, mmap_mode="r")
    w = np.random.default_rng(0).random(6000)
    init = X[:5].copy()
    init[4] = 1e6  # starts empty: re-seeded at the farthest point, in both paths
    params = fk.KMeansParams(5, init=init, max_iter=50)
    a, b = params.fit(mm, sample_weight=w), params.fit(np.array(mm), sample_weight=w)
    assert a.history.n_reseeded[0] == 1
    _same(a, b)


def test_streamed_minibatch_is_identical(data_file, small_budget):
    mm = np.load(data_file, mmap_mode="r")
    params = fk.MiniBatchKMeansParams(9, batch_size=500, seed=4)
    a, b = params.fit(mm), params.fit(np.array(mm))
    np.testing.assert_array_equal(a.centroids, b.centroids)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.inertia == pytest.approx(b.inertia, rel=1e-12)


class Rows:
    """A minimal array-like that is not NumPy: shape, dtype and row slicing only (like an
    h5py or zarr dataset)."""

    def __init__(self, data: np.ndarray) -> None:
        self._data = data
        self.shape = data.shape
        self.dtype = data.dtype

    def __getitem__(self, key):
        return np.array(self._data[key])


def test_any_sliceable_array_like_streams(data_file, small_budget):
    X = np.load(data_file)
    rows = Rows(X)
    assert _stream.should_stream(rows)
    params = fk.KMeansParams(9, seed=3, max_iter=20)
    _same(params.fit(rows), params.fit(X))


def test_what_streams_and_the_budget_setting(data_file, monkeypatch):
    mm = np.load(data_file, mmap_mode="r")
    monkeypatch.delenv("FASTKMEANS_MEMORY_BUDGET", raising=False)
    assert _stream.memory_budget() == 256 * 2**20
    assert not _stream.should_stream(mm)  # 1.6 MB: below the default budget, read whole
    assert not _stream.should_stream(np.array(mm))  # in-memory arrays never stream
    assert not _stream.should_stream([[1.0, 2.0]])
    monkeypatch.setenv("FASTKMEANS_MEMORY_BUDGET", "1M")
    assert _stream.memory_budget() == 2**20
    assert _stream.should_stream(mm)
    monkeypatch.setenv("FASTKMEANS_MEMORY_BUDGET", "lots")
    with pytest.raises(ValueError, match="FASTKMEANS_MEMORY_BUDGET"):
        _stream.memory_budget()


def test_nan_is_reported_with_its_row(tmp_path, small_budget):
    X = np.random.default_rng(0).random((5000, 4))
    X[4321, 2] = np.nan
    path = tmp_path / "nan.npy"
    np.save(path, X)
    mm = np.load(path, mmap_mode="r")
    with pytest.raises(ValueError, match=r"NaN \(first at row 4321, column 2\)"):
        fk.KMeansParams(3).fit(mm)
    with pytest.raises(ValueError, match="n_samples=5000 should be >= n_clusters=6000"):
        fk.KMeansParams(6000).fit(mm)


# --------------------------------------------------------------------------- memory
_CHILD = textwrap.dedent(
    """
    import json, sys, resource
    import numpy as np
    import fastkmeans as fk

    path, mode = sys.argv[1], sys.argv[2]
    small = np.load(path, mmap_mode="r")[:40000]
    fk.KMeansParams(8, seed=0, max_iter=2).fit(small)  # load the compiled kernels

    def rss(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024

    try:  # reset the peak (VmHWM) to the current resident size
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        reset = True
    except OSError:
        reset = False
    before = rss("VmRSS")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    mm = np.load(path, mmap_mode="r")
    X = mm if mode == "stream" else np.array(mm)
    model = fk.KMeansParams(8, seed=0, max_iter=5).fit(X)
    peak = rss("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "growth": peak - (before if reset else peak_before),
        "inertia": model.inertia,
        "centroids": model.centroids.tolist(),
    }))
    """
)


def _child(path: Path, mode: str) -> dict:
    env = dict(os.environ, FASTKMEANS_MEMORY_BUDGET="2M")
    env.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), mode],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_memmap_larger_than_the_budget_is_never_loaded(tmp_path):
    """A 48 MB memmap (24x the 2 MB budget) is fitted with a peak memory growth of a
    fraction of its size; loading it whole, as a control, grows by at least its size, so
    the measurement can tell the two apart. Both give the same model."""
    n, d = 200_000, 60
    path = tmp_path / "big.npy"
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=10.0, size=(8, d)).astype(np.float32)
    for s in range(0, n, 50_000):
        rows = rng.integers(0, 8, 50_000)
        mm[s : s + 50_000] = centers[rows] + rng.normal(size=(50_000, d)).astype(np.float32)
    mm.flush()
    del mm
    size = path.stat().st_size
    streamed = _child(path, "stream")
    loaded = _child(path, "memory")
    # Per-row state (labels, k-means++ distances: 16 bytes/row = 3.2 MB) plus blocks.
    assert streamed["growth"] < size / 4, (streamed["growth"], size)
    assert loaded["growth"] >= 0.9 * size, (loaded["growth"], size)
    np.testing.assert_allclose(streamed["centroids"], loaded["centroids"], rtol=1e-5, atol=1e-5)
    assert streamed["inertia"] == pytest.approx(loaded["inertia"], rel=1e-9)
