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

from lso.atomic import OutputError, check_writable_file
from lso.bench import (
    BenchmarkTable,
    ImportOptions,
    MetricInfo,
    SpaceTable,
    import_to_file,
    is_space_table_file,
    parse_overrides,
)
from lso.jobs import progress_bar

bench_app = typer.Typer(help="Benchmark tables: inspect them, query the best cells, import official files.", no_args_is_help=True)


class ImportKind(str, Enum):
    """What ``lso bench import`` reads."""

    nb201_pth = "nb201-pth"
    nats_tss = "nats-tss"
    csv = "csv"
    nb101_tfrecord = "nb101-tfrecord"
    darts_csv = "darts-csv"


class Duplicates(str, Enum):
    """What ``lso bench import darts-csv`` does with two rows of one cell."""

    error = "error"
    mean = "mean"


_PROGRESS_UNITS = {"nb101-tfrecord": "MB", "darts-csv": "row"}


def _fmt(info: MetricInfo, value: float | None) -> str:
    return "-" if value is None else info.format(value)


@bench_app.command("info")
def info(
    table: Path = typer.Argument(..., help="A table: .parquet (written by lso; NB201 or another space) or .csv "
                                           "(index, arch, metrics)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Number of cells, unique cells, and per metric its direction, scale, best value (highest for "max" metrics,
    lowest for "min" ones) and its architecture. A table of another search space (NAS-Bench-101, DARTS) shows its
    space too."""
    if is_space_table_file(table):
        _space_info(SpaceTable.load(table), table, as_json)
        return
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


def _space_info(bench: SpaceTable, path: Path, as_json: bool) -> None:
    summary = bench.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console = make_console()
    meta = summary["meta"]
    console.print(
        f"[bold]{path}[/]: {summary['cells']:,} cells of the {summary['space']} space (one row per canonical form); "
        f"source {meta['source'] or '-'}, dataset {meta['dataset'] or '-'}, fidelity {meta['fidelity'] or '-'}",
        highlight=False,
    )
    for key, value in meta["extra"].items():
        console.print(f"{key}: {value}", highlight=False)
    grid = Table(title="best per metric (by direction)")
    for column in ("metric", "dir", "scale", "best", "median"):
        grid.add_column(column, no_wrap=True)
    grid.add_column("arch", overflow="fold", min_width=12)
    for name, m in summary["metrics"].items():
        info = bench.metric_info(name)
        grid.add_row(name, m["direction"], m["scale"], _fmt(info, m["best"]), _fmt(info, m["median"]), m["arch"])
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
    if is_space_table_file(table):
        _space_top(SpaceTable.load(table), metric, k, as_json)
        return
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


def _space_top(bench: SpaceTable, metric: str, k: int, as_json: bool) -> None:
    rows = bench.top(metric, k)
    if as_json:
        typer.echo(json.dumps(rows.to_dict(orient="records"), indent=2))
        return
    others = [m for m in bench.metrics if m != metric][:1]
    infos = {m: bench.metric_info(m) for m in (metric, *others)}
    order = "highest" if infos[metric].direction == "max" else "lowest"
    grid = Table(title=f"top {len(rows)} of the {bench.space.name} table by {metric} ({order} first)")
    for column in ("#", metric, *others):
        grid.add_column(column, no_wrap=True)
    grid.add_column("arch", overflow="fold", min_width=12)
    for rank, row in enumerate(rows.to_dict(orient="records"), start=1):
        grid.add_row(str(rank), *(_fmt(infos[m], row[m]) for m in (metric, *others)), row["arch"])
    make_console().print(grid)


def _check_out(out: Path) -> None:
    """``--out``: as ``check_table_out``, but an existing space table may be replaced too."""
    if out.exists() and is_space_table_file(out):
        check_writable_file(out, ".parquet", what="table")
        try:
            SpaceTable.load(out)
        except LsoError as err:
            raise OutputError(f"{out} exists and is not a readable lso table ({err}): not replacing it (choose "
                              "another --out, or move the file away)") from err
        return
    check_table_out(out)


@bench_app.command("import")
def import_(
    kind: ImportKind = typer.Argument(
        ..., help="nb201-pth: NAS-Bench-201 .pth; nats-tss: NATS-Bench tss folder; csv: NB201 table (index, arch, "
                  "metrics); nb101-tfrecord: NAS-Bench-101 nasbench_only108.tfrecord (no TensorFlow needed); "
                  "darts-csv: CSV or JSON of DARTS genotypes (a 'genotype' column) with metric columns."),
    path: Path = typer.Argument(..., help="The official file or folder (or CSV/JSON table)."),
    out: Path = typer.Option(..., "--out", "-o", help="Parquet table to write: a new .parquet file or an lso table "
                             "(replaced only on success)."),
    epochs: Optional[int] = typer.Option(
        None, "--epochs", help="Training budget to read from official files: NB201 200 (default) or 12; NB101 108 "
                               "(default), 36, 12 or 4."),
    fidelity: str = typer.Option("", "--fidelity", help="Fidelity to record for a csv or darts-csv import, e.g. '200 epochs'."),
    trust_pickle: bool = typer.Option(
        False, "--trust-pickle", help="Allow arbitrary pickled objects (only for files from a source you trust)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    duplicates: Duplicates = typer.Option(
        Duplicates.error, "--duplicates", help="darts-csv: two rows of one genotype (up to isomorphism) are an "
                                               "error, or averaged into one (mean)."),
    verify_crc: bool = typer.Option(
        False, "--verify-crc", help="nb101-tfrecord: also check every record's data CRC (pure Python: about a "
                                    "minute more for the 0.5 GB file); record lengths are always checked."),
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
                            scales=parse_overrides(scale or [], "scale"), duplicates=duplicates.value,
                            verify_crc=verify_crc)
    _check_out(out)
    if out.resolve() == path.resolve():
        raise LsoError(f"--out {out} is the file being imported; choose another name")
    unit = _PROGRESS_UNITS.get(kind.value, "arch")
    with os_errors("lso bench import"), progress_bar(f"reading {kind.value}", unit, enabled=progress) as reporter:
        table = import_to_file(kind.value, path, out, options, reporter=reporter)
    console = make_console()
    what = (f"{len(table):,} cells of the {table.space.name} space" if isinstance(table, SpaceTable)
            else f"{len(table):,} cells ({table.num_unique:,} unique)")
    console.print(
        f"wrote [bold]{out}[/]: {what} from {table.meta.source}, "
        f"{table.meta.fidelity or 'fidelity not stated'}; metrics: {', '.join(table.metrics)}",
        highlight=False,
    )
    info = [table.metric_info(m) for m in table.metrics]
    console.print("directions: " + ", ".join(f"{i.name} {i.direction} ({i.scale})" for i in info), highlight=False)
    if table.meta.extra.get("duplicates"):
        console.print(f"duplicates: {table.meta.extra['duplicates']}", highlight=False)
    if table.meta.extra.get("dropped"):
        console.print(f"[yellow]dropped (incomplete in the source):[/] {table.meta.extra['dropped']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``lso bench`` (info, top, import, build, merge-runs, merge-tables, proxies) to the application."""
    from lso.cli.build import add_build_command
    from lso.cli.merge_runs import add_merge_runs_command
    from lso.cli.merge_tables import add_merge_tables_command
    from lso.cli.proxies import add_proxies_command

    if not any(c.name == "build" for c in bench_app.registered_commands):
        add_build_command(bench_app)
    if not any(c.name == "merge-runs" for c in bench_app.registered_commands):
        add_merge_runs_command(bench_app)
    if not any(c.name == "merge-tables" for c in bench_app.registered_commands):
        add_merge_tables_command(bench_app)
    if not any(c.name == "proxies" for c in bench_app.registered_commands):
        add_proxies_command(bench_app)
    app.add_typer(bench_app, name="bench")
