"""Search methods on the embedded default table (digits_valid -> digits_test), held-out seeds 60-79, 150 queries:
crlso (its defaults: the params prior), crlso without the prior, REA, BANANAS and random; the median test of the
best-by-valid cell at 50/100/150 queries and the queries to the table's best-by-valid cell.

    .venv/bin/lso train --bench benchmarks_data/default.parquet --labels 0 --seed 0 --epochs 30 --out out/runs/d0
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_default_search.py out/runs/d0
"""
import sys
import time

import numpy as np

from lso.bench import BenchmarkTable
from lso.search import TableOracle, run_search
from lso.search.gradient import CRLSOConfig
table = BenchmarkTable.load("benchmarks_data/default.parquet")
oracle = TableOracle(table, "digits_valid", "digits_test")
opt = oracle.optimum()
run = sys.argv[1]
seeds = range(60, 80)
variants = {"crlso": ("crlso", None), "crlso-noprior": ("crlso", CRLSOConfig(prior="none", separation=0.0)),
            "rea": ("rea", None), "bananas": ("bananas", None), "random": ("random", None)}
print(f"optimum by valid: {opt.signal:.2f} -> test {opt.report:.2f}")
for name, (method, config) in variants.items():
    at = {b: [] for b in (50, 100, 150)}; hit = []; t = time.perf_counter()
    for s in seeds:
        r = run_search(method, oracle, budget=150, seed=s, config=config, run_dir=run if method == "crlso" else None)
        curve = r.best_so_far()
        for b in at:
            at[b].append(curve.report[min(b, len(curve)) - 1])
        reached = np.nonzero(curve.signal >= opt.signal - 1e-9)[0]
        hit.append(reached[0] + 1 if len(reached) else 151)
    print(f"{name:14s} " + "  ".join(f"@{b} {np.median(v):.2f}" for b, v in at.items())
          + f"  optimum median {np.median(hit):.0f} ({sum(h <= 150 for h in hit)}/20)  {time.perf_counter() - t:.0f}s", flush=True)
