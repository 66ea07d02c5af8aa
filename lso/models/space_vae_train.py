"""Training a ``SpaceVAE`` on a seeded sample of unique cells, and its figures: ``train_space_vae``.

The seed draws everything: the cells (``space.sample`` from ``numpy.random.default_rng(seed)``, kept when their
``space.canonical`` form is new, so train and held-out cells are unique and disjoint), the initial weights (inside
``torch.random.fork_rng``), the batch order and the reparameterisation noise (a ``torch.Generator``), and the prior
samples of the metrics. The same seed and config on the same device give the same weights and figures.

Metrics (``SpaceVAEResult``):

* ``reconstruction``: share of held-out cells whose decode of ``mu`` has the cell's canonical form (exact match up to
  isomorphism); ``train_reconstruction`` the same on (up to ``heldout``) training cells;
* ``validity``: share of decodes of ``z ~ N(0, I)`` that ``space.is_valid`` accepts (1.0 by construction here:
  measured, not assumed);
* ``uniqueness``: distinct canonical forms among the valid prior decodes, over the valid prior decodes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lso.jobs import Reporter
from lso.models.space_vae import SpaceVAE, SpaceVAEConfig
from lso.seeds import check_seed
from lso.spaces import get_space
from lso.spaces.sampling import sample_unique


@dataclass(frozen=True)
class SpaceVAEResult:
    """Figures of one training run (module docstring); ``epoch_losses`` the mean training loss per epoch."""

    space: str
    seed: int
    train_cells: int
    heldout_cells: int
    epochs: int
    reconstruction: float
    train_reconstruction: float
    validity: float
    uniqueness: float
    prior_samples: int
    train_seconds: float
    epoch_losses: tuple[float, ...]


def reconstruction_accuracy(model: SpaceVAE, cells: Sequence) -> float:
    """Share of ``cells`` whose decoded ``mu`` has the same canonical form."""
    if not cells:
        return float("nan")
    decoded = model.decode(model.encode(cells))
    space = model.space
    return float(np.mean([space.canonical(a) == space.canonical(b) for a, b in zip(cells, decoded)]))


def prior_figures(model: SpaceVAE, samples: int, generator: torch.Generator) -> tuple[float, float]:
    """``(validity, uniqueness)`` of the decodes of ``samples`` draws ``z ~ N(0, I)`` (module docstring)."""
    z = torch.randn(samples, model.config.latent_dim, generator=generator)
    decoded = model.decode(z)
    space = model.space
    valid = [c for c in decoded if space.is_valid(c)]
    validity = len(valid) / max(1, samples)
    uniqueness = len({space.canonical(c) for c in valid}) / len(valid) if valid else 0.0
    return validity, uniqueness


def train_space_vae(
    config: SpaceVAEConfig,
    *,
    train: int,
    heldout: int,
    seed: int,
    device: torch.device | str = "cpu",
    prior_samples: int = 10_000,
    reporter: Reporter | None = None,
) -> tuple[SpaceVAE, SpaceVAEResult]:
    """Train a ``SpaceVAE`` on ``train`` unique sampled cells and measure it on ``heldout`` others.

    Returns the trained model (eval mode, on ``device``) and its ``SpaceVAEResult``.
    """
    seed = check_seed(seed)
    space = get_space(config.space)
    cells = sample_unique(space, train + heldout, np.random.default_rng(seed))
    train_cells, heldout_cells = cells[:train], cells[train:]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SpaceVAE(config)
    model = model.to(device)
    start = time.perf_counter()
    normalized = [model.codec.normalize(c) for c in train_cells]
    graphs = model.graphs(normalized)  # normalizing again is a no-op
    targets = model.codec.targets(normalized).to(device)
    generator = torch.Generator().manual_seed(seed + 1)
    noise = torch.Generator(device=device).manual_seed(seed + 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    steps = config.epochs * -(-train // config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, steps))
    losses: list[float] = []
    model.train()
    for epoch in range(config.epochs):
        order = torch.randperm(train, generator=generator)
        total = 0.0
        for rows in order.split(config.batch_size):
            mu, logvar = model.encode_batch(graphs.batch(rows, device))
            eps = torch.randn(mu.shape, generator=noise, device=mu.device, dtype=mu.dtype)
            z = mu + torch.exp(0.5 * logvar) * eps
            loss = model.codec.loss(model.decoder(z), targets[rows.to(device)]) + config.beta * model.kl_loss(mu, logvar)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(rows)
        losses.append(total / max(1, train))
        if reporter is not None:
            reporter(epoch + 1, config.epochs, "space G-VAE", loss=losses[-1])
    train_seconds = time.perf_counter() - start
    model.eval()
    validity, uniqueness = prior_figures(model, prior_samples, torch.Generator().manual_seed(seed + 3))
    result = SpaceVAEResult(
        space=space.name,
        seed=seed,
        train_cells=len(train_cells),
        heldout_cells=len(heldout_cells),
        epochs=config.epochs,
        reconstruction=reconstruction_accuracy(model, heldout_cells),
        train_reconstruction=reconstruction_accuracy(model, train_cells[: max(heldout, 1)]),
        validity=validity,
        uniqueness=uniqueness,
        prior_samples=prior_samples,
        train_seconds=train_seconds,
        epoch_losses=tuple(losses),
    )
    return model, result
