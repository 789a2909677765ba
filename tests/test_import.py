"""``import fastkmeans`` stays light: no scikit-learn, Dask or Plotly, and fast."""

from __future__ import annotations

import subprocess
import sys


def test_import_pulls_in_no_optional_dependency():
    code = (
        "import sys, fastkmeans\n"
        "heavy = [m for m in ('sklearn', 'dask', 'distributed', 'plotly', 'tqdm') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_plot_is_there_when_asked_for():
    code = "import fastkmeans as fk, sys; fk.plot.clusters; print('plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
