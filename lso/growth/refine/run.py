"""Refine one NB201 architecture by growing it: signed splitting (S3D), S2D, random splitting, or train from scratch.

The network is the dataset's: the image network for image datasets (digits, CIFAR), the 1-D one for signals
(``mnist1d``, ``DatasetSpec.dims == 1``); everything below holds for both (``lso.growth.conv``).

``refine`` builds the narrow starting network of the cell (``lso.growth.nb201``: the stage widths at ``stage_mult``
and the reduction blocks' inner widths at ``inner_mult`` of NB201's), trains it (round 0, ``start_epochs`` epochs on
the whole train split by default), then runs ``rounds`` rounds of {splitting values -> energy-aware selection under
the parameter budget -> split (its step by a line search) -> fine-tune ``finetune_epochs`` at ``finetune_lr_mult``
times the protocol's lr}
(``lso.growth.schedule.grow_network``). Round ``r`` may grow the model to ``size + (budget - size) / (R - r + 1)``.

``"scratch"`` is the fixed-width baseline: the network whose widths are the largest that fit the budget (one
channel at a time to the width group that has grown least, relative to its start), trained from scratch for the same
number of epochs the growth runs spend in all (``RefineConfig.total_epochs``), at the protocol's lr. Its round 0 is
the same trained starting network as the other methods', its last round the final width (``widths=`` gives other
final widths, e.g. those a growth run found: "new initialisation").

Reproducibility: the seed draws the initial weights (inside ``torch.random.fork_rng``: the caller's RNG is left as
it was), the batch order (a private ``torch.Generator``), the random starts of the fast eigen-route and the random
selector; on one device with a fixed thread count the result is a pure function of the arguments.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lso.data.datasets import ImageDataset, Split, load_dataset
from lso.device import describe_device, resolve_device
from lso.growth.cost import count_macs
from lso.growth.nb201 import (GROUPS, NB201Space, example_input, narrow_widths, nb201_costs, nb201_params,
                              network_with_widths, widths_of)
from lso.growth.refine.config import RefineConfig, RefineError
from lso.growth.refine.result import RefineResult, RefineRound
from lso.growth.schedule import GrowthConfig, GrowthResult, grow_network
from lso.jobs import Reporter
from lso.nets.loop import evaluate_split, train_epochs
from lso.nets.network import Network, count_params
from lso.space import Cell, MacroConfig


def scratch_widths(cell: Cell, macro: MacroConfig, start: Mapping[str, int], budget_params: int,
                   groups: Sequence[str] = GROUPS, dims: int = 2) -> dict[str, int]:
    """The widest widths within ``budget_params``: add one channel at a time to the group of ``groups`` with the
    smallest ``width / start`` whose channel still fits (exact sizes, ``lso.growth.nb201.nb201_costs``; ``dims``:
    2 for the image network, 1 for the 1-D one)."""
    costs = nb201_costs(cell, macro, start, groups, dims=dims)
    extra = {name: 0 for name in groups}
    while True:
        order = sorted(groups, key=lambda s: ((start[s] + extra[s]) / start[s], s))
        for name in order:
            grown = dict(extra)
            grown[name] += 1
            if costs.total(grown, "params") <= budget_params:
                extra = grown
                break
        else:
            return {name: start[name] + extra.get(name, 0) for name in start}


@dataclass
class _Run:
    """One refine run under way: its settings, data on the device, and the rounds recorded so far."""

    config: RefineConfig  # budget_params resolved
    macro: MacroConfig
    device: torch.device
    data: ImageDataset
    train: Split  # the protocol's train subset, on the device
    example: torch.Tensor  # [2, in_channels, S, S] ([2, in_channels, L] for signals) for MAC counting
    reporter: Reporter | None
    rounds: list[RefineRound] = dataclasses.field(default_factory=list)
    seconds_values: list[float] = dataclasses.field(default_factory=list)
    seconds_train: list[float] = dataclasses.field(default_factory=list)
    widths: list[dict[str, int]] = dataclasses.field(default_factory=list)

    def build(self, widths: Mapping[str, int]) -> Network:
        """The network of the cell at ``widths``, its weights drawn from the seed without touching the caller's RNG."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)
            model = network_with_widths(self.config.cell, self.macro, widths, self.data.spatial_dims)
        return model.to(self.device)

    def accuracies(self, model: nn.Module) -> dict[str, float]:
        """Train, valid and test accuracy (%) in eval mode."""
        return {"train_accuracy": evaluate_split(model, self.train)[0],
                "valid_accuracy": evaluate_split(model, self.data.valid.to(self.device))[0],
                "test_accuracy": evaluate_split(model, self.data.test.to(self.device))[0]}

    def report(self, r: int, model: nn.Module, acc: Mapping[str, float]) -> None:
        """``reporter(r, rounds, message, params=, test_accuracy=, valid_accuracy=)`` after round ``r``."""
        if self.reporter is not None:
            params, method, rounds = count_params(model), self.config.method, self.config.rounds
            self.reporter(r, rounds, f"{method}: round {r}/{rounds}, {params} parameters, test accuracy "
                          f"{acc['test_accuracy']:.1f} %", params=float(params), test_accuracy=acc["test_accuracy"],
                          valid_accuracy=acc["valid_accuracy"])

    def finish(self, model: Network, r: int, seconds_train: float, epochs: int) -> None:
        """Record round ``r`` of a network trained ``epochs`` epochs in ``seconds_train`` without splitting."""
        acc = self.accuracies(model)
        self.report(r, model, acc)
        self.add(RefineRound(params=count_params(model), flops=count_macs(model, self.example), seconds=seconds_train,
                             device=describe_device(self.device), splits={}, epochs=epochs, **acc), 0.0,
                 seconds_train, widths_of(model))

    def add(self, rnd: RefineRound, seconds_values: float, seconds_train: float, widths: dict[str, int]) -> None:
        self.rounds.append(rnd)
        self.seconds_values.append(seconds_values)
        self.seconds_train.append(seconds_train)
        self.widths.append(widths)

    def result(self, start_widths: Mapping[str, int]) -> RefineResult:
        return RefineResult(rounds=tuple(self.rounds), config=self.config, device=describe_device(self.device),
                            start_widths=dict(start_widths), seconds_values=tuple(self.seconds_values),
                            seconds_train=tuple(self.seconds_train), widths=tuple(self.widths))


def refine(config: RefineConfig, *, data: ImageDataset | None = None, device: str | torch.device = "auto",
           reporter: Reporter | None = None, widths: Mapping[str, int] | None = None) -> RefineResult:
    """Grow the narrow network of ``config.arch`` to ``config.budget_params`` parameters by ``config.method``
    (module docstring).

    Splitting (S3D, Wu et al. 2020; S2D, Liu et al. 2019): neuron ``i`` with splitting matrix
    ``S_i = E[g_i sigma''(h_i) x x^T]`` ([d, d]; for a stage channel the sum over every ReLU reading it, with ``x``
    the stacked inputs of all its producers, ``lso.growth.stages``; ReLU's ``sigma''`` by the softplus(beta=3)
    stand-in) is ranked by its descent value ``G`` (S3D ``G_2 = min(lambda_min, -k lambda_max)``,
    ``k = (c-1)/(c+1)``; S2D ``G = lambda_min``); a split changes the loss by about ``eps^2 / 2 * G``.

    Args:
        config: the run's settings (``RefineConfig``, checked when it was built).
        data: an already loaded dataset (must be ``config.dataset``), to skip loading.
        device: ``"auto"``, ``"cpu"`` or ``"cuda[:k]"``.
        widths: "scratch" only: the final widths to train from scratch instead of ``scratch_widths`` (any size).
        reporter: ``lso.jobs`` progress: ``(0, rounds, message)`` before training, then after each round
            ``(round, rounds, message, params=, test_accuracy=, valid_accuracy=)`` ("scratch": round 0 and
            ``rounds`` for its final network); a stop request raises ``Cancelled`` at the next report or epoch.

    Raises:
        RefineError: a budget below the starting network's size, data of another dataset, ``widths`` for a growth
            method.
        DatasetError, DeviceError: a dataset that cannot be loaded; CUDA asked but absent.
    """
    dev = resolve_device(device)
    proto = config.train_protocol
    data = load_dataset(config.dataset, split_seed=proto.split_seed) if data is None else data
    if data.name != config.dataset:
        raise RefineError(f"data is {data.name!r}, expected {config.dataset!r}")
    macro = data.macro(proto.channels, proto.cells_per_stage)
    start_widths = narrow_widths(macro, config.inner_mult, config.stage_mult)
    dims = data.spatial_dims
    budget = nb201_params(config.cell, macro, dims) if config.budget_params is None else config.budget_params
    if widths is not None and config.method != "scratch":
        raise RefineError(f"widths= gives the final widths of 'scratch', not of {config.method!r}")
    subset = None if config.full_train_split else proto.train_samples
    train = (data.train if subset is None else data.train.head(subset)).to(dev)
    run = _Run(config=dataclasses.replace(config, budget_params=int(budget)), macro=macro, device=dev, data=data,
               train=train, example=example_input(macro, dev, dims), reporter=reporter)
    model = run.build(start_widths)
    start_params = count_params(model)
    if budget < start_params:
        raise RefineError(f"budget of {budget} parameters is below the starting network's {start_params} "
                          f"parameters ({config.arch}, widths {start_widths})")
    if reporter is not None:
        reporter(0, config.rounds, f"{config.method}: training the starting network ({start_params} parameters)")
    if config.method == "scratch":
        _scratch(run, model, start_widths, widths)
    else:
        _grow(run, model)
    return run.result(start_widths)


def _scratch(run: _Run, model: Network, start_widths: Mapping[str, int], widths: Mapping[str, int] | None) -> None:
    """Round 0: the starting network trained as the other methods train it; round ``rounds``: the widest network
    within the budget (or ``widths``), trained from scratch for all the epochs a growth run spends."""
    cfg, proto = run.config, run.config.train_protocol
    t0 = time.perf_counter()
    train_epochs(model, run.train, proto, cfg.round0_epochs, torch.Generator().manual_seed(cfg.seed), run.reporter)
    run.finish(model, 0, time.perf_counter() - t0, cfg.round0_epochs)
    final = ({**start_widths, **widths} if widths is not None else
             scratch_widths(cfg.cell, run.macro, start_widths, cfg.budget_params, cfg.groups, run.data.spatial_dims))
    t0 = time.perf_counter()
    wide = run.build(final)
    train_epochs(wide, run.train, proto, cfg.total_epochs, torch.Generator().manual_seed(cfg.seed), run.reporter)
    run.finish(wide, cfg.rounds, time.perf_counter() - t0, cfg.total_epochs)


def _grow(run: _Run, model: Network) -> None:
    """Rounds of splitting under the budget (``lso.growth.schedule.grow_network``), training through ``train_fn``."""
    cfg, proto = run.config, run.config.train_protocol
    grow_config = GrowthConfig(method=cfg.method, rounds=cfg.rounds, budget=int(cfg.budget_params), metric="params",
                               copies=cfg.copies, c=cfg.c, eps=cfg.eps, route=cfg.route, steps=cfg.steps,
                               seed=cfg.seed, rollback_tolerance=cfg.rollback_tolerance, retries=cfg.retries,
                               line_search=cfg.line_search, line_search_powers=cfg.line_search_powers)
    # the cosine schedule restarts at each fine-tuning: at a fraction of the peak lr, so a split is not shaken apart
    finetune = proto if cfg.finetune_lr_mult == 1.0 else proto.with_(lr=proto.lr * cfg.finetune_lr_mult)
    n_val = min(cfg.value_samples, len(run.train))
    value_set = [(run.train.x[s:s + proto.batch_size], run.train.y[s:s + proto.batch_size])
                 for s in range(0, n_val, proto.batch_size)]
    generator = torch.Generator().manual_seed(cfg.seed)

    def train_fn(model_: nn.Module, r: int) -> Mapping[str, float]:
        t0 = time.perf_counter()
        if r == 0:
            train_epochs(model_, run.train, proto, cfg.round0_epochs, generator, run.reporter)
        else:
            train_epochs(model_, run.train, finetune, cfg.finetune_epochs, generator, run.reporter)
        seconds = time.perf_counter() - t0
        acc = run.accuracies(model_)
        run.report(r, model_, acc)
        return {"seconds_train": seconds, **acc}

    growth = grow_network(model, NB201Space(cfg.groups), train_fn, lambda: value_set, F.cross_entropy, run.example,
                          grow_config)
    _add_growth(run, growth)


def _add_growth(run: _Run, growth: GrowthResult) -> None:
    """The schedule's round records as refine rounds (its MACs are refine's ``flops``; every attempt of a round
    trained ``finetune_epochs``)."""
    cfg = run.config
    for rec in growth.rounds:
        m = rec.metrics
        run.add(RefineRound(params=rec.params, flops=rec.macs, train_accuracy=m["train_accuracy"],
                            valid_accuracy=m["valid_accuracy"], test_accuracy=m["test_accuracy"],
                            seconds=rec.seconds_values + m["seconds_train"], device=describe_device(run.device),
                            splits={k: int(v) for k, v in rec.splits.items()}, rolled_back=rec.rolled_back,
                            epochs=cfg.round0_epochs if rec.round == 0 else cfg.finetune_epochs * rec.attempts,
                            eps=rec.eps),
                rec.seconds_values, m["seconds_train"], dict(rec.widths))
