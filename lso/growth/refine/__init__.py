"""Refine one NB201 architecture by growing it (S3D, S2D, random splitting) or training its final width from
scratch, and compare the methods over seeds.

Modules: ``config`` (``RefineConfig``, ``REFINE_METHODS``, ``RefineError``), ``run`` (``refine``,
``scratch_widths``), ``result`` (``RefineRound``, ``RefineResult``: RESULT.json written and read back), ``compare``
(``compare_refine``, ``RefineComparison`` and its tables), ``budgets`` (``compare_budgets``: every method at three
parameter budgets, with the S3D widths and uniform widths trained from scratch). The comparisons' figures are in
``lso.viz.refine_figures``, their files are written by ``lso.report.refine``.
"""

from lso.growth.refine.budgets import (BUDGET_FRACTIONS, BUDGET_METHODS, BudgetComparison, BudgetRun,
                                       compare_budgets, default_budgets)
from lso.growth.refine.compare import RefineComparison, compare_refine
from lso.growth.refine.config import REFINE_METHODS, RefineConfig, RefineError
from lso.growth.refine.result import ROUND_KEYS, RefineResult, RefineRound
from lso.growth.refine.run import refine, scratch_widths

__all__ = ["BUDGET_FRACTIONS", "BUDGET_METHODS", "BudgetComparison", "BudgetRun", "REFINE_METHODS", "ROUND_KEYS", "RefineComparison", "RefineConfig", "RefineError", "RefineResult",
           "RefineRound", "compare_budgets", "compare_refine", "default_budgets", "refine", "scratch_widths"]
