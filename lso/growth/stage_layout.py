"""Where the stage-width channels of the NB201 network live: one channel of a stage, in every layer at once.

A stage of ``lso.nets.network.Network`` (the stem or a reduction block, then ``N`` cells) carries ``W`` node
channels. Channel ``c`` is written by several *producers* -- the stem conv (stage 0) or the reduction block's
``Conv_b`` and shortcut conv, and every conv op of every cell -- and passed on unchanged by skip and pooling ops,
so the whole stage must split channel ``c`` together: every producer copies its row ``c`` (and its BatchNorm
entries), and every layer reading the stage (each conv op, the next reduction block, or the last BatchNorm and the
classifier) divides its input weights for ``c`` between the copies. The neuron's parameters ``theta_c`` ([D]) are
the concatenation of the rows ``c`` of the producers that run (ops on dead edges never run; they are copied
without moving).

This module names those layers (``StageGroup``, ``theta_layout``, ``channel_layers``) and splits them
(``apply_stage_splits``); ``lso.growth.stages`` computes the channels' splitting matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lso.growth.errors import SplittingError
from lso.growth.grow import ChannelLayers, grow_channels
from lso.growth.signed import NeuronSplit
from lso.growth.sites import neuron_dim
from lso.nets.network import CellModule, Network
from lso.nets.ops import ReLUConvBN, ResNetBasicBlock


@dataclass(frozen=True)
class StageGroup:
    """Where the channels of stage ``stage`` live in a ``Network`` (module paths).

    Attributes:
        name: ``"stage0"``, ``"stage1"``, ``"stage2"``.
        stage: 0, 1 or 2.
        start: producers that open the stage, ``(conv, BatchNorm or None)``: the stem, or the reduction block's
            ``Conv_b`` and shortcut conv.
        cells: indices into ``model.cells`` of the stage's cells.
        end: ``"cells.{i}"`` (the next reduction block) or ``"lastact"`` (the final BN-ReLU and classifier).
    """

    name: str
    stage: int
    start: tuple[tuple[str, str | None], ...]
    cells: tuple[int, ...]
    end: str


def stage_groups(model: Network) -> tuple[StageGroup, ...]:
    """The three stage groups of ``model``, in forward order."""
    n = model.macro.cells_per_stage
    groups = []
    for s in range(3):
        first = s * (n + 1)  # index of the stage's first cell (stage s > 0 starts with its reduction block)
        if s == 0:
            start: tuple[tuple[str, str | None], ...] = (("stem.0", "stem.1"),)
            cells = tuple(range(0, n))
        else:
            r = first - 1
            start = ((f"cells.{r}.conv_b.op.1", f"cells.{r}.conv_b.op.2"), (f"cells.{r}.shortcut.1", None))
            cells = tuple(range(first, first + n))
        end = f"cells.{cells[-1] + 1}" if s < 2 else "lastact"
        groups.append(StageGroup(name=f"stage{s}", stage=s, start=start, cells=cells, end=end))
    for g in groups:
        if g.end != "lastact" and not isinstance(model.get_submodule(g.end), ResNetBasicBlock):
            raise SplittingError(f"{g.name}: {g.end} is not a reduction block; the model is not an NB201 Network")
        for i in g.cells:
            if not isinstance(model.cells[i], CellModule):
                raise SplittingError(f"{g.name}: cells.{i} is a {type(model.cells[i]).__name__}, not a cell; the "
                                     "model is not an NB201 Network")
    return tuple(groups)


def op_paths(model: Network, i: int) -> list[tuple[int, str, bool]]:
    """``(slot, path of the ReLUConvBN op, live)`` for the conv ops of cell ``i``."""
    cell = model.cells[i]
    return [(slot, f"cells.{i}.edges.{slot}", bool(cell._live[slot]))
            for slot, op in enumerate(cell.edges) if isinstance(op, ReLUConvBN)]


def theta_layout(model: Network, group: StageGroup) -> tuple[tuple[str, str | None, slice], ...]:
    """``(conv path, BatchNorm path or None, slice of theta)`` of the producers that run, in ``theta``'s order."""
    producers = list(group.start)
    for i in group.cells:
        producers += [(f"{p}.op.1", f"{p}.op.2") for _, p, live in op_paths(model, i) if live]
    out, offset = [], 0
    for conv, bn in producers:
        d = neuron_dim(model.get_submodule(conv))
        out.append((conv, bn, slice(offset, offset + d)))
        offset += d
    return tuple(out)


def group_width(model: Network, group: StageGroup) -> int:
    return int(model.get_submodule(group.start[0][0]).out_channels)


def group_dim(model: Network, group: StageGroup) -> int:
    """``D``: numbers in ``theta_c``."""
    return theta_layout(model, group)[-1][2].stop


def channel_layers(model: Network, group: StageGroup) -> ChannelLayers:
    """The layers ``grow_channels`` changes to split this stage's channels (all ops, dead ones included)."""
    moving = {conv: part for conv, _, part in theta_layout(model, group)}
    producers, norms, consumers = [], [], []
    for conv, bn in group.start:
        producers.append((model.get_submodule(conv), moving[conv]))
        if bn is not None:
            norms.append(model.get_submodule(bn))
    for i in group.cells:
        for _, p, _ in op_paths(model, i):
            conv = model.get_submodule(f"{p}.op.1")
            producers.append((conv, moving.get(f"{p}.op.1")))
            norms.append(model.get_submodule(f"{p}.op.2"))
            consumers.append((conv, 1))
    if group.end == "lastact":
        norms.append(model.lastact[0])
        consumers.append((model.classifier, 1))
    else:
        block = model.get_submodule(group.end)
        consumers += [(block.conv_a.op[1], 1), (block.shortcut[1], 1)]
    return ChannelLayers(producers=tuple(producers), norms=tuple(norms), consumers=tuple(consumers))


def site_relus(model: Network, group: StageGroup) -> list[str]:
    """Paths of the ReLUs reading the stage's nodes (sites), in forward order."""
    paths = [f"{p}.op.0" for i in group.cells for _, p, live in op_paths(model, i) if live]
    return paths + (["lastact.1"] if group.end == "lastact" else [f"{group.end}.conv_a.op.0"])


def apply_stage_splits(model: Network, group: StageGroup, plans: Sequence[NeuronSplit], eps: float) -> int:
    """Split channels of one stage in place (``lso.growth.grow.grow_channels``); returns channels added."""
    if not plans:
        return 0
    return grow_channels(group.name, channel_layers(model, group), group_width(model, group),
                         group_dim(model, group), plans, eps)

