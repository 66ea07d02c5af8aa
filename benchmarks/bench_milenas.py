"""MiLeNAS vs first-order DARTS: oracle accuracy of the derived cell, search time, collapse rate.

For each seed, both methods search the supernet of ``--space`` (NB201's, or DARTS's) with the paper's optimiser
settings (only the supernet size, batch, epochs and train examples are set here, to fit a CPU), derive the cell, and
score it with the training oracle (``--protocol``: valid accuracy = signal, test accuracy = report, percent). As a
reference, one uniformly random cell per seed is scored by the same oracle. With ``--pool TABLE`` (a sampled
benchmark trained with the same protocol, e.g. ``lso bench build --space darts --sample 1000 --protocol
mnist1d-darts``), each derived cell's test is placed among the pool's. Prints one row per run and a per-method
summary (markdown).

    OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python benchmarks/bench_milenas.py --seeds 0 1 2 --epochs 50 \\
        --channels 8 --cells 1 --batch-size 32 --out /tmp/milenas_bench
    OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python benchmarks/bench_milenas.py --space darts --protocol mnist1d-darts \\
        --seeds 0 1 2 --epochs 30 --channels 8 --cells 1 --batch-size 32 --pool out/spaces/darts.parquet
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
import torch

from lso.bench.space_table import SpaceTable
from lso.nets.protocol import get_protocol
from lso.nets.training_oracle import TrainingOracle
from lso.search.milenas import VARIANTS, MilenasConfig, edge_ops, parameter_free_edges, run_milenas, summarise
from lso.space import all_cells
from lso.spaces import get_space


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
    parser.add_argument("--space", default="nb201", choices=["nb201", "darts"])
    parser.add_argument("--train-samples", type=int, default=None,
                        help="train examples the search halves (default: the protocol's)")
    parser.add_argument("--cache", type=Path, default=None, help="run cache of the oracle (JSON lines)")
    parser.add_argument("--pool", type=Path, default=None, help="space table of the same protocol to rank against")
    parser.add_argument("--alpha-lr", type=float, default=MilenasConfig.alpha_lr,
                        help="architecture learning rate (the papers' 3e-4 by default)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    protocol = get_protocol(args.protocol)
    space = get_space(args.space)
    oracle = TrainingOracle(protocol, cache=args.cache, device="cpu", space=space.name)
    data = oracle.data
    train_samples = args.train_samples or protocol.train_samples
    print(f"oracle: {protocol.name} ({protocol.describe()}), space {space.name}")
    print(f"search: C={args.channels}, N={args.cells}, batch {args.batch_size}, {args.epochs} epochs, alpha lr {args.alpha_lr}, "
          f"train split {train_samples or len(data.train)} halved, torch threads {torch.get_num_threads()}\n")
    print("| method | seed | derived cell | param-free edges | valid % | test % | search s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    results = {m: [] for m in VARIANTS}
    randoms: list[float] = []
    start = time.perf_counter()
    for seed in args.seeds:
        for method in VARIANTS:
            config = MilenasConfig(dataset=protocol.dataset, method=method, epochs=args.epochs, seed=seed,
                                   channels=args.channels, cells_per_stage=args.cells, batch_size=args.batch_size,
                                   train_samples=train_samples, space=space.name, alpha_lr=args.alpha_lr)
            r = run_milenas(config, oracle, data=data, device="cpu")
            results[method].append(r)
            if args.out is not None:
                r.save(args.out / f"{method}_seed{seed}.json")
            ev = r.evaluation
            print(f"| {method} | {seed} | {r.cell} | {r.parameter_free_edges} | {ev.signal:.2f} | {ev.report:.2f} | "
                  f"{r.search_seconds:.1f} |", flush=True)
        if space.name == "nb201":
            cell = random.Random(seed).choice(all_cells())
        else:
            cell = space.sample(1, np.random.default_rng(seed))[0]
        ev = oracle.evaluate(cell)
        randoms.append(ev.report)
        print(f"| random cell | {seed} | {cell} | {parameter_free_edges(cell)} | {ev.signal:.2f} | {ev.report:.2f} | 0 |",
              flush=True)

    print("\n| method | runs | mean valid % | mean test % | mean search s | collapsed (all param-free) | "
          "mean param-free edges | skip_connect share |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for method, runs in results.items():
        s = summarise(runs)
        ops = [op for r in runs for op in edge_ops(r.cell)]
        skips = sum(op == "skip_connect" for op in ops) / len(ops)
        print(f"| {method} | {s.runs} | {s.signal_mean:.2f} | {s.report_mean:.2f} | {s.search_seconds_mean:.1f} | "
              f"{round(s.collapse_rate * s.runs)}/{s.runs} | {s.parameter_free_edges_mean:.2f} | {skips:.2f} |")
    drift = {m: [max(abs(a - b) for ra, rb in zip(r.alpha_history[-1], r.alpha_history[0]) for a, b in zip(ra, rb))
                 for r in runs] for m, runs in results.items()}
    print("\nlargest |alpha_end - alpha_start| per run:", {m: [round(d, 3) for d in v] for m, v in drift.items()})
    forms = {m: [[space.canonical(c) for c in r.cell_history] for r in runs] for m, runs in results.items()}
    changes = {m: [sum(a != b for a, b in zip(h, h[1:])) for h in hs] for m, hs in forms.items()}
    print("derived-cell changes (up to isomorphism) over the epochs per run:", changes)
    if args.pool is not None and not args.pool.exists():
        print(f"\npool {args.pool} not found: no percentiles")
    elif args.pool is not None:  # read last: the pool may be built while the searches run
        table = SpaceTable.load(args.pool, space)
        pool = table.frame[protocol.dataset + "_test"].to_numpy()
        print(f"\npool {args.pool}: {len(pool)} cells, test median {np.median(pool):.2f}, best {pool.max():.2f}; "
              "percentile = share of pool cells with a lower test, per seed")
        rows = {**{m: [r.evaluation.report for r in runs] for m, runs in results.items()}, "random cell": randoms}
        for name, reports in rows.items():
            ranks = [100 * float(np.mean(pool < x)) for x in reports]
            print(f"{name}: percentiles {', '.join(f'{p:.1f}' for p in ranks)}; mean {np.mean(ranks):.1f}")
    print(f"total wall time {time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
