"""The latent map: cells as points on a 2-D plane of the latent space, coloured by a metric, with overlays."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

MISSING_COLOUR = "rgba(160, 160, 160, 0.5)"


def latent_map_figure(coords: np.ndarray, values: np.ndarray, hover: Sequence[str], metric: str,
                      title: str = "", axis_titles: tuple[str, str] = ("PC 1", "PC 2"),
                      ids: Sequence[int] | None = None) -> go.Figure:
    """A WebGL scatter of ``coords`` ``[n, 2]`` coloured by ``values`` ``[n]`` (colour bar titled ``metric``; the
    colour scale spans the 5th percentile to the maximum, so a few outliers do not wash out the rest).

    ``hover[i]`` is the hover text of point ``i`` (plotly HTML, e.g. ``"arch<br>acc: 91.2"``). Points whose value is
    NaN or infinite (cells the table lacks) are drawn grey in their own trace, named "not in table". ``ids[i]``
    (e.g. the cell's official index) is point ``i``'s ``customdata``, so a click or selection names the cell whatever
    trace it falls in.
    """
    coords = np.asarray(coords, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    hover = list(hover)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"coords must have shape [n, 2], got {coords.shape}")
    if len(values) != len(coords) or len(hover) != len(coords):
        raise ValueError(f"need one value and one hover text per point: {len(coords)} points, "
                         f"{len(values)} values, {len(hover)} hover texts")
    known = np.isfinite(values)
    ids = np.arange(len(coords)) if ids is None else np.asarray(ids)
    fig = go.Figure()
    if (~known).any():
        idx = np.flatnonzero(~known)
        fig.add_trace(go.Scattergl(
            x=coords[idx, 0], y=coords[idx, 1], mode="markers", name="not in table",
            marker={"size": 4, "color": MISSING_COLOUR}, hovertext=[hover[i] for i in idx], hoverinfo="text",
            customdata=ids[idx]))
    idx = np.flatnonzero(known)
    lo, hi = (np.quantile(values[idx], [0.05, 1.0]) if len(idx) else (0.0, 1.0))
    fig.add_trace(go.Scattergl(
        x=coords[idx, 0], y=coords[idx, 1], mode="markers", name=metric,
        marker={"size": 4, "color": values[idx], "colorscale": "Viridis", "showscale": True,
                "cmin": float(lo), "cmax": float(hi),
                "colorbar": {"title": {"text": metric}}},
        hovertext=[hover[i] for i in idx], hoverinfo="text", customdata=ids[idx]))
    fig.update_layout(title=title or None, xaxis_title=axis_titles[0], yaxis_title=axis_titles[1], showlegend=False,
                      margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10}, height=520)
    return fig


def add_path_trace(fig: go.Figure, coords: np.ndarray, hover: Sequence[str], name: str = "path",
                   colour: str = "crimson") -> go.Figure:
    """Draw a polyline through ``coords`` ``[k, 2]`` on ``fig`` (in place, also returned), its ends marked: the
    start as a square, the end as a star. ``hover[i]`` labels point ``i``."""
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2 or len(coords) != len(hover):
        raise ValueError(f"a path needs coords [k, 2] and k hover texts, got {coords.shape} and {len(hover)}")
    symbols = ["circle"] * len(coords)
    if symbols:
        symbols[0], symbols[-1] = "square", "star"
    sizes = [7] * len(coords)
    if sizes:
        sizes[0] = sizes[-1] = 14
    fig.add_trace(go.Scattergl(  # WebGL like the map: an SVG trace would be drawn under the WebGL points
        x=coords[:, 0], y=coords[:, 1], mode="lines+markers", name=name,
        line={"color": colour, "width": 2}, marker={"color": colour, "symbol": symbols, "size": sizes,
                                                    "line": {"color": "white", "width": 1}},
        hovertext=list(hover), hoverinfo="text"))
    return fig
