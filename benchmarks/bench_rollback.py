"""Does a refine round ever silently hurt? S3D on digits (``--dataset``: any registered dataset, e.g. mnist1d) with the
defaults, rollback on and off (issue 19).

For each cell and seed: validation accuracy after every round, the rounds that were retried with half the step or
rolled back, and the worst drop of validation accuracy from one round to the next. With rollback no round may drop
by more than the tolerance (``--tolerances``, points); without it the drops are what a user used to get silently.
The seed noise printed beside is the std over seeds of the start network's validation accuracy (mean over cells).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_rollback.py            # 3 cells x 5 seeds, s3d, 2 rounds
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_rollback.py --dataset mnist1d
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from lso.data.datasets import load_dataset
from lso.growth.refine import RefineConfig, refine
from lso.nets.protocol import default_protocol

CELLS = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_1x1~2|",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13, 14, 15])
    parser.add_argument("--method", default="s3d")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dataset", default="digits", help="registered dataset (images or 1-D signals)")
    parser.add_argument("--tolerances", default="none,1,0.5", help="comma-separated rollback tolerances (points; "
                        "none: rollback off)")
    args = parser.parse_args()
    tolerances = [None if t.strip().lower() == "none" else float(t) for t in args.tolerances.split(",")]
    torch.set_num_threads(1)
    data = load_dataset(args.dataset, split_seed=default_protocol(args.dataset).split_seed)
    for tolerance in tolerances:
        drops, finals, rolled, start_spread = [], [], 0, []
        for arch in CELLS:
            starts = []
            for seed in args.seeds:
                config = RefineConfig(arch, args.dataset, args.method, rounds=args.rounds, seed=seed,
                                      rollback_tolerance=tolerance)
                res = refine(config, data=data, device="cpu")
                valid = [r.valid_accuracy for r in res.rounds]
                drops.append(max(a - b for a, b in zip(valid[:-1], valid[1:])))
                finals.append(res.final.test_accuracy)
                rolled += sum(r.rolled_back for r in res.rounds)
                starts.append(valid[0])
            start_spread.append(float(np.std(starts, ddof=1)))
        runs = len(CELLS) * len(args.seeds)
        label = "rollback off" if tolerance is None else f"rollback at {tolerance:g} point"
        print(f"{label:>22}: {runs} runs, worst round-to-round drop of valid accuracy {max(drops):.1f} points "
              f"(median {np.median(drops):.1f}), rounds dropping > 1 point: {sum(d > 1.0 for d in drops)} runs; "
              f"rounds rolled back {rolled}; final test accuracy mean {np.mean(finals):.2f} "
              f"(min {min(finals):.1f}); seed noise (std over seeds of the start network's valid accuracy, "
              f"mean over cells) {np.mean(start_spread):.2f}")


if __name__ == "__main__":
    main()
