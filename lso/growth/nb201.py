"""What grows in the NAS-Bench-201 network (``lso.nets.network.Network``): its stage widths and its reduction blocks'
inner widths, as one ``SplitSpace`` for the growth schedule, plus the narrow starting network.

Five width groups, in forward order ``stage0, reduce1, stage1, reduce2, stage2``:

* ``stage{s}``: the node channels of stage ``s`` (NB201: ``C, 2C, 4C``), shared by the stem or the reduction block's
  output, every op of the stage's cells, and the next block's input (``lso.growth.stages``: multi-producer sites).
* ``reduce{k}``: the inner channels of reduction block ``k`` (NB201: ``2C, 4C``), ordinary single-layer neurons
  (``lso.growth.sites``): producer ``Conv_a`` (3x3, stride 2), norm ``BN_a``, activation the ReLU of ``Conv_b``,
  consumer ``Conv_b``.

The network is on images (``dims=2``) or on 1-D signals (``dims=1``, ``mnist1d``: every conv a Conv1d,
``lso.growth.conv``); ``network_dims`` reads it back from a built network. Splitting any group preserves the network's
function exactly at ``eps = 0`` in both (``tests/growth/test_stages.py``, ``tests/growth/test_growth_1d.py``).
The size of a network is exactly quadratic in its widths (a conv reading and writing a stage grows as ``W^2``), so
``nb201_costs`` fits that quadratic from networks built at nearby widths: exact, with no per-layer bookkeeping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from lso.errors import LsoError
from lso.growth.conv import WEIGHTED_LAYERS
from lso.growth.cost import CostModel, layer_positions
from lso.growth.errors import SplittingError
from lso.growth.grow import SplitReport, apply_splits
from lso.growth.schedule import GrowthConfig, candidates_from
from lso.growth.signed import NeuronSplit, neuron_splits, random_splits
from lso.growth.sites import Consumer, NeuronSite, check_sites
from lso.growth.splitting import second_derivative_of
from lso.growth.stage_layout import apply_stage_splits, group_dim, group_width, stage_groups
from lso.growth.stages import stage_eigenpairs, stage_paths, stage_statistics
from lso.growth.statistics import LossFn, record_passes, site_statistics
from lso.nets.network import Network, Widths
from lso.nets.ops import ResNetBasicBlock
from lso.space import Cell, MacroConfig

STAGES = ("stage0", "stage1", "stage2")
INNER = ("reduce1", "reduce2")
GROUPS = ("stage0", "reduce1", "stage1", "reduce2", "stage2")  # forward order


def reduction_blocks(model: Network) -> dict[str, tuple[int, ResNetBasicBlock]]:
    """Site name (``"reduce1"``, ``"reduce2"``) -> (index in ``model.cells``, the block), in forward order."""
    found = [(i, m) for i, m in enumerate(model.cells) if isinstance(m, ResNetBasicBlock)]
    return {f"reduce{k + 1}": pair for k, pair in enumerate(found)}


def reduction_sites(model: Network) -> tuple[NeuronSite, ...]:
    """The reduction blocks' inner channels as single-layer sites, in forward order.

    Module paths: producer ``cells.{i}.conv_a.op.1`` (Conv2d ``[w, C_in, 3, 3]``; 1-D: Conv1d ``[w, C_in, 3]``),
    norm ``cells.{i}.conv_a.op.2``, activation ``cells.{i}.conv_b.op.0`` (the ReLU reading ``h``), consumer
    ``cells.{i}.conv_b.op.1``.
    """
    return tuple(NeuronSite(name=name, layer=f"cells.{i}.conv_a.op.1", activation=f"cells.{i}.conv_b.op.0",
                            consumers=(Consumer(f"cells.{i}.conv_b.op.1"),), norm=f"cells.{i}.conv_a.op.2")
                 for name, (i, _) in reduction_blocks(model).items())


def _as_dict(w: Widths) -> dict[str, int]:
    return {"stage0": w.stages[0], "reduce1": w.inner[0], "stage1": w.stages[1], "reduce2": w.inner[1],
            "stage2": w.stages[2]}


def widths_of(model: Network) -> dict[str, int]:
    """Current widths of ``model``, keyed by ``GROUPS``."""
    blocks = reduction_blocks(model)
    groups = stage_groups(model)
    out = {g.name: group_width(model, g) for g in groups}
    out.update({name: int(block.conv_a.op[1].out_channels) for name, (_, block) in blocks.items()})
    return {k: out[k] for k in GROUPS}


def full_widths(macro: MacroConfig) -> dict[str, int]:
    """NAS-Bench-201's widths: stages ``C, 2C, 4C``, inner ``2C, 4C``."""
    return _as_dict(Widths.of(macro))


def network_dims(model: Network) -> int:
    """Spatial dimensions of a built NB201 network: 2 (images) or 1 (signals), from its stem convolution."""
    return 1 if isinstance(model.stem[0], nn.Conv1d) else 2


def network_with_widths(cell: Cell | str, macro: MacroConfig, widths: Mapping[str, int], dims: int = 2) -> Network:
    """The NB201 network of ``cell`` with the widths ``widths`` (group name -> width; groups not named keep NB201's),
    on images (``dims=2``) or 1-D signals (``dims=1``). Weights are drawn from torch's global RNG (seed it, e.g.
    inside ``torch.random.fork_rng``).

    Raises:
        LsoError: an unknown group name or a width below 1.
    """
    unknown = sorted(set(widths) - set(GROUPS))
    if unknown:
        raise LsoError(f"unknown width group(s) {unknown}; the network has {list(GROUPS)}")
    bad = {k: w for k, w in widths.items() if int(w) < 1}
    if bad:
        raise LsoError(f"widths must be >= 1, got {bad}")
    w = {**full_widths(macro), **{k: int(v) for k, v in widths.items()}}
    return Network(cell, macro, Widths(stages=(w["stage0"], w["stage1"], w["stage2"]),
                                       inner=(w["reduce1"], w["reduce2"])), dims=dims)


def narrow_widths(macro: MacroConfig, inner_mult: float, stage_mult: float = 1.0) -> dict[str, int]:
    """Widths ``max(1, round(mult * NB201's))`` of the narrow starting network: ``inner_mult`` for the reduction
    blocks' inner widths, ``stage_mult`` for the stage widths."""
    for name, mult in (("inner", inner_mult), ("stage", stage_mult)):
        if not 0.0 < mult <= 1.0:
            raise LsoError(f"{name}-width multiplier must be in (0, 1], got {mult}")
    return {k: max(1, round((inner_mult if k in INNER else stage_mult) * w)) for k, w in full_widths(macro).items()}


def narrow_network(cell: Cell | str, macro: MacroConfig, inner_mult: float = 0.25,
                   stage_mult: float = 1.0, dims: int = 2) -> Network:
    """The starting network of a growth run: NB201's network at ``narrow_widths(macro, inner_mult, stage_mult)``."""
    return network_with_widths(cell, macro, narrow_widths(macro, inner_mult, stage_mult), dims)


def example_input(macro: MacroConfig, device: torch.device | str = "cpu", dims: int = 2) -> torch.Tensor:
    """A zero batch ``[2, in_channels, S, S]`` (``dims=1``: ``[2, in_channels, L]``) for size and MAC counting."""
    return torch.zeros(2, macro.in_channels, *(macro.input_size,) * dims, device=device)


def _size(cell: Cell, macro: MacroConfig, widths: Mapping[str, int], positions: Mapping[str, int],
          dims: int = 2) -> dict[str, int]:
    """Parameters and MACs of the network at ``widths``, from shapes only (built on the meta device: no memory, no
    initialisation, no RNG)."""
    with torch.device("meta"):
        model = network_with_widths(cell, macro, widths, dims)
    params = sum(p.numel() for p in model.parameters())
    macs = sum(m.weight.numel() * positions.get(name, 0) for name, m in model.named_modules()
               if isinstance(m, WEIGHTED_LAYERS))
    return {"params": int(params), "macs": int(macs)}


def nb201_params(cell: Cell | str, macro: MacroConfig, dims: int = 2) -> int:
    """Parameters of NB201's own network of ``cell`` (its widths), on images or 1-D signals: the default refine
    budget (``lso.space.num_params`` for ``dims=2``, ``lso.nets.network1d.num_params_1d`` for ``dims=1``)."""
    return _size(Cell.parse(cell), macro, full_widths(macro), {}, dims)["params"]


def nb201_costs(cell: Cell | str, macro: MacroConfig, widths: Mapping[str, int],
                groups: Sequence[str] = GROUPS, positions: Mapping[str, int] | None = None,
                dims: int = 2) -> CostModel:
    """The exact size after adding ``E_g`` channels to each group ``g`` of ``groups``, around ``widths``:
    ``size(E) = base + sum_g own_g E_g + sum_{g <= h} cross_gh E_g E_h`` (``lso.growth.cost.CostModel``), fitted
    from networks at widths ``widths + e_g`` and ``widths + e_g + e_h`` (the size is exactly quadratic).

    ``positions``: ``lso.growth.cost.layer_positions`` of a network of this cell and macro (they do not depend on
    widths; layers that never run, ops on dead edges, have none and count 0 MACs, as in ``count_macs``); None:
    from a network built here. ``dims``: 2 for the image network, 1 for the 1-D one."""
    cell = Cell.parse(cell)
    if positions is None:
        with torch.random.fork_rng(devices=[]):
            positions = layer_positions(network_with_widths(cell, macro, widths, dims),
                                        example_input(macro, dims=dims))
    names = list(groups)

    def at(*plus: str) -> dict[str, int]:
        w = dict(widths)
        for g in plus:
            w[g] += 1
        return _size(cell, macro, w, positions, dims)

    base = at()
    one = {g: at(g) for g in names}
    own: dict[str, dict[str, int]] = {}
    cross = []
    for k, g in enumerate(names):
        for h in names[k:]:
            two = at(g, h)
            c = {m: two[m] - one[g][m] - one[h][m] + base[m] for m in base}
            if g == h:  # f(2) - 2 f(1) + f(0) = 2 cross
                c = {m: v // 2 for m, v in c.items()}
            if any(c.values()):
                cross.append(((g, h), c))
    for g in names:
        self_cross = next((c for (a, b), c in cross if a == b == g), {m: 0 for m in base})
        own[g] = {m: one[g][m] - base[m] - self_cross[m] for m in base}
    return CostModel(base=base, own=own, cross=tuple(cross))


@dataclass(frozen=True)
class NB201Space:
    """The growth space of an NB201 network: the width groups ``groups`` (default all five, ``GROUPS``).

    Splitting values: single-layer statistics for the reduction sites, stage statistics (``lso.growth.stages``)
    for the stages; ReLU's ``sigma''`` by the softplus stand-in (``config.relu_beta``)."""

    groups: tuple[str, ...] = GROUPS

    def __post_init__(self) -> None:
        unknown = sorted(set(self.groups) - set(GROUPS))
        if unknown or not self.groups:
            raise SplittingError(f"unknown or no width groups {unknown or list(self.groups)}; use some of "
                                 f"{list(GROUPS)}")

    def _sites(self, model: Network) -> tuple[NeuronSite, ...]:
        return tuple(s for s in reduction_sites(model) if s.name in self.groups)

    def _stages(self, model: Network):
        return tuple(g for g in stage_groups(model) if g.name in self.groups)

    def candidates(self, model: nn.Module, batches: Iterable, loss_fn: LossFn, config: GrowthConfig,
                   generator: torch.Generator) -> list[NeuronSplit]:
        sites, stages = self._sites(model), self._stages(model)
        convs, relus = stage_paths(model, stages)
        # one forward and backward per batch records what the reduction sites and the stages both need
        passes = record_passes(model, [s.layer for s in sites] + convs, [s.activation for s in sites] + relus,
                               batches, loss_fn)
        sd = second_derivative_of(nn.ReLU(), config.relu_beta)  # every activation of the network is a ReLU
        out = candidates_from(site_statistics(model, sites, passes, sd), config.rule, c=config.c, route=config.route,
                              steps=config.steps, generator=generator)
        stats = stage_statistics(model, stages, passes, sd)
        for g in stages:
            pairs = stage_eigenpairs(model, stats[g.name], config.route, steps=config.steps, generator=generator)
            out += neuron_splits(g.name, pairs, config.rule, config.c)
        return out

    def random_candidates(self, model: nn.Module, generator: torch.Generator) -> list[NeuronSplit]:
        dtype = next(model.parameters()).dtype
        out = [s for rs in check_sites(model, list(self._sites(model)))
               for s in random_splits(rs.site.name, rs.width, rs.dim, generator, dtype=dtype)]
        for g in self._stages(model):
            out += random_splits(g.name, group_width(model, g), group_dim(model, g), generator, dtype=dtype)
        return out

    def costs(self, model: nn.Module, example: torch.Tensor) -> CostModel:
        return nb201_costs(model.cell, model.macro, widths_of(model), self.groups, layer_positions(model, example),
                           network_dims(model))

    def apply(self, model: nn.Module, splits: Sequence[NeuronSplit], eps: float) -> SplitReport:
        """Split group by group in reverse forward order, so that each group's directions, sized to its producers'
        inputs before the round, still fit when an earlier group adds columns to them."""
        unknown = sorted({p.site for p in splits} - set(self.groups))
        if unknown:
            raise SplittingError(f"splits name unknown groups {unknown}; known: {list(self.groups)}")
        split, added = {}, {}
        sites = {s.name: s for s in self._sites(model)}
        stages = {g.name: g for g in self._stages(model)}
        with torch.no_grad():
            for name in reversed([g for g in GROUPS if g in self.groups]):
                plans = [p for p in splits if p.site == name]
                split[name] = sum(1 for p in plans if p.extra > 0)
                if name in stages:
                    added[name] = apply_stage_splits(model, stages[name], plans, eps)
                else:
                    added[name] = apply_splits(model, [sites[name]], plans, eps).added[name] if plans else 0
        order = [g for g in GROUPS if g in self.groups]
        return SplitReport(split={k: split[k] for k in order}, added={k: added[k] for k in order},
                           widths=self.widths(model))

    def widths(self, model: nn.Module) -> dict[str, int]:
        """All five widths of the network (``widths_of``), the groups that do not grow included."""
        return widths_of(model)
