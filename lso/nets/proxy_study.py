"""How well do zero-cost proxies rank a benchmark's cells? Score a seeded sample of unique cells and correlate.

The figures a researcher needs before trusting a proxy as a prior: Spearman's rho of each proxy with the table's
metric on the sample, and the seconds each proxy costs per cell on this machine (to set beside the queries it
might save).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lso.bench.table import BenchmarkTable
from lso.data.datasets import DATASETS, DatasetError, load_dataset
from lso.jobs import Reporter
from lso.nets.network import Network
from lso.nets.network1d import flops_1d, num_params_1d
from lso.nets.proxies import ProxyError, ProxyScores, check_proxies, score_network
from lso.space import Cell, MacroConfig, all_cells, flops, num_params, unique_ids
from lso.stats import kendall, spearman

NOISE = "noise"
"""Input name for a data-free batch: Gaussian images ``[B, 3, 32, 32]`` with random labels of 10 classes (the
NB201 CIFAR-10 network), for tables whose images are not on this machine."""


@dataclass(frozen=True)
class ProxyBatch:
    """The batch the proxies see: ``x [B, ...]``, ``y [B]``, the macro network sized for it, and what it is."""

    x: torch.Tensor
    y: torch.Tensor
    macro: MacroConfig
    spatial_dims: int
    description: str


@dataclass(frozen=True)
class ProxyStudy:
    """Proxies of ``len(rows)`` unique cells against ``metric``: ``spearman[name]``, ``kendall[name]``, and the
    median seconds per cell of each proxy."""

    metric: str
    input: str
    seed: int
    rows: tuple[ProxyScores, ...]
    targets: tuple[float, ...]
    spearman: dict[str, float]
    kendall: dict[str, float]
    seconds_per_cell: dict[str, float]


def proxy_batch(input_name: str, batch_size: int, seed: int, data_root: str | None = None) -> ProxyBatch:
    """The first ``batch_size`` examples of a seeded shuffle of ``input_name``'s train split, or a noise batch
    (:data:`NOISE`). Raises ``DatasetError`` when the dataset cannot be loaded here (its message says why)."""
    if batch_size < 2:
        raise ProxyError(f"the proxy batch needs at least 2 examples, got {batch_size}")
    gen = torch.Generator().manual_seed(int(seed))
    if input_name == NOISE:
        x = torch.randn((batch_size, 3, 32, 32), generator=gen)
        y = torch.randint(0, 10, (batch_size,), generator=gen)
        return ProxyBatch(x, y, MacroConfig(), 2, "Gaussian noise 3x32x32, random labels of 10 classes")
    if input_name not in DATASETS:
        raise DatasetError(f"unknown proxy input {input_name!r}; use {NOISE!r} or one of {', '.join(DATASETS)}")
    data = load_dataset(input_name, root=data_root)
    order = torch.randperm(len(data.train), generator=gen)[:batch_size]
    return ProxyBatch(data.train.x[order], data.train.y[order], data.macro(), data.spatial_dims,
                      f"{batch_size} {input_name} train examples")


def score_cell(cell: Cell, batch: ProxyBatch, proxies: tuple[str, ...], seed: int) -> ProxyScores:
    """The proxies of ``cell``'s network, its weights drawn with ``seed`` (the caller's RNG left as it was)."""
    macro = batch.macro
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = Network(cell, macro, dims=batch.spatial_dims)
    size = num_params(cell, macro) if batch.spatial_dims == 2 else num_params_1d(cell, macro)
    cost = flops(cell, macro) if batch.spatial_dims == 2 else flops_1d(cell, macro)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return score_network(model, batch.x, batch.y, proxies, arch=cell.to_string(), seed=seed, params=size,
                             flops=cost)


def proxy_study(table: BenchmarkTable, metric: str, batch: ProxyBatch, *, sample: int, seed: int,
                proxies: tuple[str, ...], input_name: str, reporter: Reporter | None = None) -> ProxyStudy:
    """Score ``sample`` unique cells (one per isomorphism class, drawn with ``seed``) that have ``metric`` in
    ``table``; correlate each proxy with the metric (signed so that a positive rho means the proxy ranks as the
    metric's direction says: higher accuracy, or lower cost, is better)."""
    proxies = check_proxies(proxies)
    table.require_metric(metric)
    values = table.dense_values(metric)
    classes = np.array(sorted(set(unique_ids())))
    known = classes[~np.isnan(values[classes])]
    if sample < 3 or sample > len(known):
        raise ProxyError(f"sample must be in 3..{len(known)} (unique cells with {metric}), got {sample}")
    picked = np.random.default_rng(int(seed)).choice(known, size=sample, replace=False)
    cells = all_cells()
    rows = []
    for k, idx in enumerate(picked):
        rows.append(score_cell(cells[int(idx)], batch, proxies, seed))
        if reporter is not None:
            reporter(k + 1, sample, f"{k + 1}/{sample} cells scored")
    targets = np.array([values[int(i)] for i in picked], dtype=float)
    sign = -1.0 if table.metric_info(metric).direction == "min" else 1.0
    rho, tau, secs = {}, {}, {}
    for name in proxies:
        score = np.array([r.scores[name] for r in rows], dtype=float)
        score = np.where(np.isfinite(score), score, np.nanmin(np.where(np.isfinite(score), score, np.nan)) - 1.0)
        rho[name] = sign * spearman(score, targets)
        tau[name] = sign * kendall(score, targets)
        secs[name] = float(np.median([r.seconds[name] for r in rows]))
    return ProxyStudy(metric=metric, input=batch.description, seed=int(seed), rows=tuple(rows),
                      targets=tuple(float(t) for t in targets), spearman=rho, kendall=tau, seconds_per_cell=secs)
