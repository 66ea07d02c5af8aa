"""NAS-Bench-101 as a ``SearchSpace``: the cell type, its spec string, sampling, enumeration and parameter count.

A cell (``Nb101Cell``) is an upper-triangular 0/1 adjacency matrix over V vertices with an operation per vertex:
vertex 0 is ``input``, vertex V-1 ``output``, the others one of ``conv3x3-bn-relu``, ``conv1x1-bn-relu``,
``maxpool3x3``. The space (NAS-Bench-101, Ying et al. 2019) holds the cells that, once pruned, have at most 7
vertices and 9 edges and join the input to the output: 423,624 unique cells under the official hash
(``lso.spaces.nb101_graph``).

**Spec string** (one CSV field, no commas or spaces): the adjacency rows as 0/1 digits joined by ``/``, a ``|``,
then the vertex operations joined by ``/``. The NB101 README's Inception-like cell is::

    0111010/0000001/0000001/0000100/0000001/0000001/0000000|input/conv1x1-bn-relu/conv3x3-bn-relu/conv3x3-bn-relu/conv3x3-bn-relu/maxpool3x3/output

``parse`` also accepts ``,`` between operations (the official records' form) and ignores surrounding whitespace;
``to_string`` always writes ``/``. A cell keeps the spec as written (dead vertices included): ``canonical`` and
``is_valid`` look at the pruned cell (``Nb101Cell.pruned``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

import numpy as np
import torch

from lso.errors import ArchStringError, shown
from lso.jobs import Reporter
from lso.spaces import nb101_graph as graph
from lso.spaces.nb101_cost import Nb101Macro, network_params
from lso.spaces.protocol import (
    CellGraph,
    SpaceError,
    check_count,
    make_graph,
    numpy_rng,
)

INPUT, OUTPUT = "input", "output"
OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
"""The 3 operations in NB101's ``available_ops`` order (their hash labels are 0, 1, 2)."""
MAX_VERTICES = 7
MAX_EDGES = 9
NUM_UNIQUE = 423_624
"""Unique cells of the space (NB101's published count, reproduced by ``enumerate_graphs``)."""
CLASSES_BY_VERTICES = {2: 1, 3: 6, 4: 84, 5: 2_441, 6: 62_010, 7: 359_082}
"""Unique cells with exactly V vertices (differences of ``enumerate_graphs().unique_up_to``; they sum to 423,624)."""
_SIZE_WEIGHTS = np.array(list(CLASSES_BY_VERTICES.values())) / NUM_UNIQUE

_ROW = re.compile(r"^[01]+$")
_LABEL = {INPUT: graph.INPUT_LABEL, OUTPUT: graph.OUTPUT_LABEL, **{op: i for i, op in enumerate(OPS)}}


@dataclass(frozen=True, slots=True)
class Nb101Cell:
    """An NB101 cell as written: ``matrix`` ``[V][V]`` (``matrix[s][t] = 1`` for an edge ``s -> t``) and ``ops`` ``[V]``.

    Construction checks the structure (square, 0/1, upper triangular, input first, output last, known operations);
    the space's budget and connectivity are checked by ``Nb101Space.is_valid``.
    """

    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        try:
            matrix = tuple(tuple(int(x) for x in row) for row in self.matrix)
        except (TypeError, ValueError):
            raise ArchStringError(f"an NB101 matrix must be rows of 0/1 integers, got {shown(self.matrix)}") from None
        ops = tuple(self.ops)
        v = len(matrix)
        if v < 2:
            raise ArchStringError(f"an NB101 cell needs at least 2 vertices (input and output), got {v}")
        if any(len(row) != v for row in matrix):
            raise ArchStringError(f"an NB101 matrix must be square, got rows of lengths {[len(r) for r in matrix]}")
        if any(x not in (0, 1) for row in matrix for x in row):
            raise ArchStringError("an NB101 matrix holds only 0 and 1")
        if any(matrix[s][t] for s in range(v) for t in range(s + 1)):
            raise ArchStringError("an NB101 matrix must be upper triangular (edges go from lower to higher vertices)")
        if len(ops) != v:
            raise ArchStringError(f"an NB101 cell with {v} vertices needs {v} operations, got {len(ops)}")
        if ops[0] != INPUT or ops[-1] != OUTPUT:
            raise ArchStringError(f"an NB101 cell's first operation must be 'input' and its last 'output', got {shown(ops)}")
        for op in ops[1:-1]:
            if op not in OPS:
                raise ArchStringError(f"unknown NB101 operation {shown(op)}; expected one of {', '.join(OPS)}")
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "ops", ops)

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return sum(map(sum, self.matrix))

    @property
    def labels(self) -> tuple[int, ...]:
        """Integer labels of the vertices as NB101 hashes them (input -1, output -2, op k its ``OPS`` index)."""
        return tuple(_LABEL[op] for op in self.ops)

    def pruned(self) -> Nb101Cell | None:
        """The cell without vertices off every input->output path; ``None`` when the input cannot reach the output."""
        result = graph.prune(self.matrix, self.ops)
        return None if result is None else Nb101Cell(*result)

    def to_string(self) -> str:
        rows = "/".join("".join(str(x) for x in row) for row in self.matrix)
        return rows + "|" + "/".join(self.ops)

    def __str__(self) -> str:
        return self.to_string()

    @classmethod
    def from_string(cls, text: str) -> Nb101Cell:
        """Parse the spec string (module docstring)."""
        if not isinstance(text, str):
            raise ArchStringError(f"an NB101 spec string must be a str, got {type(text).__name__}")
        parts = text.strip().split("|")
        if len(parts) != 2:
            raise ArchStringError(f"malformed NB101 spec {shown(text)}: expected 'rows|ops' with one '|'")
        rows = parts[0].strip().split("/")
        for row in rows:
            if not _ROW.match(row.strip()):
                raise ArchStringError(f"malformed NB101 spec {shown(text)}: adjacency row {shown(row)} is not 0/1 digits")
        ops = [op.strip() for op in re.split(r"[/,]", parts[1].strip())]
        return cls(tuple(tuple(int(c) for c in row.strip()) for row in rows), tuple(ops))

    @classmethod
    def from_record(cls, adjacency: str, operations: str) -> Nb101Cell:
        """A cell from the official record fields: ``adjacency`` the V*V matrix as one string of 0/1 digits (row
        by row), ``operations`` the V operations joined by commas."""
        ops = tuple(operations.split(","))
        v = len(ops)
        if len(adjacency) != v * v or not _ROW.match(adjacency):
            raise ArchStringError(f"an NB101 record's adjacency must be {v * v} digits 0/1 for {v} ops, got {shown(adjacency)}")
        return cls(tuple(tuple(int(c) for c in adjacency[s * v:(s + 1) * v]) for s in range(v)), ops)


def _cell(cell: object) -> Nb101Cell:
    if not isinstance(cell, Nb101Cell):
        raise SpaceError(f"the nb101 space takes Nb101Cell objects, got {type(cell).__name__}")
    return cell


@cache
def _full_dags(vertices: int) -> tuple[int, ...]:
    return tuple(graph.full_dag_bitmasks(vertices, MAX_EDGES))


@dataclass(frozen=True)
class Nb101Space:
    """The NAS-Bench-101 cell space (module docstring).

    Args:
        sampler: how ``sample`` draws. ``"graphs"`` (default): a vertex count V with the share of the space's
            classes that have V vertices (``CLASSES_BY_VERTICES``), then a uniform V-vertex DAG with every vertex on
            an input->output path and at most 9 edges, and uniform operations: close to uniform over the 423,624
            classes (a class is drawn in proportion to its numberings). ``"matrix"``: the random-spec sampler of
            NB101 baselines (7x7 upper-triangular entries 1 with probability 1/2, uniform ops, pruned, redrawn until
            valid), which favours small cells: 7-vertex cells are 85% of the space but ~0.3% of its draws.

    ``graph_tensors`` gives the pruned cell: node labels ``input``, the 3 ops, ``output``; one edge label.
    """

    name: ClassVar[str] = "nb101"
    cell_type: ClassVar[type] = Nb101Cell
    node_labels: ClassVar[tuple[str, ...]] = (INPUT, *OPS, OUTPUT)
    edge_labels: ClassVar[tuple[str, ...]] = ("edge",)
    max_nodes: ClassVar[int] = MAX_VERTICES

    sampler: str = "graphs"

    def __post_init__(self) -> None:
        if self.sampler not in ("graphs", "matrix"):
            raise SpaceError(f"unknown NB101 sampler {self.sampler!r}; expected 'graphs' or 'matrix'")

    def parse(self, text: str) -> Nb101Cell:
        return Nb101Cell.from_string(text)

    def to_string(self, cell: Nb101Cell) -> str:
        return _cell(cell).to_string()

    def canonical(self, cell: Nb101Cell) -> str:
        """The official NB101 hash of the pruned cell (the key of the official dataset)."""
        pruned = _cell(cell).pruned()
        if pruned is None:
            raise ArchStringError(f"NB101 cell {cell} joins no path from input to output, so it has no hash")
        return graph.hash_matrix(pruned.matrix, pruned.labels)

    def is_valid(self, cell: Nb101Cell) -> bool:
        """Connected, and at most 7 vertices and 9 edges once pruned (NB101's ``is_valid``)."""
        pruned = _cell(cell).pruned()
        return pruned is not None and pruned.num_vertices <= MAX_VERTICES and pruned.num_edges <= MAX_EDGES

    def sample(self, n: int, generator: np.random.Generator | torch.Generator) -> list[Nb101Cell]:
        """``n`` valid pruned cells drawn with ``self.sampler`` (class docstring)."""
        rng, count = numpy_rng(generator), check_count(n)
        if self.sampler == "matrix":
            return self._sample_matrices(count, rng)
        sizes = rng.choice(np.array(list(CLASSES_BY_VERTICES)), size=count, p=_SIZE_WEIGHTS)
        out = []
        for v in sizes.tolist():
            masks = _full_dags(v)
            matrix = graph.matrix_from_bits(masks[int(rng.integers(len(masks)))], v)
            ops = [INPUT, *(OPS[i] for i in rng.integers(0, len(OPS), size=v - 2)), OUTPUT]
            out.append(Nb101Cell(matrix, tuple(ops)))
        return out

    def _sample_matrices(self, count: int, rng: np.random.Generator) -> list[Nb101Cell]:
        upper = np.triu(np.ones((MAX_VERTICES, MAX_VERTICES), dtype=bool), k=1)
        out: list[Nb101Cell] = []
        while len(out) < count:
            matrix = (rng.integers(0, 2, size=(MAX_VERTICES, MAX_VERTICES)) * upper).tolist()
            ops = [INPUT, *(OPS[i] for i in rng.integers(0, len(OPS), size=MAX_VERTICES - 2)), OUTPUT]
            cell = Nb101Cell(tuple(map(tuple, matrix)), tuple(ops)).pruned()
            if cell is not None and self.is_valid(cell):
                out.append(cell)
        return out

    def enumerate(self, reporter: Reporter | None = None) -> tuple[Nb101Cell, ...]:
        """The 423,624 unique cells, one per hash, in NB101's generation order (takes minutes)."""
        found = graph.enumerate_graphs(MAX_VERTICES, MAX_EDGES, len(OPS), reporter=reporter)
        names = {label: op for op, label in _LABEL.items()}
        return tuple(Nb101Cell(m, tuple(names[x] for x in labels)) for m, labels in found.graphs)

    def graph_tensors(self, cell: Nb101Cell) -> CellGraph:
        pruned = _cell(cell).pruned()
        if pruned is None:
            raise ArchStringError(f"NB101 cell {cell} joins no path from input to output: no graph to encode")
        index = {label: i for i, label in enumerate(self.node_labels)}
        n = pruned.num_vertices
        edges = [(s, t, 0) for s in range(n) for t in range(n) if pruned.matrix[s][t]]
        return make_graph([index[op] for op in pruned.ops], edges)

    def num_params(self, cell: Nb101Cell, macro: Nb101Macro | None = None) -> int:
        """Trainable parameters of the NB101 network around the pruned cell (``lso.spaces.nb101_cost``)."""
        pruned = _cell(cell).pruned()
        if pruned is None:
            raise ArchStringError(f"NB101 cell {cell} joins no path from input to output: no network to count")
        return network_params(pruned.matrix, pruned.ops, macro or Nb101Macro())

    def flops(self, cell: Nb101Cell) -> int:
        raise NotImplementedError(
            "FLOPs of the NB101 network are not implemented yet (NB101 publishes none to check against); "
            "use num_params"
        )
