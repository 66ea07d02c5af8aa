"""The search-method registry and the one harness every method runs in.

A method is a ``SearchMethod``: a name, a frozen config type and a runner. The runner spends queries through the
``QueryLedger`` in its ``SearchContext`` until the budget is gone (or it has nothing left to ask); the harness
(``run_search``) builds the ledger, times the run and turns the ledger into a ``SearchResult``. So counting,
caching and the budget are the same for every method.

Methods live in plugin modules (``PLUGIN_MODULES``), each exposing ``METHODS: tuple[SearchMethod, ...]``. A plugin
module that does not exist yet (e.g. the latent methods before they land) is skipped; asking for one of its
methods gives a clear ``UnknownMethodError``.
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
from lso.search.oracle import Evaluation, Oracle
from lso.search.result import SearchResult

PLUGIN_MODULES: tuple[str, ...] = (
    "lso.search.random_search",
    "lso.search.evolution",
    "lso.search.local_search",
    "lso.search.gradient",  # CR-LSO (`crlso`), added by its own module
    "lso.search.surfing",  # surfing (`surf`), added by its own module
)
"""Modules that define ``METHODS``. Missing ones are skipped."""

PLANNED_METHODS: Mapping[str, str] = {"crlso": "lso.search.gradient", "surf": "lso.search.surfing"}
"""Methods the workbench will have but whose module may not be present yet (for the error message)."""


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
        progress: show progress bars.
    """

    ledger: QueryLedger
    seed: int
    run_dir: Path | None = None
    device: str = "cpu"
    progress: bool = False


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
    """

    name: str
    config_type: type
    runner: Runner
    needs_run: bool = False
    description: str = ""


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
            if name in PLANNED_METHODS:
                raise UnknownMethodError(
                    f"search method {name!r} is not available yet (its module {PLANNED_METHODS[name]} is not part of "
                    f"this install); available: {available}"
                ) from None
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
    progress: bool = False,
    precharge: tuple[Evaluation, ...] = (),
    registry: MethodRegistry | None = None,
    reporter: Reporter | None = None,
) -> SearchResult:
    """Run one search method against one oracle with a fresh ledger.

    Args:
        method: a registered name or a ``SearchMethod``.
        oracle: answers queries (``signal`` seen by the search, ``report`` never).
        budget: most queries, labels included (>= 1).
        seed: the only source of randomness.
        config: the method's frozen config (defaults when None); must be of ``method.config_type``.
        run_dir: training run directory; required by methods with ``needs_run``.
        precharge: labels the caller already holds, charged first (latent methods usually precharge their
            run's labels themselves).
        reporter: called after every charged query as ``reporter(queries_so_far, budget, message,
            best_signal=...)``. When it raises ``lso.jobs.Cancelled`` (the user pressed Stop) the search ends there
            and the result holds the queries made so far (``reporter.cancel_requested`` tells a stopped run).

    Returns: the ``SearchResult`` with every charged query in order; never more than ``budget`` queries.
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
    if spec.needs_run and run_dir is None:
        raise LsoError(f"search method {spec.name!r} starts from a training run: give --run RUN_DIR")
    run_path = Path(run_dir) if run_dir is not None else None
    if run_path is not None and not run_path.is_dir():
        raise LsoError(f"run directory not found: {run_path}")
    ledger = QueryLedger(oracle, int(budget), on_charge=_progress(reporter, spec.name))
    start = time.perf_counter()
    context = SearchContext(ledger=ledger, seed=int(seed), run_dir=run_path, device=device, progress=progress)
    try:
        ledger.precharge(precharge)  # labels beyond the budget: BudgetExhausted reaches the caller
        try:
            spec.runner(config, context)
        except BudgetExhausted:
            pass  # a runner may simply query until the ledger says stop
    except Cancelled:
        pass  # stopped by the user: the ledger holds a valid partial trace
    wall = time.perf_counter() - start
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
    )


def _progress(reporter: Reporter | None, name: str) -> Callable[[QueryLedger, Evaluation], None] | None:
    """A ledger ``on_charge`` hook reporting ``(spent, budget)`` and the best signal so far to ``reporter``."""
    if reporter is None:
        return None
    best = -float("inf")

    def on_charge(ledger: QueryLedger, ev: Evaluation) -> None:
        nonlocal best
        best = max(best, ev.signal)
        reporter(ledger.spent, ledger.budget, f"{name}: {ledger.spent}/{ledger.budget} queries", best_signal=best)

    return on_charge
