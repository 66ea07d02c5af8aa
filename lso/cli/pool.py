"""CLI: ``lso search pool`` -- random search, REA and CR-LSO compared on a space table (NB101, DARTS, ...).

Added to the ``search`` group by ``lso.cli.search.register``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lso.cli.checks import check_output_folder, os_errors, split_names
from lso.cli.console import make_console
from lso.errors import LsoError


def pool_marker(path: Path) -> bool:
    """``pool_comparison.json`` of ``lso search pool``."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and {"space", "rows", "budgets"} <= set(data)


def pool(
    bench: Path = typer.Option(..., "--bench", help="Space table (.parquet) from lso bench build --space ... "
                               "--sample N or lso bench import nb101-tfrecord|darts-csv."),
    methods: str = typer.Option("random,rea,crlso", "--methods", help="Comma-separated: random, rea, crlso."),
    seeds: str = typer.Option("20", "--seeds", help="Seeds: a count (20 = 0..19), a range (200-209) or a list."),
    budgets: str = typer.Option("50,100,150", "--budgets", help="Comma-separated query budgets."),
    out: Path = typer.Option(..., "--out", help="Output folder: new, or one an earlier lso search pool wrote."),
    signal: Optional[str] = typer.Option(None, "--signal", help="Metric the searches see (default: <dataset>_valid)."),
    report: Optional[str] = typer.Option(None, "--report", help="Metric reported (default: <dataset>_test)."),
    vae: Optional[Path] = typer.Option(None, "--vae", help="A space G-VAE saved by benchmarks/bench_space_vae.py "
                                       "--save (default: train one here on --vae-train sampled cells)."),
    vae_train: int = typer.Option(20_000, "--vae-train", help="Sampled cells the G-VAE trains on (no labels)."),
    vae_epochs: int = typer.Option(10, "--vae-epochs", help="Epochs of that training."),
    vae_seed: int = typer.Option(0, "--vae-seed", help="Seed of the G-VAE's sample and weights."),
    device: str = typer.Option("cpu", "--device", help="Torch device of the G-VAE: cpu, cuda, cuda:N or auto."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Compare searches on the pool of a space table: each method x seed queries only the table's cells (each class
    once); its figure at a budget is the report score of its best-by-signal cell. Writes pool_comparison.csv/.md/.json
    and pool_curves.csv/.html; prints the table."""
    from lso.bench.space_table import SpaceTable
    from lso.cli.search import _checked_seeds, _split
    from lso.device import resolve_device
    from lso.jobs import progress_bar
    from lso.report.pool import POOL_OUTPUTS, write_pool_comparison
    from lso.search.pool_run import PoolSearchConfig, run_pool_comparison

    try:
        budget_list = tuple(int(b) for b in _split(budgets))
    except ValueError as err:
        raise LsoError(f"--budgets must be comma-separated integers, got {budgets!r}") from err
    if not budget_list or min(budget_list) < 1:
        raise LsoError(f"--budgets must be integers >= 1, got {budgets!r}")
    config = PoolSearchConfig(methods=tuple(split_names(methods, "--methods")), seeds=_checked_seeds(seeds),
                              budgets=budget_list, signal=signal, report=report, vae_train=vae_train,
                              vae_epochs=vae_epochs, vae_seed=vae_seed)
    check_output_folder(out, POOL_OUTPUTS, marker="pool_comparison.json", recognise=pool_marker,
                        what="pool comparison")
    table = SpaceTable.load(bench)
    with os_errors("lso search pool"):
        with progress_bar("pool searches", "step", enabled=progress) as reporter:
            run = run_pool_comparison(table, config, vae=vae, device=resolve_device(device), reporter=reporter,
                                      name=str(bench))
        files = write_pool_comparison(run, out)
    console = make_console()
    if run.vae is not None:
        console.print(f"space G-VAE: {run.vae.train_cells:,} cells, {run.vae.epochs} epochs, reconstruction "
                      f"{run.vae.reconstruction:.3f} (held out), validity {run.vae.validity:.3f}", highlight=False)
    console.print(f"{table.space.name} pool of {len(run.comparison.pool):,} cells, {run.report} of the best-by-"
                  f"{run.signal} cell (mean +- std over {len(config.seeds)} seeds; pool's best "
                  f"{run.comparison.pool.report.max():.2f}):", highlight=False)
    console.print(run.comparison.text(), highlight=False, soft_wrap=True)
    console.print(f"wrote {files.table_csv}, {files.table_md}, {files.plot}, {files.summary_json}", highlight=False)
