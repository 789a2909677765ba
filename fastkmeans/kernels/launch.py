"""Chunked kernels: a chunk body compiled once, run over row chunks through its address.

Numba links the code of every kernel a kernel calls into the caller's own module and
optimises and emits it once more there. A parallel kernel whose ``prange`` body calls a
large chunk kernel thus paid for that chunk's machine code three more times (the outlined
``prange`` body, the kernel, its serial twin) on top of the chunk's own compile
(``python -m benchmarks.compile_profile --workload compile``: the parallel kernels took
94 of 175 CPU-s compiling, a parallel kernel several times its twin).

A :class:`Chunked` kernel runs ``chunk(c, *args)`` for every chunk ``c`` of ``bounds``
through the address of the chunk's compiled code: :func:`run_chunks` (in parallel, one
``prange`` iteration per fixed chunk, so results do not depend on the thread count) and
:func:`run_chunks_serial` (on the calling thread) know only that address and the types of
``args``, so they compile in a fraction of a second whatever the chunk does, and the
chunk's code exists once. The address is a plain integer argument: nothing about this
process is compiled in, so both launchers cache on disk like every kernel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange, typeof, types
from numba.core import cgutils
from numba.extending import intrinsic

from .._config import FASTMATH, NUMBA_CACHE
from .twins import serial_twin


@intrinsic
def _call_chunk(typingctx: Any, address: Any, c: Any, args: Any) -> Any:
    """Call the compiled ``chunk(c, *args)`` at ``address`` (Numba's own calling
    convention, so an error status propagates)."""
    argtys = (types.int64, *args.types)

    def codegen(context: Any, builder: Any, signature: Any, llargs: Any) -> Any:
        address_v, c_v, args_v = llargs
        fnty = context.call_conv.get_function_type(types.none, argtys)
        fptr = builder.inttoptr(address_v, fnty.as_pointer())
        values = [c_v] + [builder.extract_value(args_v, i) for i in range(len(args.types))]
        status, _ = context.call_conv.call_function(builder, fptr, types.none, argtys, values)
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return context.get_dummy_value()

    return types.none(types.intp, types.int64, args), codegen


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def run_chunks(address, n_chunks, args):
    """IN address of a compiled ``chunk(c, *args)``, n_chunks, args (a tuple): runs the
    chunk for c = 0..n_chunks-1, one ``prange`` iteration each. Chunk c writes only its
    own slots."""
    for c in prange(n_chunks):
        _call_chunk(address, np.int64(c), args)


#: On the calling thread: small data, and Dask workers (no Numba thread pool).
run_chunks_serial = serial_twin(run_chunks)


def _key(value: Any) -> Any:
    """What decides Numba's type of ``value``, read cheaply (``numba.typeof`` takes tens
    of microseconds)."""
    if isinstance(value, np.ndarray):
        f = value.flags
        return (value.dtype.num, value.ndim, f.c_contiguous, f.f_contiguous, f.writeable,
                f.aligned)  # fmt: skip
    if isinstance(value, tuple):
        return tuple(_key(v) for v in value)
    return type(value)


class Chunked:
    """A kernel over row chunks: ``kernel(*args)`` runs the Numba kernel ``chunk(c, *args)``
    for every chunk c of ``args[bounds_at]`` (chunk boundaries, ``n_chunks + 1`` of
    them), in parallel, or on the calling thread for the twin (:meth:`serial_twin`).

    The chunk is compiled (or loaded from the cache) for the types of ``args`` on first
    use; its address is kept per argument types."""

    def __init__(self, chunk: Any, bounds_at: int, serial: bool = False) -> None:
        self.chunk = chunk
        self.bounds_at = bounds_at
        self.serial = serial
        self.__name__ = chunk.__name__.removesuffix("_chunk") + ("_serial" if serial else "")
        self.__doc__ = chunk.__doc__
        self._addresses: dict[Any, int] = {}

    def serial_twin(self) -> Chunked:
        """The same kernel on the calling thread."""
        twin = Chunked(self.chunk, self.bounds_at, serial=True)
        twin._addresses = self._addresses  # one chunk, one address per argument types
        return twin

    def address(self, args: tuple[Any, ...]) -> int:
        """The address of the chunk compiled for ``args``' types."""
        key = _key(args)
        found = self._addresses.get(key)
        if found is None:
            argtypes = (types.int64, *(typeof(a) for a in args))
            self.chunk.compile(argtypes)
            result = self.chunk.overloads[argtypes]
            found = result.library.get_pointer_to_function(result.fndesc.llvm_func_name)
            self._addresses[key] = found
        return found

    def __call__(self, *args: Any) -> None:
        n_chunks = args[self.bounds_at].shape[0] - 1
        launch = run_chunks_serial if self.serial else run_chunks
        launch(self.address(args), n_chunks, args)

    def __repr__(self) -> str:
        return f"Chunked({self.chunk.__name__}{', serial' if self.serial else ''})"
