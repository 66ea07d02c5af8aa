"""How the defaults of ``RefineConfig`` were chosen (issue 19): small experiments on digits (``--dataset``: any
registered dataset, e.g. mnist1d and its 1-D network), CPU, one thread.

1. ``start``: the starting network's valid accuracy after E epochs on the whole train split (seeds 0..4): where it
   plateaus is ``start_epochs``.
2. ``lr``: S3D with the fine-tuning after each split at ``finetune_lr_mult`` in {1, 0.3, 0.1} of the protocol's lr.
3. ``step``: S3D with the split's step by line search against the constant ``eps = 1e-2``.
4. ``cost``: S3D's splitting values per fine-tune epoch of the same round (so the machine's load cancels), with the
   line search's trial steps ``eps * 4^k`` for k in -2..3 and in -1..2 (twice each, alternating), and the steps
   each chose; the cell and budget of ``bench_refine.py``'s largest budget, seeds 0 and 1.

Rounds 2 and 3 run 3 cells x 5 seeds with rollback OFF (so a round that hurts shows), everything else at the
defaults, and print the final test accuracy (mean, std over the 15 runs), the worst and the median round-to-round drop
of valid accuracy, the runs with a drop > 1 point, and for ``step`` the chosen steps and predicted vs measured loss
decrease of the splits.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_refine_defaults.py start lr step cost
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_refine_defaults.py start --dataset mnist1d
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch

from lso.data.datasets import load_dataset
from lso.growth.nb201 import narrow_widths, network_with_widths
from lso.growth.refine import RefineConfig, refine
from lso.nets.loop import evaluate_split, train_epochs
from lso.nets.protocol import default_protocol

CELLS = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_1x1~2|",
)


def start_plateau(data, seeds, epochs_list) -> None:
    protocol = default_protocol(data.name)
    macro = data.macro(protocol.channels, protocol.cells_per_stage)
    print(f"start network {narrow_widths(macro, 0.25, 0.5)}, whole train split ({len(data.train)} examples), "
          f"{protocol.describe()}")
    for epochs in epochs_list:
        accs = []
        for cell in CELLS[:1]:
            for seed in seeds:
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(seed)
                    model = network_with_widths(cell, macro, narrow_widths(macro, 0.25, 0.5), data.spatial_dims)
                train_epochs(model, data.train, protocol, epochs, torch.Generator().manual_seed(seed))
                accs.append(evaluate_split(model, data.valid)[0])
        print(f"  {epochs:>3} epochs: valid {np.mean(accs):.2f} (std {np.std(accs, ddof=1):.2f}) over seeds {seeds}")


def variants(data, seeds, label: str, changes: dict[str, dict]) -> None:
    print(f"\n{label}: s3d, 3 rounds to NB201's size, rollback off, 3 cells x {len(seeds)} seeds")
    for name, change in changes.items():
        t0 = time.perf_counter()
        finals, drops, steps = [], [], []
        for cell in CELLS:
            for seed in seeds:
                config = dataclasses.replace(RefineConfig(cell, data.name, "s3d", rounds=3, seed=seed,
                                                          rollback_tolerance=None), **change)
                res = refine(config, data=data, device="cpu")
                valid = [r.valid_accuracy for r in res.rounds]
                drops.append(max(a - b for a, b in zip(valid[:-1], valid[1:])))
                finals.append(res.final.test_accuracy)
                steps += [r.eps for r in res.rounds[1:]]
        print(f"  {name:>22}: final test {np.mean(finals):.2f} (std {np.std(finals, ddof=1):.2f}), worst drop "
              f"{max(drops):.1f}, median drop {np.median(drops):.1f}, runs dropping > 1 point "
              f"{sum(d > 1.0 for d in drops)}/{len(drops)}; steps used: median {np.median(steps):.3g} "
              f"(min {min(steps):.3g}, max {max(steps):.3g}); {time.perf_counter() - t0:.0f} s", flush=True)


def values_cost(data, seeds) -> None:
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    for powers in ((-2, -1, 0, 1, 2, 3), (-1, 0, 1, 2)) * 2:
        ratios, steps, tests = [], [], []
        for seed in seeds[:2]:
            res = refine(RefineConfig(arch, data.name, "s3d", rounds=3, budget_params=None, seed=seed,
                                      line_search_powers=powers), data=data, device="cpu")
            for k in range(1, len(res.rounds)):
                if res.rounds[k].epochs:
                    ratios.append(res.seconds_values[k] / (res.seconds_train[k] / res.rounds[k].epochs))
                    steps.append(round(res.rounds[k].eps, 4))
            tests.append(round(res.final.test_accuracy, 2))
        print(f"powers {powers}: splitting values / fine-tune epoch, mean {np.mean(ratios):.2f} max {max(ratios):.2f}; "
              f"steps {steps}; final test {tests}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="+", choices=("start", "lr", "step", "cost"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--dataset", default="digits", help="registered dataset (images or 1-D signals)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_dataset(args.dataset, split_seed=default_protocol(args.dataset).split_seed)
    if "start" in args.parts:
        start_plateau(data, args.seeds, (3, 5, 10, 20, 30))
    if "lr" in args.parts:
        variants(data, args.seeds, "fine-tune lr", {f"finetune_lr_mult={m:g}": {"finetune_lr_mult": m}
                                                    for m in (1.0, 0.3, 0.1)})
    if "step" in args.parts:
        variants(data, args.seeds, "step", {"line search": {"line_search": True},
                                            "constant eps=1e-2": {"line_search": False}})
    if "cost" in args.parts:
        values_cost(data, args.seeds)


if __name__ == "__main__":
    main()
