"""CLI: `lso demo`, the headless pipeline on the default benchmark (train, then CR-LSO vs. a baseline; no UI)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from lso.cli.checks import SEED_MAX, at_least, check_result_file, check_run_dir, check_seed, is_run_dir, os_errors
from lso.cli.console import make_console
from lso.errors import LsoError
from rich.table import Table


def demo(
    bench: Optional[Path] = typer.Option(None, "--bench", help="Benchmark table (default: the embedded one)."),
    out: Path = typer.Option(Path("runs/demo"), "--out", help="Folder for the run and the search results (checked "
                             "before training)."),
    budget: int = typer.Option(100, "--budget", help="Queries per search (the run's labels included; >= 1)."),
    epochs: int = typer.Option(10, "--epochs", help="G-VAE training epochs (>= 1)."),
    seed: int = typer.Option(0, "--seed", help=f"Seed of the training and both searches (0..{SEED_MAX})."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or auto."),
) -> None:
    """Train a latent model on the default table (reused when already trained), then CR-LSO vs. evolution."""
    from lso.bench.default import default_table_path
    from lso.demo import DemoConfig, run_demo
    from lso.jobs import progress_bar

    check_seed(seed)
    at_least(budget, "--budget", 1)
    at_least(epochs, "--epochs", 1)
    _check_out(out, seed)
    console = make_console()
    table = bench or default_table_path()
    console.print(f"[bold]lso demo[/] on {table} (seed {seed}, device {device}); outputs in {out}", highlight=False)
    with os_errors("lso demo"), progress_bar("demo") as reporter:
        result = run_demo(DemoConfig(table=table, out=out, budget=budget, epochs=epochs, seed=seed, device=device),
                          reporter=reporter)
    m = result.metrics
    console.print(f"{result.summary['cells']} cells, {result.summary['unique']} unique. Run {result.run_dir}: "
                  f"reconstruction {m.reconstruction_accuracy:.4f}, validity {m.validity:.3f}, "
                  f"uniqueness {m.uniqueness:.3f}, trained in {m.train_seconds:.0f} s", highlight=False)
    view = Table(title=f"best cell found within {budget} queries")
    for column in ("method", "queries", "signal", "report"):
        view.add_column(column)
    view.add_column("arch", overflow="fold")
    for search in result.searches:
        best = search.best
        view.add_row(search.method, str(len(search.evaluations)), f"{best.signal:.2f}", f"{best.report:.2f}",
                     best.cell.to_string())
    console.print(view)


def _check_out(out: Path, seed: int) -> None:
    """The demo's folder must be writable and hold only an earlier demo's files: its run ``run_s<seed>`` (a finished
    one is reused, an interrupted one resumed: both must be intact) and its ``<method>_s<seed>.json`` results."""
    from lso.atomic import check_writable_dir
    from lso.runs.format import RunLayout
    from lso.train.run import check_run_out

    check_writable_dir(out, what="demo folder")
    if not out.is_dir():
        return
    if is_run_dir(out):
        raise LsoError(f"{out} holds a training run; give the demo a folder of its own (it makes run_s{seed} in it)")
    for method in ("crlso", "rea"):
        check_result_file(out / f"{method}_s{seed}.json", "search")
    run = RunLayout.at(out / f"run_s{seed}")
    if run.is_finished():
        check_run_dir(run.root)
    elif run.root.exists():
        check_run_out(run.root, resume=run.checkpoint.exists())


def register(app: typer.Typer) -> None:
    """Add `lso demo`."""
    app.command("demo")(demo)
