"""CLI: ``lso bench merge-tables`` -- join built tables into the table of a protocol with more seeds: a shipped
table and tables of the missing seeds, which may be built in shards (``lso.nets.table_merge``)."""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from lso.cli.checks import os_errors
from lso.cli.console import make_console
from lso.atomic import OutputError, check_writable_file
from lso.nets.protocol import get_protocol


def merge_tables_command(
    sources: List[Path] = typer.Argument(..., help="Built tables (.parquet) to merge."),
    out: Path = typer.Option(..., "--out", "-o", help="The merged table to write (a new .parquet file)."),
    protocol: str = typer.Option(..., "--protocol", "-p", help="Registered protocol of the merged table, e.g. "
                                 "mnist1d-v3; every source's runs must be runs it trains."),
) -> None:
    """Write the table of PROTOCOL from built tables of protocols with the same recipe whose seed groups it trains
    (e.g. mnist1d-v2's table and mnist1d-v3-extra's shards make mnist1d-v3's). Cells without every seed are left
    out and counted."""
    from lso.bench import BenchmarkTable
    from lso.nets.table_merge import merge_tables

    chosen = get_protocol(protocol)
    check_writable_file(out, ".parquet", what="table")
    if out.exists():
        raise OutputError(f"{out} exists: merge into a new file (a merge never replaces a table)")
    with os_errors("lso bench merge-tables"):
        merged = merge_tables(chosen, [BenchmarkTable.load(p) for p in sources], [str(p) for p in sources])
        merged.table.save(out)
    left = f"; {merged.dropped:,} row(s) left out (some seed missing)" if merged.dropped else ""
    make_console().print(f"wrote [bold]{out}[/]: {len(merged.table):,} rows of protocol {chosen.name} from "
                         f"{len(sources)} table(s){left}", highlight=False)


def add_merge_tables_command(bench_app: typer.Typer) -> None:
    """Add ``merge-tables`` to the ``lso bench`` group."""
    bench_app.command("merge-tables")(merge_tables_command)
