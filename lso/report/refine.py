"""The files of a refine comparison (``lso refine compare``): rounds.csv, final.csv, accuracy_vs_params.html and
results.json, written from ``lso.growth.refine.RefineComparison`` and its figure (``lso.viz.refine_figures``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lso.atomic import write_json, write_text
from lso.growth.refine import RefineComparison
from lso.viz.refine_figures import accuracy_vs_params_figure


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
