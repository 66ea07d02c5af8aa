"""The figure of a search comparison on a pool (``lso search pool``): best-so-far report score against queries."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lso.search.pool_compare import PoolComparison
from lso.viz.search_figures import PALETTE


def pool_curves_figure(comparison: PoolComparison, report: str = "report") -> go.Figure:
    """Per method, the mean over seeds (line) +- one standard deviation (band) of the report score of the
    best-by-signal cell after k queries, against k; the pool's best report is a dotted line."""
    frame = comparison.curves()
    fig = go.Figure()
    for k, (method, part) in enumerate(frame.groupby("method", sort=False)):
        x = part["queries"].to_numpy()
        mean, std = part["report_mean"].to_numpy(), part["report_std"].to_numpy()
        colour = PALETTE[k % len(PALETTE)]
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([mean + std, (mean - std)[::-1]]),
                                 fill="toself", fillcolor=colour, opacity=0.15, line={"width": 0}, hoverinfo="skip",
                                 showlegend=False, legendgroup=method))
        fig.add_trace(go.Scatter(x=x, y=mean, mode="lines", name=method, line={"color": colour}, legendgroup=method))
    fig.add_hline(y=float(comparison.pool.report.max()), line_dash="dot", annotation_text="pool's best")
    seeds = len(next(iter(comparison.traces.values())))
    fig.update_layout(
        title=f"Best-so-far {report} on a pool of {len(comparison.pool):,} {comparison.pool.space.name} cells "
              f"(mean +- std over {seeds} seeds)",
        xaxis_title="queries", yaxis_title=report, template="plotly_white",
    )
    return fig
