"""Oracles answer "what is this cell's score": from a benchmark table, or by training the cell for real.

The contract (``Evaluation``, the ``Oracle`` protocol) lives in ``lso.oracle`` and is re-exported here. Every oracle
gives a ``signal`` (what a search may see, e.g. validation accuracy) and a ``report`` (what the search
never sees, e.g. test accuracy). Query counting, caching and budgets are layered on top (see ``QueryLedger`` in
``lso.search.ledger``).
"""

from __future__ import annotations

import math

import numpy as np

from lso.bench import BenchmarkTable
from lso.bench.metric_info import MetricInfo
from lso.errors import MetricError
from lso.oracle import Evaluation, Oracle
from lso.space import Cell, all_cells, index_of


def search_metrics(table: BenchmarkTable, signal: str | None = None, report: str | None = None) -> tuple[str, str]:
    """The ``(signal, report)`` of a search on ``table``: a named one must be a column; a missing signal is the
    table's own ``*_valid`` metric and a missing report the ``*_test`` metric of the signal's dataset
    (``BenchmarkTable.paired_metric``). ``MetricError`` names the role and the metrics the table has."""
    signal = signal or table.default_metric("valid")
    if signal not in table.metrics:
        raise MetricError(f"signal metric {signal!r} is not in the benchmark table; it has: {', '.join(table.metrics)}")
    report = report or table.paired_metric(signal, "test")
    if report not in table.metrics:
        raise MetricError(f"report metric {report!r} is not in the benchmark table; it has: {', '.join(table.metrics)}")
    return signal, report


class TableOracle:
    """Answers from a ``BenchmarkTable``: ``signal`` and ``report`` are two of its metric columns.

    Signal and report may be the same column: that is the "oracle protocol" (searching on test), which a report
    must label as such (``is_oracle_protocol``).

    ``minimize`` sets the signal's direction; None takes the table's (``BenchmarkTable.metric_info``: accuracy up,
    latency, FLOPs, params, error down). A table published with one row per isomorphism class answers for every
    twin with its class's row (``BenchmarkTable.dense_values``).

    Raises:
        MetricError: when the table lacks the signal or the report metric (the message names the role and lists
            the metrics the table has), and from ``evaluate`` for a cell the table has no value for.
    """

    def __init__(self, table: BenchmarkTable, signal: str, report: str, *, minimize: bool | None = None) -> None:
        for role, metric in (("signal", signal), ("report", report)):
            if metric not in table.metrics:
                raise MetricError(
                    f"{role} metric {metric!r} is not in the benchmark table; it has: {', '.join(table.metrics) or 'none'}"
                )
        self._table = table
        self._signal_name = signal
        self._report_name = report
        # Dense per-official-index arrays make a lookup O(1) without building a row dict per query.
        self._signal = table.dense_values(signal)
        self._report = table.dense_values(report)
        self._signal_info = table.metric_info(signal)
        self._report_info = table.metric_info(report)
        self._maximize = self._signal_info.direction == "max" if minimize is None else not minimize

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
    def maximize(self) -> bool:
        """The signal's direction: True to maximise (accuracy), False to minimise (latency, FLOPs, error)."""
        return self._maximize

    @property
    def signal_info(self) -> MetricInfo:
        """Direction and scale of the signal metric (the direction as this oracle uses it)."""
        direction = "max" if self._maximize else "min"
        return MetricInfo(self._signal_info.name, direction, self._signal_info.scale)

    @property
    def report_info(self) -> MetricInfo:
        """Direction and scale of the report metric (targets are reached in its direction)."""
        return self._report_info

    @property
    def table_checksum(self) -> str:
        """The answering table's data checksum (a run trained on another table is refused: ``lso.search.preflight``)."""
        return self._table.meta.checksum

    def optimum(self) -> Evaluation:
        """The best cell of the table by signal in this oracle's direction (the first by index on ties)."""
        values = np.where(np.isfinite(self._signal), self._signal if self._maximize else -self._signal, -np.inf)
        return self.evaluate(all_cells()[int(np.argmax(values))])

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
        return Evaluation(cell=cell, signal=signal, report=report, maximize=self._maximize)


__all__ = ["Evaluation", "Oracle", "TableOracle", "search_metrics"]
