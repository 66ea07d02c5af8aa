"""Fixed-size decoder targets of NB101 and DARTS cells, and decodings that are valid by construction.

A codec turns cells into the integer targets of a decoder that emits ``logit_size`` logits per cell, scores logits
against targets (cross-entropy summed over the slots, mean over cells) and turns any logits back into cells that
are always valid in the space, whatever the logits (``nan``/``inf`` included).

**NB101** (``Nb101Codec``): the pruned cell, numbered canonically (``canonical_numbering``), is laid into 7 slots:
slot 0 the input, slot 6 the output, slots ``1..V-2`` the interior vertices and the others ``absent``. Targets
``[n, 26]``: a label per interior slot (``conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3, absent``) and a 0/1 per
upper-triangular slot pair ``s < t`` (21, row-major). Logits ``[n, 5 * 4 + 21]``. Decoding: slot labels by arg-max;
then, over the present slots, the path from input to output that least contradicts the edge logits (the path
maximising ``sum min(0, logit)``, by dynamic programming over the DAG: when the edges with logit > 0 already join
input to output this path costs 0 and adds nothing they do not hold); then the other edges with logit > 0, most
likely first, each kept only if the live (input-to-output) edges stay <= 9. The result joins input to output, has
<= 7 vertices and <= 9 edges once pruned: always valid.

**DARTS** (``DartsCodec``): per cell (normal, reduce) and per intermediate node ``j = 2..5``, the pair of inputs
(one of the ``C(j, 2)`` pairs ``a < b`` of earlier nodes, so two different inputs) and the operation on each input
(one of the 7 operations, never ``none``). Targets ``[n, 24]`` (per cell and node: pair index, op of ``a``, op of
``b``); logits ``[n, 152]``. Decoding takes the arg-max of every head: always valid.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

import numpy as np
import torch
from torch.nn import functional as F

from lso.spaces import DartsGenotype, DartsSpace, Nb101Cell, Nb101Space, SearchSpace, SpaceError
from lso.spaces.darts import OPS as DARTS_OPS
from lso.spaces.darts import STEPS
from lso.spaces.nb101 import INPUT, MAX_EDGES, MAX_VERTICES, OUTPUT
from lso.spaces.nb101 import OPS as NB101_OPS


class SpaceCodec(Protocol):
    """What ``SpaceVAE`` needs of a space besides its graphs (module docstring)."""

    space: SearchSpace
    logit_size: int

    def normalize(self, cell: Any) -> Any: ...

    def targets(self, cells: Sequence[Any]) -> torch.Tensor: ...

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor: ...

    def slot_hits(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor: ...

    def decode(self, logits: torch.Tensor) -> list[Any]: ...


def _finite(logits: torch.Tensor) -> np.ndarray:
    """Logits as float64 numpy with nan -> 0 and +-inf -> +-1e30, so decoding never sees a non-number."""
    return np.nan_to_num(logits.detach().double().cpu().numpy(), nan=0.0, posinf=1e30, neginf=-1e30)


# ----- NB101 ---------------------------------------------------------------------------------------------------------
SLOTS = MAX_VERTICES
INTERIOR = SLOTS - 2
ABSENT = len(NB101_OPS)  # label index of an empty interior slot
NODE_CLASSES = len(NB101_OPS) + 1
PAIRS: tuple[tuple[int, int], ...] = tuple((s, t) for s in range(SLOTS) for t in range(s + 1, SLOTS))


@cache
def _orders(v: int) -> np.ndarray:
    """Every numbering that keeps input first and output last, ``[(v-2)!, v]``."""
    return np.array([(0, *p, v - 1) for p in itertools.permutations(range(1, v - 1))], dtype=np.int64)


def canonical_numbering(cell: Nb101Cell) -> Nb101Cell:
    """The pruned ``cell`` renumbered canonically: among the numberings that keep it upper triangular, the one with
    the smallest ``(vertex labels, matrix rows)`` key. Isomorphic cells get the same matrix and ops."""
    pruned = cell.pruned()
    if pruned is None:
        raise SpaceError(f"NB101 cell {cell} joins no path from input to output")
    matrix, labels = np.array(pruned.matrix, dtype=np.int64), np.array(pruned.labels, dtype=np.int64)
    orders = _orders(len(labels))
    permuted = matrix[orders[:, :, None], orders[:, None, :]]  # [P, v, v]
    upper = ~np.tril(permuted).any(axis=(1, 2))
    keys = np.concatenate([labels[orders], permuted.reshape(len(orders), -1)], axis=1)[upper]
    order = orders[upper][np.lexsort(keys.T[::-1])[0]]
    renumbered = matrix[order][:, order]
    return Nb101Cell(tuple(map(tuple, renumbered.tolist())), tuple(pruned.ops[i] for i in order))


def _live_edges(edges: set[tuple[int, int]]) -> int:
    """Edges on some input (slot 0) -> output (slot 6) path."""
    fwd, back = {0}, {SLOTS - 1}
    for s, t in sorted(edges):
        if s in fwd:
            fwd.add(t)
    for s, t in sorted(edges, key=lambda e: -e[1]):
        if t in back:
            back.add(s)
    return sum(1 for s, t in edges if s in fwd and t in back)


def _decode_nb101(labels: np.ndarray, edge_logits: np.ndarray) -> Nb101Cell:
    """One valid cell from interior slot labels ``[5]`` and pair logits ``[21]`` (module docstring)."""
    present = [0, *(i + 1 for i in range(INTERIOR) if labels[i] != ABSENT), SLOTS - 1]
    logit = {pair: float(x) for pair, x in zip(PAIRS, edge_logits)}
    best, prev = {0: 0.0}, {}
    for t in present[1:]:
        score, s = max((best[s] + min(0.0, logit[s, t]), s) for s in present if s < t)
        best[t], prev[t] = score, s
    chosen, t = set(), SLOTS - 1
    while t != 0:
        chosen.add((prev[t], t))
        t = prev[t]
    extra = sorted(((logit[s, t], s, t) for s in present for t in present if s < t and logit[s, t] > 0), reverse=True)
    for _, s, t in extra:
        if (s, t) not in chosen and _live_edges(chosen | {(s, t)}) <= MAX_EDGES:
            chosen.add((s, t))
    index = {slot: k for k, slot in enumerate(present)}
    matrix = [[0] * len(present) for _ in present]
    for s, t in chosen:
        matrix[index[s]][index[t]] = 1
    ops = [INPUT, *(NB101_OPS[int(labels[i - 1])] for i in present[1:-1]), OUTPUT]
    return Nb101Cell(tuple(map(tuple, matrix)), tuple(ops)).pruned()  # the path survives pruning: never None


class Nb101Codec:
    """NB101 cells <-> slot targets (module docstring)."""

    logit_size = INTERIOR * NODE_CLASSES + len(PAIRS)

    def __init__(self, space: Nb101Space | None = None) -> None:
        self.space = space or Nb101Space()

    def normalize(self, cell: Nb101Cell) -> Nb101Cell:
        return canonical_numbering(cell)

    def targets(self, cells: Sequence[Nb101Cell]) -> torch.Tensor:
        """LongTensor ``[n, 26]`` of normalized cells: 5 interior slot labels, then 21 pair bits."""
        out = torch.zeros(len(cells), INTERIOR + len(PAIRS), dtype=torch.long)
        out[:, :INTERIOR] = ABSENT
        for i, cell in enumerate(cells):
            v = cell.num_vertices
            slot = [*range(v - 1), SLOTS - 1]  # vertex -> slot
            out[i, : v - 2] = torch.tensor([NB101_OPS.index(op) for op in cell.ops[1:-1]], dtype=torch.long)
            for s in range(v):
                for t in range(s + 1, v):
                    if cell.matrix[s][t]:
                        out[i, INTERIOR + PAIRS.index((slot[s], slot[t]))] = 1
        return out

    def _split(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return logits[:, : INTERIOR * NODE_CLASSES].reshape(-1, INTERIOR, NODE_CLASSES), logits[:, INTERIOR * NODE_CLASSES:]

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """CE over the 5 slot labels + BCE over the 21 pairs, summed, mean over cells."""
        nodes, edges = self._split(logits)
        ce = F.cross_entropy(nodes.reshape(-1, NODE_CLASSES), targets[:, :INTERIOR].reshape(-1), reduction="sum")
        bce = F.binary_cross_entropy_with_logits(edges, targets[:, INTERIOR:].float(), reduction="sum")
        return (ce + bce) / logits.shape[0]

    def slot_hits(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """BoolTensor ``[n, 26]``: each slot's arg-max (label, or pair logit > 0) equals its target."""
        nodes, edges = self._split(logits)
        return torch.cat([nodes.argmax(-1) == targets[:, :INTERIOR], (edges > 0).long() == targets[:, INTERIOR:]], 1)

    def decode(self, logits: torch.Tensor) -> list[Nb101Cell]:
        """``n`` valid cells from logits ``[n, 41]``."""
        values = _finite(logits)
        labels = values[:, : INTERIOR * NODE_CLASSES].reshape(-1, INTERIOR, NODE_CLASSES).argmax(-1)
        return [_decode_nb101(labels[i], values[i, INTERIOR * NODE_CLASSES:]) for i in range(len(values))]


# ----- DARTS ---------------------------------------------------------------------------------------------------------
NODE_PAIRS: tuple[tuple[tuple[int, int], ...], ...] = tuple(
    tuple(itertools.combinations(range(j + 2), 2)) for j in range(STEPS)
)
"""Per intermediate node (2..5), its possible input pairs ``a < b``: 1, 3, 6, 10."""
_HEADS: tuple[int, ...] = tuple(  # the size of every logit head, in target order
    size for _ in range(2) for pairs in NODE_PAIRS for size in (len(pairs), len(DARTS_OPS), len(DARTS_OPS))
)
_OFFSETS = np.cumsum([0, *_HEADS]).tolist()


class DartsCodec:
    """DARTS genotypes <-> slot targets (module docstring)."""

    logit_size = int(_OFFSETS[-1])

    def __init__(self, space: DartsSpace | None = None) -> None:
        self.space = space or DartsSpace()

    def normalize(self, cell: DartsGenotype) -> DartsGenotype:
        """Each node's two edges sorted by input (the order the canonical form ignores)."""
        def cell_edges(edges):
            return tuple(e for j in range(STEPS) for e in sorted(edges[2 * j: 2 * j + 2], key=lambda e: (e[1], e[0])))

        return DartsGenotype(cell_edges(cell.normal), cell_edges(cell.reduce))

    def targets(self, cells: Sequence[DartsGenotype]) -> torch.Tensor:
        """LongTensor ``[n, 24]``: per cell and node, the pair index and the op of each input (valid cells)."""
        rows = []
        for g in cells:
            row = []
            for edges in (g.normal, g.reduce):
                for j in range(STEPS):
                    (op_a, a), (op_b, b) = edges[2 * j], edges[2 * j + 1]
                    row += [NODE_PAIRS[j].index((a, b)), DARTS_OPS.index(op_a), DARTS_OPS.index(op_b)]
            rows.append(row)
        return torch.tensor(rows, dtype=torch.long).reshape(-1, len(_HEADS))

    def _heads(self, logits: torch.Tensor) -> list[torch.Tensor]:
        return [logits[:, _OFFSETS[k]:_OFFSETS[k + 1]] for k in range(len(_HEADS))]

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """CE summed over the 24 heads, mean over cells."""
        total = sum(F.cross_entropy(h, targets[:, k], reduction="sum") for k, h in enumerate(self._heads(logits)))
        return total / logits.shape[0]

    def slot_hits(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """BoolTensor ``[n, 24]``: each head's arg-max equals its target."""
        return torch.stack([h.argmax(-1) == targets[:, k] for k, h in enumerate(self._heads(logits))], 1)

    def decode(self, logits: torch.Tensor) -> list[DartsGenotype]:
        """``n`` valid genotypes from logits ``[n, 152]``."""
        values = _finite(logits)
        picks = np.stack([values[:, _OFFSETS[k]:_OFFSETS[k + 1]].argmax(-1) for k in range(len(_HEADS))], 1)
        out = []
        for row in picks.tolist():
            cells = []
            for c in range(2):
                edges = []
                for j in range(STEPS):
                    pair, op_a, op_b = row[(c * STEPS + j) * 3: (c * STEPS + j) * 3 + 3]
                    a, b = NODE_PAIRS[j][pair]
                    edges += [(DARTS_OPS[op_a], a), (DARTS_OPS[op_b], b)]
                cells.append(tuple(edges))
            out.append(DartsGenotype(*cells))
        return out


def codec_for(space: SearchSpace) -> SpaceCodec:
    """The codec of ``space`` (``nb101`` or ``darts``); ``SpaceError`` for a space without one yet."""
    if isinstance(space, Nb101Space):
        return Nb101Codec(space)
    if isinstance(space, DartsSpace):
        return DartsCodec(space)
    raise SpaceError(
        f"no per-space G-VAE decoder for {space.name!r} yet (nb101, darts); NB201 uses lso.models.GVAE"
    )
