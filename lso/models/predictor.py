"""A small GNN regressor of a benchmark metric from the cell graph, for CR-LSO's semi-supervised pseudo-labels:
trained on the labelled cells, it labels the rest, and those labels shape the latent space through the ICNN loss.

Architecture: the encoder's ``EdgeConv`` layers (sum aggregation), sum pooling, a 2-layer MLP head -> ``[n]``.
"""

from __future__ import annotations

import torch
from torch import nn

from lso.data.graphs import NODE_DIM, CellGraphs
from lso.models.encoder import EdgeConv


class GNNPredictor(nn.Module):
    """Graphs -> predicted standardised metric ``[n]``."""

    def __init__(self, hidden: int = 64, layers: int = 3) -> None:
        super().__init__()
        widths = [NODE_DIM] + [hidden] * layers
        self.convs = nn.ModuleList(EdgeConv(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, graphs: CellGraphs) -> torch.Tensor:
        h = graphs.x
        for conv in self.convs:
            h = conv(h, graphs.edge_index, graphs.edge_attr)
        pooled = torch.zeros(graphs.num_graphs, h.shape[1], dtype=h.dtype, device=h.device).index_add_(0, graphs.batch, h)
        return self.head(pooled).squeeze(-1)
