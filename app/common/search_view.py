"""Pieces of the Search page: why its Run button is disabled, the best cells each method found, and the result's
figures, where a click on a point opens that cell (its table row, and Refine)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from common.cells import cell_panel, remember_found
from common.latent import base_map, clicked_cells, latent_view, run_mtime

from lso.search import TableOracle

from lso.search.plan import PlanOutcome
from lso.search.preflight import budget_problem, run_mismatches
from lso.search.standing import standing
from lso.space import all_cells, index_of
from lso.viz.search_figures import best_so_far_figure, trajectory_figure


def search_problem(latent: list[str], run_dir, run_error: str | None, budget: int, labels: int, provenance,
                   signal: str, report: str, table) -> str | None:
    """Why the search cannot start (None when it can), drawn as a warning; a run that does not fit the table asks
    for an explicit override (recorded in the result)."""
    problem = None
    if latent and run_dir is None:
        problem = f"{', '.join(latent)} start(s) from a trained run: choose a run (train one on the Train page)."
    elif latent and run_error:
        problem = run_error
    elif latent:
        problem = budget_problem(budget, labels)
        mismatches = run_mismatches(provenance, signal, report, table.meta.checksum)
        if not problem and mismatches:
            st.warning("; ".join(mismatches) + ".")
            if not st.checkbox("Search with this run anyway (recorded in the result)", key="search_allow_mismatch"):
                problem = "The run does not fit this table and signal (above)."
        if not problem and labels:
            st.caption(f"The run's {labels} labelled cells are charged first (one query each): "
                       f"{budget - labels} queries remain for the search.")
    if problem:
        st.warning(problem)
    return problem


def best_cells_panel(outcome: PlanOutcome, table, signal: str, report: str) -> None:
    """Each method's best-by-signal cell: its figures and ranks; the main method's on top. They are offered on the
    Refine page."""
    st.subheader("Best cell found")
    rows = []
    for r in outcome.results:
        if r.best is None:
            continue
        s = standing(r.best, table, signal, report)
        sources = ", ".join(f"{k} {v}" for k, v in r.source_counts().items())
        rows.append({"method": r.method, "queries": r.num_queries, "labels": r.precharged, "sources": sources,
                     "arch": s.arch, "index": s.index, signal: s.signal, f"rank by {signal}": s.signal_rank,
                     report: s.report, f"rank by {report}": s.report_rank, "seconds": round(r.wall_seconds, 2)})
    remember_found({f"{r['method']} ({r[signal]:.2f} {signal})": r["arch"] for r in rows})  # offered on Refine
    if rows:
        best = rows[0]
        a, b, c = st.columns(3)
        a.metric(f"{outcome.main.method}: {signal}", f"{best[signal]:.2f}", help="what the search saw")
        b.metric(report, f"{best[report]:.2f}", help="never seen by the search")
        c.metric(f"rank by {report}", f"{best[f'rank by {report}']:,} / {len(table):,}")
        st.code(best["arch"], language=None)
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _opened(event, table, key: str) -> None:
    """The cell panel of the point clicked on a chart drawn with official indices as ``customdata``."""
    picked = clicked_cells(event)
    if picked:
        cell_panel(all_cells()[picked[0]], table, key=key)


def curves_panel(outcome: PlanOutcome, table, signal: str, report: str) -> None:
    """Best-so-far curves of the first seed; a click on a point opens the best cell at that query count."""
    optimum = TableOracle(table, signal, report).optimum()
    figure = best_so_far_figure(outcome.results, optimum, signal_info=table.metric_info(signal),
                                report_info=table.metric_info(report))
    _opened(st.plotly_chart(figure, key="search_curves", on_select="rerun", selection_mode="points"), table,
            "search_curve_cell")


def trajectory_panel(outcome: PlanOutcome, run_dir: str | None, table, signal: str, report: str) -> None:
    """One method's queries in order over the run's latent map; a click on a query (or any cell) opens it."""
    st.subheader("Trajectory over the latent map")
    if run_dir is None:
        st.info("Choose a run to draw the queried cells on its latent map.")
        return
    shown = st.radio("Queries of", [r.method for r in outcome.results], horizontal=True, key="search_traj")
    r = next(r for r in outcome.results if r.method == shown)
    view = latent_view(run_dir, run_mtime(run_dir))
    idx = [index_of(ev.cell) for ev in r.evaluations]
    hover = [f"query {k + 1}<br>{ev.cell.to_string()}<br>{signal}: {ev.signal:.2f}<br>{report}: {ev.report:.2f}"
             for k, ev in enumerate(r.evaluations)]
    base = base_map(table, table.meta.checksum, signal, report, run_dir, run_mtime(run_dir))
    best_row = int(r.best_so_far().position[-1]) if r.evaluations else None
    figure = trajectory_figure(base, view.coords[idx], hover, precharged=r.precharged, best=best_row, name=r.method,
                               ids=idx)
    _opened(st.plotly_chart(figure, key="search_map", on_select="rerun", selection_mode="points"), table,
            "search_map_cell")
    st.caption("Click a query (or any cell of the map) to open it; darker markers are later queries.")
