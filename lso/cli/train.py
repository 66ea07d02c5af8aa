"""CLI: `lso train` (joint G-VAE + ICNN training on NAS-Bench-201, writes a run directory)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from lso.cli.checks import SEED_MAX, check_seed, os_errors
from lso.cli.console import make_console


def register(app: typer.Typer) -> None:
    """Add `lso train` to app."""
    app.command("train")(train)


def train(
    bench: Path = typer.Option(..., "--bench", help="Benchmark table (.csv or .parquet) with the label metric."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Metric the surrogate learns (default: the table's <dataset>_valid)."),
    labels: int = typer.Option(300, "--labels", help="Labelled cells, a seeded random sample (0: unsupervised)."),
    seed: int = typer.Option(0, "--seed", help=f"Seed of every random draw of the run (0..{SEED_MAX})."),
    out: Path = typer.Option(..., "--out", help="Run directory to create (a new or empty folder; with --resume, "
                             "the interrupted run)."),
    epochs: int = typer.Option(30, "--epochs", help="Training epochs (>= 1)."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
    pseudo_labels: bool = typer.Option(False, "--pseudo-labels/--no-pseudo-labels", help="Semi-supervised pseudo-labels from a GNN predictor."),
    conv: str = typer.Option("edge", "--conv", help="Encoder layer (torch-geometric): edge (CR-LSO's edge-aware layer), gine or gat."),
    resume: bool = typer.Option(False, "--resume", help="Continue the interrupted run in --out (same settings)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar over the epochs."),
) -> None:
    """Train the graph VAE and the ICNN surrogate; write config, checkpoints, history and metrics.json to --out."""
    check_seed(seed)
    from lso.bench import BenchmarkTable
    from lso.jobs import progress_bar
    from lso.train import TrainConfig, train_run
    from lso.train.run import check_run_out

    config = TrainConfig(epochs=epochs, labels=labels, seed=seed, pseudo_labels=pseudo_labels, conv=conv)
    check_run_out(out, resume)  # before the table is read: a bad --out fails at once
    if metric is None:
        metric = BenchmarkTable.load(bench).default_metric("valid")
    with os_errors("lso train"), progress_bar("train", "epoch", enabled=progress) as reporter:
        result = train_run(bench, metric, config, out, device=device, resume=resume, reporter=reporter)
    m = result.metrics
    make_console().print(
        f"trained {result.config.epochs} epochs in {m.train_seconds:.1f} s: reconstruction {m.reconstruction_accuracy:.4f}, "
        f"validity {m.validity:.3f}, uniqueness {m.uniqueness:.3f} (by class), surrogate spearman {m.spearman:.3f} / "
        f"kendall {m.kendall:.3f} on {m.correlation_cells} unlabelled isomorphism classes; wrote {result.run_dir}",
        highlight=False, soft_wrap=True)
