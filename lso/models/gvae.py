"""The graph VAE: ``CellEncoder`` -> reparameterised ``z`` -> ``CellDecoder``.

Loss (per cell, averaged over the batch), CR-LSO / Kingma & Welling:
``CE(logits, ops) summed over the 6 slots + beta * KL(N(mu, sigma^2) || N(0, I))`` with
``KL = -1/2 sum_d (1 + log sigma^2 - mu^2 - sigma^2)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from lso.data.graphs import NUM_OPS, CellGraphs
from lso.models.decoder import CellDecoder
from lso.models.encoder import CellEncoder
from lso.models.layers import ConvKind


@dataclass(frozen=True)
class GVAEOutput:
    """One forward pass: ``logits [n, 6, 5]``, ``mu``, ``logvar``, ``z`` (all ``[n, d]``)."""

    logits: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor


class GVAE(nn.Module):
    """Encoder + decoder; ``forward(graphs, generator)`` samples ``z = mu + sigma * eps`` with ``eps`` from
    ``generator`` (seeded training), or uses ``z = mu`` when ``sample=False``. ``conv`` picks the encoder's
    message-passing layer (``lso.models.layers``: ``edge``, CR-LSO's, the default; ``gine``; ``gat``)."""

    def __init__(self, latent_dim: int = 16, hidden: int = 128, layers: int = 3, conv: ConvKind = "edge") -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = CellEncoder(latent_dim, hidden, layers, conv)
        self.decoder = CellDecoder(latent_dim, hidden)

    def forward(
        self, graphs: CellGraphs, generator: torch.Generator | None = None, sample: bool = True
    ) -> GVAEOutput:
        mu, logvar = self.encoder(graphs)
        logvar = logvar.clamp(-12.0, 6.0)  # keeps exp() finite early in training
        z = mu
        if sample:
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            z = mu + torch.exp(0.5 * logvar) * eps
        return GVAEOutput(self.decoder(z), mu, logvar, z)

    @staticmethod
    def reconstruction_loss(logits: torch.Tensor, ops: torch.Tensor) -> torch.Tensor:
        """Cross-entropy summed over the 6 slots, mean over cells (scalar)."""
        return F.cross_entropy(logits.reshape(-1, NUM_OPS), ops.reshape(-1), reduction="sum") / ops.shape[0]

    @staticmethod
    def kl_loss(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """``KL(N(mu, sigma^2) || N(0, I))`` summed over dims, mean over cells (scalar)."""
        return (-0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)).mean()

    @torch.no_grad()
    def encode_mean(self, graphs: CellGraphs, batch_size: int = 4096) -> torch.Tensor:
        """``mu`` of every graph, ``[n, d]``, in chunks of ``batch_size`` graphs."""
        rows = torch.arange(graphs.num_graphs, device=graphs.ops.device)
        parts = [self.encoder(graphs.select(chunk))[0] for chunk in rows.split(batch_size)]
        return torch.cat(parts) if parts else torch.zeros(0, self.latent_dim)
