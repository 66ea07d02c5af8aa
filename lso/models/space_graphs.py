"""Cells of any ``SearchSpace`` as batched torch-geometric graphs, for the per-space G-VAE (``lso.models.space_vae``).

Each cell's ``space.graph_tensors(cell)`` (a ``CellGraph``: node labels ``[N]``, ``edge_index [2, E]``, edge labels
``[E]``) is stored once, padded to the space's ``max_nodes`` and to the largest ``E`` of the set, so a mini-batch is
built by tensor indexing, without a Python loop per graph. A batch (``torch_geometric.data.Batch``) carries

* ``x [sum N, node_dim]``: the node label one-hot (``len(space.node_labels)``) followed by the node's position
  one-hot (``space.max_nodes``), ``node_dim = len(node_labels) + max_nodes``. The NB101 codec
  (``lso.models.space_codecs``) numbers a cell canonically before it is encoded, so there a position is a property
  of the cell, not of how it was written; in DARTS and NB201 positions are the nodes' fixed places;
* ``edge_index [2, 2 sum E]``: every edge in both directions, the forward edges of a graph first (in the order of
  ``graph_tensors``: sorted by target then source), then their reverses;
* ``edge_attr [2 sum E, edge_dim]``: the edge label one-hot (``len(space.edge_labels)``) and a reverse flag,
  ``edge_dim = len(edge_labels) + 1``;
* ``batch [sum N]`` and ``ptr [n + 1]`` as PyG makes them; ``node_ops [sum N]`` and ``edge_ops [sum E]`` (labels of
  the forward edges), so each graph's tensors can be compared with ``graph_tensors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional as F
from torch_geometric.data import Batch

from lso.spaces import SearchSpace


def node_dim(space: SearchSpace) -> int:
    """Width of ``x``: node label one-hot + position one-hot."""
    return len(space.node_labels) + space.max_nodes


def edge_dim(space: SearchSpace) -> int:
    """Width of ``edge_attr``: edge label one-hot + reverse flag."""
    return len(space.edge_labels) + 1


@dataclass(frozen=True)
class SpaceGraphs:
    """``n`` cells of one space as padded tensors (module docstring); ``batch(rows)`` gives a PyG ``Batch``.

    Attributes:
        node_ops: LongTensor ``[n, max_nodes]``, node labels, ``-1`` past a graph's last node.
        edges: LongTensor ``[n, max_edges, 3]``, ``(source, target, label)`` per edge, ``-1`` rows past the last.
        num_nodes / num_edges: LongTensor ``[n]``.
    """

    space_name: str
    num_node_labels: int
    num_edge_labels: int
    max_nodes: int
    node_ops: torch.Tensor
    edges: torch.Tensor
    num_nodes: torch.Tensor
    num_edges: torch.Tensor

    @classmethod
    def from_cells(cls, space: SearchSpace, cells: Sequence) -> SpaceGraphs:
        """The graphs of ``cells`` (``space.graph_tensors`` of each)."""
        graphs = [space.graph_tensors(c) for c in cells]
        n = len(graphs)
        max_edges = max((g.num_edges for g in graphs), default=0)
        node_ops = torch.full((n, space.max_nodes), -1, dtype=torch.long)
        edges = torch.full((n, max_edges, 3), -1, dtype=torch.long)
        for i, g in enumerate(graphs):
            node_ops[i, : g.num_nodes] = g.node_ops
            edges[i, : g.num_edges, :2] = g.edge_index.t()
            edges[i, : g.num_edges, 2] = g.edge_ops
        return cls(
            space_name=space.name,
            num_node_labels=len(space.node_labels),
            num_edge_labels=len(space.edge_labels),
            max_nodes=space.max_nodes,
            node_ops=node_ops,
            edges=edges,
            num_nodes=torch.tensor([g.num_nodes for g in graphs], dtype=torch.long),
            num_edges=torch.tensor([g.num_edges for g in graphs], dtype=torch.long),
        )

    def __len__(self) -> int:
        return int(self.num_nodes.shape[0])

    @property
    def node_dim(self) -> int:
        return self.num_node_labels + self.max_nodes

    @property
    def edge_dim(self) -> int:
        return self.num_edge_labels + 1

    def batch(self, rows: torch.Tensor | Sequence[int] | None = None, device: torch.device | str = "cpu") -> Batch:
        """The graphs at ``rows`` (all when ``None``) as one ``torch_geometric.data.Batch`` on ``device``."""
        rows = torch.arange(len(self)) if rows is None else torch.as_tensor(rows, dtype=torch.long).reshape(-1)
        node_ops, edges = self.node_ops[rows], self.edges[rows]
        num_nodes = self.num_nodes[rows]
        n = int(rows.shape[0])
        ptr = torch.zeros(n + 1, dtype=torch.long)
        ptr[1:] = torch.cumsum(num_nodes, 0)
        node_mask = node_ops >= 0  # [n, max_nodes]; nodes of a graph come first, so masking keeps their order
        ops = node_ops[node_mask]
        position = torch.arange(self.max_nodes).expand(n, -1)[node_mask]
        x = torch.cat([F.one_hot(ops, self.num_node_labels), F.one_hot(position, self.max_nodes)], 1).float()
        edge_mask = edges[..., 0] >= 0
        offset = ptr[:-1].unsqueeze(1).expand(-1, edges.shape[1])[edge_mask]
        src, dst, labels = edges[..., 0][edge_mask] + offset, edges[..., 1][edge_mask] + offset, edges[..., 2][edge_mask]
        label_hot = F.one_hot(labels, self.num_edge_labels).float()
        edge_attr = torch.cat([
            torch.cat([label_hot, torch.zeros(len(labels), 1)], 1),
            torch.cat([label_hot, torch.ones(len(labels), 1)], 1),
        ])
        batch = torch.repeat_interleave(torch.arange(n), num_nodes)
        out = Batch(
            x=x, edge_index=torch.stack([torch.cat([src, dst]), torch.cat([dst, src])]), edge_attr=edge_attr,
            batch=batch, ptr=ptr, node_ops=ops, edge_ops=labels,
        )
        out._num_graphs = n  # what Batch.num_graphs reads (from_data_list sets it the same way)
        return out.to(device)
