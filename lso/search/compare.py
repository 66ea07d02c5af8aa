"""Several search methods x seeds on one benchmark table: a comparison table and best-so-far curves.

Each (method, seed) runs once with the largest budget (the ``horizon``); the figure at a smaller budget B is read
from its best-by-signal curve after B queries. For the baselines (whose moves never depend on the budget) this is
exactly a run with budget B and the same seed. The figure of a run is the ``report`` of its best-by-``signal``
cell: the search never sees the report. When signal == report the search saw test accuracy (the "oracle
protocol"); every output says so. A run that stopped before a budget B has no figure at B (NaN, and the summary
counts it) unless it stopped because every cell was queried. Directions come from the table (accuracy up,
latency down) or ``minimize``; targets are reached in the report's direction. Each method's queries are broken
down by source (``label``, ``initial``, ``latent``, ``neighbour``, ``fallback``, ...).

This module returns data; the figure is ``lso.viz.search_figures.comparison_curves_figure`` and the files of
``lso search compare`` are written by ``lso.report.search.write_comparison``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from lso.bench import BenchmarkTable
from lso.bench.metric_info import MetricInfo
from lso.errors import LsoError
from lso.jobs import Reporter
from lso.oracle import Evaluation
from lso.search.oracle import TableOracle
from lso.search.registry import MethodRegistry, SearchMethod, check_search, default_registry, run_search
from lso.search.result import SearchResult
from lso.search.summary import MethodSummary, summarise_method


@dataclass(frozen=True)
class CompareConfig:
    """One comparison.

    Attributes:
        methods: registry names, in table order.
        seeds: the seeds every method runs with.
        budgets: query counts the table reports (ascending).
        target: report value whose first reach is counted ("queries to test >= 94.3"; <= for a report to
            minimise). Must be finite.
        horizon: queries per run (>= max budget); larger horizons let slow methods reach the target/optimum.
        signal / report: metric names of the table.
        minimize: the signal's direction; None takes the table's (``BenchmarkTable.metric_info``).
        allow_run_mismatch: let latent methods use a run trained on another table or metric (recorded).
    """

    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    budgets: tuple[int, ...]
    signal: str = "cifar10_valid"
    report: str = "cifar10_test"
    target: float = 94.3
    horizon: int = 0
    minimize: bool | None = None
    allow_run_mismatch: bool = False

    def __post_init__(self) -> None:
        if not self.methods:
            raise LsoError("a comparison needs at least one method")
        repeated = sorted({m for m in self.methods if self.methods.count(m) > 1})
        if repeated:
            raise LsoError(f"--methods names {', '.join(repeated)} more than once")
        if not self.seeds:
            raise LsoError("a comparison needs at least one seed")
        if min(self.seeds) < 0 or len(set(self.seeds)) != len(self.seeds):
            raise LsoError(f"seeds must be distinct integers >= 0, got {self.seeds}")
        if not self.budgets or min(self.budgets) < 1:
            raise LsoError(f"budgets must be positive query counts, got {self.budgets}")
        if not math.isfinite(float(self.target)):
            raise LsoError(f"--target must be a finite number, got {self.target}")
        if int(self.horizon) < 0:
            raise LsoError(f"--horizon must be >= 0 (0: the largest budget), got {self.horizon}")
        object.__setattr__(self, "budgets", tuple(sorted(set(int(b) for b in self.budgets))))
        object.__setattr__(self, "horizon", max(int(self.horizon), max(self.budgets)))

    @property
    def oracle_protocol(self) -> bool:
        return self.signal == self.report


def parse_seeds(text: str) -> tuple[int, ...]:
    """Seeds from a count (``"20"``: 0..19), a range (``"200-209"``, inclusive) or a list (``"1,5,9"``)."""
    spec = str(text).strip()
    try:
        if "," in spec:
            seeds = tuple(int(part) for part in spec.split(",") if part.strip())
        elif "-" in spec.lstrip("-"):
            first, last = (int(part) for part in spec.split("-", 1))
            if last < first:
                raise LsoError(f"--seeds range {spec!r} ends before it starts")
            seeds = tuple(range(first, last + 1))
        else:
            count = int(spec)
            if count < 1:
                raise LsoError(f"--seeds count must be >= 1, got {count}")
            seeds = tuple(range(count))
    except ValueError as err:
        raise LsoError(f"--seeds takes a count (20), a range (200-209) or a list (1,5,9); got {text!r}") from err
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise LsoError(f"--seeds must give distinct seeds >= 0; got {text!r}")
    return seeds


def default_target(table: BenchmarkTable, report: str, share: float = 0.01) -> float:
    """The report value of the top ``share`` of unique cells in the report's direction (the 99th percentile of an
    accuracy, the 1st of a latency), unrounded: a run counts as reaching it only when it really does."""
    info = table.metric_info(report)
    values = table.frame.drop_duplicates("unique_id")[report].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        raise LsoError(f"metric {report!r} has no finite value to set a target from")
    return float(np.quantile(values, 1 - share if info.direction == "max" else share))


@dataclass(frozen=True)
class Comparison:
    """The runs and their summary."""

    config: CompareConfig
    optimum: Evaluation  # the table's best cell by signal (the cell a perfect search picks)
    results: tuple[SearchResult, ...]
    summaries: tuple[MethodSummary, ...]
    signal_info: MetricInfo | None = None
    report_info: MetricInfo | None = None

    def model_spread(self) -> dict[str, tuple[float, ...]]:
        """For a latent method run on several models (rows ``method@RUN``): per budget, the largest minus the smallest
        of its per-model medians, i.e. how far the figure moves with the model alone. Empty with one model."""
        groups: dict[str, list[MethodSummary]] = {}
        for s in self.summaries:
            base, at, _ = s.method.partition("@")
            if at:
                groups.setdefault(base, []).append(s)
        return {base: tuple(float(np.nanmax(col) - np.nanmin(col)) for col in zip(*(s.report_at for s in rows)))
                for base, rows in groups.items() if len(rows) > 1}

    def fmt(self, value: float) -> str:
        """A report value with the precision of its scale."""
        return self.report_info.format(value) if self.report_info is not None else f"{value:.4g}"

    def to_frame(self) -> pd.DataFrame:
        """One row per method: median report at each budget, queries to target and to the optimum."""
        cfg = self.config
        rows = []
        for s in self.summaries:
            row: dict[str, Any] = {"method": s.method}
            for b, v in zip(cfg.budgets, s.report_at):
                row[f"{cfg.report}@{b}"] = round(v, 4)
            row[f"queries_to_{cfg.report}{self._reach}{cfg.target:g}"] = s.queries_to_target
            row["reached_target"] = f"{s.reached_target}/{len(cfg.seeds)}"
            row["queries_to_optimum"] = s.queries_to_optimum
            row["found_optimum"] = f"{s.found_optimum}/{len(cfg.seeds)}"
            row["overhead_s"] = round(s.overhead_seconds, 4)
            row["sources"] = s.source_mix()
            row["stopped_early"] = f"{s.stopped}/{len(cfg.seeds)}"
            rows.append(row)
        return pd.DataFrame(rows)

    def curves_frame(self) -> pd.DataFrame:
        """Long frame of best-so-far curves: method, seed, queries, best_signal, best_report."""
        parts = []
        for r in self.results:
            curve = r.best_so_far()
            parts.append(
                pd.DataFrame(
                    {
                        "method": r.method,
                        "seed": r.seed,
                        "queries": np.arange(1, len(curve) + 1),
                        "best_signal": curve.signal,
                        "best_report": curve.report,
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)

    @property
    def _reach(self) -> str:
        return "<=" if self.report_info is not None and self.report_info.direction == "min" else ">="

    def title(self) -> str:
        cfg = self.config
        protocol = (
            f"ORACLE PROTOCOL: searching on {cfg.report} itself"
            if cfg.oracle_protocol
            else f"search on {cfg.signal}, report {cfg.report}"
        )
        return f"{protocol}; median of {len(cfg.seeds)} seeds"

    def to_markdown(self) -> str:
        """A markdown table with a caption line (protocol, seeds, optimum)."""
        cfg = self.config
        head = ["method", *[f"{cfg.report} @{b}" for b in cfg.budgets],
                f"queries to {cfg.report} {self._reach} {self.fmt(cfg.target)}", "queries to optimum", "source mix"]
        signal_fmt = self.signal_info.format if self.signal_info is not None else (lambda v: f"{v:.4g}")
        lines = [
            f"{self.title()}; optimum {cfg.signal} {signal_fmt(self.optimum.signal)} -> {cfg.report} "
            f"{self.fmt(self.optimum.report)}",
            "",
            "| " + " | ".join(head) + " |",
            "| " + " | ".join(["---"] + ["---:"] * (len(head) - 2) + ["---"]) + " |",
        ]
        n = len(cfg.seeds)
        for s in self.summaries:
            cells = [s.method, *[self.fmt(v) for v in s.report_at],
                     f"{_queries(s.queries_to_target, cfg.horizon)} ({s.reached_target}/{n})",
                     f"{_queries(s.queries_to_optimum, cfg.horizon)} ({s.found_optimum}/{n})", s.source_mix()]
            lines.append("| " + " | ".join(cells) + " |")
        for base, spread in self.model_spread().items():
            lines += ["", f"{base} on {sum(s.method.startswith(base + '@') for s in self.summaries)} models: the "
                      f"per-model medians differ by {', '.join(f'{self.fmt(v)} @{b}' for b, v in zip(cfg.budgets, spread))}"
                      " (max - min): the part of the figure that moves with the model"]
        stopped = [f"{s.method} {s.stopped}/{n}" for s in self.summaries if s.stopped]
        if stopped:
            lines += ["", f"Runs that stopped before {cfg.horizon} queries (no figure at the budgets they did not "
                      f"reach): {', '.join(stopped)}"]
        return "\n".join(lines) + "\n"


def _queries(value: float, horizon: int) -> str:
    return f"> {horizon}" if math.isinf(value) else f"{value:g}"


def compare_methods(
    table: BenchmarkTable,
    config: CompareConfig,
    *,
    registry: MethodRegistry | None = None,
    run_dir: str | Path | Sequence[str | Path] | None = None,
    device: str = "cpu",
    reporter: Reporter | None = None,
) -> Comparison:
    """Run every method with every seed for ``config.horizon`` queries on a table oracle and summarise.

    Every method is checked before the first run (unknown names, a latent method's run and budget:
    ``lso.search.registry.check_search``), so a bad setting fails at once, not after the baselines ran.

    ``run_dir`` may name several training runs (e.g. G-VAEs trained with different seeds): each latent method then
    runs every seed on every run, and is summarised once per run, as ``method@RUN`` (the folder's name), so the
    spread that comes from the model shows beside the spread over search seeds (``Comparison.model_spread``).

    ``reporter`` gets ``(runs done, runs in all, "method seed s")`` before each run and ``(runs in all, runs in
    all, ...)`` after the last; it raises ``lso.jobs.Cancelled`` on a stop request, so a stopped comparison ends
    between two runs and returns nothing.
    """
    oracle = TableOracle(table, config.signal, config.report, minimize=config.minimize)
    registry = registry or default_registry()
    run_dirs = _run_dirs(run_dir)
    specs: list[tuple[SearchMethod, Path | None]] = []
    for spec in (registry[m] for m in config.methods):  # unknown names fail before any run
        if not spec.needs_run or len(run_dirs) <= 1:
            specs.append((spec, run_dirs[0] if spec.needs_run and run_dirs else None))
        else:  # one row per model: the same method, named for its run
            specs += [(replace(spec, name=f"{spec.name}@{label}"), path) for label, path in _labelled(run_dirs)]
    for spec, path in specs:  # the smallest budget too must leave a latent method room beyond its run's labels
        check_search(spec, oracle, min(config.budgets), path, allow_run_mismatch=config.allow_run_mismatch)
    config = replace(config, methods=tuple(spec.name for spec, _ in specs))
    optimum = oracle.optimum()
    runs = [(spec, path, seed) for spec, path in specs for seed in config.seeds]
    found = []
    for done, (spec, path, seed) in enumerate(runs):
        if reporter is not None:
            reporter(done, len(runs), f"{spec.name} seed {seed}")
        found.append(run_search(spec, oracle, budget=config.horizon, seed=seed, run_dir=path, device=device,
                                allow_run_mismatch=config.allow_run_mismatch))
    if reporter is not None:
        reporter(len(runs), len(runs), "summarising")
    results = tuple(found)
    report_info = oracle.report_info
    summaries = tuple(summarise_method(m, [r for r in results if r.method == m], budgets=config.budgets,
                                       target=config.target, optimum=optimum, report_info=report_info)
                      for m in config.methods)
    return Comparison(config=config, optimum=optimum, results=results, summaries=summaries,
                      signal_info=oracle.signal_info, report_info=report_info)


def _run_dirs(run_dir: str | Path | Sequence[str | Path] | None) -> list[Path]:
    if run_dir is None:
        return []
    if isinstance(run_dir, (str, Path)):
        return [Path(run_dir)]
    paths = [Path(p) for p in run_dir]
    if len({p.resolve() for p in paths}) != len(paths):
        raise LsoError("--run names the same run twice")
    return paths


def _labelled(paths: list[Path]) -> list[tuple[str, Path]]:
    """``(label, path)``: the folder names, made unique with ``#2``, ``#3``... where two runs share one."""
    out, seen = [], {}
    for path in paths:
        seen[path.name] = seen.get(path.name, 0) + 1
        out.append((path.name if seen[path.name] == 1 else f"{path.name}#{seen[path.name]}", path))
    return out
