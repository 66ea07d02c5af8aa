"""CLI: ``lso milenas`` -- one MiLeNAS (or first-order DARTS) search on the NB201 or the DARTS supernet, scored by an
oracle."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from lso.cli.checks import SEED_MAX, check_result_file, check_seed, os_errors
from lso.cli.console import make_console


def milenas(
    dataset: str = typer.Option("digits", "--dataset", "-d", help="Registered dataset the supernet trains on."),
    epochs: int = typer.Option(50, "--epochs", help="Search epochs."),
    seed: int = typer.Option(0, "--seed", help=f"Seed of the supernet's weights, alpha and batch order (0..{SEED_MAX})."),
    out: Path = typer.Option(..., "--out", help="RESULT.json to write (a new file, or an earlier MiLeNAS result; "
                             "checked before the search)."),
    method: str = typer.Option("milenas", "--method", help="milenas (mixed level) or darts (first order)."),
    space: str = typer.Option("nb201", "--space", help="Supernet: nb201, or darts (the DARTS / NB301 space; the "
                              "genotype is trained, by default with <dataset>-darts, e.g. mnist1d-darts)."),
    bench: Optional[Path] = typer.Option(None, "--bench", help="Score the derived cell from this table (.csv/.parquet)."),
    signal: Optional[str] = typer.Option(None, "--signal", help="Table metric seen (default <dataset>_valid)."),
    report: Optional[str] = typer.Option(None, "--report", help="Table metric reported (default <dataset>_test)."),
    protocol: Optional[str] = typer.Option(None, "--protocol", "-p", help="Training protocol of the oracle (no --bench)."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda[:k]."),
    channels: int = typer.Option(16, "--channels", help="Supernet width C."),
    cells: int = typer.Option(5, "--cells", help="Supernet cells per stage N (darts: normal cells per stage, 3N+2 "
                              "cells; DARTS's search model is N=2)."),
    batch_size: int = typer.Option(64, "--batch-size", help="Batch size of the search (>= 2)."),
    train_samples: Optional[int] = typer.Option(None, "--train-samples", help="Use the first n train examples."),
    data_root: Optional[Path] = typer.Option(None, "--data-root", help="Folder of dataset files (CIFAR)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar over the epochs."),
) -> None:
    """Search, derive the cell, score it; write RESULT.json (space, cell, scores, alpha history, time, device)."""
    check_seed(seed)
    from lso.jobs import progress_bar
    from lso.search.milenas import MilenasConfig, build_oracle, run_milenas

    config = MilenasConfig(dataset=dataset, method=method, epochs=epochs, seed=seed, channels=channels,
                           cells_per_stage=cells, batch_size=batch_size, train_samples=train_samples, space=space)
    check_result_file(out, "milenas")
    oracle = build_oracle(dataset, bench=bench, signal=signal, report=report, protocol=protocol, device=device,
                          data_root=data_root, space=space)
    with os_errors("lso milenas"), progress_bar(f"{method} seed {seed}", "epoch", enabled=progress) as reporter:
        result = run_milenas(config, oracle, data_root=data_root, device=device, reporter=reporter)
        result.save(out)
    ev = result.evaluation
    assert ev is not None
    collapse = " (COLLAPSED: parameter-free ops only)" if result.collapsed else ""
    make_console().print(
        f"{method} seed {seed}: {result.cell}{collapse}; {result.signal_name} {ev.signal:.2f}, "
        f"{result.report_name} {ev.report:.2f}; search {result.search_seconds:.1f}s on {result.device}; wrote {out}"
    )


def register(app: typer.Typer) -> None:
    """Add ``lso milenas`` to the application."""
    app.command("milenas")(milenas)
