"""Plotly figures for looking at clusters. Every function returns a ``go.Figure`` and never
shows or writes it; call ``fig.show()`` or ``fig.write_html(path)`` yourself.

This module imports Plotly, so ``import fastkmeans`` does not import it: ``fastkmeans.plot``
is loaded the first time it is used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike
from plotly.subplots import make_subplots

from . import _plot_sizes
from ._plot_data import (
    _check_points,
    _elbow_index,
    _project,
    silhouette_samples,
    stratified_sample,
)
from ._validation import is_sparse
from .model import KMeansModel

__all__ = [
    "PALETTE",
    "clusters",
    "convergence",
    "decision_regions",
    "elbow",
    "silhouette",
    "silhouette_samples",
    "stratified_sample",
]

#: One colour per cluster, cycled for k > 10 (Plotly's qualitative "Plotly" palette).
PALETTE = (
    "#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A",
    "#19D3F3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52",
)  # fmt: skip

#: Above this many points :func:`clusters` draws a stratified sample by default.
MAX_POINTS = 200_000

#: :func:`silhouette` computes on at most this many points unless ``sample_size`` says otherwise.
SILHOUETTE_SAMPLE = 10_000

_TEMPLATE = "plotly_white"


def _colour(label: int) -> str:
    """The colour of a cluster label: the same label gets the same colour in every figure."""
    return PALETTE[int(label) % len(PALETTE)]


def clusters(
    X: ArrayLike,
    labels: ArrayLike,
    centroids: ArrayLike | None = None,
    title: str | None = None,
    *,
    max_points: int | None = MAX_POINTS,
    sizes: bool = False,
    size_limits: tuple[int | None, int | None] | None = None,
) -> go.Figure:
    """Scatter of ``X`` coloured by cluster: 2-D, 3-D, or a projection for d > 3 (PCA of
    dense data, a truncated SVD of sparse data).

    Parameters
    ----------
    X : array-like or scipy sparse matrix or array of shape (n, d), d >= 2
        The points. For d > 3 dense points are projected on their first two principal
        components and the axis titles give the share of variance each one explains. Sparse
        points (CSR, CSC, COO, ... with d > 3) are projected, without centering and without
        ever making an n x d dense array, on their first two right singular vectors, found by
        a seeded randomized SVD (every product sparse x dense); the axis titles give the
        share of the squared Frobenius norm of ``X`` each one holds. The caller's matrix is
        never modified; sparse ``X`` with d <= 3 is drawn like ``X.toarray()``.
    labels : array-like of shape (n,), int
        Cluster of each point; one trace, colour and legend entry per distinct label, colours
        from :data:`PALETTE`.
    centroids : array-like of shape (k, d), optional
        Drawn as black crosses (projected with the same directions as ``X`` when d > 3).
    title : str, optional
        Figure title.
    max_points : int or None, keyword-only
        Above this many points a stratified sample is drawn (:func:`stratified_sample`), every
        cluster kept, and the figure says how many points it shows. ``None`` draws every point.
    sizes : bool, keyword-only
        Add a panel beside the scatter with a bar per cluster: its number of points (all of
        them, sampled or not; clusters ``0 .. k-1``, k from ``centroids`` when given).
    size_limits : (int or None, int or None), keyword-only
        ``(size_min, size_max)`` of a size-constrained fit, drawn as dashed lines on the size
        panel (implies ``sizes=True``); bars outside the limits are outlined in red. For a
        model: ``size_limits=(model.params.size_min, model.params.size_max)``.

    Returns
    -------
    plotly.graph_objects.Figure
        WebGL traces (``Scattergl``) in 2-D, ``Scatter3d`` in 3-D; hover shows the row index in
        ``X``, the coordinates drawn (projected ones for d > 3) and the cluster. With the
        size panel, a last ``Bar`` trace; ``layout.meta["sizes"]`` holds the sizes.

    Raises
    ------
    ValueError
        When the shapes of ``X``, ``labels`` and ``centroids`` do not fit together, or sparse
        ``X`` stores NaN or infinity.

    Examples
    --------
    >>> import fastkmeans as fk
    >>> X = fk.datasets.make_tutorial_data(seed=0)
    >>> model = fk.KMeansParams(3, seed=0).fit(X)
    >>> fig = fk.plot.clusters(X, model.labels, model.centroids)
    >>> len(fig.data), fig.data[0].type
    (4, 'scattergl')

    Sparse data, such as a TF-IDF matrix, is projected with a truncated SVD:

    >>> import scipy.sparse as sp
    >>> T = sp.random(500, 2000, density=0.01, format="csr", random_state=0)
    >>> model = fk.KMeansParams(4, metric="cosine", seed=0).fit(T)
    >>> fig = fk.plot.clusters(T, model.labels, model.centroids)
    >>> fig.layout.xaxis.title.text
    'SVD 1 (...% of the squared norm)'

    With size limits, a bar of cluster sizes beside the scatter:

    >>> sized = fk.KMeansParams(3, seed=0, size_min=240, size_max=260).fit(X)
    >>> fig = fk.plot.clusters(X, sized.labels, sized.centroids, size_limits=(240, 260))
    >>> fig.data[-1].type, fig.layout.meta["sizes"] == sized.sizes.tolist()
    ('bar', True)
    """
    Xa, la, ca = _check_points(X, labels, centroids)
    limits = _plot_sizes.check_limits(size_limits)
    panel = sizes or limits is not None
    n = Xa.shape[0]
    Xa, ca, axis_titles = _project(Xa, ca)
    d, rows = len(axis_titles), np.arange(n)
    note = None
    if max_points is not None and n > max_points:
        rows = stratified_sample(la, max_points)
        note = f"showing {rows.shape[0]:,} of {n:,} points (every cluster sampled)"
    three = d == 3
    axes = ["x", "y", "z"][:d]
    coords = "<br>".join(f"{t} = %{{{a}:.4g}}" for t, a in zip(axis_titles, axes))
    hover = f"row %{{customdata[0]}}<br>{coords}<br>cluster %{{customdata[1]}}<extra></extra>"
    fig = _plot_sizes.figure(three) if panel else go.Figure()
    place = dict(row=1, col=1) if panel else {}
    for cluster in np.unique(la):
        idx = rows[la[rows] == cluster]
        pts = Xa[idx]
        common: dict[str, Any] = dict(
            mode="markers",
            name=f"cluster {cluster}",
            legendgroup=str(cluster),
            customdata=np.column_stack([idx, la[idx]]),
            hovertemplate=hover,
            marker=dict(color=_colour(cluster), size=3 if three else 6, opacity=0.8),
        )
        if three:
            fig.add_trace(go.Scatter3d(x=pts[:, 0], y=pts[:, 1], z=pts[:, 2], **common), **place)
        else:
            fig.add_trace(go.Scattergl(x=pts[:, 0], y=pts[:, 1], **common), **place)
    if ca is not None:
        marker = dict(color="black", symbol="x", size=6 if three else 14, line=dict(width=1))
        center: dict[str, Any] = dict(
            mode="markers",
            name="centroids",
            marker=marker,
            text=[str(j) for j in range(ca.shape[0])],
            hovertemplate=f"centroid %{{text}}<br>{coords}<extra></extra>",
        )
        if three:
            fig.add_trace(go.Scatter3d(x=ca[:, 0], y=ca[:, 1], z=ca[:, 2], **center), **place)
        else:
            fig.add_trace(go.Scattergl(x=ca[:, 0], y=ca[:, 1], **center), **place)
    if panel:
        k = max(int(la.max()) + 1, 0 if ca is None else ca.shape[0])
        colours = [_colour(j) for j in range(k)]
        counts = _plot_sizes.add_bars(fig, la, k, limits, colours)
        fig.update_layout(meta={"sizes": counts.tolist()})
    fig.update_layout(title=title, legend_title_text="cluster", template=_TEMPLATE)
    if three:
        fig.update_layout(
            scene=dict(xaxis_title=axis_titles[0], yaxis_title=axis_titles[1],
                       zaxis_title=axis_titles[2])
        )  # fmt: skip
    else:
        fig.update_layout(xaxis_title=axis_titles[0], yaxis_title=axis_titles[1])
    if note is not None:
        fig.add_annotation(text=note, xref="paper", yref="paper", x=0, y=1.0, yanchor="bottom",
                           showarrow=False, font=dict(size=11, color="gray"))  # fmt: skip
    return fig


def convergence(model: KMeansModel) -> go.Figure:
    """Inertia and squared centroid shift per iteration of the winning run.

    Parameters
    ----------
    model : KMeansModel
        A fitted model; its :attr:`~fastkmeans.KMeansModel.history` is drawn.

    Returns
    -------
    plotly.graph_objects.Figure
        Two stacked panels sharing the iteration axis: inertia (top) and the sum of squared
        centroid shifts on a log scale (bottom). Hover adds the labels changed and clusters
        re-seeded in each iteration; iterations that re-seeded empty clusters are ringed, and
        the title states why the run stopped.

    Examples
    --------
    >>> import fastkmeans as fk
    >>> X = fk.datasets.make_tutorial_data(seed=0)
    >>> model = fk.KMeansParams(3, seed=42, tol=1e-5).fit(X)
    >>> fig = fk.plot.convergence(model)
    >>> len(fig.data[0].y) == model.n_iter
    True
    """
    if not isinstance(model, KMeansModel):
        raise TypeError(f"model must be a fastkmeans.KMeansModel, got {type(model).__name__}")
    h = model.history
    it = np.arange(1, len(h) + 1)
    extra = np.column_stack([h.labels_changed, h.n_reseeded])
    hover = "labels changed %{customdata[0]}<br>re-seeded %{customdata[1]}<extra></extra>"
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    fig.add_trace(
        go.Scatter(x=it, y=h.inertia, mode="lines+markers", name="inertia", customdata=extra,
                   hovertemplate="iteration %{x}<br>inertia %{y:.6g}<br>" + hover,
                   line=dict(color=PALETTE[0])),
        row=1, col=1,
    )  # fmt: skip
    shift = np.where(h.center_shift > 0, h.center_shift, np.nan)
    fig.add_trace(
        go.Scatter(x=it, y=shift, mode="lines+markers", name="centroid shift", customdata=extra,
                   hovertemplate="iteration %{x}<br>shift %{y:.3g}<br>" + hover,
                   line=dict(color=PALETTE[1])),
        row=2, col=1,
    )  # fmt: skip
    reseeded = h.n_reseeded > 0
    if reseeded.any():
        fig.add_trace(
            go.Scatter(x=it[reseeded], y=h.inertia[reseeded], mode="markers",
                       name="empty cluster re-seeded",
                       marker=dict(size=14, color="rgba(0,0,0,0)",
                                   line=dict(color="black", width=2))),
            row=1, col=1,
        )  # fmt: skip
    reasons = {
        "strict": "no label changed",
        "tol": f"centroid shift within tol = {model.params.tol:g} (relative)",
        "max_iter": f"reached max_iter = {model.params.max_iter} without converging",
        "optimal": "the exact optimum (algorithm='optimal', no iterations)",
    }
    reason = reasons.get(model.stop_reason, model.stop_reason)
    fig.update_layout(
        title=f"Convergence: {model.n_iter} iterations, stopped: {reason}",
        template=_TEMPLATE,
        hovermode="x unified",
    )
    fig.update_yaxes(title_text="inertia", row=1, col=1)
    fig.update_yaxes(title_text="Σ squared shift", type="log", row=2, col=1)
    fig.update_xaxes(title_text="iteration", dtick=1 if len(h) <= 20 else None, row=2, col=1)
    return fig


def elbow(X: ArrayLike, ks: Iterable[int], *, progress: bool = True, **params: Any) -> go.Figure:
    """Inertia versus k from one call, with the elbow marked.

    Parameters
    ----------
    X : array-like or scipy sparse matrix or array of shape (n, d)
        Data, validated once by the first fit; a sparse matrix is fitted as it is, never
        densified.
    ks : iterable of int
        Values of k to fit, each >= 1 and <= n; drawn in increasing order.
    progress : bool, keyword-only
        A tqdm.auto bar over the values of k (terminal and Jupyter).
    **params
        Any other :class:`~fastkmeans.KMeansParams` field (``seed``, ``n_init``, ``tol``, ...),
        the same for every k.

    Returns
    -------
    plotly.graph_objects.Figure
        ``layout.meta`` holds ``{"ks": [...], "inertia": [...], "elbow": k or None}``.

    Notes
    -----
    The elbow is the kneedle point of the curve of log inertia against k, both scaled to
    [0, 1]: the k farthest below the straight line from the first point to the last. It needs
    at least three values of k and is a first guess; check it with :func:`silhouette`.

    Examples
    --------
    >>> import fastkmeans as fk
    >>> X = fk.datasets.make_tutorial_data(seed=0)
    >>> fig = fk.plot.elbow(X, range(1, 8), seed=0, progress=False)
    >>> fig.layout.meta["elbow"]
    3
    """
    from .params import KMeansParams

    values = sorted({int(k) for k in ks})
    if not values:
        raise ValueError("ks must hold at least one value of k")
    if "n_clusters" in params:
        raise TypeError("elbow() takes the values of k from ks, not n_clusters")
    fits = [KMeansParams(k, **params) for k in values]  # validates every k before any work
    Xa = X if is_sparse(X) else np.asarray(X)
    inertia = np.empty(len(values), dtype=np.float64)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(values), desc="elbow", unit="k")
    try:
        for i, p in enumerate(fits):
            if bar is not None:
                bar.set_postfix(k=values[i], refresh=False)
            inertia[i] = p.fit(Xa).inertia
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    knee = _elbow_index(np.asarray(values, dtype=np.float64), inertia)
    fig = go.Figure(
        go.Scatter(x=values, y=inertia, mode="lines+markers", name="inertia",
                   line=dict(color=PALETTE[0]),
                   hovertemplate="k = %{x}<br>inertia %{y:.6g}<extra></extra>")
    )  # fmt: skip
    if knee is not None:
        fig.add_trace(
            go.Scatter(x=[values[knee]], y=[inertia[knee]], mode="markers", name="elbow",
                       marker=dict(size=16, color="rgba(0,0,0,0)",
                                   line=dict(color=PALETTE[1], width=3)),
                       hovertemplate="elbow at k = %{x}<extra></extra>")
        )  # fmt: skip
        fig.add_annotation(x=values[knee], y=inertia[knee], text=f"elbow: k = {values[knee]}",
                           ax=40, ay=-40, arrowcolor=PALETTE[1])  # fmt: skip
    fig.update_layout(
        title="Elbow: inertia versus k",
        xaxis_title="k (number of clusters)",
        yaxis_title="inertia",
        template=_TEMPLATE,
        meta={"ks": values, "inertia": inertia.tolist(),
              "elbow": None if knee is None else values[knee]},
    )  # fmt: skip
    fig.update_xaxes(dtick=1 if len(values) <= 20 else None)
    return fig


def silhouette(
    X: ArrayLike, labels: ArrayLike, sample_size: int | None = None, *, seed: int = 0
) -> go.Figure:
    """Per-cluster silhouette profile: each cluster's coefficients sorted, with the mean marked.

    Parameters
    ----------
    X : array-like of shape (n, d)
    labels : array-like of shape (n,), int, with at least 2 distinct values
    sample_size : int, optional
        Compute on a random sample of this many rows (the silhouette is O(n²) in time). None
        means all rows when n <= :data:`SILHOUETTE_SAMPLE` (10 000), otherwise a sample of that
        many.
    seed : int, keyword-only
        Seed of the sample.

    Returns
    -------
    plotly.graph_objects.Figure
        One filled band per cluster; ``layout.meta`` holds ``{"mean": float, "n": rows used}``.

    Examples
    --------
    >>> import fastkmeans as fk
    >>> X = fk.datasets.make_tutorial_data(seed=0)
    >>> model = fk.KMeansParams(3, seed=0).fit(X)
    >>> fig = fk.plot.silhouette(X, model.labels)
    >>> 0.0 < fig.layout.meta["mean"] < 1.0
    True
    """
    if is_sparse(X):
        raise TypeError("plot.silhouette needs dense X, got a scipy sparse matrix: pass the "
                        "dense rows of a sample, e.g. X[rows].toarray() with labels[rows]")
    Xa = np.asarray(X)
    la = np.asarray(labels)
    if Xa.ndim != 2 or la.shape != (Xa.shape[0],):
        raise ValueError(f"X (n, d) and labels (n,) do not fit: {Xa.shape} and {la.shape}")
    n = Xa.shape[0]
    limit = SILHOUETTE_SAMPLE if sample_size is None else int(sample_size)
    if limit < 2:
        raise ValueError(f"sample_size must be >= 2, got {sample_size}")
    if n > limit:
        rows = np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))
        Xa, la = Xa[rows], la[rows]
    s = silhouette_samples(Xa, la)
    mean = float(s.mean())
    fig = go.Figure()
    y0 = 0
    gap = max(2, s.shape[0] // 50)
    for cluster in np.unique(la):
        vals = np.sort(s[la == cluster])[::-1]
        ys = np.arange(y0, y0 + vals.shape[0])
        fig.add_trace(
            go.Scatter(x=np.r_[0.0, vals, 0.0], y=np.r_[y0, ys, ys[-1]], fill="toself",
                       mode="lines", line=dict(width=0.5, color=_colour(cluster)),
                       name=f"cluster {cluster} ({vals.shape[0]}, mean {vals.mean():.2f})",
                       hoverinfo="name")
        )  # fmt: skip
        y0 += vals.shape[0] + gap
    fig.add_vline(x=mean, line=dict(color="black", dash="dash"),
                  annotation_text=f"mean {mean:.3f}", annotation_position="top")  # fmt: skip
    sampled = f" (sample of {s.shape[0]:,} of {n:,} points)" if s.shape[0] < n else ""
    fig.update_layout(
        title=f"Silhouette profile{sampled}",
        xaxis_title="silhouette coefficient",
        yaxis=dict(showticklabels=False, title="points, sorted within each cluster"),
        template=_TEMPLATE,
        meta={"mean": mean, "n": int(s.shape[0])},
    )
    fig.update_xaxes(range=[min(-0.1, float(s.min()) - 0.05), 1.0])
    return fig


def decision_regions(model: KMeansModel, X: ArrayLike, *, resolution: int = 200) -> go.Figure:
    """The Voronoi regions of a 2-D model behind a scatter of ``X``.

    Parameters
    ----------
    model : KMeansModel
        A model fitted on 2 features.
    X : array-like of shape (n, 2)
        Points to draw, coloured by ``model.predict(X)``.
    resolution : int, keyword-only
        Grid cells along each axis (the grid spans the points plus a 5 % margin).

    Returns
    -------
    plotly.graph_objects.Figure
        A heatmap of the predicted cluster of each grid cell, in the cluster colours, under
        the :func:`clusters` figure.

    Raises
    ------
    ValueError
        When the model or ``X`` does not have exactly 2 features.

    Examples
    --------
    >>> import fastkmeans as fk
    >>> X = fk.datasets.make_tutorial_data(seed=0)
    >>> model = fk.KMeansParams(3, seed=0).fit(X)
    >>> fig = fk.plot.decision_regions(model, X)
    >>> fig.data[0].type
    'heatmap'
    """
    if not isinstance(model, KMeansModel):
        raise TypeError(f"model must be a fastkmeans.KMeansModel, got {type(model).__name__}")
    Xa = np.asarray(X, dtype=np.float64)
    if model.n_features != 2 or Xa.ndim != 2 or Xa.shape[1] != 2 or Xa.shape[0] == 0:
        raise ValueError(
            f"decision_regions needs 2-D data and a 2-feature model, got X of shape {Xa.shape} "
            f"and a model with {model.n_features} features"
        )
    if resolution < 2:
        raise ValueError(f"resolution must be >= 2, got {resolution}")
    lo, hi = Xa.min(axis=0), Xa.max(axis=0)
    pad = 0.05 * np.maximum(hi - lo, 1e-12)
    gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    grid = np.column_stack([np.tile(gx, resolution), np.repeat(gy, resolution)])
    z = np.full(grid.shape[0], np.nan, dtype=np.float32)
    ok = np.any(grid != 0.0, axis=1) if model.params.metric == "cosine" else slice(None)
    z[ok] = model.predict(grid[ok])
    k = model.n_clusters
    scale = []
    for j in range(k):
        colour = _colour(j)
        scale += [[j / k, colour], [(j + 1) / k, colour]]
    labels = model.predict(Xa)
    fig = clusters(Xa, labels, model.centroids, title="Decision regions (Voronoi cells)")
    fig.add_trace(
        go.Heatmap(x=gx, y=gy, z=z.reshape(resolution, resolution), colorscale=scale,
                   zmin=-0.5, zmax=k - 0.5, opacity=0.25, showscale=False, hoverinfo="skip",
                   name="regions")
    )  # fmt: skip
    fig.data = (fig.data[-1], *fig.data[:-1])  # regions behind the points
    fig.update_xaxes(range=[gx[0], gx[-1]])
    fig.update_yaxes(range=[gy[0], gy[-1]])
    return fig
