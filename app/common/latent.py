"""Trained runs the app can show, and the cached latent view of a run (every cell encoded and projected once).

``latent_view(run_dir, mtime)`` is shared by the Latent space and Search pages: keyed by the run path and the
mtime of its ``metrics.json`` (``run_mtime``), so a retrained run is re-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from common.data import default_run, load_model, load_table, workspace
from lso.errors import LsoError
from lso.space import all_cells
from lso.search.preflight import read_provenance
from lso.train.runs import read_run
from lso.runs.format import RunLayout
from lso.viz.cell_values import hover_texts
from lso.viz.projection import Projection


@dataclass(frozen=True)
class LatentView:
    """Every cell of the space in one run's latent space.

    Attributes:
        run_dir: the run directory.
        z: ``[15625, d]`` posterior means in official index order (``LatentModel.encode_all``).
        projection: PCA of ``z`` (``lso.viz.projection.Projection``).
        coords: ``[15625, 2]`` float64 numpy, ``projection.transform(z)``.
    """

    run_dir: str
    z: torch.Tensor
    projection: Projection
    coords: np.ndarray


def run_choices(table_checksum: str | None = None) -> dict[str, Path]:
    """Label -> directory of every finished run (one with ``metrics.json``), best first: runs that fit the page's
    table (trained on the table with ``table_checksum``, or unsupervised: they serve any table) before the others,
    then by their surrogate's Spearman (runs without one last), then by name, so a picker opens on the best fitting
    run rather than the alphabetically first. The shipped default run is one of them."""
    choices = {p.name: p for p in sorted(workspace().iterdir()) if RunLayout.at(p).metrics.exists()}
    shipped = default_run()
    if RunLayout.at(shipped).metrics.exists():
        choices["default run (shipped)"] = shipped

    def rank(item: tuple[str, Path]) -> tuple[int, float, str]:
        label, path = item
        rho, _, trained_on = _summary(str(path), run_mtime(path))
        fits = table_checksum is None or trained_on is None or trained_on == table_checksum
        return (0 if fits else 1, -rho if rho == rho else 2.0, label)

    return dict(sorted(choices.items(), key=rank))


def run_quality(run_dir: str | Path | None) -> str:
    """One line on a run's quality and settings for a picker ("" for none or an unreadable run)."""
    if run_dir is None:
        return ""
    return _summary(str(run_dir), run_mtime(run_dir))[1]


@st.cache_data(show_spinner=False, max_entries=256)
def _summary(run_dir: str, mtime: float) -> tuple[float, str, str | None]:
    """``(surrogate Spearman, one line for a picker, checksum of the table it learned from)`` of a finished run,
    read once per run and ``metrics.json`` mtime (pickers ask for every option on every rerun). The checksum is None
    for an unsupervised run (it serves any table) and "" for an unreadable one (it fits none)."""
    try:
        info, provenance = read_run(run_dir), read_provenance(run_dir)
    except LsoError:
        return float("nan"), "", ""
    rho = float(info.metrics.get("spearman", float("nan")))
    quality = "no surrogate score" if rho != rho else f"Spearman {rho:.2f}"
    line = f"{quality}, {info.epochs_done} epochs, {info.labels} labels, {info.metric or 'unsupervised'}"
    return rho, line, provenance.table_checksum if provenance.labels else None


def run_mtime(run_dir: str | Path) -> float:
    """The cache key of a run: mtime of its ``metrics.json`` (written last by training)."""
    return RunLayout.at(run_dir).metrics.stat().st_mtime


@st.cache_resource(show_spinner="Encoding all 15,625 cells...", max_entries=4)
def latent_view(run_dir: str, mtime: float) -> LatentView:
    """Encode every cell with the run's G-VAE once, fit the PCA plane and project (cached per run and mtime)."""
    z = load_model(run_dir, mtime).encode_all().cpu()
    projection = Projection.pca(z)
    return LatentView(run_dir=run_dir, z=z, projection=projection,
                      coords=projection.transform(z).double().numpy())


@st.cache_data(show_spinner=False, max_entries=8)
def map_sample(count: int, seed: int = 0) -> np.ndarray:
    """Official indices of the cells the map draws: all 15,625 when ``count`` reaches that, else a seeded random
    sample of ``count`` of them (sorted)."""
    total = len(all_cells())
    if count >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=count, replace=False))


@st.cache_data(show_spinner=False, max_entries=8)
def map_hover(table_path: str, count: int, seed: int = 0) -> list[str]:
    """Hover texts (arch and every metric of the table) of the ``map_sample(count, seed)`` cells."""
    return hover_texts(load_table(table_path), map_sample(count, seed))


@st.cache_resource(show_spinner="Drawing the latent map...", max_entries=4)
def base_map(_table, table_key: str, signal: str, report: str, run_dir: str, mtime: float):
    """The run's latent map coloured by ``signal`` (cached per table, metrics and run)."""
    from lso.space import num_cells
    from lso.viz.cell_values import values_by_index
    from lso.viz.latent_map import latent_map_figure

    hover = hover_texts(_table, np.arange(num_cells()), [signal, report])
    return latent_map_figure(latent_view(run_dir, mtime).coords, values_by_index(_table, signal), hover, signal)


def clicked_cells(event) -> list[int]:
    """Official indices of the cells picked on a map drawn with ``ids`` (``st.plotly_chart(..., on_select=...)``'s
    event; points of traces without ids, e.g. a path, are ignored)."""
    selection = (event or {}).get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", {})
    found = []
    for point in (selection or {}).get("points", []):
        data = point.get("customdata")
        if isinstance(data, (list, tuple)):
            data = data[0] if data else None
        if data is not None:
            found.append(int(data))
    return found
