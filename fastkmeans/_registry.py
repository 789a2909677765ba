"""The parameter classes by name, for :meth:`fastkmeans.KMeansModel.load`.

``params.py`` registers its classes here when it is imported (``import fastkmeans`` does
it); ``model.py`` reads them, so that the model does not import the params module, which
imports the driver, which builds models: the import graph stays a DAG.
"""

from __future__ import annotations

from typing import Any

PARAMS_CLASSES: dict[str, Any] = {}


def register(cls: Any) -> Any:
    """Class decorator: make ``cls`` loadable by name."""
    PARAMS_CLASSES[cls.__name__] = cls
    return cls
