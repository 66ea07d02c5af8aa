"""Splittable neurons: the layer-pair abstraction (producer [-> BatchNorm] -> activation -> consumers).

A *neuron site* names, by module path inside a model, the layer whose output units (``nn.Linear`` rows or
``nn.Conv2d`` / ``nn.Conv1d`` output channels) may be split, the optional BatchNorm after it, the activation module
whose INPUT is the neuron's pre-activation ``h`` and whose OUTPUT is ``sigma(h)``, and the layers that read
``sigma(h)`` (consumers, whose input weights for a split neuron are divided between its copies).

Neuron ``i`` of a site has parameters ``theta_i`` (``d`` numbers: its weight row, flattened ``[C_in, kh, kw]`` for a
convolution, ``[C_in, k]`` for a 1-D one, then its bias when the layer has one) and computes
``sigma(a_i * theta_i^T x + b_i)``, where ``x`` is the layer input (Linear) or one unfolded input patch (Conv2d or
Conv1d, ``lso.growth.conv``; one ``x`` per output position) and ``a_i, b_i`` fold
an eval-mode BatchNorm (``a_i = gamma_i / sqrt(var_i + eps)``; ``a_i = 1`` without BatchNorm).

NB201: an op is ReLU-Conv-BN and a node is the SUM of its incoming ops, so the activation sits at the START of each
consuming op, after the sum. The inner channels of a residual reduction block (ReLU-Conv-BN -> ReLU-Conv-BN) are
ordinary single-layer sites (``lso.growth.nb201.reduction_sites``); a stage-width channel, written by many
producers and read by many ReLUs, is a multi-producer site (``lso.growth.stages``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lso.growth.conv import BATCH_NORMS, CONV_LAYERS, WEIGHTED_LAYERS
from lso.growth.errors import SplittingError

Producer = nn.Linear | nn.Conv1d | nn.Conv2d


@dataclass(frozen=True)
class Consumer:
    """A layer reading a site's neurons.

    Attributes:
        name: module path of an ``nn.Linear``, ``nn.Conv2d`` or ``nn.Conv1d`` (groups=1).
        features_per_neuron: inputs of a Linear consumer per neuron, ``r``: after a channel-major flatten of
            ``[B, C, H, W]`` channel ``i`` owns inputs ``[i * r, (i + 1) * r)`` with ``r = H * W`` (``[B, C, L]``:
            ``r = L``). 1 for conv.
    """

    name: str
    features_per_neuron: int = 1


@dataclass(frozen=True)
class NeuronSite:
    """One splittable layer. Sites of one model are listed in forward (topological) order.

    Attributes:
        name: label used in reports (``"conv1"``).
        layer: module path of the producer (``nn.Linear``, ``nn.Conv2d`` or ``nn.Conv1d``, groups=1, zero padding).
        activation: module path of the activation (its input is ``h``, shape ``[B, out]``, ``[B, out, H, W]`` or
            ``[B, out, L]``).
        consumers: layers reading ``sigma(h)``.
        norm: module path of the BatchNorm between producer and activation, or None.
    """

    name: str
    layer: str
    activation: str
    consumers: tuple[Consumer, ...]
    norm: str | None = None


@dataclass(frozen=True)
class ResolvedSite:
    """A site's modules, checked for consistent shapes."""

    site: NeuronSite
    layer: Producer
    norm: nn.BatchNorm1d | nn.BatchNorm2d | None
    activation: nn.Module
    consumers: tuple[tuple[Producer, Consumer], ...]

    @property
    def width(self) -> int:
        """Number of neurons ``out``."""
        return out_width(self.layer)

    @property
    def dim(self) -> int:
        """Parameters per neuron ``d`` (weight row plus bias)."""
        return neuron_dim(self.layer)


def out_width(layer: Producer) -> int:
    return layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels


def neuron_dim(layer: Producer) -> int:
    """``d``: numbers in one neuron's parameter vector ``theta_i`` (weight row, then bias if any)."""
    return layer.weight[0].numel() + (1 if layer.bias is not None else 0)


def neuron_rows(layer: Producer) -> torch.Tensor:
    """``[out, d]`` the neurons' parameter vectors ``theta_i`` (a copy)."""
    rows = layer.weight.detach().reshape(out_width(layer), -1)
    if layer.bias is not None:
        rows = torch.cat([rows, layer.bias.detach()[:, None]], dim=1)
    return rows.clone()


def _module(model: nn.Module, path: str, what: str) -> nn.Module:
    try:
        return model.get_submodule(path)
    except AttributeError:
        raise SplittingError(f"{what} {path!r} is not a module of the model") from None


def resolve(model: nn.Module, site: NeuronSite) -> ResolvedSite:
    """Look a site's modules up in ``model`` and check that their shapes fit together."""
    layer = _module(model, site.layer, f"site {site.name!r}: layer")
    if not isinstance(layer, WEIGHTED_LAYERS):
        raise SplittingError(f"site {site.name!r}: layer {site.layer!r} is a {type(layer).__name__}, "
                             "not nn.Linear, nn.Conv1d or nn.Conv2d")
    if isinstance(layer, CONV_LAYERS):
        if layer.groups != 1 or layer.padding_mode != "zeros" or isinstance(layer.padding, str):
            raise SplittingError(f"site {site.name!r}: conv {site.layer!r} needs groups=1 and numeric zero padding")
    out = out_width(layer)
    norm = None
    if site.norm is not None:
        norm = _module(model, site.norm, f"site {site.name!r}: norm")
        if not isinstance(norm, BATCH_NORMS) or norm.num_features != out:
            raise SplittingError(f"site {site.name!r}: norm {site.norm!r} must be a BatchNorm over {out} features")
        if not norm.track_running_stats:
            raise SplittingError(f"site {site.name!r}: norm {site.norm!r} must track running statistics")
    activation = _module(model, site.activation, f"site {site.name!r}: activation")
    if getattr(activation, "inplace", False):
        raise SplittingError(f"site {site.name!r}: activation {site.activation!r} is in-place; use inplace=False")
    if not site.consumers:
        raise SplittingError(f"site {site.name!r} has no consumers")
    consumers = []
    for c in site.consumers:
        mod = _module(model, c.name, f"site {site.name!r}: consumer")
        if isinstance(mod, nn.Linear):
            if mod.in_features != out * c.features_per_neuron:
                raise SplittingError(f"site {site.name!r}: consumer {c.name!r} has {mod.in_features} inputs, "
                                     f"expected {out} neurons x {c.features_per_neuron}")
        elif isinstance(mod, CONV_LAYERS):
            if mod.groups != 1 or mod.in_channels != out or c.features_per_neuron != 1:
                raise SplittingError(f"site {site.name!r}: conv consumer {c.name!r} needs groups=1, "
                                     f"{out} input channels and features_per_neuron=1")
        else:
            raise SplittingError(f"site {site.name!r}: consumer {c.name!r} is a {type(mod).__name__}, "
                                 "not nn.Linear, nn.Conv1d or nn.Conv2d")
        consumers.append((mod, c))
    return ResolvedSite(site=site, layer=layer, norm=norm, activation=activation, consumers=tuple(consumers))


def check_sites(model: nn.Module, sites: tuple[NeuronSite, ...] | list[NeuronSite]) -> list[ResolvedSite]:
    """Resolve every site; names and producer layers must be unique."""
    names = [s.name for s in sites]
    layers = [s.layer for s in sites]
    if len(set(names)) != len(names) or len(set(layers)) != len(layers):
        raise SplittingError(f"site names and layers must be unique: {names}")
    return [resolve(model, s) for s in sites]
