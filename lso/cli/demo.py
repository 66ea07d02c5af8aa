"""CLI: `lso demo`, the headless pipeline on the default benchmark (train, then CR-LSO vs. a baseline; no UI)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from lso.cli.console import make_console
from rich.table import Table


def demo(
    bench: Optional[Path] = typer.Option(None, "--bench", help="Benchmark table (default: the embedded one)."),
    out: Path = typer.Option(Path("runs/demo"), "--out", help="Folder for the run and the search results."),
    budget: int = typer.Option(100, "--budget", help="Queries per search (the run's labels included)."),
    epochs: int = typer.Option(10, "--epochs", help="G-VAE training epochs."),
    seed: int = typer.Option(0, "--seed"),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or auto."),
) -> None:
    """Train a latent model on the default table (reused when already trained), then CR-LSO vs. evolution."""
    from lso.bench.default import default_table_path
    from lso.demo import DemoConfig, run_demo

    console = make_console()
    table = bench or default_table_path()
    console.print(f"[bold]lso demo[/] on {table} (seed {seed}, device {device}); outputs in {out}", highlight=False)
    result = run_demo(DemoConfig(table=table, out=out, budget=budget, epochs=epochs, seed=seed, device=device))
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


def register(app: typer.Typer) -> None:
    """Add `lso demo`."""
    app.command("demo")(demo)
