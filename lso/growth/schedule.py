"""The growth schedule: train, then rounds of {splitting values -> select under budget -> split -> fine-tune}.

Round 0 trains the starting network. Round ``r = 1..R`` spends an equal share of the budget still left:
``budget_r = size + (budget - size) / (R - r + 1)``, so the last round may reach the final budget (a parameter or
MAC count for the whole model). Methods:

* ``"s3d"``: signed splitting, ``G_2`` (``copies=2``) or ``G_4`` (``copies=4``) with weight bound ``c``;
* ``"s2d"``: ``G = lambda_min``, two positive copies along ``v_min``;
* ``"random"``: random neurons, two halves along random unit directions (no splitting values computed).

The caller supplies ``train_fn(model, round) -> metrics`` (it must build its optimizer from ``model.parameters()``
on every call, since splitting replaces parameters) and ``value_batches()`` (a few batches for the splitting
statistics). "Train the final width from scratch" is the caller's other baseline: build that network and train it.
"""

from __future__ import annotations

import copy

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from lso.atomic import write_json
from lso.growth.cost import CostModel, cost_model
from lso.growth.errors import SplittingError
from lso.growth.grow import SplitReport, apply_splits
from lso.growth.line_search import line_search_step
from lso.growth.select import Selection, select_greedy, select_random
from lso.growth.signed import NeuronSplit, neuron_splits, random_splits
from lso.growth.sites import NeuronSite, check_sites
from lso.growth.splitting import second_derivative_of, site_eigenpairs
from lso.growth.statistics import LossFn, SecondDerivative, SiteStatistics, collect_statistics
from lso.jobs import Reporter

SPLIT_METHODS = ("s3d", "s2d", "random")
TrainFn = Callable[[nn.Module, int], Mapping[str, float]]
BatchesFn = Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]]


@dataclass(frozen=True)
class GrowthConfig:
    """Settings of one growth run (recorded with its result).

    Attributes:
        method: ``"s3d"``, ``"s2d"`` or ``"random"``.
        rounds: splitting rounds after the initial training.
        budget: final model size in ``metric`` units.
        metric: ``"params"`` or ``"macs"``.
        copies: S3D copies per split neuron, 2 (``G_2``) or 4 (``G_4``).
        c: S3D bound on ``sum |w_j|`` (>= 1).
        eps: step of the copies along their directions.
        route: eigenpairs by ``"fast"`` (products ``S v``) or ``"exact"`` (form ``S``).
        steps: products per site for the fast route.
        relu_beta: beta of the softplus stand-in for ReLU's second derivative.
        max_splits_per_round: cap on neurons split per round (None: budget only).
        seed: seeds the random starts of the fast route and the random selector.
        rollback_tolerance: a round whose ``valid_accuracy`` (from ``train_fn``) falls more than this many points
            below the previous round's is retried from the network before the split with half the step, up to
            ``retries`` times; if it still falls, the network before the split is kept and the round is recorded as
            ``rolled_back`` (it grows nothing). None: never roll back.
        retries: retries with a halved ``eps`` before a round is rolled back.
        line_search: choose each round's step by a short line search instead of using ``eps`` as it is: the split is
            tried at ``eps * 4^k`` for ``k`` in ``line_search_powers`` (largest first, until the loss rises again) on a
            copy of the model, the loss measured on the value batches (eval mode, as the splitting statistics), and
            the step with the lowest loss is kept (``lso.growth.line_search``). A rollback retry halves that step. The
            second-order prediction ``eps^2 / 2 * sum G`` only holds for small steps; the measurement says how far
            it holds (``RoundRecord.measured_descent``). Costs one forward pass over the value batches per trial.
        line_search_powers: the exponents ``k`` of the trial steps ``eps * 4^k`` (0.0025 to 0.16 at ``eps`` 0.01 by
            default; ``RefineConfig.line_search_powers`` says why).
    """

    method: str = "s3d"
    rounds: int = 3
    budget: int = 0
    metric: str = "params"
    copies: int = 2
    c: float = 2.0
    eps: float = 1e-2
    route: str = "fast"
    steps: int = 16
    relu_beta: float = 3.0
    max_splits_per_round: int | None = None
    seed: int = 0
    rollback_tolerance: float | None = None
    retries: int = 1
    line_search: bool = False
    line_search_powers: tuple[int, ...] = (-1, 0, 1, 2)

    def __post_init__(self) -> None:
        if self.rollback_tolerance is not None and not self.rollback_tolerance >= 0:
            raise SplittingError(f"rollback_tolerance must be >= 0 points or None, got {self.rollback_tolerance}")
        if self.retries < 0:
            raise SplittingError(f"retries must be >= 0, got {self.retries}")
        object.__setattr__(self, "line_search_powers", tuple(int(k) for k in self.line_search_powers))
        if self.line_search and not self.line_search_powers:
            raise SplittingError("line_search needs at least one trial step (line_search_powers is empty)")
        if self.method not in SPLIT_METHODS:
            raise SplittingError(f"unknown growth method {self.method!r}; use one of {', '.join(SPLIT_METHODS)}")
        if self.copies not in (2, 4):
            raise SplittingError(f"copies must be 2 or 4, got {self.copies}")
        if self.rounds < 1:
            raise SplittingError(f"rounds must be >= 1, got {self.rounds}")
        if self.route not in ("fast", "exact"):
            raise SplittingError(f"unknown eigenpair route {self.route!r}; use 'fast' or 'exact'")

    @property
    def rule(self) -> str:
        return "s2d" if self.method == "s2d" else ("s3d2" if self.copies == 2 else "s3d4")


@dataclass(frozen=True)
class RoundRecord:
    """One round: model size after it, neurons split per site, widths, seconds spent, and ``train_fn``'s metrics.

    ``eps``: the step the kept split used (after the line search and any halving; the last one tried when the
    round was rolled back); ``predicted_descent``: ``eps^2 / 2 * sum G`` over the split neurons (0 for random
    splitting); ``measured_descent``: the loss on the value batches right after the split minus before it (None when
    not measured: no line search, a retried round, a NaN loss)."""

    round: int
    params: int
    macs: int
    splits: dict[str, int]
    widths: dict[str, int]
    seconds_values: float
    seconds_train: float
    predicted_descent: float
    metrics: dict[str, float]
    rolled_back: bool = False
    attempts: int = 1
    eps: float = 0.0
    measured_descent: float | None = None


@dataclass(frozen=True)
class GrowthResult:
    config: GrowthConfig
    rounds: tuple[RoundRecord, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"config": dataclasses.asdict(self.config), "rounds": [dataclasses.asdict(r) for r in self.rounds]}

    def save(self, path: str | Path) -> Path:
        """Write JSON atomically (``lso.atomic.write_json``)."""
        return write_json(path, self.to_dict())


def splitting_candidates(model: nn.Module, sites: Sequence[NeuronSite], batches: Iterable, loss_fn: LossFn,
                         rule: str, *, c: float = 2.0, route: str = "fast", steps: int = 16,
                         second_derivative: SecondDerivative | None = None, relu_beta: float = 3.0,
                         generator: torch.Generator | None = None) -> list[NeuronSplit]:
    """Splitting values and copies of every neuron of every site (one statistics pass, then eigenpairs)."""
    resolved = check_sites(model, list(sites))
    sd = second_derivative or {r.site.name: second_derivative_of(r.activation, relu_beta) for r in resolved}
    stats = collect_statistics(model, sites, batches, loss_fn, sd)
    return candidates_from(stats, rule, c=c, route=route, steps=steps, generator=generator)


def candidates_from(stats: Mapping[str, SiteStatistics], rule: str, *, c: float = 2.0, route: str = "fast",
                    steps: int = 16, generator: torch.Generator | None = None) -> list[NeuronSplit]:
    """Eigenpairs, descent values and copies of every neuron of sites whose statistics are already recorded."""
    out: list[NeuronSplit] = []
    for name, st in stats.items():
        out += neuron_splits(name, site_eigenpairs(st, route, steps=steps, generator=generator), rule, c)
    return out


class SplitSpace(Protocol):
    """What a growth run may split in a model, and how (``SiteSpace`` for single-layer sites; the NB201 network's
    stage and reduction channels in ``lso.growth.nb201.NB201Space``)."""

    def candidates(self, model: nn.Module, batches: Iterable, loss_fn: LossFn, config: GrowthConfig,
                   generator: torch.Generator) -> list[NeuronSplit]:
        """Descent values and copies of every splittable neuron (``config.rule``, ``c``, ``route``, ``steps``)."""

    def random_candidates(self, model: nn.Module, generator: torch.Generator) -> list[NeuronSplit]:
        """Every neuron as an S2D pair along a random unit direction."""

    def costs(self, model: nn.Module, example: torch.Tensor) -> CostModel:
        """Exact size of the model after adding neurons."""

    def apply(self, model: nn.Module, splits: Sequence[NeuronSplit], eps: float) -> SplitReport:
        """Split in place; the report's ``widths`` are ``widths(model)`` afterwards."""

    def widths(self, model: nn.Module) -> dict[str, int]:
        """Current width of every splittable group."""


@dataclass(frozen=True)
class SiteSpace:
    """Single-layer sites (``lso.growth.sites``); ``second_derivative`` None: from each site's activation."""

    sites: tuple[NeuronSite, ...]
    second_derivative: SecondDerivative | None = None

    def candidates(self, model: nn.Module, batches: Iterable, loss_fn: LossFn, config: GrowthConfig,
                   generator: torch.Generator) -> list[NeuronSplit]:
        return splitting_candidates(model, self.sites, batches, loss_fn, config.rule, c=config.c, route=config.route,
                                    steps=config.steps, second_derivative=self.second_derivative,
                                    relu_beta=config.relu_beta, generator=generator)

    def random_candidates(self, model: nn.Module, generator: torch.Generator) -> list[NeuronSplit]:
        return [s for rs in check_sites(model, list(self.sites))
                for s in random_splits(rs.site.name, rs.width, rs.dim, generator, dtype=rs.layer.weight.dtype)]

    def costs(self, model: nn.Module, example: torch.Tensor) -> CostModel:
        return cost_model(model, self.sites, example)

    def apply(self, model: nn.Module, splits: Sequence[NeuronSplit], eps: float) -> SplitReport:
        return apply_splits(model, self.sites, splits, eps)

    def widths(self, model: nn.Module) -> dict[str, int]:
        return {r.site.name: r.width for r in check_sites(model, list(self.sites))}


def grow_network(model: nn.Module, space: SplitSpace | Sequence[NeuronSite], train_fn: TrainFn,
                 value_batches: BatchesFn, loss_fn: LossFn, example: torch.Tensor, config: GrowthConfig, *,
                 second_derivative: SecondDerivative | None = None,
                 reporter: Reporter | None = None) -> GrowthResult:
    """Run the schedule (module docstring) on ``model`` in place; ``space``: what may split (a ``SplitSpace``, or
    single-layer sites with ``second_derivative``); ``example``: an input batch (sizes, MACs).

    ``reporter`` (``lso.jobs``): ``(r, rounds, message, params=)`` after round ``r = 0..rounds``; a stop request
    raises ``Cancelled`` at the next report."""
    if not hasattr(space, "candidates"):
        space = SiteSpace(tuple(space), second_derivative)
    costs = space.costs(model, example)
    size = costs.base[config.metric]
    if config.budget < size:
        raise SplittingError(f"budget of {config.budget} {config.metric} is below the current size of {size} "
                             f"{config.metric}")
    records = []
    start = time.perf_counter()
    metrics = dict(train_fn(model, 0))
    records.append(RoundRecord(0, costs.base["params"], costs.base["macs"], {}, space.widths(model), 0.0,
                               time.perf_counter() - start, 0.0, metrics))
    _report(reporter, records[-1], config)
    for r in range(1, config.rounds + 1):
        t0 = time.perf_counter()
        size = costs.base[config.metric]
        budget_r = size + math.ceil((config.budget - size) / (config.rounds - r + 1))
        gen = torch.Generator().manual_seed(config.seed * 1000 + r)
        if config.method == "random":
            selection: Selection = select_random(space.random_candidates(model, gen), costs, budget_r, config.metric,
                                                 seed=config.seed * 1000 + r, max_splits=config.max_splits_per_round)
        else:
            cands = space.candidates(model, value_batches(), loss_fn, config, gen)
            selection = select_greedy(cands, costs, budget_r, config.metric, max_splits=config.max_splits_per_round)
        before = copy.deepcopy(model) if config.rollback_tolerance is not None else None
        eps, measured = config.eps, math.nan
        if config.line_search and selection.splits:
            eps, measured = line_search_step(model, space.apply, selection.splits, value_batches, loss_fn, config.eps,
                                             config.line_search_powers)
        attempts, seconds_train, seconds_values = 0, 0.0, 0.0
        while True:
            attempts += 1
            report = space.apply(model, selection.splits, eps)
            t1 = time.perf_counter()
            seconds_values = seconds_values or t1 - t0  # statistics, selection and the first split
            metrics = dict(train_fn(model, r))
            seconds_train += time.perf_counter() - t1
            if before is None or not _hurts(records[-1].metrics, metrics, config.rollback_tolerance):
                rolled_back = False
                break
            _restore(model, copy.deepcopy(before))  # the network before the split, trained as it was
            if attempts > config.retries:
                rolled_back, metrics = True, dict(records[-1].metrics)
                report = SplitReport(split={}, added={}, widths=space.widths(model))
                break
            eps /= 2
        predicted = sum(s.value for s in selection.splits if not math.isnan(s.value)) * eps ** 2 / 2
        costs = space.costs(model, example)  # after this round, and for the next one
        records.append(RoundRecord(r, costs.base["params"], costs.base["macs"], report.split, report.widths,
                                   seconds_values, seconds_train, 0.0 if rolled_back else predicted,
                                   metrics, rolled_back, attempts, eps,
                                   measured if attempts == 1 and not math.isnan(measured) else None))
        _report(reporter, records[-1], config)
    return GrowthResult(config=config, rounds=tuple(records))


def _hurts(before: Mapping[str, float], after: Mapping[str, float], tolerance: float | None) -> bool:
    """Whether a round lowered ``valid_accuracy`` by more than ``tolerance`` points (never without the figure)."""
    if tolerance is None or "valid_accuracy" not in before or "valid_accuracy" not in after:
        return False
    return after["valid_accuracy"] < before["valid_accuracy"] - tolerance


def _restore(model: nn.Module, snapshot: nn.Module) -> None:
    """Make ``model`` (in place, so every holder of it sees the change) the network ``snapshot`` holds: splitting
    replaced modules and parameters, so their shapes differ and ``load_state_dict`` cannot do it."""
    model.__dict__.clear()
    model.__dict__.update(snapshot.__dict__)


def _report(reporter: Reporter | None, record: RoundRecord, config: GrowthConfig) -> None:
    if reporter is not None:
        reporter(record.round, config.rounds, f"growth ({config.method}): round {record.round}/{config.rounds}, "
                 f"{record.params} parameters", params=float(record.params))
