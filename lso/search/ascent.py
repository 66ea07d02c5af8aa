"""Projected, normalised gradient ascent on a latent surrogate inside a trust region: the step every latent search
takes (CR-LSO, ``lso.search.gradient``; surfing, ``lso.search.surfing``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lso.search.latent_model import LatentSearchModel


@dataclass(frozen=True)
class AscentPath:
    """Latents along projected ascent paths: ``latents [steps + 1, k, d]`` and surrogate ``scores [steps + 1, k]``."""

    latents: torch.Tensor
    scores: torch.Tensor


def projected_ascent(model: LatentSearchModel, starts: torch.Tensor, *, steps: int, step_size: float, trust_radius: float,
                     max_halvings: int = 6, centre: torch.Tensor | None = None) -> AscentPath:
    """Projected, normalised gradient ascent on the surrogate from ``starts [k, d]``.

    ``z_{t+1} = P(z_t + eta_t * g_t / ||g_t||)``, ``g_t = grad s(z_t)``, ``P`` the projection onto the ball of radius
    ``trust_radius`` around ``centre [k, d]`` (default: the starts). Per latent, ``eta`` halves until the step raises
    ``s`` (at most ``max_halvings`` times, else the latent stays): ``s(z_{t+1}) >= s(z_t)``, strictly when a step is
    taken. ``model`` is any ``LatentSearchModel`` (``predict``, ``grad``; e.g. ``lso.models.workbench.LatentModel``).
    """
    z = starts.detach().clone()
    centre = z.clone() if centre is None else centre.detach()
    score = model.predict(z)
    eta = torch.full((len(z),), float(step_size), device=z.device)
    latents, scores = [z.clone()], [score.clone()]
    for _ in range(steps):
        g = model.grad(z)
        direction = g / g.norm(dim=1, keepdim=True).clamp_min(1e-12)
        moved = torch.zeros(len(z), dtype=torch.bool, device=z.device)
        trial_eta = eta.clone()
        for _ in range(max_halvings + 1):
            todo = ~moved
            if not bool(todo.any()):
                break
            cand = _project(z[todo] + trial_eta[todo, None] * direction[todo], centre[todo], trust_radius)
            cand_score = model.predict(cand)
            better = cand_score > score[todo]
            idx = todo.nonzero().squeeze(1)[better]
            z[idx], score[idx] = cand[better], cand_score[better]
            moved[idx] = True
            trial_eta[todo] = torch.where(better, trial_eta[todo], trial_eta[todo] / 2)
        eta = torch.where(moved, trial_eta, eta)
        latents.append(z.clone())
        scores.append(score.clone())
    return AscentPath(torch.stack(latents), torch.stack(scores))


def _project(z: torch.Tensor, centre: torch.Tensor, radius: float) -> torch.Tensor:
    offset = z - centre
    norm = offset.norm(dim=1, keepdim=True)
    return centre + offset * torch.clamp(radius / norm.clamp_min(1e-12), max=1.0)
