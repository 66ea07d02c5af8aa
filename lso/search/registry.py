"""The search-method registry and the one harness every method runs in.

A method is a ``SearchMethod``: a name, a frozen config type and a runner. The runner spends queries through the
``QueryLedger`` in its ``SearchContext`` until the budget is gone (or says why it stops, ``QueryLedger.stop``); the
harness (``run_search``) checks the budget and the run before anything is spent (``lso.search.preflight``), builds
the ledger, times the run and turns the ledger into a ``SearchResult``. So counting, caching, the budget and the
honesty checks are the same for every method.

Methods live in plugin modules (``PLUGIN_MODULES``), each exposing ``METHODS: tuple[SearchMethod, ...]``.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from lso.errors import LsoError
from lso.jobs import Cancelled, Reporter
from lso.search.ledger import BudgetExhausted, QueryLedger
from lso.oracle import Evaluation, Oracle
from lso.search.preflight import RunCheck, budget_problem, check_run, read_provenance
from lso.search.result import SearchResult

PLUGIN_MODULES: tuple[str, ...] = (
    "lso.search.random_search",
    "lso.search.evolution",
    "lso.search.local_search",
    "lso.search.gradient",  # CR-LSO (`crlso`)
    "lso.search.surfing",  # surfing (`surf`)
    "lso.search.bananas",  # BANANAS (`bananas`), the model-based peer
)
"""Modules that define ``METHODS``. A missing one (a third-party plugin not installed) is skipped."""


class UnknownMethodError(LsoError, KeyError):
    """A search method name that is not registered."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain.
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class SearchContext:
    """What a runner gets besides its config.

    Attributes:
        ledger: the only way to query (counts, caches, enforces the budget).
        seed: seed the runner must derive all its randomness from (``random.Random(seed)`` etc.).
        run_dir: training run directory (latent methods; None for the baselines).
        device: torch device string for methods that use torch (never hard-coded inside the library).

    Progress goes through the ledger (``run_search``'s ``reporter`` hears of every charged query), not the context.
    """

    ledger: QueryLedger
    seed: int
    run_dir: Path | None = None
    device: str = "cpu"


Runner = Callable[[Any, SearchContext], None]


@dataclass(frozen=True)
class SearchMethod:
    """A registered search method.

    Attributes:
        name: CLI name (``--method NAME``).
        config_type: frozen dataclass of the method's knobs; ``config_type()`` gives the defaults.
        runner: ``runner(config, context)``; spends queries via ``context.ledger`` and returns nothing.
        needs_run: True for latent methods that start from a training run directory (``--run``).
        description: one line for help texts.
        title: the method's name in words (``"regularized evolution"`` for ``rea``), for pickers and legends.
    """

    name: str
    config_type: type
    runner: Runner
    needs_run: bool = False
    description: str = ""
    title: str = ""

    @property
    def label(self) -> str:
        """``"rea (regularized evolution)"``, or the bare name when there is no title."""
        return f"{self.name} ({self.title})" if self.title else self.name


class MethodRegistry(Mapping[str, SearchMethod]):
    """An immutable name -> ``SearchMethod`` mapping."""

    def __init__(self, methods: Mapping[str, SearchMethod] | None = None) -> None:
        self._methods = dict(methods or {})

    @classmethod
    def from_modules(cls, modules: tuple[str, ...] = PLUGIN_MODULES) -> "MethodRegistry":
        """Collect ``METHODS`` from each module that exists; a module missing itself is skipped, not its imports."""
        methods: dict[str, SearchMethod] = {}
        for name in modules:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as err:
                if err.name == name:
                    continue
                raise
            for method in getattr(module, "METHODS", ()):
                if method.name in methods:
                    raise LsoError(f"search method {method.name!r} is registered twice (again by {name})")
                methods[method.name] = method
        return cls(methods)

    def with_method(self, method: SearchMethod) -> "MethodRegistry":
        """A new registry with ``method`` added (or replacing one of the same name)."""
        return MethodRegistry({**self._methods, method.name: method})

    def __getitem__(self, name: str) -> SearchMethod:
        try:
            return self._methods[name]
        except KeyError:
            available = ", ".join(sorted(self._methods)) or "none"
            raise UnknownMethodError(f"unknown search method {name!r}; available: {available}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._methods))

    def __len__(self) -> int:
        return len(self._methods)


def default_registry() -> MethodRegistry:
    """Every method whose module is present (imports are cached by Python, so this is cheap after the first call)."""
    return MethodRegistry.from_modules()


def run_search(
    method: str | SearchMethod,
    oracle: Oracle,
    *,
    budget: int,
    seed: int,
    config: Any = None,
    run_dir: str | Path | None = None,
    device: str = "cpu",
    precharge: tuple[Evaluation, ...] = (),
    registry: MethodRegistry | None = None,
    reporter: Reporter | None = None,
    allow_run_mismatch: bool = False,
) -> SearchResult:
    """Run one search method against one oracle with a fresh ledger.

    Args:
        method: a registered name or a ``SearchMethod``.
        oracle: answers queries (``signal`` seen by the search, ``report`` never).
        budget: most queries, labels included (>= 1).
        seed: the only source of randomness.
        config: the method's frozen config (defaults when None); must be of ``method.config_type``.
        run_dir: training run directory; required by methods with ``needs_run``.
        precharge: labels the caller already holds, charged first (latent methods charge their run's labels
            themselves).
        reporter: called after every charged query as ``reporter(queries_so_far, budget, message,
            best_signal=...)``. When it raises ``lso.jobs.Cancelled`` (the user pressed Stop) the search ends there
            and the result holds the queries made so far (``reporter.cancel_requested`` tells a stopped run).
        allow_run_mismatch: search with a run trained on another table or metric anyway (recorded in the result).

    Returns: the ``SearchResult`` with every charged query in order; never more than ``budget`` queries; its
    ``stopped`` says why a run ended with budget left.

    Raises:
        LsoError: before any query, for a budget that leaves nothing beyond the run's labels (or ``precharge``),
            a method that needs a run without one, and a run that does not fit the oracle's table and metrics
            (``lso.search.preflight``).
    """
    spec = method if isinstance(method, SearchMethod) else (registry or default_registry())[method]
    if int(budget) < 1:
        raise LsoError(f"--budget must be at least 1 query, got {budget}")
    if config is None:
        config = spec.config_type()
    elif not isinstance(config, spec.config_type):
        raise LsoError(
            f"method {spec.name!r} takes a {spec.config_type.__name__} config, got {type(config).__name__}"
        )
    run_path = Path(run_dir) if run_dir is not None else None
    run_check = check_search(spec, oracle, int(budget), run_path, precharged=len(precharge),
                             allow_run_mismatch=allow_run_mismatch)
    ledger = QueryLedger(oracle, int(budget), on_charge=_report_queries(reporter, spec.name))
    start = time.perf_counter()
    context = SearchContext(ledger=ledger, seed=int(seed), run_dir=run_path, device=device)
    cancelled = False
    try:
        ledger.precharge(precharge)
        try:
            spec.runner(config, context)
        except BudgetExhausted:
            pass  # a runner may simply query until the ledger says stop
    except Cancelled:
        cancelled = True  # stopped by the user: the ledger holds a valid partial trace
    wall = time.perf_counter() - start
    stopped = None
    if cancelled:
        stopped = "stopped by the user"
    elif not ledger.exhausted:
        stopped = ledger.stop_reason or (f"{spec.name} returned with {ledger.remaining} of {ledger.budget} queries "
                                         "unspent and gave no reason")
    return SearchResult(
        method=spec.name,
        config=config,
        seed=int(seed),
        budget=int(budget),
        signal_name=oracle.signal_name,
        report_name=oracle.report_name,
        evaluations=ledger.evaluations,
        precharged=ledger.precharged,
        wall_seconds=wall,
        oracle_seconds=ledger.oracle_seconds,
        run_dir=str(run_path) if run_path is not None else None,
        sources=ledger.sources,
        stopped=stopped,
        run_check=run_check,
        maximize=bool(getattr(oracle, "maximize", True)),
    )


def check_search(spec: SearchMethod, oracle: Oracle, budget: int, run_dir: str | Path | None, *,
                 precharged: int = 0, allow_run_mismatch: bool = False) -> RunCheck | None:
    """The checks ``run_search`` makes before spending anything (callers run them up front to fail early).

    A latent method needs a run whose labels leave room in ``budget`` and that was trained on the oracle's table
    and signal (``lso.search.preflight``). Returns the run's ``RunCheck`` (None for a method without a run).

    Raises:
        LsoError: naming the problem (``RunMismatchError`` for a run that does not fit, unless overridden).
    """
    if spec.needs_run and run_dir is None:
        raise LsoError(f"search method {spec.name!r} starts from a training run: give --run RUN_DIR")
    if run_dir is not None and not Path(run_dir).is_dir():
        raise LsoError(f"run directory not found: {run_dir}")
    if not spec.needs_run:
        problem = budget_problem(budget, precharged)
        if problem:
            raise LsoError(problem)
        return None
    provenance = read_provenance(run_dir)
    problem = budget_problem(budget, len(provenance.labels) + precharged)
    if problem:
        raise LsoError(problem)
    return check_run(provenance, oracle.signal_name, oracle.report_name, getattr(oracle, "table_checksum", None),
                     allow_mismatch=allow_run_mismatch)


def _report_queries(reporter: Reporter | None, name: str) -> Callable[[QueryLedger, Evaluation], None] | None:
    """A ledger ``on_charge`` hook reporting ``(spent, budget)`` and the best signal so far to ``reporter``."""
    if reporter is None:
        return None
    best: Evaluation | None = None

    def on_charge(ledger: QueryLedger, ev: Evaluation) -> None:
        nonlocal best
        if best is None or ev.score > best.score:
            best = ev
        reporter(ledger.spent, ledger.budget, f"{name}: {ledger.spent}/{ledger.budget} queries",
                 best_signal=best.signal)

    return on_charge
