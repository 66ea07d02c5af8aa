"""The files of a refine comparison (``lso refine compare``): rounds.csv, final.csv, accuracy_vs_params.html and
results.json, written from ``lso.growth.refine.RefineComparison`` and its figure (``lso.viz.refine_figures``); and
those of a comparison at several budgets (``write_budget_comparison``, ``benchmarks/bench_refine.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lso.atomic import write_json, write_text
from lso.growth.refine import BudgetComparison, RefineComparison
from lso.viz.refine_figures import accuracy_vs_params_figure, budget_comparison_figure


@dataclass(frozen=True)
class RefineComparisonFiles:
    """Where ``write_refine_comparison`` put things."""

    rounds_csv: Path
    final_csv: Path
    plot: Path
    results_json: Path


def write_refine_comparison(comparison: RefineComparison, out_dir: str | Path) -> RefineComparisonFiles:
    """Write rounds.csv, final.csv, accuracy_vs_params.html (plotly, self-contained) and results.json (every run's
    RESULT.json content keyed ``method/seed``), each atomically."""
    out = Path(out_dir)
    return RefineComparisonFiles(
        rounds_csv=write_text(out / "rounds.csv", comparison.rounds_frame().to_csv(index=False)),
        final_csv=write_text(out / "final.csv", comparison.final_frame().to_csv(index=False)),
        plot=write_text(out / "accuracy_vs_params.html",
                        accuracy_vs_params_figure(comparison).to_html(include_plotlyjs=True)),
        results_json=write_json(out / "results.json", comparison.to_dict()),
    )


@dataclass(frozen=True)
class BudgetComparisonFiles:
    """Where ``write_budget_comparison`` put things."""

    runs_csv: Path
    table_csv: Path
    table_txt: Path
    plot: Path
    results_json: Path


def budget_table_text(comparison: BudgetComparison) -> str:
    """The per-budget table as aligned text (what ``benchmarks/bench_refine.py`` prints)."""
    table = comparison.table()
    return table.to_string(index=False, float_format=lambda v: f"{v:.2f}", formatters={
        "params": "{:,.0f}".format, "flops": "{:,.0f}".format, "epochs": "{:.1f}".format})


def write_budget_comparison(comparison: BudgetComparison, out_dir: str | Path) -> BudgetComparisonFiles:
    """Write budget_runs.csv (one row per run), budget_table.csv and budget_table.txt (per budget and method: mean
    params, FLOPs, test mean and std, epochs), accuracy_vs_params_budgets.html (the figure, beside the table) and
    budget_results.json, each atomically."""
    out = Path(out_dir)
    return BudgetComparisonFiles(
        runs_csv=write_text(out / "budget_runs.csv", comparison.frame().to_csv(index=False)),
        table_csv=write_text(out / "budget_table.csv", comparison.table().to_csv(index=False)),
        table_txt=write_text(out / "budget_table.txt", budget_table_text(comparison) + "\n"),
        plot=write_text(out / "accuracy_vs_params_budgets.html",
                        budget_comparison_figure(comparison).to_html(include_plotlyjs=True)),
        results_json=write_json(out / "budget_results.json", comparison.to_dict()),
    )
