"""Where a search's best cell stands in its benchmark table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lso.bench import BenchmarkTable
from lso.oracle import Evaluation
from lso.space import index_of


@dataclass(frozen=True)
class Standing:
    """A cell's place in a table.

    Attributes:
        arch / index: the cell (official string and index).
        signal / report: its two metrics.
        signal_rank / report_rank: 1 + the number of table rows strictly better on that metric (1 = best).
        rows: rows of the table (the ranks are out of this).
        best_signal / best_report: the table's best value of each metric.
    """

    arch: str
    index: int
    signal: float
    report: float
    signal_rank: int
    report_rank: int
    rows: int
    best_signal: float
    best_report: float


def standing(evaluation: Evaluation, table: BenchmarkTable, signal: str, report: str) -> Standing:
    """Rank ``evaluation`` (e.g. ``SearchResult.best``) among the rows of ``table`` by ``signal`` and ``report``."""
    signals, reports = table.values(signal), table.values(report)
    return Standing(
        arch=evaluation.cell.to_string(),
        index=index_of(evaluation.cell),
        signal=evaluation.signal,
        report=evaluation.report,
        signal_rank=1 + int(np.sum(signals > evaluation.signal)),
        report_rank=1 + int(np.sum(reports > evaluation.report)),
        rows=len(table),
        best_signal=float(np.nanmax(signals)),
        best_report=float(np.nanmax(reports)),
    )
