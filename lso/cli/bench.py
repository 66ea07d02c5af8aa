"""CLI: ``lso bench`` -- look at benchmark tables and convert official benchmark files into them."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from lso.cli.checks import check_table_out, os_errors
from lso.cli.console import make_console
from lso.errors import LsoError
from rich.table import Table

from lso.bench import BenchmarkTable, ImportOptions, MetricInfo, import_to_file, parse_overrides
from lso.jobs import progress_bar

bench_app = typer.Typer(help="Benchmark tables: inspect them, query the best cells, import official files.", no_args_is_help=True)


class ImportKind(str, Enum):
    """What ``lso bench import`` reads."""

    nb201_pth = "nb201-pth"
    nats_tss = "nats-tss"
    csv = "csv"


def _fmt(info: MetricInfo, value: float | None) -> str:
    return "-" if value is None else info.format(value)


@bench_app.command("info")
def info(
    table: Path = typer.Argument(..., help="A table: .parquet (written by lso) or .csv (index, arch, metrics)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Number of cells, unique cells, and per metric its direction, scale, best value (highest for "max" metrics,
    lowest for "min" ones) and its architecture."""
    bench = BenchmarkTable.load(table)
    summary = bench.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console = make_console()
    meta = summary["meta"]
    console.print(
        f"[bold]{table}[/]: {summary['cells']:,} cells ({summary['unique']:,} unique)"
        f"{'' if summary['complete'] else ', partial'}; source {meta['source'] or '-'}, "
        f"dataset {meta['dataset'] or '-'}, fidelity {meta['fidelity'] or '-'}",
        highlight=False,
    )
    if meta.get("extra", {}).get("dropped"):
        console.print(f"dropped at import (incomplete in the source): {meta['extra']['dropped']}", highlight=False)
    if bench.keyed_by_class:
        console.print("one row per isomorphism class: a cell without its own row takes its class's value",
                      highlight=False)
    grid = Table(title="best per metric (by direction)")
    for column in ("metric", "dir", "scale", "best", "index", "median"):
        grid.add_column(column, no_wrap=True)
    grid.add_column("arch", overflow="fold", min_width=12)
    for name, m in summary["metrics"].items():
        info = bench.metric_info(name)
        index = "-" if m["index"] is None else str(m["index"])
        grid.add_row(name, m["direction"], m["scale"], _fmt(info, m["best"]), index, _fmt(info, m.get("median")),
                     m["arch"] or "-")
    console.print(grid)


@bench_app.command("top")
def top(
    table: Path = typer.Argument(..., help="A table: .parquet or .csv."),
    metric: str = typer.Option(..., "--metric", "-m", help="Metric column to rank by, e.g. cifar10_test."),
    k: int = typer.Option(10, "-k", help="How many cells (>= 1)."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
) -> None:
    """The k best cells by a metric and its direction (lowest first for "min" metrics; ties by official index)."""
    if k < 1:
        raise LsoError(f"-k must be >= 1, got {k}")
    bench = BenchmarkTable.load(table)
    rows = bench.top(metric, k)
    if as_json:
        typer.echo(json.dumps(rows.to_dict(orient="records"), indent=2))
        return
    others = [m for m in bench.metrics if m != metric][:1]
    infos = {m: bench.metric_info(m) for m in (metric, *others)}
    order = "highest" if infos[metric].direction == "max" else "lowest"
    grid = Table(title=f"top {len(rows)} by {metric} ({order} first)")
    for column in ("#", "index", "unique", metric, *others):
        grid.add_column(column, no_wrap=True)
    grid.add_column("arch", overflow="fold", min_width=12)
    for rank, row in enumerate(rows.to_dict(orient="records"), start=1):
        grid.add_row(
            str(rank), str(row["index"]), str(row["unique_id"]), *(_fmt(infos[m], row[m]) for m in (metric, *others)),
            row["arch"],
        )
    make_console().print(grid)


@bench_app.command("import")
def import_(
    kind: ImportKind = typer.Argument(..., help="nb201-pth: NAS-Bench-201 .pth; nats-tss: NATS-Bench tss folder; csv."),
    path: Path = typer.Argument(..., help="The official file or folder (or CSV table)."),
    out: Path = typer.Option(..., "--out", "-o", help="Parquet table to write: a new .parquet file or an lso table "
                             "(replaced only on success)."),
    epochs: int = typer.Option(200, "--epochs", help="Training budget to read from official files: 200 or 12."),
    fidelity: str = typer.Option("", "--fidelity", help="Fidelity to record for a csv import, e.g. '200 epochs'."),
    trust_pickle: bool = typer.Option(
        False, "--trust-pickle", help="Allow arbitrary pickled objects (only for files from a source you trust)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    direction: Optional[List[str]] = typer.Option(
        None, "--direction", metavar="METRIC=min|max",
        help="Whether higher (max) or lower (min) is better for a metric, stored in the table; repeatable. "
             "Default: inferred from the name (latency, params, flops, loss, time... are min).",
    ),
    scale: Optional[List[str]] = typer.Option(
        None, "--scale", metavar="METRIC=percent|fraction|raw",
        help="What a metric's numbers are, stored in the table; repeatable. Default: inferred from the values "
             "(accuracies in 0..1 fraction, else percent; costs raw).",
    ),
) -> None:
    """Convert a benchmark file into an lso Parquet table, once; later work reads only the table."""
    options = ImportOptions(epochs=epochs, trust_pickle=trust_pickle, fidelity=fidelity,
                            directions=parse_overrides(direction or [], "direction"),
                            scales=parse_overrides(scale or [], "scale"))
    check_table_out(out)
    if out.resolve() == path.resolve():
        raise LsoError(f"--out {out} is the file being imported; choose another name")
    with os_errors("lso bench import"), progress_bar(f"reading {kind.value}", "arch", enabled=progress) as reporter:
        table = import_to_file(kind.value, path, out, options, reporter=reporter)
    console = make_console()
    console.print(
        f"wrote [bold]{out}[/]: {len(table):,} cells ({table.num_unique:,} unique) from {table.meta.source}, "
        f"{table.meta.fidelity or 'fidelity not stated'}; metrics: {', '.join(table.metrics)}",
        highlight=False,
    )
    info = [table.metric_info(m) for m in table.metrics]
    console.print("directions: " + ", ".join(f"{i.name} {i.direction} ({i.scale})" for i in info), highlight=False)
    if table.meta.extra.get("dropped"):
        console.print(f"[yellow]dropped (incomplete in the source):[/] {table.meta.extra['dropped']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``lso bench`` (info, top, import, build, proxies) to the application."""
    from lso.cli.build import add_build_command
    from lso.cli.proxies import add_proxies_command

    if not any(c.name == "build" for c in bench_app.registered_commands):
        add_build_command(bench_app)
    if not any(c.name == "proxies" for c in bench_app.registered_commands):
        add_proxies_command(bench_app)
    app.add_typer(bench_app, name="bench")
