"""Cells as graph tensors: layout, 'none' edges kept, vectorised build of all cells, unique-cell map."""

from __future__ import annotations

import time

import pytest
import torch

from lso.data.graphs import (EDGE_DIM, GraphDataError, all_graphs, all_ops, cells_from_ops, graphs_from_ops, ops_of,
                             unique_map)
from lso.space import EDGES, OPS, Cell, all_cells

ARCH = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|"


def test_one_graph_layout_matches_the_cell():
    cell = Cell.from_string(ARCH)
    g = graphs_from_ops(ops_of([cell]))
    assert g.x.shape == (4, 4) and torch.equal(g.x, torch.eye(4))
    assert g.edge_index.shape == (2, 12) and g.edge_attr.shape == (12, EDGE_DIM)
    for slot, (to, frm) in enumerate(EDGES):
        assert g.edge_index[:, slot].tolist() == [frm, to]  # forward edge frm -> to
        assert g.edge_index[:, 6 + slot].tolist() == [to, frm]  # its reverse
        op = OPS.index(cell.ops[slot])
        assert g.edge_attr[slot, :5].argmax().item() == op and g.edge_attr[slot, 5] == 0
        assert g.edge_attr[6 + slot, :5].argmax().item() == op and g.edge_attr[6 + slot, 5] == 1
    # 'none' edges are kept, with the 'none' one-hot: two cells differing only there have different graphs
    assert g.edge_attr[1, 0] == 1 and g.edge_attr[5, 0] == 1
    other = graphs_from_ops(ops_of([cell.with_op(1, "skip_connect")]))
    assert not torch.equal(other.edge_attr, g.edge_attr)


def test_all_cells_build_fast_and_in_official_order():
    all_ops()  # the op table is cached once per process; the graph build itself is what must be fast
    start = time.perf_counter()
    g = all_graphs()
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"building all graphs took {elapsed:.2f} s"
    assert g.num_graphs == 15625 and g.x.shape == (62500, 4) and g.edge_index.shape == (2, 187500)
    assert g.batch.bincount().tolist() == [4] * 15625
    assert int(g.edge_index.max()) == 62499
    assert cells_from_ops(g.ops) == list(all_cells())
    sub = g.select([7, 3])
    assert sub.ops.tolist() == [list(all_cells()[7].indices), list(all_cells()[3].indices)]
    assert sub.edge_index.max().item() == 7  # re-indexed into the small batch


def test_pyg_batch_view():
    batch = all_graphs().select(torch.arange(5)).to_pyg()
    assert batch.num_graphs == 5 and batch.ptr.tolist() == [0, 4, 8, 12, 16, 20]
    assert batch.edge_attr.shape == (60, EDGE_DIM)


def test_unique_map_has_6466_classes():
    umap = unique_map()
    assert len(umap.rows) == 6466 and len(umap.inverse) == 15625
    cells = all_cells()
    for i in (0, 100, 15624):
        rep = cells[int(umap.rows[umap.inverse[i]])]
        assert rep.canonical() == cells[i].canonical()


@pytest.mark.parametrize("bad", [torch.zeros(3, 5, dtype=torch.long), torch.full((2, 6), 5)])
def test_bad_ops_are_rejected(bad):
    with pytest.raises(GraphDataError):
        graphs_from_ops(bad)
