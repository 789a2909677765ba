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
