"""Knowing when kernels compile: the kernels there are, and a watch that says so.

Numba compiles a kernel the first time it is called with new argument types, unless its
on-disk cache already holds it; Numba announces each real compilation (a cache miss) with
its ``numba:compile`` event. :func:`watch` listens for it, so that a fit about to compile
can say so once (one line on stderr from the command line, the progress bar's description
in notebooks) and report how long compiling took, apart from the fit.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

from numba.core import event

#: What a fit that compiles says, once.
MESSAGE = "compiling kernels (first run only) ..."


def kernel_dispatchers(inlined: bool = False) -> dict[str, Any]:
    """Every kernel of :mod:`fastkmeans.kernels` that compiles on its own, by qualified
    name (``"lloyd.lloyd_direct_serial"``). Functions inlined into their callers
    (``inline="always"``) never compile alone and are left out unless ``inlined``."""
    import fastkmeans.kernels as package

    found: dict[str, Any] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, obj in vars(module).items():
            if not hasattr(obj, "py_func") or obj.__module__ != module.__name__:
                continue
            if not inlined and obj.targetoptions.get("inline", "never") == "always":
                continue
            found[f"{info.name}.{name}"] = obj
    return found


def callees(func: Callable[..., Any]) -> list[Any]:
    """The objects the global names of ``func`` (and of the functions nested in it) stand
    for. A Python stub with an ``overloaded_by`` attribute (a kernel helper chosen by type
    through ``numba.extending.overload``) stands for what its overload functions call."""
    found: list[Any] = []
    codes = [func.__code__]
    while codes:
        code = codes.pop()
        codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
        for name in code.co_names:
            obj = func.__globals__.get(name)
            for typed in getattr(obj, "overloaded_by", ()):
                found += callees(typed)
            found.append(obj)
    return found


_GUARDED: list[bool] = []
_GUARD_LOCK = threading.Lock()


def guard_cache_writes() -> None:
    """Make this process's writes to the kernels' cache indexes exclusive across processes
    (once per process; POSIX only).

    Numba adds an entry to a kernel's index by reading the index, picking the first free
    data file name and writing both back, with no lock: two processes adding different
    specialisations of one kernel at the same moment (a first run's background compile and
    a fit compiling on another path) could both pick the same file and leave the index
    pointing at the other's code. Each kernel's ``save`` here holds an exclusive ``flock`` on
    ``<index>.lock`` while it runs."""
    with _GUARD_LOCK:
        if _GUARDED:
            return
        if os.name == "posix":  # no flock elsewhere
            for disp in kernel_dispatchers(inlined=True).values():
                cache_file = getattr(getattr(disp, "_cache", None), "_cache_file", None)
                path = getattr(cache_file, "_index_path", None)
                if cache_file is not None and path is not None:
                    cache_file.save = exclusive(cache_file.save, path + ".lock")
        _GUARDED.append(True)


def exclusive(save: Callable[[Any, Any], None], path: str) -> Callable[[Any, Any], None]:
    """``save`` holding an exclusive ``flock`` on the file ``path`` while it runs (POSIX)."""
    import fcntl

    def save_exclusive(key: Any, data: Any) -> None:
        with open(path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                save(key, data)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    return save_exclusive


def cache_folder() -> str:
    """Where Numba keeps the compiled kernels: ``NUMBA_CACHE_DIR`` when set, else the
    ``__pycache__`` folder next to the kernels (Numba falls back to a per-user folder when
    that one is not writable)."""
    from numba.core import config

    if config.CACHE_DIR:
        return str(config.CACHE_DIR)
    import fastkmeans.kernels as package

    return os.path.join(os.path.dirname(package.__file__), "__pycache__")


class CompileWatch(event.Listener):
    """Counts the compilations inside a block and their wall seconds (nested ones inside
    the outermost); calls ``say(MESSAGE)`` when the first one starts, and ``busy(True)`` /
    ``busy(False)`` when each outermost one starts and ends."""

    def __init__(
        self,
        say: Callable[[str], None] | None = None,
        busy: Callable[[bool], None] | None = None,
        told: Callable[[str], None] | None = None,
    ) -> None:
        self.say, self.busy = say, busy
        self.told = told or say  # what :func:`note` says reaches it here
        self.notes: list[str] = []
        self.count = 0
        self.seconds = 0.0
        self._depth = 0
        self._start = 0.0

    def on_start(self, ev: event.Event) -> None:
        self.count += 1
        self._depth += 1
        if self._depth == 1:
            self._start = time.perf_counter()
            if self.count == 1 and self.say is not None:
                self.say(MESSAGE)
            if self.busy is not None:
                self.busy(True)

    def on_end(self, ev: event.Event) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.seconds += time.perf_counter() - self._start
            if self.busy is not None:
                self.busy(False)


_WATCHERS: list[CompileWatch] = []


@contextlib.contextmanager
def watch(
    say: Callable[[str], None] | None = None,
    busy: Callable[[bool], None] | None = None,
    told: Callable[[str], None] | None = None,
) -> Iterator[CompileWatch]:
    """A :class:`CompileWatch` listening while the block runs (any thread); ``told`` (else
    ``say``) receives what :func:`note` says."""
    watcher = CompileWatch(say, busy, told)
    _WATCHERS.append(watcher)
    try:
        with event.install_listener("numba:compile", watcher):
            yield watcher
    finally:
        _WATCHERS.remove(watcher)


def note(message: str) -> None:
    """Say ``message`` through every watch listening now, once each (the stand-ins of the
    first run announce themselves with it)."""
    for watcher in list(_WATCHERS):
        if message not in watcher.notes:
            watcher.notes.append(message)
            if watcher.told is not None:
                watcher.told(message)


@contextlib.contextmanager
def on_bar(bar: Any, desc: str) -> Iterator[None]:
    """While kernels compile, the tqdm ``bar`` reads ``"<desc>: compiling kernels (first
    run only) ..."``; its description goes back to ``desc`` in between."""
    if bar is None:
        yield
        return

    def busy(compiling: bool) -> None:
        bar.set_description(f"{desc}: {MESSAGE}" if compiling else desc, refresh=True)

    def told(message: str) -> None:
        bar.set_description(f"{desc}: {message}", refresh=True)

    with watch(busy=busy, told=told):
        yield
