"""Serial twins: a parallel kernel's body compiled once more without ``parallel``.

Small problems and Dask workers run kernels on the calling thread (no Numba thread pool is
started); the twin is built from the parallel kernel's own Python function, so the two can
never drift apart. ``prange`` runs as ``range`` in the twin. The twin gets its own qualified
name (``<name>_serial``), so Numba's on-disk cache keeps the two compilations apart.

The parallel kernels and their twins took about two thirds of the compile time (64%: 94 of
146 CPU-s compiling, ``python -m benchmarks.compile_profile --workload compile`` with an
empty ``NUMBA_CACHE_DIR``, AMD EPYC, 2026-12-02): Numba emits the code of everything a
``prange`` body calls once more in the outlined body and again in the kernel. Most kernels
over row chunks are now :class:`.launch.Chunked` (the chunk kernel compiled once, the
``prange`` launcher knowing only its address, the twin a direct call of the chunk kernel);
the twins here remain for the parallel kernels whose loops run over rows, clusters or tasks,
and for sparse k-means++ and k-means|| candidates (not converted yet). The alternative tried
before (commits e3844b1 to 073ca4f, reverted): one serial ``nogil`` chunk kernel, its chunks
split over persistent Python threads. It cut ``fastkmeans compile`` from empty from 106 s to
53 s, but on a 2-vCPU virtual machine the fits ran 17-30% slower than with ``prange`` (20
Lloyd iterations at 1,000,000 x 2, greedy k-means++, mini-batch; separate processes
interleaved), up to 66% before the threads spun between calls. An empty hand-off to those
threads took 38-73 us against about 2 us for a Numba (OpenMP) parallel region.
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
