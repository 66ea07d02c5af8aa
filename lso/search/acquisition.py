"""Acquisition over decoded candidates and batch selection without near-duplicates.

Given member scores ``P [E, n]`` of ``n`` candidate cells (an ensemble of surrogates, ``lso.search.ensemble``), with
``mu = mean_e P``, ``sigma = std_e P`` and ``y*`` the best queried score:

- ``mean``: ``a = mu`` (CR-LSO's ranking);
- ``ucb``: ``a = mu + beta * sigma`` (upper confidence bound);
- ``ei``: ``a = sigma * (u Phi(u) + phi(u))``, ``u = (mu - y*) / sigma`` (expected improvement under
  ``N(mu, sigma^2)``; ``max(mu - y*, 0)`` where ``sigma = 0``).

A batch is chosen greedily by ``a``, skipping a candidate whose latent lies closer than ``separation`` to one
already chosen (near-duplicates: cells the model cannot tell apart); when that leaves the batch short it is filled
with the best skipped candidates, so a round always spends its batch.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch

from lso.errors import LsoError
from lso.search.latent_model import LatentSearchModel
from lso.space import Cell

ACQUISITIONS: tuple[str, ...] = ("mean", "ucb", "ei")


def acquisition(predictions: torch.Tensor, kind: str, *, beta: float = 1.0, best: float = 0.0) -> torch.Tensor:
    """The acquisition ``a [n]`` of ``kind`` from member scores ``predictions [E, n]`` (see the module doc)."""
    if kind not in ACQUISITIONS:
        raise LsoError(f"unknown acquisition {kind!r}; known: {', '.join(ACQUISITIONS)}")
    mu = predictions.mean(0)
    if kind == "mean":
        return mu
    sigma = predictions.std(0, unbiased=False) if len(predictions) > 1 else torch.zeros_like(mu)
    if kind == "ucb":
        return mu + beta * sigma
    gap = mu - best
    safe = sigma.clamp_min(1e-12)
    u = gap / safe
    normal = torch.distributions.Normal(0.0, 1.0)
    ei = safe * (u * normal.cdf(u) + torch.exp(-0.5 * u * u) / math.sqrt(2 * math.pi))
    return torch.where(sigma > 1e-12, ei, gap.clamp_min(0.0))


def diverse_batch(scores: torch.Tensor, latents: torch.Tensor, k: int, separation: float) -> list[int]:
    """Indices of ``k`` candidates (or all, when fewer), best ``scores [n]`` first, no two chosen latents
    ``[n, d]`` closer than ``separation`` while others remain; filled with the best skipped ones when short."""
    order = torch.argsort(scores, descending=True, stable=True).tolist()
    if separation <= 0:
        return order[:k]
    chosen: list[int] = []
    skipped: list[int] = []
    for i in order:
        if len(chosen) >= k:
            break
        if chosen and float(torch.cdist(latents[i:i + 1], latents[chosen]).min()) < separation:
            skipped.append(i)
        else:
            chosen.append(i)
    return chosen + skipped[: k - len(chosen)]


def choose(model: LatentSearchModel, cells: Sequence[Cell], k: int, *, kind: str, beta: float, best: float,
           separation: float) -> list[int]:
    """Indices of the ``k`` cells to query: ``diverse_batch`` over ``acquisition`` of the member scores at the
    cells' encodings (a model with ``predictions_cells``, e.g. ``EnsembleModel``; else its one surrogate)."""
    if hasattr(model, "predictions_cells"):
        predictions, latents = model.predictions_cells(cells)
    else:
        latents = model.encode(cells)
        predictions = model.predict(latents)[None]
    return diverse_batch(acquisition(predictions, kind, beta=beta, best=best), latents, k, separation)
