"""Measure a training protocol as a benchmark: seconds per cell, accuracy spread, seed-to-seed rank agreement.

Trains the first ``--cells`` unique cells (official index order, a seeded shuffle of the space) with two seeds,
through the real builder (``--workers`` spawned processes, one torch thread each), and prints:
median seconds per run, accuracy spread (best / top-1% / median / worst of the seed-mean validation accuracy),
Spearman rank correlation between the two seeds' validation (and test) accuracies, and how many cells tie at
the top. Optionally times one worker against two on the same cells (``--speedup``).

    .venv/bin/python benchmarks/bench_oracle.py --protocol digits-fast --cells 40 --workers 2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from lso.jobs import progress_bar
from lso.nets.builder import BuildConfig, build_benchmark
from lso.nets.protocol import get_protocol


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho: Pearson correlation of average ranks (ties share their mean rank)."""
    import pandas as pd

    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    return float(np.corrcoef(ra, rb)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocol", default="digits-fast")
    parser.add_argument("--cells", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs=2, default=(0, 1))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--set", nargs="*", default=[], help="protocol overrides, e.g. epochs=4 train_samples=400")
    parser.add_argument("--speedup", type=int, default=0, help="also time 1 vs 2 workers on this many runs")
    args = parser.parse_args()

    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    protocol = get_protocol(args.protocol).with_(seeds=tuple(args.seeds), **overrides)
    print(f"protocol {protocol.name}: {protocol.describe()}")
    with tempfile.TemporaryDirectory() as tmp:
        with progress_bar(f"training {protocol.name}", "run") as reporter:
            report = build_benchmark(
                BuildConfig(protocol, Path(tmp) / "t.parquet", workers=args.workers, limit=args.cells),
                reporter=reporter)
        from lso.bench import BenchmarkTable

        table = BenchmarkTable.load(report.table)
        frame = table.frame.drop_duplicates("unique_id")
        ds = protocol.dataset
        s0, s1 = args.seeds
        valid = frame[f"{ds}_valid"].to_numpy()
        secs = frame["train_seconds"].to_numpy() / 2
        print(f"cells: {len(frame)} unique, {report.runs_trained} runs in {report.wall_time_s:.1f}s with {args.workers} workers")
        print(f"seconds per run (1 thread): median {report.median_run_s:.2f}, mean {secs.mean():.2f}, max {secs.max():.2f}")
        print(
            "seed-mean valid acc: best {:.2f}, top-1% {:.2f}, top-10% {:.2f}, median {:.2f}, worst {:.2f}".format(
                valid.max(), np.percentile(valid, 99), np.percentile(valid, 90), np.median(valid), valid.min()
            )
        )
        for split in ("valid", "test"):
            a, b = frame[f"{ds}_{split}_seed{s0}"].to_numpy(), frame[f"{ds}_{split}_seed{s1}"].to_numpy()
            print(f"Spearman seed {s0} vs {s1} ({split}): {spearman(a, b):.3f}; mean |diff| {np.abs(a - b).mean():.2f} pts")
        print(f"cells tied at the best seed-mean valid acc: {(valid == valid.max()).sum()}; within 0.5 pts of it: {(valid >= valid.max() - 0.5).sum()}")
        live = frame[frame[f"{ds}_valid"] > 20]
        if len(live) > 2:
            a, b = live[f"{ds}_valid_seed{s0}"].to_numpy(), live[f"{ds}_valid_seed{s1}"].to_numpy()
            print(f"Spearman (valid) without the disconnected cells (acc > 20%, {len(live)} cells): {spearman(a, b):.3f}")
    if args.speedup:
        one = protocol.with_(seeds=(s0,))
        times = {}
        for w in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                build_benchmark(BuildConfig(one, Path(tmp) / "t.parquet", workers=w, limit=args.speedup))
                times[w] = time.perf_counter() - t
        print(f"{args.speedup} runs: 1 worker {times[1]:.1f}s, 2 workers {times[2]:.1f}s, speed-up {times[1] / times[2]:.2f}x")


if __name__ == "__main__":
    main()
