"""CLI: `lso search` (one search run), `lso search compare` (methods x seeds -> table and plot) and `lso search pool`
(the same on a space table of NB101, DARTS...: ``lso.cli.pool``)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from lso.cli.console import make_console

from lso.cli.checks import (MAX_SEEDS, SEED_MAX, check_output_folder, check_result_file, check_run_dir, check_seed,
                            comparison_marker, finite, os_errors, split_names)
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
    from lso.cli.pool import pool

    group.command("pool")(pool)
    app.add_typer(group, name="search")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


_MINIMIZE_HELP = ("Minimise the signal (--minimize) or maximise it (--maximize); default: the metric's direction "
                  "in the table (accuracy up; latency, FLOPs, params, error down).")
_MISMATCH_HELP = ("Let a latent method use a run trained on another table or metric (or on the report metric); the "
                  "override is recorded in the result.")


def search(
    ctx: typer.Context,
    bench: Optional[Path] = typer.Option(None, "--bench", help="Benchmark table (.csv or .parquet)."),
    method: Optional[str] = typer.Option(None, "--method", help="Search method: crlso, surf, bananas, random, rea or "
                                         "ls (an unknown name lists the registered ones)."),
    budget: int = typer.Option(100, "--budget", help="Most queries, the run's own labels included (each label is one "
                               "query, so it must exceed the run's labels)."),
    seed: int = typer.Option(0, "--seed", help=f"Seed of every random choice of the search (0..{SEED_MAX})."),
    out: Optional[Path] = typer.Option(None, "--out", help="RESULT.json to write: a new .json file, or an earlier "
                                       "search result (any other file is refused)."),
    run: Optional[Path] = typer.Option(None, "--run", help="Training run directory (latent methods); every file in "
                                       "it is checked first."),
    signal: Optional[str] = typer.Option(None, "--signal", help="Metric the search sees (default: the table's <dataset>_valid)."),
    report: Optional[str] = typer.Option(None, "--report", help="Metric reported, never seen by the search (default: <dataset>_test)."),
    minimize: Optional[bool] = typer.Option(None, "--minimize/--maximize", help=_MINIMIZE_HELP),
    allow_run_mismatch: bool = typer.Option(False, "--allow-run-mismatch", help=_MISMATCH_HELP),
    device: str = typer.Option("cpu", "--device", help="Torch device of latent methods: cpu, cuda, cuda:N or auto."),
) -> None:
    """Run one search and write RESULT.json: {"queries": [...], "best": {...}, "config": {...}, "stopped": ...}."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [flag for flag, value in (("--bench", bench), ("--method", method), ("--out", out)) if value is None]
    if missing:
        raise LsoError(f"lso search needs {', '.join(missing)} (see lso search --help)")
    check_seed(seed)
    if budget < 1:
        raise LsoError(f"--budget must be at least 1 query, got {budget}")
    check_result_file(out, "search")
    if run is not None:
        check_run_dir(run)
    from lso.bench import BenchmarkTable
    from lso.device import resolve_device
    from lso.search import TableOracle, default_registry, run_search, search_metrics

    spec = default_registry()[method]  # unknown methods fail before loading the table
    table = BenchmarkTable.load(bench)
    signal, report = search_metrics(table, signal, report)
    oracle = TableOracle(table, signal, report, minimize=minimize)
    dev = str(resolve_device(device)) if spec.needs_run else device
    with os_errors("lso search"):
        result = run_search(spec, oracle, budget=budget, seed=seed, run_dir=run, device=dev,
                            allow_run_mismatch=allow_run_mismatch)
        result.save(out)
    best = result.best
    sig, rep = oracle.signal_info, oracle.report_info
    label = " (ORACLE PROTOCOL: searched on the reported metric)" if result.oracle_protocol else ""
    sources = ", ".join(f"{k} {v}" for k, v in result.source_counts().items())
    stopped = f"; STOPPED EARLY: {result.stopped}" if result.stopped else ""
    direction = "" if oracle.maximize else " (minimised)"
    make_console().print(
        f"{result.method} seed {seed}: {result.num_queries} of {budget} queries ({sources}){stopped}; best {signal}"
        f"{direction} {sig.format(best.signal)} -> {report} {rep.format(best.report)}{label}; {best.cell}; wrote {out}"
    )


_COMPARE_OUTPUTS = ("comparison.csv", "comparison.md", "curves.csv", "best_so_far.html", "comparison.json")


def _checked_seeds(text: str) -> tuple[int, ...]:
    """``--seeds`` of a comparison, each in the seed range; a count or range is sized before it is expanded."""
    from lso.search.compare import parse_seeds

    spec = str(text).strip()
    try:
        if "," not in spec and "-" in spec.lstrip("-"):
            first, last = (int(part) for part in spec.split("-", 1))
        else:
            first, last = 0, (int(spec) - 1 if "," not in spec else 0)
    except ValueError:
        first, last = 0, 0  # parse_seeds names the problem
    size = last - first + 1
    if first >= 0 and last >= first:
        check_seed(last, "--seeds")
    if size > MAX_SEEDS:
        raise LsoError(f"--seeds {spec} asks for {size:,} runs per method; at most {MAX_SEEDS:,}")
    return tuple(check_seed(s, "--seeds") for s in parse_seeds(spec))


def compare(
    bench: Path = typer.Option(..., "--bench", help="Benchmark table (.csv or .parquet)."),
    methods: str = typer.Option("random,rea,ls", "--methods", help="Comma-separated method names, each once."),
    seeds: str = typer.Option("20", "--seeds", help=f"Seeds: a count (20 = 0..19), a range (200-209) or a list (1,5,9); "
                              f"each in 0..{SEED_MAX}."),
    budgets: str = typer.Option("50,100,150,300", "--budgets", help="Comma-separated query budgets."),
    out: Path = typer.Option(..., "--out", help="Output folder: new, or one an earlier comparison wrote."),
    signal: Optional[str] = typer.Option(None, "--signal", help="Metric the searches see (default: the table's <dataset>_valid)."),
    report: Optional[str] = typer.Option(None, "--report", help="Metric reported (default: <dataset>_test)."),
    target: Optional[float] = typer.Option(None, "--target", help="Count the queries needed for the report to reach the target, a finite number (>= for accuracy, <= for a cost; default: the report's top-1% value over unique cells, unrounded)."),
    horizon: int = typer.Option(0, "--horizon", help="Queries per run (default: the largest budget)."),
    run: Optional[List[Path]] = typer.Option(
        None, "--run", help="Training run directory (latent methods). Repeat it to run latent methods on several "
                            "models (e.g. G-VAE seeds): one row per model, METHOD@RUN, and the spread between them."),
    minimize: Optional[bool] = typer.Option(None, "--minimize/--maximize", help=_MINIMIZE_HELP),
    allow_run_mismatch: bool = typer.Option(False, "--allow-run-mismatch", help=_MISMATCH_HELP),
    device: str = typer.Option("cpu", "--device", help="Torch device of latent methods: cpu, cuda, cuda:N or auto."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar over the runs."),
) -> None:
    """Run methods x seeds (x models); write comparison.csv/.md, curves.csv, best_so_far.html; print the table."""
    from lso.bench import BenchmarkTable
    from lso.device import resolve_device
    from lso.search import search_metrics
    from lso.jobs import progress_bar
    from lso.report.search import write_comparison
    from lso.search.compare import CompareConfig, compare_methods, default_target

    try:
        budget_list = tuple(int(b) for b in _split(budgets))
    except ValueError as err:
        raise LsoError(f"--budgets must be comma-separated integers, got {budgets!r}") from err
    method_list = tuple(split_names(methods, "--methods"))
    seed_list = _checked_seeds(seeds)
    if target is not None:
        finite(target, "--target")
    check_output_folder(out, _COMPARE_OUTPUTS, marker="comparison.json", recognise=comparison_marker,
                        what="comparison")
    for path in run or ():
        check_run_dir(path)
    dev = str(resolve_device(device))
    table = BenchmarkTable.load(bench)
    signal, report = search_metrics(table, signal, report)
    if target is None:
        target = default_target(table, report)
    config = CompareConfig(methods=method_list, seeds=seed_list, budgets=budget_list,
                           signal=signal, report=report, target=target, horizon=horizon, minimize=minimize,
                           allow_run_mismatch=allow_run_mismatch)
    with os_errors("lso search compare"):
        with progress_bar("search runs", "run", enabled=progress) as reporter:
            comparison = compare_methods(table, config, run_dir=list(run or ()), device=dev, reporter=reporter)
        files = write_comparison(comparison, out)
    make_console().print(comparison.to_markdown(), highlight=False, soft_wrap=True)
    make_console().print(f"wrote {files.table_csv}, {files.table_md}, {files.curves_csv}, {files.plot}", highlight=False)
