"""The comparison a researcher needs (issue 19): at several parameter budgets, every way to reach the budget from the
same cell, over seeds (``compare_budgets`` -> ``BudgetComparison``).

Methods (``BUDGET_METHODS``):

* ``"s3d"``, ``"s2d"``, ``"random"``: grow the narrow start network by splitting (``refine``);
* ``"s3d-widths"``: the widths S3D found at this budget and seed, new initialisation, trained from scratch (the
  splitting papers' baseline: does splitting find better widths, or only a good starting point?);
* ``"uniform"``: every width group grown by the same factor (``scratch_widths``), trained from scratch.

Both scratch baselines train ``config.total_epochs`` epochs, as many as a growth run whose rounds are never retried;
the epochs each run really spent are in ``BudgetRun.epochs`` (a retried round trains again). Every run's params and
FLOPs (multiply-accumulates per image or signal) are recorded, so the budgets hold in both units.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from lso.data.datasets import ImageDataset, load_dataset
from lso.device import resolve_device
from lso.growth.nb201 import nb201_params
from lso.growth.refine.config import RefineConfig, RefineError
from lso.growth.refine.result import RefineResult, settings_dict
from lso.growth.refine.run import refine
from lso.jobs import RelayReporter, Reporter

if TYPE_CHECKING:
    import pandas as pd

BUDGET_METHODS = ("s3d", "s2d", "random", "s3d-widths", "uniform")
# The budgets as fractions of NB201's own size of the cell (the start network is ~0.2 of it at the default mults).
BUDGET_FRACTIONS = (0.4, 0.7, 1.0)


@dataclass(frozen=True)
class BudgetRun:
    """One (budget, method, seed): the final network's size, accuracies (%), training epochs and seconds in all."""

    budget: int
    method: str
    seed: int
    params: int
    flops: int
    train_accuracy: float
    valid_accuracy: float
    test_accuracy: float
    epochs: int
    seconds: float
    seconds_values: float  # of ``seconds``: splitting values, selection, line search and split, all rounds
    rolled_back: int  # rounds rolled back (growth methods)
    widths: dict[str, int]
    # splitting-value seconds of a round over the seconds of one fine-tuning epoch of that same round (measured in the
    # same run, so the machine's load cancels), mean over the rounds that trained; None for the scratch methods
    values_per_epoch: float | None = None


@dataclass(frozen=True)
class BudgetComparison:
    """``compare_budgets``'s runs, and the tables drawn from them."""

    arch: str
    dataset: str
    budgets: tuple[int, ...]
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    runs: tuple[BudgetRun, ...]
    settings: dict[str, Any]  # the base RefineConfig's RESULT.json settings (rounds, epochs, lr mult, ...)

    def frame(self) -> "pd.DataFrame":
        """One row per run (``BudgetRun``'s fields; the widths as one ``group:width;...`` text column)."""
        import pandas as pd

        rows = [{**dataclasses.asdict(r), "widths": ";".join(f"{k}:{v}" for k, v in r.widths.items())}
                for r in self.runs]
        return pd.DataFrame(rows)

    def table(self) -> "pd.DataFrame":
        """Per budget and method (in ``methods`` order): mean params and FLOPs, test accuracy mean and std over seeds,
        valid mean, mean epochs, seeds."""
        frame = self.frame()
        table = frame.groupby(["budget", "method"], sort=False).agg(
            params=("params", "mean"), flops=("flops", "mean"), test_mean=("test_accuracy", "mean"),
            test_std=("test_accuracy", "std"), valid_mean=("valid_accuracy", "mean"), epochs=("epochs", "mean"),
            rolled_back=("rolled_back", "sum"), seeds=("seed", "count")).reset_index()
        order = {m: k for k, m in enumerate(self.methods)}
        return table.sort_values(["budget", "method"], key=lambda c: c.map(order) if c.name == "method" else c,
                                 ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: the identifying fields, the settings and every run."""
        return {"arch": self.arch, "dataset": self.dataset, "budgets": list(self.budgets),
                "methods": list(self.methods), "seeds": list(self.seeds), "settings": dict(self.settings),
                "runs": [dataclasses.asdict(r) for r in self.runs]}


def default_budgets(config: RefineConfig, data: ImageDataset,
                    fractions: Sequence[float] = BUDGET_FRACTIONS) -> tuple[int, ...]:
    """``fractions`` of NB201's size of ``config``'s cell on ``data`` (its protocol's macro network; the 1-D network
    for signals), rounded."""
    proto = config.train_protocol
    full = nb201_params(config.cell, data.macro(proto.channels, proto.cells_per_stage), data.spatial_dims)
    return tuple(int(round(f * full)) for f in fractions)


def _run_record(budget: int, method: str, seed: int, res: RefineResult) -> BudgetRun:
    last = res.final
    grown = res.config.method != "scratch"
    epochs = sum(r.epochs for r in res.rounds) if grown else last.epochs
    ratios = [res.seconds_values[k] / (res.seconds_train[k] / r.epochs)
              for k, r in enumerate(res.rounds) if k > 0 and r.epochs > 0 and res.seconds_train[k] > 0]
    return BudgetRun(budget=budget, method=method, seed=seed, params=last.params, flops=last.flops,
                     train_accuracy=last.train_accuracy, valid_accuracy=last.valid_accuracy,
                     test_accuracy=last.test_accuracy, epochs=int(epochs),
                     seconds=float(sum(r.seconds for r in res.rounds)), seconds_values=float(sum(res.seconds_values)),
                     rolled_back=sum(r.rolled_back for r in res.rounds),
                     widths=dict(res.widths[-1]),
                     values_per_epoch=sum(ratios) / len(ratios) if grown and ratios else None)


def compare_budgets(config: RefineConfig, budgets: Sequence[int] | None = None, *,
                    methods: Sequence[str] = BUDGET_METHODS, seeds: Sequence[int] = (0, 1, 2, 3, 4),
                    data: ImageDataset | None = None, device: str | torch.device = "auto",
                    reporter: Reporter | None = None) -> BudgetComparison:
    """Every method of ``methods`` at every budget (parameters; None: ``default_budgets``) and seed, from ``config``
    (its method, seed and budget replaced by each run's). ``"s3d-widths"`` needs ``"s3d"`` among the methods.

    ``reporter`` gets one unit per run, in the order budgets x seeds x methods; a stop request ends the comparison at
    the next report.

    Raises:
        RefineError: an unknown method, ``"s3d-widths"`` without ``"s3d"``, no budget or seed, a budget below the
            start network's size; and ``refine``'s errors.
    """
    unknown = [m for m in methods if m not in BUDGET_METHODS]
    if unknown or not methods or not seeds or len(set(methods)) != len(methods):
        raise RefineError(f"compare_budgets needs distinct methods among {', '.join(BUDGET_METHODS)} and >= 1 seed; "
                          f"got {list(methods)}, {list(seeds)}")
    if "s3d-widths" in methods and "s3d" not in methods:
        raise RefineError("'s3d-widths' trains the widths S3D found: add 's3d' to the methods")
    dev = resolve_device(device)
    data = load_dataset(config.dataset, split_seed=config.train_protocol.split_seed) if data is None else data
    # ascending: a budget below the start network's size fails on the first run, not after the others
    budgets = tuple(sorted(default_budgets(config, data) if budgets is None else (int(b) for b in budgets)))
    if not budgets:
        raise RefineError("compare_budgets needs at least one budget")
    order = [m for m in methods if m != "s3d-widths"] + (["s3d-widths"] if "s3d-widths" in methods else [])
    jobs = [(b, int(s), m) for b in budgets for s in seeds for m in order]
    runs: list[BudgetRun] = []
    found: dict[tuple[int, int], Mapping[str, int]] = {}  # (budget, seed) -> S3D's final widths
    for k, (budget, seed, method) in enumerate(jobs):
        label = f"run {k + 1}/{len(jobs)}: {method}, budget {budget:,}, seed {seed}"
        child = None if reporter is None else _relay(reporter, k, len(jobs), label)
        base = dataclasses.replace(config, seed=seed, budget_params=budget,
                                   method=method if method in ("s3d", "s2d", "random") else "scratch")
        res = refine(base, data=data, device=dev, reporter=child,
                     widths=found[(budget, seed)] if method == "s3d-widths" else None)
        if method == "s3d":
            found[(budget, seed)] = res.widths[-1]
        runs.append(_run_record(budget, method, seed, res))
    settings = {k: v for k, v in settings_dict(config).items() if k not in ("method", "seed", "budget_params")}
    return BudgetComparison(arch=config.arch, dataset=config.dataset, budgets=budgets, methods=tuple(methods),
                            seeds=tuple(int(s) for s in seeds), runs=tuple(runs), settings=settings)


def _relay(parent: Reporter, run: int, runs: int, label: str) -> RelayReporter:
    """Run ``run`` of ``runs`` (one unit each) reporting into the comparison's reporter."""
    return RelayReporter(parent, lambda e: (run + (1 if e.done and e.done == e.total else 0), runs,
                                            f"{label}: {e.message}", {"run": float(run), **e.figures}))
