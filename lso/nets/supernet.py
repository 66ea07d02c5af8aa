"""The NAS-Bench-201 supernet: every op on every edge, mixed by ``softmax(alpha)`` (DARTS / MiLeNAS search model).

One architecture tensor ``alpha`` ``[6, 5]`` (edge slot in ``EDGES`` order x op in ``OPS`` order) is shared by every
cell of the network, as in NAS-Bench-201's DARTS baseline. An edge ``j <- i`` computes the mixed op

    ``o_{j<-i}(x) = sum_k softmax(alpha_{j<-i})_k * op_k(x)``

and node ``j = sum_{i<j} o_{j<-i}(node i)``; node 3 is the cell output. The ops are ``lso.nets.ops.make_op``'s and
the macro skeleton (stem, residual reduction blocks, BN-ReLU head, pool, classifier) is taken from
``lso.nets.network.Network`` itself, so with a one-hot ``alpha`` the supernet computes the discrete network of
that cell (state-dict keys map one to one: ``cells.<l>.edges.<slot>.ops.<k>.*`` <-> ``cells.<l>.edges.<slot>.*``).
"""

from __future__ import annotations

import torch
from torch import nn

from lso.errors import ArchStringError
from lso.nets.network import CellModule, Network
from lso.nets.ops import ResNetBasicBlock, Zero, make_op
from lso.space import EDGES, NUM_EDGES, NUM_NODES, OPS, Cell, MacroConfig

# Holds the skeleton's cell slots before they are swapped for search cells; all-``none`` has no parameters.
_PLACEHOLDER = Cell(("none",) * NUM_EDGES)


class MixedOp(nn.Module):
    """All 5 ops of one edge: ``[B, C, H, W], weights [5] -> [B, C, H, W]``, ``y = sum_k w_k op_k(x)``.

    ``none`` (``Zero``) is skipped in the sum: it adds exactly ``w * 0`` and its derivative with respect to
    ``w_none`` is zero, so skipping it changes neither the output nor any gradient (alpha_none still enters
    through the softmax normaliser).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(make_op(op, channels) for op in OPS)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor | None = None
        for w, op in zip(weights, self.ops):
            if isinstance(op, Zero):
                continue
            term = w * op(x)
            out = term if out is None else out + term
        assert out is not None  # OPS has non-``none`` ops
        return out


class SearchCell(nn.Module):
    """One NB201 cell with a ``MixedOp`` on each of the 6 edges: ``[B, C, H, W], weights [6, 5] -> [B, C, H, W]``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(MixedOp(channels) for _ in EDGES)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for to in range(1, NUM_NODES):
            terms = [self.edges[s](nodes[frm], weights[s]) for s, (t, frm) in enumerate(EDGES) if t == to]
            node = terms[0]
            for term in terms[1:]:
                node = node + term
            nodes.append(node)
        return nodes[-1]


class AlphaSupernet(nn.Module):
    """A supernet with one architecture parameter ``alpha`` ``[edges, ops]`` (logits): the split of its parameters
    and the mixing weights that differentiable searches use (``Supernet``, ``lso.nets.darts_supernet.DartsSupernet``)."""

    alpha: nn.Parameter

    def arch_parameters(self) -> list[nn.Parameter]:
        """``[alpha]``: the architecture parameters (updated by the architecture optimiser)."""
        return [self.alpha]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every parameter but ``alpha``: the network weights ``w``."""
        return [p for name, p in self.named_parameters() if name != "alpha"]

    def edge_weights(self) -> torch.Tensor:
        """``softmax(alpha, dim=-1)`` ``[edges, ops]``: the mixing weights of every edge."""
        return torch.softmax(self.alpha, dim=-1)


class Supernet(AlphaSupernet):
    """The NB201 macro network with a ``SearchCell`` in every cell slot and one shared ``alpha`` ``[6, 5]``.

    Shapes: ``[B, macro.in_channels, S, S] -> [B, macro.num_classes]`` logits. ``alpha`` starts at
    ``1e-3 * N(0, 1)`` (DARTS), drawn from torch's global generator like the weights: seed at the entry point.

    Raises:
        LsoError: for sizes that cannot form the network (checked by ``Network``).
    """

    def __init__(self, macro: MacroConfig = MacroConfig()) -> None:
        super().__init__()
        skeleton = Network(_PLACEHOLDER, macro)  # validates macro; its cell slots are replaced below
        self.macro = macro
        self.stem = skeleton.stem
        layers: list[nn.Module] = []
        width = macro.channels
        for layer in skeleton.cells:
            if isinstance(layer, ResNetBasicBlock):
                width *= 2
                layers.append(layer)
            else:
                assert isinstance(layer, CellModule)
                layers.append(SearchCell(width))
        self.cells = nn.ModuleList(layers)
        self.lastact = skeleton.lastact
        self.pool = skeleton.pool
        self.classifier = skeleton.classifier
        self.alpha = nn.Parameter(1e-3 * torch.randn(NUM_EDGES, len(OPS)))

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``[B, num_classes]``; ``weights`` ``[6, 5]`` overrides ``softmax(alpha)`` (e.g. one-hot)."""
        w = self.edge_weights() if weights is None else weights
        h = self.stem(x)
        for layer in self.cells:
            h = layer(h, w) if isinstance(layer, SearchCell) else layer(h)
        return self.classifier(self.pool(self.lastact(h)).flatten(1))

    def derive(self) -> Cell:
        """The discrete cell: the argmax op of ``alpha`` on each edge (``none`` included, as NAS-Bench-201's DARTS)."""
        return derive_cell(self.alpha)


def derive_cell(alpha: torch.Tensor) -> Cell:
    """``Cell`` with op ``argmax_k alpha[e, k]`` on edge ``e``; ``alpha`` ``[6, 5]`` (logits or probabilities)."""
    if tuple(alpha.shape) != (NUM_EDGES, len(OPS)):
        raise ArchStringError(f"alpha must have shape [{NUM_EDGES}, {len(OPS)}], got {list(alpha.shape)}")
    return Cell.from_indices(alpha.detach().argmax(dim=-1).tolist())


def one_hot_weights(cell: Cell) -> torch.Tensor:
    """``[6, 5]`` one-hot mixing weights selecting ``cell``'s op on each edge."""
    return nn.functional.one_hot(torch.tensor(cell.indices), len(OPS)).float()


def discrete_state_dict(supernet: Supernet, cell: Cell) -> dict[str, torch.Tensor]:
    """The state dict of ``Network(cell, supernet.macro)`` holding the supernet's weights of ``cell``'s ops.

    Inherits the supernet's weights for the chosen op on every edge of every cell (stem, reductions and head as
    they are); load it with ``Network(cell, macro).load_state_dict(...)``.
    """
    out: dict[str, torch.Tensor] = {}
    for name, tensor in supernet.state_dict().items():
        if name == "alpha":
            continue
        parts = name.split(".")
        if parts[0] == "cells" and len(parts) > 5 and parts[2] == "edges" and parts[4] == "ops":
            slot, k = int(parts[3]), int(parts[5])
            if k != cell.indices[slot]:
                continue
            name = ".".join(parts[:4] + parts[6:])
        out[name] = tensor
    return out
