"""Training curves of a G-VAE + ICNN run: from its ``history.csv`` rows or from live progress events."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Mapping, Sequence

from lso.jobs import ProgressEvent
from lso.train.fit import EpochStats

if TYPE_CHECKING:
    import plotly.graph_objects as go

LOSS_TERMS = ("loss", "reconstruction", "kl", "surrogate", "pseudo")


def history_rows(history: Sequence[EpochStats]) -> list[dict[str, float]]:
    """One dict per epoch (the ``EpochStats`` fields), e.g. from ``lso.train.run.read_history``."""
    return [asdict(h) for h in history]


def event_rows(events: Sequence[ProgressEvent]) -> list[dict[str, float]]:
    """One dict per finished epoch from ``train_run``'s reports (``epoch`` = ``done``); other reports skipped."""
    return [{"epoch": e.done, **e.figures} for e in events if "loss" in e.figures]


def training_curves(rows: Sequence[Mapping[str, float]], title: str = "") -> "go.Figure":
    """Left: the mean loss terms per epoch (log scale; terms that stay 0, e.g. ``pseudo`` when unused, are left
    out). Right: the train-batch reconstruction accuracy (fraction of cells with all 6 ops recovered)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("losses", "reconstruction accuracy (train batches)"))
    epochs = [r["epoch"] for r in rows]
    for term in LOSS_TERMS:
        values = [r.get(term, 0.0) for r in rows]
        if any(v > 0 for v in values):
            fig.add_trace(go.Scatter(x=epochs, y=[v if v > 0 else None for v in values], mode="lines+markers",
                                     name=term), row=1, col=1)
    fig.add_trace(go.Scatter(x=epochs, y=[r.get("recon_acc") for r in rows], mode="lines+markers",
                             name="recon_acc"), row=1, col=2)
    fig.update_yaxes(type="log", dtick=1, row=1, col=1)  # label the decades only
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(title=title or None, template="plotly_white", height=360, margin={"t": 60, "b": 40})
    return fig


def runs_overlay_figure(runs: Mapping[str, Sequence[Mapping[str, float]]], term: str = "loss") -> "go.Figure":
    """Several runs side by side: ``term`` (a loss term, log scale) and the reconstruction accuracy per epoch, one
    colour per run (``runs``: run name -> its ``history_rows``)."""
    import plotly.graph_objects as go
    from plotly.colors import qualitative
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=(f"{term} (mean per epoch)", "reconstruction accuracy"))
    for k, (name, rows) in enumerate(runs.items()):
        colour = qualitative.Plotly[k % len(qualitative.Plotly)]
        epochs = [r["epoch"] for r in rows]
        values = [r.get(term) for r in rows]
        fig.add_trace(go.Scatter(x=epochs, y=[v if v and v > 0 else None for v in values], mode="lines", name=name,
                                 legendgroup=name, line={"color": colour}), row=1, col=1)
        fig.add_trace(go.Scatter(x=epochs, y=[r.get("recon_acc") for r in rows], mode="lines", name=name,
                                 legendgroup=name, showlegend=False, line={"color": colour}), row=1, col=2)
    fig.update_yaxes(type="log", dtick=1, row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(template="plotly_white", height=360, margin={"t": 60, "b": 40})
    return fig
