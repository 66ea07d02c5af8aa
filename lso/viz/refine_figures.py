"""Refinement progress: test accuracy against parameters, one line per run, from ``compare_refine``'s reports.

The finished comparison's figure (mean and spread over seeds) is ``lso.growth.refine.accuracy_vs_params_figure``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from lso.jobs import ProgressEvent

if TYPE_CHECKING:
    import plotly.graph_objects as go


def refine_points(events: Sequence[ProgressEvent]) -> dict[int, list[tuple[float, float]]]:
    """``{run: [(params, test_accuracy), ...]}`` in round order, from the reports carrying both figures (``run``
    is the position of the (method, seed) pair in the comparison; 0 for a single ``refine``)."""
    points: dict[int, list[tuple[float, float]]] = {}
    for e in events:
        if "params" in e.figures and "test_accuracy" in e.figures:
            points.setdefault(int(e.figures.get("run", 0)), []).append((e.figures["params"], e.figures["test_accuracy"]))
    return points


def refine_progress_figure(events: Sequence[ProgressEvent], runs: Sequence[str], title: str = "") -> "go.Figure":
    """Test accuracy (%) against parameters through the rounds so far, one line per run named ``runs[run]``."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for run, pts in sorted(refine_points(events).items()):
        name = runs[run] if run < len(runs) else f"run {run}"
        fig.add_trace(go.Scatter(x=[p for p, _ in pts], y=[a for _, a in pts], mode="lines+markers", name=name))
    fig.update_layout(title=title or None, xaxis_title="parameters", yaxis_title="test accuracy (%)",
                      template="plotly_white", height=380, showlegend=True)
    return fig
