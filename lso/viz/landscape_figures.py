"""Figures of the surrogate's landscape: along a latent path (line) and over the PCA plane (contour)."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from lso.viz.landscape import PlaneLandscape


def path_profile_figure(t: np.ndarray, predicted: np.ndarray, actual: np.ndarray, metric: str,
                        hover: Sequence[str] | None = None, same_axis: bool = True) -> go.Figure:
    """Surrogate score ``predicted`` ``[k]`` and the table's ``actual`` ``[k]`` value of each decoded cell against
    the path position ``t`` ``[k]``. NaN ``actual`` entries (cells the table lacks) leave gaps. ``same_axis=False``
    puts the surrogate on a right-hand axis of its own (for a surrogate not in table units)."""
    t, predicted, actual = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (t, predicted, actual))
    if not len(t) == len(predicted) == len(actual):
        raise ValueError(f"need t, predicted and actual of one length, got {len(t)}, {len(predicted)}, {len(actual)}")
    text = list(hover) if hover is not None else None
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t, y=actual, mode="lines+markers", name=f"table {metric} (decoded cell)",
                             hovertext=text, line={"color": "crimson", "shape": "hv"}))
    fig.add_trace(go.Scatter(x=t, y=predicted, mode="lines+markers", name="surrogate (latent point)",
                             hovertext=text, line={"color": "#4c78a8"}, yaxis="y" if same_axis else "y2"))
    if not same_axis:
        fig.update_layout(yaxis2={"title": {"text": "surrogate"}, "overlaying": "y", "side": "right",
                                  "showgrid": False})
    fig.update_layout(xaxis_title="t (0 = start, 1 = end)", yaxis_title=metric, height=340,
                      legend={"orientation": "h", "y": -0.25}, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def plane_landscape_figure(landscape: PlaneLandscape, metric: str,
                           overlays: Mapping[str, np.ndarray] | None = None) -> go.Figure:
    """Filled contour of ``landscape.scores`` ``[gy, gx]`` over the plane, with each overlay (name -> coords
    ``[m, 2]``) drawn as a polyline with markers."""
    fig = go.Figure(go.Contour(x=landscape.xs, y=landscape.ys, z=landscape.scores, colorscale="Viridis",
                               colorbar={"title": {"text": f"surrogate {metric}"}}, ncontours=25,
                               hovertemplate="PC1 %{x:.2f}, PC2 %{y:.2f}<br>score %{z:.2f}<extra></extra>"))
    for name, coords in (overlays or {}).items():
        coords = np.asarray(coords, dtype=np.float64)
        fig.add_trace(go.Scatter(x=coords[:, 0], y=coords[:, 1], mode="lines+markers", name=name,
                                 line={"color": "crimson", "width": 2}, marker={"size": 6, "color": "crimson"}))
    fig.update_layout(xaxis_title="PC 1", yaxis_title="PC 2", height=520, showlegend=False,
                      margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig
