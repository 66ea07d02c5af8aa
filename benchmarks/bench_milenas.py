"""MiLeNAS vs first-order DARTS on digits: oracle accuracy of the derived cell, search time, collapse rate.

For each seed, both methods search the NB201 supernet with the paper's optimiser settings (only the supernet size,
batch and epochs are set here, to fit a CPU), derive the argmax cell, and score it with the training oracle
(protocol ``digits-fast``: valid accuracy = signal, test accuracy = report, percent). As a reference, one uniformly
random cell per seed is scored by the same oracle. Prints one row per run and a per-method summary (markdown).

    OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python benchmarks/bench_milenas.py --seeds 0 1 2 --epochs 50 \\
        --channels 8 --cells 1 --batch-size 32 --out /tmp/milenas_bench
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import torch

from lso.nets.protocol import get_protocol
from lso.nets.training_oracle import TrainingOracle
from lso.search.milenas import VARIANTS, MilenasConfig, parameter_free_edges, run_milenas, summarise
from lso.space import all_cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--cells", type=int, default=1, help="supernet cells per stage")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--protocol", default="digits-fast", help="training-oracle protocol scoring the cells")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="folder for the per-run RESULT.json files")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    protocol = get_protocol(args.protocol)
    oracle = TrainingOracle(protocol, device="cpu")
    data = oracle.data
    print(f"oracle: {protocol.name} ({protocol.describe()})")
    print(f"search: C={args.channels}, N={args.cells}, batch {args.batch_size}, {args.epochs} epochs, "
          f"train split {len(data.train)} halved, torch threads {torch.get_num_threads()}\n")
    print("| method | seed | derived cell | param-free edges | valid % | test % | search s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    results = {m: [] for m in VARIANTS}
    start = time.perf_counter()
    for seed in args.seeds:
        for method in VARIANTS:
            config = MilenasConfig(dataset=protocol.dataset, method=method, epochs=args.epochs, seed=seed,
                                   channels=args.channels, cells_per_stage=args.cells, batch_size=args.batch_size)
            r = run_milenas(config, oracle, data=data, device="cpu")
            results[method].append(r)
            if args.out is not None:
                r.save(args.out / f"{method}_seed{seed}.json")
            ev = r.evaluation
            print(f"| {method} | {seed} | {r.cell} | {r.parameter_free_edges} | {ev.signal:.2f} | {ev.report:.2f} | "
                  f"{r.search_seconds:.1f} |", flush=True)
        cell = random.Random(seed).choice(all_cells())
        ev = oracle.evaluate(cell)
        print(f"| random cell | {seed} | {cell} | {parameter_free_edges(cell)} | {ev.signal:.2f} | {ev.report:.2f} | 0 |",
              flush=True)

    print("\n| method | runs | mean valid % | mean test % | mean search s | collapsed (all param-free) | "
          "mean param-free edges | skip_connect share |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for method, runs in results.items():
        s = summarise(runs)
        skips = sum(op == "skip_connect" for r in runs for op in r.cell.ops) / (6 * len(runs))
        print(f"| {method} | {s.runs} | {s.signal_mean:.2f} | {s.report_mean:.2f} | {s.search_seconds_mean:.1f} | "
              f"{round(s.collapse_rate * s.runs)}/{s.runs} | {s.parameter_free_edges_mean:.2f} | {skips:.2f} |")
    drift = {m: [max(abs(a - b) for ra, rb in zip(r.alpha_history[-1], r.alpha_history[0]) for a, b in zip(ra, rb))
                 for r in runs] for m, runs in results.items()}
    print("\nlargest |alpha_end - alpha_start| per run:", {m: [round(d, 3) for d in v] for m, v in drift.items()})
    changes = {m: [sum(a != b for a, b in zip(r.cell_history, r.cell_history[1:])) for r in runs]
               for m, runs in results.items()}
    print("derived-cell changes over the epochs per run:", changes)
    print(f"total wall time {time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
