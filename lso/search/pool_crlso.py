"""CR-LSO on a pool (issue 18): gradient search in a space G-VAE's latent space, guided by a concave ICNN surrogate,
querying only cells of the pool (``lso.search.pool``).

The pool's cells are encoded once by the space's G-VAE (``lso.models.space_vae.SpaceVAE.encode``: ``mu [n, d]``).
Each round:

1. fit a fresh ICNN (seeded per round) to the queried pairs ``(mu(cell), signal)``: ``lso.models.icnn.fit_icnn``;
   the predicted score ``y_mean - y_std * f(z)`` is concave in ``z``;
2. from the ``top_k`` best queried latents (plus seeded Gaussian noise of scale ``noise``) take ``steps`` projected,
   normalised ascent steps inside a trust region (``lso.search.ascent.projected_ascent``, every accepted step raises
   the surrogate);
3. every point of every path names a candidate: the cell its decoding gives when that cell is an unqueried pool cell
   (when a decoder is given), else the unqueried pool cell whose latent is nearest (L2). Candidates are ranked by the
   surrogate at their own latents and the best ``batch`` are queried (source ``latent``).

The first ``initial`` queries are seeded random pool cells (source ``initial``); a round that finds no candidate
queries a random unqueried cell (``fallback``). A run spends its whole budget unless the pool runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lso.errors import LsoError
from lso.models.icnn import ICNN, fit_icnn
from lso.search.ascent import projected_ascent
from lso.search.pool import Pool, PoolLedger, PoolTrace
from lso.seeds import check_seed


@dataclass(frozen=True)
class PoolCRLSOConfig:
    """Knobs of CR-LSO on a pool (module docstring). ``hidden``: the ICNN's hidden widths; ``fit_steps``/``lr``: its
    Adam fit per round (from scratch, so a round's surrogate depends only on the queries so far)."""

    initial: int = 10
    batch: int = 5
    top_k: int = 5
    steps: int = 10
    step_size: float = 0.5
    trust_radius: float = 2.0
    noise: float = 0.1
    fit_steps: int = 300
    lr: float = 1e-2
    hidden: tuple[int, ...] = (64, 64)

    def __post_init__(self) -> None:
        for name in ("initial", "batch", "top_k", "steps", "fit_steps"):
            if getattr(self, name) < 1:
                raise LsoError(f"PoolCRLSOConfig.{name} must be >= 1, got {getattr(self, name)}")
        if min(self.step_size, self.trust_radius, self.lr) <= 0 or self.noise < 0:
            raise LsoError("PoolCRLSOConfig needs step_size, trust_radius and lr > 0 and noise >= 0")


class _Surrogate:
    """The ``LatentSearchModel`` slice that ``projected_ascent`` uses: ``predict`` and ``grad`` of one ICNN."""

    def __init__(self, icnn: ICNN) -> None:
        self.icnn = icnn

    @torch.no_grad()
    def predict(self, z: torch.Tensor) -> torch.Tensor:
        return self.icnn.predict(z)

    def grad(self, z: torch.Tensor) -> torch.Tensor:
        z = z.detach().requires_grad_(True)
        with torch.enable_grad():
            (g,) = torch.autograd.grad(self.icnn.predict(z).sum(), z)
        return g


def crlso_on_pool(pool: Pool, budget: int, seed: int, latents: torch.Tensor, config: PoolCRLSOConfig = PoolCRLSOConfig(),
                  decode: Callable[[torch.Tensor], Sequence] | None = None) -> PoolTrace:
    """CR-LSO on ``pool`` with the pool's latents ``latents [n, d]`` (row ``i`` encodes ``pool.cells[i]``).

    ``decode``: the G-VAE's decoder (latents ``[m, d]`` -> cells), to prefer a path point's own decoding when the
    pool has it; None snaps every point to the nearest unqueried pool latent.
    """
    seed = check_seed(seed)
    latents = torch.as_tensor(latents, dtype=torch.float32).detach().cpu()
    if latents.shape[0] != len(pool) or latents.dim() != 2:
        raise LsoError(f"crlso_on_pool needs one latent per pool cell: got {tuple(latents.shape)} for {len(pool)} cells")
    if not bool(torch.isfinite(latents).all()):
        raise LsoError("the pool's latents have NaN or infinite entries")
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    ledger = PoolLedger(pool, budget)
    for row in rng.permutation(len(pool))[: min(config.initial, ledger.budget)]:
        ledger.query(int(row), "initial")
    round_ = 0
    while not ledger.exhausted and len(ledger.unqueried()):
        round_ += 1
        rows = torch.tensor(ledger.rows)
        icnn = _fresh_icnn(latents.shape[1], config.hidden, seed * 1009 + round_)
        fit_icnn(icnn, latents[rows], torch.as_tensor(pool.signal[ledger.rows], dtype=torch.float32),
                 steps=config.fit_steps, lr=config.lr, rescale=True)
        model = _Surrogate(icnn)
        chosen = _propose(pool, ledger, latents, model, config, generator, decode)
        if not chosen:
            chosen = [int(rng.choice(ledger.unqueried()))]
            sources = ["fallback"]
        else:
            sources = ["latent"] * len(chosen)
        for row, source in zip(chosen, sources):
            if ledger.exhausted:
                break
            ledger.query(row, source)
    return ledger.trace("crlso", seed)


def _fresh_icnn(dim: int, hidden: tuple[int, ...], seed: int) -> ICNN:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ICNN(dim, hidden)


def _propose(pool: Pool, ledger: PoolLedger, latents: torch.Tensor, model: _Surrogate, config: PoolCRLSOConfig,
             generator: torch.Generator, decode: Callable[[torch.Tensor], Sequence] | None) -> list[int]:
    queried = np.asarray(ledger.rows)
    top = queried[np.argsort(-pool.signal[queried], kind="stable")[: config.top_k]]
    starts = latents[torch.as_tensor(top)]
    starts = starts + config.noise * torch.randn(starts.shape, generator=generator)
    path = projected_ascent(model, starts, steps=config.steps, step_size=config.step_size,
                            trust_radius=config.trust_radius)
    points = path.latents.reshape(-1, latents.shape[1])  # [(steps + 1) * k, d]
    free = torch.as_tensor(ledger.unqueried())
    candidates: list[int] = []
    own = decode(points) if decode is not None else [None] * len(points)
    nearest = free[torch.cdist(points, latents[free]).argmin(dim=1)]
    for cell, near in zip(own, nearest.tolist()):
        row = pool.row_of(cell) if cell is not None else None
        if row is None or ledger.queried[row]:
            row = int(near)
        if row not in candidates:
            candidates.append(row)
    scores = model.predict(latents[torch.as_tensor(candidates)])
    order = torch.argsort(scores, descending=True, stable=True)
    return [candidates[i] for i in order[: config.batch].tolist()]
