"""The notebooks run top to bottom, and the documentation site builds with warnings as errors.

Each notebook is executed once per session in a fresh kernel (nbclient); the docs build then
renders those executed notebooks, so the site shows real outputs without running them twice.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_build_module():
    spec = importlib.util.spec_from_file_location("fk_docs_build", ROOT / "docs" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _load_build_module()
NOTEBOOKS = build.notebook_paths()
EXPECTED = ["01-getting-started", "02-choosing-k", "03-large-data", "04-embeddings-cosine"]


class _Executed:
    """Executes each notebook at most once per session, on first request."""

    def __init__(self) -> None:
        self.results: dict[str, tuple[Any, str | None]] = {}

    def get(self, path: Path) -> tuple[Any, str | None]:
        if path.name not in self.results:
            self.results[path.name] = build.execute_notebook(path)
        return self.results[path.name]


@pytest.fixture(scope="session")
def executed() -> _Executed:
    return _Executed()


def test_the_four_notebooks_are_there() -> None:
    assert [p.stem for p in NOTEBOOKS][:4] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name} has outputs: strip them before committing"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, executed: _Executed) -> None:
    nb, error = executed.get(path)
    assert error is None, f"{path.name} failed:\n{error}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    if path.stem in EXPECTED:  # the visual tour; later notebooks may draw nothing
        figures = sum(build.PLOTLY_MIME in o.get("data", {}) for c in code for o in c.outputs)
        assert figures >= 1, f"{path.name} drew no figure"


def test_docs_build_strict(executed: _Executed, tmp_path: Path) -> None:
    results = {p.name: executed.get(p) for p in NOTEBOOKS}
    out = tmp_path / "html"
    proc = build.build(out, {name: nb for name, (nb, _) in results.items()})
    assert proc.returncode == 0, f"sphinx-build -W failed:\n{proc.stdout}\n{proc.stderr}"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '_images/demo.png"' in index and (out / "_images" / "demo.png").exists()
    assert (out / "_static" / "plotly.min.js").stat().st_size > 1_000_000
    # Every page of the site is there, the notebooks with their figures.
    for page in ["user-guide", "api", "benchmarks", *(f"notebooks/{n}" for n in EXPECTED)]:
        assert (out / f"{page}.html").exists(), page
    tutorial = (out / "notebooks" / "01-getting-started.html").read_text(encoding="utf-8")
    assert len(re.findall(r"Plotly\.newPlot", tutorial)) >= 4
    api = (out / "api.html").read_text(encoding="utf-8")
    documented = ["KMeansParams", "KMeansModel", "plot.clusters", "plot.silhouette",
                  "plot.elbow", "datasets.make_tutorial_data"]  # fmt: skip
    for name in (f"fastkmeans.{n}" for n in documented):
        assert f'id="{name}"' in api, name
    guide = (out / "user-guide.html").read_text(encoding="utf-8")
    for topic in ["NUMBA_CACHE_DIR", "farthest", "relative", "thread", "float32"]:
        assert topic in guide, topic
