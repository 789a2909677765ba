"""Build the documentation site: run the notebooks, then Sphinx with warnings as errors.

    python docs/build.py                     # -> docs/_build/html
    python docs/build.py --no-execute        # notebooks rendered without outputs (fast)

Sphinx reads a copy of ``docs/`` in a temporary directory with the notebooks (executed, their
Plotly figures turned into HTML that uses the site's own copy of plotly.js) and, when no
benchmark has been run yet, a placeholder ``benchmarks.md``. ``tests/test_docs.py`` drives the
same functions, so the notebooks run once per test session.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
NOTEBOOKS = ROOT / "notebooks"
PLOTLY_MIME = "application/vnd.plotly.v1+json"

BENCHMARKS_PLACEHOLDER = """# Benchmarks

The benchmark table is written here by the benchmark script in `benchmarks/`; it has not been
run in this checkout.
"""


def notebook_paths() -> list[Path]:
    """The notebooks in ``notebooks/``, in name order."""
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def execute_notebook(path: Path, timeout: int = 300) -> tuple[Any, str | None]:
    """Run a notebook top to bottom in a fresh kernel of this interpreter.

    Returns the executed notebook (outputs up to the failure if one cell fails) and ``None``,
    or the error text. Figures are kept as Plotly's JSON mime type.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, PLOTLY_RENDERER="plotly_mimetype", PYDEVD_DISABLE_FILE_VALIDATION="1")
    with tempfile.TemporaryDirectory(prefix="fk-nb-") as cwd:
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": cwd}}
        )
        try:
            client.execute(env=env)
        except CellExecutionError as exc:
            return nb, str(exc)
    return nb, None


def plotly_outputs_to_html(nb: Any) -> Any:
    """Replace each Plotly JSON output by a ``<div>`` that draws it with the page's plotly.js."""
    import plotly.io as pio

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PLOTLY_MIME in data:
                fig = data.pop(PLOTLY_MIME)
                data["text/html"] = pio.to_html(
                    fig, include_plotlyjs=False, full_html=False, validate=False,
                    default_width="100%", default_height=500, config={"responsive": True},
                )  # fmt: skip
    return nb


def build(out: Path, executed: dict[str, Any] | None = None) -> subprocess.CompletedProcess:
    """Run ``sphinx-build -W`` on a copy of ``docs/`` into ``out``.

    ``executed`` maps notebook file names to executed notebooks; the others are rendered as
    committed (without outputs).
    """
    executed = executed or {}
    with tempfile.TemporaryDirectory(prefix="fk-docs-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("_build", "__pycache__"))
        (src / "notebooks").mkdir()
        for path in notebook_paths():
            nb = executed.get(path.name)
            if nb is None:
                shutil.copyfile(path, src / "notebooks" / path.name)
            else:
                nbformat.write(plotly_outputs_to_html(nb), src / "notebooks" / path.name)
        if not (src / "benchmarks.md").exists():
            (src / "benchmarks.md").write_text(BENCHMARKS_PLACEHOLDER, encoding="utf-8")
        cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
               "-d", str(Path(tmp) / "doctrees"), str(src), str(out)]  # fmt: skip
        return subprocess.run(cmd, capture_output=True, text=True, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the fastkmeans documentation.")
    parser.add_argument("--out", type=Path, default=DOCS / "_build" / "html")
    parser.add_argument("--no-execute", action="store_true", help="do not run the notebooks")
    args = parser.parse_args(argv)
    executed = {}
    if not args.no_execute:
        for path in notebook_paths():
            nb, error = execute_notebook(path)
            if error is not None:
                print(f"{path.name} failed:\n{error}", file=sys.stderr)
                return 1
            executed[path.name] = nb
            print(f"executed {path.name}")
    proc = build(args.out, executed)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if proc.returncode == 0:
        print(f"built {args.out / 'index.html'}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
