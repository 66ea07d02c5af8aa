"""CLI: `lso search` (one search run) and `lso search compare` (methods x seeds -> table and plot)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from lso.cli.console import make_console

from lso.errors import LsoError

_HELP = (
    "Search NAS-Bench-201 with one method: lso search --bench TABLE --method rea --budget 100 --seed 0 --out R.json. "
    "`lso search compare ...` runs several methods x seeds."
)


def register(app: typer.Typer) -> None:
    """Add `lso search` (a group whose callback runs one search) and `lso search compare`."""
    group = typer.Typer(help=_HELP, invoke_without_command=True, no_args_is_help=True)
    group.callback(invoke_without_command=True)(search)
    group.command("compare")(compare)
    app.add_typer(group, name="search")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def search(
    ctx: typer.Context,
    bench: Optional[Path] = typer.Option(None, "--bench", help="Benchmark table (.csv or .parquet)."),
    method: Optional[str] = typer.Option(None, "--method", help="random, rea, ls (crlso, surf once installed)."),
    budget: int = typer.Option(100, "--budget", help="Most queries, the run's own labels included."),
    seed: int = typer.Option(0, "--seed"),
    out: Optional[Path] = typer.Option(None, "--out", help="RESULT.json to write."),
    run: Optional[Path] = typer.Option(None, "--run", help="Training run directory (latent methods)."),
    signal: Optional[str] = typer.Option(None, "--signal", help="Metric the search sees (default: the table's <dataset>_valid)."),
    report: Optional[str] = typer.Option(None, "--report", help="Metric reported, never seen by the search (default: <dataset>_test)."),
    device: str = typer.Option("cpu", "--device"),
) -> None:
    """Run one search and write RESULT.json: {"queries": [...], "best": {...}, "config": {...}}."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [flag for flag, value in (("--bench", bench), ("--method", method), ("--out", out)) if value is None]
    if missing:
        raise LsoError(f"lso search needs {', '.join(missing)} (see lso search --help)")
    from lso.bench import BenchmarkTable
    from lso.search import TableOracle, default_registry, run_search

    spec = default_registry()[method]  # unknown / not-yet-installed methods fail before loading the table
    table = BenchmarkTable.load(bench)
    signal, report = signal or table.default_metric("valid"), report or table.default_metric("test")
    oracle = TableOracle(table, signal, report)
    result = run_search(spec, oracle, budget=budget, seed=seed, run_dir=run, device=device)
    result.save(out)
    best = result.best
    label = " (ORACLE PROTOCOL: searched on the reported metric)" if result.oracle_protocol else ""
    make_console().print(
        f"{result.method} seed {seed}: {result.num_queries} queries; best {signal} {best.signal:.2f} -> "
        f"{report} {best.report:.2f}{label}; {best.cell}; wrote {out}",
        highlight=False,
        soft_wrap=True,
    )


def compare(
    bench: Path = typer.Option(..., "--bench", help="Benchmark table (.csv or .parquet)."),
    methods: str = typer.Option("random,rea,ls", "--methods", help="Comma-separated method names."),
    seeds: int = typer.Option(20, "--seeds", help="Number of seeds (0..N-1)."),
    budgets: str = typer.Option("50,100,150,300", "--budgets", help="Comma-separated query budgets."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    signal: Optional[str] = typer.Option(None, "--signal", help="Metric the searches see (default: the table's <dataset>_valid)."),
    report: Optional[str] = typer.Option(None, "--report", help="Metric reported (default: <dataset>_test)."),
    target: Optional[float] = typer.Option(None, "--target", help="Count the queries needed to reach report >= target (default: the report's top-1% value over unique cells, e.g. 94.3 on NB201 CIFAR-10)."),
    horizon: int = typer.Option(0, "--horizon", help="Queries per run (default: the largest budget)."),
    run: Optional[Path] = typer.Option(None, "--run", help="Training run directory (latent methods)."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Run methods x seeds; write comparison.csv/.md, curves.csv, best_so_far.html; print the table."""
    from lso.bench import BenchmarkTable
    from lso.search.compare import CompareConfig, compare_methods, write_comparison

    try:
        budget_list = tuple(int(b) for b in _split(budgets))
    except ValueError as err:
        raise LsoError(f"--budgets must be comma-separated integers, got {budgets!r}") from err
    table = BenchmarkTable.load(bench)
    signal, report = signal or table.default_metric("valid"), report or table.default_metric("test")
    if target is None:
        table.require_metric(report)
        target = round(float(table.frame.drop_duplicates("unique_id")[report].quantile(0.99)), 2)
    config = CompareConfig(methods=tuple(_split(methods)), seeds=tuple(range(seeds)), budgets=budget_list,
                           signal=signal, report=report, target=target, horizon=horizon)
    comparison = compare_methods(table, config, run_dir=run, progress=progress)
    files = write_comparison(comparison, out)
    make_console().print(comparison.to_markdown(), highlight=False, soft_wrap=True)
    make_console().print(f"wrote {files.table_csv}, {files.table_md}, {files.curves_csv}, {files.plot}", highlight=False)
