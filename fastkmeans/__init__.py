"""fastkmeans: exact k-means on Numba kernels, with Plotly figures.

>>> import fastkmeans as fk
>>> X = fk.datasets.make_tutorial_data(seed=0)
>>> model = fk.KMeansParams(3, seed=42).fit(X)
"""

from __future__ import annotations

from typing import Any

from . import datasets
from .errors import ConvergenceWarning, KMeansParamsError
from .model import FitHistory, KMeansModel
from .params import KMeansParams, MiniBatchKMeansParams

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "FitHistory",
    "KMeansModel",
    "KMeansParams",
    "KMeansParamsError",
    "MiniBatchKMeansParams",
    "__version__",
    "datasets",
    "plot",
]


def __getattr__(name: str) -> Any:
    # Plotly is imported only when a figure is asked for.
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
