"""Surfing (Song, Fan & Lafferty, NeurIPS 2019) in the latent space: optimise through a sequence of surrogates.

Given surrogates ``s_0, ..., s_T`` (``s_0`` smooth: a freshly initialised ICNN; ``s_T`` the fitted one), find
``z_0`` by ascent on ``s_0`` and, for ``t = 1..T``, warm-start from ``z_{t-1}`` and ascend on ``s_t``. The paper
shows this reaches the global optimum where plain ascent on ``s_T`` alone can stall. Three uses here:

* ``surf`` search method: CR-LSO whose per-round move surfs through snapshots of the surrogate taken while it is
  refitted from a fresh initialisation on the queried cells;
* ``surf_vs_plain``: from the same starts, how often surfing and plain ascent on the final surrogate reach the
  surrogate's best decodable cell;
* ``invert``: decoder inversion (find ``z`` whose decode is a given cell) by surfing a temperature-smoothed
  reconstruction loss from smooth (high temperature) to exact (temperature 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import torch
from torch.nn import functional as F

from lso.search.ascent import AscentPath, projected_ascent
from lso.search.gradient import Ascent, CRLSOConfig, queried_pairs, search_loop
from lso.search.latent_model import LatentSearchModel
from lso.search.registry import SearchContext, SearchMethod
from lso.space import Cell

if TYPE_CHECKING:  # the G-VAE's own model: surf_vs_plain and invert use its encoder and decoder directly
    from lso.models.workbench import LatentModel


@dataclass(frozen=True)
class SurfConfig(CRLSOConfig):
    """CR-LSO's knobs plus the surfing sequence: ``snapshots`` surrogates taken while refitting each round.

    ``prior`` and ``separation`` keep their pre-issue-16 values here (random initial cells, batch by rank): surfing
    was not re-measured with them, and its figures compare it with CR-LSO on the same initial cells as before."""

    snapshots: int = 5
    prior: str = "none"
    separation: float = 0.0


def surf_ascent(models: Sequence[LatentSearchModel], starts: torch.Tensor, *, steps: int, step_size: float, trust_radius: float) -> AscentPath:
    """Ascend ``steps`` projected steps on each model's surrogate in turn, warm-starting from the previous end.

    ``models``: ``LatentModel``s sharing one G-VAE, smoothest first. Every stage stays in the one trust region
    ``||z - starts|| <= trust_radius`` (the same region as CR-LSO's, so the two differ by surfing alone, not by
    how far they may travel). Returns the concatenated path (``[len(models) * steps + 1, k, d]``); scores are those
    of the surrogate each point was reached on.
    """
    latents, scores = [starts.detach()], [models[0].predict(starts)]
    z = starts.detach()
    for model in models:
        path = projected_ascent(model, z, steps=steps, step_size=step_size, trust_radius=trust_radius,
                                centre=starts)
        latents.extend(path.latents[1:])
        scores.extend(path.scores[1:])
        z = path.latents[-1]
    return AscentPath(torch.stack(latents), torch.stack(scores))


def run_surf(config: SurfConfig, context: SearchContext) -> None:
    """CR-LSO with surfing moves from ``context.run_dir`` until the budget is spent."""
    from lso.models.workbench import LatentModel

    model = LatentModel.load(context.run_dir, device=context.device)
    every = max(1, config.finetune_steps // max(1, config.snapshots))

    def refit(round_: int) -> Ascent:
        z, y = queried_pairs(model, context.ledger)
        fit = model.fit_surrogate(z, y, steps=config.finetune_steps, lr=config.finetune_lr, reset=True,
                                  rescale=True, snapshot_every=every, seed=int(context.seed) * 100_003 + round_)
        sequence = [model.with_surrogate(icnn) for icnn in fit.snapshots]

        def ascend(_model, starts: torch.Tensor, eta: float, radius: float) -> AscentPath:
            return surf_ascent(sequence, starts, steps=config.steps, step_size=eta, trust_radius=radius)

        return ascend

    search_loop(model, config, context, refit)


@dataclass(frozen=True)
class SurfComparison:
    """How often each optimiser's end point decodes to the surrogate's best decodable cell ``target``."""

    target: Cell
    surf_hits: int
    plain_hits: int
    starts: int


def best_decodable(model: LatentModel) -> Cell:
    """The cell with the highest surrogate score among cells whose encoding decodes back to themselves."""
    from lso.space import all_cells

    mu = model.encode_all()
    cells = all_cells()
    decoded = model.decode(mu)
    ok = torch.tensor([d == c for d, c in zip(decoded, cells)])
    scores = model.predict(mu).masked_fill(~ok.to(mu.device), float("-inf"))
    return cells[int(torch.argmax(scores))]


def surf_vs_plain(model: LatentModel, snapshots: list, starts: torch.Tensor, *, steps: int = 20, step_size: float = 0.25,
                  trust_radius: float = 1e9) -> SurfComparison:
    """From the same ``starts [k, d]``: surfing through ``snapshots`` (ICNNs, smoothest first, the last being
    ``model``'s) vs. plain ascent on the final surrogate with as many steps in all."""
    final = model.with_surrogate(snapshots[-1])
    target = best_decodable(final)
    sequence = [model.with_surrogate(s) for s in snapshots]
    surfed = surf_ascent(sequence, starts, steps=steps, step_size=step_size, trust_radius=trust_radius)
    plain = projected_ascent(final, starts, steps=steps * len(snapshots), step_size=step_size,
                             trust_radius=trust_radius)
    surf_hits = sum(c == target for c in final.decode(surfed.latents[-1]))
    plain_hits = sum(c == target for c in final.decode(plain.latents[-1]))
    return SurfComparison(target, int(surf_hits), int(plain_hits), len(starts))


@dataclass(frozen=True)
class Inversion:
    """A latent ``z [d]`` found for ``cell`` and whether it decodes back to it."""

    cell: Cell
    z: torch.Tensor
    exact: bool


def invert(model: LatentModel, cell: Cell, *, temperatures: tuple[float, ...] = (8.0, 4.0, 2.0, 1.0), steps: int = 50,
           lr: float = 0.1, start: torch.Tensor | None = None) -> Inversion:
    """Find ``z`` with ``decode(z) == cell`` by surfing ``CE(decoder(z) / T, cell)`` over decreasing ``T``.

    Each stage runs ``steps`` Adam steps warm-started from the previous stage; ``temperatures=(1.0,)`` is plain
    descent. ``start`` defaults to the prior mean ``0``.
    """
    target = torch.tensor([cell.indices], device=model.device)
    z = (torch.zeros(1, model.latent_dim, device=model.device) if start is None else start.reshape(1, -1).clone())
    z.requires_grad_(True)
    optimiser = torch.optim.Adam([z], lr=lr)
    with torch.enable_grad():
        for temperature in temperatures:
            for _ in range(steps):
                logits = model.gvae.decoder(z) / temperature
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
    z = z.detach()[0]
    return Inversion(cell, z, model.decode(z[None])[0] == cell)


METHODS = (
    SearchMethod(
        name="surf",
        config_type=SurfConfig,
        runner=run_surf,
        needs_run=True,
        title="CR-LSO surfing",
        description="CR-LSO whose moves surf through surrogate snapshots, smoothest first",
    ),
)
