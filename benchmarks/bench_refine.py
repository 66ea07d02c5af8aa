"""Issue 6 targets on the NB201 network: S3D vs S2D vs random splitting vs training the final width from scratch
(test accuracy at equal final parameter count, seeds 0..N-1), and the cost of the splitting values (fast route)
against one training epoch.

Growth acts on all five width groups of the NB201 network (lso.growth.nb201: the three stage widths and the two
reduction blocks' inner widths; ``--groups`` picks some): the start network has the stage widths at ``--stage-mult``
and the inner widths at ``--inner-mult`` of NB201's, and every method grows to the same ``--budget-params``
(default: NB201's own size).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_refine.py                       # digits-fast, 3 seeds
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_refine.py --train-samples 898 --epochs 6 --out out/bench_refine
    .venv/bin/python benchmarks/bench_refine.py --device cuda
"""

from __future__ import annotations

import argparse
import time

import torch

from lso.device import describe_device, resolve_device
from lso.growth.nb201 import GROUPS, network_with_widths
from lso.growth.refine import RefineConfig, compare_refine
from lso.nets.loop import train_epochs
from lso.nets.protocol import default_protocol, get_protocol
from lso.report.refine import write_refine_comparison

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def epoch_seconds(result, data, protocol, device: torch.device, repeats: int = 3) -> float:
    """Median seconds of one training epoch of the final grown network (same widths) on the protocol's train set."""
    macro = data.macro(protocol.channels, protocol.cells_per_stage)
    model = network_with_widths(result.config.arch, macro, result.widths[-1]).to(device)
    train = (data.train if protocol.train_samples is None else data.train.head(protocol.train_samples)).to(device)
    times = []
    for k in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        train_epochs(model, train, protocol, 1, torch.Generator().manual_seed(k))
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default=ARCH)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--protocol", default=None, help="registered protocol (default: the dataset's first)")
    parser.add_argument("--train-samples", type=int, default=None, help="override the protocol's train subset")
    parser.add_argument("--epochs", type=int, default=None, help="override the protocol's round-0 epochs")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--finetune-epochs", type=int, default=1)
    parser.add_argument("--inner-mult", type=float, default=0.25)
    parser.add_argument("--stage-mult", type=float, default=0.5)
    parser.add_argument("--groups", default=",".join(GROUPS), help="width groups that grow (comma-separated)")
    parser.add_argument("--steps", type=int, default=8, help="block products per group (fast route)")
    parser.add_argument("--value-samples", type=int, default=128, help="training images for the splitting values")
    parser.add_argument("--budget-params", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="folder for rounds.csv, final.csv, the plot, results.json")
    args = parser.parse_args()

    torch.set_num_threads(1)
    device = resolve_device(args.device)
    protocol = get_protocol(args.protocol) if args.protocol else default_protocol(args.dataset)
    if args.train_samples is not None or args.epochs is not None:
        protocol = protocol.with_(name=protocol.name + "-bench",
                                  train_samples=args.train_samples or protocol.train_samples,
                                  epochs=args.epochs or protocol.epochs)
    t0 = time.perf_counter()
    config = RefineConfig(args.arch, args.dataset, rounds=args.rounds, budget_params=args.budget_params,
                          protocol=protocol, finetune_epochs=args.finetune_epochs, inner_mult=args.inner_mult,
                          stage_mult=args.stage_mult, groups=tuple(g for g in args.groups.split(",") if g),
                          steps=args.steps, value_samples=args.value_samples)
    comp = compare_refine(config, seeds=range(args.seeds), device=device)
    wall = time.perf_counter() - t0
    print(f"arch {comp.arch} on {comp.dataset} ({protocol.describe()}), device {describe_device(device)}")
    some = next(iter(comp.results.values()))
    print(f"start {some.rounds[0].params} params, widths {some.start_widths}; budget "
          f"{comp.budget_params} params; {args.rounds} rounds x {args.finetune_epochs} fine-tune epoch(s); "
          f"wall {wall:.1f} s\n")
    print("Final round, mean (std) over seeds:")
    print(comp.final_frame().to_string(index=False, float_format=lambda v: f"{v:.2f}"))

    from lso.data.datasets import load_dataset

    data = load_dataset(args.dataset, split_seed=protocol.split_seed)
    print("\nSplitting values (fast route: statistics + eigenpairs + selection + split) per round vs one epoch:")
    for method in ("s3d", "s2d"):
        res = [r for (m, _), r in comp.results.items() if m == method]
        values = [v for r in res for v in r.seconds_values[1:]]
        epoch = epoch_seconds(res[0], data, protocol, device)
        mean_v = sum(values) / len(values)
        print(f"  {method}: {mean_v:.3f} s per round (max {max(values):.3f}) vs one epoch {epoch:.3f} s "
              f"({len((data.train if protocol.train_samples is None else data.train.head(protocol.train_samples)))} "
              f"images) -> ratio {mean_v / epoch:.2f}")
    if args.out:
        files = write_refine_comparison(comp, args.out)
        print(f"\nwrote {files.rounds_csv}, {files.final_csv}, {files.plot}, {files.results_json}")


if __name__ == "__main__":
    main()
