"""What splitting costs: parameters and multiply-accumulates (MACs) added per split neuron, exactly.

Adding ``E_a`` neurons to site ``a`` adds ``own_a`` per neuron (its producer row and bias, its BatchNorm gamma and
beta, and its column in every consumer) plus, for every pair of sites where ``a`` feeds ``b``'s producer, a cross
term ``cross_ab`` per PAIR of added neurons (the new rows of ``b`` also read ``a``'s new channels). So the size after
a round is the bilinear form

    size(E) = size_0 + sum_a own_a E_a + sum_{a feeds b} cross_ab E_a E_b,

which ``CostModel.total`` evaluates and which the selection keeps under the budget. MACs count the Linear and Conv2d
multiply-accumulates of one sample (Conv1d too; BatchNorm, activations and pooling are not counted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from lso.growth.conv import CONV_LAYERS, WEIGHTED_LAYERS
from lso.growth.errors import SplittingError
from lso.nets.network import count_params
from lso.growth.sites import NeuronSite, check_sites

METRICS = ("params", "macs")


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise SplittingError(f"unknown budget metric {metric!r}; use one of {', '.join(METRICS)}")


def _output_positions(model: nn.Module, example: torch.Tensor) -> dict[nn.Module, int]:
    """Output positions per sample (``H_out * W_out`` for a Conv2d, ``L_out`` for a Conv1d, rows per sample for a
    Linear) of every layer."""
    positions: dict[nn.Module, int] = {}
    handles = []
    for mod in model.modules():
        if isinstance(mod, WEIGHTED_LAYERS):
            def hook(m, _args, out):  # noqa: ANN001
                positions[m] = out[0].numel() // (m.out_channels if isinstance(m, CONV_LAYERS) else m.out_features)
            handles.append(mod.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example[:1])
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return positions


def layer_positions(model: nn.Module, example: torch.Tensor) -> dict[str, int]:
    """Output positions per sample of every Linear, Conv1d and Conv2d that runs on ``example[:1]``, by module path."""
    by_module = _output_positions(model, example)
    return {name: by_module[m] for name, m in model.named_modules() if m in by_module}


def count_macs(model: nn.Module, example: torch.Tensor) -> int:
    """Multiply-accumulates of the Linear, Conv1d and Conv2d layers for one sample (``example[:1]``)."""
    total = 0
    for mod, pos in _output_positions(model, example).items():
        total += pos * (mod.weight.numel() if isinstance(mod, WEIGHTED_LAYERS) else 0)
    return int(total)


@dataclass(frozen=True)
class CostModel:
    """Exact size of the model after adding neurons to sites (module docstring).

    Attributes:
        base: current size per metric (``{"params": P, "macs": M}``).
        own: per site, per metric, cost of one added neuron.
        cross: ``((a, b), {metric: cost})`` per pair of sites where ``a``'s neurons feed ``b``'s producer.
    """

    base: dict[str, int]
    own: dict[str, dict[str, int]]
    cross: tuple[tuple[tuple[str, str], dict[str, int]], ...]

    def total(self, extra: Mapping[str, int], metric: str = "params") -> int:
        """Size after adding ``extra[site]`` neurons per site."""
        _check_metric(metric)
        size = self.base[metric] + sum(self.own[s][metric] * e for s, e in extra.items())
        return size + sum(c[metric] * extra.get(a, 0) * extra.get(b, 0) for (a, b), c in self.cross)

    def marginal(self, site: str, count: int, extra: Mapping[str, int], metric: str = "params") -> int:
        """Added size when ``count`` more neurons join ``site`` given ``extra`` already chosen."""
        grown = dict(extra)
        grown[site] = grown.get(site, 0) + count
        return self.total(grown, metric) - self.total(extra, metric)


def cost_model(model: nn.Module, sites: Sequence[NeuronSite], example: torch.Tensor) -> CostModel:
    """Per-neuron costs of every site of ``model``; ``example``: one input batch (only its first sample is run)."""
    resolved = check_sites(model, list(sites))
    positions = _output_positions(model, example)
    by_layer = {r.site.layer: r for r in resolved}
    own, cross = {}, []
    for r in resolved:
        layer = r.layer
        row = layer.weight[0].numel()
        params = r.dim + (2 if r.norm is not None and r.norm.weight is not None else 0)
        macs = row * positions[layer]
        for mod, c in r.consumers:
            per_in = mod.weight.shape[0] * c.features_per_neuron * (mod.weight[0, 0].numel() if mod.weight.dim() > 2
                                                                   else 1)
            params += per_in
            macs += per_in * positions[mod]
            if c.name in by_layer:
                area = c.features_per_neuron * (mod.weight[0, 0].numel() if mod.weight.dim() > 2 else 1)
                cross.append(((r.site.name, by_layer[c.name].site.name),
                              {"params": area, "macs": area * positions[mod]}))
        own[r.site.name] = {"params": int(params), "macs": int(macs)}
    base = {"params": count_params(model), "macs": count_macs(model, example)}
    return CostModel(base=base, own=own, cross=tuple(cross))
