"""The headless pipeline on the default benchmark: table -> G-VAE + ICNN run -> latent search vs. a baseline.

``lso demo`` runs it without the app (``make run`` opens the app); every step is the library's own
entry point, so it is also a short tour of the API.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from lso.bench import BenchmarkTable
from lso.jobs import Reporter
from lso.search import SearchResult, TableOracle, run_search, search_metrics
from lso.runs.config import TrainConfig
from lso.runs.format import RunLayout, RunMetrics, read_metrics
from lso.train.run import train_run


@dataclass(frozen=True)
class DemoConfig:
    """One demo: which table and metrics, how long to train, how many queries, seed and device."""

    table: Path
    out: Path
    signal: str | None = None  # None: the table's own (``BenchmarkTable.default_metric``)
    report: str | None = None
    labels: int = 0
    epochs: int = 10
    budget: int = 100
    baseline: str = "rea"
    seed: int = 0
    device: str = "cpu"


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced: the table summary, the run's metrics and one search result per method."""

    summary: dict
    run_dir: Path
    metrics: RunMetrics
    searches: tuple[SearchResult, ...]


def run_demo(config: DemoConfig, *, reporter: Reporter | None = None) -> DemoResult:
    """Train (or reuse a finished) latent model on ``config.table`` and compare CR-LSO with the baseline.

    ``reporter`` hears the training's epochs, then each search's queries (``train_run``, ``run_search``); a stop
    request ends the demo with ``lso.jobs.Cancelled`` (a stopped training resumes on the next demo, a stopped
    search is not saved)."""
    table = BenchmarkTable.load(config.table)
    signal, report = search_metrics(table, config.signal, config.report)
    config = replace(config, signal=signal, report=report)
    run_dir = config.out / f"run_s{config.seed}"
    layout = RunLayout.at(run_dir)
    if layout.is_finished():
        metrics = read_metrics(layout)
    else:
        train_config = TrainConfig(epochs=config.epochs, labels=config.labels,
                                   seed=config.seed)
        metrics = train_run(config.table, config.signal, train_config, run_dir, device=config.device,
                            resume=layout.checkpoint.exists(), reporter=reporter).metrics
    oracle = TableOracle(table, config.signal, config.report)
    searches = []
    for method in ("crlso", config.baseline):
        result = run_search(method, oracle, budget=config.budget, seed=config.seed,
                            run_dir=run_dir if method == "crlso" else None, device=config.device, reporter=reporter)
        if reporter is not None:
            reporter.check()  # run_search ends a stopped search with its partial trace; the demo ends here
        result.save(config.out / f"{method}_s{config.seed}.json")
        searches.append(result)
    return DemoResult(table.summary(), run_dir, metrics, tuple(searches))
