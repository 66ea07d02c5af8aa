"""The DARTS / NAS-Bench-301 space as a ``SearchSpace``: genotypes, their official string, canonical form, sampling.

A genotype (Liu et al. 2019; NB301, Siems et al. 2020) has a normal and a reduction cell. Each cell has two input
nodes, 0 = the output of the cell two back (c_{k-2}) and 1 = of the previous cell (c_{k-1}), and 4 intermediate
nodes 2..5. Intermediate node ``j`` sums 2 edges, each an operation applied to an earlier node (0..j-1); the cell's
output concatenates nodes 2..5. A cell lists its 8 edges as ``(op, input)`` pairs, two per node in node order.

The string is the one the DARTS code prints (``str`` of its ``Genotype`` namedtuple)::

    Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5],
             reduce=[('max_pool_3x3', 0), ...], reduce_concat=[2, 3, 4, 5])

``normal_concat=range(2, 6)`` (what DARTS's search prints) is read too; ``to_string`` writes ``[2, 3, 4, 5]``.
The string is parsed by hand, never evaluated.

The space of NB301 uses the 7 operations without ``none``, and two different inputs per node: ~1.08e18 genotypes
(``num_genotypes``). ``none`` (DARTS's ``PRIMITIVES[0]``, kept so indices match the DARTS code) parses, but a genotype
using it is not valid.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from lso.errors import ArchStringError, shown
from lso.spaces.protocol import (
    CellGraph,
    SpaceError,
    SpaceTooLargeError,
    check_count,
    make_graph,
    numpy_rng,
)

PRIMITIVES: tuple[str, ...] = (
    "none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5",
)
"""DARTS's operations in the order of its code (``genotypes.PRIMITIVES``): indices of decoder logits and edge labels."""
OPS: tuple[str, ...] = PRIMITIVES[1:]
"""The 7 operations of the space (NB301)."""
STEPS = 4
EDGES_PER_CELL = 2 * STEPS
CONCAT: tuple[int, ...] = tuple(range(2, 2 + STEPS))

Edges = tuple[tuple[str, int], ...]

_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")
_PAIR = re.compile(r"""^\(\s*(['"])([A-Za-z0-9_]+)\1\s*,\s*(\d+)\s*\)$""")
_RANGE = re.compile(r"^range\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
_INTS = re.compile(r"^\[\s*(\d+(\s*,\s*\d+)*)?\s*,?\s*\]$")


def _check_cell(edges: Edges, which: str) -> Edges:
    edges = tuple((str(op), int(src)) for op, src in edges)
    if len(edges) != EDGES_PER_CELL:
        raise ArchStringError(f"a DARTS {which} cell has {EDGES_PER_CELL} edges (2 per node), got {len(edges)}")
    for k, (op, src) in enumerate(edges):
        if op not in PRIMITIVES:
            raise ArchStringError(f"unknown DARTS operation {shown(op)} in the {which} cell; expected one of {', '.join(PRIMITIVES)}")
        node = 2 + k // 2
        if not 0 <= src < node:
            raise ArchStringError(f"edge {k} of the {which} cell enters node {node} from node {src}: inputs must be 0..{node - 1}")
    return edges


@dataclass(frozen=True, slots=True)
class DartsGenotype:
    """A DARTS genotype: the 8 ``(op, input)`` edges of the normal and of the reduction cell (module docstring)."""

    normal: Edges
    reduce: Edges

    def __post_init__(self) -> None:
        object.__setattr__(self, "normal", _check_cell(self.normal, "normal"))
        object.__setattr__(self, "reduce", _check_cell(self.reduce, "reduce"))

    def to_string(self) -> str:
        def cell(edges: Edges) -> str:
            return "[" + ", ".join(f"('{op}', {src})" for op, src in edges) + "]"

        concat = "[" + ", ".join(map(str, CONCAT)) + "]"
        return f"Genotype(normal={cell(self.normal)}, normal_concat={concat}, reduce={cell(self.reduce)}, reduce_concat={concat})"

    def __str__(self) -> str:
        return self.to_string()

    @classmethod
    def from_string(cls, text: str) -> DartsGenotype:
        """Parse the DARTS code's genotype string (module docstring)."""
        if not isinstance(text, str):
            raise ArchStringError(f"a DARTS genotype string must be a str, got {type(text).__name__}")
        body = text.strip()
        if not (body.startswith("Genotype(") and body.endswith(")")):
            raise ArchStringError(f"malformed DARTS genotype {shown(text)}: expected Genotype(normal=[...], normal_concat=[...], reduce=[...], reduce_concat=[...])")
        fields: dict[str, str] = {}
        for item in _split_top(body[len("Genotype("):-1], text):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or key not in _FIELDS:
                raise ArchStringError(f"malformed DARTS genotype {shown(text)}: unexpected field {shown(item.strip())}")
            if key in fields:
                raise ArchStringError(f"malformed DARTS genotype {shown(text)}: field {key} given twice")
            fields[key] = value.strip()
        missing = [f for f in _FIELDS if f not in fields]
        if missing:
            raise ArchStringError(f"malformed DARTS genotype {shown(text)}: missing field {', '.join(missing)}")
        for key in ("normal_concat", "reduce_concat"):
            concat = _parse_concat(fields[key], key, text)
            if concat != CONCAT:
                raise ArchStringError(f"{key}={list(concat)} in {shown(text)}: this space concatenates nodes {list(CONCAT)}")
        return cls(_parse_edges(fields["normal"], "normal", text), _parse_edges(fields["reduce"], "reduce", text))


def _split_top(body: str, text: str) -> list[str]:
    """``body`` split at the commas outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
            if depth < 0:
                raise ArchStringError(f"malformed DARTS genotype {shown(text)}: unbalanced brackets")
        elif ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    if depth != 0:
        raise ArchStringError(f"malformed DARTS genotype {shown(text)}: unbalanced brackets")
    parts.append(body[start:])
    if not parts[-1].strip():  # a trailing comma, as Python allows
        parts.pop()
    if any(not p.strip() for p in parts):
        raise ArchStringError(f"malformed DARTS genotype {shown(text)}: empty item between commas")
    return parts


def _parse_edges(value: str, which: str, text: str) -> Edges:
    if not (value.startswith("[") and value.endswith("]")):
        raise ArchStringError(f"malformed DARTS genotype {shown(text)}: {which} must be a list [('op', input), ...]")
    edges = []
    for item in _split_top(value[1:-1], text):
        match = _PAIR.match(item.strip())
        if match is None:
            raise ArchStringError(f"malformed DARTS genotype {shown(text)}: {which} edge {shown(item.strip())} is not ('op', input)")
        edges.append((match.group(2), int(match.group(3))))
    return tuple(edges)


def _parse_concat(value: str, key: str, text: str) -> tuple[int, ...]:
    match = _RANGE.match(value)
    if match is not None:
        return tuple(range(int(match.group(1)), int(match.group(2))))
    if _INTS.match(value) is None:
        raise ArchStringError(f"malformed DARTS genotype {shown(text)}: {key} must be [2, 3, 4, 5] or range(2, 6)")
    return tuple(int(x) for x in re.findall(r"\d+", value))


def _genotype(cell: object) -> DartsGenotype:
    if not isinstance(cell, DartsGenotype):
        raise SpaceError(f"the darts space takes DartsGenotype objects, got {type(cell).__name__}")
    return cell


def cell_canonical(edges: Edges) -> str:
    """A form of one cell shared by cells that compute the same function.

    Node ``j`` is written ``{op(form of input)+op(form of input)}`` with its two terms sorted (their order does not
    matter), the inputs as ``c0``/``c1``; the cell is the sorted list of its 4 node forms, since the output
    concatenates them all (renumbering the intermediate nodes only permutes the output channels).
    """
    forms = ["c0", "c1"]
    for j in range(STEPS):
        terms = sorted(f"{op}({forms[src]})" for op, src in edges[2 * j:2 * j + 2])
        forms.append("{" + "+".join(terms) + "}")
    return ",".join(sorted(forms[2:]))


def num_genotypes() -> int:
    """Genotypes of the space up to the order of each node's two inputs: (prod_j C(j+2, 2) * 7^8)^2 ~ 1.08e18."""
    per_cell = math.prod(math.comb(j + 2, 2) for j in range(STEPS)) * len(OPS) ** EDGES_PER_CELL
    return per_cell**2


_NODE_NAMES = ("in0", "in1", *(f"node{j}" for j in CONCAT), "out")


@dataclass(frozen=True)
class DartsSpace:
    """The DARTS / NAS-Bench-301 space (module docstring).

    ``graph_tensors``: 14 nodes, the normal cell's ``in0, in1, node2..node5, out`` (0..6) then the reduction cell's
    (7..13), each node labelled by its place; the 8 op edges of a cell carry ``PRIMITIVES`` indices and the 4 edges
    ``node -> out`` the label ``concat``: 24 edges.
    """

    name: ClassVar[str] = "darts"
    cell_type: ClassVar[type] = DartsGenotype
    node_labels: ClassVar[tuple[str, ...]] = tuple(f"{c}_{n}" for c in ("normal", "reduce") for n in _NODE_NAMES)
    edge_labels: ClassVar[tuple[str, ...]] = (*PRIMITIVES, "concat")
    max_nodes: ClassVar[int] = 2 * len(_NODE_NAMES)

    def parse(self, text: str) -> DartsGenotype:
        return DartsGenotype.from_string(text)

    def to_string(self, cell: DartsGenotype) -> str:
        return _genotype(cell).to_string()

    def canonical(self, cell: DartsGenotype) -> str:
        """``normal:<form>;reduce:<form>`` with the forms of ``cell_canonical``."""
        g = _genotype(cell)
        return f"normal:{cell_canonical(g.normal)};reduce:{cell_canonical(g.reduce)}"

    def is_valid(self, cell: DartsGenotype) -> bool:
        """No ``none`` edge and two different inputs per node (the NB301 space)."""
        g = _genotype(cell)
        for edges in (g.normal, g.reduce):
            if any(op == "none" for op, _ in edges):
                return False
            if any(edges[2 * j][1] == edges[2 * j + 1][1] for j in range(STEPS)):
                return False
        return True

    def sample(self, n: int, generator: np.random.Generator | torch.Generator) -> list[DartsGenotype]:
        """``n`` genotypes uniform over the space: per node two different inputs, per edge one of the 7 ops."""
        rng = numpy_rng(generator)

        def cell() -> Edges:
            edges = []
            for j in range(STEPS):
                inputs = sorted(rng.choice(j + 2, size=2, replace=False).tolist())
                edges += [(OPS[int(rng.integers(len(OPS)))], src) for src in inputs]
            return tuple(edges)

        return [DartsGenotype(cell(), cell()) for _ in range(check_count(n))]

    def enumerate(self) -> tuple[DartsGenotype, ...]:
        raise SpaceTooLargeError(f"the DARTS space has {num_genotypes():.3g} genotypes and cannot be listed: sample it")

    def graph_tensors(self, cell: DartsGenotype) -> CellGraph:
        g = _genotype(cell)
        size, concat = len(_NODE_NAMES), len(PRIMITIVES)
        edges = []
        for offset, cell_edges in ((0, g.normal), (size, g.reduce)):
            edges += [(offset + src, offset + 2 + k // 2, PRIMITIVES.index(op)) for k, (op, src) in enumerate(cell_edges)]
            edges += [(offset + node, offset + size - 1, concat) for node in CONCAT]
        return make_graph(range(2 * size), edges)

    def num_params(self, cell: DartsGenotype, channels: int = 32, layers: int = 8, num_classes: int = 10,
                   in_channels: int = 3) -> int:
        """Trainable parameters of the DARTS network around the genotype (``lso.spaces.darts_cost.darts_params``);
        defaults: NB301's CIFAR-10 network (C=32, 8 cells). DARTS's own is channels=36, layers=20 (DARTS V2:
        3,349,342)."""
        from lso.spaces.darts_cost import darts_params  # it needs this module's constants

        return darts_params(_genotype(cell), channels, layers, num_classes, in_channels)

    def flops(self, cell: DartsGenotype) -> int:
        raise NotImplementedError("no analytic FLOPs count of the DARTS network yet: the training oracle measures "
                                  "each trained network's (lso.nets.space_trainer.forward_macs)")
