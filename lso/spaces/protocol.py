"""The contract every search space of the workbench meets: ``SearchSpace``, and the graph tensors it hands a G-VAE.

A space is a stateless object (a frozen dataclass) that knows one cell type ``C``:

* ``parse(text) -> C`` / ``to_string(cell) -> str``: the space's official string (NB201 ``|op~0|+...``, NB101 spec
  string, DARTS ``Genotype(...)``); ``parse(to_string(c)) == c``. A malformed string raises
  ``lso.errors.ArchStringError`` (an ``LsoError``) naming the problem in one line.
* ``canonical(cell) -> str``: equal for cells that compute the same function (isomorphic), different otherwise.
* ``is_valid(cell)``: the cell lies in the space (a parsed cell may still break the space's budget, e.g. NB101's
  9 edges, or be disconnected).
* ``sample(n, generator)``: ``n`` valid cells drawn from the generator passed in (``numpy.random.Generator`` or
  ``torch.Generator``), never from a global RNG; the same generator state gives the same cells.
* ``enumerate()``: every cell the space's benchmark lists, when that is small enough to hold; raises
  ``SpaceTooLargeError`` otherwise (DARTS).
* ``graph_tensors(cell) -> CellGraph``: the cell as labelled DAG tensors (shapes in ``CellGraph``).
* ``num_params(cell)`` / ``flops(cell)``: cost of the space's macro network; ``NotImplementedError`` with a clear
  message where not implemented yet.

``isinstance(obj, SearchSpace)`` checks that the members exist (``typing.runtime_checkable``), not their types.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np
import torch

from lso.errors import LsoError

C = TypeVar("C")


class SpaceError(LsoError, ValueError):
    """A request a space cannot serve: an unknown space name, a bad generator, a cell of another space."""


class SpaceTooLargeError(SpaceError):
    """``enumerate()`` on a space too large to list (sample it instead)."""


@dataclass(frozen=True)
class CellGraph:
    """One cell as a labelled DAG, the input of a graph encoder.

    Nodes are numbered in topological order (every edge goes from a lower to a higher node).

    Attributes:
        node_ops: LongTensor ``[N]``, each node's label as an index into the space's ``node_labels``.
        edge_index: LongTensor ``[2, E]``, row 0 the source and row 1 the target of each edge; edges are sorted by
            (target, source), i.e. grouped by the node they enter, as the NB201 string lists them.
        edge_ops: LongTensor ``[E]``, each edge's label as an index into the space's ``edge_labels`` (spaces with
            operations on nodes, such as NB101, have the single edge label ``"edge"``: all zeros).

    ``N`` is fixed per space (NB201: 4, DARTS: 14) or at most ``max_nodes`` (NB101: 2..7, the pruned cell).
    """

    node_ops: torch.Tensor
    edge_index: torch.Tensor
    edge_ops: torch.Tensor

    @property
    def num_nodes(self) -> int:
        return int(self.node_ops.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])

    @property
    def adjacency(self) -> torch.Tensor:
        """LongTensor ``[N, N]``: ``adjacency[s, t] = 1`` for an edge ``s -> t`` (upper triangular)."""
        adj = torch.zeros(self.num_nodes, self.num_nodes, dtype=torch.long)
        adj[self.edge_index[0], self.edge_index[1]] = 1
        return adj


def make_graph(node_ops: Sequence[int], edges: Iterable[tuple[int, int, int]]) -> CellGraph:
    """A ``CellGraph`` from node label indices and ``(source, target, edge label index)`` triples (any order)."""
    triples = sorted(edges, key=lambda e: (e[1], e[0]))
    if triples:
        src, dst, ops = zip(*triples)
    else:
        src, dst, ops = (), (), ()
    return CellGraph(
        node_ops=torch.tensor(list(node_ops), dtype=torch.long),
        edge_index=torch.tensor([list(src), list(dst)], dtype=torch.long).reshape(2, -1),
        edge_ops=torch.tensor(list(ops), dtype=torch.long),
    )


def numpy_rng(generator: np.random.Generator | torch.Generator) -> np.random.Generator:
    """The numpy generator to draw from: ``generator`` itself, or one seeded by a draw from a ``torch.Generator``.

    A torch generator advances by one draw, so repeated calls with the same generator give fresh samples while the
    same starting state gives the same samples.
    """
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, torch.Generator):
        seed = int(torch.randint(0, 2**62, (1,), generator=generator).item())
        return np.random.default_rng(seed)
    raise SpaceError(
        f"sample() needs a numpy.random.Generator or a torch.Generator, got {type(generator).__name__} "
        "(lso draws no global random numbers: build one with numpy.random.default_rng(seed))"
    )


def check_count(n: int) -> int:
    """``n`` as a non-negative int (a sample size)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise SpaceError(f"a sample size must be an integer >= 0, got {n!r}")
    return int(n)


@runtime_checkable
class SearchSpace(Protocol[C]):
    """A search space (see the module docstring for the contract of each member).

    Attributes:
        name: the registry name (``"nb201"``, ``"nb101"``, ``"darts"``).
        cell_type: the class of the space's cells.
        node_labels / edge_labels: vocabularies of ``CellGraph.node_ops`` / ``CellGraph.edge_ops``.
        max_nodes: the largest ``N`` of ``graph_tensors``.
    """

    name: str
    cell_type: type
    node_labels: tuple[str, ...]
    edge_labels: tuple[str, ...]
    max_nodes: int

    def parse(self, text: str) -> C: ...

    def to_string(self, cell: C) -> str: ...

    def canonical(self, cell: C) -> str: ...

    def is_valid(self, cell: C) -> bool: ...

    def sample(self, n: int, generator: np.random.Generator | torch.Generator) -> list[C]: ...

    def enumerate(self) -> Sequence[C]: ...

    def graph_tensors(self, cell: C) -> CellGraph: ...

    def num_params(self, cell: C) -> int: ...

    def flops(self, cell: C) -> int: ...
