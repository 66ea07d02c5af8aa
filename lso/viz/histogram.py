"""The distribution of one benchmark metric over the cells of a table."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import plotly.graph_objects as go


def metric_histogram(values: np.ndarray, metric: str, *, marks: Mapping[str, float] | None = None,
                     bins: int = 60) -> go.Figure:
    """Histogram of ``values`` ``[n]`` (NaNs dropped) in ``bins`` bins, x axis titled ``metric``.

    ``marks`` (label -> value) adds a labelled vertical line per entry, e.g. the selected cell's value.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    values = values[np.isfinite(values)]
    fig = go.Figure(go.Histogram(x=values, nbinsx=bins, name=metric, marker={"color": "#4c78a8"},
                                 hovertemplate=f"{metric}: %{{x}}<br>cells: %{{y}}<extra></extra>"))
    for label, value in (marks or {}).items():
        if np.isfinite(value):
            fig.add_vline(x=float(value), line={"color": "crimson", "width": 2, "dash": "dash"},
                          annotation_text=label, annotation_position="top")
    fig.update_layout(xaxis_title=metric, yaxis_title="cells", bargap=0.02, height=360, showlegend=False,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig
