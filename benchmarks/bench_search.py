"""Search methods on the real NAS-Bench-201 tables: the figures of issues 4 and 12.

1. CIFAR-10, standard protocol: search on cifar10_valid, report cifar10_test of the best-by-validation cell.
   Median over seeds at 50/100/150/300 queries, queries to test >= 94.3 and to the global optimum
   (valid 91.61 -> test 94.37), and where each method's queries came from (the source mix). Runs go to --horizon
   queries so slow methods can still reach the optimum.
2. CIFAR-100 and ImageNet16-120, ORACLE PROTOCOL (only 200-epoch test accuracies exist here: the search sees test).
3. Search overhead (wall time minus time inside the oracle) for 150 queries, per method.

    .venv/bin/python benchmarks/bench_search.py            # 20 seeds, writes out/search/<protocol>/
    .venv/bin/python benchmarks/bench_search.py --seeds 20 --first-seed 40 --methods crlso,crlso-latent-only,\
        crlso-neighbours-only,rea --horizon 300            # the held-out ablation of issue 12
        # latent methods: one unsupervised G-VAE run (--labels 0, so it serves every dataset and charges no
        # queries) is trained once into --run (default out/runs/u0) and reused by every seed; the search seed
        # draws the initial cells and the noise.

Ablation variants of CR-LSO (registered here only): ``crlso-latent-only`` proposes only cells decoded along the
ascent paths (``neighbours=False``), ``crlso-neighbours-only`` only the surrogate-ranked one-edge neighbours of the
best cells (``latent=False``); ``crlso`` does both. Both fall back the same way when they find nothing new.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lso.bench import BenchmarkTable
from lso.search import SearchMethod, TableOracle, default_registry, run_search
from lso.jobs import progress_bar
from lso.report.search import write_comparison
from lso.search.compare import CompareConfig, compare_methods
from lso.search.gradient import CRLSOConfig, run_crlso
from lso.train import TrainConfig, train_run

NB201 = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "nb201"

PROTOCOLS = (
    # (name, table file, signal, report, target)
    ("cifar10_valid_to_test", "nb201_cifar10.csv", "cifar10_valid", "cifar10_test", 94.3),
    ("cifar100_oracle_protocol", "nb201_test200.csv", "cifar100_test", "cifar100_test", 73.4),
    ("imagenet16_oracle_protocol", "nb201_test200.csv", "imagenet16_test", "imagenet16_test", 47.0),
)


@dataclass(frozen=True)
class LatentOnly(CRLSOConfig):
    """CR-LSO without the neighbour proposals."""

    neighbours: bool = False


@dataclass(frozen=True)
class NeighboursOnly(CRLSOConfig):
    """CR-LSO without the latent ascent: surrogate-ranked one-edge neighbours of the best cells."""

    latent: bool = False


def registry():
    """The default methods plus the two CR-LSO ablations."""
    reg = default_registry()
    for name, config in (("crlso-latent-only", LatentOnly), ("crlso-neighbours-only", NeighboursOnly)):
        reg = reg.with_method(SearchMethod(name=name, config_type=config, runner=run_crlso, needs_run=True,
                                           description=config.__doc__.strip()))
    return reg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first..first+seeds-1 (held-out sets)")
    parser.add_argument("--methods", default="random,rea,ls")
    parser.add_argument("--budgets", default="50,100,150,300")
    parser.add_argument("--horizon", type=int, default=500, help="queries per run (for queries-to-optimum)")
    parser.add_argument("--tables", type=Path, default=NB201)
    parser.add_argument("--out", type=Path, default=Path("out/search"))
    parser.add_argument("--run", type=Path, default=Path("out/runs/u0"), help="G-VAE run for crlso/surf")
    parser.add_argument("--run-epochs", type=int, default=15)
    parser.add_argument("--protocols", default=",".join(p[0] for p in PROTOCOLS))
    parser.add_argument("--overhead", action=argparse.BooleanOptionalAction, default=True,
                        help="also time 150-query runs per method (search overhead)")
    args = parser.parse_args()
    methods = tuple(m for m in args.methods.split(",") if m)
    budgets = tuple(int(b) for b in args.budgets.split(","))
    seeds = tuple(range(args.first_seed, args.first_seed + args.seeds))
    methods_registry = registry()
    run_dir = None
    if any(methods_registry[m].needs_run for m in methods):
        run_dir = args.run
        if not (run_dir / "metrics.json").exists():
            config = TrainConfig(epochs=args.run_epochs, labels=0, pseudo_labels=False, seed=0)
            with progress_bar("train", "epoch") as reporter:
                train_run(args.tables / "nb201_cifar10.csv", "cifar10_valid", config, run_dir, reporter=reporter)

    tables: dict[str, BenchmarkTable] = {}
    for name, file, signal, report, target in PROTOCOLS:
        if name not in args.protocols.split(","):
            continue
        table = tables.setdefault(file, BenchmarkTable.load(args.tables / file))
        config = CompareConfig(methods=methods, seeds=seeds, budgets=budgets, signal=signal, report=report,
                               target=target, horizon=args.horizon)
        start = time.perf_counter()
        comparison = compare_methods(table, config, run_dir=run_dir, registry=methods_registry)
        write_comparison(comparison, args.out / name)
        print(f"## {name} ({time.perf_counter() - start:.1f} s for {len(methods)} x {len(seeds)} runs of "
              f"{config.horizon} queries)\n")
        print(comparison.to_markdown())

    if not args.overhead:
        return
    # Search overhead: everything but the oracle, for 150 queries (table lookups are microseconds anyway).
    cifar10 = tables.get("nb201_cifar10.csv") or BenchmarkTable.load(args.tables / "nb201_cifar10.csv")
    oracle = TableOracle(cifar10, "cifar10_valid", "cifar10_test")
    print("## search overhead for 150 queries (CIFAR-10 table; median / max over seeds)\n")
    print("| method | overhead s (median) | overhead s (max) | wall s incl. oracle (median) |")
    print("| --- | ---: | ---: | ---: |")
    for method in methods:
        runs = [run_search(method, oracle, budget=150, seed=s, run_dir=run_dir if methods_registry[method].needs_run
                           else None, registry=methods_registry) for s in seeds]
        over = [r.overhead_seconds for r in runs]
        print(f"| {method} | {np.median(over):.4f} | {max(over):.4f} | {np.median([r.wall_seconds for r in runs]):.4f} |")


if __name__ == "__main__":
    main()
