"""``python -m benchmarks [--quick] [--only SECTION ...] [--out docs/benchmarks.md]``

Runs every benchmark in this process (scikit-learn and the other peers alongside
fastkmeans), prints each row as it finishes and writes the Markdown report. With
``--only``, the sections run replace theirs in the existing report and the others are
kept; every section says the machine, date and command it comes from.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import math
import os
import platform
import sys
from pathlib import Path
from typing import Any

SECTIONS = (
    "fixed", "convergence", "seeds", "algorithms", "outofcore", "minibatch", "dask", "sparse",
    "optimal", "constrained", "startup",
)  # fmt: skip


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "_no rows_\n"
    cols: list[str] = []
    for row in rows:
        cols += [c for c in row if c not in cols]

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            if not math.isfinite(v):
                return "—"
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return "—" if v is None else str(v)

    def cell(text: str) -> str:
        return text.replace("|", "\\|")  # "k-means||" inside a Markdown table

    lines = ["| " + " | ".join(cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(fmt(r.get(c))) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _merge(old: str, new_blocks: dict[str, str]) -> str:
    """The sections of the report ``old`` (after its header) with those in ``new_blocks``
    replaced, in their old places, and the new ones appended in ``SECTIONS`` order.
    Sections are found by their ``<!-- section: name -->`` marker."""
    kept: list[tuple[str | None, str]] = []
    for part in old.split("<!-- section: ")[1:]:
        name, _, body = part.partition(" -->\n")
        kept.append((name, f"<!-- section: {name} -->\n{body}"))
    names = {name for name, _ in kept}
    blocks = [new_blocks.get(name, body) if name else body for name, body in kept]
    blocks += [new_blocks[n] for n in SECTIONS if n in new_blocks and n not in names]
    return "\n".join(b.rstrip("\n") + "\n" for b in blocks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data: a smoke run")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--out", default="docs/benchmarks.md", help="report to write")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    # Timed fits run the compiled kernels, never the first run's NumPy stand-ins (their
    # warm-up fits compile what is not in the cache yet); the start-up section sets its own.
    os.environ["FASTKMEANS_FIRST_RUN"] = "compile"

    import numba

    from .common import cpu_description, machine_limits

    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    limits = machine_limits(args.threads, args.quick)
    print(
        f"machine: {cpu_description()}; GEMM {limits['gemm_gflops']:.0f} GFLOP/s, "
        f"read bandwidth {limits['bandwidth_gbs']:.1f} GB/s, {args.threads} threads",
        flush=True,
    )
    sections: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    from . import bench_lloyd

    if "fixed" in args.only:
        sections["fixed"] = (
            "Fixed work: ms per iteration (same init, n_init=1, exactly 20 iterations; median "
            "of 5 fits taken in rounds across the libraries, 1 from n·d·k = 10^9)",
            bench_lloyd.fixed_work(args.threads, limits, args.quick),
        )
    if "convergence" in args.only:
        sections["convergence"] = (
            "Convergence: k-means++ (faiss: random rows, 25 iterations), tol=1e-4, "
            "mean of three seeds; fastkmeans also with its k-means|| seeding (own column)",
            bench_lloyd.convergence(args.threads, args.quick),
        )
    if "algorithms" in args.only:
        sections["algorithms"] = (
            "Exact algorithms: seconds to converge from the same initial centroids "
            '(tol=1e-4); `algorithm="auto"` is calibrated on this table',
            bench_lloyd.algorithms(args.threads, args.quick),
        )
    modules = (
        ("seeds", "bench_seeds"),
        ("outofcore", "bench_out_of_core"),
        ("minibatch", "bench_minibatch"),
        ("dask", "bench_dask"),
        ("sparse", "bench_sparse"),
        ("optimal", "bench_optimal1d"),
        ("constrained", "bench_constrained"),
        ("startup", "bench_startup"),
    )
    for name, module in modules:
        if name not in args.only:
            continue
        try:
            mod = importlib.import_module(f".{module}", __package__)
        except ImportError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        sections[name] = (mod.__doc__.strip().splitlines()[0], mod.run(args.quick))

    import sklearn

    import fastkmeans

    command = "python -m benchmarks" + (" --quick" if args.quick else "")
    if set(args.only) != set(SECTIONS):
        command += " --only " + " ".join(args.only)
    today = datetime.date.today().isoformat()
    provenance = f"_{cpu_description()}, {args.threads} threads, {today}, `{command}`_\n"
    header = [
        "# Benchmarks\n",
        f"Written by `python -m benchmarks` (or `--only` some sections); each section names "
        f"the machine, date and command it comes from. Last run: `{command}` on {today}.\n",
        f"- machine: {cpu_description()}, Python {platform.python_version()}, "
        f"fastkmeans {fastkmeans.__version__}, scikit-learn {sklearn.__version__}, "
        f"numba {numba.__version__}",
        f"- threads: {args.threads} for every library",
        f"- measured in the same run: float32 GEMM {limits['gemm_gflops']:.0f} GFLOP/s, "
        f"float64 GEMM {limits['gemm64_gflops']:.0f} GFLOP/s, read bandwidth "
        f"{limits['bandwidth_gbs']:.1f} GB/s; `limit` = max(2·n·d·k flops at the GEMM rate "
        f"of the case's dtype, one read of X at that bandwidth), in ms per iteration; none "
        f"for the tutorial's 750 points, where the per-call overhead is all there is",
        "- times are medians of repeats (ms per iteration) or means over seeds (seconds); "
        "inertia is recomputed for every library by one float64 function; the machine is "
        "shared, so read ratios, not absolute times\n",
    ]
    new_blocks = {
        name: f"<!-- section: {name} -->\n## {title}\n\n{provenance}\n{_table(rows)}"
        for name, (title, rows) in sections.items()
    }
    out = Path(args.out)
    old = out.read_text() if out.exists() else ""
    text = "\n".join(header) + "\n" + _merge(old, new_blocks)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
