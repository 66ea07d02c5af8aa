"""Refine page: grow one cell's network by neuron splitting (S3D, S2D, random) against training it wide from scratch,
in the background, with live accuracy-vs-parameters curves."""

import json

import streamlit as st
from common.cells import REFINE_REQUEST, found_cells
from common.data import load_table, metric_index, pick_table, workspace
from common.jobs_view import is_running, job_panel, start_saved_job
from common.saved import saved_results

from lso.bench.default import EMBEDDED
from lso.data.datasets import DATASETS, dataset_problem
from lso.device import describe_device, resolve_device
from lso.errors import LsoError
from lso.growth.nb201 import GROUPS
from lso.growth.refine import REFINE_METHODS, BudgetComparison, RefineConfig, compare_budgets, compare_refine
from lso.report.refine import budget_table_text
from lso.report.saved import save_budget_comparison, save_refinement
from lso.viz.refine_figures import (accuracy_vs_params_figure, budget_comparison_figure, refine_points,
                                    refine_progress_figure)

JOB = "refine_job"
ARCH_KEY = "refine_arch"
# Mostly 3x3 convolutions with a skip: the cell lso's refine benchmark uses (bench_refine.py); a strong cell.
FALLBACK_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def default_cell() -> str:
    """The best cell of the embedded default benchmark by its own validation metric, else the fallback cell."""
    if EMBEDDED.exists():
        try:
            table = load_table(str(EMBEDDED))
            return table.best(table.default_metric("valid"))[0].to_string()
        except LsoError:
            pass
    return FALLBACK_CELL


st.title("Refine a cell by splitting neurons")
st.caption("Start from a narrow network of the cell, train it, then split the neurons whose splitting lowers the "
           "loss most, up to the parameter budget (NB201's size of the cell); compare with random splits and with "
           "the final width trained from scratch.")
label, table = pick_table()
device = resolve_device("auto")
if REFINE_REQUEST in st.session_state:  # a cell sent from another page (e.g. clicked on the latent map)
    st.session_state[ARCH_KEY] = st.session_state.pop(REFINE_REQUEST)
st.session_state.setdefault(ARCH_KEY, default_cell())

c1, c2 = st.columns(2)
rank_by = c1.selectbox("Rank the table's cells by", table.metrics, index=metric_index(table, "valid"))
top = table.top(rank_by, k=20)


def use_top_cell() -> None:
    picked = st.session_state.get("refine_top")
    if picked:
        st.session_state[ARCH_KEY] = picked


c2.selectbox(f"...and start from one of the best cells of {label}", list(top["arch"]), index=None,
             key="refine_top", on_change=use_top_cell, placeholder="choose a top cell",
             format_func=lambda a: f"{float(top.loc[top['arch'] == a, rank_by].iloc[0]):.2f}  {a}")
found = found_cells()
if found:
    def use_found_cell() -> None:
        picked = st.session_state.get("refine_found")
        if picked:
            st.session_state[ARCH_KEY] = found[picked]

    st.selectbox("...or a cell your last search found", list(found), index=None, key="refine_found",
                 on_change=use_found_cell, placeholder="choose a found cell")
arch = st.text_input("Cell to refine (NAS-Bench-201 string)", key=ARCH_KEY)
d1, d2, d3, d4, d5 = st.columns([2, 1, 1, 1, 1])
methods = d1.multiselect("Methods", REFINE_METHODS, default=list(REFINE_METHODS))
# images and 1-D signals alike (mnist1d grows the 1-D network); only what can run here is offered
problems = {name: dataset_problem(name) for name in DATASETS}
missing = "; ".join(f"{n} {why}" for n, why in problems.items() if why)
dataset = d2.selectbox("Dataset", [n for n, why in problems.items() if why is None],
                       help=f"Not offered here: {missing}" if missing else None)
rounds = d3.number_input("Splitting rounds", 1, 10, 3)
seed = d4.number_input("First seed", 0, 2**31 - 1, 0)
n_seeds = d5.number_input("Seeds", 1, 10, 1, help="Seeds first..first+n-1: the table and figure give the mean and "
                                                   "spread over them.")
grow = st.multiselect("Widths that grow", GROUPS, default=list(GROUPS),
                      help="stage0-2: the node channels of each stage (split in every op of the stage at once); "
                           "reduce1-2: the reduction blocks' inner channels.")
budgets = st.checkbox("Compare at three budgets", help="0.4, 0.7 and 1.0 of NB201's size: S3D, S2D, random, the "
                      "widths S3D found trained from scratch, and uniform widths from scratch (the methods above are "
                      "not used)")
st.caption(f"Runs on {describe_device(device)}. On the digits dataset each method takes a few seconds on a CPU; on "
           "mnist1d (1-D signals) the cell's 1-D network grows.")

if st.button("Run refinement", type="primary", disabled=is_running(JOB) or not methods or not grow):
    try:
        config = RefineConfig(arch.strip(), dataset, rounds=int(rounds), groups=tuple(grow))
        picked, seeds = tuple(methods), tuple(range(int(seed), int(seed) + int(n_seeds)))
        root = workspace()
        if budgets:
            start_saved_job(JOB, f"refining on {dataset} at three budgets", lambda reporter: compare_budgets(
                config, seeds=seeds, device=device, reporter=reporter),
                save=lambda comparison: save_budget_comparison(comparison, dataset, root), context={})
            st.rerun()
        start_saved_job(JOB, f"refining on {dataset}",
                        lambda reporter: compare_refine(config, methods=picked, seeds=seeds, device=device,
                                                        reporter=reporter),
                        save=lambda comparison: save_refinement(comparison, dataset, root),
                        context={"runs": [f"{m} (seed {s})" for s in seeds for m in picked]})  # run order
        st.rerun()  # redraw with the Run button disabled while the job runs
    except LsoError as err:
        st.error(str(err))


def live(job) -> None:
    if job.state == "done" and isinstance(job.result, BudgetComparison):
        st.plotly_chart(budget_comparison_figure(job.result), key=f"{JOB}:budgets")
        st.code(budget_table_text(job.result), language=None)
    elif job.state == "done":
        comparison = job.result
        st.plotly_chart(accuracy_vs_params_figure(comparison), key=f"{JOB}:result")
        rounds = comparison.rounds_frame()
        for _, row in rounds[rounds.rolled_back].iterrows():  # never silent: a round that hurt was undone
            st.warning(f"{row.method} seed {row.seed}, round {row['round']}: rolled back, its split lowered validation "
                       "accuracy (the network before it was kept)")
        final = comparison.final_frame()
        if final["test_std"].isna().all():  # one seed has no spread: say so rather than print "None"
            final = final.drop(columns=["test_std"])
            st.caption("One seed: no spread over seeds to show.")
        st.dataframe(final, hide_index=True)
        st.caption("Final widths: where each method put its channels")
        st.dataframe(comparison.widths_frame(), hide_index=True)
        st.download_button("Download results (JSON)", json.dumps(comparison.to_dict(), indent=2),
                           file_name="refine.json", mime="application/json")
        st.caption(f"Saved in `{job.context['saved']}`.")
    elif refine_points(job.reporter.events):
        st.plotly_chart(refine_progress_figure(job.reporter.events, (job.context or {}).get("runs", [])),
                        key=f"{JOB}:live")


job_panel(JOB, live=live)
saved_results("refinements")
