"""A whole search: train the supernet on the halved train split, derive the cell, score it with an oracle."""

from __future__ import annotations

import os
import time

import torch

from lso.data.datasets import ImageDataset, Split, load_dataset
from lso.device import describe_device, resolve_device
from lso.jobs import Reporter
from lso.nets.loop import shuffled_batches
from lso.nets.darts_supernet import DartsSupernet
from lso.nets.space_trainer import darts_layers
from lso.nets.supernet import Supernet
from lso.oracle import Oracle
from lso.search.milenas.config import MilenasConfig, MilenasError
from lso.search.milenas.result import MilenasResult, SearchEpoch
from lso.search.milenas.step import SearchModel, SearchOptimisers, make_optimisers, search_step


def search_halves(data: ImageDataset, train_samples: int | None = None) -> tuple[Split, Split]:
    """The train split (its first ``train_samples`` examples when set) cut in two halves: (weights, architecture)."""
    train = data.train if train_samples is None else data.train.head(train_samples)
    half = len(train) // 2
    return Split(train.x[:half], train.y[:half]), Split(train.x[half : 2 * half], train.y[half : 2 * half])


def build_supernet(config: MilenasConfig, data: ImageDataset) -> SearchModel:
    """The supernet of ``config.space`` sized by ``config`` for ``data`` (weights and ``alpha`` from torch's global
    RNG: seed around it): NB201's ``Supernet`` or ``DartsSupernet`` with ``3N + 2`` cells, 1-D layers on 1-D data."""
    if config.space == "darts":
        return DartsSupernet(config.channels, darts_layers(config.cells_per_stage), data.num_classes,
                             data.in_channels, dims=data.spatial_dims)
    return Supernet(data.macro(config.channels, config.cells_per_stage))


def _alpha_rows(alpha: torch.Tensor) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in alpha.detach().cpu().tolist())


def _search_epoch(model: SearchModel, optimisers: SearchOptimisers, w_half: Split, a_half: Split, config: MilenasConfig,
                  generator: torch.Generator, epoch: int) -> SearchEpoch:
    """Train epoch ``epoch`` (1-based): one ``search_step`` per pair of batches (a fresh order of each half from
    ``generator``), then one step of the weight rate's schedule. Figures are running means over the epoch."""
    t0 = time.perf_counter()
    dev = w_half.x.device
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
    return SearchEpoch(
        epoch=epoch,
        train_loss=sums["tl"] / max(sums["tn"], 1),
        train_acc=100.0 * sums["tc"] / max(sums["tn"], 1),
        val_loss=sums["vl"] / max(sums["vn"], 1),
        val_acc=100.0 * sums["vc"] / max(sums["vn"], 1),
        w_lr=float(w_lr),
        seconds=time.perf_counter() - t0,
    )


def run_milenas(
    config: MilenasConfig,
    oracle: Oracle | None = None,
    *,
    data: ImageDataset | None = None,
    data_root: str | os.PathLike[str] | None = None,
    device: str | torch.device = "cpu",
    reporter: Reporter | None = None,
) -> MilenasResult:
    """Search with ``config`` on the supernet of ``config.space``, derive the cell (NB201: the argmax op per edge;
    DARTS: ``lso.nets.darts_supernet.derive_genotype``), score it with ``oracle`` (skipped when None).

    The seed draws the supernet's weights and ``alpha`` (inside ``torch.random.fork_rng``, leaving the caller's
    global RNG as it was) and the batch orders (a private ``torch.Generator``): on CPU with a fixed thread count
    the run is a pure function of ``(config, data)``. The weight learning rate anneals once per epoch.

    Progress: ``reporter.check()`` (a stop request) before every epoch and ``reporter(epoch, config.epochs, message,
    train_loss=, train_acc=, val_loss=, val_acc=)`` after it.

    Raises:
        MilenasError: for data of another dataset or too few examples for one batch per half.
        DeviceError: for a device that is not here.
        Cancelled: when the reporter's stop was requested.
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
        model = build_supernet(config, data).to(dev)
    generator = torch.Generator().manual_seed(config.seed)
    optimisers = make_optimisers(model, config)
    alphas = [_alpha_rows(model.alpha)]
    cells = [model.derive()]
    history: list[SearchEpoch] = []
    for epoch in range(1, config.epochs + 1):
        if reporter is not None:
            reporter.check()
        stats = _search_epoch(model, optimisers, w_half, a_half, config, generator, epoch)
        alphas.append(_alpha_rows(model.alpha))
        cells.append(model.derive())
        history.append(stats)
        if reporter is not None:
            reporter(epoch, config.epochs, f"epoch {epoch}/{config.epochs}, train acc {stats.train_acc:.1f} %, "
                     f"val acc {stats.val_acc:.1f} %", train_loss=stats.train_loss, train_acc=stats.train_acc,
                     val_loss=stats.val_loss, val_acc=stats.val_acc)
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
