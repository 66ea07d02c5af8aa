"""The DARTS evaluation network around a genotype (Liu et al. 2019, ``NetworkCIFAR``), on images or 1-D signals,
and its analytic parameter count.

``stem (conv3x3-BN, 3C channels) -> layers cells -> global average pool -> linear``; the cells at
``layers // 3`` and ``2 * layers // 3`` are reduction cells (stride 2, channels doubled), the others normal cells.
No auxiliary head and no drop-path (the oracle trains without them). Shapes: ``[B, in_channels, S, S] ->
[B, num_classes]`` (``dims=1``: ``[B, in_channels, L]``), the resolution halved by each reduction cell.

A cell at ``c`` channels takes the outputs of the two previous cells, ``s0`` (two back) and ``s1``: each is
preprocessed to ``c`` channels, ``s1`` by ``ReLU -> conv1x1 -> BN`` and ``s0`` the same, or by a
``FactorizedReduce`` when the previous cell reduced (``s0`` is then twice ``s1``'s resolution). Intermediate node
``j`` (2..5) sums two ops applied to earlier states per the genotype; in a reduction cell the ops reading ``s0`` or
``s1`` have stride 2. The cell's output concatenates nodes 2..5 (``4c`` channels).

The ops (DARTS's ``OPS``, ``C`` channels in and out, stride 1 or 2; BN affine, convolutions without bias):

- ``max_pool_3x3`` / ``avg_pool_3x3``: pooling of 3, padding 1 (average: ``count_include_pad=False``); no weights.
- ``skip_connect``: identity at stride 1, ``FactorizedReduce(C, C)`` at stride 2.
- ``sep_conv_kxk`` (k 3, 5): twice ``ReLU -> depthwise conv k (padding k//2) -> pointwise conv -> BN``, the first
  with the stride.
- ``dil_conv_kxk`` (k 3, 5): ``ReLU -> depthwise conv k, dilation 2 (padding k - 1) -> pointwise conv -> BN``.
- ``none``: zeros (strided); the NB301 space never uses it, a genotype may.
- ``FactorizedReduce(C_in, C_out)``: ``BN(cat(conv1x1_s2(relu x), conv1x1_s2(relu x shifted by one)))``, each
  conv giving ``C_out / 2`` channels; on odd sizes (never in DARTS) the shifted copy is zero-padded at the end so
  both halves have the same size.

``dims=1`` swaps every 2-D layer for its 1-D counterpart (a k-kernel has ``k`` weights instead of ``k*k``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from lso.errors import LsoError
from lso.nets.ops import ADAPTIVE_AVG_POOL, AVG_POOL, BATCH_NORM, CONV, ReLUConvBN
from lso.spaces.darts import CONCAT, STEPS, DartsGenotype, Edges
from lso.spaces.darts_cost import STEM_MULTIPLIER, cell_plan, check_network_sizes

MAX_POOL: dict[int, type[nn.Module]] = {1: nn.MaxPool1d, 2: nn.MaxPool2d}


class FactorizedReduce(nn.Module):
    """Halve the resolution without losing alternate positions: ``[B, C_in, *S] -> [B, C_out, *ceil(S/2)]``
    (module docstring); ``C_out`` even."""

    def __init__(self, c_in: int, c_out: int, dims: int = 2) -> None:
        super().__init__()
        if c_out % 2:
            raise LsoError(f"FactorizedReduce needs an even number of output channels, got {c_out}")
        self.dims = dims
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = CONV[dims](c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = CONV[dims](c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = BATCH_NORM[dims](c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = x[(slice(None), slice(None)) + (slice(1, None),) * self.dims]
        pad = [p for size in reversed(x.shape[2:]) for p in (0, size % 2)]  # F.pad lists the last dim first
        if any(pad):
            shifted = F.pad(shifted, pad)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


class DilConv(nn.Sequential):
    """``ReLU -> depthwise conv k (stride, padding, dilation) -> pointwise conv -> BN``: ``[B, C_in, *S] ->
    [B, C_out, *S']``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, dilation: int,
                 dims: int = 2) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            CONV[dims](c_in, c_in, kernel, stride=stride, padding=padding, dilation=dilation, groups=c_in, bias=False),
            CONV[dims](c_in, c_out, 1, bias=False),
            BATCH_NORM[dims](c_out),
        )


class SepConv(nn.Sequential):
    """Two stacked ``DilConv`` with dilation 1, the first with the stride: ``[B, C_in, *S] -> [B, C_out, *S']``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, dims: int = 2) -> None:
        pad = kernel // 2
        super().__init__(DilConv(c_in, c_in, kernel, stride, pad, 1, dims), DilConv(c_in, c_out, kernel, 1, pad, 1, dims))


class Zero(nn.Module):
    """The ``none`` op: zeros of the strided input's shape."""

    def __init__(self, stride: int, dims: int) -> None:
        super().__init__()
        self.index = (slice(None), slice(None)) + (slice(None, None, stride),) * dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[self.index].mul(0.0)


def darts_op(name: str, channels: int, stride: int, dims: int = 2) -> nn.Module:
    """The module of DARTS op ``name`` at ``channels`` channels and ``stride`` (module docstring)."""
    c = channels
    if name == "none":
        return Zero(stride, dims)
    if name == "max_pool_3x3":
        return MAX_POOL[dims](3, stride=stride, padding=1)
    if name == "avg_pool_3x3":
        return AVG_POOL[dims](3, stride=stride, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c, dims)
    if name in ("sep_conv_3x3", "sep_conv_5x5"):
        return SepConv(c, c, int(name[-1]), stride, dims)
    if name in ("dil_conv_3x3", "dil_conv_5x5"):
        k = int(name[-1])
        return DilConv(c, c, k, stride, k - 1, 2, dims)
    raise LsoError(f"unknown DARTS operation {name!r}")


class DartsCell(nn.Module):
    """One normal or reduction cell: ``(s0 [B, c_pp, *S0], s1 [B, c_p, *S1]) -> [B, 4c, *S1 / (2 if reduction)]``
    (module docstring)."""

    def __init__(self, edges: Edges, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool,
                 dims: int = 2) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (FactorizedReduce(c_pp, c, dims) if reduction_prev else
                            ReLUConvBN(c_pp, c, 1, dims=dims))
        self.preprocess1 = ReLUConvBN(c_p, c, 1, dims=dims)
        self.indices = [src for _, src in edges]
        self.ops = nn.ModuleList(darts_op(op, c, 2 if reduction and src < 2 else 1, dims) for op, src in edges)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for j in range(STEPS):
            a, b = 2 * j, 2 * j + 1
            states.append(self.ops[a](states[self.indices[a]]) + self.ops[b](states[self.indices[b]]))
        return torch.cat([states[i] for i in CONCAT], dim=1)


class DartsNetwork(nn.Module):
    """The DARTS evaluation network for ``genotype`` (module docstring): ``C = channels``, ``layers`` cells.

    Shapes: ``[B, in_channels, S, S] -> [B, num_classes]`` (``dims=1``: ``[B, in_channels, L]``). DARTS's CIFAR-10
    network is ``channels=36, layers=20``; NB301 trains ``channels=32, layers=8``. Its parameter count is
    ``darts_params(genotype, channels, layers, num_classes, in_channels, dims)``.

    Raises:
        LsoError: for non-positive sizes or ``dims`` other than 1 and 2.
    """

    def __init__(self, genotype: DartsGenotype, channels: int, layers: int, num_classes: int, in_channels: int,
                 dims: int = 2) -> None:
        super().__init__()
        if not isinstance(genotype, DartsGenotype):
            raise LsoError(f"a DARTS network is built from a DartsGenotype, got {type(genotype).__name__}")
        check_network_sizes(channels, layers, num_classes, in_channels, dims)
        self.genotype = genotype
        stem = STEM_MULTIPLIER * channels
        self.stem = nn.Sequential(CONV[dims](in_channels, stem, 3, padding=1, bias=False), BATCH_NORM[dims](stem))
        plan = cell_plan(channels, layers)
        self.cells = nn.ModuleList(
            DartsCell(genotype.reduce if p.reduction else genotype.normal, p.c_pp, p.c_p, p.c, p.reduction,
                      p.reduction_prev, dims)
            for p in plan
        )
        self.pool = ADAPTIVE_AVG_POOL[dims](1)
        self.classifier = nn.Linear(plan[-1].out_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, num_classes]`` of images ``[B, in_channels, S, S]`` (signals ``[B, in_channels, L]``)."""
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.pool(s1).flatten(1))
