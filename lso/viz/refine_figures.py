"""Refinement figures: test accuracy against parameters, live from ``compare_refine``'s reports (one line per run),
for a finished comparison (one line per method, mean and spread over seeds), and for a comparison at several budgets
(``budget_comparison_figure``: one line per method through the budgets)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from lso.jobs import ProgressEvent

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from lso.growth.refine import BudgetComparison, RefineComparison


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
    """Test accuracy (mean over seeds, error bar = std when there are several) against parameters.

    Growth methods are lines through their rounds (from the small start to the budget); ``scratch`` is points at the
    sizes it trained (the start and the widest network within the budget), never a line: nothing grows in it. A dashed
    line marks the parameter budget, so methods that end below it show as such.
    """
    import plotly.graph_objects as go

    frame = comparison.rounds_frame()
    fig = go.Figure()
    for method in comparison.methods:
        part = frame[frame.method == method].groupby("round").agg(
            params=("params", "mean"), acc=("test_accuracy", "mean"), std=("test_accuracy", "std"))
        spread = part["std"].notna().any()
        fig.add_trace(go.Scatter(
            x=part.params, y=part.acc, name=method, mode="markers" if method == "scratch" else "lines+markers",
            marker={"size": 10 if method == "scratch" else 7, "symbol": "diamond" if method == "scratch" else "circle"},
            error_y={"type": "data", "array": part["std"].fillna(0.0)} if spread else None,
            hovertemplate=f"{method}<br>%{{x:,}} params<br>test %{{y:.2f}}%<extra></extra>"))
    if comparison.budget_params:
        fig.add_vline(x=comparison.budget_params, line_dash="dash", line_color="grey",
                      annotation_text=f"budget {comparison.budget_params:,}", annotation_position="top left")
    seeds = list(comparison.seeds)
    fig.update_layout(
        title={"text": f"Test accuracy vs parameters on {comparison.dataset}<br><sup>{comparison.arch}; "
                       f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} {seeds}</sup>", "font": {"size": 15}},
        margin={"t": 80}, xaxis_title="parameters", yaxis_title="test accuracy (%)", template="plotly_white")
    return fig


def budget_comparison_figure(comparison: "BudgetComparison") -> "go.Figure":
    """Test accuracy (mean over seeds, error bar = std) against parameters (mean over seeds), one line per method
    through the budgets; the hover gives FLOPs and the training epochs. Dotted vertical lines mark the budgets."""
    import plotly.graph_objects as go

    table = comparison.table()
    fig = go.Figure()
    for method in comparison.methods:
        part = table[table.method == method]
        fig.add_trace(go.Scatter(
            x=part.params, y=part.test_mean, name=method, mode="lines+markers",
            line={"dash": "dot" if method in ("s3d-widths", "uniform") else "solid"},  # trained from scratch
            error_y={"type": "data", "array": part.test_std.fillna(0.0)} if part.test_std.notna().any() else None,
            customdata=list(zip(part.flops, part.epochs)),
            hovertemplate=(f"{method}<br>%{{x:,.0f}} params, %{{customdata[0]:,.0f}} FLOPs<br>test %{{y:.2f}}%"
                           "<br>%{customdata[1]:.1f} epochs<extra></extra>")))
    for budget in comparison.budgets:
        fig.add_vline(x=budget, line_dash="dot", line_color="lightgrey")
    seeds = list(comparison.seeds)
    fig.update_layout(
        title={"text": f"Test accuracy vs parameters at {len(comparison.budgets)} budgets on {comparison.dataset}"
                       f"<br><sup>{comparison.arch}; {len(seeds)} seed{'s' if len(seeds) != 1 else ''}; dotted: "
                       "trained from scratch</sup>", "font": {"size": 15}},
        margin={"t": 80}, xaxis_title="parameters", yaxis_title="test accuracy (%)", template="plotly_white")
    return fig
