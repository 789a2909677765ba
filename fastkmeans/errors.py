"""Exceptions and warnings raised by fastkmeans."""

from __future__ import annotations

from typing import Any


class KMeansParamsError(ValueError):
    """An invalid parameter value; ``field`` names the parameter.

    Parameters
    ----------
    field : str
        The name of the offending parameter.
    problem : str
        What is wrong with it, in words.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.field, self.problem))


class KMeansParamsTypeError(KMeansParamsError, TypeError):
    """A parameter of the wrong type; both a ``ValueError`` and a ``TypeError``."""


class ConvergenceWarning(UserWarning):
    """The fit could not do what was asked of it exactly (for example fewer distinct
    points than clusters)."""


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning raised from here point at the first frame
    outside fastkmeans (and outside scikit-learn's wrappers, for the adapter): the user's
    own line, however deep the call came."""
    import sys

    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] in (
        "fastkmeans",
        "sklearn",
    ):
        frame = frame.f_back
        level += 1
    return level


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` pointing at the user's line (see :func:`user_stacklevel`)."""
    import warnings

    warnings.warn(message, category, stacklevel=user_stacklevel())
