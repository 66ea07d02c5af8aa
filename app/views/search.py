"""Search page: run one search method and its baselines on a table oracle (same budget and seed) as a background
job, then compare best-so-far curves, draw the queries over the run's latent map and export them."""

import streamlit as st

from common.data import metric_index, paired_index, pick_table, workspace
from common.jobs_view import is_running, job_panel, start_saved_job
from common.saved import saved_results
from common.search_view import best_cells_panel, curves_panel, search_problem, trajectory_panel
from common.latent import run_choices, run_quality
from lso.errors import LsoError
from lso.search import TableOracle, default_registry
from lso.search.export import export_filename, queries_csv
from lso.report.saved import save_search
from lso.search.plan import PlanOutcome, SearchPlan, run_plan, run_plan_over_seeds
from lso.search.preflight import read_provenance
from lso.viz.search_figures import comparison_curves_figure, live_figure

JOB = "search_job"


st.title("Search")
label, table = pick_table()
registry, runs, metrics = default_registry(), run_choices(table.meta.checksum), list(table.metrics)
if not metrics:
    st.error(f"{label} has no metric columns to search on.")
    st.stop()

a, b = st.columns(2)
signal = a.selectbox("Signal (the search sees it)", metrics, index=metric_index(table, "valid"), key="search_signal")
report = b.selectbox("Report (the search never sees it)", metrics, key="search_report",
                     index=paired_index(table, signal, "test"))
methods = list(registry)
a, b, c, d, e = st.columns([2, 3, 1, 1, 1])
method = a.selectbox("Method", methods, key="search_method", format_func=lambda m: registry[m].label,
                     index=methods.index("crlso" if runs and "crlso" in methods else "random"))
if st.session_state.get("search_run_table") != table.meta.checksum:  # another table: its best run and budget
    for key in ("search_run", "search_budget"):
        st.session_state.pop(key, None)
    st.session_state["search_run_table"] = table.meta.checksum
run_label = b.selectbox("Run (latent methods; the latent map)", ["(none)", *runs], key="search_run",
                        index=1 if runs else 0, help="Best first (the surrogate's Spearman on its table).",
                        format_func=lambda k: f"{k} ({run_quality(runs[k])})" if k in runs else k)
run_dir = runs.get(run_label)
provenance, run_error = None, None
if run_dir is not None:
    try:
        provenance = read_provenance(run_dir)
    except LsoError as err:
        run_error = str(err)
labels = len(provenance.labels) if provenance else 0
budget = int(c.number_input("Budget", min_value=1, max_value=15625, value=max(100, labels + 100),
                            key="search_budget", help="Queries per run, the run's labels included (one each)."))
seed = int(d.number_input("First seed", min_value=0, value=0, key="search_seed"))
seeds = int(e.number_input("Seeds", 1, 50, 1, key="search_seeds", help="More than one: every method runs each "
                           "seed; the curves show the median and the 25-75 % band; the details are the first seed's."))
options = [m for m in methods if m != method and (run_dir or not registry[m].needs_run)]
baselines = st.multiselect("Baselines (same budget and seed)", options, key="search_baselines",
                           format_func=lambda m: registry[m].label,
                           default=[m for m in ("random", "rea") if m in options][:1])
info = table.metric_info(signal)
st.caption(f"{registry[method].description}. The search {'maximises' if info.direction == 'max' else 'minimises'} "
           f"{signal} (the table's direction for it).")

problem = search_problem([m for m in (method, *baselines) if registry[m].needs_run], run_dir, run_error, budget,
                         labels, provenance, signal, report, table)
if signal == report:
    st.warning("Signal = report: the ORACLE PROTOCOL (the search sees the reported metric). Figures say so.")

if st.button("Run search", type="primary", disabled=problem is not None or is_running(JOB),
             icon=":material/play_arrow:", key="search_start", help=problem):
    try:
        oracle = TableOracle(table, signal, report)
        plan = SearchPlan(method, tuple(baselines), budget, seed, str(run_dir) if run_dir else None,
                          allow_run_mismatch=bool(st.session_state.get("search_allow_mismatch")))
        root = workspace()
        context = {"table": table, "plan": plan, "comparison": None}

        def work(reporter):
            if seeds == 1:
                return run_plan(plan, oracle, registry=registry, reporter=reporter)
            outcome, context["comparison"] = run_plan_over_seeds(plan, table, oracle, seeds, registry=registry,
                                                                 reporter=reporter)
            return outcome

        start_saved_job(JOB, f"{method} search", work, save=lambda outcome: save_search(outcome, root),
                        context=context)
        st.rerun()  # redraw with the Run button disabled while the job runs
    except LsoError as err:
        st.error(str(err))


def live(job) -> None:
    if job.running:
        st.plotly_chart(live_figure(job.reporter.events, signal), key="search_live")


job = job_panel(JOB, live=live, every=0.5)
saved_results("searches")
if job is None or job.state != "done" or not isinstance(job.result, PlanOutcome):
    st.stop()

outcome: PlanOutcome = job.result
table, plan = job.context["table"], job.context["plan"]
st.caption(f"Saved in `{job.context['saved']}` (one RESULT.json per method).")
main = outcome.main
signal, report = main.signal_name, main.report_name
if outcome.stopped:
    st.warning(f"Stopped: {sum(r.num_queries for r in outcome.results)} queries made; the last run is partial.")
for r in outcome.results:
    if r.stopped and not outcome.stopped:
        st.warning(f"{r.method} ended after {r.num_queries} of {r.budget} queries: {r.stopped}.")

best_cells_panel(outcome, table, signal, report)

if job.context.get("comparison") is not None:  # several seeds: median and band per method
    st.plotly_chart(comparison_curves_figure(job.context["comparison"]), key="search_bands")
    st.caption(f"Details below: the first seed ({plan.seed}).")
curves_panel(outcome, table, signal, report)
trajectory_panel(outcome, plan.run_dir, table, signal, report)

st.download_button("Download queried cells (CSV)", queries_csv(outcome.results), file_name=export_filename(main),
                   mime="text/csv", icon=":material/download:", key="search_download")
