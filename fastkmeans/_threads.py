"""Numba's thread count, set for the length of a ``with`` block and restored afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numba


@contextlib.contextmanager
def thread_limit(n_threads: int | None, *, single_thread_blas: bool = False) -> Iterator[int]:
    """Run the block with ``n_threads`` Numba threads (None: all of them).

    The previous settings are restored on exit, whatever happens inside.

    Parameters
    ----------
    n_threads : int or None
        Threads to use; values above the number Numba started with are capped.
    single_thread_blas : bool
        Hold BLAS to one thread for the block. The GEMM-style kernels call BLAS from inside
        Numba's parallel regions, where a threaded BLAS would oversubscribe the cores.

    Yields
    ------
    int
        The thread count in force inside the block.
    """
    previous = numba.get_num_threads()
    wanted = numba.config.NUMBA_NUM_THREADS if n_threads is None else n_threads
    wanted = max(1, min(int(wanted), numba.config.NUMBA_NUM_THREADS))
    with contextlib.ExitStack() as stack:
        if single_thread_blas:
            stack.enter_context(blas_single_thread())
        numba.set_num_threads(wanted)
        try:
            yield wanted
        finally:
            numba.set_num_threads(previous)


def blas_single_thread() -> contextlib.AbstractContextManager[object]:
    """Hold BLAS to one thread (for kernels that call it from Numba's parallel regions)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
