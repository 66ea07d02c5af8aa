"""Figures of search runs: best-so-far curves (finished runs, live runs, a comparison's medians over seeds) and a
run's queries drawn over the latent map."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from lso.bench.metric_info import MetricInfo
from lso.jobs import ProgressEvent
from lso.oracle import Evaluation
from lso.search.compare import Comparison
from lso.search.result import SearchResult
from lso.space import index_of

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def best_so_far_figure(results: Sequence[SearchResult], optimum: Evaluation | None = None, *,
                       signal_info: MetricInfo | None = None, report_info: MetricInfo | None = None) -> go.Figure:
    """Per run: the report of the best-by-signal cell after k queries (solid) and that best signal (dotted),
    against k = 1..n; hovering names that cell (its arch and query), and each point carries its official index as
    ``customdata`` (what a click selects). A run's pre-charged labels end at a dashed vertical line; ``optimum``
    (the table's best cell by signal) is a dotted horizontal line at its report. ``signal_info`` / ``report_info`` (direction and scale)
    name the axis with its unit ("%" only for percent metrics) and format the optimum."""
    fig = go.Figure()
    for k, result in enumerate(results):
        curve = result.best_so_far()
        x = np.arange(1, len(curve) + 1)
        colour = PALETTE[k % len(PALETTE)]
        best = [result.evaluations[int(p)] for p in curve.position]
        hover = [f"{result.method}, after {k + 1} queries<br>best: {ev.cell.to_string()} (query {int(p) + 1})<br>"
                 f"{result.signal_name}: {ev.signal:.4g}<br>{result.report_name}: {ev.report:.4g}"
                 for k, (ev, p) in enumerate(zip(best, curve.position))]
        ids = [index_of(ev.cell) for ev in best]  # a click on the curve names its cell (the app opens it)
        for values, metric, dash in ((curve.report, result.report_name, None),
                                     (curve.signal, result.signal_name, "dot")):
            fig.add_trace(go.Scatter(x=x, y=values, mode="lines+markers", name=f"{result.method} ({metric})",
                                     line={"color": colour, "shape": "hv", "dash": dash}, marker={"size": 3},
                                     legendgroup=result.method, hovertext=hover, hoverinfo="text", customdata=ids))
        if result.precharged:
            fig.add_vline(x=result.precharged + 0.5, line={"color": colour, "dash": "dash", "width": 1},
                          annotation_text=f"{result.method}: run's labels", annotation_position="bottom right")
    if optimum is not None:
        shown = report_info.format(optimum.report) if report_info is not None else f"{optimum.report:.4g}"
        fig.add_hline(y=optimum.report, line_dash="dot", line_color="grey",
                      annotation_text=f"table optimum by signal: {shown}")
    first = results[0] if results else None
    protocol = " (ORACLE PROTOCOL: the search saw the reported metric)" if first and first.oracle_protocol else ""
    fig.update_layout(
        title=f"Best-so-far by signal{protocol}<br><sub>solid: report of the best-by-signal cell; dotted: its "
              "signal</sub>",
        xaxis_title="queries (labelled cells seen)",
        yaxis_title=_value_axis(first, signal_info, report_info),
        template="plotly_white",
        height=420,
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


def _value_axis(first: SearchResult | None, signal_info: MetricInfo | None, report_info: MetricInfo | None) -> str:
    """``cifar10_test / cifar10_valid (%)``: the metrics drawn, with their unit when they share one."""
    if first is None:
        return "value"
    names = first.report_name if first.oracle_protocol else f"{first.report_name} / {first.signal_name}"
    units = {info.unit for info in (signal_info, report_info) if info is not None}
    return f"{names} ({units.pop()})" if len(units) == 1 and "" not in units else names


def comparison_curves_figure(comparison: Comparison) -> go.Figure:
    """A comparison's best-so-far curves over seeds: per method, the median (line) and the 25-75 % band (shaded) of
    the report of the best-by-signal cell after k queries, against k; the table optimum by signal is a dotted line.

    One curve per method over all its seeds (``Comparison.curves_frame``), where ``best_so_far_figure`` draws each
    run on its own."""
    cfg = comparison.config
    frame = comparison.curves_frame()
    fig = go.Figure()
    for k, method in enumerate(cfg.methods):
        wide = frame[frame.method == method].pivot(index="queries", columns="seed", values="best_report")
        x = wide.index.to_numpy()
        lo, mid, hi = (np.nanpercentile(wide.to_numpy(), q, axis=1) for q in (25, 50, 75))
        colour = _BAND_PALETTE[k % len(_BAND_PALETTE)]
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([hi, lo[::-1]]), fill="toself",
                                 fillcolor=colour, opacity=0.15, line={"width": 0}, hoverinfo="skip",
                                 showlegend=False, legendgroup=method))
        fig.add_trace(go.Scatter(x=x, y=mid, mode="lines", name=method, line={"color": colour}, legendgroup=method))
    fig.add_hline(y=comparison.optimum.report, line_dash="dot", annotation_text="optimum (best by signal)")
    fig.update_layout(
        title=f"Best-so-far {cfg.report} of the best-by-{cfg.signal} cell<br><sub>{comparison.title()}</sub>",
        xaxis_title="queries (labelled cells seen)",
        yaxis_title=_metric_axis(cfg.report, comparison.report_info),
        template="plotly_white",
    )
    return fig


_BAND_PALETTE = PALETTE[:6]  # the comparison figure cycles six colours (its saved HTML stays as it was)


def _metric_axis(metric: str, info: MetricInfo | None) -> str:
    """``cifar10_test (%)`` for a percent metric, the bare name otherwise (no "%" on a latency)."""
    return f"{metric} ({info.unit})" if info is not None and info.unit else metric


def live_figure(events: Sequence[ProgressEvent], signal: str = "signal") -> go.Figure:
    """Best signal so far per method while a plan runs, from its progress events (``lso.search.plan.run_plan``:
    one event per charged query, the figure named after the method); point k of a method is its k-th query."""
    series: dict[str, list[float]] = {}
    for event in events:
        for name, value in event.figures.items():
            series.setdefault(name, []).append(float(value))
    fig = go.Figure()
    for k, (name, ys) in enumerate(series.items()):
        fig.add_trace(go.Scatter(x=np.arange(1, len(ys) + 1), y=ys, mode="lines", name=name,
                                 line={"color": PALETTE[k % len(PALETTE)], "shape": "hv"}))
    fig.update_layout(xaxis_title="queries", yaxis_title=f"best {signal} so far", template="plotly_white",
                      height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def trajectory_figure(base: go.Figure, coords: np.ndarray, hover: Sequence[str], *, precharged: int = 0,
                      best: int | None = None, name: str = "queries",
                      ids: Sequence[int] | None = None) -> go.Figure:
    """A copy of ``base`` (e.g. ``lso.viz.latent_map.latent_map_figure``) with a run's queried cells on it.

    Args:
        coords: ``[n, 2]`` plane coordinates of the queried cells in query order.
        hover: ``n`` hover texts.
        precharged: the first ``precharged`` rows are the run's labels: grey crosses, not joined.
        best: row of the best cell found (a large star), if any.
        name: legend name of the search's path.
        ids: ``n`` official indices of the queried cells, put in each marker's ``customdata`` (what a click
            selects); the base's own ``customdata`` is kept.

    The search's own queries (rows ``precharged..n-1``) are joined in order, their markers shaded from light
    (early) to dark (late). The base's points are faded so the path stands out; the overlays are WebGL traces
    like the latent map's (plotly draws WebGL above SVG, so SVG overlays would hide under a WebGL map).
    """
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    hover = list(hover)
    if len(hover) != len(coords):
        raise ValueError(f"need one hover text per queried cell: {len(coords)} cells, {len(hover)} texts")
    data = list(ids) if ids is not None else [None] * len(coords)
    if len(data) != len(coords):
        raise ValueError(f"need one id per queried cell: {len(coords)} cells, {len(data)} ids")
    fig = go.Figure(base)
    fig.update_traces(marker_opacity=0.35)
    p = min(max(int(precharged), 0), len(coords))
    if p:
        fig.add_trace(go.Scattergl(x=coords[:p, 0], y=coords[:p, 1], mode="markers", name="run's labels",
                                 marker={"symbol": "x", "size": 6, "color": "rgba(90, 90, 90, 0.8)"},
                                 hovertext=hover[:p], hoverinfo="text", customdata=data[:p]))
    own = coords[p:]
    if len(own):
        fig.add_trace(go.Scattergl(
            x=own[:, 0], y=own[:, 1], mode="lines+markers", name=name,
            line={"color": "rgba(220, 20, 60, 0.6)", "width": 1.5},
            marker={"size": 8, "color": np.arange(len(own)), "colorscale": "Reds", "cmin": -0.3 * len(own),
                    "line": {"color": "white", "width": 0.5}},
            hovertext=hover[p:], hoverinfo="text", customdata=data[p:]))
    if best is not None and 0 <= best < len(coords):
        fig.add_trace(go.Scattergl(x=[coords[best, 0]], y=[coords[best, 1]], mode="markers", name="best found",
                                 marker={"symbol": "star", "size": 18, "color": "gold",
                                         "line": {"color": "black", "width": 1}},
                                 hovertext=[hover[best]], hoverinfo="text", customdata=[data[best]]))
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.1})
    return fig
