"""Issue 19's comparison: at three parameter budgets (FLOPs shown too), S3D, S2D and random splitting, the widths S3D
found trained from scratch ("s3d-widths", new initialisation) and uniform widths trained from scratch ("uniform"),
over seeds (mean and std), with the training epochs of each; the targets checked; the cost of the splitting values
against one training epoch. The table (budget_table.txt / .csv) and the accuracy-vs-params figure
(accuracy_vs_params_budgets.html) are written side by side in --out (lso.report.refine.write_budget_comparison).

Growth acts on all five width groups of the NB201 network (lso.growth.nb201); the start network has the stage widths
at --stage-mult and the inner widths at --inner-mult of NB201's; the budgets default to 0.4, 0.7 and 1.0 of NB201's
size of the cell (lso.growth.refine.BUDGET_FRACTIONS). Every other setting is RefineConfig's default unless given.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_refine.py                    # digits, 5 seeds, 3 budgets
    .venv/bin/python benchmarks/bench_refine.py --device cuda --dataset cifar10 --seeds 3
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lso.data.datasets import load_dataset
from lso.device import describe_device, resolve_device
from lso.growth.nb201 import GROUPS
from lso.growth.refine import BUDGET_METHODS, BudgetComparison, RefineConfig, compare_budgets
from lso.nets.protocol import default_protocol, get_protocol
from lso.report.refine import budget_table_text, write_budget_comparison

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def per_seed(comp: BudgetComparison, budget: int, method: str) -> np.ndarray:
    """Test accuracies of ``method`` at ``budget``, in seed order."""
    runs = sorted((r for r in comp.runs if r.budget == budget and r.method == method), key=lambda r: r.seed)
    return np.array([r.test_accuracy for r in runs])


def check_targets(comp: BudgetComparison) -> None:
    """Issue 19's targets, each with the figures that decide it (a paired difference: same seed, same start)."""
    def diff(budget: int, a: str, b: str) -> str:
        d = per_seed(comp, budget, a) - per_seed(comp, budget, b)
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
        return f"{a} - {b} = {d.mean():+.2f} (paired SE {se:.2f})"

    means = {(b, m): per_seed(comp, b, m).mean() for b in comp.budgets for m in comp.methods}
    ran = set(comp.methods)  # a target whose methods did not all run (--methods) is left out
    print("\nTargets (mean over seeds; SE: standard error of the paired per-seed difference):")
    for b in comp.budgets:
        if {"s3d", "s2d", "random"} <= ran:
            order = means[(b, "s3d")] >= means[(b, "s2d")] >= means[(b, "random")]
            print(f"  budget {b:,}: S3D >= S2D >= random: {'met' if order else 'NOT met'} "
                  f"({diff(b, 's3d', 's2d')}; {diff(b, 's2d', 'random')})")
        if {"s3d-widths", "uniform"} <= ran:
            widths = means[(b, "s3d-widths")] >= means[(b, "uniform")]
            print(f"  budget {b:,}: S3D widths from scratch >= uniform from scratch: "
                  f"{'met' if widths else 'NOT met'} ({diff(b, 's3d-widths', 'uniform')})")
    if not {"s3d", "uniform"} <= ran:
        return
    small = min(comp.budgets)
    d = per_seed(comp, small, "s3d") - per_seed(comp, small, "uniform")
    noise = per_seed(comp, small, "uniform").std(ddof=1)
    verdict = "ahead" if d.mean() >= 0 else ("within the seed noise" if -d.mean() <= noise else "behind, beyond noise")
    print(f"  smallest budget {small:,}: S3D vs uniform scratch: {diff(small, 's3d', 'uniform')}; seed noise "
          f"(std of uniform over seeds) {noise:.2f} -> {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default=ARCH)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--protocol", default=None, help="registered protocol (default: the dataset's first)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budgets", type=int, nargs="+", default=None,
                        help="parameter budgets (default: 0.4, 0.7, 1.0 of NB201's size of the cell)")
    parser.add_argument("--methods", default=",".join(BUDGET_METHODS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--start-epochs", type=int, default=10)
    parser.add_argument("--finetune-epochs", type=int, default=1)
    parser.add_argument("--finetune-lr-mult", type=float, default=0.3)
    parser.add_argument("--fixed-step", action="store_true", help="constant eps instead of the line search")
    parser.add_argument("--no-rollback", action="store_true")
    parser.add_argument("--rollback-tolerance", type=float, default=RefineConfig.rollback_tolerance,
                        help="points (RefineConfig's default unless given)")
    parser.add_argument("--inner-mult", type=float, default=0.25)
    parser.add_argument("--stage-mult", type=float, default=0.5)
    parser.add_argument("--groups", default=",".join(GROUPS), help="width groups that grow (comma-separated)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="out/bench_refine", help="folder for the table, the figure and the runs")
    args = parser.parse_args()

    torch.set_num_threads(1)
    device = resolve_device(args.device)
    protocol = get_protocol(args.protocol) if args.protocol else default_protocol(args.dataset)
    config = RefineConfig(args.arch, args.dataset, rounds=args.rounds, protocol=protocol,
                          start_epochs=args.start_epochs, finetune_epochs=args.finetune_epochs,
                          finetune_lr_mult=args.finetune_lr_mult, line_search=not args.fixed_step,
                          rollback_tolerance=None if args.no_rollback else args.rollback_tolerance, inner_mult=args.inner_mult,
                          stage_mult=args.stage_mult, groups=tuple(g for g in args.groups.split(",") if g))
    data = load_dataset(args.dataset, split_seed=protocol.split_seed)
    t0 = time.perf_counter()
    comp = compare_budgets(config, args.budgets, methods=tuple(args.methods.split(",")), seeds=range(args.seeds),
                           data=data, device=device)
    wall = time.perf_counter() - t0
    files = write_budget_comparison(comp, args.out)  # first: the printing below cannot lose the runs
    n_train = len(data.train) if config.full_train_split or protocol.train_samples is None else protocol.train_samples
    print(f"arch {comp.arch} on {comp.dataset}; protocol {protocol.name} (network and optimiser: C={protocol.channels}, "
          f"N={protocol.cells_per_stage}, {protocol.optimizer} lr {protocol.lr} {protocol.schedule}, batch "
          f"{protocol.batch_size}); trained on {n_train} examples; device {describe_device(device)}")
    print(f"start epochs {config.round0_epochs}, {config.rounds} rounds x {config.finetune_epochs} fine-tune epoch(s) "
          f"at {config.finetune_lr_mult:g} x lr, step {'line search' if config.line_search else f'eps {config.eps}'}, "
          f"rollback {'off' if config.rollback_tolerance is None else f'at {config.rollback_tolerance:g} point'}; "
          f"scratch baselines train {config.total_epochs} epochs at the protocol's lr; seeds 0..{args.seeds - 1}; "
          f"wall {wall:.0f} s\n")
    print("Final networks per budget and method, mean (std) over seeds; epochs: training epochs of the final network's "
          "lineage (a retried round trains again); rolled_back: rounds undone over all seeds:")
    print(budget_table_text(comp))
    check_targets(comp)

    print("\nSplitting values (statistics + eigenpairs + selection + line search + split) of a round, in epochs of "
          "that round's fine-tuning (same run, so the machine's load cancels):")
    for method in ("s3d", "s2d"):
        ratios = [r.values_per_epoch for r in comp.runs if r.method == method and r.values_per_epoch is not None]
        if ratios:
            print(f"  {method}: mean {np.mean(ratios):.2f} epochs per round over {len(ratios)} runs (runs' means "
                  f"from {min(ratios):.2f} to {max(ratios):.2f})")
    print(f"\nwrote {files.table_txt}, {files.table_csv}, {files.plot}, {files.runs_csv}, {files.results_json}")


if __name__ == "__main__":
    main()
