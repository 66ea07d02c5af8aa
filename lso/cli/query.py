"""CLI: ``lso query`` -- train one cell with a protocol and print its metrics."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer
from lso.cli.checks import SEED_MAX, check_cache, check_seed, os_errors
from lso.cli.console import make_console

from lso.nets.protocol import ProtocolError, default_protocol, get_protocol


def query(
    dataset: str = typer.Option(..., "--dataset", "-d", help="Registered dataset, e.g. digits, cifar10."),
    arch: str = typer.Option(..., "--arch", "-a", help="Cell string |op~0|+|op~0|op~1|+|op~0|op~1|op~2|."),
    protocol: Optional[str] = typer.Option(None, "--protocol", "-p", help="Registered protocol (default: the dataset's first)."),
    seed: Optional[int] = typer.Option(None, "--seed", help=f"Train with this one seed (0..{SEED_MAX}) instead of the "
                                       "protocol's seeds."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda[:k]."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="JSON-lines run cache of this protocol to read and "
                                         "extend (created when absent)."),
    data_root: Optional[Path] = typer.Option(None, "--data-root", help="Folder of dataset files (CIFAR)."),
    as_json: bool = typer.Option(False, "--json", help="Print the runs as JSON."),
) -> None:
    """Train one cell (every seed of the protocol) and print train/valid/test accuracy, params, FLOPs and time."""
    chosen = get_protocol(protocol) if protocol else default_protocol(dataset)
    if chosen.dataset != dataset:
        raise ProtocolError(f"protocol {chosen.name!r} is for dataset {chosen.dataset!r}, not {dataset!r}")
    if seed is not None:
        chosen = chosen.with_(seeds=(check_seed(seed),))
    from lso.space import Cell

    Cell.parse(arch)  # a bad cell string fails before the cache or the dataset is opened
    check_cache(chosen, cache)
    from lso.nets.training_oracle import TrainingOracle  # torch loads only when a cell is trained

    with os_errors("lso query"):
        record = TrainingOracle(chosen, cache=cache, device=device, data_root=data_root).record(arch)
    if as_json:
        typer.echo(json.dumps({"protocol": chosen.to_dict(), "runs": [asdict(r) for r in record.runs]}, indent=2))
        return
    console = make_console()
    console.print(f"[bold]{record.cell}[/] on {dataset}, protocol {chosen.name}: {chosen.describe()}", highlight=False)
    for r in record.runs:
        console.print(
            f"seed {r.seed}: train {r.train_acc:.2f}%  valid {r.valid_acc:.2f}%  test {r.test_acc:.2f}%  "
            f"(loss {r.train_loss:.3f}/{r.valid_loss:.3f}/{r.test_loss:.3f})  params {r.params:,}  "
            f"FLOPs {r.flops:,}  {r.wall_time_s:.1f}s on {r.device}",
            highlight=False,
        )
    if len(record.runs) > 1:
        console.print(f"mean: valid {record.valid_acc:.2f}%  test {record.test_acc:.2f}%", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``lso query`` to the application."""
    app.command("query")(query)
