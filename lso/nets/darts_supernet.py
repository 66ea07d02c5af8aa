"""The DARTS search model (Liu et al. 2019, ``model_search.Network``): every DARTS op on every edge of a cell whose
4 intermediate nodes read all earlier nodes, mixed by ``softmax(alpha)``; what MiLeNAS and first-order DARTS search
in the DARTS / NAS-Bench-301 space.

A search cell has 14 edges (``SEARCH_EDGES``: node ``j`` in 2..5 reads every node ``i < j``, 2 + 3 + 4 + 5 edges).
Edge ``j <- i`` computes the mixed op over the 8 ``PRIMITIVES``

    ``o_{j<-i}(x) = sum_k softmax(alpha_{j<-i})_k * op_k(x)``

node ``j = sum_{i<j} o_{j<-i}(node i)``, and the cell's output concatenates nodes 2..5. One ``alpha`` ``[28, 8]``
holds the normal cells' 14 rows then the reduction cells' 14 (all normal cells share the first half, all reduction
cells the second, as in DARTS). The ops, the preprocessing of the two inputs and the macro skeleton (stem, reduction
cells at ``layers // 3`` and ``2 * layers // 3``, pool, classifier) are those of ``lso.nets.darts_network``; as in
DARTS's search model, each pooling op is followed by a non-affine BN. ``none`` adds exactly zero and is skipped in
the sum (its weight still enters through the softmax).

``derive_genotype`` is DARTS's ``genotype()`` rule: per node, keep the two input edges whose strongest non-``none``
op weighs most, each with that op.
"""

from __future__ import annotations

import torch
from torch import nn

from lso.errors import ArchStringError
from lso.nets.darts_network import FactorizedReduce, darts_op
from lso.nets.ops import ADAPTIVE_AVG_POOL, BATCH_NORM, CONV, ReLUConvBN
from lso.nets.supernet import AlphaSupernet
from lso.spaces.darts import CONCAT, PRIMITIVES, STEPS, DartsGenotype
from lso.spaces.darts_cost import STEM_MULTIPLIER, cell_plan, check_network_sizes

SEARCH_EDGES: tuple[tuple[int, int], ...] = tuple((j, i) for j in range(2, 2 + STEPS) for i in range(j))
"""The 14 ``(to, from)`` edges of a search cell in ``alpha``'s row order: node 2's inputs 0, 1, node 3's 0, 1, 2..."""
NUM_SEARCH_EDGES = len(SEARCH_EDGES)
_NONE = PRIMITIVES.index("none")


class DartsMixedOp(nn.Module):
    """All 8 ``PRIMITIVES`` of one edge: ``[B, C, *S], weights [8] -> [B, C, *S']`` (``S' = S / stride``),
    ``y = sum_k w_k op_k(x)``, ``none`` skipped (module docstring)."""

    def __init__(self, channels: int, stride: int, dims: int) -> None:
        super().__init__()
        ops = []
        for name in PRIMITIVES:
            op = darts_op(name, channels, stride, dims)
            if "pool" in name:  # DARTS's search model: pools get a BN without weights
                op = nn.Sequential(op, BATCH_NORM[dims](channels, affine=False))
            ops.append(op)
        self.ops = nn.ModuleList(ops)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor | None = None
        for k, (w, op) in enumerate(zip(weights, self.ops)):
            if k == _NONE:
                continue
            term = w * op(x)
            out = term if out is None else out + term
        assert out is not None
        return out


class DartsSearchCell(nn.Module):
    """One search cell: ``(s0 [B, c_pp, *S0], s1 [B, c_p, *S1]), weights [14, 8] -> [B, 4c, *S1']``, ``S1'`` halved
    in a reduction cell (the edges leaving the inputs have stride 2 there)."""

    def __init__(self, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool, dims: int) -> None:
        super().__init__()
        self.preprocess0 = FactorizedReduce(c_pp, c, dims) if reduction_prev else ReLUConvBN(c_pp, c, 1, dims=dims)
        self.preprocess1 = ReLUConvBN(c_p, c, 1, dims=dims)
        self.edges = nn.ModuleList(DartsMixedOp(c, 2 if reduction and src < 2 else 1, dims) for _, src in SEARCH_EDGES)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for to in range(2, 2 + STEPS):
            node: torch.Tensor | None = None
            for e, (t, src) in enumerate(SEARCH_EDGES):
                if t == to:
                    term = self.edges[e](states[src], weights[e])
                    node = term if node is None else node + term
            assert node is not None
            states.append(node)
        return torch.cat([states[i] for i in CONCAT], dim=1)


class DartsSupernet(AlphaSupernet):
    """The DARTS search network with one ``alpha`` ``[28, 8]`` (module docstring): its rows are the normal cells'
    14 edges, then the reduction cells' (``edge_weights()`` alike).

    Shapes: ``[B, in_channels, S, S] -> [B, num_classes]`` logits (``dims=1``: ``[B, in_channels, L]``). DARTS searches
    CIFAR-10 with ``channels=16, layers=8``. ``alpha`` starts at ``1e-3 * N(0, 1)`` (DARTS), drawn from torch's global
    generator like the weights: seed at the entry point.

    Raises:
        SpaceError: for non-positive sizes or ``dims`` other than 1 and 2.
    """

    def __init__(self, channels: int, layers: int, num_classes: int, in_channels: int, dims: int = 2) -> None:
        super().__init__()
        check_network_sizes(channels, layers, num_classes, in_channels, dims)
        stem = STEM_MULTIPLIER * channels
        self.stem = nn.Sequential(CONV[dims](in_channels, stem, 3, padding=1, bias=False), BATCH_NORM[dims](stem))
        plan = cell_plan(channels, layers)
        self.reduction = tuple(p.reduction for p in plan)
        self.cells = nn.ModuleList(
            DartsSearchCell(p.c_pp, p.c_p, p.c, p.reduction, p.reduction_prev, dims) for p in plan
        )
        self.pool = ADAPTIVE_AVG_POOL[dims](1)
        self.classifier = nn.Linear(plan[-1].out_channels, num_classes)
        self.alpha = nn.Parameter(1e-3 * torch.randn(2 * NUM_SEARCH_EDGES, len(PRIMITIVES)))

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``[B, num_classes]``; ``weights`` ``[28, 8]`` overrides ``softmax(alpha)``."""
        w = self.edge_weights() if weights is None else weights
        normal, reduce = w[:NUM_SEARCH_EDGES], w[NUM_SEARCH_EDGES:]
        s0 = s1 = self.stem(x)
        for cell, reduction in zip(self.cells, self.reduction):
            s0, s1 = s1, cell(s0, s1, reduce if reduction else normal)
        return self.classifier(self.pool(s1).flatten(1))

    def derive(self) -> DartsGenotype:
        """The discrete genotype of ``alpha`` by DARTS's rule (``derive_genotype``)."""
        return derive_genotype(self.alpha)


def _derive_cell(weights: torch.Tensor) -> tuple[tuple[str, int], ...]:
    """One cell's 8 edges from its mixing weights ``[14, 8]`` (``derive_genotype``)."""
    masked = weights.clone()
    masked[:, _NONE] = float("-inf")
    edges: list[tuple[str, int]] = []
    for to in range(2, 2 + STEPS):
        rows = {src: e for e, (t, src) in enumerate(SEARCH_EDGES) if t == to}
        # DARTS sorts the inputs by strength; the stable sort keeps the lower input first on a tie.
        best = sorted(rows, key=lambda src: -float(masked[rows[src]].max()))[:2]
        edges += [(PRIMITIVES[int(masked[rows[src]].argmax())], src) for src in best]
    return tuple(edges)


def derive_genotype(alpha: torch.Tensor) -> DartsGenotype:
    """DARTS's genotype of ``alpha`` ``[28, 8]`` (logits; rows as ``DartsSupernet.alpha``).

    Per cell and intermediate node ``j``: the weights are ``softmax(alpha)`` per edge; each input edge's strength is
    its largest non-``none`` weight; the two strongest inputs are kept, strongest first, each with its strongest
    non-``none`` op. The result never uses ``none`` and reads two different inputs per node: it is in the NB301 space.

    Raises:
        ArchStringError: for an ``alpha`` of another shape.
    """
    shape = (2 * NUM_SEARCH_EDGES, len(PRIMITIVES))
    if tuple(alpha.shape) != shape:
        raise ArchStringError(f"DARTS alpha must have shape {list(shape)}, got {list(alpha.shape)}")
    w = torch.softmax(alpha.detach().float().cpu(), dim=-1)
    return DartsGenotype(_derive_cell(w[:NUM_SEARCH_EDGES]), _derive_cell(w[NUM_SEARCH_EDGES:]))
