"""The first run does not wait on the compiler.

Numba compiles a kernel the first time it runs with new argument types (seconds per
kernel, about a minute for a dense fit's kernels in one dtype) unless its on-disk cache
holds it. So while the kernels a fit in memory needs are not in the cache, the fit
runs on NumPy stand-ins of those kernels (:mod:`._standins`: same draws, same steps, the
same result up to float rounding, Lloyd's iterations for every exact algorithm; mini-batch
steps too) and a background process, at low priority, compiles them into the cache
(``python -m fastkmeans compile --group ... --dtype ...``). Fits after it has finished, in
this process or another, run the kernels. Which groups a fit needs: ``"dense, small
data"`` (the kernels of small problems, also used on k-means|| candidates), for larger
problems ``"dense, large data"``, and ``"mini-batch"`` for mini-batch and ``partial_fit``.

``FASTKMEANS_FIRST_RUN`` chooses: ``"background"`` (the default: stand-ins and a
background compile while the kernels are not compiled; they need a cache folder that can
be written, otherwise fits compile), ``"compile"`` (compile in the fit, as Numba does by
itself) or ``"numpy"`` (always the stand-ins, never a compile: for machines where Numba
cannot compile; slower than compiled kernels, 3-5x on the start-up benchmark's photo).
Sparse rows in memory (CSR) have stand-ins too (:mod:`._standins_sparse`) and need the
``"sparse"`` group. Rows in blocks (out of core, Dask), size limits and
``algorithm="optimal"`` compile their kernels on first use.

A group counts as compiled when the cache folder holds its stamp
(``fastkmeans-ready-<group>-<dtype>.txt``, written by ``fastkmeans compile`` once the
group's kernels are in the cache) and the stamp still matches Numba's and Python's versions
and the kernels' source files.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._compile import cache_folder, guard_cache_writes, note
from ._config import NUMBA_CACHE

#: What a fit on the stand-ins says, once (stderr from the command line, the bar's text).
MESSAGE = "first run: NumPy kernels while Numba compiles in the background"
SMALL, LARGE, MINIBATCH = "dense, small data", "dense, large data", "mini-batch"
SPARSE = "sparse"
LOCK = "fastkmeans-compiling.pid"
#: A first fit on the stand-ins starts the background compile when it ends, or after this
#: many seconds if it is still running.
QUIET_SECONDS: float = 10.0
#: Where a live process cannot be asked for (Windows), a lock older than this is stale.
STALE_AFTER: float = 1800.0

_ON = contextvars.ContextVar("fastkmeans_stand_ins", default=False)


def mode() -> str:
    """``FASTKMEANS_FIRST_RUN``: ``"background"``, ``"numpy"`` or ``"compile"``."""
    value = os.environ.get("FASTKMEANS_FIRST_RUN", "background")
    if value not in ("background", "numpy", "compile"):
        raise ValueError(
            f"FASTKMEANS_FIRST_RUN must be 'background', 'numpy' or 'compile', got {value!r}"
        )
    return value


def kernel(compiled: Any) -> Any:
    """``compiled``, or its NumPy stand-in while a fit runs on them."""
    if not _ON.get():
        return compiled
    return _stand_ins().get(compiled, compiled)


@functools.lru_cache(maxsize=1)
def _stand_ins() -> dict[Any, Any]:
    """Kernel dispatcher -> its NumPy stand-in, dense and sparse."""
    from . import _standins, _standins_sparse

    return {**_standins.STAND_INS, **_standins_sparse.STAND_INS}


def active() -> bool:
    """Whether this fit runs on the stand-ins."""
    return _ON.get()


# --------------------------------------------------------------------------- stamps
def _slug(group: str, dtype: Any) -> str:
    name = "-".join("".join(ch if ch.isalnum() else " " for ch in group).split())
    return f"fastkmeans-ready-{name}-{np.dtype(dtype).name}.txt"


@functools.lru_cache(maxsize=1)
def source_stamp() -> str:
    """Numba's and Python's versions and every kernel source file's size and time: what
    Numba's cache entries depend on (read once per process, as Numba reads them once)."""
    import numba

    import fastkmeans.kernels as package

    folder = os.path.dirname(package.__file__)
    parts = [numba.__version__, sys.version]
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            st = os.stat(os.path.join(folder, name))
            parts.append(f"{name} {st.st_size} {st.st_mtime_ns}")
    return "\n".join(parts) + "\n"


def mark_compiled(group: str, dtype: Any) -> None:
    """Stamp ``group`` as compiled for ``dtype`` (nothing when the folder is read-only or
    the on-disk cache is off: then nothing was kept)."""
    if not NUMBA_CACHE:
        return
    with contextlib.suppress(OSError):
        with open(os.path.join(cache_folder(), _slug(group, dtype)), "w", encoding="utf-8") as fh:
            fh.write(source_stamp())


def compiled(group: str, dtype: Any) -> bool:
    """Whether the cache holds ``group``'s kernels for ``dtype`` (its stamp is current;
    once it is, this process does not read it again)."""
    key = (group, np.dtype(dtype).name)
    if key in _KNOWN:
        return True
    try:
        with open(os.path.join(cache_folder(), _slug(group, dtype)), encoding="utf-8") as fh:
            current = fh.read() == source_stamp()
    except OSError:
        return False
    if current:
        _KNOWN.add(key)
    return current


def _writable(folder: str) -> bool:
    with contextlib.suppress(OSError):
        os.makedirs(folder, exist_ok=True)
    return os.access(folder, os.W_OK)


# --------------------------------------------------------------------------- background
#: The background compile this process started (``poll()`` tells when it has ended).
_CHILD: list[subprocess.Popen[bytes]] = []
#: (group, dtype name) found compiled in this process: their stamps are not read again.
_KNOWN: set[tuple[str, str]] = set()
#: A lock with no live process in it for this long is stale (being written, or Windows).
EMPTY_LOCK_GRACE: float = 10.0


def _lock_pid(path: str) -> int | None:
    """The pid in the lock at ``path`` (0 while unreadable or empty), None without one."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read().strip()
    except FileNotFoundError:
        return None
    except OSError:
        return 0
    return int(text) if text.isdigit() else 0


def _alive(pid: int) -> bool:
    for child in _CHILD:
        if child.pid == pid:
            return child.poll() is None  # ours: reaped when it ends
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, someone else's
        return True
    return True


def _running(path: str) -> bool:
    """Whether the lock at ``path`` belongs to a live background compile; a stale one (its
    process gone, or empty and old) is removed."""
    pid = _lock_pid(path)
    if pid is None:
        return False
    try:
        age = time.time() - os.stat(path).st_mtime
    except OSError:
        return False
    if pid == 0:
        live = age < EMPTY_LOCK_GRACE
    elif os.name == "nt":  # no signal 0 there (os.kill would end the process)
        live = age < STALE_AFTER
    else:
        live = _alive(pid)
    if not live and _lock_pid(path) == pid:  # still the lock we judged
        with contextlib.suppress(OSError):
            os.remove(path)
    return live


def child_env() -> dict[str, str]:
    """The environment of a child process that imports this very package, wherever this
    process found it (its ``sys.path`` as ``PYTHONPATH``)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def compile_in_background(groups: list[str], dtype: Any) -> bool:
    """Start ``python -m fastkmeans compile --background`` for ``groups`` and ``dtype`` at
    low priority, unless one is already running on this cache folder. Returns whether one
    was started."""
    path = os.path.join(cache_folder(), LOCK)
    if _running(path):
        return False
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except OSError:
        return False  # another process took it first
    command = [sys.executable, "-m", "fastkmeans", "compile", "--background",
               "--dtype", np.dtype(dtype).name]  # fmt: skip
    for group in groups:
        command += ["--group", group]
    env = child_env()
    started = False
    try:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True,
                                 env=env)  # fmt: skip
        _CHILD[:] = [child]
        os.write(fd, str(child.pid).encode())
        started = True
    except OSError:
        pass
    finally:
        os.close(fd)
        if not started:
            with contextlib.suppress(OSError):
                os.remove(path)
    return started


def release_lock() -> None:
    """Remove the background compile's lock, when it is this process's (its last step)."""
    path = os.path.join(cache_folder(), LOCK)
    if _lock_pid(path) == os.getpid():
        with contextlib.suppress(OSError):
            os.remove(path)


# --------------------------------------------------------------------------- a fit
def needed(small: bool, minibatch: bool = False, sparse: bool = False) -> list[str]:
    """The groups a fit in memory needs: for dense rows the small problems' kernels, the
    large ones' unless every step of the fit is small (see ``fastkmeans._fit.small_fit``),
    and the mini-batch steps for mini-batch; for sparse rows the sparse kernels (mini-batch
    steps among them)."""
    if sparse:
        return [SPARSE]
    return [SMALL] + ([] if small else [LARGE]) + ([MINIBATCH] if minibatch else [])


@contextlib.contextmanager
def first_run(X: Any, small: bool, minibatch: bool = False) -> Iterator[bool]:
    """Run the block on the stand-ins (yields True) when ``X`` is a dense array or CSR rows
    in memory whose kernels are not compiled yet and ``FASTKMEANS_FIRST_RUN`` allows it;
    starts the background compile then. ``small``: the problem takes the small-problem
    kernels only; ``minibatch``: mini-batch steps too."""

    if _ON.get():  # already inside one (a fit's own prediction)
        yield True
        return
    guard_cache_writes()
    how = mode()
    if how == "background" and not NUMBA_CACHE:  # nothing compiled would be kept
        how = "compile"
    dtype = getattr(X, "dtype", None)
    sparse = hasattr(X, "indptr")  # ``_csr.CSRRows`` (not imported: it imports this module)
    in_memory = isinstance(X, np.ndarray) or sparse
    if how == "compile" or not in_memory or dtype not in (np.float32, np.float64):
        yield False
        return
    start: _Later | None = None
    if how == "background":
        todo = [g for g in needed(small, minibatch, sparse) if not compiled(g, dtype)]
        if not todo or not _writable(cache_folder()):
            yield False
            return
        start = _Later(todo, dtype)
        note(MESSAGE)
    token = _ON.set(True)
    try:
        yield True
    finally:
        _ON.reset(token)
        if start is not None:
            start.now()


class _Later:
    """Starts the background compile when the fit ends or after ``QUIET_SECONDS``,
    whichever comes first: a short first fit has the machine to itself (a compile on the
    other core of a two-core machine slows it down), a long one does not wait for it to
    start."""

    def __init__(self, groups: list[str], dtype: Any) -> None:
        self.groups, self.dtype = groups, dtype
        self._lock = threading.Lock()
        self._done = False
        self._timer = threading.Timer(QUIET_SECONDS, self.now)
        self._timer.daemon = True
        self._timer.start()

    def now(self) -> None:
        self._timer.cancel()
        with self._lock:  # the fit's thread waits for a start the timer has begun
            if self._done:
                return
            self._done = True
            compile_in_background(self.groups, self.dtype)
