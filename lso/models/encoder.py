"""Edge-aware message-passing encoder of cell graphs (CR-LSO's G-VAE encoder, DESIGN section 2).

Layer: ``m_ij = LeakyReLU(W [x_i || x_j || e_ij] + b)`` for each edge ``j -> i``, ``x_i' = LeakyReLU(sum_j m_ij +
R x_i)`` (sum aggregation plus a root term so a node keeps its own state). ``W [x_i || x_j || e_ij]`` is computed as
``W_i x_i + W_j x_j + W_e e_ij`` with ``W_i x`` and ``W_j x`` evaluated once per node, not once per edge: the same
function at a fraction of the cost (the edges outnumber the nodes 3 to 1). Three layers, sum pooling over the nodes
of each graph, then linear heads for ``mu`` and ``log sigma^2``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from lso.data.graphs import EDGE_DIM, NODE_DIM, CellGraphs

_SLOPE = 0.2


class EdgeConv(nn.Module):
    """One message-passing layer on ``x [N, c_in]``, ``edge_index [2, E]`` (row 0 source j, row 1 target i),
    ``edge_attr [E, edge_dim]`` -> ``[N, c_out]``."""

    def __init__(self, c_in: int, c_out: int, edge_dim: int = EDGE_DIM) -> None:
        super().__init__()
        self.target = nn.Linear(c_in, c_out)  # W_i (carries the bias b)
        self.source = nn.Linear(c_in, c_out, bias=False)  # W_j
        self.edge = nn.Linear(edge_dim, c_out, bias=False)  # W_e
        self.root = nn.Linear(c_in, c_out, bias=False)  # R

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        src, dst = edge_index[0], edge_index[1]
        message = F.leaky_relu(self.target(x)[dst] + self.source(x)[src] + self.edge(edge_attr), _SLOPE)  # [E, c_out]
        aggregated = torch.zeros(x.shape[0], message.shape[1], dtype=message.dtype, device=message.device)
        aggregated.index_add_(0, dst, message)  # sum aggregation
        return F.leaky_relu(aggregated + self.root(x), _SLOPE)


class CellEncoder(nn.Module):
    """Graphs -> ``(mu [n, d], logvar [n, d])``; 3 ``EdgeConv`` layers of width ``hidden``, sum pooling."""

    def __init__(self, latent_dim: int = 16, hidden: int = 128, layers: int = 3) -> None:
        super().__init__()
        widths = [NODE_DIM] + [hidden] * layers
        self.convs = nn.ModuleList(EdgeConv(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.norm = nn.LayerNorm(hidden)  # sum pooling of sums grows with depth; normalise before the heads
        self.mu = nn.Linear(hidden, latent_dim)
        self.logvar = nn.Linear(hidden, latent_dim)
        nn.init.constant_(self.logvar.bias, -4.0)  # start with small noise so the decoder can learn early

    def pooled(self, graphs: CellGraphs) -> torch.Tensor:
        """Sum-pooled node states of the last layer, ``[n, hidden]``."""
        h = graphs.x
        for conv in self.convs:
            h = conv(h, graphs.edge_index, graphs.edge_attr)
        pooled = torch.zeros(graphs.num_graphs, h.shape[1], dtype=h.dtype, device=h.device)
        return pooled.index_add_(0, graphs.batch, h)

    def forward(self, graphs: CellGraphs) -> tuple[torch.Tensor, torch.Tensor]:
        g = self.norm(self.pooled(graphs))
        return self.mu(g), self.logvar(g)
