"""lso.viz: the figures and computations behind the Benchmark and Latent space pages (no real data needed)."""

from __future__ import annotations

import base64

import numpy as np
import pytest
import torch

from lso.bench.table import BenchmarkTable
from lso.models.gvae import GVAE
from lso.models.icnn import ICNN
from lso.models.workbench import LatentModel
from lso.space import OPS, Cell, all_cells, cell_from_index
from lso.viz.cell_graph import cell_graph_figure, edge_traces
from lso.viz.cell_values import cell_values, hover_texts, values_by_index
from lso.viz.histogram import metric_histogram
from lso.viz.landscape import off_plane_distance, padded_range, plane_grid, plane_landscape
from lso.viz.landscape_figures import path_profile_figure, plane_landscape_figure
from lso.viz.latent_map import add_path_trace, latent_map_figure
from lso.viz.latent_paths import cell_path, straight_path
from lso.viz.projection import Projection

MIXED = Cell(("nor_conv_3x3", "none", "skip_connect", "none", "avg_pool_3x3", "nor_conv_1x1"))


def plotted(values) -> np.ndarray:
    """A trace array as plotly stores it (numpy array, list, or typed-array dict in JSON form)."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
    return np.asarray(values)


@pytest.fixture(scope="module")
def model() -> LatentModel:
    """A randomly initialised G-VAE + ICNN (latent 8): enough to test the plumbing without training."""
    torch.manual_seed(0)
    icnn = ICNN(8, (16, 16))
    icnn.set_scaler(85.0, 5.0)
    return LatentModel(GVAE(8, 32, 2), icnn)


@pytest.fixture(scope="module")
def small_table() -> BenchmarkTable:
    cells = [cell_from_index(i) for i in (0, 5, 17, 123, 4000)]
    return BenchmarkTable.from_metrics({c: {"acc": 50.0 + i, "cost": float(i)} for i, c in enumerate(cells)})


# ----- cell graph ---------------------------------------------------------------------------------------------------
def test_cell_graph_draws_one_edge_per_non_none_op():
    fig = cell_graph_figure(MIXED, show_none=False)
    edges = edge_traces(fig)
    assert len(edges) == sum(op != "none" for op in MIXED.ops) == 4
    assert sorted(t.meta["op"] for t in edges) == sorted(op for op in MIXED.ops if op != "none")
    assert {t.meta["edge"] for t in edges} == {"1<-0", "2<-1", "3<-1", "3<-2"}
    nodes = [t for t in fig.data if t not in edges]
    assert len(nodes) == 1 and len(nodes[0].x) == 4


def test_cell_graph_dashes_none_edges_and_labels_every_edge():
    fig = cell_graph_figure(MIXED, show_none=True)
    edges = edge_traces(fig)
    assert len(edges) == 6
    for t in edges:
        assert (t.line.dash == "dash") == (t.meta["op"] == "none")
    labels = [a.text for a in fig.layout.annotations if a.text]
    assert sorted(labels) == sorted(["conv 3x3", "none", "skip", "none", "avg pool", "conv 1x1"])


def test_cell_graph_marks_dead_edges():
    # 1<-0 is none, so the conv on 2<-1 has no input: dead but drawn (faded).
    cell = Cell(("none", "skip_connect", "nor_conv_3x3", "skip_connect", "none", "none"))
    edges = {t.meta["edge"]: t for t in edge_traces(cell_graph_figure(cell, show_none=False))}
    assert edges["2<-1"].meta["dead"] and edges["2<-1"].opacity < 1
    assert not edges["3<-0"].meta["dead"] and edges["3<-0"].opacity == 1


def test_cell_graph_of_all_none_has_no_edges_and_accepts_strings():
    assert edge_traces(cell_graph_figure(Cell(("none",) * 6), show_none=False)) == []
    fig = cell_graph_figure(MIXED.to_string())
    assert [t.meta["op"] for t in edge_traces(fig)] == list(MIXED.ops)


# ----- histogram and table values -----------------------------------------------------------------------------------
def test_histogram_holds_the_finite_values_and_the_marks():
    values = np.array([1.0, 2.0, np.nan, 3.0])
    fig = metric_histogram(values, "acc", marks={"selected": 2.5, "skipped": float("nan")})
    assert np.array_equal(plotted(fig.data[0].x), [1.0, 2.0, 3.0])
    assert fig.layout.xaxis.title.text == "acc"
    assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].x0 == 2.5


def test_values_by_index_is_nan_where_the_table_has_no_row(small_table):
    full = values_by_index(small_table, "acc")
    assert full.shape == (len(all_cells()),)
    assert np.isfinite(full).sum() == 5 and full[17] == small_table.query(17, "acc")
    got = cell_values(small_table, [cell_from_index(123), cell_from_index(1)], "cost")
    assert got[0] == small_table.query(123, "cost") and np.isnan(got[1])


def test_hover_texts_name_the_cell_and_its_scores(small_table):
    texts = hover_texts(small_table, [5, 1], extra={"surrogate": np.array([1.5, 2.25])})
    assert texts[0].startswith(f"#5 {cell_from_index(5)}")
    assert f"acc: {small_table.query(5, 'acc'):.2f}" in texts[0] and "surrogate: 1.50" in texts[0]
    assert "acc: n/a" in texts[1] and "surrogate: 2.25" in texts[1]


# ----- latent map ---------------------------------------------------------------------------------------------------
def test_latent_map_puts_missing_values_in_a_grey_trace():
    coords = np.arange(10, dtype=float).reshape(5, 2)
    values = np.array([1.0, np.nan, 3.0, 4.0, np.nan])
    fig = latent_map_figure(coords, values, [f"p{i}" for i in range(5)], "acc", title="t")
    missing, known = fig.data
    assert list(missing.hovertext) == ["p1", "p4"] and list(known.hovertext) == ["p0", "p2", "p3"]
    assert np.array_equal(plotted(known.marker.color), [1.0, 3.0, 4.0])
    assert np.array_equal(plotted(known.x), [0.0, 4.0, 6.0])
    assert known.marker.colorbar.title.text == "acc"


def test_latent_map_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match=r"\[n, 2\]"):
        latent_map_figure(np.zeros((3, 3)), np.zeros(3), ["a"] * 3, "acc")
    with pytest.raises(ValueError, match="one value and one hover"):
        latent_map_figure(np.zeros((3, 2)), np.zeros(2), ["a"] * 3, "acc")


def test_add_path_trace_marks_both_ends():
    fig = latent_map_figure(np.zeros((2, 2)), np.ones(2), ["a", "b"], "acc")
    add_path_trace(fig, np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]]), ["s", "m", "e"])
    path = fig.data[-1]
    assert list(path.marker.symbol) == ["square", "circle", "star"] and list(path.hovertext) == ["s", "m", "e"]


# ----- latent paths -------------------------------------------------------------------------------------------------
def test_straight_path_starts_and_ends_at_the_endpoints_decodes(model):
    torch.manual_seed(1)
    za, zb = torch.randn(8) * 2, torch.randn(8) * 2
    path = straight_path(model, za, zb, 9)
    assert len(path) == 9 and path.z.shape == (9, 8) and path.predicted.shape == (9,)
    assert path.cells[0] == model.decode(za[None])[0] and path.cells[-1] == model.decode(zb[None])[0]
    assert torch.allclose(path.z[0], za) and torch.allclose(path.z[-1], zb)
    assert torch.allclose(path.z[4], (za + zb) / 2, atol=1e-6)
    assert torch.allclose(path.predicted, model.predict(path.z))
    for cell in path.cells:
        assert isinstance(cell, Cell) and Cell.from_string(cell.to_string()) == cell
        assert all(op in OPS for op in cell.ops)
    assert path.changes()[0] and sum(path.changes()) == len(path.distinct_cells())
    assert path.cells == tuple(model.decode(path.z))


def test_cell_path_runs_between_the_encodings(model):
    a, b = cell_from_index(10), cell_from_index(9000)
    path = cell_path(model, a, b, 5)
    z = model.encode([a, b])
    assert torch.allclose(path.z[0], z[0]) and torch.allclose(path.z[-1], z[1])
    assert float(path.t[0]) == 0.0 and float(path.t[-1]) == 1.0 and bool((path.t.diff() > 0).all())


def test_straight_path_rejects_bad_input(model):
    with pytest.raises(ValueError, match="at least 2"):
        straight_path(model, torch.zeros(8), torch.ones(8), 1)
    with pytest.raises(ValueError, match="size 8"):
        straight_path(model, torch.zeros(7), torch.ones(7), 3)


# ----- landscape ----------------------------------------------------------------------------------------------------
def test_plane_grid_is_row_major():
    xs, ys, points = plane_grid((0.0, 1.0), (-1.0, 1.0), 4)
    assert xs.shape == (4,) and ys.shape == (4,) and points.shape == (16, 2)
    assert torch.allclose(points[2 * 4 + 3], torch.tensor([xs[3], ys[2]], dtype=torch.float32))
    with pytest.raises(ValueError):
        plane_grid((1.0, 0.0), (0.0, 1.0), 4)


def test_plane_landscape_matches_predict_at_sample_points(model):
    z = model.encode(list(all_cells()[:400]))
    projection = Projection.pca(z)
    coords = projection.transform(z).numpy()
    x_range, y_range = padded_range(coords[:, 0]), padded_range(coords[:, 1])
    land = plane_landscape(model, projection, x_range, y_range, resolution=7, batch=10)
    assert land.xs.shape == (7,) and land.ys.shape == (7,) and land.scores.shape == (7, 7)
    assert land.xs[0] == pytest.approx(x_range[0]) and land.ys[-1] == pytest.approx(y_range[1])
    for j, i in [(0, 0), (3, 5), (6, 2), (6, 6)]:
        point = torch.tensor([[land.xs[i], land.ys[j]]], dtype=torch.float32)
        expected = float(model.predict(projection.lift(point))[0])
        assert land.scores[j, i] == pytest.approx(expected, rel=1e-5)
    assert land.scores.std() > 0


def test_off_plane_distance_is_zero_on_the_plane(model):
    z = model.encode(list(all_cells()[:50]))
    projection = Projection.pca(z)
    on_plane = projection.lift(torch.randn(5, 2))
    assert torch.allclose(off_plane_distance(projection, on_plane), torch.zeros(5), atol=1e-5)
    assert bool((off_plane_distance(projection, z) > 0).any())


def test_padded_range_widens_and_handles_constants():
    assert padded_range(np.array([0.0, 10.0]), margin=0.1) == pytest.approx((-1.0, 11.0))
    assert padded_range(np.array([2.0, 2.0]), margin=0.5) == pytest.approx((1.5, 2.5))
    lo, hi = padded_range(np.r_[np.linspace(0.0, 1.0, 1000), -1e6, 1e6, np.nan], margin=0.0, quantile=0.01)
    assert 0.0 <= lo < 0.02 and 0.98 < hi <= 1.0


def test_landscape_figures(model):
    fig = path_profile_figure(np.linspace(0, 1, 3), np.array([1.0, 2.0, 3.0]), np.array([5.0, np.nan, 6.0]), "acc",
                              same_axis=False)
    actual, surrogate = fig.data
    assert surrogate.yaxis == "y2" and fig.layout.yaxis2.overlaying == "y"
    assert np.isnan(plotted(actual.y)[1])
    with pytest.raises(ValueError):
        path_profile_figure(np.zeros(2), np.zeros(3), np.zeros(3), "acc")
    z = model.encode(list(all_cells()[:100]))
    land = plane_landscape(model, Projection.pca(z), (-1.0, 1.0), (-1.0, 1.0), resolution=5)
    fig = plane_landscape_figure(land, "acc", {"path": np.zeros((3, 2))})
    assert plotted(fig.data[0].z).shape == (5, 5) and len(fig.data[1].x) == 3


def test_runs_overlay_draws_one_colour_per_run():
    from lso.viz.train_figures import runs_overlay_figure

    rows = {"a": [{"epoch": 1, "loss": 2.0, "recon_acc": 0.1}, {"epoch": 2, "loss": 1.0, "recon_acc": 0.5}],
            "b": [{"epoch": 1, "loss": 3.0, "recon_acc": 0.0}]}
    fig = runs_overlay_figure(rows)
    assert [t.name for t in fig.data] == ["a", "a", "b", "b"]
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    assert list(fig.data[1].y) == [0.1, 0.5] and [t.showlegend for t in fig.data] == [None, False, None, False]
