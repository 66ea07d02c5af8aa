"""Message-passing encoder of cell graphs (CR-LSO's G-VAE encoder, Rao et al. 2022), built on torch-geometric.

Per graph: ``layers`` message-passing layers of width ``hidden`` (``lso.models.layers``; default the edge-aware
``EdgeConv``, a PyG ``MessagePassing`` with sum aggregation:
``m_ij = LeakyReLU(W [x_i || x_j || e_ij] + b)``, ``x_i' = LeakyReLU(sum_{j -> i} m_ij + R x_i)``; alternatives PyG's
``GINEConv`` and ``GATConv`` with edge features), sum pooling over the nodes of each graph
(``torch_geometric.nn.global_add_pool``), ``LayerNorm``, then linear heads for ``mu`` and ``log sigma^2``:
``g = LayerNorm(sum_{v in graph} h_v^(L))``, ``mu = W_mu g + b_mu``, ``log sigma^2 = W_s g + b_s``.

The input is a ``CellGraphs`` batch (``lso.data.graphs``): all graphs share one structure, so a batch is tiled index
tensors and the layers run once on the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.nn import global_add_pool

from lso.data.graphs import NODE_DIM, CellGraphs
from lso.models.layers import CONV_KINDS, ConvKind, EdgeConv, GATLayer, GINELayer, make_conv

__all__ = ["CONV_KINDS", "CellEncoder", "ConvKind", "EdgeConv", "EncoderConfig", "GATLayer", "GINELayer"]


@dataclass(frozen=True)
class EncoderConfig:
    """Shape of a ``CellEncoder``: ``latent_dim`` (``d``), layer width ``hidden``, number of ``layers``, the layer
    kind ``conv`` (``"edge"`` default, ``"gine"`` or ``"gat"``; equations in ``lso.models.layers``) and the GAT
    ``heads`` (``hidden`` must be a multiple of it; unused by the other kinds)."""

    latent_dim: int = 16
    hidden: int = 128
    layers: int = 3
    conv: ConvKind = "edge"
    heads: int = 4

    def __post_init__(self) -> None:
        if self.conv not in CONV_KINDS:
            raise ValueError(f"unknown layer kind {self.conv!r}; choose one of {', '.join(CONV_KINDS)}")
        if min(self.latent_dim, self.hidden, self.layers) < 1:
            raise ValueError(f"latent_dim, hidden and layers must be positive, got {self}")


class CellEncoder(nn.Module):
    """Graphs -> ``(mu [n, d], logvar [n, d])`` (module docstring for the equations).

    ``CellEncoder(16, 128, 3)`` is the default G-VAE encoder (three ``EdgeConv`` layers; state-dict keys
    ``convs.{k}.{target,source,edge,root}.*``, ``norm.*``, ``mu.*``, ``logvar.*``); ``conv="gine"`` / ``"gat"`` swaps
    the layer, or pass a whole ``EncoderConfig`` with ``CellEncoder.from_config``.
    """

    def __init__(self, latent_dim: int = 16, hidden: int = 128, layers: int = 3, conv: ConvKind = "edge",
                 heads: int = 4) -> None:
        super().__init__()
        self.config = EncoderConfig(latent_dim, hidden, layers, conv, heads)
        widths = [NODE_DIM] + [hidden] * layers
        self.convs = nn.ModuleList(make_conv(conv, a, b, heads=heads) for a, b in zip(widths[:-1], widths[1:]))
        self.norm = nn.LayerNorm(hidden)  # sum pooling of sums grows with depth; normalise before the heads
        self.mu = nn.Linear(hidden, latent_dim)
        self.logvar = nn.Linear(hidden, latent_dim)
        nn.init.constant_(self.logvar.bias, -4.0)  # start with small noise so the decoder can learn early

    @classmethod
    def from_config(cls, config: EncoderConfig) -> "CellEncoder":
        """The encoder described by ``config``."""
        return cls(config.latent_dim, config.hidden, config.layers, config.conv, config.heads)

    def pooled(self, graphs: CellGraphs) -> torch.Tensor:
        """Sum-pooled node states of the last layer, ``[n, hidden]``: ``sum_{v in graph} h_v^(L)``."""
        h = graphs.x
        for conv in self.convs:
            h = conv(h, graphs.edge_index, graphs.edge_attr)
        return global_add_pool(h, graphs.batch, size=graphs.num_graphs)

    def forward(self, graphs: CellGraphs) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)``, each ``[n, d]``."""
        g = self.norm(self.pooled(graphs))
        return self.mu(g), self.logvar(g)
