"""A short wait without the GIL, for the threads of :mod:`fastkmeans._chunks`.

A thread that blocks on a lock goes to sleep, and waking it takes the scheduler: tens of
microseconds, and on a virtual machine it may wake on the busy core of the thread that woke
it and wait there for a migration. Between two passes of a k-means step the threads are
idle for microseconds, so each first spins here (GIL released) on a counter the other side
bumps, and sleeps on its lock only when the counter has not moved for ``spins`` reads, as
OpenMP's threads spin before they sleep.
"""

from __future__ import annotations

import platform

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from .._config import FASTMATH, NUMBA_CACHE


@intrinsic
def _acquire_load(typingctx, counter):
    """counter[0] of an int64 array, read with an atomic acquire load (never hoisted out of
    a loop, and reads after it see what was written before the store it reads)."""
    sig = types.int64(counter)

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.load_atomic(array.data, ordering="acquire", align=8)

    return sig, codegen


_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


@intrinsic
def _pause(typingctx):
    """The x86 ``pause`` instruction (a no-op elsewhere): tells the core this is a spin, so
    that it does not starve a hyperthread sharing the core, as OpenMP's spins do."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        if _X86:
            fn = builder.module.declare_intrinsic(
                "llvm.x86.sse2.pause", fnty=ir.FunctionType(ir.VoidType(), [])
            )
            builder.call(fn, [])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=NUMBA_CACHE, fastmath=FASTMATH, nogil=True)
def wait_change(counter, seen, spins):
    """IN counter (1,) int64, seen its last value known, spins. Returns counter[0] once it
    differs from ``seen``, or ``seen`` after ``spins`` reads that found it unchanged."""
    for _ in range(spins):
        value = _acquire_load(counter)
        if value != seen:
            return value
        _pause()
    return seen
