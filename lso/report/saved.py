"""Searches and refinements kept in the workspace, so nothing the workbench computed is lost with a browser tab.

Layout, beside the training runs of the workspace (which ``lso.train.runs.list_runs`` finds; these folders are not
runs and it skips them)::

    WORKSPACE/searches/<YYYYmmdd-HHMMSS>_<method>_s<seed>/<method>.json   one RESULT.json per method of the plan
    WORKSPACE/searches/<YYYYmmdd-HHMMSS>_pool_<space>/                     pool_comparison.*, pool_curves.* (lso.report.pool)
    WORKSPACE/refinements/<YYYYmmdd-HHMMSS>_<dataset>/                    rounds.csv, final.csv, results.json, html
    WORKSPACE/refinements/<YYYYmmdd-HHMMSS>_<dataset>_budgets/            budget_*.csv/txt/json, the figure

Every file goes through ``lso.atomic``; a name taken in the same second gets a ``-2``, ``-3``... suffix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from lso.growth.refine.budgets import BudgetComparison
from lso.growth.refine.compare import RefineComparison
from lso.report.pool import write_pool_comparison
from lso.report.refine import write_budget_comparison, write_refine_comparison
from lso.search.plan import PlanOutcome
from lso.search.pool_run import PoolRun

KINDS = ("searches", "refinements")


@dataclass(frozen=True)
class SavedResult:
    """One saved search or refinement: its folder and the files in it (sorted)."""

    kind: str
    name: str
    path: Path
    files: tuple[str, ...]


def _new_folder(root: Path, kind: str, label: str) -> Path:
    base = root / kind / f"{time.strftime('%Y%m%d-%H%M%S')}_{label}"
    path, k = base, 1
    while True:
        try:
            path.mkdir(parents=True)  # exclusive: two jobs never share a folder
            return path
        except FileExistsError:
            k += 1
            path = base.with_name(f"{base.name}-{k}")


def save_search(outcome: PlanOutcome, root: str | Path) -> Path:
    """Write each run of ``outcome`` as ``<method>.json`` (its RESULT.json) in a new folder under
    ``root/searches``; returns the folder."""
    plan = outcome.plan
    folder = _new_folder(Path(root), "searches", f"{plan.method}_s{plan.seed}")
    for result in outcome.results:
        result.save(folder / f"{result.method}.json")
    return folder


def save_pool_comparison(run: PoolRun, root: str | Path) -> Path:
    """Write a search comparison on a space table (``lso.report.pool``, as ``lso search pool --out``) in a new folder
    under ``root/searches``; returns the folder."""
    folder = _new_folder(Path(root), "searches", f"pool_{run.comparison.pool.space.name}")
    write_pool_comparison(run, folder)
    return folder


def save_refinement(comparison: RefineComparison, dataset: str, root: str | Path) -> Path:
    """Write ``comparison``'s files (``lso.report.refine``) in a new folder under ``root/refinements``."""
    folder = _new_folder(Path(root), "refinements", dataset)
    write_refine_comparison(comparison, folder)
    return folder


def save_budget_comparison(comparison: BudgetComparison, dataset: str, root: str | Path) -> Path:
    """Write a comparison at several budgets (``lso.report.refine.write_budget_comparison``) in a new folder under
    ``root/refinements``."""
    folder = _new_folder(Path(root), "refinements", f"{dataset}_budgets")
    write_budget_comparison(comparison, folder)
    return folder


def list_saved(root: str | Path, kind: str) -> list[SavedResult]:
    """The saved ``kind`` ("searches" or "refinements") in ``root``, newest first."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    folder = Path(root) / kind
    if not folder.is_dir():
        return []
    found = [SavedResult(kind, p.name, p, tuple(sorted(f.name for f in p.iterdir() if f.is_file())))
             for p in folder.iterdir() if p.is_dir() and not p.is_symlink()]
    return sorted(found, key=lambda s: s.name, reverse=True)
