"""The settings of one refine run (``RefineConfig``), checked when it is built, and the refine methods."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

from lso.errors import LsoError
from lso.growth.nb201 import GROUPS
from lso.growth.schedule import SPLIT_METHODS
from lso.nets.protocol import TrainProtocol, default_protocol, get_protocol
from lso.space import Cell

# The three splitting methods of the growth schedule, plus the fixed-width baseline trained from scratch.
REFINE_METHODS = (*SPLIT_METHODS, "scratch")
ROUTES = ("fast", "exact")


class RefineError(LsoError):
    """Bad input to ``refine``: an unknown method, a budget below the starting size, impossible settings."""


@dataclass(frozen=True)
class RefineConfig:
    """How to refine one NB201 architecture (``lso.growth.refine.run.refine``).

    Attributes:
        arch: NB201 cell string or ``Cell``; stored as the cell's official string.
        dataset: registered dataset name (``lso.data.datasets``), e.g. ``"digits"``.
        method: one of ``REFINE_METHODS``: ``"s3d"``, ``"s2d"``, ``"random"`` or ``"scratch"``.
        rounds: splitting rounds after round 0 (>= 1).
        budget_params: final parameter count (whole network), >= 1; must be >= the starting network's (checked when
            the run builds it). None: NB201's own size for the cell (``lso.growth.nb201.nb201_params``:
            the image or the 1-D network, as the dataset's).
        seed: initial weights, batch order, random starts and random selection.
        protocol: training protocol name or object; None: the dataset's first registered protocol. Stored as the
            ``TrainProtocol`` itself; it gives the macro network (C, N), optimizer, lr, batch size, train subset and
            round-0 epochs, and must be for ``dataset``.
        finetune_epochs: epochs of fine-tuning after each split (>= 0).
        inner_mult, stage_mult: the starting inner and stage widths as fractions of NB201's, in (0, 1].
        groups: the width groups that grow (``lso.growth.nb201.GROUPS``; default all), at least one.
        copies, c, eps, route, steps: S3D copies (2 or 4), weight bound (>= 1), step (>= 0), eigen route
            (``"fast"`` or ``"exact"``), products per site (>= 1).
        value_samples: first training examples (images or signals) used for the splitting statistics (>= 2).
        rollback_tolerance: a growth round that lowers validation accuracy by more than this many points is retried
            with half the step, then rolled back (the network before the split is kept; the round says
            ``rolled_back``). None: never. Default 0.5 point, under the seed noise of the start network's validation
            accuracy on digits (0.89: ``benchmarks/bench_rollback.py``).
        retries: halved-step retries before a round is rolled back (>= 0).
        start_epochs: epochs of round 0, the starting network's training (>= 1); None: the protocol's ``epochs``.
            Default 10: on digits' full train split the start network's valid accuracy plateaus there
            (``benchmarks/bench_refine_defaults.py``).
        full_train_split: train on the dataset's whole train split (True) or on the protocol's ``train_samples``
            subset (False, as a benchmark table trains its cells).
        finetune_lr_mult: peak learning rate of the fine-tuning after a split, as a fraction of the protocol's
            ``lr`` (in (0, 1]; the cosine schedule restarts at it each round). Default 0.3: on digits (S3D, 3 cells x
            5 seeds, rollback off) the full lr let 10 of 15 runs lose > 1 point of valid accuracy in a round and ended
            at 96.8 % test; 0.3 and 0.1: 2 of 15, 97.5 and 97.4 %.
        line_search: each round's step by a short line search on the measured loss (``eps * 4^k`` for k in
            ``line_search_powers``, ``lso.growth.line_search``) instead of ``eps`` as it is.
        line_search_powers: the exponents k of the trial steps. Default -1..2: on digits the search chose 0.04-0.16
            from -2..3 as well, the same steps in fewer trials (``bench_refine_defaults.py cost``).

    Raises (when built):
        RefineError: every bad setting above, named in one message.
        ArchStringError: an arch that is not an NB201 cell.
        DatasetError, ProtocolError: an unknown dataset or protocol name.
    """

    arch: str | Cell
    dataset: str = "digits"
    method: str = "s3d"
    rounds: int = 3
    budget_params: int | None = None
    seed: int = 0
    protocol: str | TrainProtocol | None = None
    finetune_epochs: int = 1
    inner_mult: float = 0.25
    stage_mult: float = 0.5
    groups: tuple[str, ...] = GROUPS
    copies: int = 2
    c: float = 2.0
    eps: float = 1e-2
    route: str = "fast"
    steps: int = 8
    value_samples: int = 128
    rollback_tolerance: float | None = 0.5
    retries: int = 1
    start_epochs: int | None = 10
    full_train_split: bool = True
    finetune_lr_mult: float = 0.3
    line_search: bool = True
    line_search_powers: tuple[int, ...] = (-1, 0, 1, 2)

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "line_search_powers", tuple(int(k) for k in self.line_search_powers))
        problems = _problems(self)
        if problems:
            raise RefineError("bad refine settings: " + "; ".join(problems))
        object.__setattr__(self, "arch", Cell.parse(self.arch).to_string())
        protocol = _resolve_protocol(self.protocol, self.dataset)
        if protocol.dataset != self.dataset:
            raise RefineError(f"protocol {protocol.name!r} is for dataset {protocol.dataset!r}, not "
                              f"{self.dataset!r}")
        object.__setattr__(self, "protocol", protocol)

    @property
    def cell(self) -> Cell:
        return Cell.parse(self.arch)

    @property
    def train_protocol(self) -> TrainProtocol:
        """``protocol`` as the ``TrainProtocol`` it was resolved to when the config was built."""
        return cast(TrainProtocol, self.protocol)

    @property
    def round0_epochs(self) -> int:
        """Epochs the starting network trains (``start_epochs``, or the protocol's)."""
        return self.train_protocol.epochs if self.start_epochs is None else self.start_epochs

    @property
    def total_epochs(self) -> int:
        """Epochs a growth run trains when no round is retried (``round0_epochs + rounds * finetune_epochs``); the
        epochs a "scratch" network of the final width trains."""
        return self.round0_epochs + self.rounds * self.finetune_epochs


def _problems(config: RefineConfig) -> list[str]:
    """Every bad number or name of ``config`` (the arch, dataset and protocol are checked by their own parsers)."""
    out = []
    if config.method not in REFINE_METHODS:
        out.append(f"unknown refine method {config.method!r} (use one of {', '.join(REFINE_METHODS)})")
    for name, value, least in (("rounds", config.rounds, 1), ("finetune_epochs", config.finetune_epochs, 0),
                               ("value_samples", config.value_samples, 2), ("steps", config.steps, 1)):
        if value < least:
            out.append(f"{name} must be >= {least}, got {value}")
    if config.start_epochs is not None and config.start_epochs < 1:
        out.append(f"start_epochs must be >= 1 or None, got {config.start_epochs}")
    if config.line_search and not config.line_search_powers:
        out.append("line_search needs at least one trial step (line_search_powers is empty)")
    if not 0.0 < config.finetune_lr_mult <= 1.0:
        out.append(f"finetune_lr_mult must be in (0, 1] (a fraction of the protocol's lr), got {config.finetune_lr_mult}")
    if config.budget_params is not None and config.budget_params < 1:
        out.append(f"budget_params must be >= 1 or None, got {config.budget_params}")
    for name, mult in (("inner_mult", config.inner_mult), ("stage_mult", config.stage_mult)):
        if not 0.0 < mult <= 1.0:
            out.append(f"{name} must be in (0, 1] (a fraction of NB201's widths), got {mult}")
    unknown = [g for g in config.groups if g not in GROUPS]
    if unknown or not config.groups or len(set(config.groups)) != len(config.groups):
        out.append(f"groups must be distinct names among {', '.join(GROUPS)}, got {list(config.groups)}")
    if config.copies not in (2, 4):
        out.append(f"copies must be 2 or 4, got {config.copies}")
    if not config.c >= 1.0 or not math.isfinite(config.c):
        out.append(f"c must be a finite number >= 1, got {config.c}")
    if not config.eps >= 0.0 or not math.isfinite(config.eps):
        out.append(f"eps must be a finite number >= 0, got {config.eps}")
    if config.rollback_tolerance is not None and not (config.rollback_tolerance >= 0
                                                      and math.isfinite(config.rollback_tolerance)):
        out.append(f"rollback_tolerance must be a finite number >= 0 or None, got {config.rollback_tolerance}")
    if config.retries < 0:
        out.append(f"retries must be >= 0, got {config.retries}")
    if config.route not in ROUTES:
        out.append(f"unknown eigenpair route {config.route!r} (use {' or '.join(ROUTES)})")
    return out


def _resolve_protocol(protocol: str | TrainProtocol | None, dataset: str) -> TrainProtocol:
    if isinstance(protocol, TrainProtocol):
        return protocol
    return default_protocol(dataset) if protocol is None else get_protocol(protocol)
