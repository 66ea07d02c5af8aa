"""Search methods on the embedded default table (its own valid -> test metrics), held-out search seeds 60-79:
crlso (its defaults: the params prior) on each G-VAE run given, crlso without the prior, REA, BANANAS and random;
the median test of the best-by-valid cell at each budget and the queries to the table's best-by-valid cell.
CR-LSO is pooled over the runs (model x seed) and also printed per run, so the part that moves with the model shows.

    for s in 0 1 2; do .venv/bin/lso train --bench benchmarks_data/default.parquet --labels 0 --seed $s --epochs 30 \
        --out out/runs/v3u$s; done
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_default_search.py out/runs/v3u0 out/runs/v3u1 out/runs/v3u2
"""
import argparse
import time
from pathlib import Path

import numpy as np

from lso.bench import BenchmarkTable
from lso.search import TableOracle, run_search
from lso.search.gradient import CRLSOConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="G-VAE run directories for crlso")
    parser.add_argument("--table", type=Path, default=Path("benchmarks_data/default.parquet"))
    parser.add_argument("--first-seed", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budgets", default="50,100,150")
    parser.add_argument("--methods", default="crlso,crlso-noprior,rea,bananas,random")
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    horizon = max(budgets)
    table = BenchmarkTable.load(args.table)
    oracle = TableOracle(table, table.default_metric("valid"), table.default_metric("test"))
    opt = oracle.optimum()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    variants = {"crlso": ("crlso", None), "crlso-noprior": ("crlso", CRLSOConfig(prior="none", separation=0.0)),
                "rea": ("rea", None), "bananas": ("bananas", None), "random": ("random", None)}
    print(f"{args.table}: optimum by {oracle.signal_name} {opt.signal:.2f} -> {oracle.report_name} {opt.report:.2f}; "
          f"seeds {seeds.start}-{seeds.stop - 1}, {horizon} queries")
    for name in args.methods.split(","):
        method, config = variants[name]
        runs = args.runs if method == "crlso" else [None]
        pooled = {b: [] for b in budgets}
        pooled_hit: list[int] = []
        t = time.perf_counter()
        for run in runs:
            at = {b: [] for b in budgets}
            hit = []
            for s in seeds:
                r = run_search(method, oracle, budget=horizon, seed=s, config=config, run_dir=run)
                curve = r.best_so_far()
                for b in budgets:
                    at[b].append(curve.report[min(b, len(curve)) - 1])
                reached = np.nonzero(curve.signal >= opt.signal - 1e-9)[0]
                hit.append(int(reached[0]) + 1 if len(reached) else horizon + 1)
            if len(runs) > 1:
                _line(f"{name}@{run.name}", at, hit, horizon)
            for b in budgets:
                pooled[b] += at[b]
            pooled_hit += hit
        _line(name, pooled, pooled_hit, horizon, f"  {time.perf_counter() - t:.0f}s")


def _line(name: str, at: dict[int, list[float]], hit: list[int], horizon: int, extra: str = "") -> None:
    print(f"{name:18s} " + "  ".join(f"@{b} {np.median(v):.2f}" for b, v in at.items())
          + f"  optimum median {np.median(hit):.0f} ({sum(h <= horizon for h in hit)}/{len(hit)}){extra}", flush=True)


if __name__ == "__main__":
    main()
