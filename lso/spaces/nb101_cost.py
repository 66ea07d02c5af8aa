"""Cost of the NAS-Bench-101 network around a cell: its trainable parameters (NB101's ``trainable_parameters``).

The network (NB101's ``model_builder``): a 3x3 conv-BN-ReLU stem, 3 stacks of 3 cells with a 2x2 max-pool and the
channels doubled before every stack but the first, global average pool, linear. Inside a cell (pruned, ``V``
vertices): the output's channels are split among the vertices that feed it, other vertices take the widest of their
successors (``vertex_channels``); the cell input reaches a vertex through a 1x1 conv-BN-ReLU projection to that
vertex's width; interior edges pass tensors on (cut to the width when one channel too many); a vertex sums its
inputs and applies its op (conv3x3/conv1x1-BN-ReLU keep the width, maxpool3x3 has no weights); the output
concatenates its feeders and adds a projection of the input when the input feeds it directly.
Convolutions have no bias, BN has scale and shift (2 per channel), the linear layer has a bias.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Nb101Macro:
    """The NB101 network around the cell: a 3x3 conv-BN-ReLU stem (``stem_channels``), ``num_stacks`` stacks of
    ``modules_per_stack`` cells, a 2x2 max-pool and channel doubling before every stack but the first, global
    average pool, linear. Defaults are the benchmark's (CIFAR-10)."""

    stem_channels: int = 128
    num_stacks: int = 3
    modules_per_stack: int = 3
    num_classes: int = 10
    in_channels: int = 3


def vertex_channels(matrix: Sequence[Sequence[int]], in_channels: int, out_channels: int) -> list[int]:
    """Channels of each vertex of a pruned cell (NB101's rule).

    The output's channels are split evenly among the vertices feeding it (the first ``out % fan_in`` get one extra);
    any other interior vertex takes the largest width among its successors.
    """
    n = len(matrix)
    channels = [0] * n
    channels[0], channels[-1] = in_channels, out_channels
    if n == 2:
        return channels
    feeds = [v for v in range(1, n - 1) if matrix[v][n - 1]]
    base, extra = divmod(out_channels, len(feeds))
    for i, v in enumerate(feeds):
        channels[v] = base + (1 if i < extra else 0)
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            channels[v] = max(channels[t] for t in range(v + 1, n - 1) if matrix[v][t])
    return channels


def _conv_bn(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k * k + 2 * c_out  # conv without bias + BN scale and shift


def _module_params(m: Sequence[Sequence[int]], ops: Sequence[str], c_in: int, c_out: int) -> int:
    n = len(ops)
    width = vertex_channels(m, c_in, c_out)
    total = 0
    for t in range(1, n - 1):
        if m[0][t]:  # the input is projected to each vertex it feeds (1x1 conv-BN-ReLU)
            total += _conv_bn(c_in, width[t], 1)
        op = ops[t]
        if op != "maxpool3x3":
            total += _conv_bn(width[t], width[t], 3 if op == "conv3x3-bn-relu" else 1)
    if m[0][n - 1] or not any(m[v][n - 1] for v in range(1, n - 1)):
        total += _conv_bn(c_in, c_out, 1)  # input -> output edge: projection added to (or replacing) the concat
    return total


def network_params(matrix: Sequence[Sequence[int]], ops: Sequence[str], macro: Nb101Macro = Nb101Macro()) -> int:
    """Trainable parameters of the NB101 network around the pruned cell ``matrix`` ``[V, V]`` / ``ops`` ``[V]``.

    The NB101 README's Inception-like cell gives 2,694,282, the figure of the official dataset.
    """
    total = _conv_bn(macro.in_channels, macro.stem_channels, 3)
    c_in = c_out = macro.stem_channels
    for stack in range(macro.num_stacks):
        if stack > 0:
            c_out *= 2
        for _ in range(macro.modules_per_stack):
            total += _module_params(matrix, ops, c_in, c_out)
            c_in = c_out
    return total + c_out * macro.num_classes + macro.num_classes
