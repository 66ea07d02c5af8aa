"""The NAS-Bench-201 macro network on 1-D signals (``[B, C, L]``), for 1-D datasets such as ``mnist1d``.

The network is ``lso.nets.network.Network`` with ``dims=1`` (``Network1d``): the same graph with every 2-D layer
replaced by its 1-D counterpart: ``nor_conv_kxk`` -> ``ReLU -> Conv1d(k) -> BatchNorm1d``, ``avg_pool_3x3`` ->
``AvgPool1d(3, stride 1, padding 1, count_include_pad=False)``, the stem ``Conv1d(3) + BN``, the reduction blocks
with stride-2 1-D convolutions and an ``AvgPool1d(2)`` shortcut. Shapes: ``[B, in_channels, L] -> [B,
num_classes]``, the length halved by each reduction (L, L/2, L/4). Its analytic parameter and FLOP counts are here
(``lso.space.num_params`` / ``lso.space.flops`` count the 2-D network).
"""

from __future__ import annotations

from lso.nets.network import Network
from lso.space import Cell, MacroConfig

_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}
"""Kernel length of each conv op (the analytic parameter and FLOP counts below)."""


class Network1d(Network):
    """``Network(cell, macro, dims=1)``: the NB201 macro network for ``cell`` on signals of length
    ``macro.input_size``, ``[B, in_channels, L] -> [B, num_classes]``.

    Raises:
        LsoError: for non-positive sizes or a signal shorter than 4 (two stride-2 reductions).
    """

    def __init__(self, cell: Cell | str, macro: MacroConfig) -> None:
        super().__init__(cell, macro, dims=1)


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
