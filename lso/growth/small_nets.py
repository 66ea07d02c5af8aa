"""Two small networks with their splittable sites: an MLP and a CNN (conv-BN-act-conv-BN-act-pool-linear).

They are the test bed of the splitting code (and of the benchmark) before the NB201 network of ``lso.nets``.
"""

from __future__ import annotations

import torch
from torch import nn

from lso.growth.errors import SplittingError
from lso.growth.sites import Consumer, NeuronSite

ACTIVATIONS = {"relu": lambda: nn.ReLU(), "softplus": lambda: nn.Softplus(beta=1.0, threshold=1e4),
               "tanh": lambda: nn.Tanh()}


def make_activation(name: str) -> nn.Module:
    """``"relu"``, ``"softplus"`` (beta 1, smooth everywhere) or ``"tanh"``."""
    if name not in ACTIVATIONS:
        raise SplittingError(f"unknown activation {name!r}; use one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class SmallMLP(nn.Module):
    """``x [B, in] -> fc1 -> act1 -> fc2 -> act2 -> out -> [B, classes]`` (with biases)."""

    def __init__(self, in_features: int, hidden: tuple[int, int], classes: int, activation: str = "relu") -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden[0])
        self.act1 = make_activation(activation)
        self.fc2 = nn.Linear(hidden[0], hidden[1])
        self.act2 = make_activation(activation)
        self.out = nn.Linear(hidden[1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.act2(self.fc2(self.act1(self.fc1(x)))))

    @staticmethod
    def sites() -> tuple[NeuronSite, ...]:
        return (NeuronSite("fc1", "fc1", "act1", (Consumer("fc2"),)),
                NeuronSite("fc2", "fc2", "act2", (Consumer("out"),)))


class SmallCNN(nn.Module):
    """``x [B, C, H, W] -> conv1 3x3 -> bn1 -> act1 -> conv2 3x3 (stride 2) -> bn2 -> act2 -> avgpool to
    [pool, pool] -> flatten -> fc -> [B, classes]`` (convs without bias)."""

    def __init__(self, in_channels: int, widths: tuple[int, int], classes: int, activation: str = "relu",
                 pool: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.act1 = make_activation(activation)
        self.conv2 = nn.Conv2d(widths[0], widths[1], 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(widths[1])
        self.act2 = make_activation(activation)
        self.pool = nn.AdaptiveAvgPool2d(pool)
        self.fc = nn.Linear(widths[1] * pool * pool, classes)
        self.pool_size = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act1(self.bn1(self.conv1(x)))
        h = self.act2(self.bn2(self.conv2(h)))
        return self.fc(torch.flatten(self.pool(h), 1))

    def sites(self) -> tuple[NeuronSite, ...]:
        return (NeuronSite("conv1", "conv1", "act1", (Consumer("conv2"),), norm="bn1"),
                NeuronSite("conv2", "conv2", "act2", (Consumer("fc", self.pool_size ** 2),), norm="bn2"))
