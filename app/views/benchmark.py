"""Benchmark page: a table's metric distribution, its best cells, and one cell drawn as a DAG with its costs."""

import numpy as np
import streamlit as st

from common.cells import parse_cell_text
from common.data import metric_index, pick_table
from lso.errors import LsoError
from lso.space import Cell, flops, index_of, num_params, unique_ids
from lso.viz.cell_graph import cell_graph_figure
from lso.viz.histogram import metric_histogram


st.title("Benchmark")
label, table = pick_table()
meta = table.meta
st.caption(f"**{label}**: {len(table):,} cells ({table.num_unique:,} unique up to isomorphism"
           f"{'' if table.is_complete else ', incomplete table'}) · source `{meta.source or '?'}` · "
           f"dataset {meta.dataset or '?'}{' · ' + meta.fidelity if meta.fidelity else ''}")
if not table.metrics:
    st.error("This table has no metric columns.")
    st.stop()

left, right = st.columns([3, 2])
metric = left.selectbox("Metric", table.metrics, index=metric_index(table, "valid", "test"), key="bench_metric")
k = right.number_input("Top k", min_value=1, max_value=200, value=10, step=1, key="bench_k")
values = table.values(metric)
info = table.metric_info(metric)
top = table.top(metric, int(k))

st.subheader(f"Top {int(k)} cells by {metric} ({'highest' if info.direction == 'max' else 'lowest'} first)")
st.dataframe(top, hide_index=True, width="stretch", height=min(38 + 35 * len(top), 400))

st.subheader("One cell")
pick_col, type_col = st.columns(2)
ranked = [f"{r + 1}. #{row['index']}  {row['arch']}" for r, row in top.iterrows()]
picked = pick_col.selectbox("From the top k", range(len(ranked)), format_func=lambda r: ranked[r],
                            key="bench_pick")
typed = type_col.text_input("...or type an arch string or an official index", key="bench_arch",
                            placeholder="|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|...|  or  1462")
cell = None
if typed.strip():
    try:
        cell = parse_cell_text(typed)
    except LsoError as err:
        st.error(f"Not a cell: {err}")
else:
    cell = Cell.from_string(top["arch"].iloc[picked])

value = float("nan")
if cell is not None:
    index = index_of(cell)
    graph_col, info_col = st.columns([3, 2])
    show_none = graph_col.toggle("Show `none` edges (dashed)", value=True, key="bench_show_none")
    graph_col.plotly_chart(cell_graph_figure(cell, show_none=show_none), key="bench_graph")
    info_col.markdown(f"**#{index}** (isomorphism class #{unique_ids()[index]})  \n`{cell.to_string()}`")
    a, b = info_col.columns(2)
    a.metric("NB201 CIFAR-10 params (M)", f"{num_params(cell) / 1e6:.3f}",
             help="NB201's CIFAR-10 macro network (C=16, N=5), whatever this table's dataset")
    b.metric("NB201 CIFAR-10 FLOPs (M)", f"{flops(cell) / 1e6:.1f}",
             help="multiply-accumulates, NB201 convention, 32x32 input")
    dead = sum(cell.dead_edges()) - sum(op == "none" for op in cell.ops)
    if cell.is_disconnected:
        info_col.warning("This cell is disconnected: no path of non-`none` edges joins input and output.")
    elif dead:
        info_col.caption(f"{dead} edge(s) carry an operation but do not reach the output (drawn faded).")
    try:
        row = table.row(cell)
    except LsoError as err:
        info_col.warning(str(err))
    else:
        value = row[metric]
        rank = int(np.sum(info.sign * values > info.sign * value)) + 1  # cells strictly better, by direction
        info_col.markdown(f"Rank **{rank:,}** of {len(values):,} by {metric}")
        units = [(table.metric_info(k).unit or "-") if k in table.metrics else "-" for k in row]
        info_col.dataframe({"column": list(row), "value": list(row.values()), "unit": units}, hide_index=True,
                           width="stretch")
        if {"params", "flops"} & set(row):  # lso-built tables: counts of the network the table trained
            info_col.caption(f"The table's `params` / `flops` count the network it trained on "
                             f"{table.meta.dataset or 'its dataset'} (plain counts), not NB201's CIFAR-10 network.")

st.subheader(f"Distribution of {metric}")
st.plotly_chart(metric_histogram(values, metric, marks={"selected cell": value}), key="bench_hist")
