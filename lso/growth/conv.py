"""Convolutions of either dimension, for the splitting code: the one place where 1-D (signals ``[B, C, L]``, the
``mnist1d`` network) and 2-D (images ``[B, C, H, W]``) differ.

A ``ConvGeometry`` knows its number of spatial dimensions (``dims``, 1 or 2) and applies the functional forms of a
layer with its geometry: ``conv`` (``F.conv1d`` / ``F.conv2d``), ``weight_grad`` (the weight gradient,
``torch.nn.grad.conv1d_weight`` / ``conv2d_weight``) and ``unfold`` (the input patches, ``[B, C_in * prod(k), P]``
with ``P`` the output positions; a 1-D signal is unfolded as a ``[B, C, 1, L]`` image with a ``1 x k`` kernel, so
its patch order is the ``[C_in, k]`` order of a Conv1d weight row). Everything else -- splitting matrices, ``S v``
products, splits, costs -- is written once over ``*spatial`` shapes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

CONV_LAYERS = (nn.Conv1d, nn.Conv2d)
"""The convolution layers a site may use (groups=1, numeric zero padding)."""
WEIGHTED_LAYERS = (nn.Linear, *CONV_LAYERS)
"""Layers whose weights count as multiply-accumulates (``lso.growth.cost``)."""
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)

_CONV = {1: F.conv1d, 2: F.conv2d}
_WEIGHT_GRAD = {1: torch.nn.grad.conv1d_weight, 2: torch.nn.grad.conv2d_weight}


@dataclass(frozen=True)
class ConvGeometry:
    """Kernel, stride, padding and dilation of a ``Conv1d`` (1-tuples) or ``Conv2d`` (2-tuples)."""

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]

    @classmethod
    def of(cls, layer: nn.Conv1d | nn.Conv2d) -> "ConvGeometry":
        return cls(tuple(layer.kernel_size), tuple(layer.stride), tuple(layer.padding), tuple(layer.dilation))

    @property
    def dims(self) -> int:
        """Spatial dimensions: 1 (signals) or 2 (images)."""
        return len(self.kernel_size)

    def weight_shape(self, rows: int, in_channels: int) -> tuple[int, ...]:
        """``[rows, C_in, *kernel_size]``."""
        return (rows, in_channels, *self.kernel_size)

    def conv(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` [B, C_in, *spatial] convolved with ``weight`` [out, C_in, *kernel] -> [B, out, *spatial_out]."""
        return _CONV[self.dims](x, weight, bias, stride=self.stride, padding=self.padding, dilation=self.dilation)

    def weight_grad(self, x: torch.Tensor, weight_shape: tuple[int, ...], grad: torch.Tensor) -> torch.Tensor:
        """Gradient of ``sum(grad * conv(x, W))`` with respect to ``W`` (shape ``weight_shape``)."""
        return _WEIGHT_GRAD[self.dims](x, weight_shape, grad, stride=self.stride, padding=self.padding,
                                       dilation=self.dilation)

    def unfold(self, x: torch.Tensor) -> torch.Tensor:
        """Input patches ``[B, C_in * prod(kernel), P]``, in a weight row's ``[C_in, *kernel]`` order."""
        if self.dims == 1:  # a signal as a one-row image: same patches, same order
            return F.unfold(x.unsqueeze(2), (1, *self.kernel_size), dilation=(1, *self.dilation),
                            padding=(0, *self.padding), stride=(1, *self.stride))
        return F.unfold(x, self.kernel_size, dilation=self.dilation, padding=self.padding, stride=self.stride)


def channel_view(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Per-channel ``t`` [C] reshaped to broadcast over ``like`` [B, C, *spatial] (any number of spatial dims)."""
    return t.reshape(1, -1, *([1] * (like.dim() - 2)))
