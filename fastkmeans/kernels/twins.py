"""Serial twins: a parallel kernel's body compiled once more without ``parallel``.

Small problems and Dask workers run kernels on the calling thread (no Numba thread pool is
started); the twin is built from the parallel kernel's own Python function, so the two can
never drift apart. ``prange`` runs as ``range`` in the twin. The twin gets its own qualified
name (``<name>_serial``), so Numba's on-disk cache keeps the two compilations apart.
"""

from __future__ import annotations

import types
from typing import Any

from numba import njit

from .._config import FASTMATH, NUMBA_CACHE


def serial_twin(kernel: Any) -> Any:
    """The body of the parallel ``kernel`` (a Numba dispatcher), compiled without
    ``parallel`` under the name ``<name>_serial``."""
    f = kernel.py_func
    g = types.FunctionType(
        f.__code__, f.__globals__, f.__name__ + "_serial", f.__defaults__, f.__closure__
    )
    g.__qualname__ = f.__qualname__ + "_serial"
    g.__module__ = f.__module__
    g.__doc__ = f"Serial twin of :func:`{f.__name__}`: the same body on the calling thread."
    twin = njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)(g)
    twin.twin_of = kernel  # marks the twin (tests check its flags against the parent)
    return twin
