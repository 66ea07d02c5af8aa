"""The one architecture type of the workbench: a NAS-Bench-201 cell.

A cell is a DAG of 4 nodes (0 is the input, 3 the output). Each of the 6 edges ``j <- i`` (``i < j``) carries one of
5 operations. The official string lists, for node j = 1, 2, 3, the edges into j from nodes 0..j-1::

    |op~0|+|op~0|op~1|+|op~0|op~1|op~2|

``Cell.ops`` keeps the 6 operations in that same order (``EDGES``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from lso.errors import ArchStringError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""The 5 operations, in the official NAS-Bench-201 order (the order of its enumeration and of decoder logits)."""

NUM_NODES = 4
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
"""The 6 edge slots as ``(to, from)`` pairs, in the order of the official string."""
NUM_EDGES = len(EDGES)

_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_TOKEN = re.compile(r"^([A-Za-z0-9_]+)~(\d+)$")


@dataclass(frozen=True, slots=True)
class Cell:
    """An immutable NAS-Bench-201 cell.

    Args:
        ops: the 6 operation names, one per edge slot in ``EDGES`` order.

    Build one with ``Cell.from_string("|nor_conv_3x3~0|+|...|")`` or ``Cell.from_indices([3, 3, 0, 1, 3, 3])``.
    """

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        ops = tuple(self.ops)
        if len(ops) != NUM_EDGES:
            raise ArchStringError(f"a NAS-Bench-201 cell has {NUM_EDGES} edges, got {len(ops)} operations")
        for op in ops:
            if op not in _OP_INDEX:
                raise ArchStringError(f"unknown operation {op!r}; expected one of {', '.join(OPS)}")
        object.__setattr__(self, "ops", ops)

    # ----- construction -----------------------------------------------------------------------------------------
    @classmethod
    def from_string(cls, arch: str) -> "Cell":
        """Parse the official string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` (surrounding whitespace is ignored)."""
        if not isinstance(arch, str):
            raise ArchStringError(f"an architecture string must be a str, got {type(arch).__name__}")
        text = arch.strip()
        groups = text.split("+")
        if len(groups) != NUM_NODES - 1:
            raise ArchStringError(
                f"malformed arch string {arch!r}: expected {NUM_NODES - 1} node groups joined by '+', got {len(groups)}"
            )
        ops: list[str] = []
        for node, group in enumerate(groups, start=1):
            if len(group) < 2 or not (group.startswith("|") and group.endswith("|")):
                raise ArchStringError(f"malformed arch string {arch!r}: group {node} {group!r} must be |op~i|...|")
            tokens = group[1:-1].split("|")
            if len(tokens) != node:
                raise ArchStringError(
                    f"malformed arch string {arch!r}: node {node} needs {node} incoming edges, got {len(tokens)}"
                )
            for source, token in enumerate(tokens):
                match = _TOKEN.match(token)
                if match is None:
                    raise ArchStringError(f"malformed arch string {arch!r}: edge {token!r} is not of the form op~i")
                op, src = match.group(1), int(match.group(2))
                if op not in _OP_INDEX:
                    raise ArchStringError(
                        f"unknown operation {op!r} in arch string {arch!r}; expected one of {', '.join(OPS)}"
                    )
                if src != source:
                    raise ArchStringError(
                        f"malformed arch string {arch!r}: edge {token!r} into node {node} should come from node {source}"
                    )
                ops.append(op)
        return cls(tuple(ops))

    @classmethod
    def from_indices(cls, indices: Iterable[int]) -> "Cell":
        """Build a cell from 6 operation indices into ``OPS``."""
        idx = [int(i) for i in indices]
        for i in idx:
            if not 0 <= i < len(OPS):
                raise ArchStringError(f"operation index {i} out of range 0..{len(OPS) - 1}")
        return cls(tuple(OPS[i] for i in idx))

    @classmethod
    def parse(cls, arch: "Cell | str | Sequence[int]") -> "Cell":
        """Accept a Cell, an official string or a sequence of 6 operation indices."""
        if isinstance(arch, Cell):
            return arch
        if isinstance(arch, str):
            return cls.from_string(arch)
        return cls.from_indices(arch)

    # ----- views ------------------------------------------------------------------------------------------------
    def to_string(self) -> str:
        """The official NAS-Bench-201 string."""
        groups, k = [], 0
        for node in range(1, NUM_NODES):
            groups.append("|" + "|".join(f"{self.ops[k + s]}~{s}" for s in range(node)) + "|")
            k += node
        return "+".join(groups)

    def __str__(self) -> str:
        return self.to_string()

    @property
    def indices(self) -> tuple[int, ...]:
        """The 6 operation indices into ``OPS``, in edge-slot order."""
        return tuple(_OP_INDEX[op] for op in self.ops)

    def op(self, to: int, frm: int) -> str:
        """The operation on edge ``to <- frm``."""
        return self.ops[EDGES.index((to, frm))]

    def with_op(self, slot: int, op: str) -> "Cell":
        """A copy with edge slot ``slot`` (0..5) set to ``op``."""
        ops = list(self.ops)
        ops[slot] = op
        return Cell(tuple(ops))

    def neighbours(self) -> list["Cell"]:
        """All 24 cells that differ from this one on exactly one edge."""
        return [self.with_op(s, op) for s in range(NUM_EDGES) for op in OPS if op != self.ops[s]]

    # ----- structure --------------------------------------------------------------------------------------------
    def live_edges(self) -> tuple[bool, ...]:
        """Per edge slot: True when the edge lies on some input-to-output path of non-``none`` edges.

        An edge is dead when it carries ``none``, when its source is unreachable from the input, or when its
        target cannot reach the output: a dead edge does not change what the cell computes.
        """
        active = [op != "none" for op in self.ops]
        from_input = {0}
        for (to, frm), on in zip(EDGES, active):  # EDGES are in topological order of `to`
            if on and frm in from_input:
                from_input.add(to)
        to_output = {NUM_NODES - 1}
        for (to, frm), on in reversed(list(zip(EDGES, active))):
            if on and to in to_output:
                to_output.add(frm)
        return tuple(on and frm in from_input and to in to_output for (to, frm), on in zip(EDGES, active))

    def dead_edges(self) -> tuple[bool, ...]:
        """Per edge slot: True when the edge does not affect the output (see ``live_edges``)."""
        return tuple(not live for live in self.live_edges())

    @property
    def is_disconnected(self) -> bool:
        """True when no path of non-``none`` edges joins the input to the output (the cell outputs zero)."""
        return not any(self.live_edges())

    def canonical(self) -> str:
        """A canonical string shared by isomorphic cells (same function), NAS-Bench-201's convention.

        Each node is written as the sorted sum of its incoming terms: ``skip_connect`` passes its source's form
        through, ``none`` (or a zero source) gives the zero term ``#``, any other op wraps its source as
        ``(src)@op``. Sorting makes the form independent of the order of intermediate nodes and edges. Over the
        15,625 cells this gives the 6,466 unique cells that NAS-Bench-201 reports.
        """
        forms = ["0"]
        k = 0
        for node in range(1, NUM_NODES):
            terms = []
            for src in range(node):
                op, form = self.ops[k], forms[src]
                k += 1
                if op == "none" or form == "#":
                    terms.append("#")
                elif op == "skip_connect":
                    terms.append(form)
                else:
                    terms.append(f"({form})@{op}")
            forms.append("+".join(sorted(terms)))
        return forms[-1]

    def is_isomorphic(self, other: "Cell") -> bool:
        """True when both cells compute the same function (same canonical form)."""
        return self.canonical() == other.canonical()
