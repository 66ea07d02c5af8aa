"""Apply splits to a model: neurons become copies, BatchNorm entries are copied, consumers divide their weights.

Neuron ``i`` of a site with copies ``(w_j, delta_j), j = 1..m`` becomes

    producer rows:    theta_i + eps delta_1 (in place of row i),  theta_i + eps delta_j (appended, j >= 2)
    BatchNorm:        gamma, beta, running mean and var of channel i copied to each appended channel
    consumers:        input weights of neuron i times w_1 (in place), times w_j for the appended copy j

so with ``sum_j w_j = 1`` and ``eps = 0`` the network computes exactly the same function, in eval mode and in train
mode (identical channels have identical batch statistics). Appended neurons go to the end of the layer (and, after
a channel-major flatten, to the end of a Linear consumer's inputs). Sites are split last-to-first so that a site's
directions (sized to its layer's input BEFORE the round) still fit when an earlier site adds input channels to it.
Parameters are replaced by new ``nn.Parameter`` objects: build the optimizer again after a split.

For the NB201 network (all five width groups, stage channels included) see ``lso.growth.nb201``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from lso.growth.errors import SplittingError
from lso.growth.signed import NeuronSplit
from lso.growth.sites import NeuronSite, Producer, ResolvedSite, check_sites, neuron_rows


@dataclass(frozen=True)
class SplitReport:
    """What a round of splitting did: per site name, neurons split and neurons added, and the new widths."""

    split: dict[str, int]
    added: dict[str, int]
    widths: dict[str, int]


def _set_rows(layer: Producer, rows: torch.Tensor) -> None:
    """Replace a producer's parameters by ``rows`` [out', d] and update its out-size attribute."""
    out = rows.shape[0]
    has_bias = layer.bias is not None
    w = rows[:, :-1] if has_bias else rows
    layer.weight = nn.Parameter(w.reshape(out, *layer.weight.shape[1:]).contiguous(),
                                requires_grad=layer.weight.requires_grad)
    if has_bias:
        layer.bias = nn.Parameter(rows[:, -1].contiguous(), requires_grad=layer.bias.requires_grad)
    if isinstance(layer, nn.Linear):
        layer.out_features = out
    else:
        layer.out_channels = out


def _grow_norm(norm: nn.BatchNorm1d | nn.BatchNorm2d, src: torch.Tensor) -> None:
    """Append copies of channels ``src`` (long [extra]) to a BatchNorm's parameters and running statistics."""
    if norm.weight is not None:
        norm.weight = nn.Parameter(torch.cat([norm.weight.detach(), norm.weight.detach()[src]]),
                                   requires_grad=norm.weight.requires_grad)
        norm.bias = nn.Parameter(torch.cat([norm.bias.detach(), norm.bias.detach()[src]]),
                                 requires_grad=norm.bias.requires_grad)
    norm.running_mean = torch.cat([norm.running_mean, norm.running_mean[src]])
    norm.running_var = torch.cat([norm.running_var, norm.running_var[src]])
    norm.num_features = norm.running_mean.shape[0]


def _grow_consumer(mod: Producer, r: int, width: int, scale: torch.Tensor, src: torch.Tensor,
                   src_w: torch.Tensor) -> None:
    """Consumer input weights: neuron i's columns times ``scale[i]``; appended copies' columns = column ``src`` times
    ``src_w``. ``r``: inputs per neuron (Linear after flatten)."""
    W = mod.weight.detach()
    out2 = W.shape[0]
    blocks = W.reshape(out2, width, r, *W.shape[2:])  # [out2, width, r, (*kernel)]
    shape = (1, -1) + (1,) * (blocks.dim() - 2)
    kept = blocks * scale.to(W.dtype).reshape(shape)
    added = blocks[:, src] * src_w.to(W.dtype).reshape(shape)
    new = torch.cat([kept, added], dim=1)
    n_in = width + src.shape[0]
    mod.weight = nn.Parameter(new.reshape(out2, n_in * r, *W.shape[2:]).contiguous(),
                              requires_grad=mod.weight.requires_grad)
    if isinstance(mod, nn.Linear):
        mod.in_features = n_in * r
    else:
        mod.in_channels = n_in


@dataclass(frozen=True)
class ChannelLayers:
    """The layers a group of channels lives in, for ``grow_channels``.

    Attributes:
        producers: layers whose output units are the channels, each with the slice of ``theta`` (the split's
            directions) its rows move along, or None for a producer that is copied without moving (a layer the
            splitting values do not cover, e.g. an op that never runs).
        norms: per-channel BatchNorms whose entries are copied.
        consumers: layers reading the channels, with their inputs per channel (``features_per_neuron``).
    """

    producers: tuple[tuple[Producer, slice | None], ...]
    norms: tuple[nn.BatchNorm1d | nn.BatchNorm2d, ...]
    consumers: tuple[tuple[Producer, int], ...]


def grow_channels(name: str, layers: ChannelLayers, width: int, dim: int, plans: Sequence[NeuronSplit],
                  eps: float) -> int:
    """Split channels ``plans`` of a group (module docstring): every producer's rows, then every consumer's columns
    (a layer that is both, like an NB201 cell op reading and writing the same stage, gets both, in that order, so
    its directions are sized to its input before the split). Returns the number of channels added."""
    ref = layers.producers[0][0].weight
    scale = torch.ones(width, dtype=ref.dtype, device=ref.device)
    src, src_w = [], []
    seen: set[int] = set()
    for p in plans:
        i = p.neuron
        if not 0 <= i < width or i in seen:
            raise SplittingError(f"site {name!r}: neuron {i} is out of range [0, {width}) or split twice")
        seen.add(i)
        if p.directions.shape != (len(p.weights), dim):
            raise SplittingError(f"site {name!r}, neuron {i}: directions {tuple(p.directions.shape)}, expected "
                                 f"[{len(p.weights)}, {dim}]")
        if abs(sum(p.weights) - 1.0) > 1e-9:
            raise SplittingError(f"site {name!r}, neuron {i}: copy weights sum to {sum(p.weights)}, not 1")
        scale[i] = p.weights[0]
        for j in range(1, len(p.weights)):
            src.append(i)
            src_w.append(p.weights[j])
    for layer, part in layers.producers:
        theta = neuron_rows(layer)
        rows, extra = theta.clone(), []
        for p in plans:
            D = p.directions.to(device=theta.device, dtype=theta.dtype)
            move = D[:, part] if part is not None else torch.zeros_like(theta[:1]).expand(D.shape[0], -1)
            rows[p.neuron] = theta[p.neuron] + eps * move[0]
            extra += [theta[p.neuron] + eps * move[j] for j in range(1, len(p.weights))]
        _set_rows(layer, torch.cat([rows, torch.stack(extra)]) if extra else rows)  # copy 1 moves even alone
    src_t = torch.tensor(src, dtype=torch.long, device=ref.device)
    w_t = torch.tensor(src_w, dtype=ref.dtype, device=ref.device)
    for norm in layers.norms:
        _grow_norm(norm, src_t)
    for mod, r in layers.consumers:
        _grow_consumer(mod, r, width, scale, src_t, w_t)
    return len(src)


def _split_site(r: ResolvedSite, plans: list[NeuronSplit], eps: float) -> int:
    layers = ChannelLayers(producers=((r.layer, slice(0, r.dim)),), norms=(r.norm,) if r.norm is not None else (),
                           consumers=tuple((mod, c.features_per_neuron) for mod, c in r.consumers))
    return grow_channels(r.site.name, layers, r.width, r.dim, plans, eps)


def apply_splits(model: nn.Module, sites: Sequence[NeuronSite], splits: Sequence[NeuronSplit],
                 eps: float = 1e-2) -> SplitReport:
    """Split the chosen neurons of ``model`` in place (module docstring); ``eps = 0`` keeps the function exactly.

    Args:
        model: the network (its modules are modified in place).
        sites: all splittable sites in forward order (``splits`` name them by ``site``).
        splits: at most one ``NeuronSplit`` per (site, neuron); directions sized ``[m, d]`` for the current layer.
        eps: step along the directions.
    """
    resolved = check_sites(model, list(sites))
    names = {r.site.name for r in resolved}
    unknown = sorted({p.site for p in splits} - names)
    if unknown:
        raise SplittingError(f"splits name unknown sites {unknown}; known: {sorted(names)}")
    split, added = {}, {}
    with torch.no_grad():
        for r in reversed(resolved):
            plans = [p for p in splits if p.site == r.site.name]
            split[r.site.name] = sum(1 for p in plans if p.extra > 0)
            added[r.site.name] = _split_site(r, plans, eps) if plans else 0
    widths = {r.site.name: r.width for r in check_sites(model, list(sites))}
    return SplitReport(split=dict(reversed(split.items())), added=dict(reversed(added.items())), widths=widths)
