"""Search page: run one search method and its baselines on a table oracle (same budget and seed) as a background
job, then compare best-so-far curves, draw the queries over the run's latent map and export them."""

import numpy as np
import pandas as pd
import streamlit as st

from common.cells import remember_found
from common.data import metric_index, pick_table
from common.jobs_view import is_running, job_panel, start_job
from common.latent import latent_view, run_choices, run_mtime
from lso.errors import LsoError
from lso.search import TableOracle, default_registry, isomorphism_class
from lso.search.export import export_filename, queries_csv
from lso.search.gradient import run_labels
from lso.search.plan import PlanOutcome, SearchPlan, run_plan
from lso.search.standing import standing
from lso.space import index_of, num_cells
from lso.viz.cell_values import hover_texts, values_by_index
from lso.viz.latent_map import latent_map_figure
from lso.viz.search_figures import best_so_far_figure, live_figure, trajectory_figure

JOB = "search_job"


@st.cache_resource(show_spinner="Drawing the latent map...", max_entries=4)
def base_map(_table, table_key: str, signal: str, report: str, run_dir: str, mtime: float):
    """The run's latent map coloured by ``signal`` (cached per table, metrics and run)."""
    hover = hover_texts(_table, np.arange(num_cells()), [signal, report])
    return latent_map_figure(latent_view(run_dir, mtime).coords, values_by_index(_table, signal), hover, signal)


st.title("Search")
label, table = pick_table()
registry, runs, metrics = default_registry(), run_choices(), list(table.metrics)
if not metrics:
    st.error(f"{label} has no metric columns to search on.")
    st.stop()

a, b = st.columns(2)
signal = a.selectbox("Signal (the search sees it)", metrics, index=metric_index(table, "valid"), key="search_signal")
report = b.selectbox("Report (the search never sees it)", metrics, index=metric_index(table, "test"),
                     key="search_report")
methods = list(registry)
a, b, c, d = st.columns([2, 3, 1, 1])
method = a.selectbox("Method", methods, key="search_method",
                     index=methods.index("crlso" if runs and "crlso" in methods else "random"))
run_label = b.selectbox("Run (latent methods; the latent map)", ["(none)", *runs], key="search_run",
                        index=1 if runs else 0)
budget = int(c.number_input("Budget", min_value=1, max_value=15625, value=100, key="search_budget"))
seed = int(d.number_input("Seed", min_value=0, value=0, key="search_seed"))
run_dir = runs.get(run_label)
options = [m for m in methods if m != method and (run_dir or not registry[m].needs_run)]
baselines = st.multiselect("Baselines (same budget and seed)", options, key="search_baselines",
                           default=[m for m in ("random", "rea") if m in options][:1])
st.caption(registry[method].description)

latent = [m for m in (method, *baselines) if registry[m].needs_run]
ready = True
if latent and run_dir is None:
    st.warning(f"{', '.join(latent)} start(s) from a trained run: choose a run (train one on the Train page).")
    ready = False
elif latent:
    try:
        labels = len({isomorphism_class(c) for c in run_labels(run_dir)})  # twins cost one query
    except LsoError as err:
        st.error(str(err))
        labels, ready = 0, False
    if labels >= budget:
        st.warning(f"The run's {labels} labelled cells count as queries: a budget of {budget} leaves the latent "
                   "search nothing to spend. Raise the budget.")
    elif labels:
        st.caption(f"The run's {labels} labelled cells are charged first: {budget - labels} queries remain.")
if signal == report:
    st.warning("Signal = report: the ORACLE PROTOCOL (the search sees the reported metric). Figures say so.")

if st.button("Run search", type="primary", disabled=not ready or is_running(JOB), icon=":material/play_arrow:",
             key="search_start"):
    try:
        oracle = TableOracle(table, signal, report)
        plan = SearchPlan(method, tuple(baselines), budget, seed, str(run_dir) if run_dir else None)
        st.session_state["search_inputs"] = (table, plan)
        start_job(JOB, f"{method} search", lambda reporter: run_plan(plan, oracle, registry=registry,
                                                                     reporter=reporter))
    except LsoError as err:
        st.error(str(err))


def live(job) -> None:
    if job.running:
        st.plotly_chart(live_figure(job.reporter.events, signal), key="search_live")


job = job_panel(JOB, live=live, every=0.5)
if job is None or job.state != "done" or not isinstance(job.result, PlanOutcome):
    st.stop()

outcome: PlanOutcome = job.result
table, plan = st.session_state["search_inputs"]
main = outcome.main
signal, report = main.signal_name, main.report_name
if outcome.stopped:
    st.warning(f"Stopped: {sum(r.num_queries for r in outcome.results)} queries made; the last run is partial.")

st.subheader("Best cell found")
rows = []
for r in outcome.results:
    if r.best is None:
        continue
    s = standing(r.best, table, signal, report)
    rows.append({"method": r.method, "queries": r.num_queries, "labels": r.precharged, "arch": s.arch,
                 "index": s.index, signal: s.signal, f"rank by {signal}": s.signal_rank, report: s.report,
                 f"rank by {report}": s.report_rank, "seconds": round(r.wall_seconds, 2)})
remember_found({f"{r['method']} ({r[signal]:.2f} {signal})": r["arch"] for r in rows})  # offered on Refine
if rows:
    best = rows[0]
    a, b, c = st.columns(3)
    a.metric(f"{main.method}: {signal}", f"{best[signal]:.2f}", help="what the search saw")
    b.metric(report, f"{best[report]:.2f}", help="never seen by the search")
    c.metric(f"rank by {report}", f"{best[f'rank by {report}']:,} / {len(table):,}")
    st.code(best["arch"], language=None)
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

opt_cell, _ = table.best(signal)
optimum = TableOracle(table, signal, report).evaluate(opt_cell)
st.plotly_chart(best_so_far_figure(outcome.results, optimum), key="search_curves")

st.subheader("Trajectory over the latent map")
if plan.run_dir is None:
    st.info("Choose a run to draw the queried cells on its latent map.")
else:
    shown = st.radio("Queries of", [r.method for r in outcome.results], horizontal=True, key="search_traj")
    r = next(r for r in outcome.results if r.method == shown)
    view = latent_view(plan.run_dir, run_mtime(plan.run_dir))
    idx = [index_of(ev.cell) for ev in r.evaluations]
    hover = [f"query {k + 1}<br>{ev.cell.to_string()}<br>{signal}: {ev.signal:.2f}<br>{report}: {ev.report:.2f}"
             for k, ev in enumerate(r.evaluations)]
    base = base_map(table, table.meta.checksum, signal, report, plan.run_dir, run_mtime(plan.run_dir))
    best_row = int(r.best_so_far().position[-1]) if r.evaluations else None
    st.plotly_chart(trajectory_figure(base, view.coords[idx], hover, precharged=r.precharged, best=best_row,
                                      name=r.method), key="search_map")

st.download_button("Download queried cells (CSV)", queries_csv(outcome.results), file_name=export_filename(main),
                   mime="text/csv", icon=":material/download:", key="search_download")
