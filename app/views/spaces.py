"""Other spaces page: a table of another search space (NAS-Bench-101, DARTS: ``lso.bench.SpaceTable``), its best
cells, and random search, REA and CR-LSO compared on its pool, as ``lso search pool`` does, in a background job."""

from pathlib import Path

import streamlit as st
from common.data import load_space_table, space_table_choices, workspace
from common.jobs_view import is_running, job_panel, start_saved_job
from common.saved import saved_results
from common.spaces import metric_position, parse_budgets, pool_results, space_summary

from lso.device import describe_device, resolve_device
from lso.errors import LsoError
from lso.report.saved import save_pool_comparison
from lso.search.pool_run import POOL_METHODS, PoolRun, PoolSearchConfig, run_pool_comparison

JOB = "spaces_job"
OTHER = "another file..."

st.title("Other search spaces")
st.caption("Tables of NAS-Bench-101 or DARTS cells, one row per cell up to isomorphism. Make one with "
           "`lso bench build --space nb101|darts --sample N --out T.parquet` (trains a seeded sample of cells) or "
           "`lso bench import nb101-tfrecord|darts-csv` (the official files); the NAS-Bench-201 pages do not list "
           "them.")
choices = space_table_choices()
picked = st.selectbox("Space table", [*choices, OTHER], key="spaces_table",
                      help="The space tables in benchmarks_data/ and the workspace; or any other file.")
path = choices.get(picked) or st.text_input("Path of a space table (.parquet)", key="spaces_path").strip()
if not path:
    st.info("Name a space table (.parquet) written by `lso bench build --space ...` or `lso bench import "
            "nb101-tfrecord|darts-csv`, or put one into the workspace to see it listed.")
    st.stop()
try:
    table = load_space_table(str(Path(path).expanduser()))
except LsoError as err:
    st.error(str(err))
    st.stop()
space_summary(table)

st.subheader("Compare searches")
st.caption("Each method and seed queries only the table's cells (each one at most once); its figure at a budget is "
           "the report metric of its best cell by the signal. CR-LSO searches the latent space of a space G-VAE "
           "trained first on cells sampled from the space (no labels).")
metrics = list(table.metrics)
a, b, c = st.columns(3)
signal = a.selectbox("Signal (the searches see it)", metrics, index=metric_position(table, "valid"),
                     key="spaces_signal")
report = b.selectbox("Report (never seen)", metrics, index=metric_position(table, "test"), key="spaces_report")
methods = c.multiselect("Methods", POOL_METHODS, default=list(POOL_METHODS), key="spaces_methods")
d, e, f = st.columns(3)
budget_text = d.text_input("Budgets (queries)", "50,100,150", key="spaces_budgets",
                           help="Comma-separated; every run goes to the largest and is read off at each.")
seeds = int(e.number_input("Seeds", 1, 100, 3, key="spaces_seeds", help="lso search pool's default: 20."))
first = int(f.number_input("First seed", 0, 2**31 - 1, 0, key="spaces_first"))
g, h, i, j = st.columns(4)
vae_train = int(g.number_input("G-VAE cells", 1, 1_000_000, 2_000, key="spaces_vae_train",
                               help="Sampled cells the CR-LSO G-VAE trains on; lso search pool's default: 20,000."))
vae_epochs = int(h.number_input("G-VAE epochs", 1, 1_000, 3, key="spaces_vae_epochs",
                                help="lso search pool's default: 10."))
vae_seed = int(i.number_input("G-VAE seed", 0, 2**31 - 1, 0, key="spaces_vae_seed"))
vae_file = j.text_input("Saved G-VAE (optional)", key="spaces_vae_file",
                        help="A space G-VAE saved by benchmarks/bench_space_vae.py --save; empty: train one here.")
device = resolve_device("auto")
st.caption(f"Runs on {describe_device(device)}. The defaults take well under a minute on a CPU; the CLI's "
           "(20 seeds, 20,000 cells x 10 epochs) take minutes.")

if st.button("Compare searches", type="primary", disabled=is_running(JOB) or not methods, key="spaces_start",
             icon=":material/play_arrow:"):
    try:
        config = PoolSearchConfig(methods=tuple(methods), seeds=tuple(range(first, first + seeds)),
                                  budgets=parse_budgets(budget_text), signal=signal, report=report,
                                  vae_train=vae_train, vae_epochs=vae_epochs, vae_seed=vae_seed)
        vae = vae_file.strip() or None
        root, name = workspace(), str(path)
        start_saved_job(JOB, f"searches on {len(table):,} {table.space.name} cells",
                        lambda reporter: run_pool_comparison(table, config, vae=vae, device=device,
                                                             reporter=reporter, name=name),
                        save=lambda run: save_pool_comparison(run, root), context={"table": name})
        st.rerun()  # redraw with the button disabled while the job runs
    except LsoError as err:
        st.error(str(err))


def live(job) -> None:
    if job.state == "done" and isinstance(job.result, PoolRun):
        st.caption(f"Table: `{job.context['table']}`")
        pool_results(job.result, job.context.get("saved"))


job_panel(JOB, live=live)
saved_results("searches")
