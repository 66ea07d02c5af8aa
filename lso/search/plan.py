"""One search and the baselines it is compared with: same oracle, budget and seed, run one after another as one
job (the app's Search page), with one progress count across all runs and one Stop."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lso.bench import BenchmarkTable
from lso.errors import LsoError
from lso.jobs import RelayReporter, Reporter
from lso.oracle import Oracle
from lso.search.compare import CompareConfig, Comparison, compare_methods, default_target
from lso.search.oracle import TableOracle
from lso.search.registry import MethodRegistry, check_search, default_registry, run_search
from lso.search.result import SearchResult


@dataclass(frozen=True)
class SearchPlan:
    """What to run.

    Attributes:
        method: the registry name of the search under study.
        baselines: registry names run after it with the same budget and seed (``method`` itself is dropped).
        budget: most queries per run (the run's labels included for latent methods).
        seed: seed of every run.
        run_dir: training run for latent methods (``needs_run``); None when every method is a baseline.
        device: torch device string for latent methods.
        allow_run_mismatch: let latent methods use a run trained on another table or metric (recorded).
    """

    method: str
    baselines: tuple[str, ...] = ()
    budget: int = 100
    seed: int = 0
    run_dir: str | None = None
    device: str = "cpu"
    allow_run_mismatch: bool = False

    def __post_init__(self) -> None:
        if int(self.budget) < 1:
            raise LsoError(f"the query budget must be at least 1, got {self.budget}")
        kept = tuple(dict.fromkeys(b for b in self.baselines if b != self.method))
        object.__setattr__(self, "baselines", kept)

    @property
    def methods(self) -> tuple[str, ...]:
        """The method first, then the baselines, in run order."""
        return (self.method, *self.baselines)


@dataclass(frozen=True)
class PlanOutcome:
    """The runs of a plan, in run order. ``stopped``: the user pressed Stop; the last run is then partial and the
    runs after it are missing."""

    plan: SearchPlan
    results: tuple[SearchResult, ...]
    stopped: bool = False

    @property
    def main(self) -> SearchResult:
        """The run of ``plan.method``."""
        return self.results[0]


def _relay(outer: Reporter, method: str, offset: int, total: int) -> RelayReporter:
    """One run's reports to the job's reporter: ``done`` shifted by the queries of the runs before it, ``total`` the
    whole plan, and the run's best signal under the method's name (one report per charged query)."""
    return RelayReporter(outer, lambda e: (offset + e.done, total, e.message,
                                           {method: e.figures.get("best_signal", float("nan"))}))


def run_plan(
    plan: SearchPlan,
    oracle: Oracle,
    *,
    registry: MethodRegistry | None = None,
    reporter: Reporter | None = None,
) -> PlanOutcome:
    """Run ``plan.method`` then each baseline with ``run_search``.

    Progress: ``reporter(done, len(methods) * budget, message, **{method: best_signal_so_far})`` after every
    charged query of every run (run ``k`` counts from ``k * budget``). A Stop ends the current run with its
    partial trace and skips the rest. Unknown methods and a latent method without ``run_dir`` fail before any
    run starts.
    """
    registry = registry or default_registry()
    specs = [registry[name] for name in plan.methods]
    missing_run = [s.name for s in specs if s.needs_run and plan.run_dir is None]
    if missing_run:
        raise LsoError(f"{', '.join(missing_run)} start(s) from a training run: choose a run")
    for spec in specs:  # budget and run checks before the first run spends anything
        check_search(spec, oracle, plan.budget, plan.run_dir if spec.needs_run else None,
                     allow_run_mismatch=plan.allow_run_mismatch)
    total = plan.budget * len(specs)
    results: list[SearchResult] = []
    for k, spec in enumerate(specs):
        shifted = _relay(reporter, spec.name, k * plan.budget, total) if reporter is not None else None
        results.append(
            run_search(spec, oracle, budget=plan.budget, seed=plan.seed, registry=registry, reporter=shifted,
                       run_dir=Path(plan.run_dir) if spec.needs_run and plan.run_dir else None, device=plan.device,
                       allow_run_mismatch=plan.allow_run_mismatch)
        )
        if reporter is not None and reporter.cancel_requested:
            return PlanOutcome(plan, tuple(results), stopped=True)
    return PlanOutcome(plan, tuple(results))


def run_plan_over_seeds(
    plan: SearchPlan,
    table: BenchmarkTable,
    oracle: TableOracle,
    seeds: int,
    *,
    registry: MethodRegistry | None = None,
    reporter: Reporter | None = None,
) -> tuple[PlanOutcome, Comparison]:
    """The plan with ``seeds`` seeds (``plan.seed`` .. ``plan.seed + seeds - 1``) on a table oracle: the comparison
    over them (``lso.search.compare``: medians and bands per method) and the plan's outcome at ``plan.seed``.

    Progress: ``reporter(runs done, runs in all, "method seed s")``; a Stop ends it between two runs
    (``lso.jobs.Cancelled``)."""
    if seeds < 1:
        raise LsoError(f"seeds must be >= 1, got {seeds}")
    config = CompareConfig(methods=plan.methods, seeds=tuple(range(plan.seed, plan.seed + seeds)),
                           budgets=(plan.budget,), signal=oracle.signal_name, report=oracle.report_name,
                           target=default_target(table, oracle.report_name), minimize=not oracle.maximize,
                           allow_run_mismatch=plan.allow_run_mismatch)
    comparison = compare_methods(table, config, registry=registry, run_dir=plan.run_dir, device=plan.device,
                                 reporter=reporter)
    first = {r.method: r for r in comparison.results if r.seed == plan.seed}
    return PlanOutcome(plan, tuple(first[m] for m in plan.methods)), comparison
