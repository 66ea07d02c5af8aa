"""Decoder of latents into NAS-Bench-201 cells: an MLP gives, per edge slot, logits over the 5 ops.

The arg-max over each slot is always a valid cell (every combination of 6 ops is a NAS-Bench-201 cell), so decoding
needs no validity repair; a batch decodes in one forward pass plus a table look-up.
"""

from __future__ import annotations

import torch
from torch import nn

from lso.data.graphs import NUM_OPS, cells_from_ops
from lso.errors import LsoError
from lso.space import NUM_EDGES, Cell


class LatentError(LsoError, ValueError):
    """A latent tensor of the wrong shape, or with NaN / infinite entries."""


def check_latents(z: torch.Tensor, latent_dim: int) -> torch.Tensor:
    """Raise ``LatentError`` unless ``z`` is a finite float tensor ``[n, latent_dim]`` (a single ``[d]`` is lifted)."""
    if not isinstance(z, torch.Tensor):
        z = torch.as_tensor(z, dtype=torch.float32)
    if z.dim() == 1:
        z = z.unsqueeze(0)
    if z.dim() != 2 or z.shape[1] != latent_dim:
        raise LatentError(f"latents must have shape [n, {latent_dim}], got {tuple(z.shape)}")
    if not z.is_floating_point():
        z = z.float()
    finite = torch.isfinite(z)
    if not bool(finite.all()):
        bad = (~finite.all(dim=1)).nonzero().flatten().tolist()
        raise LatentError(f"latents have NaN or infinite entries in rows {bad[:10]}{' ...' if len(bad) > 10 else ''}")
    return z


class CellDecoder(nn.Module):
    """MLP ``z [n, d] -> logits [n, 6, 5]``."""

    def __init__(self, latent_dim: int = 16, hidden: int = 128) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, NUM_EDGES * NUM_OPS),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, NUM_EDGES, NUM_OPS)

    @torch.no_grad()
    def decode_ops(self, z: torch.Tensor) -> torch.Tensor:
        """Arg-max op per slot, LongTensor ``[n, 6]``. Raises ``LatentError`` on NaN/inf or a wrong shape."""
        z = check_latents(z, self.latent_dim)
        param = next(self.parameters())
        return self(z.to(device=param.device, dtype=param.dtype)).argmax(dim=-1)

    def decode(self, z: torch.Tensor) -> list[Cell]:
        """Latents ``[n, d]`` -> ``n`` cells (always valid)."""
        return cells_from_ops(self.decode_ops(z))
