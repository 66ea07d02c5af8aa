"""A NAS-Bench-201 cell drawn as its DAG: 4 nodes, one arrow per edge labelled by its operation."""

from __future__ import annotations

import plotly.graph_objects as go

from lso.space import EDGES, NUM_NODES, Cell

NODE_POSITIONS: tuple[tuple[float, float], ...] = ((0.0, 0.0), (1.0, 1.0), (2.0, 1.0), (3.0, 0.0))
"""Node 0 (input) left, 3 (output) right, 1 and 2 above: the two long edges 2<-0 and 3<-1 cross mid-figure."""

OP_COLOURS: dict[str, str] = {
    "none": "#b0b0b0",
    "skip_connect": "#4c78a8",
    "nor_conv_1x1": "#f58518",
    "nor_conv_3x3": "#e45756",
    "avg_pool_3x3": "#54a24b",
}
OP_LABELS: dict[str, str] = {
    "none": "none", "skip_connect": "skip", "nor_conv_1x1": "conv 1x1", "nor_conv_3x3": "conv 3x3",
    "avg_pool_3x3": "avg pool",
}
_NODE_NAMES = ("0 in", "1", "2", "3 out")


def cell_graph_figure(cell: Cell | str, *, show_none: bool = True, title: str = "") -> go.Figure:
    """The cell as a plotly figure.

    One line trace per drawn edge (``trace.meta == {"edge": "to<-from", "op": op, "dead": bool}``), with an arrow
    and an op label. ``none`` edges are drawn dashed grey when ``show_none``, else left out; edges that do not
    affect the output (``Cell.dead_edges``) are drawn faded. The last trace holds the 4 nodes.
    """
    cell = Cell.parse(cell)
    dead = cell.dead_edges()
    fig = go.Figure()
    annotations = []
    for slot, ((to, frm), op) in enumerate(zip(EDGES, cell.ops)):
        if op == "none" and not show_none:
            continue
        (x0, y0), (x1, y1) = NODE_POSITIONS[frm], NODE_POSITIONS[to]
        colour = OP_COLOURS[op]
        opacity = 0.35 if dead[slot] and op != "none" else 1.0
        note = " (dead: does not reach the output)" if dead[slot] and op != "none" else ""
        fig.add_trace(go.Scatter(
            x=[x0, (x0 + x1) / 2, x1], y=[y0, (y0 + y1) / 2, y1], mode="lines", opacity=opacity,
            line={"color": colour, "width": 1.5 if op == "none" else 3, "dash": "dash" if op == "none" else "solid"},
            name=f"{to}<-{frm}: {op}", hoverinfo="text", hovertext=f"edge {to}<-{frm}: {op}{note}",
            meta={"edge": f"{to}<-{frm}", "op": op, "dead": bool(dead[slot])}, showlegend=False))
        annotations.append({"x": x1, "y": y1, "ax": x0, "ay": y0, "xref": "x", "yref": "y", "axref": "x",
                            "ayref": "y", "showarrow": True, "arrowhead": 2, "arrowsize": 1.2, "arrowwidth": 2,
                            "arrowcolor": colour, "standoff": 18, "opacity": opacity, "text": ""})
        annotations.append({"x": (x0 + x1) / 2, "y": (y0 + y1) / 2, "text": OP_LABELS[op], "showarrow": False,
                            "font": {"color": colour, "size": 13}, "bgcolor": "rgba(255,255,255,0.85)",
                            "opacity": opacity})
    xs, ys = zip(*NODE_POSITIONS)
    fig.add_trace(go.Scatter(
        x=list(xs), y=list(ys), mode="markers+text", text=[str(i) for i in range(NUM_NODES)], name="nodes",
        textfont={"color": "white", "size": 14}, marker={"size": 34, "color": "#333333"},
        hovertext=list(_NODE_NAMES), hoverinfo="text", meta={"nodes": NUM_NODES}, showlegend=False))
    fig.update_layout(annotations=annotations, title=title or None, height=320, plot_bgcolor="white",
                      margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10})
    fig.update_xaxes(visible=False, range=[-0.4, 3.4])
    fig.update_yaxes(visible=False, range=[-0.4, 1.4])
    return fig


def edge_traces(fig: go.Figure) -> list[go.Scatter]:
    """The edge traces of a ``cell_graph_figure`` (those whose meta names an edge)."""
    return [t for t in fig.data if isinstance(t.meta, dict) and "edge" in t.meta]
