"""NAS-Bench-101 graph algorithms: pruning, the official graph hash, and the exhaustive enumeration of the space.

A cell is an upper-triangular 0/1 adjacency matrix ``[V, V]`` (``matrix[s][t] = 1`` for an edge ``s -> t``) with a
label per vertex: vertex 0 is the input, vertex V-1 the output, the others carry an operation.

**Pruning** (NB101's ``ModelSpec``): a vertex that is not both reachable from the input and able to reach the output
does not affect the output; such vertices are deleted with their edges. When fewer than 2 vertices remain the input
is not joined to the output and the cell is invalid.

**Hash** (NB101's ``graph_util.hash_module``, a Weisfeiler-Lehman-like colour refinement). Labels are integers:
input ``-1``, output ``-2``, operation ``k`` its position in ``conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3``.

1. each vertex starts as ``md5(str((out_degree, in_degree, label)))``;
2. ``V`` times, every vertex becomes ``md5(sorted in-neighbour hashes joined + "|" + sorted out-neighbour hashes
   joined + "|" + its own hash)``;
3. the graph hash is ``md5(str(sorted(vertex hashes)))``, as hex.

The strings hashed are exactly those of the NB101 code, so the hash of a pruned cell is the key of the official
dataset. Isomorphic graphs hash equal by construction; NB101 verified that non-isomorphic graphs of its space
(<= 7 vertices, <= 9 edges, 3 ops) never collide, giving 423,624 unique cells.

**Enumeration** (NB101's ``generate_graphs``): for V = 2..7, every bitmask of the V(V-1)/2 upper-triangular entries
(bit ``s + t(t-1)/2`` is the edge ``s -> t``), kept when every vertex but the output has an out-edge, every vertex
but the input an in-edge, and there are at most 9 edges; then every labelling of the V-2 interior vertices. The first
graph seen with a hash represents its class.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from lso.jobs import Reporter

Matrix = tuple[tuple[int, ...], ...]

INPUT_LABEL = -1
OUTPUT_LABEL = -2


def neighbours(matrix: Matrix) -> tuple[list[list[int]], list[list[int]]]:
    """``(ins, outs)``: per vertex, the list of its in-neighbours and of its out-neighbours."""
    n = len(matrix)
    ins: list[list[int]] = [[] for _ in range(n)]
    outs: list[list[int]] = [[] for _ in range(n)]
    for s in range(n):
        for t in range(n):
            if matrix[s][t]:
                outs[s].append(t)
                ins[t].append(s)
    return ins, outs


def hash_graph(ins: Sequence[Sequence[int]], outs: Sequence[Sequence[int]], labels: Sequence[int]) -> str:
    """The NB101 graph hash (module docstring) of a graph given by its neighbour lists and integer labels."""
    md5 = hashlib.md5  # local names: this runs ~10^6 times in an enumeration
    n = len(labels)
    h = [md5(str((len(outs[v]), len(ins[v]), labels[v])).encode()).hexdigest() for v in range(n)]
    for _ in range(n):
        h = [
            md5(
                ("".join(sorted([h[w] for w in ins[v]])) + "|" + "".join(sorted([h[w] for w in outs[v]])) + "|" + h[v])
                .encode()
            ).hexdigest()
            for v in range(n)
        ]
    return md5(str(sorted(h)).encode()).hexdigest()


def hash_matrix(matrix: Matrix, labels: Sequence[int]) -> str:
    """The NB101 graph hash of ``matrix`` ``[V, V]`` with integer ``labels`` ``[V]`` (no pruning)."""
    ins, outs = neighbours(matrix)
    return hash_graph(ins, outs, labels)


def prune(matrix: Matrix, ops: Sequence[str]) -> tuple[Matrix, tuple[str, ...]] | None:
    """The cell without the vertices off every input->output path, or ``None`` when input and output are apart."""
    n = len(matrix)
    ins, outs = neighbours(matrix)
    from_input, to_output = _reach(0, outs), _reach(n - 1, ins)
    keep = [v for v in range(n) if v in from_input and v in to_output]
    if len(keep) < 2:  # the input cannot reach the output
        return None
    pruned = tuple(tuple(matrix[s][t] for t in keep) for s in keep)
    return pruned, tuple(ops[v] for v in keep)


def _reach(start: int, step: Sequence[Sequence[int]]) -> set[int]:
    seen, frontier = {start}, [start]
    while frontier:
        for w in step[frontier.pop()]:
            if w not in seen:
                seen.add(w)
                frontier.append(w)
    return seen


def matrix_from_bits(bits: int, vertices: int) -> Matrix:
    """The upper-triangular matrix of ``bits`` (bit ``s + t(t-1)/2`` is the edge ``s -> t``), as NB101 numbers it."""
    return tuple(
        tuple(int(s < t and (bits >> (s + t * (t - 1) // 2)) & 1) for t in range(vertices)) for s in range(vertices)
    )


def full_dag_bitmasks(vertices: int, max_edges: int) -> list[int]:
    """Bitmasks of the V-vertex DAGs with every vertex on an input->output path and at most ``max_edges`` edges.

    A vertex other than the output needs an out-edge and one other than the input an in-edge (NB101's
    ``is_full_dag``); in a DAG numbered topologically this puts every vertex on an input->output path.
    """
    row_masks = [0] * vertices
    col_masks = [0] * vertices
    for t in range(1, vertices):
        for s in range(t):
            bit = 1 << (s + t * (t - 1) // 2)
            row_masks[s] |= bit
            col_masks[t] |= bit
    need = row_masks[: vertices - 1] + col_masks[1:]
    return [
        bits
        for bits in range(2 ** (vertices * (vertices - 1) // 2))
        if bits.bit_count() <= max_edges and all(bits & m for m in need)
    ]


@dataclass(frozen=True)
class Enumeration:
    """The unique cells of an NB101-style space, in NB101's generation order.

    Attributes:
        graphs: one ``(matrix, labels)`` per class, its first representative (integer labels, see ``hash_graph``).
        hashes: the class hashes, aligned with ``graphs``.
        total: graphs generated before de-duplication.
        unique_up_to: ``{V: unique classes with at most V vertices}`` (cumulative, as NB101 logs it).
    """

    graphs: tuple[tuple[Matrix, tuple[int, ...]], ...]
    hashes: tuple[str, ...]
    total: int
    unique_up_to: dict[int, int]


def enumerate_graphs(
    max_vertices: int = 7, max_edges: int = 9, num_ops: int = 3, reporter: Reporter | None = None
) -> Enumeration:
    """Every unique cell with at most ``max_vertices`` vertices and ``max_edges`` edges (module docstring).

    The full NB101 space (the defaults) gives 423,624 classes; it takes minutes in pure Python.
    """
    first: dict[str, int] = {}
    graphs: list[tuple[Matrix, tuple[int, ...]]] = []
    hashes: list[str] = []
    total, unique_up_to = 0, {}
    for vertices in range(2, max_vertices + 1):
        masks = full_dag_bitmasks(vertices, max_edges)
        for i, bits in enumerate(masks):
            matrix = matrix_from_bits(bits, vertices)
            ins, outs = neighbours(matrix)
            for interior in itertools.product(range(num_ops), repeat=vertices - 2):
                labels = (INPUT_LABEL, *interior, OUTPUT_LABEL)
                total += 1
                h = hash_graph(ins, outs, labels)
                if h not in first:
                    first[h] = len(graphs)
                    graphs.append((matrix, labels))
                    hashes.append(h)
            if reporter is not None and i % 1024 == 0:
                reporter(i, len(masks), f"{vertices} vertices", unique=len(graphs))
        unique_up_to[vertices] = len(graphs)
    return Enumeration(graphs=tuple(graphs), hashes=tuple(hashes), total=total, unique_up_to=unique_up_to)


def brute_force_form(matrix: Matrix, labels: Sequence[int]) -> tuple:
    """An exact isomorphism invariant by trying every order of the interior vertices (slow: (V-2)! orders).

    Input and output keep their places (their labels are unique). Used to check the hash on small graphs.
    """
    n = len(matrix)
    best = None
    for perm in itertools.permutations(range(1, n - 1)):
        order = (0, *perm, n - 1)
        form = (tuple(labels[v] for v in order), tuple(matrix[a][b] for a in order for b in order))
        if best is None or form < best:
            best = form
    return best
