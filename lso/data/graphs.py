"""NAS-Bench-201 cells as batched graph tensors in torch-geometric layout, built without a Python loop per graph.

Every cell is the same DAG: 4 nodes, 6 edge slots (``lso.space.EDGES``). A graph carries

* node features: the node id one-hot, ``x`` of shape ``[4 n, 4]``;
* edges in both directions (``12`` per cell), ``edge_index`` of shape ``[2, 12 n]``; forward edges ``i -> j`` come
  first (slot order), then their reverses;
* edge features ``edge_attr`` of shape ``[12 n, 6]``: the op one-hot over ``OPS`` (5) and a reverse-direction flag.
  Edges carrying ``none`` are KEPT, with the ``none`` one-hot: dropping them would make e.g. a ``none`` edge and a
  missing edge the same input, and cells that differ only in where ``none`` sits would collide;
* ``batch`` of shape ``[4 n]`` (graph of each node) and ``ops`` of shape ``[n, 6]`` (op index per slot, the decoder's
  reconstruction target).

Since all graphs share one structure, a batch is tiled index tensors plus the op tensor; ``CellGraphs.select`` takes
any subset of rows in O(rows) tensor work. ``to_pyg`` gives a ``torch_geometric.data.Batch`` for PyG users.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import torch

from lso.errors import LsoError
from lso.space import EDGES, NUM_EDGES, NUM_NODES, OPS, Cell, all_cells, unique_ids

NUM_OPS = len(OPS)
NODE_DIM = NUM_NODES
EDGE_DIM = NUM_OPS + 1  # op one-hot + reverse flag
EDGES_PER_GRAPH = 2 * NUM_EDGES

_SRC = torch.tensor([frm for _, frm in EDGES] + [to for to, _ in EDGES])  # [12]
_DST = torch.tensor([to for to, _ in EDGES] + [frm for _, frm in EDGES])  # [12]


class GraphDataError(LsoError):
    """Bad input to the graph builders (wrong op tensor shape or values, unreadable cache)."""


@dataclass(frozen=True)
class CellGraphs:
    """A batch of ``n`` cell graphs (see the module docstring for the tensor layout)."""

    x: torch.Tensor  # [4n, 4] float
    edge_index: torch.Tensor  # [2, 12n] long
    edge_attr: torch.Tensor  # [12n, 6] float
    batch: torch.Tensor  # [4n] long
    ops: torch.Tensor  # [n, 6] long

    @property
    def num_graphs(self) -> int:
        return int(self.ops.shape[0])

    def __len__(self) -> int:
        return self.num_graphs

    def select(self, rows: torch.Tensor | Sequence[int]) -> "CellGraphs":
        """The graphs at ``rows`` (a LongTensor ``[m]`` or a sequence), as a new batch."""
        rows = torch.as_tensor(rows, dtype=torch.long, device=self.ops.device)
        return graphs_from_ops(self.ops.index_select(0, rows))

    def to(self, device: torch.device | str) -> "CellGraphs":
        """The same batch on ``device``."""
        return CellGraphs(*(t.to(device) for t in (self.x, self.edge_index, self.edge_attr, self.batch, self.ops)))

    def to_pyg(self):  # -> torch_geometric.data.Batch
        """A ``torch_geometric.data.Batch`` with the same tensors (plus ``ptr``), for PyG layers and tools."""
        from torch_geometric.data import Batch

        ptr = torch.arange(0, NUM_NODES * (self.num_graphs + 1), NUM_NODES, device=self.ops.device)
        return Batch(x=self.x, edge_index=self.edge_index, edge_attr=self.edge_attr, batch=self.batch, ptr=ptr, ops=self.ops)


def ops_of(cells: Sequence[Cell | str]) -> torch.Tensor:
    """Op indices of ``cells``, LongTensor ``[n, 6]`` (slot order of ``EDGES``)."""
    return torch.tensor([Cell.parse(c).indices for c in cells], dtype=torch.long).reshape(-1, NUM_EDGES)


def graphs_from_ops(ops: torch.Tensor) -> CellGraphs:
    """Build the batch for op indices ``ops`` ``[n, 6]`` (values in 0..4), vectorised over the batch."""
    if ops.dim() != 2 or ops.shape[1] != NUM_EDGES:
        raise GraphDataError(f"ops must have shape [n, {NUM_EDGES}], got {tuple(ops.shape)}")
    ops = ops.long()
    if ops.numel() and (int(ops.min()) < 0 or int(ops.max()) >= NUM_OPS):
        raise GraphDataError(f"op indices must lie in 0..{NUM_OPS - 1}")
    n, device = ops.shape[0], ops.device
    node_offset = (torch.arange(n, device=device) * NUM_NODES).unsqueeze(1)  # [n, 1]
    src = (_SRC.to(device).unsqueeze(0) + node_offset).reshape(-1)
    dst = (_DST.to(device).unsqueeze(0) + node_offset).reshape(-1)
    edge_ops = torch.cat([ops, ops], dim=1).reshape(-1)  # [12n]
    edge_attr = torch.zeros(n * EDGES_PER_GRAPH, EDGE_DIM, device=device)
    edge_attr[torch.arange(edge_attr.shape[0], device=device), edge_ops] = 1.0
    edge_attr[:, NUM_OPS] = torch.cat(
        [torch.zeros(NUM_EDGES, device=device), torch.ones(NUM_EDGES, device=device)]
    ).repeat(n)
    x = torch.eye(NUM_NODES, device=device).repeat(n, 1)
    batch = torch.arange(n, device=device).repeat_interleave(NUM_NODES)
    return CellGraphs(x=x, edge_index=torch.stack([src, dst]), edge_attr=edge_attr, batch=batch, ops=ops)


@lru_cache(maxsize=1)
def _all_ops() -> torch.Tensor:
    return ops_of(all_cells())


def all_ops() -> torch.Tensor:
    """Op indices of all 15,625 cells in official index order, ``[15625, 6]`` (a fresh copy)."""
    return _all_ops().clone()


def all_graphs(device: torch.device | str = "cpu") -> CellGraphs:
    """Graphs of all 15,625 cells, row ``i`` = official index ``i``."""
    return graphs_from_ops(all_ops().to(device))


@dataclass(frozen=True)
class UniqueMap:
    """The 6,466 isomorphism classes: ``rows`` ``[6466]`` official index of each class representative (its
    smallest index), ``inverse`` ``[15625]`` class position of every official index (``rows[inverse[i]]`` is
    the representative of cell ``i``)."""

    rows: torch.Tensor
    inverse: torch.Tensor


def unique_map() -> UniqueMap:
    """The mapping between all cells and their isomorphism classes (``lso.space.unique_ids``)."""
    ids = np.asarray(unique_ids())
    rows, inverse = np.unique(ids, return_inverse=True)
    return UniqueMap(rows=torch.from_numpy(rows).long(), inverse=torch.from_numpy(inverse).long())


_CODE_WEIGHTS = torch.tensor([NUM_OPS ** (NUM_EDGES - 1 - k) for k in range(NUM_EDGES)])


@lru_cache(maxsize=1)
def _cells_by_code() -> tuple[Cell, ...]:
    by_code: list[Cell | None] = [None] * NUM_OPS**NUM_EDGES
    for cell, code in zip(all_cells(), (_all_ops() * _CODE_WEIGHTS).sum(1).tolist()):
        by_code[code] = cell
    return tuple(by_code)  # type: ignore[arg-type]


def cells_from_ops(ops: torch.Tensor) -> list[Cell]:
    """Cells of op indices ``ops`` ``[n, 6]`` (a table look-up, no parsing)."""
    if ops.dim() != 2 or ops.shape[1] != NUM_EDGES:
        raise GraphDataError(f"ops must have shape [n, {NUM_EDGES}], got {tuple(ops.shape)}")
    table = _cells_by_code()
    return [table[c] for c in (ops.long().cpu() * _CODE_WEIGHTS).sum(1).tolist()]
