"""CLI: `lso refine` (grow one architecture by neuron splitting) and `lso refine compare` (methods x seeds)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from lso.cli.console import make_console

from lso.errors import LsoError

_HELP = (
    "Grow an NB201 architecture by neuron splitting: lso refine --arch STR --dataset digits --method s3d --rounds 3 "
    "--budget-params P --seed 0 --out RESULT.json. `lso refine compare ...` runs s3d, s2d, random, scratch x seeds."
)

_GROUPS = "stage0,reduce1,stage1,reduce2,stage2"  # lso.growth.nb201.GROUPS, without importing torch for --help


def _split(text: str) -> list[str]:
    return [g.strip() for g in text.split(",") if g.strip()]


def register(app: typer.Typer) -> None:
    """Add `lso refine` (a group whose callback runs one refine) and `lso refine compare`."""
    group = typer.Typer(help=_HELP, invoke_without_command=True, no_args_is_help=True)
    group.callback(invoke_without_command=True)(refine)
    group.command("compare")(compare)
    app.add_typer(group, name="refine")


def refine(
    ctx: typer.Context,
    arch: Optional[str] = typer.Option(None, "--arch", help="NB201 cell string."),
    dataset: str = typer.Option("digits", "--dataset"),
    method: str = typer.Option("s3d", "--method", help="s3d, s2d, random or scratch."),
    rounds: int = typer.Option(3, "--rounds", help="Splitting rounds after training the start network."),
    budget_params: Optional[int] = typer.Option(None, "--budget-params",
                                                help="Final parameter count (default: NB201's size of the cell)."),
    seed: int = typer.Option(0, "--seed"),
    out: Optional[Path] = typer.Option(None, "--out", help="RESULT.json to write."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda[:k]."),
    protocol: Optional[str] = typer.Option(None, "--protocol", help="Training protocol (default: the dataset's)."),
    finetune_epochs: int = typer.Option(1, "--finetune-epochs"),
    inner_mult: float = typer.Option(0.25, "--inner-mult", help="Start inner widths as a fraction of NB201's."),
    stage_mult: float = typer.Option(0.5, "--stage-mult", help="Start stage widths as a fraction of NB201's."),
    groups: str = typer.Option(_GROUPS, "--groups", help="Width groups that grow (comma-separated)."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Run one refine and write RESULT.json: {"rounds": [...], "config": {...}}."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [flag for flag, value in (("--arch", arch), ("--out", out)) if value is None]
    if missing:
        raise LsoError(f"lso refine needs {', '.join(missing)} (see lso refine --help)")
    from lso.growth.refine import refine as run_refine

    result = run_refine(arch, dataset, method, rounds, budget_params, seed, device, protocol=protocol,
                        finetune_epochs=finetune_epochs, inner_mult=inner_mult, stage_mult=stage_mult,
                        groups=_split(groups), progress=progress)
    result.save(out)
    first, last = result.rounds[0], result.final
    make_console().print(f"{method} seed {seed}: {first.params} -> {last.params} params, test accuracy "
                    f"{first.test_accuracy:.2f} -> {last.test_accuracy:.2f} % on {last.device}; wrote {out}",
                    highlight=False, soft_wrap=True)


def compare(
    arch: str = typer.Option(..., "--arch", help="NB201 cell string."),
    dataset: str = typer.Option("digits", "--dataset"),
    seeds: int = typer.Option(3, "--seeds", help="Number of seeds (0..N-1)."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    methods: str = typer.Option("s3d,s2d,random,scratch", "--methods", help="Comma-separated methods."),
    rounds: int = typer.Option(3, "--rounds"),
    budget_params: Optional[int] = typer.Option(None, "--budget-params"),
    device: str = typer.Option("auto", "--device"),
    protocol: Optional[str] = typer.Option(None, "--protocol"),
    finetune_epochs: int = typer.Option(1, "--finetune-epochs"),
    inner_mult: float = typer.Option(0.25, "--inner-mult"),
    stage_mult: float = typer.Option(0.5, "--stage-mult"),
    groups: str = typer.Option(_GROUPS, "--groups", help="Width groups that grow (comma-separated)."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Run methods x seeds; write rounds.csv, final.csv, accuracy_vs_params.html, results.json; print the table."""
    from lso.growth.refine import compare_refine, write_refine_comparison

    comparison = compare_refine(arch, dataset, methods=[m.strip() for m in methods.split(",") if m.strip()],
                                seeds=range(seeds), rounds=rounds, budget_params=budget_params, device=device,
                                progress=progress, protocol=protocol, finetune_epochs=finetune_epochs,
                                inner_mult=inner_mult, stage_mult=stage_mult, groups=_split(groups))
    files = write_refine_comparison(comparison, out)
    make_console().print(comparison.final_frame().to_string(index=False, float_format=lambda v: f"{v:.2f}"),
                    highlight=False, soft_wrap=True)
    make_console().print(f"wrote {files.rounds_csv}, {files.final_csv}, {files.plot}, {files.results_json}",
                    highlight=False)
