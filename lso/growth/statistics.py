"""Per-sample statistics of splittable neurons: the inputs ``x`` and the curvature weights ``c = g sigma''(h) a^2``.

One forward and backward pass over a few batches records, per site, the producer's input and the coefficient

    c_{n,p,i} = (dL_b/dsigma_{n,p,i}) * sigma''(h_{n,p,i}) * a_i^2 / n_batches

(sample ``n``, output position ``p``, neuron ``i``, ``L_b`` the batch-mean loss, ``a_i`` the eval-mode BatchNorm
scale). The splitting matrix is then ``S_i = sum_{b,n,p} c_{n,p,i} x_{n,p} x_{n,p}^T`` (``lso.growth.splitting``),
i.e. ``E[g_i sigma''(h_i) x x^T]`` over batches and positions, with the scale that makes the loss change of a split
exactly ``(eps^2 / 2) sum_j w_j delta_j^T S_i delta_j + O(eps^3)`` on the same batches.

The model is put in eval mode while recording (BatchNorm is then a fixed per-channel affine map, which the split
analysis assumes) and restored afterwards. Memory: one copy of each site's input activations for the batches given,
so pass a few batches (an estimation set), not an epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn

from lso.growth.conv import CONV_LAYERS, ConvGeometry
from lso.growth.errors import SplittingError
from lso.growth.sites import NeuronSite, ResolvedSite, check_sites

SecondDerivative = Callable[[torch.Tensor], torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True, eq=False)
class SiteStatistics:
    """What the splitting matrices of one site are made of.

    Attributes:
        site: the site.
        inputs: per batch, the producer input: ``[N, in]`` (Linear), ``[B, C_in, H, W]`` (Conv2d) or
            ``[B, C_in, L]`` (Conv1d).
        coeffs: per batch, ``c``: ``[N, out]`` (Linear), ``[B, out, H_out, W_out]`` (Conv2d) or
            ``[B, out, L_out]`` (Conv1d).
        has_bias: whether ``theta_i`` ends with a bias (``x`` then ends with a constant 1).
        conv: the convolution's geometry (``lso.growth.conv``; it knows its dims), None for Linear.
        dim: ``d``, parameters per neuron.
        width: ``out``, neurons.
    """

    site: NeuronSite
    inputs: tuple[torch.Tensor, ...]
    coeffs: tuple[torch.Tensor, ...]
    has_bias: bool
    conv: ConvGeometry | None
    dim: int
    width: int


def _norm_scale(r: ResolvedSite) -> torch.Tensor | None:
    """``[out]`` the eval-mode BatchNorm scale ``a_i = gamma_i / sqrt(running_var_i + eps)``."""
    if r.norm is None:
        return None
    scale = torch.rsqrt(r.norm.running_var.detach() + r.norm.eps)
    return scale * r.norm.weight.detach() if r.norm.weight is not None else scale


@dataclass(frozen=True, eq=False)
class RecordedPass:
    """One eval-mode forward and backward pass of a batch, by module path: ``inputs`` the input of each recorded
    layer; ``pre`` the input ``h`` and ``grads`` the output gradient ``g = dL_b/dsigma`` (zeros where the loss does
    not depend on it) of each recorded activation. ``L_b`` is the batch-mean loss."""

    inputs: dict[str, torch.Tensor]
    pre: dict[str, torch.Tensor]
    grads: dict[str, torch.Tensor]


def record_passes(model: nn.Module, layers: Iterable[str], activations: Iterable[str],
                  batches: Iterable[tuple[torch.Tensor, torch.Tensor]], loss_fn: LossFn) -> list[RecordedPass]:
    """Run ``batches`` through ``model`` in eval mode (restored afterwards), recording what splitting statistics
    are made of: one ``RecordedPass`` per batch. Nothing is written to ``.grad``.

    Args:
        model: the network; its parameters must require grad.
        layers, activations: module paths (``model.get_submodule``) whose input, resp. input and output gradient,
            are recorded; each must run exactly once per forward.
        batches: ``(inputs, targets)`` pairs, moved to the model's device here.
        loss_fn: ``loss_fn(model(inputs), targets)`` -> scalar batch-MEAN loss.

    Raises:
        SplittingError: a module that runs twice in one forward or not at all, or no batches.
    """
    layers, activations = sorted(set(layers)), sorted(set(activations))
    modules = {path: model.get_submodule(path) for path in layers + activations}
    device = next(model.parameters()).device
    passes = []
    was_training = model.training
    model.eval()
    try:
        for xb, yb in batches:
            seen_in: dict[str, torch.Tensor] = {}
            seen_act: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

            def keep(store: dict, path: str, value) -> None:  # noqa: ANN001
                if path in store:
                    raise SplittingError(f"module {path!r} ran twice in one forward; splitting sites need modules "
                                         "used once per forward (give each site its own activation module)")
                store[path] = value

            handles = [modules[p].register_forward_hook(
                lambda _m, args, _out, p=p: keep(seen_in, p, args[0].detach())) for p in layers]
            handles += [modules[p].register_forward_hook(
                lambda _m, args, out, p=p: keep(seen_act, p, (args[0].detach(), out))) for p in activations]
            try:
                out = model(xb.to(device))
            finally:
                for h in handles:
                    h.remove()
            missing = sorted((set(layers) - set(seen_in)) | (set(activations) - set(seen_act)))
            if missing:
                raise SplittingError(f"sites {missing} were not reached by the forward pass")
            grads = torch.autograd.grad(loss_fn(out, yb.to(device)), [seen_act[p][1] for p in activations],
                                        allow_unused=True)
            passes.append(RecordedPass(
                inputs=seen_in, pre={p: seen_act[p][0] for p in activations},
                grads={p: torch.zeros_like(seen_act[p][0]) if g is None else g.detach()
                       for p, g in zip(activations, grads)}))
    finally:
        model.train(was_training)
    if not passes:
        raise SplittingError("no batches given to compute splitting statistics")
    return passes


def site_statistics(model: nn.Module, sites: list[NeuronSite] | tuple[NeuronSite, ...],
                    passes: list[RecordedPass],
                    second_derivative: SecondDerivative | dict[str, SecondDerivative]) -> dict[str, SiteStatistics]:
    """``x`` and ``c`` of every site (module docstring) from passes that recorded each site's layer and activation
    (``record_passes``); ``second_derivative`` as in ``collect_statistics``."""
    resolved = check_sites(model, list(sites))
    result = {}
    for r in resolved:
        name, site = r.site.name, r.site
        sd = second_derivative[name] if isinstance(second_derivative, dict) else second_derivative
        scale = _norm_scale(r)
        coeffs = []
        for rec in passes:
            h, g = rec.pre[site.activation], rec.grads[site.activation]
            if h.shape[1] != r.width or h.shape != g.shape:
                raise SplittingError(f"site {name!r}: activation input has shape {tuple(h.shape)}, expected "
                                     f"{r.width} neurons on dim 1")
            c = g * sd(h)
            if scale is not None:
                c = c * (scale ** 2).reshape(1, -1, *([1] * (c.dim() - 2)))
            coeffs.append(c / len(passes))
        inputs = tuple(rec.inputs[site.layer] for rec in passes)
        conv = None
        if isinstance(r.layer, CONV_LAYERS):
            conv = ConvGeometry.of(r.layer)
        elif inputs[0].dim() != 2:
            raise SplittingError(f"site {name!r}: Linear input must be [N, in], got {tuple(inputs[0].shape)}")
        result[name] = SiteStatistics(site=site, inputs=inputs, coeffs=tuple(coeffs),
                                      has_bias=r.layer.bias is not None, conv=conv, dim=r.dim, width=r.width)
    return result


def collect_statistics(model: nn.Module, sites: list[NeuronSite] | tuple[NeuronSite, ...],
                       batches: Iterable[tuple[torch.Tensor, torch.Tensor]], loss_fn: LossFn,
                       second_derivative: SecondDerivative | dict[str, SecondDerivative]) -> dict[str, SiteStatistics]:
    """Record ``x`` and ``c`` for every site over ``batches`` (see the module docstring).

    Args:
        model: the network; its parameters must require grad (nothing is written to ``.grad``).
        sites: the splittable sites, resolved against ``model``.
        batches: ``(inputs, targets)`` pairs, moved to the model's device here.
        loss_fn: ``loss_fn(model(inputs), targets)`` -> scalar batch-MEAN loss.
        second_derivative: ``sigma''`` as a function of ``h`` (elementwise), one for all sites or one per site name
            (``lso.growth.splitting.second_derivative_of`` picks it from the activation module, with the softplus
            stand-in for ReLU).
    Returns:
        site name -> ``SiteStatistics``.
    """
    check_sites(model, list(sites))
    passes = record_passes(model, [s.layer for s in sites], [s.activation for s in sites], batches, loss_fn)
    return site_statistics(model, sites, passes, second_derivative)
