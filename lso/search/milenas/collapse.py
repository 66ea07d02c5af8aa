"""The collapse measure of a derived cell: how many of its edges carry an op without weights."""

from __future__ import annotations

from lso.space import Cell
from lso.spaces.darts import DartsGenotype

PARAMETER_FREE_OPS: tuple[str, ...] = ("none", "skip_connect", "avg_pool_3x3", "max_pool_3x3")
"""Ops without weights: a cell made only of these is the "collapse" NAS-Bench-201 reports for DARTS (in the DARTS
space, the skip-connection takeover of DARTS's known failure)."""


def edge_ops(cell: Cell | DartsGenotype) -> tuple[str, ...]:
    """The op of every edge: NB201's 6, or a genotype's 16 (normal then reduction)."""
    if isinstance(cell, DartsGenotype):
        return tuple(op for op, _ in cell.normal + cell.reduce)
    return cell.ops


def parameter_free_edges(cell: Cell | DartsGenotype) -> int:
    """How many of ``cell``'s edges (NB201: 6, DARTS: 16) carry ``none``, ``skip_connect`` or a pooling op."""
    return sum(op in PARAMETER_FREE_OPS for op in edge_ops(cell))


def is_collapsed(cell: Cell | DartsGenotype) -> bool:
    """True when the cell has no parametric op at all."""
    return parameter_free_edges(cell) == len(edge_ops(cell))
