"""The files of a search comparison (``lso search compare --out DIR``), written from a ``Comparison``:

* ``comparison.csv`` / ``comparison.md``: one row per method (``Comparison.to_frame`` / ``to_markdown``);
* ``curves.csv``: every run's best-so-far curve (``Comparison.curves_frame``);
* ``best_so_far.html``: the median curves with their 25-75 % bands (``lso.viz.search_figures``), self-contained;
* ``comparison.json``: the config, protocol, directions, optimum and per-method summaries (never-reached query
  counts and missing figures as ``null``).

Each file is written atomically (``lso.atomic``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lso.atomic import write_json, write_text
from lso.search.compare import Comparison
from lso.viz.search_figures import comparison_curves_figure


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
    return ComparisonFiles(
        table_csv=write_text(out / "comparison.csv", comparison.to_frame().to_csv(index=False)),
        table_md=write_text(out / "comparison.md", comparison.to_markdown()),
        curves_csv=write_text(out / "curves.csv", comparison.curves_frame().to_csv(index=False)),
        plot=write_text(out / "best_so_far.html",
                        comparison_curves_figure(comparison).to_html(include_plotlyjs=True)),
        summary_json=write_json(out / "comparison.json", comparison_record(comparison)),
    )


def comparison_record(comparison: Comparison) -> dict[str, Any]:
    """The content of ``comparison.json`` (JSON-ready: infinities and NaNs as None)."""
    return {
        "config": asdict(comparison.config),
        "oracle_protocol": comparison.config.oracle_protocol,
        "direction": {"signal": comparison.signal_info.direction if comparison.signal_info else "max",
                      "report": comparison.report_info.direction if comparison.report_info else "max"},
        "optimum": {"arch": comparison.optimum.cell.to_string(), "signal": comparison.optimum.signal,
                    "report": comparison.optimum.report},
        "summaries": [
            {**asdict(s), "queries_to_target": _json_number(s.queries_to_target),
             "queries_to_optimum": _json_number(s.queries_to_optimum),
             "report_at": [_json_number(v) for v in s.report_at], "sources": dict(s.sources)}
            for s in comparison.summaries
        ],
    }


def _json_number(value: float) -> float | None:
    return None if not math.isfinite(value) else value
