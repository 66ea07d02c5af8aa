"""One search method's runs summarised over seeds: medians of the report at each budget, of the queries to a target
and to the table optimum, and the mix of query sources (``lso.search.compare`` builds one per method)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lso.bench.metric_info import MetricInfo
from lso.oracle import Evaluation
from lso.search.ledger import SPACE_EXHAUSTED, isomorphism_class
from lso.search.result import SearchResult


@dataclass(frozen=True)
class MethodSummary:
    """Medians over seeds for one method. ``inf`` queries: more than half of the seeds never got there.

    Attributes:
        report_at: median report of the best-by-signal cell, one per budget (NaN where a run stopped short).
        sources: share of the method's queries (all seeds) per source, largest first.
        stopped: how many runs ended before the horizon (the reasons are in each ``SearchResult.stopped``).
    """

    method: str
    report_at: tuple[float, ...]
    queries_to_target: float
    reached_target: int
    queries_to_optimum: float
    found_optimum: int
    overhead_seconds: float  # median search time excluding the oracle, per run of `horizon` queries
    sources: tuple[tuple[str, float], ...] = ()
    stopped: int = 0

    def source_mix(self) -> str:
        """``"latent 62%, neighbour 30%, initial 8%"``."""
        return ", ".join(f"{name} {share:.0%}" for name, share in self.sources)


def summarise_method(method: str, results: list[SearchResult], *, budgets: tuple[int, ...], target: float,
                     optimum: Evaluation, report_info: MetricInfo) -> MethodSummary:
    """The ``MethodSummary`` of one method's runs (one per seed, each of the same horizon).

    ``target`` is reached in the report's direction (``report_info``); ``optimum`` counts as found when a run's
    best-by-signal cell is of its isomorphism class. A run that stopped because every cell was queried keeps its
    last figure at the budgets beyond its end; any other short run has none there (NaN median)."""
    target_hits, optimum_hits = [], []
    opt_class = isomorphism_class(optimum.cell)
    maximize = report_info.direction == "max"
    for r in results:
        curve = r.best_so_far()
        hit = curve.first_reaching(target, maximize=maximize)
        target_hits.append(float(hit) if hit is not None else math.inf)
        found = [k for k, p in enumerate(curve.position) if isomorphism_class(r.evaluations[int(p)].cell) == opt_class]
        optimum_hits.append(float(found[0] + 1) if found else math.inf)
    report_at = []
    for b in budgets:
        values = [r.best_so_far().report_at(b, carry=r.stopped == SPACE_EXHAUSTED) for r in results]
        report_at.append(float(np.median(values)) if not np.isnan(values).any() else float("nan"))
    counts: dict[str, int] = {}
    for r in results:
        for source, n in r.source_counts().items():
            counts[source] = counts.get(source, 0) + n
    total = max(1, sum(counts.values()))
    return MethodSummary(
        method=method,
        report_at=tuple(report_at),
        queries_to_target=_median(target_hits),
        reached_target=sum(not math.isinf(h) for h in target_hits),
        queries_to_optimum=_median(optimum_hits),
        found_optimum=sum(not math.isinf(h) for h in optimum_hits),
        overhead_seconds=float(np.median([r.overhead_seconds for r in results])),
        sources=tuple(sorted(((k, v / total) for k, v in counts.items()), key=lambda kv: -kv[1])),
        stopped=sum(r.stopped is not None for r in results),
    )


def _median(values: list[float]) -> float:
    """Median that treats never-reached (inf) as larger than everything: inf when it falls among them."""
    ordered = sorted(values)
    n = len(ordered)
    mid = ordered[(n - 1) // 2 : n // 2 + 1]
    return math.inf if any(math.isinf(v) for v in mid) else float(sum(mid) / len(mid))
