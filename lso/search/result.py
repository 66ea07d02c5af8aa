"""What one search run hands back: its queries in order, the best cell by signal, and the best-so-far curves."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lso.atomic import check_replaceable_json
from lso.atomic import write_json as write_json_atomic
from lso.oracle import Evaluation
from lso.search.preflight import RunCheck


@dataclass(frozen=True)
class BestSoFar:
    """Best-so-far curves over the query count: entry ``k`` describes the first ``k + 1`` queries.

    Attributes:
        signal: ``[n]`` best signal (by its direction) among the first k+1 queries.
        report: ``[n]`` report of that best-by-signal cell (not the best report: the search never sees reports).
        position: ``[n]`` int, query position (0-based) of that best-by-signal cell (the earliest on ties).
    """

    signal: np.ndarray
    report: np.ndarray
    position: np.ndarray

    @classmethod
    def of(cls, evaluations: tuple[Evaluation, ...]) -> "BestSoFar":
        n = len(evaluations)
        signal, report = np.empty(n), np.empty(n)
        position = np.empty(n, dtype=np.int64)
        best = -1
        for k, ev in enumerate(evaluations):
            if best < 0 or ev.score > evaluations[best].score:
                best = k
            signal[k], report[k], position[k] = evaluations[best].signal, evaluations[best].report, best
        return cls(signal=signal, report=report, position=position)

    def __len__(self) -> int:
        return len(self.signal)

    def report_at(self, queries: int, *, carry: bool = False) -> float:
        """Report of the best-by-signal cell after ``queries`` queries.

        NaN when the run made fewer queries (a run that stopped early has no figure at a budget it never spent),
        unless ``carry``: then the last value (for a run that stopped because nothing was left to query).
        """
        if len(self.report) == 0 or queries < 1 or (queries > len(self.report) and not carry):
            return float("nan")
        return float(self.report[min(queries, len(self.report)) - 1])

    def first_reaching(self, report: float, *, maximize: bool = True) -> int | None:
        """Fewest queries after which the best-by-signal cell's report reaches ``report`` (>= for a metric to
        maximise, <= for one to minimise); None if never."""
        hits = np.flatnonzero(self.report >= report if maximize else self.report <= report)
        return int(hits[0]) + 1 if len(hits) else None


@dataclass(frozen=True)
class SearchResult:
    """One search run.

    Attributes:
        method: registry name of the method (``random``, ``rea``, ``ls``, ...).
        config: the method's frozen config dataclass.
        seed: the run's seed. budget: most queries allowed (pre-charged labels included).
        signal_name / report_name: the oracle's metrics; equal names mean the "oracle protocol" (searching on test).
        evaluations: every charged query in query order (pre-charged labels first).
        precharged: how many of ``evaluations`` were labels the run had before the search.
        wall_seconds: wall time of the whole run; oracle_seconds: the part spent inside the oracle.
        run_dir: the training run a latent method started from, if any.
        sources: where each query came from, aligned with ``evaluations`` (``label``, ``initial``, ``latent``,
            ``neighbour``, ``fallback``, ``random``, ``mutation``, ``restart``, ...).
        stopped: why the run ended with budget left (None when it spent its whole budget).
        run_check: the run-vs-table check of a latent method (mismatches the user overrode), else None.
        maximize: the signal's direction (False: the search minimised it, e.g. latency).
    """

    method: str
    config: Any
    seed: int
    budget: int
    signal_name: str
    report_name: str
    evaluations: tuple[Evaluation, ...]
    precharged: int = 0
    wall_seconds: float = 0.0
    oracle_seconds: float = 0.0
    run_dir: str | None = None
    sources: tuple[str, ...] = ()
    stopped: str | None = None
    run_check: RunCheck | None = None
    maximize: bool = True

    @property
    def num_queries(self) -> int:
        return len(self.evaluations)

    @property
    def best(self) -> Evaluation | None:
        """The query with the highest signal (earliest on ties): the cell the search would pick."""
        if not self.evaluations:
            return None
        curves = self.best_so_far()
        return self.evaluations[int(curves.position[-1])]

    @property
    def overhead_seconds(self) -> float:
        """Wall time of the search itself, excluding the oracle."""
        return max(0.0, self.wall_seconds - self.oracle_seconds)

    @property
    def oracle_protocol(self) -> bool:
        """True when the search saw the reported metric (e.g. searching on test): label such figures."""
        return self.signal_name == self.report_name

    def best_so_far(self) -> BestSoFar:
        return BestSoFar.of(self.evaluations)

    def source_counts(self) -> dict[str, int]:
        """How many queries came from each source (``sources``), in first-seen order."""
        counts: dict[str, int] = {}
        for source in self.sources:
            counts[source] = counts.get(source, 0) + 1
        return counts

    def config_dict(self) -> dict[str, Any]:
        """The run's settings: method, budget, seed, metrics and the method's parameters under ``params``."""
        params = dataclasses.asdict(self.config) if dataclasses.is_dataclass(self.config) else {}
        return {
            "method": self.method,
            "budget": self.budget,
            "seed": self.seed,
            "signal": self.signal_name,
            "report": self.report_name,
            "oracle_protocol": self.oracle_protocol,
            "direction": "max" if self.maximize else "min",
            "run_dir": self.run_dir,
            "run_check": self.run_check.to_json() if self.run_check is not None else None,
            "params": params,
        }

    def to_json(self) -> dict[str, Any]:
        """``{"queries": [{"arch", "signal", "report", "source"}, ...], "best": {...}, "config": {...},
        "stopped": reason or null, "sources": {source: count}}`` plus timings."""
        best = self.best
        sources = self.sources or ("",) * len(self.evaluations)
        return {
            "queries": [{**_entry(ev), "source": src} for ev, src in zip(self.evaluations, sources)],
            "best": _entry(best) if best is not None else None,
            "config": self.config_dict(),
            "stopped": self.stopped,
            "sources": self.source_counts(),
            "precharged": self.precharged,
            "num_queries": self.num_queries,
            "wall_seconds": self.wall_seconds,
            "oracle_seconds": self.oracle_seconds,
            "overhead_seconds": self.overhead_seconds,
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``to_json()`` atomically (temp file + rename). An existing file at ``path`` is replaced only when it
        is an earlier search result; anything else there (a run's ``metrics.json``, a CSV) raises
        ``lso.atomic.OutputError``, as does a failed write (disk full, no permission)."""
        check_replaceable_json(path, ("queries", "config"), "a search result")
        return write_json_atomic(path, self.to_json())


def _entry(ev: Evaluation) -> dict[str, Any]:
    return {"arch": ev.cell.to_string(), "signal": ev.signal, "report": ev.report}
