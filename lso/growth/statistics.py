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

from lso.growth.errors import SplittingError
from lso.growth.sites import NeuronSite, ResolvedSite, check_sites

SecondDerivative = Callable[[torch.Tensor], torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class ConvGeometry:
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]


@dataclass(frozen=True, eq=False)
class SiteStatistics:
    """What the splitting matrices of one site are made of.

    Attributes:
        site: the site.
        inputs: per batch, the producer input: ``[N, in]`` (Linear) or ``[B, C_in, H, W]`` (Conv2d).
        coeffs: per batch, ``c``: ``[N, out]`` (Linear) or ``[B, out, H_out, W_out]`` (Conv2d).
        has_bias: whether ``theta_i`` ends with a bias (``x`` then ends with a constant 1).
        conv: the convolution's geometry, None for Linear.
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
    resolved = check_sites(model, list(sites))
    device = next(model.parameters()).device
    sd = {r.site.name: (second_derivative[r.site.name] if isinstance(second_derivative, dict) else second_derivative)
          for r in resolved}
    inputs: dict[str, list[torch.Tensor]] = {r.site.name: [] for r in resolved}
    coeffs: dict[str, list[torch.Tensor]] = {r.site.name: [] for r in resolved}
    was_training = model.training
    model.eval()
    try:
        for xb, yb in batches:
            seen_in: dict[str, torch.Tensor] = {}
            seen_act: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
            handles = []
            for r in resolved:
                name = r.site.name

                def layer_hook(_m, args, _out, name=name):  # noqa: ANN001 - torch hook signature
                    if name in seen_in:
                        raise SplittingError(f"site {name!r}: its layer ran twice in one forward; sites need "
                                             "modules used once per forward")
                    seen_in[name] = args[0].detach()

                def act_hook(_m, args, out, name=name):  # noqa: ANN001
                    if name in seen_act:
                        raise SplittingError(f"site {name!r}: its activation module ran twice in one forward; "
                                             "give each site its own activation module")
                    seen_act[name] = (args[0].detach(), out)

                handles.append(r.layer.register_forward_hook(layer_hook))
                handles.append(r.activation.register_forward_hook(act_hook))
            try:
                out = model(xb.to(device))
            finally:
                for h in handles:
                    h.remove()
            missing = [r.site.name for r in resolved if r.site.name not in seen_act or r.site.name not in seen_in]
            if missing:
                raise SplittingError(f"sites {missing} were not reached by the forward pass")
            loss = loss_fn(out, yb.to(device))
            names = [r.site.name for r in resolved]
            grads = torch.autograd.grad(loss, [seen_act[n][1] for n in names], allow_unused=True)
            for r, g in zip(resolved, grads):
                name = r.site.name
                h = seen_act[name][0]
                if g is None:
                    g = torch.zeros_like(h)
                if h.shape[1] != r.width or h.shape != g.shape:
                    raise SplittingError(f"site {name!r}: activation input has shape {tuple(h.shape)}, expected "
                                         f"{r.width} neurons on dim 1")
                c = g.detach() * sd[name](h)
                scale = _norm_scale(r)
                if scale is not None:
                    c = c * (scale ** 2).reshape(1, -1, *([1] * (c.dim() - 2)))
                inputs[name].append(seen_in[name])
                coeffs[name].append(c)
    finally:
        model.train(was_training)
    result = {}
    for r in resolved:
        name = r.site.name
        nb = len(coeffs[name])
        if nb == 0:
            raise SplittingError("no batches given to compute splitting statistics")
        conv = None
        if isinstance(r.layer, nn.Conv2d):
            conv = ConvGeometry(tuple(r.layer.kernel_size), tuple(r.layer.stride), tuple(r.layer.padding),
                                tuple(r.layer.dilation))
        elif inputs[name][0].dim() != 2:
            raise SplittingError(f"site {name!r}: Linear input must be [N, in], got {tuple(inputs[name][0].shape)}")
        result[name] = SiteStatistics(site=r.site, inputs=tuple(inputs[name]),
                                      coeffs=tuple(c / nb for c in coeffs[name]), has_bias=r.layer.bias is not None,
                                      conv=conv, dim=r.dim, width=r.width)
    return result
