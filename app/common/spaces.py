"""Pieces of the Other spaces page: a space table's summary, the inputs ``lso search pool`` parses, where a pool
comparison is kept in the workspace, and its result (figure, table, download)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lso.bench.space_datasheet import space_datasheet
from lso.bench.space_table import SpaceTable
from lso.errors import LsoError, MetricError
from lso.search.pool_run import PoolRun, table_metric
from lso.viz.pool_figures import pool_curves_figure


def metric_position(table: SpaceTable, split: str) -> int:
    """Position in ``table.metrics`` of the metric ``lso search pool`` takes for ``split`` by default (the table's
    ``<dataset>_<split>``, else its only ``*_<split>``); 0 when the table has no such metric."""
    try:
        return table.metrics.index(table_metric(table, split, None))
    except MetricError:
        return 0


def parse_budgets(text: str) -> tuple[int, ...]:
    """``"50,100,150"`` -> ``(50, 100, 150)``, as ``lso search pool --budgets`` reads it (``LsoError`` otherwise)."""
    try:
        budgets = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError as err:
        raise LsoError(f"budgets must be comma-separated integers, got {text!r}") from err
    if not budgets or min(budgets) < 1:
        raise LsoError(f"budgets must be integers >= 1, got {text!r}")
    return budgets


def space_summary(table: SpaceTable) -> None:
    """The table's space, size and provenance, each metric's direction/best/median, and its 10 best cells by the
    metric picked (by default the validation metric the searches see) with their official strings."""
    summary = table.summary()
    a, b, c = st.columns(3)
    a.metric("Space", summary["space"])
    b.metric("Cells", f"{summary['cells']:,}")
    c.metric("Dataset", table.meta.dataset or "?", help=f"fidelity: {table.meta.fidelity or '?'}; "
             f"source: {table.meta.source or '?'}; protocol: {table.meta.protocol or '?'}")
    st.dataframe(pd.DataFrame([{"metric": m, **{k: v for k, v in info.items() if k != "arch"}}
                               for m, info in summary["metrics"].items()]), hide_index=True, key="spaces_metrics")
    trust(table)
    if not table.metrics:
        return
    rank_by = st.selectbox("Top 10 cells by", table.metrics, index=metric_position(table, "valid"), key="spaces_rank")
    top = table.top(rank_by, k=10).drop(columns=["canonical"])
    st.dataframe(top[["arch", *table.metrics]], hide_index=True, key="spaces_top",
                 column_config={"arch": st.column_config.TextColumn(f"cell ({table.space.name} string)",
                                                                     width="large")})


def trust(table: SpaceTable) -> None:
    """The datasheet's figures that say how far the table separates cells (``lso.bench.space_datasheet``): skipped
    for a table without the ``<dataset>_valid`` / ``<dataset>_test`` pair (an imported one may name them otherwise)."""
    try:
        sheet = space_datasheet(table)
    except MetricError:
        return
    a, b, c = st.columns(3)
    a.metric("Best by valid: its test", f"{sheet.best_by_signal_report:.2f}",
             help=f"What a perfect search on {sheet.signal} reports; the best {sheet.report} is {sheet.report_best:.2f}, "
                  f"the median {sheet.report_median:.2f}.")
    b.metric("Valid vs test (Spearman)", f"{sheet.signal_report_spearman:.3f}",
             help="Over the cells; from independent training runs when the protocol trains the test figure apart.")
    c.metric("Seed vs seed (Spearman)", "-" if sheet.seed_spearman is None else f"{sheet.seed_spearman:.3f}",
             help="Between the first two per-seed valid columns (- with one seed per figure).")


def pool_results(run: PoolRun, saved: Path | None) -> None:
    """The comparison's best-so-far curves, its table (one row per method and budget) and the table as CSV."""
    comparison = run.comparison
    if run.vae is not None:
        st.caption(f"Space G-VAE: {run.vae.train_cells:,} cells, {run.vae.epochs} epochs, reconstruction "
                   f"{run.vae.reconstruction:.3f} (held out), validity {run.vae.validity:.3f}, uniqueness "
                   f"{run.vae.uniqueness:.3f}.")
    st.plotly_chart(pool_curves_figure(comparison, run.report), key="spaces_curves")
    st.caption(f"{run.report} of the best-by-{run.signal} cell after k queries (mean +- std over seeds).")
    st.dataframe(comparison.frame(), hide_index=True, key="spaces_frame")
    st.code(comparison.text(), language=None)
    st.download_button("Download the comparison (CSV)", comparison.frame().to_csv(index=False),
                       file_name="pool_comparison.csv", mime="text/csv", icon=":material/download:",
                       key="spaces_download")
    if saved is not None:
        st.caption(f"Saved in `{saved}` (the files `lso search pool --out` writes).")
