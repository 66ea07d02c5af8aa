"""The NAS-Bench-201 macro network around one cell, on images (2-D) or signals (1-D).

``stem (Conv3x3 + BN) -> N cells @ C -> reduction -> N cells @ 2C -> reduction -> N cells @ 4C -> BN -> ReLU
-> global average pool -> linear``. Shapes: ``[B, in_channels, S, S] -> [B, num_classes]`` (logits), with the
resolution halved by each reduction block (S, S/2, S/4). With ``dims=1`` the same graph runs on signals
``[B, in_channels, L]`` with every 2-D layer replaced by its 1-D counterpart (``lso.nets.ops``; the 1-D analytic
counts are ``lso.nets.network1d``'s).

Inside a cell, node 0 is the cell input and node ``j = sum_{i<j} op_{j<-i}(node i)``; node 3 is the output.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lso.errors import LsoError
from lso.nets.ops import ADAPTIVE_AVG_POOL, BATCH_NORM, CONV, ResNetBasicBlock, make_op
from lso.space import EDGES, NUM_NODES, Cell, MacroConfig


@dataclass(frozen=True)
class Widths:
    """Channel widths of an NB201 network: ``stages`` (the node channels of each stage; NB201: ``C, 2C, 4C``) and
    ``inner`` (the two reduction blocks' inner widths; NB201: ``2C, 4C``). Other widths are for growth
    (``lso.growth``); NB201's tables are for ``Widths.of(macro)``."""

    stages: tuple[int, int, int]
    inner: tuple[int, int]

    @classmethod
    def of(cls, macro: MacroConfig) -> "Widths":
        c = macro.channels
        return cls(stages=(c, 2 * c, 4 * c), inner=(2 * c, 4 * c))


class CellModule(nn.Module):
    """One NB201 cell at ``channels`` channels: ``[B, C, H, W] -> [B, C, H, W]`` (``dims=1``: ``[B, C, L]``).

    Every edge holds its op module (so the parameter count is NAS-Bench-201's), but ``forward`` evaluates only
    live edges (``Cell.live_edges``): a dead edge is ``none`` (adds ``0``) or feeds a node that never reaches the
    output, so skipping it leaves the output unchanged (``forward_all`` evaluates every edge, for checking).
    One nuance: a conv edge whose source node is identically zero would add its BN shift (a learned per-channel
    constant); NAS-Bench-201's isomorphism, and ``Cell.canonical``, count such an edge as dead, and skipping it
    makes isomorphic cells compute exactly the same function, so they can share one training run.
    """

    def __init__(self, cell: Cell, channels: int, dims: int = 2, groups: int = 1) -> None:
        super().__init__()
        self.cell = cell
        self.edges = nn.ModuleList(make_op(op, channels, dims=dims, groups=groups) for op in cell.ops)
        self._live = cell.live_edges()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x] + [None] * (NUM_NODES - 1)
        for slot, (to, frm) in enumerate(EDGES):  # EDGES are ordered by target node
            if not self._live[slot]:
                continue
            source = nodes[frm]
            assert source is not None  # a live edge's source is reachable from the input
            out = self.edges[slot](source)
            nodes[to] = out if nodes[to] is None else nodes[to] + out
        return nodes[-1] if nodes[-1] is not None else x.mul(0.0)  # disconnected cell: output is zero

    def forward_all(self, x: torch.Tensor) -> torch.Tensor:
        """The literal definition: every edge evaluated, ``none`` included (slower; same output as ``forward``)."""
        nodes = [x]
        for to in range(1, NUM_NODES):
            nodes.append(sum(self.edges[s](nodes[frm]) for s, (t, frm) in enumerate(EDGES) if t == to))
        return nodes[-1]


class Network(nn.Module):
    """The NB201 macro network for ``cell`` with the sizes of ``macro``, on images (``dims=2``) or signals of
    length ``macro.input_size`` (``dims=1``, e.g. ``mnist1d``).

    Shapes: ``[B, macro.in_channels, macro.input_size, macro.input_size] -> [B, macro.num_classes]`` (``dims=1``:
    ``[B, macro.in_channels, macro.input_size] -> [B, macro.num_classes]``). With the default ``widths`` (NB201's)
    its parameter count equals ``lso.space.num_params(cell, macro)`` (``dims=1``:
    ``lso.nets.network1d.num_params_1d``).

    ``replicas=K`` (``lso.nets.replicas``) holds K independent copies of the network in one module, so that one
    forward pass trains K seeds: inputs ``[B, K * in_channels, ...]`` (copy k reads channels ``k * in_channels``
    onwards), every convolution grouped by copy, logits ``[B, K, num_classes]``. Each copy's layers have the
    shapes, parameter count and initial distribution of a single network's.

    Raises:
        LsoError: for sizes that cannot form the network (non-positive sizes, an input smaller than 4x4 or
            shorter than 4, which two stride-2 reductions cannot halve twice) or ``dims`` other than 1 and 2.
    """

    def __init__(self, cell: Cell | str, macro: MacroConfig = MacroConfig(), widths: Widths | None = None,
                 dims: int = 2, replicas: int = 1) -> None:
        super().__init__()
        cell = Cell.parse(cell)
        if dims not in CONV:
            raise LsoError(f"a network is for 1-D signals or 2-D images (dims 1 or 2), got dims {dims}")
        for name in ("channels", "cells_per_stage", "num_classes", "in_channels"):
            if getattr(macro, name) < 1:
                raise LsoError(f"MacroConfig.{name} must be at least 1, got {getattr(macro, name)}")
        if macro.input_size < 4:
            raise LsoError(f"MacroConfig.input_size must be at least 4 (two stride-2 reductions), got {macro.input_size}")
        widths = Widths.of(macro) if widths is None else widths
        if min(widths.stages + widths.inner) < 1:
            raise LsoError(f"every width must be at least 1, got {widths}")
        if replicas < 1:
            raise LsoError(f"a network holds at least one replica, got replicas {replicas}")
        self.cell = cell
        self.macro = macro
        self.replicas = k = replicas
        stages = tuple(w * k for w in widths.stages)
        inner = tuple(w * k for w in widths.inner)
        self.stem = nn.Sequential(
            CONV[dims](macro.in_channels * k, stages[0], kernel_size=3, padding=1, bias=False, groups=k),
            BATCH_NORM[dims](stages[0]),
        )
        layers: list[nn.Module] = []
        for stage, width in enumerate(stages):
            if stage > 0:
                layers.append(ResNetBasicBlock(stages[stage - 1], width, inner[stage - 1], dims=dims, groups=k))
            layers.extend(CellModule(cell, width, dims=dims, groups=k) for _ in range(macro.cells_per_stage))
        self.cells = nn.Sequential(*layers)
        # not in-place: lso.growth reads this ReLU's input (a splitting site)
        self.lastact = nn.Sequential(BATCH_NORM[dims](stages[2]), nn.ReLU(inplace=False))
        self.pool = ADAPTIVE_AVG_POOL[dims](1)
        # replicas: one linear layer per copy, as a grouped 1x1 convolution (same fan-in, same initial law)
        self.classifier = (nn.Linear(stages[2], macro.num_classes) if k == 1 else
                           nn.Conv1d(stages[2], macro.num_classes * k, kernel_size=1, groups=k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, num_classes]`` of images ``[B, in_channels, S, S]`` (signals ``[B, in_channels, L]``);
        with replicas, ``[B, K, num_classes]`` of ``[B, K * in_channels, ...]``."""
        h = self.pool(self.lastact(self.cells(self.stem(x)))).flatten(1)
        if self.replicas == 1:
            return self.classifier(h)
        return self.classifier(h.unsqueeze(-1)).view(len(h), self.replicas, -1)


def count_params(module: nn.Module) -> int:
    """Number of parameters of ``module``, all of them (trainable or not), as NAS-Bench-201 counts them."""
    return sum(p.numel() for p in module.parameters())
