"""CLI: ``lso bench`` -- look at benchmark tables and convert official benchmark files into them."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer
from lso.cli.console import make_console
from rich.table import Table

from lso.bench import BenchmarkTable, ImportOptions, import_to_file

bench_app = typer.Typer(help="Benchmark tables: inspect them, query the best cells, import official files.", no_args_is_help=True)


class ImportKind(str, Enum):
    """What ``lso bench import`` reads."""

    nb201_pth = "nb201-pth"
    nats_tss = "nats-tss"
    csv = "csv"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


@bench_app.command("info")
def info(
    table: Path = typer.Argument(..., help="A table: .parquet (written by lso) or .csv (index, arch, metrics)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Number of cells, unique cells, and per metric the best value and its architecture."""
    summary = BenchmarkTable.load(table).summary()
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
    grid = Table("metric", "best", "index", "median", title="best per metric")
    grid.add_column("arch", overflow="fold")
    for name, m in summary["metrics"].items():
        grid.add_row(name, _fmt(m["best"]), "-" if m["index"] is None else str(m["index"]), _fmt(m.get("median")), m["arch"] or "-")
    console.print(grid)


@bench_app.command("top")
def top(
    table: Path = typer.Argument(..., help="A table: .parquet or .csv."),
    metric: str = typer.Option(..., "--metric", "-m", help="Metric column to rank by, e.g. cifar10_test."),
    k: int = typer.Option(10, "-k", min=1, help="How many cells."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
) -> None:
    """The k best cells by a metric (ties broken by official index)."""
    bench = BenchmarkTable.load(table)
    rows = bench.top(metric, k)
    if as_json:
        typer.echo(json.dumps(rows.to_dict(orient="records"), indent=2))
        return
    others = [m for m in bench.metrics if m != metric][:1]
    grid = Table("#", "index", "unique", metric, *others, title=f"top {len(rows)} by {metric}")
    grid.add_column("arch", overflow="fold")
    for rank, row in enumerate(rows.itertuples(index=False), start=1):
        values = row._asdict()
        grid.add_row(
            str(rank), str(values["index"]), str(values["unique_id"]), _fmt(values[metric]),
            *(_fmt(values[m]) for m in others), values["arch"],
        )
    make_console().print(grid)


@bench_app.command("import")
def import_(
    kind: ImportKind = typer.Argument(..., help="nb201-pth: NAS-Bench-201 .pth; nats-tss: NATS-Bench tss folder; csv."),
    path: Path = typer.Argument(..., help="The official file or folder (or CSV table)."),
    out: Path = typer.Option(..., "--out", "-o", help="Parquet table to write (replaced only on success)."),
    epochs: int = typer.Option(200, "--epochs", help="Training budget to read from official files: 200 or 12."),
    fidelity: str = typer.Option("", "--fidelity", help="Fidelity to record for a csv import, e.g. '200 epochs'."),
    trust_pickle: bool = typer.Option(
        False, "--trust-pickle", help="Allow arbitrary pickled objects (only for files from a source you trust)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Convert a benchmark file into an lso Parquet table, once; later work reads only the table."""
    options = ImportOptions(epochs=epochs, progress=progress, trust_pickle=trust_pickle, fidelity=fidelity)
    table = import_to_file(kind.value, path, out, options)
    console = make_console()
    console.print(
        f"wrote [bold]{out}[/]: {len(table):,} cells ({table.num_unique:,} unique) from {table.meta.source}, "
        f"{table.meta.fidelity or 'fidelity not stated'}; metrics: {', '.join(table.metrics)}",
        highlight=False,
    )
    if table.meta.extra.get("dropped"):
        console.print(f"[yellow]dropped (incomplete in the source):[/] {table.meta.extra['dropped']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``lso bench`` (info, top, import, build) to the application."""
    from lso.cli.build import add_build_command

    if not any(c.name == "build" for c in bench_app.registered_commands):
        add_build_command(bench_app)
    app.add_typer(bench_app, name="bench")
