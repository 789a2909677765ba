"""The benchmark command still runs (on tiny data; it asserts nothing about speed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_writes_its_report(tmp_path):
    out = tmp_path / "bench.md"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "fixed", "algorithms",
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    assert "## Fixed work" in text and "## Exact algorithms" in text
    assert "| tutorial 750x2 k=3 |" in text
    assert "fastkmeans lloyd" in text and "sklearn lloyd" in text


def test_a_partial_run_keeps_the_other_sections():
    from benchmarks.__main__ import _merge

    old = (
        "# Benchmarks\n\nheader\n\n<!-- section: fixed -->\n## Fixed\n\nold fixed\n\n"
        "<!-- section: dask -->\n## Dask\n\nold dask\n"
    )
    new = {"fixed": "<!-- section: fixed -->\n## Fixed\n\nnew fixed\n",
           "sparse": "<!-- section: sparse -->\n## Sparse\n\nnew sparse\n"}  # fmt: skip
    text = _merge(old, new)
    assert "old fixed" not in text and "new fixed" in text and "old dask" in text
    assert text.index("new fixed") < text.index("old dask") < text.index("new sparse")
    assert "header" not in text  # the caller writes a fresh header
