"""Cost of the DARTS network around a genotype: its trainable parameters, counted without building it (pure
arithmetic on the genotype; the network itself is ``lso.nets.darts_network.DartsNetwork``, whose torch count the
tests compare with this one). Convolutions have no bias, BN has scale and shift, the linear layer has a bias.
"""

from __future__ import annotations

from dataclasses import dataclass

from lso.spaces.darts import CONCAT, DartsGenotype
from lso.spaces.protocol import SpaceError

STEM_MULTIPLIER = 3
"""The stem's channels per ``C`` (DARTS's ``stem_multiplier``)."""


def reduction_layers(layers: int) -> tuple[int, ...]:
    """The indices of the reduction cells among ``layers`` cells: ``layers // 3`` and ``2 * layers // 3`` (one
    index when they coincide)."""
    return tuple(sorted({layers // 3, 2 * layers // 3}))


def check_network_sizes(channels: int, layers: int, num_classes: int, in_channels: int, dims: int) -> None:
    """``SpaceError`` naming the first size that cannot form a DARTS network (non-positive, or ``dims`` not 1 or 2)."""
    if dims not in (1, 2):
        raise SpaceError(f"a network is for 1-D signals or 2-D images (dims 1 or 2), got dims {dims}")
    for name, value in (("channels", channels), ("layers", layers), ("num_classes", num_classes),
                        ("in_channels", in_channels)):
        if value < 1:
            raise SpaceError(f"a DARTS network needs {name} >= 1, got {value}")


def _op_params(name: str, c: int, stride: int, dims: int) -> int:
    """Weights of one op at ``c`` channels and ``stride`` (a ``k``-kernel has ``k**dims`` weights per channel pair)."""
    if name in ("sep_conv_3x3", "sep_conv_5x5"):
        return 2 * (c * int(name[-1]) ** dims + c * c + 2 * c)
    if name in ("dil_conv_3x3", "dil_conv_5x5"):
        return c * int(name[-1]) ** dims + c * c + 2 * c
    if name == "skip_connect" and stride == 2:
        return _factorized_reduce(c, c)
    return 0  # pools, identity, none


@dataclass(frozen=True)
class CellPlan:
    """One cell of the DARTS network: the widths of its two inputs (``c_pp`` two cells back, ``c_p`` the previous
    cell), its own width ``c`` (its output: ``out_channels``), and whether it or the cell before it
    reduces."""

    c_pp: int
    c_p: int
    c: int
    reduction: bool
    reduction_prev: bool

    @property
    def out_channels(self) -> int:
        """The width of the cell's output: its ``len(CONCAT)`` nodes concatenated."""
        return len(CONCAT) * self.c


def cell_plan(channels: int, layers: int) -> tuple[CellPlan, ...]:
    """The ``layers`` cells after the stem (``STEM_MULTIPLIER * channels`` wide): the width starts at ``channels`` and
    doubles at each reduction cell (``reduction_layers``); each cell reads the outputs of the two before it. Shared
    by the network, the search model and the parameter count, so the three cannot drift apart."""
    c_pp = c_p = STEM_MULTIPLIER * channels
    c, reductions, reduction_prev = channels, reduction_layers(layers), False
    plan = []
    for i in range(layers):
        reduction = i in reductions
        if reduction:
            c *= 2
        plan.append(CellPlan(c_pp, c_p, c, reduction, reduction_prev))
        reduction_prev = reduction
        c_pp, c_p = c_p, plan[-1].out_channels
    return tuple(plan)


def _factorized_reduce(c_in: int, c_out: int) -> int:
    return 2 * c_in * (c_out // 2) + 2 * c_out


def darts_params(genotype: DartsGenotype, channels: int, layers: int, num_classes: int, in_channels: int,
                 dims: int = 2) -> int:
    """Trainable parameters of ``DartsNetwork(genotype, channels, layers, num_classes, in_channels, dims)``,
    counted without building it (pure arithmetic: convolutions without bias, affine BNs, linear with bias).

    DARTS V2 at ``channels=36, layers=20`` on CIFAR-10 gives 3,349,342, the ``param size = 3.349342MB`` DARTS's
    evaluation logs (its count leaves the auxiliary head out, as this network does).
    """
    check_network_sizes(channels, layers, num_classes, in_channels, dims)
    stem = STEM_MULTIPLIER * channels
    total = in_channels * stem * 3**dims + 2 * stem
    plan = cell_plan(channels, layers)
    for cell in plan:
        c = cell.c
        total += _factorized_reduce(cell.c_pp, c) if cell.reduction_prev else cell.c_pp * c + 2 * c
        total += cell.c_p * c + 2 * c
        edges = genotype.reduce if cell.reduction else genotype.normal
        total += sum(_op_params(op, c, 2 if cell.reduction and src < 2 else 1, dims) for op, src in edges)
    return total + plan[-1].out_channels * num_classes + num_classes
