"""CLI: ``lso bench build`` -- train every unique NB201 cell with a protocol into a benchmark table, or a seeded
sample of another space's cells (``--space nb101|darts --sample N``) into a space table.

The ``bench`` group adds it with ``add_build_command(bench_app)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
from lso.cli.checks import at_least, check_cache, os_errors
from lso.cli.console import make_console

from lso.atomic import OutputError, check_writable_file
from lso.errors import LsoError
from lso.nets.protocol import TrainProtocol, default_protocol, get_protocol


def build(
    dataset: str = typer.Option(..., "--dataset", "-d", help="Registered dataset, e.g. digits."),
    out: Path = typer.Option(..., "--out", "-o", help="Parquet table to write: a new .parquet file, or the table an "
                             "earlier build of the same protocol wrote (never one with more rows than this build "
                             "gives)."),
    protocol: Optional[str] = typer.Option(None, "--protocol", "-p", help="Registered protocol (default: the dataset's first)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Local worker processes (default: one per CPU core on CPU; with a GPU, 8 processes sharing it, at most one per core; 0: train in this process)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Train only the first N unique cells (partial table; N >= 1)."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Run cache (default: <out>.runs.jsonl); resumes from it."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda[:k] or auto."),
    data_root: Optional[Path] = typer.Option(None, "--data-root", help="Folder of dataset files (CIFAR)."),
    ray: Optional[str] = typer.Option(None, "--ray", help="Ray cluster address (auto, HOST:PORT, ray://...; local starts a private one). Needs pip install 'lso[ray]'."),
    shard: Optional[str] = typer.Option(None, "--shard", help="K/N: train only every N-th unique cell from the K-th "
                                        "(0 <= K < N), to split one build across machines; give each its own --cache "
                                        "and join the caches afterwards (lso bench merge-runs)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar with ETA."),
    space: str = typer.Option("nb201", "--space", help="Search space: nb201 (every cell), or nb101 / darts (a "
                              "seeded sample of --sample cells; a space table)."),
    sample: Optional[int] = typer.Option(None, "--sample", help="Cells to train for --space nb101|darts: distinct "
                                         "classes drawn with --sample-seed (a larger sample extends a smaller one)."),
    sample_seed: int = typer.Option(0, "--sample-seed", help="Seed of the --sample draw."),
) -> None:
    """Train every unique cell (isomorphic cells share one run), resumably, and write all 15,625 rows; or, with
    --space nb101|darts, a seeded sample of --sample cells of that space."""
    at_least(workers, "--workers", 0)
    at_least(limit, "--limit", 1)
    if workers is None:  # fill the CPU cores; small networks leave one process's GPU idle between kernel launches:
        # 8 processes kept an H200 92-95 % busy on mnist1d-v2 (15.1 runs/s)
        workers = (os.cpu_count() or 1) if device == "cpu" else min(8, os.cpu_count() or 1)
    shard_kn = _parse_shard(shard)
    from lso.spaces import get_space

    space = get_space(space).name
    at_least(sample, "--sample", 1)
    if space == "nb201" and sample is not None:
        raise LsoError("--sample is for spaces too large to train whole (--space nb101|darts); an nb201 build "
                       "trains every class (use --limit for part of them)")
    if space != "nb201" and sample is None:
        raise LsoError(f"the {space} space is too large to train whole: give --sample N (e.g. 2000)")
    chosen = get_protocol(protocol) if protocol else default_protocol(dataset)
    if chosen.dataset != dataset:
        raise LsoError(f"protocol {chosen.name!r} is for dataset {chosen.dataset!r}, not {dataset!r}")
    check_writable_file(out, ".parquet", what="table")
    cache_path = cache if cache is not None else out.with_name(out.stem + ".runs.jsonl")
    check_cache(chosen, cache_path, space)
    if space == "nb201":
        _check_replaceable(out, chosen, cache_path, limit, shard_kn)
    elif out.exists():
        _check_space_replaceable(out, chosen, space)
    from lso.jobs import progress_bar
    from lso.nets.builder import BuildConfig, build_benchmark  # torch loads only when building

    config = BuildConfig(chosen, out, cache=cache, workers=workers, limit=limit, device=device, data_root=data_root,
                         ray=ray, shard=shard_kn, space=space, sample=sample, sample_seed=sample_seed)
    with os_errors("lso bench build"), progress_bar(f"training {chosen.name}", "run", enabled=progress) as reporter:
        report = build_benchmark(config, reporter=reporter)
    median = "-" if report.median_run_s is None else f"{report.median_run_s:.2f}s"
    make_console().print(
        f"wrote [bold]{report.table}[/]: {report.rows:,} rows ({'complete' if report.complete else 'partial'}); "
        f"{report.runs_trained} runs trained now, {report.runs_cached} from the cache {report.cache}; "
        f"{report.wall_time_s:.1f}s with {'Ray at ' + ray if ray else str(report.workers) + ' worker(s)'}, median run {median}",
        highlight=False,
    )
    if report.datasheet is not None:
        make_console().print(f"datasheet: {report.datasheet}", highlight=False)
    if report.failed_runs:
        shown = "; ".join(report.failed_runs[:3]) + ("; ..." if len(report.failed_runs) > 3 else "")
        raise LsoError(f"{len(report.failed_runs)} run(s) failed and are missing from the table ({shown}); run the "
                       "same command again to retry them (the finished runs are in the cache)")


def _parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"K/N"`` as ``(K, N)``; ``LsoError`` naming the problem otherwise."""
    if text is None:
        return None
    parts = text.split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise LsoError(f"--shard must be K/N with whole numbers, e.g. 0/4; got {text!r}")
    k, n = int(parts[0]), int(parts[1])
    if not 0 <= k < n:
        raise LsoError(f"--shard K/N needs 0 <= K < N; got {text!r}")
    return k, n


def _check_replaceable(out: Path, protocol: TrainProtocol, cache_path: Path, limit: int | None,
                       shard: tuple[int, int] | None = None) -> None:
    """An existing ``out`` may only be a table built with ``protocol`` that this build will not shrink: a table
    from an import, another protocol or another cache (with rows this build would not have) is kept."""
    if not out.exists():
        return
    from lso.bench import BenchmarkTable

    try:
        existing = BenchmarkTable.load(out)
    except LsoError as err:
        raise OutputError(f"{out} exists and is not an lso benchmark table: not replacing it (choose another --out)") from err
    if existing.meta.extra.get("protocol") != protocol.to_json():
        source = existing.meta.source or "unknown source"
        raise OutputError(f"{out} holds a table from {source}, not from protocol {protocol.name!r}: not replacing it "
                          "(choose another --out)")
    rows = _rows_after_build(protocol, cache_path, limit, shard)
    if rows < len(existing):
        raise OutputError(f"{out} holds {len(existing):,} rows of protocol {protocol.name!r}, but the runs of the cache "
                          f"{cache_path} and this build give only {rows:,}: not replacing it (use the cache it was "
                          "built from, a larger --limit, or another --out)")


def _check_space_replaceable(out: Path, protocol: TrainProtocol, space: str) -> None:
    """An existing ``out`` of a sampled build may only be a space table of the same space and protocol (a larger
    or equal sample of the same seed only adds rows; a smaller one is the user's choice)."""
    from lso.bench.space_table import SpaceTable

    try:
        existing = SpaceTable.load(out)
    except LsoError as err:
        raise OutputError(f"{out} exists and is not an lso space table: not replacing it (choose another --out)") from err
    if existing.meta.space != space or existing.meta.protocol != protocol.to_json():
        raise OutputError(f"{out} holds a {existing.meta.space} table from {existing.meta.source or 'unknown source'}"
                          f", not a {space} build of protocol {protocol.name!r}: not replacing it (choose another --out)")


def _rows_after_build(protocol: TrainProtocol, cache_path: Path, limit: int | None,
                      shard: tuple[int, int] | None = None) -> int:
    """Rows the table will have after this build: cells whose class is fully cached or trained now."""
    from lso.nets.builder import representatives
    from lso.nets.cache import RunCache
    from lso.space import all_cells

    covered = {cell.canonical() for cell in representatives(limit, shard)}
    if cache_path.exists():
        cache = RunCache(protocol, cache_path)
        keys = {key for key, _ in cache.keys()}
        covered |= {k for k in keys if all(cache.get(k, s) is not None for s in protocol.all_seeds)}
    return sum(1 for cell in all_cells() if cell.canonical() in covered)


def add_build_command(bench_app: typer.Typer) -> None:
    """Add ``build`` to the ``lso bench`` group."""
    bench_app.command("build")(build)
