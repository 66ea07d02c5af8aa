"""Refinement figures: test accuracy against parameters, live from ``compare_refine``'s reports (one line per run)
and for a finished comparison (one line per method, mean and spread over seeds)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from lso.jobs import ProgressEvent

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from lso.growth.refine import RefineComparison


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


def accuracy_vs_params_figure(comparison: "RefineComparison") -> "go.Figure":
    """Test accuracy (mean over seeds, error bar = std) against parameters, one line per method through its rounds."""
    import plotly.graph_objects as go

    frame = comparison.rounds_frame()
    fig = go.Figure()
    for method in comparison.methods:
        part = frame[frame.method == method].groupby("round").agg(
            params=("params", "mean"), acc=("test_accuracy", "mean"), std=("test_accuracy", "std")).fillna(0.0)
        fig.add_trace(go.Scatter(x=part.params, y=part.acc, error_y={"type": "data", "array": part["std"]},
                                 mode="lines+markers", name=method))
    fig.update_layout(title=f"lso refine: {comparison.arch} on {comparison.dataset}, budget "
                            f"{comparison.budget_params} params, seeds {list(comparison.seeds)}",
                      xaxis_title="parameters", yaxis_title="test accuracy (%)", template="plotly_white")
    return fig
