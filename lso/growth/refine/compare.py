"""Refine methods x seeds for one architecture (``compare_refine``) and the tables of the comparison.

The files a comparison leaves behind are written by ``lso.report.refine``; its figure is
``lso.viz.refine_figures.accuracy_vs_params_figure``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from lso.data.datasets import ImageDataset, load_dataset
from lso.device import resolve_device
from lso.growth.refine.config import REFINE_METHODS, RefineConfig, RefineError
from lso.growth.refine.result import RefineResult
from lso.growth.refine.run import refine
from lso.jobs import RelayReporter, Reporter

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class RefineComparison:
    """``refine`` over methods x seeds for one arch: ``results[(method, seed)]``."""

    arch: str
    dataset: str
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    budget_params: int
    results: Mapping[tuple[str, int], RefineResult]

    def rounds_frame(self) -> "pd.DataFrame":
        """One row per (method, seed, round): params, flops, accuracies, seconds, splits (as text)."""
        import pandas as pd

        rows = []
        for (method, seed), res in sorted(self.results.items()):
            for k, r in enumerate(res.rounds):
                row = {"method": method, "seed": seed, "round": k, **dataclasses.asdict(r)}
                row["splits"] = ";".join(f"{s}:{n}" for s, n in r.splits.items())
                row["seconds_values"] = res.seconds_values[k]
                row["seconds_train"] = res.seconds_train[k]
                rows.append(row)
        return pd.DataFrame(rows)

    def widths_frame(self) -> "pd.DataFrame":
        """One row per (method, seed): the final width of every group (``lso.growth.nb201.GROUPS``), to see where
        each method put its channels."""
        import pandas as pd

        return pd.DataFrame([{"method": m, "seed": s, **res.widths[-1]}
                             for (m, s), res in sorted(self.results.items())])

    def final_frame(self) -> "pd.DataFrame":
        """Per method: mean and std over seeds of the final round's params and accuracies."""
        frame = self.rounds_frame()
        last = frame[frame["round"] == frame.groupby(["method", "seed"])["round"].transform("max")]
        table = last.groupby("method", sort=False).agg(
            params=("params", "mean"), test_mean=("test_accuracy", "mean"), test_std=("test_accuracy", "std"),
            valid_mean=("valid_accuracy", "mean"), train_mean=("train_accuracy", "mean"), seeds=("seed", "count"))
        return table.reindex([m for m in self.methods if m in table.index]).reset_index()

    def to_dict(self) -> dict[str, Any]:
        """Every run's RESULT.json content keyed ``"method/seed"`` (results.json of ``lso refine compare``)."""
        return {f"{m}/{s}": r.to_dict() for (m, s), r in sorted(self.results.items())}


def compare_refine(config: RefineConfig, *, methods: Sequence[str] = REFINE_METHODS,
                   seeds: Sequence[int] = (0, 1, 2), data: ImageDataset | None = None,
                   device: str | torch.device = "auto", reporter: Reporter | None = None) -> RefineComparison:
    """Run ``refine`` for every method and seed: ``config`` with its ``method`` and ``seed`` replaced by each run's
    (same budget; None: NB201's size of the cell), the dataset loaded once (or ``data``).

    ``reporter`` receives every run's reports, counted over all runs (``rounds + 1`` units per run, in the order
    ``[(m, s) for s in seeds for m in methods]``), the message prefixed by ``"run k/n, seed s"`` and the figure
    ``run`` = that run's position in this order; a stop request ends the comparison at the next report.

    Raises:
        RefineError: a method not in ``REFINE_METHODS``, or no method or seed; and ``refine``'s errors.
    """
    unknown = [m for m in methods if m not in REFINE_METHODS]
    if unknown or not methods or not seeds:
        raise RefineError(f"compare needs methods among {', '.join(REFINE_METHODS)} and >= 1 seed; got "
                          f"{list(methods)}, {list(seeds)}")
    dev = resolve_device(device)
    data = load_dataset(config.dataset, split_seed=config.train_protocol.split_seed) if data is None else data
    results = {}
    jobs = [(m, int(s)) for s in seeds for m in methods]
    for k, (m, s) in enumerate(jobs):
        child = (None if reporter is None
                 else _run_relay(reporter, k, len(jobs), config.rounds, f"run {k + 1}/{len(jobs)}, seed {s}"))
        results[(m, s)] = refine(dataclasses.replace(config, method=m, seed=s), data=data, device=dev,
                                 reporter=child)
    budget = next(iter(results.values())).config.budget_params
    return RefineComparison(arch=config.arch, dataset=config.dataset, methods=tuple(methods),
                            seeds=tuple(int(s) for s in seeds), budget_params=int(budget), results=results)


def _run_relay(parent: Reporter, run: int, runs: int, rounds: int, label: str) -> RelayReporter:
    """Run ``run`` of ``runs`` (each ``rounds + 1`` units) reporting into the comparison's reporter."""
    units = rounds + 1
    return RelayReporter(parent, lambda e: (run * units + e.done + (1 if e.figures else 0), runs * units,
                                            f"{label}: {e.message}", {"run": float(run), **e.figures}))
