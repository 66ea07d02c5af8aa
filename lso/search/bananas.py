"""BANANAS (White, Neiswanger and Savani, AAAI 2021): Bayesian optimisation with an ensemble of neural predictors on
the path encoding, the model-based peer a NAS researcher expects beside REA and local search.

Each round: fit ``ensemble`` MLPs (different seeds) on every cell queried so far (path encoding -> standardised
score), propose ``candidates`` unseen cells by mutating the best ``parents`` cells (1 to ``max_mutations`` edges
each), and query the ``batch`` candidates with the highest independent-Thompson-sampling acquisition
``a(x) ~ N(mu(x), sigma(x)^2)``, ``mu, sigma`` the ensemble's mean and standard deviation (the paper's ITS).
The first ``initial`` queries are random cells. All queries go through the ledger, as for every method.

The path encoding of an NB201 cell (White et al., 2021, sec. 4): one bit per (input-to-output path, ops on it)
with no ``none`` op on the path: paths 0-3, 0-1-3, 0-2-3, 0-1-2-3 with 4 live ops each: ``4 + 16 + 16 + 64 = 100``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch
from torch import nn

from lso.errors import LsoError
from lso.search.ledger import SPACE_EXHAUSTED, QueryLedger
from lso.search.moves import UnseenSampler
from lso.search.priors import PRIORS, pick_initial
from lso.search.registry import SearchContext, SearchMethod
from lso.space import Cell
from lso.space.cell import EDGES

_LIVE_OPS = ("skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
_PATHS: tuple[tuple[tuple[int, int], ...], ...] = (
    ((3, 0),), ((1, 0), (3, 1)), ((2, 0), (3, 2)), ((1, 0), (2, 1), (3, 2)),
)
_SLOT = {edge: k for k, edge in enumerate(EDGES)}
_OFFSETS = [0]
for _path in _PATHS[:-1]:
    _OFFSETS.append(_OFFSETS[-1] + len(_LIVE_OPS) ** len(_path))
PATH_FEATURES = _OFFSETS[-1] + len(_LIVE_OPS) ** len(_PATHS[-1])  # 100


def path_encoding(cell: Cell) -> torch.Tensor:
    """The ``[100]`` 0/1 path encoding of ``cell``: bit ``offset(path) + index(ops on path)`` is set for every
    input-to-output path whose edges all carry a live op (isomorphic cells share it)."""
    out = torch.zeros(PATH_FEATURES)
    for path, offset in zip(_PATHS, _OFFSETS):
        ops = [cell.ops[_SLOT[edge]] for edge in path]
        if "none" in ops:
            continue
        index = 0
        for op in ops:
            index = index * len(_LIVE_OPS) + _LIVE_OPS.index(op)
        out[offset + index] = 1.0
    return out


@dataclass(frozen=True)
class BananasConfig:
    """Knobs of BANANAS. Defaults follow the paper / NASLib's NB201 settings (ensemble of MLPs, ITS, mutation
    candidates) with a smaller batch (``batch=5``, the paper uses 10) so the predictor is refitted more often at
    the small budgets compared here. ``prior`` / ``prior_pool``: the initial cells are the best of ``prior_pool``
    random ones by a zero-cost proxy (``lso.search.priors``), the same option as CR-LSO's, for a like-for-like
    control; ``none`` is the paper's random start."""

    initial: int = 10
    batch: int = 5
    ensemble: int = 5
    candidates: int = 100
    parents: int = 10
    max_mutations: int = 2
    hidden: int = 20
    layers: int = 3
    epochs: int = 150
    lr: float = 0.01
    prior: str = "none"
    prior_pool: int = 100

    def __post_init__(self) -> None:
        for name in ("initial", "batch", "ensemble", "candidates", "parents", "max_mutations", "hidden", "layers",
                     "epochs"):
            if getattr(self, name) < 1:
                raise LsoError(f"bananas: {name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise LsoError(f"bananas: lr must be > 0, got {self.lr}")
        if self.prior not in PRIORS:
            raise LsoError(f"bananas: prior must be one of {', '.join(PRIORS)}, got {self.prior!r}")


class Ensemble(nn.Module):
    """``E`` independent MLPs evaluated as one batched network: weights ``[E, d_in, d_out]`` per layer, ReLU
    between layers, so one forward/backward serves every member (members never share a parameter)."""

    def __init__(self, members: int, widths: list[int]) -> None:
        super().__init__()
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for d_in, d_out in zip(widths[:-1], widths[1:]):
            bound = d_in ** -0.5  # nn.Linear's default uniform(-1/sqrt(d_in), 1/sqrt(d_in))
            self.weights.append(nn.Parameter(torch.empty(members, d_in, d_out).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(members, 1, d_out).uniform_(-bound, bound)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions ``[E, n]`` of every member for ``x [n, d_in]``."""
        h = x.unsqueeze(0).expand(len(self.weights[0]), -1, -1)
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if k < len(self.weights) - 1:
                h = torch.relu(h)
        return h.squeeze(-1)


def fit_ensemble(x: torch.Tensor, y: torch.Tensor, config: BananasConfig, seed: int) -> Ensemble:
    """``config.ensemble`` MLPs (``config.layers`` hidden layers of ``config.hidden``) fitted to
    ``(x [n, 100], y [n])`` by full-batch Adam on the mean squared error, weights drawn with ``seed`` (the caller's
    RNG left as it was)."""
    widths = [PATH_FEATURES] + [config.hidden] * config.layers + [1]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = Ensemble(config.ensemble, widths)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    target = y.unsqueeze(0).expand(config.ensemble, -1)
    for _ in range(config.epochs):
        opt.zero_grad(set_to_none=True)
        # summed over members: each member's gradient is that of its own mean squared error
        nn.functional.mse_loss(net(x), target, reduction="none").mean(1).sum().backward()
        opt.step()
    return net.eval()


@torch.no_grad()
def predict(ensemble: Ensemble, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Ensemble mean and standard deviation ``[m]`` each for ``x [m, 100]``."""
    preds = ensemble(x)
    return preds.mean(0), preds.std(0, unbiased=False)


def _candidates(ledger: QueryLedger, config: BananasConfig, rng: random.Random) -> list[Cell]:
    """Unseen, pairwise non-isomorphic mutations (1..max_mutations edges) of the best ``parents`` cells."""
    parents = sorted(ledger.evaluations, key=lambda ev: -ev.score)[: config.parents]
    out: dict[str, Cell] = {}
    for _ in range(config.candidates * 10):
        if len(out) >= config.candidates:
            break
        cell = parents[rng.randrange(len(parents))].cell
        for _ in range(rng.randint(1, config.max_mutations)):
            neighbours = cell.neighbours()
            cell = neighbours[rng.randrange(len(neighbours))]
        if not ledger.seen(cell):
            out.setdefault(cell.canonical(), cell)
    return list(out.values())


def run_bananas(config: BananasConfig, context: SearchContext) -> None:
    """Random initial cells, then predictor-guided batches until the budget is spent."""
    ledger = context.ledger
    rng = random.Random(context.seed)
    sampler = UnseenSampler(rng)
    gen = torch.Generator().manual_seed(context.seed)
    if config.prior != "none":
        pick = pick_initial(ledger, sampler, config.prior, wanted=config.initial, pool=config.prior_pool,
                            seed=context.seed)
        for cell in pick.cells[: ledger.remaining]:
            ledger.query(cell, "initial")
    while len(ledger.evaluations) < config.initial and not ledger.exhausted:
        cell = sampler.draw(ledger)
        if cell is None:
            ledger.stop(SPACE_EXHAUSTED)
            return
        ledger.query(cell, "initial")
    step = 0
    while not ledger.exhausted:
        evals = ledger.evaluations
        x = torch.stack([path_encoding(ev.cell) for ev in evals])
        y = torch.tensor([ev.score for ev in evals], dtype=torch.float32)
        y = (y - y.mean()) / (y.std(unbiased=False) + 1e-8)
        ensemble = fit_ensemble(x, y, config, seed=context.seed * 1000 + step)
        pool = _candidates(ledger, config, rng)
        if not pool:
            cell = sampler.draw(ledger)
            if cell is None:
                ledger.stop(SPACE_EXHAUSTED)
                return
            ledger.query(cell, "random")
            continue
        mu, sigma = predict(ensemble, torch.stack([path_encoding(c) for c in pool]))
        acquisition = mu + sigma * torch.randn(len(pool), generator=gen)  # independent Thompson sampling
        for k in torch.argsort(acquisition, descending=True)[: config.batch].tolist():
            if ledger.exhausted:
                return
            ledger.query(pool[k], "predictor")
        step += 1


METHODS = (
    SearchMethod(
        name="bananas",
        config_type=BananasConfig,
        runner=run_bananas,
        title="BANANAS",
        description="BANANAS: ensemble of MLP predictors on the path encoding, Thompson sampling over mutations",
    ),
)
