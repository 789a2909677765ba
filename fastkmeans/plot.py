"""Plotly figures for looking at clusters. Every function returns a ``go.Figure``."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike, NDArray

#: One colour per cluster, cycled for k > 10 (Plotly's qualitative "Plotly" palette).
PALETTE = (
    "#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A",
    "#19D3F3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52",
)


def _check_points(X: ArrayLike, labels: ArrayLike, centroids: ArrayLike | None) -> tuple[
    NDArray[np.float64], NDArray[np.int64], NDArray[np.float64] | None
]:
    Xa = np.asarray(X, dtype=np.float64)
    if Xa.ndim != 2 or Xa.shape[0] == 0 or Xa.shape[1] < 2:
        raise ValueError(
            f"X must be a 2-D array with at least 1 row and 2 columns, got shape {Xa.shape}"
        )
    la = np.asarray(labels)
    if la.shape != (Xa.shape[0],):
        raise ValueError(f"labels must have shape ({Xa.shape[0]},) to match X, got {la.shape}")
    if la.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers, got dtype {la.dtype}")
    ca = None
    if centroids is not None:
        ca = np.asarray(centroids, dtype=np.float64)
        if ca.ndim != 2 or ca.shape[1] != Xa.shape[1]:
            raise ValueError(
                f"centroids must have shape (k, {Xa.shape[1]}) to match X, got {ca.shape}"
            )
    return Xa, la.astype(np.int64), ca


def _pca(X: NDArray[np.float64], extra: NDArray[np.float64] | None) -> tuple[
    NDArray[np.float64], NDArray[np.float64] | None, NDArray[np.float64]
]:
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    ratio = s**2 / max(float((s**2).sum()), np.finfo(float).tiny)
    proj = (X - mean) @ vt[:2].T
    return proj, None if extra is None else (extra - mean) @ vt[:2].T, ratio[:2]


def clusters(
    X: ArrayLike,
    labels: ArrayLike,
    centroids: ArrayLike | None = None,
    title: str | None = None,
) -> go.Figure:
    """Scatter of ``X`` coloured by cluster: 2-D, 3-D, or a PCA projection for d > 3.

    Parameters
    ----------
    X : array-like of shape (n, d), d >= 2
    labels : array-like of shape (n,), int
    centroids : array-like of shape (k, d), optional
        Drawn as black crosses.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One WebGL trace per cluster (legend entry), plus one for the centroids.

    Raises
    ------
    ValueError
        When the shapes of ``X``, ``labels`` and ``centroids`` do not fit together.

    Examples
    --------
    >>> import fastkmeans as fk
    >>> X = fk.datasets.make_tutorial_data(seed=0)
    >>> model = fk.KMeansParams(3, seed=0).fit(X)
    >>> fig = fk.plot.clusters(X, model.labels, model.centroids)
    >>> len(fig.data)
    4
    """
    Xa, la, ca = _check_points(X, labels, centroids)
    d = Xa.shape[1]
    axes = ["x", "y", "z"]
    axis_titles = [f"x{i}" for i in range(min(d, 3))]
    if d > 3:
        Xa, ca, ratio = _pca(Xa, ca)
        axis_titles = [f"PC{i + 1} ({100 * r:.1f}% of variance)" for i, r in enumerate(ratio)]
        d = Xa.shape[1]
    three = d == 3
    fig = go.Figure()
    index = np.arange(Xa.shape[0])
    for j, cluster in enumerate(np.unique(la)):
        mask = la == cluster
        pts = Xa[mask]
        common: dict[str, Any] = dict(
            mode="markers",
            name=f"cluster {cluster}",
            customdata=np.column_stack([index[mask], la[mask]]),
            marker=dict(color=PALETTE[j % len(PALETTE)], size=3 if three else 5),
        )
        coords = " ".join(
            f"{t}=%{{{a}:.3g}}" for t, a in zip(axis_titles, axes[: 3 if three else 2])
        )
        common["hovertemplate"] = (
            f"row %{{customdata[0]}}<br>{coords}<br>cluster %{{customdata[1]}}<extra></extra>"
        )
        if three:
            fig.add_trace(go.Scatter3d(x=pts[:, 0], y=pts[:, 1], z=pts[:, 2], **common))
        else:
            fig.add_trace(go.Scattergl(x=pts[:, 0], y=pts[:, 1], **common))
    if ca is not None:
        marker = dict(color="black", symbol="x", size=6 if three else 12, line=dict(width=1))
        hover = "centroid %{text}<extra></extra>"
        text = [str(j) for j in range(ca.shape[0])]
        if three:
            fig.add_trace(go.Scatter3d(x=ca[:, 0], y=ca[:, 1], z=ca[:, 2], mode="markers",
                                       name="centroids", marker=marker, text=text,
                                       hovertemplate=hover))
        else:
            fig.add_trace(go.Scattergl(x=ca[:, 0], y=ca[:, 1], mode="markers", name="centroids",
                                       marker=marker, text=text, hovertemplate=hover))
    layout: dict[str, Any] = dict(title=title, legend_title_text="cluster", template="plotly_white")
    if three:
        layout["scene"] = dict(xaxis_title=axis_titles[0], yaxis_title=axis_titles[1],
                               zaxis_title=axis_titles[2])
    else:
        layout["xaxis_title"] = axis_titles[0]
        layout["yaxis_title"] = axis_titles[1]
    fig.update_layout(**layout)
    return fig
