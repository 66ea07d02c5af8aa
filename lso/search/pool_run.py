"""A search comparison on a space table (NB101, DARTS...): ``lso search pool`` (issue 18).

``pool_from_table`` makes the ``Pool`` of a ``SpaceTable`` (signal and report default to the table's
``<dataset>_valid`` / ``<dataset>_test``); ``run_pool_comparison`` runs random search, REA and CR-LSO on it
(``lso.search.pool``, ``lso.search.pool_crlso``), CR-LSO in the latent space of a space G-VAE that is loaded or
trained here on ``vae_train`` sampled cells of the space (no labels: the pool's scores stay unseen until queried).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lso.bench.space_table import SpaceTable
from lso.errors import LsoError, MetricError
from lso.jobs import Reporter
from lso.models.space_vae import SpaceVAE, SpaceVAEConfig, load_space_vae
from lso.models.space_vae_train import SpaceVAEResult, train_space_vae
from lso.search.pool import Pool, random_on_pool, rea_on_pool
from lso.search.pool_compare import PoolComparison, PoolRunner, compare_on_pool
from lso.search.pool_crlso import PoolCRLSOConfig, crlso_on_pool

POOL_METHODS: tuple[str, ...] = ("random", "rea", "crlso")


def table_metric(table: SpaceTable, split: str, chosen: str | None) -> str:
    """``chosen`` when it is a column; by default the table's ``<dataset>_<split>``, else its only ``*_<split>``."""
    if chosen is not None:
        table.require_metric(chosen)
        return chosen
    own = f"{table.meta.dataset}_{split}"
    if own in table.metrics:
        return own
    found = [m for m in table.metrics if m.endswith(f"_{split}")]
    if len(found) != 1:
        raise MetricError(f"name the {split} metric (--signal / --report): this table has "
                          f"{', '.join(table.metrics)}")
    return found[0]


def pool_from_table(table: SpaceTable, signal: str | None = None, report: str | None = None,
                    name: str = "") -> Pool:
    """The pool of every row of ``table`` (rows are unique by canonical form), maximising ``signal``."""
    signal, report = table_metric(table, "valid", signal), table_metric(table, "test", report)
    for metric in (signal, report):
        if table.metric_info(metric).direction != "max":
            raise MetricError(f"{metric} is a cost (lower is better): pool searches maximise an accuracy")
    return Pool(table.space, tuple(table.cells()), table.values(signal), table.values(report), name)


@dataclass(frozen=True)
class PoolSearchConfig:
    """What ``run_pool_comparison`` runs: ``methods`` (of ``POOL_METHODS``), ``seeds``, ``budgets``; the space
    G-VAE CR-LSO uses (trained on ``vae_train`` cells for ``vae_epochs`` epochs with ``vae_seed`` unless one is
    given); CR-LSO's own knobs in ``crlso``."""

    methods: tuple[str, ...] = POOL_METHODS
    seeds: tuple[int, ...] = tuple(range(20))
    budgets: tuple[int, ...] = (50, 100, 150)
    signal: str | None = None
    report: str | None = None
    vae_train: int = 20_000
    vae_epochs: int = 10
    vae_seed: int = 0
    crlso: PoolCRLSOConfig = field(default_factory=PoolCRLSOConfig)

    def __post_init__(self) -> None:
        unknown = [m for m in self.methods if m not in POOL_METHODS]
        if unknown or not self.methods:
            raise LsoError(f"unknown pool search method(s) {unknown}; known: {', '.join(POOL_METHODS)}")
        if self.vae_train < 1 or self.vae_epochs < 1:
            raise LsoError("the space G-VAE needs vae_train >= 1 cells and vae_epochs >= 1")


@dataclass(frozen=True)
class PoolRun:
    """A comparison and, when CR-LSO ran, the G-VAE's figures (None when it was loaded from a file)."""

    comparison: PoolComparison
    vae: SpaceVAEResult | None
    signal: str
    report: str


def run_pool_comparison(table: SpaceTable, config: PoolSearchConfig, *, vae: str | Path | SpaceVAE | None = None,
                        device: str | torch.device = "cpu", reporter: Reporter | None = None,
                        name: str = "") -> PoolRun:
    """Run ``config.methods`` x ``config.seeds`` on ``table``'s pool and read them at ``config.budgets``."""
    signal = table_metric(table, "valid", config.signal)
    report = table_metric(table, "test", config.report)
    pool = pool_from_table(table, signal, report, name)
    runners: dict[str, PoolRunner] = {}
    figures = None
    for method in config.methods:
        if method == "random":
            runners[method] = random_on_pool
        elif method == "rea":
            runners[method] = rea_on_pool
        else:
            model, figures = _space_vae(table, config, vae, device, reporter)
            latents = model.encode(list(pool.cells)).cpu()

            def crlso(p: Pool, b: int, s: int, model: SpaceVAE = model, latents: torch.Tensor = latents):
                return crlso_on_pool(p, b, s, latents, config.crlso, decode=lambda z: model.decode(z.to(model.device)))

            runners[method] = crlso
    comparison = compare_on_pool(pool, runners, config.budgets, config.seeds, reporter=reporter)
    return PoolRun(comparison, figures, signal, report)


def _space_vae(table: SpaceTable, config: PoolSearchConfig, vae: str | Path | SpaceVAE | None,
               device: str | torch.device, reporter: Reporter | None) -> tuple[SpaceVAE, SpaceVAEResult | None]:
    if isinstance(vae, SpaceVAE):
        model, figures = vae, None
    elif vae is not None:
        model, figures = load_space_vae(vae, device), None
    else:
        model, figures = train_space_vae(SpaceVAEConfig(space=table.space.name, epochs=config.vae_epochs),
                                         train=config.vae_train, heldout=min(1000, config.vae_train), seed=config.vae_seed,
                                         device=device, prior_samples=1000, reporter=reporter)
    if model.space.name != table.space.name:
        raise LsoError(f"the G-VAE is for the {model.space.name} space, the table holds {table.space.name} cells")
    return model.eval(), figures


def comparison_summary(run: PoolRun) -> dict:
    """JSON-ready figures of a pool comparison (``pool_comparison.json``)."""
    frame = run.comparison.frame()
    return {
        "space": run.comparison.pool.space.name, "pool": len(run.comparison.pool), "signal": run.signal,
        "report": run.report, "budgets": list(run.comparison.budgets),
        "seeds": sorted({t.seed for traces in run.comparison.traces.values() for t in traces}),
        "pool_best_report": float(np.max(run.comparison.pool.report)),
        "rows": frame.replace({np.nan: None}).to_dict(orient="records"),
        "space_vae": None if run.vae is None else {
            "train_cells": run.vae.train_cells, "epochs": run.vae.epochs, "seed": run.vae.seed,
            "reconstruction": run.vae.reconstruction, "validity": run.vae.validity, "uniqueness": run.vae.uniqueness},
    }
