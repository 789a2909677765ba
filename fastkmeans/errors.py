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
