"""Figures of several search runs of one variant (the rows of ``benchmarks/bench_milenas.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from lso.search.milenas.config import MilenasError
from lso.search.milenas.result import MilenasResult


@dataclass(frozen=True)
class MilenasSummary:
    """Figures of several runs of one variant (``method``, one of ``VARIANTS``): means of the oracle report / signal
    (percent) and of the search seconds, and the fraction of runs whose derived cell collapsed to parameter-free
    ops."""

    method: str
    runs: int
    report_mean: float
    signal_mean: float
    search_seconds_mean: float
    collapse_rate: float
    parameter_free_edges_mean: float


def summarise(results: Sequence[MilenasResult]) -> MilenasSummary:
    """The ``MilenasSummary`` of ``results`` (all of one variant; NaN means for runs without an oracle score).

    Raises:
        MilenasError: for no results or results of several variants.
    """
    methods = {r.config.method for r in results}
    if len(methods) != 1:
        raise MilenasError(f"summarise needs runs of exactly one method, got {sorted(methods) or 'none'}")
    scored = [r.evaluation for r in results if r.evaluation is not None]
    n = len(results)
    return MilenasSummary(
        method=methods.pop(),
        runs=n,
        report_mean=sum(e.report for e in scored) / len(scored) if scored else float("nan"),
        signal_mean=sum(e.signal for e in scored) / len(scored) if scored else float("nan"),
        search_seconds_mean=sum(r.search_seconds for r in results) / n,
        collapse_rate=sum(r.collapsed for r in results) / n,
        parameter_free_edges_mean=sum(r.parameter_free_edges for r in results) / n,
    )
