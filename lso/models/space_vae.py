"""A graph VAE for any space with a codec (NB101, DARTS): ``SpaceVAE``, its config, save and load.

Encoder (torch-geometric, as the NB201 G-VAE's): ``layers`` message-passing layers of width ``hidden``
(``lso.models.layers.make_conv``: ``EdgeConv`` by default, ``GINEConv`` / ``GATConv`` on request) over the graphs of
``lso.models.space_graphs`` (node label + position one-hot in, edge label one-hot + reverse flag on the edges), a
readout (``SpaceVAEConfig.readout``: node states side by side by position, or their sum), ``LayerNorm``, linear heads
for ``mu`` and ``log sigma^2`` ``[n, d]``.

Decoder: an MLP ``z [n, d] -> logits [n, codec.logit_size]``; the space's codec (``lso.models.space_codecs``) turns
any logits into valid cells. Loss per cell: ``codec.loss`` (cross-entropy summed over the slots) ``+ beta * KL``.

Cells are normalized by the codec before encoding. NB101: pruned and numbered canonically, so isomorphic cells have
the same input and the same latent. DARTS: each node's two edges sorted by input; genotypes that differ only in the
numbering of their intermediate nodes (the same canonical form) still get different latents, each decoding back to
itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import global_add_pool
from torch_geometric.utils import to_dense_batch

from lso.atomic import atomic_path
from lso.errors import LsoError
from lso.models.decoder import check_latents
from lso.models.layers import CONV_KINDS, ConvKind, make_conv
from lso.models.space_codecs import SpaceCodec, codec_for
from lso.models.space_graphs import SpaceGraphs, edge_dim, node_dim
from lso.spaces import get_space


READOUTS = ("dense", "sum")


class SpaceVAELoadError(LsoError):
    """A file that is not a saved ``SpaceVAE``."""


@dataclass(frozen=True)
class SpaceVAEConfig:
    """Shape of a ``SpaceVAE`` and how it is trained (``lso.models.space_vae_train``).

    ``space`` names the space (``nb101``, ``darts``); ``latent_dim`` ``d`` (64 as CR-LSO's NB101 G-VAE: 32 learns
    DARTS's ~60 bits a cell far slower); ``hidden`` the width of the encoder's layers (the decoder MLP's is twice
    it); ``beta`` the KL weight; Adam with ``lr`` decayed along a cosine to 0 over the run, mini-batches of
    ``batch_size`` cells, ``epochs`` passes over the training cells. ``readout``: ``"dense"`` (default) puts the
    final node states side by side by position (``torch_geometric.utils.to_dense_batch``, ``[n, max_nodes *
    hidden]``), ``"sum"`` sums them (``global_add_pool``, CR-LSO's). On DARTS (10,000 cells, 10 epochs, latent 32,
    batches of 256, constant lr) the sum readout left the loss at 26 nats a cell and the dense one at 18.
    """

    space: str
    latent_dim: int = 64
    hidden: int = 128
    layers: int = 3
    conv: ConvKind = "edge"
    beta: float = 0.005
    lr: float = 2e-3
    batch_size: int = 128
    epochs: int = 20
    readout: str = "dense"

    def __post_init__(self) -> None:
        if self.readout not in READOUTS:
            raise ValueError(f"unknown readout {self.readout!r}; choose one of {', '.join(READOUTS)}")
        if self.conv not in CONV_KINDS:
            raise ValueError(f"unknown layer kind {self.conv!r}; choose one of {', '.join(CONV_KINDS)}")
        if min(self.latent_dim, self.hidden, self.layers, self.batch_size) < 1 or self.epochs < 0:
            raise ValueError(f"sizes must be positive and epochs >= 0, got {self}")
        codec_for(get_space(self.space))  # an unknown space or one without a codec fails here, with its name


class SpaceVAE(nn.Module):
    """Encoder + MLP decoder + codec of one space (module docstring)."""

    def __init__(self, config: SpaceVAEConfig) -> None:
        super().__init__()
        self.config = config
        self.space = get_space(config.space)
        self.codec: SpaceCodec = codec_for(self.space)
        widths = [node_dim(self.space)] + [config.hidden] * config.layers
        self.convs = nn.ModuleList(
            make_conv(config.conv, a, b, edge_dim(self.space)) for a, b in zip(widths[:-1], widths[1:])
        )
        pooled = config.hidden * (self.space.max_nodes if config.readout == "dense" else 1)
        self.norm = nn.LayerNorm(pooled)
        self.mu = nn.Linear(pooled, config.latent_dim)
        self.logvar = nn.Linear(pooled, config.latent_dim)
        nn.init.constant_(self.logvar.bias, -4.0)  # small noise first, so the decoder can learn early
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, config.hidden * 2), nn.LeakyReLU(0.2),
            nn.Linear(config.hidden * 2, config.hidden * 2), nn.LeakyReLU(0.2),
            nn.Linear(config.hidden * 2, self.codec.logit_size),
        )

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def encode_batch(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)``, each ``[n, d]``, of a batch of ``SpaceGraphs.batch``."""
        h = batch.x
        for conv in self.convs:
            h = conv(h, batch.edge_index, batch.edge_attr)
        if self.config.readout == "dense":  # node states side by side, by position: [n, max_nodes * hidden]
            dense, _ = to_dense_batch(h, batch.batch, max_num_nodes=self.space.max_nodes, batch_size=batch.num_graphs)
            g = self.norm(dense.flatten(1))
        else:
            g = self.norm(global_add_pool(h, batch.batch, size=batch.num_graphs))
        return self.mu(g), self.logvar(g).clamp(-12.0, 6.0)  # clamp keeps exp() finite early in training

    def graphs(self, cells: Sequence) -> SpaceGraphs:
        """The normalized ``cells`` as graphs (the encoder's input)."""
        return SpaceGraphs.from_cells(self.space, [self.codec.normalize(c) for c in cells])

    @torch.no_grad()
    def encode(self, cells: Sequence, batch_size: int = 4096) -> torch.Tensor:
        """``mu`` of each cell, ``[n, d]`` on the model's device."""
        graphs = self.graphs(cells)
        rows = torch.arange(len(graphs))
        parts = [self.encode_batch(graphs.batch(chunk, self.device))[0] for chunk in rows.split(batch_size)]
        return torch.cat(parts) if parts else torch.zeros(0, self.config.latent_dim, device=self.device)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> list:
        """Latents ``[n, d]`` -> ``n`` cells, each valid in the space (``LatentError`` on NaN/inf or a wrong shape)."""
        z = check_latents(z, self.config.latent_dim).to(self.device)
        return self.codec.decode(self.decoder(z))

    @staticmethod
    def kl_loss(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """``KL(N(mu, sigma^2) || N(0, I))`` summed over dims, mean over cells."""
        return (-0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)).mean()


def save_space_vae(model: SpaceVAE, path: str | os.PathLike[str]) -> Path:
    """Write the weights as safetensors, the config in the file's metadata (atomically)."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(tensors, tmp, metadata={"format": "lso.space_vae/1", "config": json.dumps(asdict(model.config))})
    return Path(path)


def load_space_vae(path: str | os.PathLike[str], device: torch.device | str = "cpu") -> SpaceVAE:
    """The ``SpaceVAE`` saved at ``path``, in eval mode on ``device``."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
            tensors = {k: handle.get_tensor(k) for k in handle.keys()}
    except (OSError, ValueError, RuntimeError, SafetensorError) as err:
        raise SpaceVAELoadError(f"cannot read a SpaceVAE from {path}: {err}") from err
    if meta.get("format") != "lso.space_vae/1":
        raise SpaceVAELoadError(f"{path} is not a saved SpaceVAE (no lso.space_vae/1 metadata)")
    model = SpaceVAE(SpaceVAEConfig(**json.loads(meta["config"])))
    model.load_state_dict(tensors)
    return model.to(device).eval()
