"""Chunked kernels: a chunk body compiled once, run over row chunks through its address.

Numba links the code of every kernel a kernel calls into the caller's own module and
optimises and emits it once more there. A parallel kernel whose ``prange`` body calls a
large chunk kernel thus paid for that chunk's machine code three more times (the outlined
``prange`` body, the kernel, its serial twin) on top of the chunk's own compile
(``python -m benchmarks.compile_profile --workload compile``: the parallel kernels took
94 of 175 CPU-s compiling, a parallel kernel several times its twin).

A :class:`Chunked` kernel's chunk kernel ``chunk(first, stop, *args)`` runs the chunks
``first..stop-1`` of ``bounds``. In parallel, :func:`run_chunks` calls it for one chunk per
``prange`` iteration (fixed chunks, so results do not depend on the thread count) through
the address of its compiled code: the launcher knows only that address and the types of
``args``, so it compiles in a fraction of a second whatever the chunk does, and the chunk's
code exists once. The address is an integer argument: nothing about this process is
compiled in, so the launcher caches on disk like every kernel. On the calling thread
(small data, Dask workers: no Numba thread pool) Python calls the chunk kernel once for
all chunks, so a ``Chunked`` kernel's twin compiles nothing of its own. A kernel may also
call :func:`call_chunk` itself (greedy k-means++'s steps, mini-batch steps on the calling
thread), with the addresses passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, prange, typeof, types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import NativeValue, intrinsic, models, register_model, unbox

from .._config import FASTMATH, NUMBA_CACHE


class ChunkAddress(types.Type):
    """Numba's type of a :class:`ChunkPointer`: the address of a compiled chunk kernel, as
    an integer, with its argument types (``first, stop`` first) for the call."""

    def __init__(self, argtypes: tuple[Any, ...]) -> None:
        self.argtypes = tuple(argtypes)
        super().__init__(name=f"ChunkAddress{self.argtypes}")


register_model(ChunkAddress)(lambda dmm, fe: models.PrimitiveModel(dmm, fe, cgutils.intp_t))


class ChunkPointer:
    """The address of ``chunk`` compiled for ``argtypes``; Numba reads its type from
    ``_numba_type_`` and unboxes it as one integer (no ``numba.typeof`` per call)."""

    def __init__(self, address: int, argtypes: tuple[Any, ...]) -> None:
        self.address = address
        self._numba_type_ = ChunkAddress(argtypes)


@unbox(ChunkAddress)
def _unbox_address(typ: Any, obj: Any, c: Any) -> Any:
    value = c.pyapi.object_getattr_string(obj, "address")
    address = c.pyapi.long_as_longlong(value)
    c.pyapi.decref(value)
    return NativeValue(address)


@intrinsic
def call_chunk(typingctx: Any, address: Any, c: Any, flat: Any) -> Any:
    """Call the chunk kernel at ``address`` as ``chunk(c, c + 1, *args)``, ``args``
    rebuilt from ``flat`` (the arguments with each tuple argument spread out: the outlined
    ``prange`` body of a kernel can not take a tuple argument that holds a tuple of
    arrays, Numba 0.68). Numba's own calling convention, so an error status propagates."""
    argtys = address.argtypes
    spread: list[Any] = []
    for ty in argtys[2:]:
        spread += list(ty) if isinstance(ty, types.BaseTuple) else [ty]
    if tuple(spread) != tuple(flat.types):
        raise TypingError(f"chunk arguments {flat.types} do not match its address {argtys}")

    def codegen(context: Any, builder: Any, signature: Any, llargs: Any) -> Any:
        address_v, c_v, flat_v = llargs
        fnty = context.call_conv.get_function_type(types.none, argtys)
        fptr = builder.inttoptr(address_v, fnty.as_pointer())
        values, i = [c_v, builder.add(c_v, c_v.type(1))], 0
        for ty in argtys[2:]:
            if isinstance(ty, types.BaseTuple):
                parts = [builder.extract_value(flat_v, i + q) for q in range(len(ty))]
                values.append(context.make_tuple(builder, ty, parts))
                i += len(ty)
            else:
                values.append(builder.extract_value(flat_v, i))
                i += 1
        status, _ = context.call_conv.call_function(builder, fptr, types.none, argtys, values)
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return context.get_dummy_value()

    return types.none(address, types.int64, flat), codegen


@njit(parallel=True, cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def run_chunks(address, n_chunks, flat):
    """IN address (a :class:`ChunkPointer`) of a compiled ``chunk(first, stop, *args)``,
    n_chunks, flat (``args`` with its tuples spread out): runs chunk c = 0..n_chunks-1,
    one ``prange`` iteration each. Chunk c writes only its own slots."""
    for c in prange(n_chunks):
        call_chunk(address, np.int64(c), flat)


def _key(value: Any) -> Any:
    """What decides Numba's type of ``value``, read cheaply (``numba.typeof`` takes tens
    of microseconds): an array's dtype, dimensions and flags (all of them, as one int:
    flags that do not change the type only cost a lookup)."""
    if isinstance(value, np.ndarray):
        return (value.dtype, value.ndim, value.flags.num)
    if isinstance(value, tuple):
        return tuple(map(_key, value))
    return type(value)


class Chunked:
    """A kernel over row chunks: ``kernel(*args)`` runs the Numba kernel ``chunk(first,
    stop, *args)`` over every chunk of ``args[bounds_at]`` (chunk boundaries, ``n_chunks +
    1`` of them): in parallel, one chunk per call, or on the calling thread for the twin
    (:meth:`serial_twin`), all chunks in one call.

    The chunk kernel is compiled (or loaded from the cache) for the types of ``args`` on
    first use; its address is kept per argument types."""

    def __init__(self, chunk: Any, bounds_at: int, serial: bool = False) -> None:
        self.chunk = chunk
        self.bounds_at = bounds_at
        self.serial = serial
        name = chunk.__name__.removesuffix("_chunks").removesuffix("_chunk")
        self.__name__ = name + ("_serial" if serial else "")
        self.__doc__ = chunk.__doc__
        self._addresses: dict[Any, ChunkPointer] = {}

    def serial_twin(self) -> Chunked:
        """The same kernel on the calling thread."""
        twin = Chunked(self.chunk, self.bounds_at, serial=True)
        twin._addresses = self._addresses  # one chunk, one address per argument types
        return twin

    def address(self, args: tuple[Any, ...]) -> ChunkPointer:
        """The address of the chunk compiled for ``args``' types."""
        return self.address_by(tuple(map(_key, args)), lambda: args)

    def address_by(self, key: tuple[Any, ...], make_args: Callable[[], Any]) -> ChunkPointer:
        """The address of the chunk compiled for the types of ``make_args()``, kept under
        ``key``: a cheaper key the caller vouches for (the types of a few arguments, the rest
        being its own workspaces), tagged with a string so that it never meets the keys of
        :meth:`address`. Should the vouched-for types differ, :func:`call_chunk` refuses to
        compile the call."""
        found = self._addresses.get(key)
        if found is None:
            argtypes = (types.int64, types.int64, *(typeof(a) for a in make_args()))
            self.chunk.compile(argtypes)
            result = self.chunk.overloads[argtypes]
            if result.signature.return_type != types.none:  # the call reserves no result
                raise TypeError(f"{self.chunk.__name__} must return nothing")
            address = result.library.get_pointer_to_function(result.fndesc.llvm_func_name)
            if not address:
                raise RuntimeError(f"no compiled code for {self.chunk.__name__}")
            found = self._addresses[key] = ChunkPointer(address, argtypes)
        return found

    def __call__(self, *args: Any) -> None:
        n_chunks = args[self.bounds_at].shape[0] - 1
        if self.serial:
            self.chunk(0, n_chunks, *args)
            return
        flat: list[Any] = []
        for a in args:
            if type(a) is tuple:
                flat.extend(a)
            else:
                flat.append(a)
        run_chunks(self.address(args), n_chunks, tuple(flat))

    def __repr__(self) -> str:
        return f"Chunked({self.chunk.__name__}{', serial' if self.serial else ''})"
