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
Issue 16's variants: ``crlso-noprior`` (random initial cells, no batch separation: the defaults before issue 16),
``crlso-ens`` (5 bootstrapped ICNNs, UCB acquisition), ``bananas-params`` (BANANAS with the same params-picked
initial set as crlso: the like-for-like control for the prior).

    # issue 16, held-out (seeds 60-79, three unsupervised G-VAE runs; the prior's cost is printed at the end):
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_search.py --seeds 20 --first-seed 60 --horizon 200 \
        --budgets 50,100,150 --run out/runs/u0 --run out/runs/u1 --run out/runs/u2 \
        --methods crlso,crlso-noprior,bananas,bananas-params,rea,ls,random --out out/search16
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
from lso.search.bananas import BananasConfig, run_bananas
from lso.search.gradient import CRLSOConfig, run_crlso
from lso.search.summary import summarise_method
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


@dataclass(frozen=True)
class NoPrior(CRLSOConfig):
    """CR-LSO as before issue 16: random initial cells, batch by surrogate rank (no separation)."""

    prior: str = "none"
    separation: float = 0.0


@dataclass(frozen=True)
class Ensemble(CRLSOConfig):
    """CR-LSO with 5 bootstrapped ICNN surrogates and the UCB acquisition (beta 1)."""

    ensemble: int = 5
    acquisition: str = "ucb"


@dataclass(frozen=True)
class BananasParams(BananasConfig):
    """BANANAS whose initial cells are the best of 100 random ones by parameter count (as crlso's)."""

    prior: str = "params"
    initial: int = 20


def registry():
    """The default methods plus the CR-LSO ablations and issue 16's variants."""
    reg = default_registry()
    for name, config in (("crlso-latent-only", LatentOnly), ("crlso-neighbours-only", NeighboursOnly),
                         ("crlso-noprior", NoPrior), ("crlso-ens", Ensemble)):
        reg = reg.with_method(SearchMethod(name=name, config_type=config, runner=run_crlso, needs_run=True,
                                           description=config.__doc__.strip()))
    return reg.with_method(SearchMethod(name="bananas-params", config_type=BananasParams, runner=run_bananas,
                                        description=BananasParams.__doc__.strip()))


def pooled(comparison, method: str) -> str:
    """One markdown row: ``method`` over every model and seed (``method@RUN`` rows pooled)."""
    results = [r for r in comparison.results if r.method.split("@")[0] == method]
    s = summarise_method(f"{method} (pooled, {len(results)} runs)", results, budgets=comparison.config.budgets,
                         target=comparison.config.target, optimum=comparison.optimum,
                         report_info=comparison.report_info)
    cells = " | ".join(comparison.fmt(v) for v in s.report_at)
    horizon = comparison.config.horizon

    def queries(q: float) -> str:
        return f"> {horizon}" if q == float("inf") else f"{q:g}"

    return (f"| {s.method} | {cells} | {queries(s.queries_to_optimum)} ({s.found_optimum}/{len(results)}) | "
            f"{queries(s.queries_to_target)} ({s.reached_target}/{len(results)}) |")


def prior_cost(seed: int, pool: int = 100) -> str:
    """Seconds to score ``pool`` random cells with each prior (what the prior adds to a search's overhead)."""
    import random

    from lso.search.ledger import QueryLedger
    from lso.search.moves import UnseenSampler
    from lso.search.priors import pick_initial

    class _NoOracle:  # the prior queries nothing; a ledger only needs an oracle to exist
        pass

    rows = []
    for prior in ("params", "synflow"):
        ledger = QueryLedger(_NoOracle(), budget=1)  # type: ignore[arg-type]
        pick = pick_initial(ledger, UnseenSampler(random.Random(seed)), prior, wanted=20, pool=pool, seed=seed)
        rows.append(f"| {prior} | {pick.pool} | {pick.seconds:.3f} |")
    return "\n".join(["| prior | cells scored | seconds |", "| --- | ---: | ---: |", *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first..first+seeds-1 (held-out sets)")
    parser.add_argument("--methods", default="random,rea,ls")
    parser.add_argument("--budgets", default="50,100,150,300")
    parser.add_argument("--horizon", type=int, default=500, help="queries per run (for queries-to-optimum)")
    parser.add_argument("--tables", type=Path, default=NB201)
    parser.add_argument("--out", type=Path, default=Path("out/search"))
    parser.add_argument("--run", type=Path, action="append", default=None,
                        help="G-VAE run for crlso/surf (repeat it: latent methods run on each; default out/runs/u0)")
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
        run_dir = args.run or [Path("out/runs/u0")]
        for k, path in enumerate(run_dir):
            if not (path / "metrics.json").exists():
                config = TrainConfig(epochs=args.run_epochs, labels=0, pseudo_labels=False, seed=k)
                with progress_bar("train", "epoch") as reporter:
                    train_run(args.tables / "nb201_cifar10.csv", "cifar10_valid", config, path, reporter=reporter)

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
        latent = [m for m in methods if methods_registry[m].needs_run]
        if latent and len(run_dir) > 1:
            print("\n| method | " + " | ".join(f"{report} @{b}" for b in budgets) + " | queries to optimum | "
                  f"queries to {report} >= {target} |")
            print("| --- |" + " ---: |" * (len(budgets) + 2))
            for m in latent:
                print(pooled(comparison, m))
        print()

    if not args.overhead:
        return
    # Search overhead: everything but the oracle, for 150 queries (table lookups are microseconds anyway).
    cifar10 = tables.get("nb201_cifar10.csv") or BenchmarkTable.load(args.tables / "nb201_cifar10.csv")
    oracle = TableOracle(cifar10, "cifar10_valid", "cifar10_test")
    # The ratio to REA's overhead measured in the same run is the figure to quote (the machine is shared and noisy).
    print("## search overhead for 150 queries (CIFAR-10 table; median / max over seeds; first --run)\n")
    print("| method | overhead s (median) | overhead s (max) | wall s incl. oracle (median) | median / REA's |")
    print("| --- | ---: | ---: | ---: | ---: |")
    medians = {}
    for method in sorted(methods, key=lambda m: m != "rea"):  # REA first: the others are quoted against it
        runs = [run_search(method, oracle, budget=150, seed=s, run_dir=run_dir[0] if methods_registry[method].needs_run
                           else None, registry=methods_registry) for s in seeds]
        over = [r.overhead_seconds for r in runs]
        medians[method] = float(np.median(over))
        ratio = f"{medians[method] / medians['rea']:.0f}x" if "rea" in medians and medians["rea"] > 0 else "-"
        print(f"| {method} | {medians[method]:.4f} | {max(over):.4f} | {np.median([r.wall_seconds for r in runs]):.4f} "
              f"| {ratio} |")
    print("\n## cost of the zero-cost priors (inside the overhead above when a method uses one)\n")
    print(prior_cost(seeds[0]))


if __name__ == "__main__":
    main()
