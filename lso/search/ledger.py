"""The query ledger: honest counting, caching and the budget of one search run.

Every labelled cell a search (or the run it starts from) ever saw is one query: each of a run's labels is charged,
twins included (on NAS-Bench-201 isomorphic twins carry different values from separate trainings, so a model
trained on both got two measurements). During the search a cell and its isomorphic twins (same
``Cell.canonical()``: the same function) are one point: asking for a twin answers from the cache for free with the
first answer, so no second, noisy measurement comes for free. The budget is never exceeded: a query that would need
a fresh oracle answer once the budget is spent raises ``BudgetExhausted`` and the oracle is not called.

Every charged query records where it came from (``sources``: ``label``, ``initial``, ``latent``, ``neighbour``,
``fallback``, ``random``, ``mutation``, ``restart``, ...), and a method that ends before its budget is spent says
why (``stop``).
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

from lso.errors import LsoError
from lso.oracle import Evaluation, Oracle
from lso.space import Cell, index_of, unique_ids


SPACE_EXHAUSTED = "every isomorphism class of the space was queried"
"""The ``stop`` reason of a method that ran out of cells to ask about (its last figure then holds for any budget)."""


class BudgetExhausted(LsoError):
    """A search asked for a new query after spending its whole budget."""


class LabelsExceedBudget(LsoError):
    """A run's labels alone fill the query budget: the search would query nothing of its own."""


def isomorphism_class(cell: Cell) -> int:
    """Id of the cell's isomorphism class: the smallest official index with the same ``canonical()`` form."""
    return unique_ids()[index_of(cell)]


class QueryLedger:
    """Counts, caches and limits the queries of one search run against one oracle.

    Args:
        oracle: who answers new queries.
        budget: most queries the run may spend, pre-charged labels included (>= 0).
        on_charge: called as ``on_charge(ledger, evaluation)`` after every charged query (pre-charged labels
            included; cache hits are free and not reported). What it raises (e.g. ``lso.jobs.Cancelled``) reaches
            the caller of ``query``/``precharge``, with the query already recorded.

    ``evaluations`` keeps the charged queries in the order they were made (pre-charged labels first).
    """

    def __init__(
        self, oracle: Oracle, budget: int, *, on_charge: Callable[["QueryLedger", Evaluation], None] | None = None
    ) -> None:
        if int(budget) < 0:
            raise LsoError(f"a query budget must be >= 0, got {budget}")
        self._oracle = oracle
        self._budget = int(budget)
        self._cache: dict[int, Evaluation] = {}
        self._order: list[Evaluation] = []
        self._sources: list[str] = []
        self._stop_reason: str | None = None
        self._precharged = 0
        self._oracle_seconds = 0.0
        self._on_charge = on_charge

    # ----- state -------------------------------------------------------------------------------------------------
    @property
    def oracle(self) -> Oracle:
        return self._oracle

    @property
    def budget(self) -> int:
        return self._budget

    @property
    def spent(self) -> int:
        """Queries charged so far (pre-charged labels included)."""
        return len(self._order)

    @property
    def remaining(self) -> int:
        return self._budget - len(self._order)

    @property
    def exhausted(self) -> bool:
        return len(self._order) >= self._budget

    @property
    def precharged(self) -> int:
        """How many of the charged queries were labels the run had before the search started."""
        return self._precharged

    @property
    def oracle_seconds(self) -> float:
        """Wall seconds spent inside ``oracle.evaluate`` (to report search overhead without the oracle)."""
        return self._oracle_seconds

    @property
    def evaluations(self) -> tuple[Evaluation, ...]:
        """The charged queries in query order."""
        return tuple(self._order)

    @property
    def sources(self) -> tuple[str, ...]:
        """Where each charged query came from, aligned with ``evaluations``."""
        return tuple(self._sources)

    @property
    def stop_reason(self) -> str | None:
        """Why the method ended before spending its budget (``stop``), or None."""
        return self._stop_reason

    def stop(self, reason: str) -> None:
        """Record why the method ends with budget left (e.g. every isomorphism class was queried)."""
        self._stop_reason = reason

    def seen(self, cell: Cell) -> bool:
        """True when the cell or an isomorphic twin was already queried (asking again is free)."""
        return isomorphism_class(cell) in self._cache

    def lookup(self, cell: Cell) -> Evaluation | None:
        """The cached answer for the cell's isomorphism class, or None. Never charges."""
        return self._cache.get(isomorphism_class(cell))

    def best(self) -> Evaluation | None:
        """The charged query with the best signal (highest ``score``; the earliest on ties), or None before any."""
        best: Evaluation | None = None
        for ev in self._order:
            if best is None or ev.score > best.score:
                best = ev
        return best

    # ----- charging ----------------------------------------------------------------------------------------------
    def query(self, cell: Cell, source: str = "query") -> Evaluation:
        """Score a cell: from the cache when it or a twin was queried (free), else from the oracle (one query).

        ``source`` says where the cell came from (recorded with a charged query; see the module docstring).

        A cached answer is the evaluation of the first twin queried (its ``cell`` may differ from ``cell``): the
        twins compute the same function, and the search must not learn a second, noisy score for it for free.

        Raises:
            BudgetExhausted: when a new query is needed and the budget is spent (the oracle is not called).
        """
        key = isomorphism_class(cell)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self.exhausted:
            raise BudgetExhausted(f"query budget of {self._budget} spent; cannot score {cell}")
        ev = self._evaluate(cell)
        self._record(key, ev, source)
        return ev

    def precharge(self, labelled: Iterable[Cell | Evaluation]) -> int:
        """Charge the labels a run had before the search (e.g. the N labels a G-VAE run was trained with).

        Every label is one query, twins included (each was a separate measurement the run learned from). Cells
        are scored by the oracle; ``Evaluation`` objects are taken as given (their labels were already paid for).
        The search itself answers a twin of a label from the cache (the first label of its class). Returns the
        number of queries charged (the number of labels).

        Raises:
            LabelsExceedBudget: when the labels fill the whole budget, leaving the search no query of its own
                (nothing is charged then).
        """
        items = list(labelled)
        if len(items) + len(self._order) >= self._budget and items:
            raise LabelsExceedBudget(
                f"the run's {len(items)} labelled cells fill the query budget of {self._budget}: every label is a "
                f"query, so the search would query nothing of its own; raise --budget above {len(items)} or train "
                "the run with fewer labels (--labels 0 trains an unsupervised G-VAE)"
            )
        for item in items:
            cell = item.cell if isinstance(item, Evaluation) else item
            ev = item if isinstance(item, Evaluation) else self._evaluate(cell)
            self._precharged += 1
            self._record(isomorphism_class(cell), ev, "label")
        return len(items)

    def _evaluate(self, cell: Cell) -> Evaluation:
        start = time.perf_counter()
        ev = self._oracle.evaluate(cell)
        self._oracle_seconds += time.perf_counter() - start
        return ev

    def _record(self, key: int, ev: Evaluation, source: str) -> None:
        self._cache.setdefault(key, ev)  # a twin's later label is charged, but the class answers with the first
        self._order.append(ev)
        self._sources.append(source)
        if self._on_charge is not None:
            self._on_charge(self, ev)
