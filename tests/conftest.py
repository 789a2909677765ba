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
