"""Where the app finds tables and runs, and the cached loaders every page uses.

The workspace (user runs, searches, refinements) is ``runs/`` in the checkout unless ``LSO_WORKSPACE`` names
another folder (the tests point it at a temporary one); ``LSO_DEFAULT_RUN`` likewise replaces the shipped run.
Loaded tables and models are cached per path with
``st.cache_resource``: they are read-only, so sessions may share them; anything a user changes lives in
``st.session_state`` and stays private to that browser session.
"""

from __future__ import annotations

import os
from pathlib import Path

from typing import TYPE_CHECKING

import streamlit as st

from lso.bench.default import CHECKOUT, DEFAULT_RUN, EMBEDDED, SHARED_NB201
from lso.bench.space_table_file import is_space_table_file
from lso.bench.table import BenchmarkTable
from lso.errors import MetricError

if TYPE_CHECKING:  # torch and torch-geometric load only when a page needs a model: the Benchmark page opens faster
    from lso.bench.space_table import SpaceTable  # (through lso.spaces: only the Other spaces page loads one)
    from lso.models.workbench import LatentModel



def default_run() -> Path:
    """The shipped run the app offers beside the user's (``benchmarks_data/default_run``; ``LSO_DEFAULT_RUN``
    names another, or a missing folder to offer none)."""
    return Path(os.environ.get("LSO_DEFAULT_RUN", DEFAULT_RUN))


def workspace() -> Path:
    """The folder holding this user's runs (created on first use)."""
    root = Path(os.environ.get("LSO_WORKSPACE", (CHECKOUT or Path.cwd()) / "runs"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _user_parquet() -> dict[str, Path]:
    """Label -> path of the Parquet tables the user put into ``benchmarks_data/`` or the workspace (either kind:
    NAS-Bench-201 tables and space tables); the first folder wins a label both have."""
    found: dict[str, Path] = {}
    for folder in (EMBEDDED.parent, workspace()):
        for path in sorted(folder.glob("*.parquet")):
            if path != EMBEDDED:
                found.setdefault(f"imported {path.stem}", path)
    return found


def table_choices() -> dict[str, Path]:
    """Label -> path of every NAS-Bench-201 table the app can offer: the embedded default, the shared NB201 tables
    beside the checkout, and Parquet tables the user imported into ``benchmarks_data/`` or the workspace. Space
    tables (NB101, DARTS: the Other spaces page) are left out, told apart by their schema alone (a fraction of a
    millisecond per file, so the list is read afresh on every rerun)."""
    choices: dict[str, Path] = {}
    if EMBEDDED.exists():
        choices["embedded default"] = EMBEDDED
    for path in sorted(SHARED_NB201.parent.glob("nb201_*.csv")) if SHARED_NB201.parent.exists() else []:
        choices[f"NAS-Bench-201 {path.stem.removeprefix('nb201_')}"] = path
    for label, path in _user_parquet().items():
        if not is_space_table_file(path):
            choices.setdefault(label, path)
    return choices


def space_table_choices() -> dict[str, Path]:
    """Label -> path of the space tables (``lso.bench.SpaceTable``: NB101, DARTS...) in ``benchmarks_data/`` and the
    workspace, labelled as ``table_choices`` labels imported tables."""
    return {label: path for label, path in _user_parquet().items() if is_space_table_file(path)}


def pick_table(key: str = "table") -> tuple[str, BenchmarkTable]:
    """A sidebar select box of tables (shared across pages through ``st.session_state[key]``)."""
    choices = table_choices()
    if not choices:
        st.error("No benchmark table found. Import one with `lso bench import` (see the README).")
        st.stop()
    # Streamlit drops a widget's state when the page changes; keep the choice under a second key so the
    # table stays picked from page to page.
    kept = f"{key}__kept"
    if key not in st.session_state and st.session_state.get(kept) in choices:
        st.session_state[key] = st.session_state[kept]
    label = st.sidebar.selectbox("Benchmark table", list(choices), key=key)
    st.session_state[kept] = label
    return label, load_table(str(choices[label]))


def metric_index(table: BenchmarkTable, *splits: str) -> int:
    """Position in ``table.metrics`` of the metric a select box shows first: the table's own metric of the first of
    ``splits`` it has (``BenchmarkTable.default_metric``, as the CLI defaults), else 0."""
    for split in splits:
        try:
            return table.metrics.index(table.default_metric(split))
        except MetricError:
            continue
    return 0


def paired_index(table: BenchmarkTable, metric: str, split: str) -> int:
    """Position of ``metric``'s own dataset's ``split`` metric (``cifar100_valid`` -> ``cifar100_test``), as the
    CLI defaults (``BenchmarkTable.paired_metric``); else ``metric_index(table, split)``."""
    try:
        return table.metrics.index(table.paired_metric(metric, split))
    except MetricError:
        return metric_index(table, split)


@st.cache_resource(show_spinner="Loading the table...")
def load_table(path: str) -> BenchmarkTable:
    return BenchmarkTable.load(path)


def load_space_table(path: str) -> SpaceTable:
    """``SpaceTable.load(path)``, cached per path and modification time (a rebuilt table is read again); raises its
    ``BenchmarkFileError`` (missing, not a space table, checksum) for the page to show."""
    try:
        stamp = Path(path).stat().st_mtime_ns
    except OSError:
        stamp = 0  # SpaceTable.load names the problem
    return _load_space_table(path, stamp)


@st.cache_resource(show_spinner="Loading the space table...")
def _load_space_table(path: str, stamp: int) -> SpaceTable:
    from lso.bench.space_table import SpaceTable

    return SpaceTable.load(path)


@st.cache_resource(show_spinner="Loading the trained run...")
def load_model(run_dir: str, mtime: float) -> "LatentModel":
    """The run's G-VAE and surrogate on CPU; ``mtime`` (of its metrics file) keys the cache, so a retrained or
    deleted-and-recreated run is reloaded."""
    from lso.models.workbench import LatentModel

    return LatentModel.load(run_dir, device="cpu")
