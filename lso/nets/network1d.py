"""The NAS-Bench-201 macro network on 1-D signals (``[B, C, L]``), for 1-D datasets such as ``mnist1d``.

The same graph as ``lso.nets.network.Network`` with every 2-D layer replaced by its 1-D counterpart:
``nor_conv_kxk`` -> ``ReLU -> Conv1d(k) -> BatchNorm1d``, ``avg_pool_3x3`` -> ``AvgPool1d(3, stride 1, padding 1,
count_include_pad=False)``, the stem ``Conv1d(3) + BN``, the reduction blocks with stride-2 1-D convolutions and an
``AvgPool1d(2)`` shortcut. Shapes: ``[B, in_channels, L] -> [B, num_classes]``, the length halved by each
reduction (L, L/2, L/4). A cell's live-edge evaluation (dead edges skipped) is ``CellModule``'s.
"""

from __future__ import annotations

import torch
from torch import nn

from lso.errors import LsoError
from lso.nets.network import CellModule
from lso.nets.ops import ReLUConvBN, make_op
from lso.space import Cell, MacroConfig

_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}
"""Kernel length of each conv op (the analytic parameter and FLOP counts below)."""


class CellModule1d(CellModule):
    """One NB201 cell on 1-D signals: ``[B, C, L] -> [B, C, L]`` (``CellModule`` with 1-D ops)."""

    def __init__(self, cell: Cell, channels: int) -> None:
        nn.Module.__init__(self)
        self.cell = cell
        self.edges = nn.ModuleList(make_op(op, channels, dims=1) for op in cell.ops)
        self._live = cell.live_edges()


class ResNetBasicBlock1d(nn.Module):
    """NB201's reduction block in 1-D: ``BN(Conv3(ReLU(BN(Conv3_s2(ReLU(x)))))) + Conv1(AvgPool2(x))``."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2, padding=1, dims=1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, stride=1, padding=1, dims=1)
        self.shortcut = nn.Sequential(
            nn.AvgPool1d(kernel_size=2, stride=2, padding=0),
            nn.Conv1d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.shortcut(x)


class Network1d(nn.Module):
    """The NB201 macro network for ``cell`` on signals of length ``macro.input_size``.

    Raises:
        LsoError: for non-positive sizes or a signal shorter than 4 (two stride-2 reductions).
    """

    def __init__(self, cell: Cell | str, macro: MacroConfig) -> None:
        super().__init__()
        cell = Cell.parse(cell)
        for name in ("channels", "cells_per_stage", "num_classes", "in_channels"):
            if getattr(macro, name) < 1:
                raise LsoError(f"MacroConfig.{name} must be at least 1, got {getattr(macro, name)}")
        if macro.input_size < 4:
            raise LsoError(f"MacroConfig.input_size must be at least 4 (two stride-2 reductions), got {macro.input_size}")
        self.cell = cell
        self.macro = macro
        c = macro.channels
        stages = (c, 2 * c, 4 * c)
        self.stem = nn.Sequential(
            nn.Conv1d(macro.in_channels, c, kernel_size=3, padding=1, bias=False), nn.BatchNorm1d(c),
        )
        layers: list[nn.Module] = []
        for stage, width in enumerate(stages):
            if stage > 0:
                layers.append(ResNetBasicBlock1d(stages[stage - 1], width))
            layers.extend(CellModule1d(cell, width) for _ in range(macro.cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm1d(stages[2]), nn.ReLU(inplace=False))
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.classifier = nn.Linear(stages[2], macro.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, num_classes]`` of signals ``[B, in_channels, L]``."""
        h = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.pool(h).flatten(1))


def num_params_1d(cell: Cell | str, macro: MacroConfig) -> int:
    """Trainable parameters of ``Network1d(cell, macro)`` (convs without bias, affine BNs, classifier with bias)."""
    cell = Cell.parse(cell)
    c, n = macro.channels, macro.cells_per_stage
    total = macro.in_channels * c * 3 + 2 * c
    for stage in range(3):
        w = c * 2**stage
        total += n * sum(w * w * _KERNEL[op] + 2 * w for op in cell.ops if op in _KERNEL)
        if stage < 2:
            total += (w * 2 * w * 3 + 4 * w) + (2 * w * 2 * w * 3 + 4 * w) + w * 2 * w
    return total + 2 * 4 * c + 4 * c * macro.num_classes + macro.num_classes


def flops_1d(cell: Cell | str, macro: MacroConfig) -> int:
    """Multiply-accumulates of one forward pass of one signal (convolutions and the linear layer, as NB201)."""
    cell = Cell.parse(cell)
    c, n, length = macro.channels, macro.cells_per_stage, macro.input_size
    total = length * macro.in_channels * c * 3
    for stage in range(3):
        w, side = c * 2**stage, length // 2**stage
        total += n * sum(side * w * w * _KERNEL[op] for op in cell.ops if op in _KERNEL)
        if stage < 2:
            out = side // 2
            total += out * (w * 2 * w * 3 + 2 * w * 2 * w * 3 + w * 2 * w)
    return total + 4 * c * macro.num_classes + macro.num_classes
