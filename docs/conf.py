"""Sphinx configuration: numpydoc API reference, MyST pages and notebooks (myst-nb).

Build with ``python docs/build.py`` (it runs the notebooks and builds with warnings as errors).
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
from pathlib import Path

import plotly

import fastkmeans

project = "fastkmeans"
author = "the fastkmeans developers"
copyright = "the fastkmeans developers, BSD-3-Clause"
release = fastkmeans.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
]

exclude_patterns = ["_build", "build.py", "**.ipynb_checkpoints", "README.md"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# -- autodoc / numpydoc --------------------------------------------------------------------
autodoc_default_options = {"undoc-members": False, "show-inheritance": False}  # members: named
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
intersphinx_mapping: dict[str, tuple[str, None]] = {}  # offline build: no inventories

# -- notebooks -----------------------------------------------------------------------------
# The tests execute the notebooks (docs/build.py copies the executed ones in); never here.
nb_execution_mode = "off"
nb_output_stderr = "remove"  # progress bars
nb_merge_streams = True
myst_enable_extensions = ["dollarmath"]
suppress_warnings = ["mystnb.unknown_mime_type"]  # the raw Plotly JSON next to its HTML

# -- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "fastkmeans"
html_static_path = ["_static"]
html_js_files = ["plotly.min.js", "plotly-resize.js"]  # plotly.js: copied from the package
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


def _copy_plotly_js(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        shutil.copyfile(src, Path(app.outdir) / "_static" / "plotly.min.js")


#: Parts of the API that land separately; each is documented once it exists.
_OPTIONAL_API = (
    ("Mini-batch k-means", "fastkmeans", "MiniBatchKMeansParams",
     ".. autoclass:: fastkmeans.MiniBatchKMeansParams\n   :members: fit, replace\n"),
    ("scikit-learn adapter", "fastkmeans.sklearn", None,
     ".. automodule:: fastkmeans.sklearn\n\n"
     ".. autoclass:: fastkmeans.sklearn.KMeans\n"
     "   :members: fit, fit_predict, predict, fit_transform, transform, score\n\n"
     ".. autoclass:: fastkmeans.sklearn.MiniBatchKMeans\n"
     "   :members: fit, partial_fit, fit_predict, predict, fit_transform, transform, score\n"),
    ("Dask", "fastkmeans.dask", None, ".. automodule:: fastkmeans.dask\n   :members:\n"),
)  # fmt: skip


def _exists(module: str, name: str | None) -> bool:
    if importlib.util.find_spec(module) is None:
        return False
    return name is None or hasattr(importlib.import_module(module), name)


def _append_optional_api(app, docname: str, source: list[str]) -> None:
    """Append the sections of :data:`_OPTIONAL_API` whose code is in this checkout."""
    if docname != "api":
        return
    for heading, module, name, body in _OPTIONAL_API:
        if _exists(module, name):
            source[0] += f"\n\n{heading}\n{'-' * len(heading)}\n\n{body}"


#: Pages of index.md's own toctree; any other top-level page gets a "More" toctree.
_INDEXED = {"index", "user-guide", "api", "benchmarks"}


def _index_other_pages(app, docname: str, source: list[str]) -> None:
    """List pages that other parts of the project add to ``docs/`` (a scaling guide, ...)."""
    if docname != "index":
        return
    srcdir = Path(app.srcdir)
    others = sorted(
        p.stem for p in [*srcdir.glob("*.md"), *srcdir.glob("*.rst")] if p.stem not in _INDEXED
    )
    if others:
        source[0] += "\n```{toctree}\n:maxdepth: 1\n:caption: More\n\n" + "\n".join(others)
        source[0] += "\n```\n"


def setup(app) -> None:
    app.connect("build-finished", _copy_plotly_js)
    app.connect("source-read", _append_optional_api)
    app.connect("source-read", _index_other_pages)
