"""The NAS-Bench-201 operations and the residual reduction block, as NAS-Bench-201 defines them.

Every op maps ``[B, C, H, W] -> [B, C, H, W]`` (cells keep width and resolution); the reduction block maps
``[B, C_in, H, W] -> [B, C_out, H/2, W/2]``. Each also comes for 1-D signals (``dims=1``: ``[B, C, L]``, the
``mnist1d`` network), with every 2-D layer replaced by its 1-D counterpart (``CONV``, ``BATCH_NORM``, ...).

- ``none``: ``Zero``, ``x * 0`` (keeps the shape, contributes nothing to the node sum).
- ``skip_connect``: ``Identity``.
- ``nor_conv_1x1`` / ``nor_conv_3x3``: ``ReLU -> Conv(k, bias=False) -> BN(affine)``.
- ``avg_pool_3x3``: ``AvgPool2d(3, stride 1, padding 1, count_include_pad=False)``.

``groups=K`` builds K independent copies side by side (``lso.nets.replicas``): channels are the K copies' channels
concatenated, every convolution is grouped, so copy k only ever sees its own channels (batch norm and pooling are
per channel already).
"""

from __future__ import annotations

import torch
from torch import nn

from lso.errors import ArchStringError
from lso.space import OPS


class Zero(nn.Module):
    """The ``none`` op: ``y = 0 * x``, same shape as ``x``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


# The torch layer of each kind for 1-D signals (``dims=1``) and 2-D images (``dims=2``).
CONV: dict[int, type[nn.Module]] = {1: nn.Conv1d, 2: nn.Conv2d}
BATCH_NORM: dict[int, type[nn.Module]] = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}
AVG_POOL: dict[int, type[nn.Module]] = {1: nn.AvgPool1d, 2: nn.AvgPool2d}
ADAPTIVE_AVG_POOL: dict[int, type[nn.Module]] = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d}


class ReLUConvBN(nn.Module):
    """``y = BN(Conv_k(ReLU(x)))``; the conv has no bias (BN's shift replaces it), BN is affine.

    Shapes (``dims=2``, images): ``[B, C_in, H, W] -> [B, C_out, H', W']`` with ``H' = (H + 2p - k) / stride + 1``;
    ``dims=1`` (signals): ``[B, C_in, L] -> [B, C_out, L']`` likewise.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0, dims: int = 2,
                 groups: int = 1) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            CONV[dims](c_in, c_out, kernel, stride=stride, padding=padding, bias=False, groups=groups),
            BATCH_NORM[dims](c_out, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


def make_op(name: str, channels: int, dims: int = 2, groups: int = 1) -> nn.Module:
    """The module for op ``name`` at ``channels`` channels (stride 1, shape preserving), on images (``dims=2``) or
    1-D signals (``dims=1``: ``nor_conv_kxk`` is a length-k 1-D convolution, ``avg_pool_3x3`` a 1-D pool of 3);
    convolutions in ``groups`` groups (independent copies, see above)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, padding=0, dims=dims, groups=groups)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, padding=1, dims=dims, groups=groups)
    if name == "avg_pool_3x3":
        return AVG_POOL[dims](3, stride=1, padding=1, count_include_pad=False)
    raise ArchStringError(f"unknown operation {name!r}; expected one of {', '.join(OPS)}")


class ResNetBasicBlock(nn.Module):
    """NAS-Bench-201's reduction block between stages (stride 2).

    ``y = BN(Conv3x3(ReLU(BN(Conv3x3_s2(ReLU(x)))))) + Conv1x1(AvgPool2x2(x))``; the shortcut conv has no BN.
    Shapes: ``[B, C_in, H, W] -> [B, C_out, H/2, W/2]``; the inner width (``Conv3x3_s2``'s output) is ``inner``,
    NB201's is ``C_out`` (other values are for growth, ``lso.growth``). ``dims=1``: ``[B, C_in, L] ->
    [B, C_out, L/2]`` with 1-D convolutions of length 3 and 1 and a 1-D pool of 2.
    """

    def __init__(self, c_in: int, c_out: int, inner: int | None = None, dims: int = 2, groups: int = 1) -> None:
        super().__init__()
        inner = c_out if inner is None else inner
        self.conv_a = ReLUConvBN(c_in, inner, 3, stride=2, padding=1, dims=dims, groups=groups)
        self.conv_b = ReLUConvBN(inner, c_out, 3, stride=1, padding=1, dims=dims, groups=groups)
        self.shortcut = nn.Sequential(
            AVG_POOL[dims](kernel_size=2, stride=2, padding=0),
            CONV[dims](c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False, groups=groups),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.shortcut(x)
