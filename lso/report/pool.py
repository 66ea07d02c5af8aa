"""The files of a search comparison on a pool (``lso search pool --out DIR``), written atomically:

* ``pool_comparison.csv``: one row per (method, budget) (``PoolComparison.frame``);
* ``pool_comparison.md``: the fixed-width table (``PoolComparison.text``);
* ``pool_curves.csv`` / ``pool_curves.html``: best-so-far curves (``PoolComparison.curves``, ``lso.viz.pool_figures``);
* ``pool_comparison.json``: space, pool size, metrics, seeds, budgets, rows and the space G-VAE's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lso.atomic import write_json, write_text
from lso.search.pool_run import PoolRun, comparison_summary
from lso.viz.pool_figures import pool_curves_figure

POOL_OUTPUTS: tuple[str, ...] = ("pool_comparison.csv", "pool_comparison.md", "pool_curves.csv", "pool_curves.html",
                                 "pool_comparison.json")


@dataclass(frozen=True)
class PoolFiles:
    """Where ``write_pool_comparison`` put things."""

    table_csv: Path
    table_md: Path
    curves_csv: Path
    plot: Path
    summary_json: Path


def write_pool_comparison(run: PoolRun, out_dir: str | Path) -> PoolFiles:
    """Write the five files of the module docstring into ``out_dir`` (created when missing)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    comparison = run.comparison
    return PoolFiles(
        table_csv=write_text(out / "pool_comparison.csv", comparison.frame().to_csv(index=False)),
        table_md=write_text(out / "pool_comparison.md", comparison.text() + "\n"),
        curves_csv=write_text(out / "pool_curves.csv", comparison.curves().to_csv(index=False)),
        plot=write_text(out / "pool_curves.html",
                        pool_curves_figure(comparison, run.report).to_html(include_plotlyjs=True)),
        summary_json=write_json(out / "pool_comparison.json", comparison_summary(run)),
    )
