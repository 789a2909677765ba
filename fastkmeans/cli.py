"""The ``fastkmeans`` command: ``demo`` reproduces the tutorial, ``fit`` clusters a file,
``compile`` fills Numba's cache with every kernel."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np


class CliError(Exception):
    """A problem reported as one line on stderr with exit code 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr (exit code 2), not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fastkmeans",
        description="Exact k-means on Numba kernels, with Plotly figures.",
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    demo = sub.add_parser(
        "demo",
        help="reproduce the tutorial: three squares plus noise, k = 3, interactive figure",
        description="Cluster the tutorial's three dense squares plus uniform noise with k = 3 "
        "and write the scatter coloured by cluster as an interactive HTML figure.",
    )
    demo.add_argument(
        "--out", default="kmeans.html", help="HTML file to write (default: %(default)s)"
    )
    demo.add_argument("--seed", type=_seed, default=42, help="random seed (default: %(default)s)")
    fit = sub.add_parser(
        "fit",
        help="cluster the rows of a .npy or .csv file",
        description="Cluster the rows of DATA (.npy, or .csv of numbers with or without a "
        "header row) and write one label per row.",
    )
    fit.add_argument("data", metavar="DATA", help="input file: .npy or .csv")
    fit.add_argument(
        "-k", "--n-clusters", type=_positive_int, required=True, help="number of clusters"
    )
    fit.add_argument(
        "--out", default="labels.csv", help="labels file to write (default: %(default)s)"
    )
    fit.add_argument(
        "--plot", default=None, metavar="FIG.html", help="also write an interactive figure"
    )
    fit.add_argument("--seed", type=_seed, default=None, help="random seed")
    fit.add_argument(
        "--n-init", type=_positive_int, default=1, help="independent runs (default: 1)"
    )
    fit.add_argument(
        "--max-iter", type=_positive_int, default=300, help="iterations per run (default: 300)"
    )
    comp = sub.add_parser(
        "compile",
        help="compile every kernel (both dtypes) into Numba's cache, so no fit compiles",
        description="Compile every kernel for float32 and float64 data (and 32- and 64-bit "
        "sparse indices) into Numba's on-disk cache: the folder NUMBA_CACHE_DIR names, "
        "else __pycache__ next to the kernels. Quick when the cache is already warm.",
    )
    comp.add_argument(
        "--group", action="append", default=None, metavar="NAME",
        help="only this group of kernels (repeatable), e.g. 'dense, small data'",
    )  # fmt: skip
    comp.add_argument(
        "--dtype", action="append", choices=("float32", "float64"), default=None,
        help="only this dtype (repeatable; default: both)",
    )  # fmt: skip
    comp.add_argument(
        "--jobs", type=_positive_int, default=None, metavar="N",
        help="processes (default: one per dtype, at most one per CPU)",
    )  # fmt: skip
    comp.add_argument(
        "--background", action="store_true",
        help="what a first fit starts: low priority, no output, releases its lock at the end",
    )  # fmt: skip
    return parser


def _read(path: Path) -> np.ndarray:
    if not path.exists():
        raise CliError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            return np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise CliError(f"{path}: not a numeric .npy file ({exc})") from None
    if suffix == ".csv":
        return _read_csv(path)
    raise CliError(f"{path}: unsupported file type {suffix!r}; use .npy or .csv")


def _read_csv(path: Path) -> np.ndarray:
    with open(path, encoding="utf-8") as fh:
        first = fh.readline()
    try:
        [float(v) for v in first.strip().split(",")]
        skip = 0
    except ValueError:
        skip = 1  # a header row
    try:
        data = np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2)
    except ValueError as exc:
        raise CliError(f"{path}: not a CSV file of numbers ({exc})") from None
    return data


def _summary(n: int, k: int, inertia: float, n_iter: int, seconds: float) -> str:
    return f"n={n} k={k} inertia={inertia:.6g} iterations={n_iter} seconds={seconds:.3f}"


def _say(message: str) -> None:
    print(f"fastkmeans: {message}", file=sys.stderr, flush=True)


def _demo(args: argparse.Namespace) -> None:
    import fastkmeans as fk
    from fastkmeans._compile import watch

    start = time.perf_counter()
    X = fk.datasets.make_tutorial_data(seed=args.seed)
    with watch(_say) as compiling:
        model = fk.KMeansParams(3, seed=args.seed, max_iter=200, tol=1e-5).fit(X)
        labels = model.predict(X)
    fit = time.perf_counter() - start - compiling.seconds
    fig = fk.plot.clusters(
        X, labels, centroids=model.centroids, title="k-means on three squares plus noise (k = 3)"
    )
    _write_html(fig, args.out)
    seconds = time.perf_counter() - start
    print(
        _summary(X.shape[0], 3, model.inertia, model.n_iter, seconds)
        + f" fit={fit:.3f} compile={compiling.seconds:.3f} out={args.out}"
    )


def _write_html(fig: object, out: str) -> None:
    """The figure as HTML that loads plotly.js from one shared ``plotly.min.js`` next to
    it (written there once, 4.6 MB): the page works offline and stays small."""
    try:
        fig.write_html(out, include_plotlyjs="directory")  # type: ignore[attr-defined]
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None


def _fit(args: argparse.Namespace) -> None:
    import fastkmeans as fk
    from fastkmeans._compile import watch

    start = time.perf_counter()
    X = _read(Path(args.data))
    params = fk.KMeansParams(
        args.n_clusters, seed=args.seed, n_init=args.n_init, max_iter=args.max_iter
    )
    with watch(_say):
        model = params.fit(X)
    try:
        np.savetxt(args.out, model.labels, fmt="%d", header="label", comments="")
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    if args.plot:
        if model.n_features < 2:
            raise CliError("--plot needs data with at least 2 columns")
        _write_html(fk.plot.clusters(X, model.labels, model.centroids), args.plot)
    seconds = time.perf_counter() - start
    print(
        _summary(model.labels.shape[0], model.n_clusters, model.inertia, model.n_iter, seconds)
        + f" out={args.out}"
    )


def _compile(args: argparse.Namespace) -> None:
    from fastkmeans._precompile import DTYPES, compile_all

    groups = tuple(args.group) if args.group else None
    dtypes = tuple(np.dtype(t).type for t in args.dtype) if args.dtype else DTYPES
    if args.background:
        from fastkmeans._cold import release_lock

        with contextlib.suppress(OSError, AttributeError):  # AttributeError: no os.nice
            os.nice(10)
        try:
            compile_all(groups=groups, dtypes=dtypes)
        finally:
            release_lock()
        return
    summary = compile_all(progress=True, groups=groups, dtypes=dtypes, jobs=args.jobs)
    print(summary.line())
    if summary.missing and groups is None and dtypes == DTYPES:
        raise CliError("kernels no group compiled: " + ", ".join(summary.missing))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 usage or input error)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            _demo(args)
        elif args.command == "compile":
            _compile(args)
        else:
            _fit(args)
    except (CliError, ValueError, TypeError, OSError) as exc:
        print(f"fastkmeans {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"fastkmeans {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: still one line, never a traceback
        print(
            f"fastkmeans {args.command}: internal error: {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
