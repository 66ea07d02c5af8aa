"""Refine one NB201 architecture by growing it (S3D, S2D, random splitting) or training its final width from
scratch, and compare the methods over seeds.

Modules: ``config`` (``RefineConfig``, ``REFINE_METHODS``, ``RefineError``), ``run`` (``refine``,
``scratch_widths``), ``result`` (``RefineRound``, ``RefineResult``: RESULT.json written and read back), ``compare``
(``compare_refine``, ``RefineComparison`` and its tables). The comparison's figure is in
``lso.viz.refine_figures``, its files are written by ``lso.report.refine``.
"""

from lso.growth.refine.compare import RefineComparison, compare_refine
from lso.growth.refine.config import REFINE_METHODS, RefineConfig, RefineError
from lso.growth.refine.result import ROUND_KEYS, RefineResult, RefineRound
from lso.growth.refine.run import refine, scratch_widths

__all__ = ["REFINE_METHODS", "ROUND_KEYS", "RefineComparison", "RefineConfig", "RefineError", "RefineResult",
           "RefineRound", "compare_refine", "refine", "scratch_widths"]
