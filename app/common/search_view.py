"""Pieces of the Search page: why its Run button is disabled, and the best cells each method found."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from common.cells import remember_found

from lso.search.plan import PlanOutcome
from lso.search.preflight import budget_problem, run_mismatches
from lso.search.standing import standing


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
