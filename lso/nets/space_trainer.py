"""Train one cell of any built-in search space with one protocol and one seed: the training oracle's unit of work
beyond NAS-Bench-201.

``train_space_cell`` builds the space's network for the protocol's dataset (1-D layers for a 1-D dataset such as
``mnist1d``, 2-D for images) and trains it with ``lso.nets.trainer.train_network``, the recipe ``train_cell`` uses
for NB201 (same seeding, loop, figures). NB201 cells go through ``train_cell`` itself.

How a protocol's two size fields map onto each space's network (``network_for``):

============  =====================================  ==============================================================
space         ``protocol.channels``                  ``protocol.cells_per_stage`` (N)
============  =====================================  ==============================================================
``nb201``     C, the first stage's channels          N cells per stage (3 stages, residual reductions between)
``nb101``     stem channels (``Nb101Macro``)         ``modules_per_stack`` (3 stacks, max-pool between)
``darts``     C, the first cells' channels           N normal cells per stage: ``layers = 3N + 2`` cells, the 2
                                                     reduction cells between the stages (DARTS's CIFAR network is
                                                     N = 6, 20 layers; NB301's N = 2, 8 layers)
============  =====================================  ==============================================================

Cost per run on ``mnist1d-v2`` (C=8, N=1, one CPU thread, against NB201 in the same process): NB101 about 1.2-1.3x
an NB201 run, DARTS about 6-7x (its ~90 convolutions per step each cost a near-fixed ~0.3 ms forward and backward
at these sizes: C=4 instead of 8 saves only about a quarter).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from lso.data.datasets import ImageDataset
from lso.nets.darts_network import DartsNetwork
from lso.nets.nb101_network import Nb101Network
from lso.nets.network import Network
from lso.nets.protocol import TrainProtocol
from lso.nets.trainer import TrainResult, train_cell, train_network
from lso.spaces.darts import DartsGenotype
from lso.spaces.nb101 import Nb101Cell
from lso.spaces.nb101_cost import Nb101Macro
from lso.spaces.protocol import SearchSpace, SpaceError

NB101_STACKS = 3
"""Stacks of the NB101 network the oracle trains (the benchmark's)."""


def darts_layers(cells_per_stage: int) -> int:
    """Cells of the DARTS network with ``cells_per_stage`` normal cells per stage: ``3N + 2``."""
    return 3 * cells_per_stage + 2


def nb101_macro(protocol: TrainProtocol, data: ImageDataset) -> Nb101Macro:
    """The NB101 network's sizes for ``protocol`` on ``data`` (module docstring)."""
    return Nb101Macro(stem_channels=protocol.channels, num_stacks=NB101_STACKS,
                      modules_per_stack=protocol.cells_per_stage, num_classes=data.num_classes,
                      in_channels=data.in_channels)


def _checked(space: SearchSpace, cell: Any) -> None:
    if not isinstance(cell, space.cell_type):
        raise SpaceError(f"the {space.name} space trains {space.cell_type.__name__} cells, got {type(cell).__name__}"
                         f" (a cell of another space?)")


def network_for(space: SearchSpace, cell: Any, protocol: TrainProtocol, data: ImageDataset) -> nn.Module:
    """The network the oracle trains for ``cell`` of ``space`` under ``protocol`` on ``data`` (weights drawn from
    the global RNG: seed around it, as ``train_network`` does).

    Shapes: ``[B, data.in_channels, *S] -> [B, data.num_classes]``, ``S`` the dataset's (one length for 1-D data).

    Raises:
        SpaceError: for a cell of another space than ``space``, or a space with no network here.
    """
    _checked(space, cell)
    dims = data.spatial_dims
    if isinstance(cell, Nb101Cell):
        return Nb101Network(cell, nb101_macro(protocol, data), dims=dims)
    if isinstance(cell, DartsGenotype):
        return DartsNetwork(cell, protocol.channels, darts_layers(protocol.cells_per_stage), data.num_classes,
                            data.in_channels, dims=dims)
    if space.name == "nb201":  # the network train_cell builds (train_space_cell sends NB201 cells there)
        return Network(cell, data.macro(protocol.channels, protocol.cells_per_stage), dims=dims)
    raise SpaceError(f"no network for the {space.name} space: the training oracle builds nb201, nb101 and darts cells")


@torch.no_grad()
def forward_macs(model: nn.Module, example: torch.Tensor) -> int:
    """Multiply-accumulates of one forward pass of ``example`` ``[1, C, *S]``, NAS-Bench-201's convention:
    convolutions ``prod(S_out) * C_out * (C_in / groups) * prod(kernel)``, linear layers ``in * out + out``; BN,
    activations and pooling are free. Counts the layers the forward pass runs (NB201's skipped dead edges are not
    counted, unlike ``lso.space.flops``). Leaves the model's train/eval mode as it was."""
    total = 0

    def conv(module: nn.Module, _inputs: Any, out: torch.Tensor) -> None:
        nonlocal total
        total += out[0].numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)

    def linear(module: nn.Module, _inputs: Any, _out: torch.Tensor) -> None:
        nonlocal total
        total += module.in_features * module.out_features + (module.out_features if module.bias is not None else 0)

    handles = [m.register_forward_hook(conv) for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d))]
    handles += [m.register_forward_hook(linear) for m in model.modules() if isinstance(m, nn.Linear)]
    training = model.training
    try:
        model.eval()
        model(example)
    finally:
        model.train(training)
        for handle in handles:
            handle.remove()
    return total


def train_space_cell(space: SearchSpace, cell: Any, protocol: TrainProtocol, seed: int, data: ImageDataset,
                     device: str | torch.device = "cpu") -> TrainResult:
    """Train ``cell`` of ``space`` with ``protocol`` and ``seed`` on ``data`` and measure it on valid/test.

    The network is ``network_for(space, cell, protocol, data)``, trained as ``lso.nets.trainer.train_cell`` trains
    NB201's (weights from ``seed`` inside ``fork_rng``, batch order from a generator seeded with ``seed``: on CPU
    with a fixed thread count a pure function of its arguments). NB201 cells go through ``train_cell``. The result's
    ``arch`` is ``space.to_string(cell)``, ``params`` the network's parameters, ``flops`` ``forward_macs`` of one
    example. One seed: the protocol's ``seeds`` and ``replicas`` are the caller's to loop over.

    Raises:
        SpaceError: for a cell of another space than ``space``, or a space with no network here.
        ProtocolError: when the protocol is for another dataset than ``data``.
    """
    _checked(space, cell)
    if space.name == "nb201":
        return train_cell(cell, protocol, data, seed, device)
    example = data.train.x[:1]
    return train_network(lambda: network_for(space, cell, protocol, data), space.to_string(cell), protocol, data,
                         seed, device, lambda model: forward_macs(model, example.to(next(model.parameters()).device)))
