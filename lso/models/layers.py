"""Message-passing layers of the cell-graph encoders, all ``torch_geometric.nn`` layers with one call signature.

Every layer maps node states ``x [N, c_in]``, ``edge_index [2, E]`` (row 0 the source ``j``, row 1 the target ``i``;
PyG's ``source_to_target`` flow) and ``edge_attr [E, edge_dim]`` to new node states ``[N, c_out]``. The kinds
(``ConvKind``):

* ``"edge"`` (``EdgeConv``, the default, CR-LSO's G-VAE layer): an edge-aware message with sum aggregation and a
  root term, ``m_ij = LeakyReLU(W [x_i || x_j || e_ij] + b)``, ``x_i' = LeakyReLU(sum_{j -> i} m_ij + R x_i)``;
* ``"gine"`` (PyG ``GINEConv``, Hu et al. 2020): ``x_i' = LeakyReLU(MLP((1 + eps) x_i + sum_{j -> i}
  ReLU(x_j + W_e e_ij)))`` with ``MLP = Linear -> LeakyReLU -> Linear`` and a trainable ``eps`` (starts at 0);
* ``"gat"`` (PyG ``GATConv`` with ``edge_dim``, Velickovic et al. 2018): ``x_i' = LeakyReLU(||_h sum_{j in N(i) +
  {i}} alpha^h_ij Theta^h x_j + b)``, ``alpha^h_ij = softmax_j(LeakyReLU(a^h . [Theta^h x_i || Theta^h x_j ||
  Theta^h_e e_ij]))``, ``heads`` heads of width ``c_out / heads`` concatenated (self-loops get the mean edge feature).

All use LeakyReLU with slope 0.2 on their output.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch_geometric.nn import GATConv, GINEConv, MessagePassing

from lso.data.graphs import EDGE_DIM
from lso.runs.config import CONV_KINDS, ConvKind  # the kinds a TrainConfig may name (defined with it)

SLOPE = 0.2


class EdgeConv(MessagePassing):
    """CR-LSO's edge-aware layer as a PyG ``MessagePassing`` (``aggr="add"``), ``x [N, c_in]``, ``edge_index [2, E]``,
    ``edge_attr [E, edge_dim]`` -> ``[N, c_out]``:

    ``m_ij = LeakyReLU(W [x_i || x_j || e_ij] + b)`` for each edge ``j -> i``; ``x_i' = LeakyReLU(sum_j m_ij + R x_i)``.

    ``W [x_i || x_j || e_ij]`` is computed as ``W_i x_i + W_j x_j + W_e e_ij``, with ``W_i x`` and ``W_j x`` evaluated
    once per node and handed to ``propagate`` as the (source, target) pair, so PyG gathers ``[E, c_out]`` rows of
    projected states instead of concatenating ``[E, 2 c_in + edge_dim]`` inputs: the same function at a fraction of
    the cost (the edges outnumber the nodes 3 to 1). Parameters (state-dict keys): ``target`` (``W_i``, carries
    ``b``), ``source`` (``W_j``), ``edge`` (``W_e``), ``root`` (``R``).
    """

    def __init__(self, c_in: int, c_out: int, edge_dim: int = EDGE_DIM) -> None:
        super().__init__(aggr="add")
        self.target = nn.Linear(c_in, c_out)  # W_i (carries the bias b)
        self.source = nn.Linear(c_in, c_out, bias=False)  # W_j
        self.edge = nn.Linear(edge_dim, c_out, bias=False)  # W_e
        self.root = nn.Linear(c_in, c_out, bias=False)  # R

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        """``[N, c_in]``, ``[2, E]``, ``[E, edge_dim]`` -> ``[N, c_out]``."""
        # Projections in the order target, source, edge, root: autograd then sums the three gradients reaching x in
        # the same order as the hand-written layer did, so training is bit-for-bit unchanged.
        x_target, x_source = self.target(x), self.source(x)
        aggregated = self.propagate(edge_index, x=(x_source, x_target), e=self.edge(edge_attr))
        return F.leaky_relu(aggregated.add_(self.root(x)), SLOPE, inplace=True)  # fresh tensor: in place is safe

    def message(self, x_i: torch.Tensor, x_j: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """``m_ij = LeakyReLU(W_i x_i + b + W_j x_j + W_e e_ij)``, ``[E, c_out]`` (inputs already projected).

        Computed in place in ``x_i``, the fresh ``[E, c_out]`` gather PyG made for this call and uses for nothing
        else (the gather and the adds save nothing for backward; in-place LeakyReLU saves its output): the
        per-edge tensors are the largest in the encoder, and this allocates three per layer where the hand-written
        layer allocated six. The sum order ``(x_i + x_j) + e`` is the hand-written layer's, so results are
        bit-for-bit the same."""
        return F.leaky_relu(x_i.add_(x_j).add_(e), SLOPE, inplace=True)


class GINELayer(nn.Module):
    """PyG ``GINEConv`` with a 2-layer MLP and an output LeakyReLU (module equation), same call as ``EdgeConv``."""

    def __init__(self, c_in: int, c_out: int, edge_dim: int = EDGE_DIM) -> None:
        super().__init__()
        mlp = nn.Sequential(nn.Linear(c_in, c_out), nn.LeakyReLU(SLOPE), nn.Linear(c_out, c_out))
        self.conv = GINEConv(mlp, train_eps=True, edge_dim=edge_dim)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        """``[N, c_in]``, ``[2, E]``, ``[E, edge_dim]`` -> ``[N, c_out]``."""
        return F.leaky_relu(self.conv(x, edge_index, edge_attr), SLOPE)


class GATLayer(nn.Module):
    """PyG ``GATConv`` with edge features (``edge_dim``), ``heads`` concatenated heads of width ``c_out // heads``
    and an output LeakyReLU (module equation), same call as ``EdgeConv``."""

    def __init__(self, c_in: int, c_out: int, edge_dim: int = EDGE_DIM, heads: int = 4) -> None:
        super().__init__()
        if heads < 1 or c_out % heads:
            raise ValueError(f"GAT width {c_out} must be a positive multiple of heads={heads}")
        self.conv = GATConv(c_in, c_out // heads, heads=heads, edge_dim=edge_dim, negative_slope=SLOPE)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        """``[N, c_in]``, ``[2, E]``, ``[E, edge_dim]`` -> ``[N, c_out]``."""
        return F.leaky_relu(self.conv(x, edge_index, edge_attr), SLOPE)


def make_conv(kind: ConvKind, c_in: int, c_out: int, edge_dim: int = EDGE_DIM, heads: int = 4) -> nn.Module:
    """A layer of ``kind`` (module docstring) from ``c_in`` to ``c_out`` channels; ``heads`` is used by ``"gat"``."""
    if kind == "edge":
        return EdgeConv(c_in, c_out, edge_dim)
    if kind == "gine":
        return GINELayer(c_in, c_out, edge_dim)
    if kind == "gat":
        return GATLayer(c_in, c_out, edge_dim, heads)
    raise ValueError(f"unknown layer kind {kind!r}; choose one of {', '.join(CONV_KINDS)}")
