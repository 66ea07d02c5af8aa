"""Oracles answer "what is this cell's score": from a benchmark table, or by training the cell for real.

Every oracle gives a ``signal`` (what a search may see, e.g. validation accuracy) and a ``report`` (what the search
never sees, e.g. test accuracy). Query counting, caching and budgets are layered on top (see ``QueryLedger`` in
``lso.search.ledger``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from lso.bench import BenchmarkTable
from lso.errors import MetricError
from lso.space import Cell, index_of, num_cells


@dataclass(frozen=True)
class Evaluation:
    """One oracle answer. Accuracies in percent."""

    cell: Cell
    signal: float
    report: float


@runtime_checkable
class Oracle(Protocol):
    """Anything that scores a cell. Implementations: ``TableOracle`` (lookup) and the training oracle."""

    @property
    def signal_name(self) -> str:
        """Name of the metric a search sees, e.g. ``cifar10_valid``."""
        ...

    @property
    def report_name(self) -> str:
        """Name of the metric reported but never shown to the search, e.g. ``cifar10_test``."""
        ...

    def evaluate(self, cell: Cell) -> Evaluation:
        """Score one cell (no counting: budgets are kept by the caller's ledger)."""
        ...


class TableOracle:
    """Answers from a ``BenchmarkTable``: ``signal`` and ``report`` are two of its metric columns.

    Signal and report may be the same column: that is the "oracle protocol" (searching on test), which a report
    must label as such (``is_oracle_protocol``).

    Raises:
        MetricError: when the table lacks the signal or the report metric (the message names the role and lists
            the metrics the table has), and from ``evaluate`` for a cell the table has no value for.
    """

    def __init__(self, table: BenchmarkTable, signal: str, report: str) -> None:
        for role, metric in (("signal", signal), ("report", report)):
            if metric not in table.metrics:
                raise MetricError(
                    f"{role} metric {metric!r} is not in the benchmark table; it has: {', '.join(table.metrics) or 'none'}"
                )
        self._table = table
        self._signal_name = signal
        self._report_name = report
        # Dense per-official-index arrays make a lookup O(1) without building a row dict per query.
        self._signal = np.full(num_cells(), np.nan)
        self._report = np.full(num_cells(), np.nan)
        rows = table.indices()
        self._signal[rows] = table.values(signal)
        self._report[rows] = table.values(report)

    @property
    def table(self) -> BenchmarkTable:
        """The table answered from."""
        return self._table

    @property
    def signal_name(self) -> str:
        return self._signal_name

    @property
    def report_name(self) -> str:
        return self._report_name

    @property
    def is_oracle_protocol(self) -> bool:
        """True when the search sees the reported metric itself (searching on test)."""
        return self._signal_name == self._report_name

    def evaluate(self, cell: Cell) -> Evaluation:
        """The table's ``signal`` and ``report`` for ``cell``."""
        i = index_of(cell)
        signal, report = float(self._signal[i]), float(self._report[i])
        if math.isnan(signal) or math.isnan(report):
            raise MetricError(f"the benchmark table has no {self._signal_name}/{self._report_name} value for {cell}")
        return Evaluation(cell=cell, signal=signal, report=report)
