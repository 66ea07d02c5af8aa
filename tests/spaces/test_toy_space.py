"""A user's own search space: the documented example (README, "Your own search space"). Implementing the members of
``lso.spaces.SearchSpace`` is all it takes; ``isinstance`` checks them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from lso.errors import ArchStringError
from lso.spaces import CellGraph, SearchSpace, make_graph, numpy_rng

# ---- the example, as in the docs --------------------------------------------------------------------------------
LAYERS = ("conv", "pool", "id")


@dataclass(frozen=True)
class ChainSpace:
    """Cells are chains of 3 layers, written 'conv-pool-id'; 'id' layers do nothing."""

    name: ClassVar[str] = "chain"
    cell_type: ClassVar[type] = tuple
    node_labels: ClassVar[tuple[str, ...]] = ("input", *LAYERS)
    edge_labels: ClassVar[tuple[str, ...]] = ("edge",)
    max_nodes: ClassVar[int] = 4

    def parse(self, text: str) -> tuple[str, ...]:
        cell = tuple(text.strip().split("-"))
        if len(cell) != 3 or any(layer not in LAYERS for layer in cell):
            raise ArchStringError(f"a chain cell is 3 of {'/'.join(LAYERS)} joined by '-', got {text!r}")
        return cell

    def to_string(self, cell: tuple[str, ...]) -> str:
        return "-".join(cell)

    def canonical(self, cell: tuple[str, ...]) -> str:
        return "-".join(layer for layer in cell if layer != "id") or "id"  # identities change nothing

    def is_valid(self, cell: tuple[str, ...]) -> bool:
        return len(cell) == 3 and all(layer in LAYERS for layer in cell)

    def sample(self, n, generator) -> list[tuple[str, ...]]:
        rng = numpy_rng(generator)  # accepts numpy and torch generators
        return [tuple(LAYERS[i] for i in row) for row in rng.integers(0, 3, size=(n, 3)).tolist()]

    def enumerate(self) -> list[tuple[str, ...]]:
        return list(itertools.product(LAYERS, repeat=3))

    def graph_tensors(self, cell: tuple[str, ...]) -> CellGraph:
        nodes = [0] + [1 + LAYERS.index(layer) for layer in cell]
        return make_graph(nodes, [(i, i + 1, 0) for i in range(3)])

    def num_params(self, cell: tuple[str, ...]) -> int:
        return 9 * 16 * 16 * cell.count("conv")

    def flops(self, cell: tuple[str, ...]) -> int:
        raise NotImplementedError("the chain space has no FLOPs count")
# ---- end of the example -----------------------------------------------------------------------------------------


def test_the_toy_space_meets_the_protocol():
    space = ChainSpace()
    assert isinstance(space, SearchSpace)
    cells = space.enumerate()
    assert len(cells) == 27 and len({space.canonical(c) for c in cells}) == 15  # 1 + 2 + 4 + 8 id-free chains
    assert all(space.parse(space.to_string(c)) == c for c in cells)
    a = space.sample(50, np.random.default_rng(0))
    assert a == space.sample(50, np.random.default_rng(0)) and all(space.is_valid(c) for c in a)
    g = space.graph_tensors(("conv", "id", "pool"))
    assert g.node_ops.tolist() == [0, 1, 3, 2] and g.adjacency.sum() == 3
    with pytest.raises(ArchStringError):
        space.parse("conv-conv")


def test_an_incomplete_space_is_not_a_search_space():
    @dataclass(frozen=True)
    class NoSampling:
        name: ClassVar[str] = "broken"

        def parse(self, text: str):
            return text

    assert not isinstance(NoSampling(), SearchSpace)
    members = [m for m in dir(ChainSpace) if not m.startswith("_")]
    for missing in ("sample", "canonical", "graph_tensors", "max_nodes"):
        reduced = type("Reduced", (), {m: getattr(ChainSpace, m) for m in members if m != missing})
        assert not isinstance(reduced(), SearchSpace), missing
