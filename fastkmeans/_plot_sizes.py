"""The cluster-size panel of :func:`fastkmeans.plot.clusters`: a bar per cluster beside the
scatter, with the size limits of a constrained fit drawn as lines."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import plotly.graph_objects as go
from numpy.typing import NDArray
from plotly.subplots import make_subplots


def check_limits(size_limits: Any) -> tuple[int | None, int | None] | None:
    """``size_limits`` as ``(size_min, size_max)`` (None for a missing limit), or None."""
    if size_limits is None:
        return None
    try:
        lo, hi = size_limits
    except (TypeError, ValueError):
        raise ValueError(
            f"size_limits must be a pair (size_min, size_max), got {size_limits!r}"
        ) from None
    for v in (lo, hi):
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral)):
            raise ValueError(f"size_limits must hold ints or None, got {size_limits!r}")
    return (None if lo is None else int(lo)), (None if hi is None else int(hi))


def figure(three: bool) -> go.Figure:
    """A figure with the scatter on the left (a 3-D scene for ``three``) and the bars
    on the right."""
    left = {"type": "scene"} if three else {"type": "xy"}
    return make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.72, 0.28],
        horizontal_spacing=0.08,
        specs=[[left, {"type": "xy"}]],
    )


def add_bars(
    fig: go.Figure,
    labels: NDArray[np.int64],
    n_clusters: int,
    limits: tuple[int | None, int | None] | None,
    colours: list[str],
) -> NDArray[np.int64]:
    """Bars of the number of points in each cluster (every point, not only those drawn)
    in the right panel, the limits as dashed lines labelled with their value, bars out
    of the limits outlined in red. Returns the sizes."""
    if labels.min() < 0:
        raise ValueError(f"the size panel needs labels >= 0, got {int(labels.min())}")
    sizes = np.bincount(labels, minlength=n_clusters)
    ids = [str(j) for j in range(sizes.shape[0])]
    lo, hi = limits if limits is not None else (None, None)
    outside = [(lo is not None and s < lo) or (hi is not None and s > hi) for s in sizes]
    fig.add_trace(
        go.Bar(x=ids, y=sizes, name="sizes", showlegend=False,
               marker=dict(color=colours[: sizes.shape[0]],
                           line=dict(color=["red" if o else "rgba(0,0,0,0)" for o in outside],
                                     width=2)),
               hovertemplate="cluster %{x}<br>%{y} points<extra></extra>"),
        row=1, col=2,
    )  # fmt: skip
    axes = fig.get_subplot(1, 2)  # "x"/"y" next to a 3-D scene, "x2"/"y2" next to 2-D
    xref = axes.xaxis.plotly_name.replace("axis", "")
    yref = axes.yaxis.plotly_name.replace("axis", "")
    for value, name, side in ((lo, "size_min", "top"), (hi, "size_max", "bottom")):
        if value is not None:  # add_hline cannot place lines beside a 3-D scene
            fig.add_shape(type="line", xref=f"{xref} domain", x0=0, x1=1, yref=yref, y0=value,
                          y1=value, line=dict(color="black", dash="dash", width=1))  # fmt: skip
            fig.add_annotation(xref=f"{xref} domain", x=0, yref=yref, y=value,
                               text=f"{name} = {value:,}", showarrow=False, xanchor="left",
                               yanchor=side, font=dict(size=11),
                               bgcolor="rgba(255,255,255,0.7)")  # fmt: skip
    fig.update_xaxes(title_text="cluster", type="category", row=1, col=2)
    fig.update_yaxes(title_text="points", rangemode="tozero", row=1, col=2)
    return sizes
