"""Splittable neurons of the NAS-Bench-201 network (``lso.nets.network.Network``) and a narrow starting network.

Sites: the inner channels of the two residual reduction blocks. Block ``k`` (``k = 1, 2``; between stages ``k-1``
and ``k``) computes ``y = BN_b(Conv_b(ReLU_b(BN_a(Conv_a(ReLU(x)))))) + shortcut(x)``; its inner channel ``i`` is an
ordinary neuron of ``lso.growth.sites``: producer ``Conv_a`` (3x3, stride 2, no bias), norm ``BN_a``, activation
``ReLU_b`` (its own, not in-place, module), consumer ``Conv_b``. Splitting it therefore preserves the network's
function exactly (``lso.growth.grow``).

NOT covered: the stage-width channels (the node channels shared by every op of a stage, the stem, the shortcut and
the classifier). They need a multi-producer site (design note in ``lso.growth.sites``) that the statistics and
splitting code does not have; so only the reduction blocks' inner widths grow. To give growth room the starting
network is narrow there: ``narrow_network`` builds the NB201 network with inner widths ``round(mult * C_out)``
(NB201's own inner width is ``C_out``, the block's output width), leaving every other layer at NB201's size.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from lso.errors import LsoError
from lso.growth.sites import Consumer, NeuronSite
from lso.nets.network import Network
from lso.nets.ops import ResNetBasicBlock
from lso.space import Cell, MacroConfig


def reduction_blocks(model: Network) -> dict[str, tuple[int, ResNetBasicBlock]]:
    """Site name (``"reduce1"``, ``"reduce2"``) -> (index in ``model.cells``, the block), in forward order."""
    found = [(i, m) for i, m in enumerate(model.cells) if isinstance(m, ResNetBasicBlock)]
    return {f"reduce{k + 1}": pair for k, pair in enumerate(found)}


def reduction_sites(model: Network) -> tuple[NeuronSite, ...]:
    """The splittable sites of ``model``: the inner channels of each reduction block, in forward order.

    Module paths: producer ``cells.{i}.conv_a.op.1`` (Conv2d ``[w, C_in, 3, 3]``), norm ``cells.{i}.conv_a.op.2``,
    activation ``cells.{i}.conv_b.op.0`` (the ReLU reading ``h``), consumer ``cells.{i}.conv_b.op.1``.
    """
    return tuple(NeuronSite(name=name, layer=f"cells.{i}.conv_a.op.1", activation=f"cells.{i}.conv_b.op.0",
                            consumers=(Consumer(f"cells.{i}.conv_b.op.1"),), norm=f"cells.{i}.conv_a.op.2")
                 for name, (i, _) in reduction_blocks(model).items())


def inner_widths(model: Network) -> dict[str, int]:
    """Current inner width of each reduction block (the number of neurons of its site)."""
    return {name: int(block.conv_a.op[1].out_channels) for name, (_, block) in reduction_blocks(model).items()}


def full_inner_widths(macro: MacroConfig) -> dict[str, int]:
    """NAS-Bench-201's inner widths (``2C`` and ``4C``): the widths of the unmodified network."""
    return {"reduce1": 2 * macro.channels, "reduce2": 4 * macro.channels}


def _set_inner_width(block: ResNetBasicBlock, width: int) -> None:
    """Replace the block's ``Conv_a``, ``BN_a`` and ``Conv_b`` by freshly initialised ones of inner width ``width``
    (drawn from torch's global RNG: seed it, e.g. inside ``torch.random.fork_rng``)."""
    conv_a, conv_b = block.conv_a.op[1], block.conv_b.op[1]
    block.conv_a.op[1] = nn.Conv2d(conv_a.in_channels, width, 3, stride=2, padding=1, bias=False)
    block.conv_a.op[2] = nn.BatchNorm2d(width, affine=True)
    block.conv_b.op[1] = nn.Conv2d(width, conv_b.out_channels, 3, stride=1, padding=1, bias=False)


def network_with_inner_widths(cell: Cell | str, macro: MacroConfig, widths: Mapping[str, int]) -> Network:
    """The NB201 network of ``cell`` with the reduction blocks' inner widths set to ``widths`` (site name -> width;
    sites not named keep NB201's width). Weights are drawn from torch's global RNG.

    Raises:
        LsoError: for an unknown site name or a width below 1.
    """
    model = Network(cell, macro)
    blocks = reduction_blocks(model)
    unknown = sorted(set(widths) - set(blocks))
    if unknown:
        raise LsoError(f"unknown reduction site(s) {unknown}; the network has {sorted(blocks)}")
    for name, w in widths.items():
        if int(w) < 1:
            raise LsoError(f"inner width of {name!r} must be >= 1, got {w}")
        _set_inner_width(blocks[name][1], int(w))
    return model


def narrow_widths(macro: MacroConfig, mult: float) -> dict[str, int]:
    """Inner widths ``max(1, round(mult * full))`` of the narrow starting network."""
    if not 0.0 < mult <= 1.0:
        raise LsoError(f"inner-width multiplier must be in (0, 1], got {mult}")
    return {name: max(1, round(mult * w)) for name, w in full_inner_widths(macro).items()}


def narrow_network(cell: Cell | str, macro: MacroConfig, mult: float = 0.25) -> Network:
    """The starting network of a growth run: NB201's network with inner widths ``narrow_widths(macro, mult)``."""
    return network_with_inner_widths(cell, macro, narrow_widths(macro, mult))


def example_input(macro: MacroConfig, device: torch.device | str = "cpu") -> torch.Tensor:
    """A zero batch ``[2, in_channels, S, S]`` for size and MAC counting."""
    return torch.zeros(2, macro.in_channels, macro.input_size, macro.input_size, device=device)
