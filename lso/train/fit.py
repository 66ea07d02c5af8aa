"""Joint training of the G-VAE and the ICNN surrogate (CR-LSO, Rao et al. 2022, arXiv 2211.05950).

Per step, on a batch ``B`` of cells (all 15,625 cells, shuffled by a seeded generator) and a batch ``L`` of labelled
cells::

    loss = CE(decoder(z_B), ops_B) + beta * KL(q(z|B) || N(0, I))
         + surrogate_weight * mean_L (-f(mu_L) - y_L)^2           # true labels, standardised
         + pseudo_weight * mean_B (-f(mu_B) - yhat_B)^2           # predictor pseudo-labels (optional)

``f`` is the ICNN, fed the posterior means. The ICNN learns at full rate from the first step, but the gradient of the
surrogate terms into the encoder ramps linearly from 0 over ``surrogate_warmup`` epochs: the VAE first learns to
reconstruct while the ICNN fits the current latents, so an unfitted ICNN cannot pull the latent space apart. G-VAE
gradients are clipped (``grad_clip``). After every Adam step ``icnn.project_()`` restores ``W^h >= 0`` (convexity).

Why all 15,625 cells rather than the 6,466 isomorphism classes: the decoder must reproduce the exact string of any
cell (reconstruction is measured over all 15,625, and the search decodes strings), and isomorphic cells are
different inputs to the encoder; training on the classes alone would leave 9,159 cells never seen.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
from torch.nn import functional as F

from lso.data.graphs import CellGraphs
from lso.jobs import Reporter
from lso.models.gvae import GVAE
from lso.models.icnn import ICNN
from lso.runs.config import TrainConfig


@dataclass(frozen=True)
class EpochStats:
    """Mean losses of one epoch (``surrogate``/``pseudo`` are 0 when unused), train-batch reconstruction accuracy
    (fraction of cells whose 6 ops are all recovered from the sampled ``z``), and seconds."""

    epoch: int
    loss: float
    reconstruction: float
    kl: float
    surrogate: float
    pseudo: float
    recon_acc: float
    seconds: float


@dataclass
class TrainState:
    """Everything needed to continue training: models, optimiser, generator, the epochs done, history."""

    gvae: GVAE
    icnn: ICNN
    optimiser: torch.optim.Optimizer
    generator: torch.Generator  # CPU: shuffling and labelled-batch draws
    noise: torch.Generator  # on the models' device: the reparameterisation noise
    epoch: int = 0
    history: list[EpochStats] = field(default_factory=list)


@dataclass(frozen=True)
class Targets:
    """Surrogate targets: ``labelled_rows [m]`` with standardised ``labelled_y [m]``; optional ``pseudo_y [N]`` for
    every row of the graphs (standardised predictor outputs)."""

    labelled_rows: torch.Tensor
    labelled_y: torch.Tensor
    pseudo_y: torch.Tensor | None = None


def new_state(config: TrainConfig, device: torch.device) -> TrainState:
    """Fresh models and optimiser, initialised from ``config.seed`` (global torch RNG forked, not touched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        gvae = GVAE(config.latent_dim, config.hidden, config.layers, config.conv).to(device)
        icnn = ICNN(config.latent_dim, config.icnn_hidden).to(device)
    optimiser = torch.optim.Adam([*gvae.parameters(), *icnn.parameters()], lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed + 1)
    noise = torch.Generator(device=device).manual_seed(config.seed + 2)
    return TrainState(gvae, icnn, optimiser, generator, noise)


def fit(
    state: TrainState,
    graphs: CellGraphs,
    targets: Targets,
    config: TrainConfig,
    *,
    checkpoint: Callable[[TrainState], None] | None = None,
    reporter: Reporter | None = None,
) -> TrainState:
    """Train ``state`` from ``state.epoch`` up to ``config.epochs`` epochs on ``graphs`` (its device is the
    models'), calling ``checkpoint(state)`` after each epoch (to save it). Returns the same state.

    ``reporter``: called after ``checkpoint`` with ``(epoch, config.epochs, message, **losses)`` (the epoch's
    ``EpochStats`` fields but ``epoch``); it raises ``lso.jobs.Cancelled`` on a stop request, which is also checked
    before every batch, so a stopped run ends at the last finished (checkpointed) epoch."""
    gvae, icnn, generator = state.gvae, state.icnn, state.generator
    device = graphs.ops.device
    n, m = graphs.num_graphs, len(targets.labelled_rows)
    labelled_rows = targets.labelled_rows.to(device)
    labelled_y = targets.labelled_y.to(device)
    pseudo_y = targets.pseudo_y.to(device) if targets.pseudo_y is not None else None
    while state.epoch < config.epochs:
        gvae.train()
        start = time.perf_counter()
        sums = dict(loss=0.0, reconstruction=0.0, kl=0.0, surrogate=0.0, pseudo=0.0, correct=0.0)
        order = torch.randperm(n, generator=generator).to(device)
        steps = 0
        ramp = min(1.0, state.epoch / config.surrogate_warmup) if config.surrogate_warmup > 0 else 1.0
        for rows in order.split(config.batch_size):
            if reporter is not None:
                reporter.check()
            batch = graphs.select(rows)
            out = gvae(batch, generator=state.noise)
            recon = GVAE.reconstruction_loss(out.logits, batch.ops)
            kl = GVAE.kl_loss(out.mu, out.logvar)
            loss = recon + config.beta * kl
            sur = torch.zeros((), device=device)
            pse = torch.zeros((), device=device)
            if m and config.surrogate_weight > 0:
                pick = torch.randint(0, m, (min(config.labelled_batch, m),), generator=generator).to(device)
                lab = gvae(graphs.select(labelled_rows[pick]), generator=state.noise)
                sur = F.mse_loss(-icnn(_coupled(lab.mu, ramp)), labelled_y[pick])
                loss = loss + config.surrogate_weight * sur
            if pseudo_y is not None and config.pseudo_weight > 0:
                pse = F.mse_loss(-icnn(_coupled(out.mu, ramp)), pseudo_y[rows])
                loss = loss + config.pseudo_weight * pse
            state.optimiser.zero_grad(set_to_none=True)
            loss.backward()
            # A surrogate loss spike (a fresh ICNN, a drifting latent scale) must not wipe out the reconstruction.
            torch.nn.utils.clip_grad_norm_(gvae.parameters(), config.grad_clip)
            state.optimiser.step()
            icnn.project_()  # keep f convex: W^h >= 0 after every step
            steps += 1
            with torch.no_grad():
                sums["loss"] += float(loss)
                sums["reconstruction"] += float(recon)
                sums["kl"] += float(kl)
                sums["surrogate"] += float(sur)
                sums["pseudo"] += float(pse)
                sums["correct"] += float((out.logits.argmax(-1) == batch.ops).all(dim=1).float().mean())
        state.epoch += 1
        stats = EpochStats(
            epoch=state.epoch,
            loss=sums["loss"] / steps,
            reconstruction=sums["reconstruction"] / steps,
            kl=sums["kl"] / steps,
            surrogate=sums["surrogate"] / steps,
            pseudo=sums["pseudo"] / steps,
            recon_acc=sums["correct"] / steps,
            seconds=time.perf_counter() - start,
        )
        state.history.append(stats)
        if checkpoint is not None:
            checkpoint(state)
        if reporter is not None:
            figures = {k: v for k, v in asdict(stats).items() if k != "epoch"}
            reporter(state.epoch, config.epochs, f"epoch {state.epoch}/{config.epochs}, loss {stats.loss:.3f}, "
                     f"reconstruction {stats.recon_acc:.3f}", **figures)
    gvae.eval()
    return state


def _coupled(mu: torch.Tensor, ramp: float) -> torch.Tensor:
    """``mu`` whose value is unchanged but whose gradient into the encoder is scaled by ``ramp`` in [0, 1].

    The ICNN always learns at full rate on the posterior means; the encoder feels the surrogate only gradually
    (warm-up), so an unfitted ICNN cannot pull the latent space apart before the VAE has learned to reconstruct.
    """
    return mu.detach() + ramp * (mu - mu.detach())
