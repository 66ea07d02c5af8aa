"""NAS-Bench-201 as a ``SearchSpace``: an adapter over ``lso.space`` (the ``Cell`` type, enumeration, sizes).

Nothing is re-implemented here: strings, canonical forms, the official enumeration order and the macro network's
cost are those of ``lso.space``, so the adapter agrees with it exactly (15,625 cells, 6,466 canonical classes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from lso.errors import ArchStringError
from lso.space import EDGES, NUM_NODES, OPS, Cell, all_cells
from lso.space import flops as nb201_flops
from lso.space import num_params as nb201_num_params
from lso.spaces.protocol import (
    CellGraph,
    SpaceError,
    check_count,
    make_graph,
    numpy_rng,
)

_NODE_LABELS = tuple(f"node{i}" for i in range(NUM_NODES))


def _cell(cell: object) -> Cell:
    if not isinstance(cell, Cell):
        raise SpaceError(f"the nb201 space takes lso.space.Cell objects, got {type(cell).__name__}")
    return cell


@dataclass(frozen=True)
class Nb201Space:
    """The NAS-Bench-201 cell space (5 ops on 6 edges of a 4-node DAG).

    ``graph_tensors`` matches ``lso.data.graphs``: node ``i`` is labelled by its id (``node_labels[i]``), the 6
    forward edges come in ``lso.space.EDGES`` order, each labelled by its op (``none`` edges are kept).
    """

    name: ClassVar[str] = "nb201"
    cell_type: ClassVar[type] = Cell
    node_labels: ClassVar[tuple[str, ...]] = _NODE_LABELS
    edge_labels: ClassVar[tuple[str, ...]] = OPS
    max_nodes: ClassVar[int] = NUM_NODES

    def parse(self, text: str) -> Cell:
        """``Cell.from_string`` of the official ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` string."""
        if not isinstance(text, str):
            raise ArchStringError(f"an nb201 architecture string must be a str, got {type(text).__name__}")
        return Cell.from_string(text)

    def to_string(self, cell: Cell) -> str:
        return _cell(cell).to_string()

    def canonical(self, cell: Cell) -> str:
        """``Cell.canonical()``: NAS-Bench-201's isomorphism convention (6,466 classes)."""
        return _cell(cell).canonical()

    def is_valid(self, cell: Cell) -> bool:
        """Every NB201 cell is in the space, disconnected ones included (the benchmark lists them)."""
        return isinstance(cell, Cell)

    def sample(self, n: int, generator: np.random.Generator | torch.Generator) -> list[Cell]:
        """``n`` cells, each op drawn uniformly and independently (uniform over the 15,625 cells)."""
        idx = numpy_rng(generator).integers(0, len(OPS), size=(check_count(n), len(EDGES)))
        return [Cell.from_indices(row) for row in idx.tolist()]

    def enumerate(self) -> tuple[Cell, ...]:
        """All 15,625 cells in official NAS-Bench-201 index order (``lso.space.all_cells``)."""
        return all_cells()

    def graph_tensors(self, cell: Cell) -> CellGraph:
        cell = _cell(cell)
        return make_graph(range(NUM_NODES), [(frm, to, op) for (to, frm), op in zip(EDGES, cell.indices)])

    def num_params(self, cell: Cell) -> int:
        """Parameters of the NB201 macro network (CIFAR-10 defaults, ``lso.space.num_params``)."""
        return nb201_num_params(_cell(cell))

    def flops(self, cell: Cell) -> int:
        """Multiply-accumulates of one CIFAR-10 forward pass (``lso.space.flops``)."""
        return nb201_flops(_cell(cell))
