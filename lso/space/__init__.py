"""The NAS-Bench-201 cell space: the `Cell` type, the official enumeration, and analytic cost of the macro network."""

from lso.space.cell import EDGES, NUM_EDGES, NUM_NODES, OPS, Cell
from lso.space.nb201 import (
    MacroConfig,
    all_cells,
    cell_from_index,
    flops,
    index_of,
    num_cells,
    num_params,
    unique_ids,
)

__all__ = [
    "Cell",
    "EDGES",
    "MacroConfig",
    "NUM_EDGES",
    "NUM_NODES",
    "OPS",
    "all_cells",
    "cell_from_index",
    "flops",
    "index_of",
    "num_cells",
    "num_params",
    "unique_ids",
]
