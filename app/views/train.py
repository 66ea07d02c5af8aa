"""Train page: train a G-VAE + ICNN run in the background (live curves, Stop), then browse, resume or delete runs."""

import time

import streamlit as st
from common.data import metric_index, pick_table, table_choices, workspace
from common.jobs_view import holder, is_running, job_panel, start_job

from lso.device import describe_device, resolve_device
from lso.errors import LsoError
from lso.train import TrainConfig, train_run
from lso.runs.format import RunLayout
from lso.train.run import read_history
from lso.train.runs import KEY_METRICS, delete_run, list_runs, new_run_dir, resume_run, side_by_side
from lso.viz.train_figures import event_rows, history_rows, runs_overlay_figure, training_curves

JOB = "train_job"
DEFAULTS = TrainConfig(epochs=20)

st.title("Train the latent model")
st.caption("A graph VAE whose latent space is shaped by a convex (ICNN) surrogate of the chosen metric, trained on "
           "all 15,625 NAS-Bench-201 cells; the labelled cells are a seeded sample of the table.")
label, table = pick_table()
table_path = table_choices()[label]
device = resolve_device("auto")
root = workspace()


with st.form("train_form", enter_to_submit=False):  # Enter in a number field must not start a training
    metric = st.selectbox("Metric to learn", table.metrics, index=metric_index(table, "valid"))
    c1, c2, c3, c4 = st.columns(4)
    epochs = c1.number_input("Epochs", 1, 500, DEFAULTS.epochs)
    labels = c2.number_input("Labelled cells", 0, len(table), min(DEFAULTS.labels, len(table)),
                             help="0 trains an unsupervised G-VAE (the search then fits the surrogate itself).")
    seed = c3.number_input("Seed", 0, 2**31 - 1, DEFAULTS.seed)
    latent = c4.number_input("Latent dimension", 2, 128, DEFAULTS.latent_dim)
    with st.expander("More settings"):
        a1, a2 = st.columns(2)
        hidden = a1.number_input("Hidden width (encoder, decoder)", 8, 512, DEFAULTS.hidden)
        batch = a2.number_input("Batch size", 16, 4096, DEFAULTS.batch_size)
    name = st.text_input("Run name", placeholder="automatic: METRIC_lLABELS_sSEED_TIME",
                         help="A new folder of that name in the workspace.")
    st.caption(f"Runs are saved in `{root}`; training runs on {describe_device(device)}.")
    submitted = st.form_submit_button("Start training", type="primary", disabled=is_running(JOB))

if submitted:
    try:
        config = TrainConfig(epochs=int(epochs), labels=int(labels), seed=int(seed), latent_dim=int(latent),
                             hidden=int(hidden), batch_size=int(batch))
        out = new_run_dir(root, name.strip() or f"{metric}_l{labels}_s{seed}_{time.strftime('%Y%m%d_%H%M%S')}")
        start_job(JOB, f"training {out.name}",
                  lambda reporter: train_run(table_path, metric, config, out, device=device,
                                             reporter=reporter), holds=(out,))
        st.rerun()  # redraw with the form's button disabled while the job runs
    except LsoError as err:
        st.error(str(err))


def live_curves(job) -> None:
    rows = event_rows(job.reporter.events)
    if rows:
        st.plotly_chart(training_curves(rows, title="this training"), key=f"{JOB}:curves")


job_panel(JOB, live=live_curves)

st.header("Runs")
runs = list_runs(root)
if not runs:
    st.info("No runs in the workspace yet: start one above. Meanwhile the Latent space and Search pages use the "
            "shipped run (`default run`), trained on the embedded default table.")
    st.stop()
st.dataframe([r.row() for r in runs], hide_index=True,
             column_config={k: st.column_config.NumberColumn(format="%.3f") for k in KEY_METRICS})
compared = st.multiselect("Compare runs", [r.name for r in runs], key="train_compare",
                          help="Their settings and metrics side by side, and their training curves overlaid.")
if compared:
    chosen_runs = [r for r in runs if r.name in compared]
    st.dataframe(side_by_side(chosen_runs), hide_index=True)
    histories = {r.name: history_rows(read_history(RunLayout.at(r.path).history)) for r in chosen_runs
                 if RunLayout.at(r.path).history.exists()}
    st.plotly_chart(runs_overlay_figure(histories), key="train_compare_curves")
chosen = st.selectbox("Open a run", [r.name for r in runs], key="train_open_run")
info = next(r for r in runs if r.name == chosen)
layout = RunLayout.at(info.path)
writer = holder(info.path)  # a job (in any session, any tab) writing this run: no resume, no delete meanwhile
busy = writer is not None

left, right = st.columns([1, 2])
with left:
    st.subheader(info.name)
    st.write(f"**{'complete' if info.complete else 'unfinished'}**, {info.epochs_done}/{info.epochs} epochs, "
             f"metric `{info.metric}`, {info.labels} labels, seed {info.seed}, created {info.created}")
    if busy:
        st.caption(f"being written by the running job '{writer.name}': resume and delete wait until it ends")
    if info.metrics:
        st.dataframe({"metric": list(info.metrics), "value": [f"{v:.4g}" for v in info.metrics.values()]},
                     hide_index=True)
    with st.expander("config.json"):
        st.code(layout.config.read_text(), language="json")
with right:
    if layout.history.exists() and not busy:
        st.plotly_chart(training_curves(history_rows(read_history(layout.history)), title=f"history of {info.name}"),
                        key="train_history_curves")

if not info.complete and not busy:
    if st.button("Resume training", disabled=is_running(JOB), help="Continue from the last finished epoch."):
        try:
            start_job(JOB, f"resuming {info.name}", lambda reporter: resume_run(info.path, device=device,
                                                                               reporter=reporter), holds=(info.path,))
            st.rerun()
        except LsoError as err:
            st.error(str(err))

with st.popover("Delete this run", icon=":material/delete:", disabled=busy):
    st.write(f"This removes the folder `{info.path}` and everything in it.")
    if st.button(f"Yes, delete {info.name}", type="primary", key="train_confirm_delete"):
        try:
            delete_run(info.path, root)
            st.session_state.pop("train_open_run", None)
            st.rerun()
        except LsoError as err:
            st.error(str(err))
