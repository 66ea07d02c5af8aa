"""MiLeNAS (He et al., CVPR 2020): mixed-level differentiable search on the NB201 supernet, with first-order DARTS
as the contrast.

Per minibatch pair (a batch of the weight half and a batch of the architecture half of the train split), both
gradients are taken at the current point ``(w, alpha)`` and then both parameters step:

- MiLeNAS (first order, mixed level)::

      w     <- w     - eta_w     grad_w L_train(w, alpha)
      alpha <- alpha - eta_alpha (grad_alpha L_train(w, alpha) + lambda grad_alpha L_val(w, alpha))

- DARTS, first order (the bilevel problem with the inner optimum approximated by the current ``w``)::

      w     <- w     - eta_w     grad_w L_train(w, alpha)
      alpha <- alpha - eta_alpha grad_alpha L_val(w, alpha)

``L_train`` is the cross-entropy on the weight half and ``L_val`` on the architecture half (the split's own
``valid`` and ``test`` are never seen by the search: the oracle uses them). Both methods cost two forward/backward
passes per step: the train pass gives ``grad_w`` and, for MiLeNAS, ``grad_alpha L_train`` at once. ``eta_*`` are
the optimisers' (SGD with momentum for ``w``, Adam for ``alpha``): the rule above is the gradient each one is fed.
The derived cell takes the argmax op per edge; it is scored by an ``Oracle`` (benchmark table or training).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from lso.atomic import write_json
from lso.data.datasets import ImageDataset, Split, load_dataset
from lso.device import describe_device, resolve_device
from lso.errors import LsoError
from lso.nets.loop import shuffled_batches
from lso.nets.supernet import Supernet
from lso.oracle import Evaluation, Oracle
from lso.space import Cell

METHODS: tuple[str, ...] = ("milenas", "darts")
"""``milenas``: mixed-level alpha gradient; ``darts``: first-order DARTS (validation gradient only)."""

PARAMETER_FREE_OPS: tuple[str, ...] = ("none", "skip_connect", "avg_pool_3x3")
"""Ops without weights: a cell made only of these is the "collapse" NAS-Bench-201 reports for DARTS."""


class MilenasError(LsoError):
    """Invalid MiLeNAS settings or a result file that cannot be read."""


@dataclass(frozen=True)
class MilenasConfig:
    """One differentiable search. Defaults are the MiLeNAS paper's settings and NAS-Bench-201's search model
    (C=16, N=5, batch 64, 50 epochs).

    Weights: SGD(``w_lr``, momentum ``w_momentum``, weight decay ``w_weight_decay``), the rate annealed per epoch
    by cosine from ``w_lr`` to ``w_lr_min``, gradient norm clipped at ``grad_clip`` (None: no clipping).
    Architecture: Adam(``alpha_lr``, ``alpha_betas``, weight decay ``alpha_weight_decay``). ``lam`` is the
    mixed-level lambda (MiLeNAS only). The dataset's train split (first ``train_samples`` examples when set) is
    halved: first half for the weight step, second half for the architecture step.
    """

    dataset: str = "digits"
    method: str = "milenas"
    epochs: int = 50
    seed: int = 0
    lam: float = 1.0
    batch_size: int = 64
    channels: int = 16
    cells_per_stage: int = 5
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    grad_clip: float | None = 5.0
    alpha_lr: float = 3e-4
    alpha_betas: tuple[float, float] = (0.5, 0.999)
    alpha_weight_decay: float = 1e-3
    split_seed: int = 0
    train_samples: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha_betas", tuple(float(b) for b in self.alpha_betas))
        problems = []
        if self.method not in METHODS:
            problems.append(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.epochs < 1:
            problems.append(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 2:
            problems.append(f"batch_size must be >= 2 (batch norm), got {self.batch_size}")
        if self.channels < 1 or self.cells_per_stage < 1:
            problems.append(f"channels and cells_per_stage must be >= 1, got {self.channels}, {self.cells_per_stage}")
        if not (self.w_lr > 0 and 0 <= self.w_lr_min <= self.w_lr):
            problems.append(f"need w_lr > 0 and 0 <= w_lr_min <= w_lr, got {self.w_lr}, {self.w_lr_min}")
        if not self.alpha_lr > 0:
            problems.append(f"alpha_lr must be > 0, got {self.alpha_lr}")
        if len(self.alpha_betas) != 2 or not all(0 <= b < 1 for b in self.alpha_betas):
            problems.append(f"alpha_betas must be two numbers in [0, 1), got {self.alpha_betas}")
        if min(self.w_weight_decay, self.alpha_weight_decay, self.w_momentum) < 0:
            problems.append("weight decays and momentum must be >= 0")
        if self.grad_clip is not None and not self.grad_clip > 0:
            problems.append(f"grad_clip must be > 0 or None, got {self.grad_clip}")
        if self.lam < 0:
            problems.append(f"lam must be >= 0, got {self.lam}")
        if self.train_samples is not None and self.train_samples < 4:
            problems.append(f"train_samples must be >= 4 or None, got {self.train_samples}")
        if problems:
            raise MilenasError("invalid MiLeNAS config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["alpha_betas"] = list(self.alpha_betas)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MilenasConfig":
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise MilenasError(f"unknown MiLeNAS config field(s): {', '.join(sorted(unknown))}")
        return cls(**dict(data))


# ----- one step -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepGradients:
    """The gradients one step feeds its optimisers, all at the same ``(w, alpha)``.

    ``weights``: ``grad_w L_train`` per weight parameter (``Supernet.weight_parameters`` order).
    ``alpha``: ``[6, 5]`` the architecture gradient of the method (see the module docstring).
    ``logits_train``: ``[B, classes]`` detached, for running accuracy. Losses are mean cross-entropy.
    """

    weights: tuple[torch.Tensor, ...]
    alpha: torch.Tensor
    train_loss: float
    val_loss: float
    logits_train: torch.Tensor
    logits_val: torch.Tensor


def step_gradients(
    model: Supernet,
    train_batch: tuple[torch.Tensor, torch.Tensor],
    val_batch: tuple[torch.Tensor, torch.Tensor],
    method: str = "milenas",
    lam: float = 1.0,
) -> StepGradients:
    """Gradients of one MiLeNAS (``grad_alpha L_train + lam grad_alpha L_val``) or first-order DARTS
    (``grad_alpha L_val``) step; ``grad_w L_train`` for the weights in both. Batches are ``(x [B, C, S, S], y [B])``.
    """
    if method not in METHODS:
        raise MilenasError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    weights = model.weight_parameters()
    x_t, y_t = train_batch
    logits_t = model(x_t)
    loss_t = nn.functional.cross_entropy(logits_t, y_t)
    wrt = [*weights, model.alpha] if method == "milenas" else weights
    grads = torch.autograd.grad(loss_t, wrt, allow_unused=True)
    grads = tuple(torch.zeros_like(p) if g is None else g for p, g in zip(wrt, grads))
    x_v, y_v = val_batch
    logits_v = model(x_v)
    loss_v = nn.functional.cross_entropy(logits_v, y_v)
    (g_alpha_val,) = torch.autograd.grad(loss_v, [model.alpha])
    if method == "milenas":
        g_weights, g_alpha = grads[:-1], grads[-1] + lam * g_alpha_val
    else:
        g_weights, g_alpha = grads, g_alpha_val
    return StepGradients(
        weights=g_weights,
        alpha=g_alpha,
        train_loss=float(loss_t.detach()),
        val_loss=float(loss_v.detach()),
        logits_train=logits_t.detach(),
        logits_val=logits_v.detach(),
    )


@dataclass
class SearchOptimisers:
    """The two optimisers of a search (mutable training state, not a config)."""

    weights: torch.optim.SGD
    alpha: torch.optim.Adam
    schedule: torch.optim.lr_scheduler.CosineAnnealingLR


def make_optimisers(model: Supernet, config: MilenasConfig) -> SearchOptimisers:
    """SGD for ``w`` (cosine per epoch from ``w_lr`` to ``w_lr_min``), Adam for ``alpha``, as ``config`` says."""
    w_opt = torch.optim.SGD(
        model.weight_parameters(), lr=config.w_lr, momentum=config.w_momentum, weight_decay=config.w_weight_decay
    )
    a_opt = torch.optim.Adam(
        model.arch_parameters(), lr=config.alpha_lr, betas=config.alpha_betas, weight_decay=config.alpha_weight_decay
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(w_opt, T_max=config.epochs, eta_min=config.w_lr_min)
    return SearchOptimisers(weights=w_opt, alpha=a_opt, schedule=schedule)


def search_step(
    model: Supernet,
    optimisers: SearchOptimisers,
    train_batch: tuple[torch.Tensor, torch.Tensor],
    val_batch: tuple[torch.Tensor, torch.Tensor],
    config: MilenasConfig,
) -> StepGradients:
    """One step: ``step_gradients``, weight gradients clipped (``config.grad_clip``), then both optimisers step."""
    grads = step_gradients(model, train_batch, val_batch, config.method, config.lam)
    weights = model.weight_parameters()
    for p, g in zip(weights, grads.weights):
        p.grad = g
    model.alpha.grad = grads.alpha
    if config.grad_clip is not None:
        nn.utils.clip_grad_norm_(weights, config.grad_clip)
    optimisers.weights.step()
    optimisers.alpha.step()
    return grads


# ----- a whole search -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EpochStats:
    """One search epoch: running mean loss / accuracy (percent) of the supernet on the weight half (``train``)
    and the architecture half (``val``), the weight learning rate used, and the epoch's seconds."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    w_lr: float
    seconds: float


@dataclass(frozen=True)
class MilenasResult:
    """One search run.

    ``alpha_history[e]`` is ``alpha`` ``[6][5]`` (logits) after epoch ``e`` with entry 0 the initial value, so it
    has ``epochs + 1`` entries, as has ``cell_history`` (the argmax cell at each); ``epoch_stats`` has one
    entry per epoch. ``evaluation`` is the oracle's
    answer for ``cell`` (None when no oracle was given). ``search_seconds`` excludes the oracle.
    """

    config: MilenasConfig
    cell: Cell
    evaluation: Evaluation | None
    signal_name: str | None
    report_name: str | None
    alpha_history: tuple[tuple[tuple[float, ...], ...], ...]
    cell_history: tuple[Cell, ...]
    epoch_stats: tuple[EpochStats, ...]
    search_seconds: float
    oracle_seconds: float
    device: str
    torch_version: str = torch.__version__

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def wall_seconds(self) -> float:
        """Search plus oracle seconds."""
        return self.search_seconds + self.oracle_seconds

    @property
    def parameter_free_edges(self) -> int:
        """Number of the derived cell's 6 edges carrying a parameter-free op."""
        return parameter_free_edges(self.cell)

    @property
    def collapsed(self) -> bool:
        """True when every edge of the derived cell is parameter-free (the DARTS failure on NB201)."""
        return is_collapsed(self.cell)

    def to_dict(self) -> dict[str, Any]:
        ev = self.evaluation
        return {
            "method": self.config.method,
            "seed": self.seed,
            "arch": self.cell.to_string(),
            "signal_name": self.signal_name,
            "report_name": self.report_name,
            "signal": None if ev is None else ev.signal,
            "report": None if ev is None else ev.report,
            "parameter_free_edges": self.parameter_free_edges,
            "collapsed": self.collapsed,
            "search_seconds": self.search_seconds,
            "oracle_seconds": self.oracle_seconds,
            "wall_seconds": self.wall_seconds,
            "device": self.device,
            "torch_version": self.torch_version,
            "config": self.config.to_dict(),
            "alpha_history": [[list(row) for row in alpha] for alpha in self.alpha_history],
            "cell_history": [c.to_string() for c in self.cell_history],
            "epoch_stats": [asdict(e) for e in self.epoch_stats],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MilenasResult":
        try:
            cell = Cell.from_string(data["arch"])
            evaluation = None if data["signal"] is None else Evaluation(cell, float(data["signal"]), float(data["report"]))
            return cls(
                config=MilenasConfig.from_dict(data["config"]),
                cell=cell,
                evaluation=evaluation,
                signal_name=data["signal_name"],
                report_name=data["report_name"],
                alpha_history=tuple(tuple(tuple(float(v) for v in row) for row in a) for a in data["alpha_history"]),
                cell_history=tuple(Cell.from_string(s) for s in data["cell_history"]),
                epoch_stats=tuple(EpochStats(**e) for e in data["epoch_stats"]),
                search_seconds=float(data["search_seconds"]),
                oracle_seconds=float(data["oracle_seconds"]),
                device=str(data["device"]),
                torch_version=str(data.get("torch_version", "")),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise MilenasError(f"not a MiLeNAS result: {err!r}") from err

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``to_dict()`` as JSON atomically."""
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "MilenasResult":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise MilenasError(f"cannot read MiLeNAS result {path}: {err}") from err
        return cls.from_dict(data)


def parameter_free_edges(cell: Cell) -> int:
    """How many of ``cell``'s 6 edges carry ``none``, ``skip_connect`` or ``avg_pool_3x3``."""
    return sum(op in PARAMETER_FREE_OPS for op in cell.ops)


def is_collapsed(cell: Cell) -> bool:
    """True when the cell has no parametric op at all."""
    return parameter_free_edges(cell) == len(cell.ops)


def search_halves(data: ImageDataset, train_samples: int | None = None) -> tuple[Split, Split]:
    """The train split (its first ``train_samples`` examples when set) cut in two halves: (weights, architecture)."""
    train = data.train if train_samples is None else data.train.head(train_samples)
    half = len(train) // 2
    return Split(train.x[:half], train.y[:half]), Split(train.x[half : 2 * half], train.y[half : 2 * half])


def _alpha_rows(alpha: torch.Tensor) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in alpha.detach().cpu().tolist())


def run_milenas(
    config: MilenasConfig,
    oracle: Oracle | None = None,
    *,
    data: ImageDataset | None = None,
    data_root: str | os.PathLike[str] | None = None,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> MilenasResult:
    """Search with ``config`` on the supernet, derive the cell, score it with ``oracle`` (skipped when None).

    The seed draws the supernet's weights and ``alpha`` (inside ``torch.random.fork_rng``, leaving the caller's
    global RNG as it was) and the batch orders (a private ``torch.Generator``): on CPU with a fixed thread count
    the run is a pure function of ``(config, data)``. The weight learning rate anneals once per epoch.

    Raises:
        MilenasError: for data of another dataset or too few examples for one batch per half.
        DeviceError: for a device that is not here.
    """
    dev = resolve_device(device)
    if data is None:
        data = load_dataset(config.dataset, config.split_seed, data_root)
    if data.name != config.dataset:
        raise MilenasError(f"config is for dataset {config.dataset!r}, got data {data.name!r}")
    w_half, a_half = search_halves(data, config.train_samples)
    if len(w_half) < 2:
        raise MilenasError(f"the train split is too small to halve for search ({len(w_half)} examples per half)")
    w_half, a_half = w_half.to(dev), a_half.to(dev)

    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = Supernet(data.macro(config.channels, config.cells_per_stage)).to(dev)
    generator = torch.Generator().manual_seed(config.seed)
    optimisers = make_optimisers(model, config)
    alphas = [_alpha_rows(model.alpha)]
    cells = [model.derive()]
    history: list[EpochStats] = []
    bar = tqdm(range(config.epochs), desc=f"{config.method} seed {config.seed}", unit="epoch", disable=not progress)
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        w_lr = optimisers.weights.param_groups[0]["lr"]
        sums = {"tl": 0.0, "tc": 0, "tn": 0, "vl": 0.0, "vc": 0, "vn": 0}
        w_batches = shuffled_batches(len(w_half), config.batch_size, generator)
        a_batches = shuffled_batches(len(a_half), config.batch_size, generator)
        for wi, ai in zip(w_batches, a_batches):
            wi, ai = wi.to(dev), ai.to(dev)
            yt, yv = w_half.y[wi], a_half.y[ai]
            g = search_step(model, optimisers, (w_half.x[wi], yt), (a_half.x[ai], yv), config)
            sums["tl"] += g.train_loss * len(yt)
            sums["tc"] += int((g.logits_train.argmax(1) == yt).sum())
            sums["tn"] += len(yt)
            sums["vl"] += g.val_loss * len(yv)
            sums["vc"] += int((g.logits_val.argmax(1) == yv).sum())
            sums["vn"] += len(yv)
        optimisers.schedule.step()
        alphas.append(_alpha_rows(model.alpha))
        cells.append(model.derive())
        stats = EpochStats(
            epoch=epoch + 1,
            train_loss=sums["tl"] / max(sums["tn"], 1),
            train_acc=100.0 * sums["tc"] / max(sums["tn"], 1),
            val_loss=sums["vl"] / max(sums["vn"], 1),
            val_acc=100.0 * sums["vc"] / max(sums["vn"], 1),
            w_lr=float(w_lr),
            seconds=time.perf_counter() - t0,
        )
        history.append(stats)
        bar.set_postfix(train_acc=f"{stats.train_acc:.1f}", val_acc=f"{stats.val_acc:.1f}", refresh=False)
    bar.close()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    search_seconds = time.perf_counter() - start

    cell = cells[-1]
    t0 = time.perf_counter()
    evaluation = oracle.evaluate(cell) if oracle is not None else None
    oracle_seconds = time.perf_counter() - t0
    return MilenasResult(
        config=config,
        cell=cell,
        evaluation=evaluation,
        signal_name=None if oracle is None else oracle.signal_name,
        report_name=None if oracle is None else oracle.report_name,
        alpha_history=tuple(alphas),
        cell_history=tuple(cells),
        epoch_stats=tuple(history),
        search_seconds=search_seconds,
        oracle_seconds=oracle_seconds,
        device=describe_device(dev),
    )


def build_oracle(
    dataset: str,
    *,
    bench: str | os.PathLike[str] | None = None,
    signal: str | None = None,
    report: str | None = None,
    protocol: str | None = None,
    device: str | torch.device = "cpu",
    data: ImageDataset | None = None,
    data_root: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> Oracle:
    """The oracle scoring a derived cell: a ``TableOracle`` over ``bench`` (metrics ``signal`` / ``report``,
    default ``<dataset>_valid`` / ``<dataset>_test``), otherwise a ``TrainingOracle`` with ``protocol`` (default:
    the dataset's first registered protocol), sharing ``data`` when it is the protocol's dataset and split.

    Raises:
        MilenasError: when ``--signal/--report`` are given without a table, or the protocol is for another dataset.
        BenchmarkFileError, MetricError, ProtocolError: for a bad table, metric or protocol.
    """
    if bench is not None:
        if protocol is not None:
            raise MilenasError("give either a benchmark table (--bench) or a training protocol (--protocol), not both")
        from lso.bench import BenchmarkTable
        from lso.search.oracle import TableOracle

        return TableOracle(BenchmarkTable.load(bench), signal or f"{dataset}_valid", report or f"{dataset}_test")
    if signal is not None or report is not None:
        raise MilenasError("--signal/--report choose table columns: they need --bench TABLE")
    from lso.nets.protocol import default_protocol, get_protocol
    from lso.nets.training_oracle import TrainingOracle

    chosen = get_protocol(protocol) if protocol else default_protocol(dataset)
    if chosen.dataset != dataset:
        raise MilenasError(f"protocol {chosen.name!r} is for dataset {chosen.dataset!r}, not {dataset!r}")
    shared = data if data is not None and data.name == chosen.dataset and data.split_seed == chosen.split_seed else None
    return TrainingOracle(chosen, cache=cache, device=device, data=shared, data_root=data_root)


@dataclass(frozen=True)
class MethodSummary:
    """Figures of several runs of one method: means of the oracle report / signal (percent) and of the search
    seconds, and the fraction of runs whose derived cell collapsed to parameter-free ops."""

    method: str
    runs: int
    report_mean: float
    signal_mean: float
    search_seconds_mean: float
    collapse_rate: float
    parameter_free_edges_mean: float


def summarise(results: Sequence[MilenasResult]) -> MethodSummary:
    """The ``MethodSummary`` of ``results`` (all of one method; NaN means for runs without an oracle score).

    Raises:
        MilenasError: for no results or results of several methods.
    """
    methods = {r.config.method for r in results}
    if len(methods) != 1:
        raise MilenasError(f"summarise needs runs of exactly one method, got {sorted(methods) or 'none'}")
    scored = [r.evaluation for r in results if r.evaluation is not None]
    n = len(results)
    return MethodSummary(
        method=methods.pop(),
        runs=n,
        report_mean=sum(e.report for e in scored) / len(scored) if scored else float("nan"),
        signal_mean=sum(e.signal for e in scored) / len(scored) if scored else float("nan"),
        search_seconds_mean=sum(r.search_seconds for r in results) / n,
        collapse_rate=sum(r.collapsed for r in results) / n,
        parameter_free_edges_mean=sum(r.parameter_free_edges for r in results) / n,
    )
