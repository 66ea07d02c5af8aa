"""Several search methods x seeds on one benchmark table: a comparison table and best-so-far curves.

Each (method, seed) runs once with the largest budget (the ``horizon``); the figure at a smaller budget B is read
from its best-so-far curve after B queries. For the baselines (whose moves never depend on the budget) this is
exactly a run with budget B and the same seed. The figure of a run is the ``report`` of its best-by-``signal``
cell: the search never sees the report. When signal == report the search saw test accuracy (the "oracle
protocol"); every output says so.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from lso.bench import BenchmarkTable
from lso.errors import LsoError
from lso.search.ledger import isomorphism_class
from lso.search.oracle import Evaluation, TableOracle
from lso.search.registry import MethodRegistry, default_registry, run_search
from lso.atomic import write_json as write_json_atomic
from lso.atomic import write_text as write_text_atomic
from lso.search.result import SearchResult


@dataclass(frozen=True)
class CompareConfig:
    """One comparison.

    Attributes:
        methods: registry names, in table order.
        seeds: the seeds every method runs with.
        budgets: query counts the table reports (ascending).
        target: report value whose first reach is counted ("queries to test >= 94.3").
        horizon: queries per run (>= max budget); larger horizons let slow methods reach the target/optimum.
        signal / report: metric names of the table.
    """

    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    budgets: tuple[int, ...]
    signal: str = "cifar10_valid"
    report: str = "cifar10_test"
    target: float = 94.3
    horizon: int = 0

    def __post_init__(self) -> None:
        if not self.methods:
            raise LsoError("a comparison needs at least one method")
        if not self.seeds:
            raise LsoError("a comparison needs at least one seed")
        if not self.budgets or min(self.budgets) < 1:
            raise LsoError(f"budgets must be positive query counts, got {self.budgets}")
        object.__setattr__(self, "budgets", tuple(sorted(int(b) for b in self.budgets)))
        object.__setattr__(self, "horizon", max(int(self.horizon), max(self.budgets)))

    @property
    def oracle_protocol(self) -> bool:
        return self.signal == self.report


@dataclass(frozen=True)
class MethodSummary:
    """Medians over seeds for one method. ``inf`` queries: more than half of the seeds never got there."""

    method: str
    report_at: tuple[float, ...]  # median report of the best-by-signal cell, one per budget
    queries_to_target: float
    reached_target: int
    queries_to_optimum: float
    found_optimum: int
    overhead_seconds: float  # median search time excluding the oracle, per run of `horizon` queries


@dataclass(frozen=True)
class Comparison:
    """The runs and their summary."""

    config: CompareConfig
    optimum: Evaluation  # the table's best cell by signal (the cell a perfect search picks)
    results: tuple[SearchResult, ...]
    summaries: tuple[MethodSummary, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per method: median report at each budget, queries to target and to the optimum."""
        cfg = self.config
        rows = []
        for s in self.summaries:
            row: dict[str, Any] = {"method": s.method}
            for b, v in zip(cfg.budgets, s.report_at):
                row[f"{cfg.report}@{b}"] = round(v, 4)
            row[f"queries_to_{cfg.report}>={cfg.target:g}"] = s.queries_to_target
            row["reached_target"] = f"{s.reached_target}/{len(cfg.seeds)}"
            row["queries_to_optimum"] = s.queries_to_optimum
            row["found_optimum"] = f"{s.found_optimum}/{len(cfg.seeds)}"
            row["overhead_s"] = round(s.overhead_seconds, 4)
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
        head = ["method", *[f"{cfg.report} @{b}" for b in cfg.budgets], f"queries to {cfg.report} >= {cfg.target:g}",
                "queries to optimum"]
        lines = [
            f"{self.title()}; optimum {cfg.signal} {self.optimum.signal:.2f} -> {cfg.report} {self.optimum.report:.2f}",
            "",
            "| " + " | ".join(head) + " |",
            "| " + " | ".join(["---"] + ["---:"] * (len(head) - 1)) + " |",
        ]
        n = len(cfg.seeds)
        for s in self.summaries:
            cells = [s.method, *[f"{v:.2f}" for v in s.report_at],
                     f"{_queries(s.queries_to_target, cfg.horizon)} ({s.reached_target}/{n})",
                     f"{_queries(s.queries_to_optimum, cfg.horizon)} ({s.found_optimum}/{n})"]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def _queries(value: float, horizon: int) -> str:
    return f"> {horizon}" if math.isinf(value) else f"{value:g}"


def compare_methods(
    table: BenchmarkTable,
    config: CompareConfig,
    *,
    registry: MethodRegistry | None = None,
    run_dir: str | Path | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> Comparison:
    """Run every method with every seed for ``config.horizon`` queries on a table oracle and summarise."""
    oracle = TableOracle(table, config.signal, config.report)
    registry = registry or default_registry()
    specs = [registry[m] for m in config.methods]  # unknown names fail before any run
    opt_cell, _ = table.best(config.signal)
    optimum = oracle.evaluate(opt_cell)
    runs = [(spec, seed) for spec in specs for seed in config.seeds]
    results = tuple(
        run_search(spec, oracle, budget=config.horizon, seed=seed, run_dir=run_dir, device=device)
        for spec, seed in tqdm(runs, desc="search runs", disable=not progress)
    )
    summaries = tuple(_summary(m, [r for r in results if r.method == m], config, optimum) for m in config.methods)
    return Comparison(config=config, optimum=optimum, results=results, summaries=summaries)


def _summary(method: str, results: list[SearchResult], config: CompareConfig, optimum: Evaluation) -> MethodSummary:
    target_hits, optimum_hits = [], []
    opt_class = isomorphism_class(optimum.cell)
    for r in results:
        curve = r.best_so_far()
        hit = curve.first_reaching(config.target)
        target_hits.append(float(hit) if hit is not None else math.inf)
        found = [k for k, p in enumerate(curve.position) if isomorphism_class(r.evaluations[int(p)].cell) == opt_class]
        optimum_hits.append(float(found[0] + 1) if found else math.inf)
    curves = [r.best_so_far() for r in results]
    return MethodSummary(
        method=method,
        report_at=tuple(float(np.median([c.report_at(b) for c in curves])) for b in config.budgets),
        queries_to_target=_median(target_hits),
        reached_target=sum(not math.isinf(h) for h in target_hits),
        queries_to_optimum=_median(optimum_hits),
        found_optimum=sum(not math.isinf(h) for h in optimum_hits),
        overhead_seconds=float(np.median([r.overhead_seconds for r in results])),
    )


def _median(values: list[float]) -> float:
    """Median that treats never-reached (inf) as larger than everything: inf when it falls among them."""
    ordered = sorted(values)
    n = len(ordered)
    mid = ordered[(n - 1) // 2 : n // 2 + 1]
    return math.inf if any(math.isinf(v) for v in mid) else float(sum(mid) / len(mid))


def best_so_far_figure(comparison: Comparison):  # -> plotly.graph_objects.Figure
    """Median (line) and 25-75 % band (shaded) of the best-by-signal cell's report vs queries, per method."""
    import plotly.graph_objects as go

    cfg = comparison.config
    frame = comparison.curves_frame()
    fig = go.Figure()
    palette = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
    for k, method in enumerate(cfg.methods):
        wide = frame[frame.method == method].pivot(index="queries", columns="seed", values="best_report")
        x = wide.index.to_numpy()
        lo, mid, hi = (np.nanpercentile(wide.to_numpy(), q, axis=1) for q in (25, 50, 75))
        color = palette[k % len(palette)]
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([hi, lo[::-1]]), fill="toself",
                                 fillcolor=color, opacity=0.15, line={"width": 0}, hoverinfo="skip",
                                 showlegend=False, legendgroup=method))
        fig.add_trace(go.Scatter(x=x, y=mid, mode="lines", name=method, line={"color": color}, legendgroup=method))
    fig.add_hline(y=comparison.optimum.report, line_dash="dot", annotation_text="optimum (best by signal)")
    fig.update_layout(
        title=f"Best-so-far {cfg.report} of the best-by-{cfg.signal} cell<br><sub>{comparison.title()}</sub>",
        xaxis_title="queries (labelled cells seen)",
        yaxis_title=f"{cfg.report} (%)",
        template="plotly_white",
    )
    return fig


@dataclass(frozen=True)
class ComparisonFiles:
    """Where ``write_comparison`` put things."""

    table_csv: Path
    table_md: Path
    curves_csv: Path
    plot: Path
    summary_json: Path


def write_comparison(comparison: Comparison, out_dir: str | Path) -> ComparisonFiles:
    """Write comparison.csv/.md, curves.csv, best_so_far.html (plotly, self-contained) and comparison.json."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = ComparisonFiles(
        table_csv=write_text_atomic(out / "comparison.csv", comparison.to_frame().to_csv(index=False)),
        table_md=write_text_atomic(out / "comparison.md", comparison.to_markdown()),
        curves_csv=write_text_atomic(out / "curves.csv", comparison.curves_frame().to_csv(index=False)),
        plot=write_text_atomic(out / "best_so_far.html", best_so_far_figure(comparison).to_html(include_plotlyjs=True)),
        summary_json=write_json_atomic(
            out / "comparison.json",
            {
                "config": asdict(comparison.config),
                "oracle_protocol": comparison.config.oracle_protocol,
                "optimum": {"arch": comparison.optimum.cell.to_string(), "signal": comparison.optimum.signal,
                            "report": comparison.optimum.report},
                "summaries": [
                    {**asdict(s), "queries_to_target": _json_num(s.queries_to_target),
                     "queries_to_optimum": _json_num(s.queries_to_optimum)}
                    for s in comparison.summaries
                ],
            },
        ),
    )
    return files


def _json_num(value: float) -> float | None:
    return None if math.isinf(value) else value
