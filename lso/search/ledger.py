"""The query ledger: honest counting, caching and the budget of one search run.

Every labelled cell a search (or the run it starts from) ever saw is one query. A cell and its isomorphic twins
(same ``Cell.canonical()``: the same function) cost one query together; asking again answers from the cache for
free. The budget is never exceeded: a query that would need a fresh oracle answer once the budget is spent raises
``BudgetExhausted`` and the oracle is not called.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

from lso.errors import LsoError
from lso.search.oracle import Evaluation, Oracle
from lso.space import Cell, index_of, unique_ids


class BudgetExhausted(LsoError):
    """A search asked for a new query after spending its whole budget."""


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

    def seen(self, cell: Cell) -> bool:
        """True when the cell or an isomorphic twin was already queried (asking again is free)."""
        return isomorphism_class(cell) in self._cache

    def lookup(self, cell: Cell) -> Evaluation | None:
        """The cached answer for the cell's isomorphism class, or None. Never charges."""
        return self._cache.get(isomorphism_class(cell))

    def best(self) -> Evaluation | None:
        """The charged query with the highest signal (the earliest on ties), or None before any query."""
        best: Evaluation | None = None
        for ev in self._order:
            if best is None or ev.signal > best.signal:
                best = ev
        return best

    # ----- charging ----------------------------------------------------------------------------------------------
    def query(self, cell: Cell) -> Evaluation:
        """Score a cell: from the cache when it or a twin was queried (free), else from the oracle (one query).

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
        self._record(key, ev)
        return ev

    def precharge(self, labelled: Iterable[Cell | Evaluation]) -> int:
        """Charge the labels a run had before the search (e.g. the N labels a G-VAE run was trained with).

        Cells are scored by the oracle; ``Evaluation`` objects are taken as given (their labels were already
        paid for). Twins of already charged cells cost nothing. Returns the number of queries charged.

        Raises:
            BudgetExhausted: when the labels alone exceed the budget (nothing beyond the budget is charged).
        """
        charged = 0
        for item in labelled:
            cell = item.cell if isinstance(item, Evaluation) else item
            key = isomorphism_class(cell)
            if key in self._cache:
                continue
            if self.exhausted:
                raise BudgetExhausted(
                    f"the run's labelled cells exceed the query budget of {self._budget}: every label counts as a "
                    "query, so raise --budget or train with fewer labels"
                )
            ev = item if isinstance(item, Evaluation) else self._evaluate(cell)
            self._precharged += 1
            charged += 1
            self._record(key, ev)
        return charged

    def _evaluate(self, cell: Cell) -> Evaluation:
        start = time.perf_counter()
        ev = self._oracle.evaluate(cell)
        self._oracle_seconds += time.perf_counter() - start
        return ev

    def _record(self, key: int, ev: Evaluation) -> None:
        self._cache[key] = ev
        self._order.append(ev)
        if self._on_charge is not None:
            self._on_charge(self, ev)
