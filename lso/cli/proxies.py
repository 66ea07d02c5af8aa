"""CLI: ``lso bench proxies`` -- how well zero-cost proxies rank a table's cells, and what they cost."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from lso.atomic import write_json
from lso.bench import BenchmarkTable
from lso.cli.checks import check_result_file
from lso.cli.console import make_console
from lso.data.datasets import DATASETS, DatasetError
from lso.jobs import progress_bar
from lso.nets.proxies import PROXIES
from lso.nets.proxy_study import NOISE, ProxyBatch, proxy_batch, proxy_study
from lso.seeds import check_seed


def _batch(input_name: str | None, table: BenchmarkTable, size: int, seed: int) -> tuple[ProxyBatch, str, str]:
    """The batch, its input name and a note: the named input, else the table's dataset when it loads here, else
    noise (saying why)."""
    if input_name is not None:
        return proxy_batch(input_name, size, seed), input_name, ""
    dataset = table.meta.dataset
    if dataset in DATASETS:
        try:
            return proxy_batch(dataset, size, seed), dataset, ""
        except DatasetError as err:
            note = f"the table's dataset {dataset!r} is not available here ({err}); "
    else:
        note = f"the table's dataset {dataset!r} is not a registered dataset; "
    return proxy_batch(NOISE, size, seed), NOISE, note + "the proxies see Gaussian noise (--input to choose)"


def proxies(
    table: Path = typer.Argument(..., help="A table: .parquet or .csv."),
    metric: Optional[str] = typer.Option(None, "--metric", "-m", help="Metric to correlate with (default: the "
                                         "table's <dataset>_test)."),
    input_name: Optional[str] = typer.Option(None, "--input", help=f"Data the proxies see: {NOISE!r} or a dataset "
                                             f"({', '.join(DATASETS)}); default: the table's dataset when it loads "
                                             "here, else noise."),
    sample: int = typer.Option(300, "--sample", help="Unique cells scored, a seeded random sample."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sample, the batch and the weights (0..4294967295)."),
    batch: int = typer.Option(64, "--batch", help="Examples in the proxy batch (>= 2)."),
    names: str = typer.Option(",".join(PROXIES), "--proxies", help="Comma-separated proxies."),
    out: Optional[Path] = typer.Option(None, "--out", help="JSON file to write every cell's scores to (new)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar over the cells."),
) -> None:
    """Score a seeded sample of unique cells with zero-cost proxies at initialisation; print each proxy's rank
    correlation with the metric and its seconds per cell."""
    seed = check_seed(seed, "--seed")
    if out is not None:
        check_result_file(out, "proxies")
    bench = BenchmarkTable.load(table)
    metric = metric or bench.default_metric("test")
    chosen = tuple(n.strip() for n in names.split(",") if n.strip())
    data, used, note = _batch(input_name, bench, batch, seed)
    console = make_console()
    if note:
        console.print(f"[yellow]note:[/] {note}")
    with progress_bar("proxies", "cell", enabled=progress) as reporter:
        study = proxy_study(bench, metric, data, sample=sample, seed=seed, proxies=chosen, input_name=used,
                            reporter=reporter)
    grid = Table(title=f"zero-cost proxies vs {metric}: {sample} unique cells, seed {seed}; input: {study.input}")
    for column in ("proxy", "spearman", "kendall", "s/cell"):
        grid.add_column(column, no_wrap=True)
    for name in chosen:
        grid.add_row(name, f"{study.spearman[name]:+.3f}", f"{study.kendall[name]:+.3f}",
                     f"{study.seconds_per_cell[name]:.3f}")
    console.print(grid)
    console.print("positive: the proxy ranks cells the way the metric does (higher accuracy / lower cost first)")
    if out is not None:
        write_json(out, {"table": str(table), "metric": metric, "input": study.input, "seed": seed,
                         "spearman": study.spearman, "kendall": study.kendall,
                         "seconds_per_cell": study.seconds_per_cell,
                         "cells": [{"arch": r.arch, "target": t, "scores": r.scores, "seconds": r.seconds}
                                   for r, t in zip(study.rows, study.targets)]})
        console.print(f"wrote {out}")


def add_proxies_command(bench_app: typer.Typer) -> None:
    """Add ``proxies`` to the ``lso bench`` group."""
    bench_app.command("proxies")(proxies)
