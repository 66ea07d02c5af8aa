"""Latent space page: every cell on the PCA plane of a run's latent space, a decoded straight path between two
cells, and the surrogate's landscape along that path and over the plane."""

from pathlib import Path

import numpy as np
import streamlit as st

from common.cells import cell_input, cell_panel
from common.data import load_model, load_table, pick_table, table_choices
from common.latent import clicked_cells, latent_view, map_hover, map_sample, run_choices, run_mtime, run_quality
from lso.errors import LsoError
from lso.space import all_cells, num_cells
from lso.train.runs import read_run
from lso.viz.cell_values import cell_values, values_by_index
from lso.viz.landscape import off_plane_distance, padded_range, plane_landscape
from lso.viz.landscape_figures import path_profile_figure, plane_landscape_figure
from lso.viz.latent_map import add_path_trace, latent_map_figure
from lso.viz.latent_paths import cell_path

st.title("Latent space")
table_label, picked_table = pick_table()
runs = run_choices(picked_table.meta.checksum)  # runs that fit the sidebar's table first, then by quality
if st.session_state.get("latent_run_table") != picked_table.meta.checksum:  # another table: offer its best run
    st.session_state.pop("latent_run", None)
    st.session_state["latent_run_table"] = picked_table.meta.checksum
if not runs:
    st.info("No trained run yet: train one on the **Train** page (or `lso train ... --out runs/NAME`).")
    st.stop()
run_label = st.sidebar.selectbox("Run", list(runs), key="latent_run", help="Best first (surrogate Spearman).",
                                 format_func=lambda k: f"{k} ({run_quality(runs[k])})")
run_dir = str(runs[run_label])
try:
    mtime = run_mtime(run_dir)
    info = read_run(run_dir)
    model = load_model(run_dir, mtime)
    view = latent_view(run_dir, mtime)
except (LsoError, OSError, ValueError) as err:
    st.error(f"Cannot load run {run_label}: {err}")
    st.stop()

if info.table and Path(info.table).exists():
    table_path, table = info.table, load_table(info.table)
    st.caption(f"Run **{run_label}**: trained on `{info.table}` ({info.metric}, {info.labels} labels).")
else:
    table_path, table = str(table_choices()[table_label]), picked_table
    st.warning(f"The table this run was trained on ({info.table or 'not recorded'}) is missing: "
               f"colouring with the picked table **{table_label}** instead.")
metrics = table.metrics
metric = st.sidebar.selectbox("Colour by", metrics, key="latent_metric",
                              index=metrics.index(info.metric) if info.metric in metrics else 0)
count = st.sidebar.select_slider("Cells drawn", [1000, 2500, 5000, 10000, num_cells()], value=5000,
                                 key="latent_count")
if not bool(model.surrogate.fitted):
    st.warning("This run's surrogate never saw a label (`--labels 0`): its scores are not in table units.")

# ----- the two path ends -------------------------------------------------------------------------------------------
values = values_by_index(table, metric)
order = np.argsort(np.where(np.isfinite(values), values, -np.inf))
a_col, b_col, k_col = st.columns([5, 5, 2])
with a_col:
    start = cell_input("Path start (arch or index)", str(int(order[-1])), key="latent_start")
with b_col:
    end = cell_input("Path end (arch or index)", str(int(order[len(order) // 2])), key="latent_end")
steps = k_col.number_input("Points", min_value=2, max_value=64, value=12, key="latent_steps")
path = cell_path(model, start, end, int(steps)) if start is not None and end is not None else None

# ----- the map ----------------------------------------------------------------------------------------------------
sample = map_sample(count)
map_fig = latent_map_figure(view.coords[sample], values[sample], map_hover(table_path, count), metric,
                            title=f"{run_label}: every cell's latent, PCA plane (click a cell)", ids=sample,
                            axis_titles=tuple(f"PC {i + 1} ({r:.0%} of the variance)"
                                              for i, r in enumerate(view.projection.explained)))
path_coords = None
if path is not None:
    path_coords = view.projection.transform(path.z).double().numpy()
    path_values = cell_values(table, path.cells, metric)
    add_path_trace(map_fig, path_coords, [f"t={t:.2f}<br>{c}<br>{metric}: {v:.2f}<br>surrogate: {p:.2f}" for t, c, v, p
                                          in zip(path.t.tolist(), path.cells, path_values, path.predicted.tolist())])
map_col, land_col = st.columns(2)
with map_col:
    picked = clicked_cells(st.plotly_chart(map_fig, key="latent_map", on_select="rerun", selection_mode="points"))
    if picked:
        cell_panel(all_cells()[picked[0]], table, start_key="latent_start", end_key="latent_end")
    st.caption(f"Drawing {len(sample):,} of {num_cells():,} cells"
               f"{' (a seeded random sample, to keep the page fast)' if len(sample) < num_cells() else ''}; "
               "grey points are cells the table lacks. The path starts at the square and ends at the star.")

# ----- the surrogate over the plane ---------------------------------------------------------------------------------
with land_col:
    resolution = st.slider("Landscape grid", 10, 120, 50, step=10, key="latent_resolution")
    landscape = plane_landscape(model, view.projection, padded_range(view.coords[:, 0], quantile=0.005),
                                padded_range(view.coords[:, 1], quantile=0.005), int(resolution))
    st.plotly_chart(plane_landscape_figure(landscape, info.metric or metric,
                                           None if path_coords is None else {"path": path_coords}),
                    key="latent_landscape")
    st.caption(f"Surrogate score on a {resolution}x{resolution} grid of the PCA plane (through the latents' mean).")

# ----- the path -------------------------------------------------------------------------------------------------------
if path is not None:
    st.subheader(f"Decoding the straight path: {len(path.distinct_cells())} distinct cells in {len(path)} points")
    off = off_plane_distance(view.projection, path.z[[0, -1]]).tolist()
    st.caption(f"Ends lie {off[0]:.2f} and {off[1]:.2f} off the plane (latent norm units); the map shows their "
               "projection. Surrogate scores are at the latent points, table values are of the decoded cells.")
    score = info.metric if info.metric in metrics else metric
    profile = path_profile_figure(path.t.numpy(), path.predicted.numpy(), cell_values(table, path.cells, score),
                                  score, hover=[str(c) for c in path.cells], same_axis=bool(model.surrogate.fitted))
    st.plotly_chart(profile, key="latent_profile")
    st.dataframe({"t": np.round(path.t.numpy(), 3), "decoded cell": [str(c) for c in path.cells],
                  "new": path.changes(), f"table {metric}": path_values,
                  f"surrogate {score}": path.predicted.numpy()},
                 hide_index=True, width="stretch", key="latent_path_table")
