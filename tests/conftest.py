"""Shared test settings: a Numba cache every test process reuses, hypothesis profiles, and
small session-wide data sets whose first fit compiles the kernels once."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Two Numba threads at least, so that the thread-count tests compare 1 with 2 threads even
# on a one-core runner (must be set before Numba is imported).
os.environ.setdefault("NUMBA_NUM_THREADS", "2")
# Fits compile what they need (tests of the first run's NumPy stand-ins set it themselves),
# so that a test process with a fresh cache never starts a background compile.
os.environ.setdefault("FASTKMEANS_FIRST_RUN", "compile")
os.environ.setdefault(
    "NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".numba_cache")
)

settings.register_profile(
    "default",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=40,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(scope="session")
def tutorial_data() -> np.ndarray:
    import fastkmeans as fk

    return fk.datasets.make_tutorial_data(seed=0)


@pytest.fixture(scope="session")
def blobs64() -> np.ndarray:
    import fastkmeans as fk

    X, _ = fk.datasets.make_blobs(3000, 5, 6, cluster_std=2.0, seed=3)
    return X


@pytest.fixture(scope="session")
def blobs_wide64() -> np.ndarray:
    """Enough features to take the GEMM-style kernel."""
    import fastkmeans as fk

    X, _ = fk.datasets.make_blobs(3000, 24, 10, cluster_std=4.0, seed=4)
    return X


def _warm_worker_kernels() -> None:
    """Compile what Dask workers run once in this process (synchronously): the workers
    then load it from the on-disk cache instead of each compiling it again."""
    import dask
    import dask.array as da

    import fastkmeans as fk

    X, _ = fk.datasets.make_blobs(64, 3, 2, seed=0)
    with dask.config.set(scheduler="synchronous"):
        for dtype in (np.float64, np.float32):
            dX = da.from_array(X.astype(dtype), chunks=32)
            for algorithm in ("lloyd", "hamerly", "yinyang"):
                fk.KMeansParams(2, seed=0, max_iter=3, algorithm=algorithm).fit(dX)


@pytest.fixture(scope="session")
def client():
    """A real ``dask.distributed.LocalCluster``: two worker processes, one thread each."""
    import logging

    from dask.distributed import Client, LocalCluster

    _warm_worker_kernels()
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c
