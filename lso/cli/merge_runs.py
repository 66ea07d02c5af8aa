"""CLI: ``lso bench merge-runs`` -- join run caches into one: the shards of a split build, or the runs of protocols
whose seed groups a larger protocol contains (``lso.nets.cache_merge``)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from lso.cli.checks import os_errors
from lso.cli.console import make_console
from lso.nets.cache import cache_header
from lso.nets.cache_merge import merge_run_caches
from lso.nets.protocol import get_protocol


def merge_runs(
    sources: List[Path] = typer.Argument(..., help="Run caches (.runs.jsonl) to merge."),
    out: Path = typer.Option(..., "--out", "-o", help="The merged run cache to write (a new file)."),
    protocol: Optional[str] = typer.Option(None, "--protocol", "-p", help="Registered protocol of the merged cache "
                                           "(default: the first source's, to join the shards of one build)."),
) -> None:
    """Write one run cache from several; every run must be one the protocol itself would train (same recipe, and
    seed groups it trains together). Then `lso bench build --protocol P --cache OUT` trains only what is missing."""
    with os_errors("lso bench merge-runs"):
        first, space = cache_header(sources[0])
        chosen = get_protocol(protocol) if protocol else first
        runs = merge_run_caches(chosen, sources, out, space=space)
    make_console().print(f"wrote [bold]{out}[/]: {runs:,} runs of protocol {chosen.name} from {len(sources)} "
                         f"cache(s); build with: lso bench build -d {chosen.dataset} -p {chosen.name} --cache {out} "
                         "--out TABLE.parquet", highlight=False)


def add_merge_runs_command(bench_app: typer.Typer) -> None:
    """Add ``merge-runs`` to the ``lso bench`` group."""
    bench_app.command("merge-runs")(merge_runs)
