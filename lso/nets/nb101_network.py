"""The NAS-Bench-101 network around one cell (Ying et al. 2019, the benchmark's ``model_builder``), on images or
1-D signals.

``stem (conv3x3-BN-ReLU, stem_channels) -> num_stacks stacks of modules_per_stack cells -> global average pool ->
linear``; before every stack but the first a 2x2 max-pool halves the resolution and the cells double their
channels. Shapes: ``[B, in_channels, S, S] -> [B, num_classes]`` (``dims=1``: ``[B, in_channels, L]``), the
resolution ``S, S/2, S/4`` (rounded up, as the benchmark's ``same`` padding).

Inside a cell (the pruned cell, ``V`` vertices, ``lso.spaces.nb101_cost`` describes the rule): vertex widths from
``vertex_channels``; vertex ``t`` sums ``proj_t(x)`` (a 1x1 conv-BN-ReLU of the cell input to its width, when the
input feeds it) and the outputs of its interior predecessors cut to its width (``h[:, :width_t]``, at most one
channel is cut), then applies its op (conv3x3/conv1x1-BN-ReLU keeping the width, or a 3x3 max-pool with stride 1);
the output is the channel concat of the vertices that feed it, plus a 1x1 projection of the input when the input
feeds the output directly (the projection alone when no interior vertex does, a 2-vertex cell).
Convolutions have no bias, BN is affine, the linear layer has a bias, so the parameter count equals
``lso.spaces.nb101_cost.network_params`` (``dims=2``; a 1-D kernel has ``k`` weights instead of ``k*k``).

BN uses torch's defaults (momentum 0.1, eps 1e-5) rather than the benchmark's TensorFlow momentum 0.997: the
oracle's protocols train a few hundred steps, too few for running statistics that slow.
"""

from __future__ import annotations

import torch
from torch import nn

from lso.errors import LsoError
from lso.nets.ops import ADAPTIVE_AVG_POOL, BATCH_NORM, CONV
from lso.spaces.nb101 import Nb101Cell
from lso.spaces.nb101_cost import Nb101Macro, vertex_channels

MAX_POOL: dict[int, type[nn.Module]] = {1: nn.MaxPool1d, 2: nn.MaxPool2d}
_KERNEL = {"conv3x3-bn-relu": 3, "conv1x1-bn-relu": 1}
BENCHMARK_MACRO = Nb101Macro()
"""The benchmark's network (CIFAR-10: stem 128, 3 stacks of 3 cells)."""


class ConvBnRelu(nn.Sequential):
    """``ReLU(BN(Conv_k(x)))``, 'same' padding, no conv bias: ``[B, C_in, *S] -> [B, C_out, *S]``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dims: int = 2) -> None:
        super().__init__(
            CONV[dims](c_in, c_out, kernel, padding=kernel // 2, bias=False),
            BATCH_NORM[dims](c_out),
            nn.ReLU(inplace=False),
        )


def _vertex_op(op: str, width: int, dims: int) -> nn.Module:
    if op == "maxpool3x3":
        return MAX_POOL[dims](3, stride=1, padding=1)
    return ConvBnRelu(width, width, _KERNEL[op], dims=dims)


class Nb101Module(nn.Module):
    """One NB101 cell (module docstring): ``[B, c_in, *S] -> [B, c_out, *S]``.

    ``cell`` must be pruned (every vertex on an input->output path).
    """

    def __init__(self, cell: Nb101Cell, c_in: int, c_out: int, dims: int = 2) -> None:
        super().__init__()
        m, n = cell.matrix, cell.num_vertices
        self.matrix, self.num_vertices = m, n
        self.widths = vertex_channels(m, c_in, c_out)
        interior = range(1, n - 1)
        # ModuleDicts keyed by the vertex number: only the vertices the input feeds have a projection
        self.proj = nn.ModuleDict({str(t): ConvBnRelu(c_in, self.widths[t], 1, dims) for t in interior if m[0][t]})
        self.ops = nn.ModuleDict({str(t): _vertex_op(cell.ops[t], self.widths[t], dims) for t in interior})
        self.feeds = [v for v in interior if m[v][n - 1]]
        self.out_proj = ConvBnRelu(c_in, c_out, 1, dims) if m[0][n - 1] or not self.feeds else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, n = self.matrix, self.num_vertices
        states: list[torch.Tensor] = [x]
        for t in range(1, n - 1):
            width = self.widths[t]
            terms = [states[s][:, :width] for s in range(1, t) if m[s][t]]  # truncation: predecessors are as wide or 1 wider
            if m[0][t]:
                terms.append(self.proj[str(t)](x))
            total = terms[0]
            for term in terms[1:]:
                total = total + term
            states.append(self.ops[str(t)](total))
        out = torch.cat([states[v] for v in self.feeds], dim=1) if self.feeds else None
        if self.out_proj is not None:
            projected = self.out_proj(x)
            out = projected if out is None else out + projected
        assert out is not None  # a pruned cell has feeders or an input -> output edge
        return out


class Nb101Network(nn.Module):
    """The NB101 network for ``cell`` (pruned here) with the sizes of ``macro``, on images (``dims=2``) or 1-D
    signals (``dims=1``: Conv1d / BatchNorm1d / MaxPool1d, the length halved between stacks).

    Shapes: ``[B, macro.in_channels, S, S] -> [B, macro.num_classes]`` (``dims=1``: ``[B, macro.in_channels, L]``).
    With ``dims=2`` its parameter count is ``lso.spaces.nb101_cost.network_params(pruned.matrix, pruned.ops,
    macro)`` (the benchmark's ``trainable_parameters``).

    Raises:
        LsoError: for a cell whose input reaches no output, non-positive sizes, or ``dims`` other than 1 and 2.
    """

    def __init__(self, cell: Nb101Cell, macro: Nb101Macro = BENCHMARK_MACRO, dims: int = 2) -> None:
        super().__init__()
        if not isinstance(cell, Nb101Cell):
            raise LsoError(f"an NB101 network is built from an Nb101Cell, got {type(cell).__name__}")
        if dims not in CONV:
            raise LsoError(f"a network is for 1-D signals or 2-D images (dims 1 or 2), got dims {dims}")
        for name in ("stem_channels", "num_stacks", "modules_per_stack", "num_classes", "in_channels"):
            if getattr(macro, name) < 1:
                raise LsoError(f"Nb101Macro.{name} must be at least 1, got {getattr(macro, name)}")
        pruned = cell.pruned()
        if pruned is None:
            raise LsoError(f"NB101 cell {cell} joins no path from input to output: no network to build")
        self.cell, self.macro = pruned, macro
        layers: list[nn.Module] = [ConvBnRelu(macro.in_channels, macro.stem_channels, 3, dims)]
        c_in = c_out = macro.stem_channels
        for stack in range(macro.num_stacks):
            if stack > 0:
                # 2x2 pool, stride 2; ceil_mode matches the benchmark's 'same' padding on odd sizes
                layers.append(MAX_POOL[dims](2, stride=2, ceil_mode=True))
                c_out *= 2
            for _ in range(macro.modules_per_stack):
                layers.append(Nb101Module(pruned, c_in, c_out, dims))
                c_in = c_out
        self.features = nn.Sequential(*layers)
        self.pool = ADAPTIVE_AVG_POOL[dims](1)
        self.classifier = nn.Linear(c_out, macro.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, num_classes]`` of images ``[B, in_channels, S, S]`` (signals ``[B, in_channels, L]``)."""
        return self.classifier(self.pool(self.features(x)).flatten(1))
