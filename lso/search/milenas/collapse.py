"""The collapse measure of a derived cell: how many of its edges carry an op without weights."""

from __future__ import annotations

from lso.space import Cell

PARAMETER_FREE_OPS: tuple[str, ...] = ("none", "skip_connect", "avg_pool_3x3")
"""Ops without weights: a cell made only of these is the "collapse" NAS-Bench-201 reports for DARTS."""


def parameter_free_edges(cell: Cell) -> int:
    """How many of ``cell``'s 6 edges carry ``none``, ``skip_connect`` or ``avg_pool_3x3``."""
    return sum(op in PARAMETER_FREE_OPS for op in cell.ops)


def is_collapsed(cell: Cell) -> bool:
    """True when the cell has no parametric op at all."""
    return parameter_free_edges(cell) == len(cell.ops)
