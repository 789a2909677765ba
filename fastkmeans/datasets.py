"""Data sets: the tutorial's three squares plus noise, and Gaussian blobs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import DTypeLike, NDArray

Seed = int | np.random.Generator | None


def make_square(
    center: Sequence[float],
    edge: float,
    n: int,
    seed: Seed = None,
    dtype: DTypeLike = np.float32,
) -> NDArray[np.floating]:
    """``n`` points uniform in the axis-aligned square (cube) of side ``edge`` at ``center``.

    Parameters
    ----------
    center : sequence of float
        Center of the square; its length is the number of features (2 for a square).
    edge : float
        Side length (> 0).
    n : int
        Number of points (>= 0).
    seed : int, numpy.random.Generator or None
        Source of randomness; a Generator is advanced.
    dtype : dtype
        Output dtype, float32 by default as in the tutorial.

    Returns
    -------
    ndarray of shape (n, len(center))

    Examples
    --------
    >>> from fastkmeans.datasets import make_square
    >>> make_square((7, 5), 1.0, 150, seed=0).shape
    (150, 2)
    """
    c = np.asarray(center, dtype=np.float64)
    if c.ndim != 1 or c.shape[0] == 0:
        raise ValueError(f"center must be a non-empty 1-D sequence, got {center!r}")
    if not edge > 0:
        raise ValueError(f"edge must be > 0, got {edge!r}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n!r}")
    rng = np.random.default_rng(seed)
    half = edge / 2.0
    return rng.uniform(c - half, c + half, size=(n, c.shape[0])).astype(dtype)


def make_tutorial_data(seed: Seed = None) -> NDArray[np.float32]:
    """The linfa tutorial's data: three dense squares plus uniform noise, (750, 2) float32.

    Squares centered at (7, 5) edge 1, (2, 2) edge 2 and (3, 8) edge 1 with 150 points each,
    then 300 noise points in the square centered at (5, 5) with edge 9, in that order.

    Examples
    --------
    >>> from fastkmeans.datasets import make_tutorial_data
    >>> X = make_tutorial_data(seed=0)
    >>> X.shape, X.dtype.name
    ((750, 2), 'float32')
    """
    rng = np.random.default_rng(seed)
    parts = [
        make_square((7.0, 5.0), 1.0, 150, rng),
        make_square((2.0, 2.0), 2.0, 150, rng),
        make_square((3.0, 8.0), 1.0, 150, rng),
        make_square((5.0, 5.0), 9.0, 300, rng),
    ]
    return np.concatenate(parts).astype(np.float32)


def make_blobs(
    n_samples: int,
    n_features: int,
    centers: int | NDArray[np.floating],
    cluster_std: float = 1.0,
    seed: Seed = None,
    dtype: DTypeLike = np.float64,
) -> tuple[NDArray[np.floating], NDArray[np.int64]]:
    """Isotropic Gaussian blobs.

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible between the blobs.
    n_features : int
        Number of features.
    centers : int or array of shape (n_centers, n_features)
        Number of blobs (centers drawn uniformly in [-10, 10]^d) or the centers themselves.
    cluster_std : float
        Standard deviation of every blob.
    seed : int, numpy.random.Generator or None
        Source of randomness.
    dtype : dtype
        Output dtype (float64 by default).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,), int64
        The blob each point was drawn from.

    Examples
    --------
    >>> from fastkmeans.datasets import make_blobs
    >>> X, y = make_blobs(100, 3, 4, seed=0)
    >>> X.shape, int(y.max())
    ((100, 3), 3)
    """
    rng = np.random.default_rng(seed)
    if isinstance(centers, (int, np.integer)):
        if centers < 1:
            raise ValueError(f"centers must be >= 1, got {centers}")
        means = rng.uniform(-10.0, 10.0, size=(int(centers), n_features))
    else:
        means = np.asarray(centers, dtype=np.float64)
        if means.ndim != 2 or means.shape[1] != n_features:
            raise ValueError(
                f"centers must have shape (n_centers, {n_features}), got {means.shape}"
            )
    n_centers = means.shape[0]
    sizes = np.full(n_centers, n_samples // n_centers)
    sizes[: n_samples % n_centers] += 1
    labels = np.repeat(np.arange(n_centers, dtype=np.int64), sizes)
    X = means[labels] + rng.normal(scale=cluster_std, size=(n_samples, n_features))
    order = rng.permutation(n_samples)
    return X[order].astype(dtype), labels[order]


#: Packages whose docstrings make the default corpus of :func:`load_docstrings`: the
#: standard library's larger packages, NumPy, and whichever of the others are installed.
DOCSTRING_PACKAGES: tuple[str, ...] = (
    "numpy", "scipy", "sklearn", "pandas", "dask", "distributed", "numba", "plotly",
    "IPython", "sphinx", "docutils", "pygments", "hypothesis", "_pytest", "setuptools",
    "pip", "email", "http", "json", "asyncio", "collections", "concurrent", "logging",
    "multiprocessing", "unittest", "urllib", "xml", "importlib", "idlelib",
)  # fmt: skip


def load_docstrings(
    packages: Sequence[str] | None = None, unit: str = "docstring", min_chars: int = 40
) -> tuple[list[str], list[str]]:
    """A real text corpus that needs no download: the docstrings of installed packages.

    Modules are imported (their ``tests`` subpackages skipped, import failures and their
    output ignored), and the docstrings of their modules, classes, functions and methods
    gathered once each, in a deterministic order. Which documents you get depends on what
    is installed.

    Parameters
    ----------
    packages : sequence of str or None
        Top-level packages to walk; None for :data:`DOCSTRING_PACKAGES`.
    unit : {"docstring", "paragraph"}
        One document per docstring, or per paragraph of a docstring (blank-line
        separated; over 100,000 of them with the default packages and the test extras).
    min_chars : int
        Shorter documents are dropped.

    Returns
    -------
    texts : list of str
    names : list of str
        The dotted name each document comes from (``"numpy.linalg.svd"``); a paragraph
        carries its docstring's name.

    Examples
    --------
    >>> texts, names = load_docstrings(["json"])
    >>> len(texts) == len(names) > 10
    True
    """
    import contextlib
    import importlib
    import inspect
    import io
    import pkgutil
    import warnings

    if unit not in ("docstring", "paragraph"):
        raise ValueError(f"unit must be 'docstring' or 'paragraph', got {unit!r}")
    seen: dict[str, str] = {}

    def take(obj: object, name: str) -> None:
        doc = getattr(obj, "__doc__", None)
        if isinstance(doc, str) and len(doc.strip()) >= min_chars:
            seen.setdefault(inspect.cleandoc(doc), name)

    quiet = io.StringIO()
    for package in DOCSTRING_PACKAGES if packages is None else packages:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(quiet),
            contextlib.redirect_stderr(quiet),
        ):
            warnings.simplefilter("ignore")
            try:
                modules = [importlib.import_module(package)]
            except BaseException:  # not installed, or broken on import
                continue
            names = pkgutil.walk_packages(getattr(modules[0], "__path__", []), package + ".")
            for info in sorted(names, key=lambda m: m.name):
                if ".tests" in info.name or ".test_" in info.name:
                    continue
                try:
                    modules.append(importlib.import_module(info.name))
                except BaseException:
                    continue
        for module in modules:
            take(module, module.__name__)
            for attr, obj in sorted(vars(module).items(), key=lambda kv: kv[0]):
                if inspect.isclass(obj) or inspect.isroutine(obj):
                    take(obj, f"{module.__name__}.{attr}")
                if inspect.isclass(obj) and getattr(obj, "__module__", None) == module.__name__:
                    for meth, member in sorted(vars(obj).items(), key=lambda kv: kv[0]):
                        if inspect.isroutine(member):
                            take(member, f"{module.__name__}.{attr}.{meth}")
    texts, names = list(seen), list(seen.values())
    if unit == "paragraph":
        pairs = [(p.strip(), nm) for t, nm in zip(texts, names) for p in t.split("\n\n")]
        pairs = [(p, nm) for p, nm in pairs if len(p) >= min_chars]
        texts, names = [p for p, _ in pairs], [nm for _, nm in pairs]
    return texts, names
