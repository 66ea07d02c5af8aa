"""CLI: `lso refine` (grow one architecture by neuron splitting) and `lso refine compare` (methods x seeds)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from lso.cli.console import make_console

from lso.cli.checks import (MAX_SEEDS, SEED_MAX, at_least, check_output_folder, check_result_file, check_seed, finite,
                            os_errors, refine_marker, split_names)
from lso.errors import LsoError
from lso.jobs import progress_bar

if TYPE_CHECKING:
    from lso.growth.refine import RefineConfig

_HELP = (
    "Grow an NB201 architecture by neuron splitting: lso refine --arch STR --dataset digits --method s3d --rounds 3 "
    "--budget-params P --seed 0 --out RESULT.json. `lso refine compare ...` runs s3d, s2d, random, scratch x seeds."
)

_GROUPS = "stage0,reduce1,stage1,reduce2,stage2"  # lso.growth.nb201.GROUPS, without importing torch for --help


def register(app: typer.Typer) -> None:
    """Add `lso refine` (a group whose callback runs one refine) and `lso refine compare`."""
    group = typer.Typer(help=_HELP, invoke_without_command=True, no_args_is_help=True)
    group.callback(invoke_without_command=True)(refine)
    group.command("compare")(compare)
    app.add_typer(group, name="refine")


_METHODS = ("s3d", "s2d", "random", "scratch")  # lso.growth.refine.REFINE_METHODS, without importing torch
_COMPARE_OUTPUTS = ("rounds.csv", "final.csv", "accuracy_vs_params.html", "results.json")
_MULT_MAX = 1.0


def _check_settings(arch: str, method_names: list[str], rounds: int, budget_params: int | None, finetune_epochs: int,
                    inner_mult: float, stage_mult: float, groups: str) -> list[str]:
    """Every number and name of a refine, before the dataset is loaded; returns the groups."""
    from lso.space import Cell

    Cell.parse(arch)  # ArchStringError names the problem
    unknown = [m for m in method_names if m not in _METHODS]
    if unknown:
        raise LsoError(f"unknown refine method {unknown[0]!r}; use one of {', '.join(_METHODS)}")
    at_least(rounds, "--rounds", 1)
    at_least(budget_params, "--budget-params", 1)
    at_least(finetune_epochs, "--finetune-epochs", 0)
    for flag, value in (("--inner-mult", inner_mult), ("--stage-mult", stage_mult)):
        finite(value, flag, above=0.0)
        if value > _MULT_MAX:
            raise LsoError(f"{flag} must be in (0, {_MULT_MAX:g}] (a fraction of NB201's widths), got {value:g}")
    names = split_names(groups, "--groups")
    bad = [g for g in names if g not in _GROUPS.split(",")]
    if bad:
        raise LsoError(f"unknown width group {bad[0]!r} in --groups; known: {_GROUPS}")
    return names


# Options both commands take (one declaration each; typer reads them, it does not change them).
_ROUNDS = typer.Option(3, "--rounds", help="Splitting rounds after training the start network (>= 1).")
_BUDGET = typer.Option(None, "--budget-params", help="Final parameter count (default: NB201's size of the cell).")
_DEVICE = typer.Option("auto", "--device", help="auto, cpu or cuda[:k].")
_PROTOCOL = typer.Option(None, "--protocol", help="Training protocol (default: the dataset's).")
_FINETUNE = typer.Option(1, "--finetune-epochs", help="Fine-tuning epochs after each split (>= 0).")
_INNER = typer.Option(0.25, "--inner-mult", help="Start inner widths as a fraction of NB201's, in (0, 1].")
_STAGE = typer.Option(0.5, "--stage-mult", help="Start stage widths as a fraction of NB201's, in (0, 1].")
_GROUPS_OPTION = typer.Option(_GROUPS, "--groups", help="Width groups that grow (comma-separated).")
_ROLLBACK = typer.Option(0.5, "--rollback-tolerance", min=0.0,
                         help="A round that lowers validation accuracy by more than this many points is retried with "
                              "half the step, then rolled back (recorded as rolled_back).")
_NO_ROLLBACK = typer.Option(False, "--no-rollback", help="Keep every round, even one that lowers validation accuracy.")
_START_EPOCHS = typer.Option(10, "--start-epochs", help="Epochs the start network trains before the first split (>= 1; "
                             "10: where its valid accuracy plateaus on digits).")
_FULL_SPLIT = typer.Option(True, "--full-train-split/--protocol-subset",
                           help="Train on the dataset's whole train split, or on the protocol's train_samples subset.")
_LR_MULT = typer.Option(0.3, "--finetune-lr-mult", help="Peak lr of the fine-tuning after a split, as a fraction of "
                        "the protocol's lr, in (0, 1].")
_LINE_SEARCH = typer.Option(True, "--line-search/--fixed-step", help="Each round's split step by a line search on "
                            "the measured loss, or the constant eps (1e-2).")


def _config(arch: str, dataset: str, method: str, rounds: int, budget_params: int | None, seed: int,
            protocol: str | None, finetune_epochs: int, inner_mult: float, stage_mult: float, groups: list[str],
            rollback_tolerance: float | None = 0.5, start_epochs: int = 10, full_train_split: bool = True,
            finetune_lr_mult: float = 0.3, line_search: bool = True) -> RefineConfig:
    """The ``RefineConfig`` of these options (imported here: torch loads only when a command runs)."""
    from lso.growth.refine import RefineConfig

    at_least(start_epochs, "--start-epochs", 1)
    finite(finetune_lr_mult, "--finetune-lr-mult", above=0.0)
    if finetune_lr_mult > 1.0:
        raise LsoError(f"--finetune-lr-mult must be in (0, 1] (a fraction of the protocol's lr), got {finetune_lr_mult:g}")
    return RefineConfig(arch=arch, dataset=dataset, method=method, rounds=rounds, budget_params=budget_params,
                        seed=seed, protocol=protocol, finetune_epochs=finetune_epochs, inner_mult=inner_mult,
                        stage_mult=stage_mult, groups=tuple(groups), rollback_tolerance=rollback_tolerance,
                        start_epochs=start_epochs, full_train_split=full_train_split,
                        finetune_lr_mult=finetune_lr_mult, line_search=line_search)


def refine(
    ctx: typer.Context,
    arch: Optional[str] = typer.Option(None, "--arch", help="NB201 cell string."),
    dataset: str = typer.Option("digits", "--dataset", help="Registered dataset the network trains on."),
    method: str = typer.Option("s3d", "--method", help="s3d, s2d, random or scratch."),
    rounds: int = _ROUNDS,
    budget_params: Optional[int] = _BUDGET,
    seed: int = typer.Option(0, "--seed", help=f"Seed of the weights, batch order and random choices (0..{SEED_MAX})."),
    out: Optional[Path] = typer.Option(None, "--out", help="RESULT.json to write (a new file, or an earlier refine "
                                       "result; checked before training)."),
    device: str = _DEVICE,
    protocol: Optional[str] = _PROTOCOL,
    finetune_epochs: int = _FINETUNE,
    inner_mult: float = _INNER,
    stage_mult: float = _STAGE,
    groups: str = _GROUPS_OPTION,
    rollback_tolerance: float = _ROLLBACK,
    no_rollback: bool = _NO_ROLLBACK,
    start_epochs: int = _START_EPOCHS,
    full_train_split: bool = _FULL_SPLIT,
    finetune_lr_mult: float = _LR_MULT,
    line_search: bool = _LINE_SEARCH,
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar over the rounds."),
) -> None:
    """Run one refine and write RESULT.json: {"rounds": [...], "config": {...}}."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [flag for flag, value in (("--arch", arch), ("--out", out)) if value is None]
    if missing:
        raise LsoError(f"lso refine needs {', '.join(missing)} (see lso refine --help)")
    check_seed(seed)
    group_names = _check_settings(arch, [method], rounds, budget_params, finetune_epochs, inner_mult, stage_mult,
                                  groups)
    check_result_file(out, "refine")
    config = _config(arch, dataset, method, rounds, budget_params, seed, protocol, finetune_epochs, inner_mult,
                     stage_mult, group_names, None if no_rollback else rollback_tolerance, start_epochs,
                     full_train_split, finetune_lr_mult, line_search)
    from lso.growth.refine import refine as run_refine

    with os_errors("lso refine"), progress_bar(f"{method} seed {seed}", "round", enabled=progress) as bar:
        result = run_refine(config, device=device, reporter=bar)
        result.save(out)
    first, last = result.rounds[0], result.final
    back = [k for k, r in enumerate(result.rounds) if r.rolled_back]
    make_console().print(f"{method} seed {seed}: {first.params} -> {last.params} params, test accuracy "
                         f"{first.test_accuracy:.2f} -> {last.test_accuracy:.2f} % on {last.device}; wrote {out}"
                         + (f"\nrolled back (lowered validation accuracy): round {', '.join(map(str, back))}"
                            if back else ""), highlight=False, soft_wrap=True)


def compare(
    arch: str = typer.Option(..., "--arch", help="NB201 cell string."),
    dataset: str = typer.Option("digits", "--dataset", help="Registered dataset the networks train on."),
    seeds: int = typer.Option(3, "--seeds", help="Number of seeds (0..N-1)."),
    out: Path = typer.Option(..., "--out", help="Output folder (new, or an earlier refine comparison)."),
    methods: str = typer.Option("s3d,s2d,random,scratch", "--methods", help="Comma-separated methods, each once."),
    rounds: int = _ROUNDS,
    budget_params: Optional[int] = _BUDGET,
    device: str = _DEVICE,
    protocol: Optional[str] = _PROTOCOL,
    finetune_epochs: int = _FINETUNE,
    inner_mult: float = _INNER,
    stage_mult: float = _STAGE,
    groups: str = _GROUPS_OPTION,
    rollback_tolerance: float = _ROLLBACK,
    no_rollback: bool = _NO_ROLLBACK,
    start_epochs: int = _START_EPOCHS,
    full_train_split: bool = _FULL_SPLIT,
    finetune_lr_mult: float = _LR_MULT,
    line_search: bool = _LINE_SEARCH,
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar over the runs."),
) -> None:
    """Run methods x seeds; write rounds.csv, final.csv, accuracy_vs_params.html, results.json; print the table."""
    if not 1 <= seeds <= MAX_SEEDS:
        raise LsoError(f"--seeds must be a count in 1..{MAX_SEEDS:,} (seeds 0..N-1), got {seeds}")
    method_names = split_names(methods, "--methods")
    group_names = _check_settings(arch, method_names, rounds, budget_params, finetune_epochs, inner_mult, stage_mult,
                                  groups)
    check_output_folder(out, _COMPARE_OUTPUTS, marker="results.json", recognise=refine_marker,
                        what="refine comparison")
    config = _config(arch, dataset, method_names[0], rounds, budget_params, 0, protocol, finetune_epochs, inner_mult,
                     stage_mult, group_names, None if no_rollback else rollback_tolerance, start_epochs,
                     full_train_split, finetune_lr_mult, line_search)
    from lso.growth.refine import compare_refine
    from lso.report.refine import write_refine_comparison

    with os_errors("lso refine compare"), progress_bar("refine compare", "round", enabled=progress) as bar:
        comparison = compare_refine(config, methods=method_names, seeds=range(seeds), device=device, reporter=bar)
        files = write_refine_comparison(comparison, out)
    make_console().print(comparison.final_frame().to_string(index=False, float_format=lambda v: f"{v:.2f}"),
                         highlight=False, soft_wrap=True)
    make_console().print(f"wrote {files.rounds_csv}, {files.final_csv}, {files.plot}, {files.results_json}",
                         highlight=False)
