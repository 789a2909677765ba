"""Chunk kernels run in parallel on persistent Python threads.

A chunk kernel loops over the fixed row chunks of :func:`fastkmeans._assign.chunk_bounds`
(``for c in range(bounds.shape[0] - 1)``) and writes only chunk ``c``'s slots of its
per-chunk outputs. It is compiled once, serially, with ``nogil``: :func:`run_chunks` splits
the chunks into one contiguous run per thread and calls the same compiled kernel on each
run, passing the slices of ``bounds`` and of the per-chunk arrays (C-contiguous slices of
C-contiguous arrays: the types, so the compiled specialisation, are the same). The chunk
boundaries do not move, so results are bitwise those of one serial call, for any thread
count.

Why not ``prange``: a Numba parallel kernel compiles its loop body once more as a gufunc and
its whole call tree is optimised again with it, a few seconds per kernel and dtype, and the
serial path (small data, Dask workers) needed a twin compiled from the same body. The
threads spin briefly before they sleep (:mod:`.kernels.spin`), as OpenMP's do, so that a
hand-off between the passes of one step does not wait on the scheduler.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np

from ._cold import kernel as chosen
from .kernels.spin import wait_change

#: Reads of a counter a thread spins on before it sleeps on its lock (some 0.1 ms).
SPINS: int = 20_000


class _Worker:
    """One daemon thread that runs a job when ``go`` is released and releases ``done``.

    Both sides first spin on a counter (:func:`.kernels.spin.wait_change`, GIL released)
    and sleep on the lock only when it does not move for ``SPINS`` reads: the caller bumps
    ``posted`` after each job it posts, the thread bumps ``finished`` after each it ends."""

    def __init__(self) -> None:
        self.go = threading.Lock()
        self.go.acquire()
        self.done = threading.Lock()
        self.done.acquire()
        self.posted = np.zeros(1, dtype=np.int64)
        self.finished = np.zeros(1, dtype=np.int64)
        self.job: tuple[Any, Sequence[Any]] | None = None
        self.error: BaseException | None = None
        threading.Thread(target=self._loop, name="fastkmeans-chunks", daemon=True).start()

    def _loop(self) -> None:
        seen = 0
        while True:
            wait_change(self.posted, seen, SPINS)
            self.go.acquire()
            seen += 1
            assert self.job is not None
            fn, args = self.job
            self.job = None
            try:
                fn(*args)
            except BaseException as exc:  # re-raised on the calling thread
                self.error = exc
            self.done.release()
            self.finished[0] += 1

    def start(self, fn: Any, args: Sequence[Any]) -> None:
        self.job = (fn, args)
        self.go.release()
        self.posted[0] += 1

    def wait(self) -> BaseException | None:
        wait_change(self.finished, self.posted[0] - 1, SPINS)
        self.done.acquire()
        error, self.error = self.error, None
        return error


class _Crew:
    """The workers, started when first needed; one caller at a time uses them."""

    def __init__(self) -> None:
        self.busy = threading.Lock()
        self.workers: list[_Worker] = []

    def hire(self, n: int) -> list[_Worker]:
        while len(self.workers) < n:
            self.workers.append(_Worker())
        return self.workers[:n]


_CREW = _Crew()


def _reset_after_fork() -> None:  # threads do not survive a fork
    global _CREW
    _CREW = _Crew()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def run_chunks(
    kernel: Any, args: Sequence[Any], bounds_at: int, per_chunk: Sequence[int], serial: bool
) -> None:
    """Call the chunk ``kernel`` (or its NumPy stand-in) on ``args``, the chunks split over
    Numba's thread count (:func:`numba.get_num_threads`) unless ``serial``.

    Parameters
    ----------
    kernel : numba dispatcher
        A serial, ``nogil`` chunk kernel: outputs through its arguments, no return value.
    args : sequence
        Its arguments.
    bounds_at : int
        Position of the chunk bounds ``(n_chunks + 1,)`` in ``args``.
    per_chunk : sequence of int
        Positions of the arrays whose first axis is the chunk (sliced with the bounds).
    serial : bool
        One call on the calling thread (small data, Dask workers).
    """
    bounds = args[bounds_at]
    n_chunks = bounds.shape[0] - 1
    for i in per_chunk:
        assert args[i].shape[0] == n_chunks, "a per-chunk array of another length"

    def part(c0: int, c1: int) -> list[Any]:
        out = list(args)
        out[bounds_at] = bounds[c0 : c1 + 1]
        for i in per_chunk:
            out[i] = args[i][c0:c1]
        return out

    _run(kernel, args, n_chunks, part, serial)


def run_rows(kernel: Any, args: Sequence[Any], per_row: Sequence[int], serial: bool) -> None:
    """Call the row ``kernel`` (one independent result per row, no return value) on
    ``args``, the rows split over the threads unless ``serial``: the arrays at ``per_row``
    (first axis the row) are sliced, the others passed whole."""
    n = args[per_row[0]].shape[0]

    def part(r0: int, r1: int) -> list[Any]:
        out = list(args)
        for i in per_row:
            out[i] = args[i][r0:r1]
        return out

    _run(kernel, args, n, part, serial)


def _run(kernel: Any, args: Sequence[Any], n: int, part: Any, serial: bool) -> None:
    """``kernel`` once on ``args``, or on ``part(lo, hi)`` for contiguous runs of ``n``."""
    impl = chosen(kernel)
    parts = 1 if serial or impl is not kernel else min(numba.get_num_threads(), n)
    crew = _CREW
    if parts <= 1 or not crew.busy.acquire(blocking=False):
        impl(*args)
        return
    try:
        edges = [n * p // parts for p in range(parts + 1)]
        calls = [part(edges[p], edges[p + 1]) for p in range(parts)]
        workers = crew.hire(parts - 1)
        for worker, call in zip(workers, calls[1:]):
            worker.start(kernel, call)
        error: BaseException | None = None
        try:
            kernel(*calls[0])
        except BaseException as exc:
            error = exc
        for worker in workers:
            error = worker.wait() or error
    finally:
        crew.busy.release()
    if error is not None:
        raise error
