"""CLI: ``lso bench build`` -- train every unique NB201 cell with a protocol into a benchmark table.

The ``bench`` group adds it with ``add_build_command(bench_app)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
from lso.cli.console import make_console

from lso.errors import LsoError
from lso.nets.protocol import default_protocol, get_protocol


def build(
    dataset: str = typer.Option(..., "--dataset", "-d", help="Registered dataset, e.g. digits."),
    out: Path = typer.Option(..., "--out", "-o", help="Parquet table to write."),
    protocol: Optional[str] = typer.Option(None, "--protocol", "-p", help="Registered protocol (default: the dataset's first)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=0, help="Local worker processes (default: one per CPU core on CPU, 0 with a GPU device; 0: train in this process)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Train only the first N unique cells (partial table)."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Run cache (default: <out>.runs.jsonl); resumes from it."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda[:k] or auto."),
    data_root: Optional[Path] = typer.Option(None, "--data-root", help="Folder of dataset files (CIFAR)."),
    ray: Optional[str] = typer.Option(None, "--ray", help="Ray cluster address (auto, HOST:PORT, ray://...; local starts a private one). Needs pip install 'lso[ray]'."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar with ETA."),
) -> None:
    """Train every unique cell (isomorphic cells share one run), resumably, and write all 15,625 rows."""
    if workers is None:  # fill the CPU cores; one GPU is best fed by this process alone
        workers = (os.cpu_count() or 1) if device == "cpu" else 0
    chosen = get_protocol(protocol) if protocol else default_protocol(dataset)
    if chosen.dataset != dataset:
        raise LsoError(f"protocol {chosen.name!r} is for dataset {chosen.dataset!r}, not {dataset!r}")
    from lso.nets.builder import BuildConfig, build_benchmark  # torch loads only when building

    report = build_benchmark(
        BuildConfig(chosen, out, cache=cache, workers=workers, limit=limit, device=device, data_root=data_root, progress=progress, ray=ray)
    )
    median = "-" if report.median_run_s is None else f"{report.median_run_s:.2f}s"
    make_console().print(
        f"wrote [bold]{report.table}[/]: {report.rows:,} rows ({'complete' if report.complete else 'partial'}); "
        f"{report.runs_trained} runs trained now, {report.runs_cached} from the cache {report.cache}; "
        f"{report.wall_time_s:.1f}s with {'Ray at ' + ray if ray else str(report.workers) + ' worker(s)'}, median run {median}",
        highlight=False,
    )


def add_build_command(bench_app: typer.Typer) -> None:
    """Add ``build`` to the ``lso bench`` group."""
    bench_app.command("build")(build)
