"""Splitting matrices of neurons and their extreme eigenpairs (S2D, Liu et al. 2019; fast route, Wang et al. 2019).

For neuron ``i`` of a site (``lso.growth.sites``) computing ``sigma(h_i)``, ``h_i = a_i theta_i^T x + b_i``, the
splitting matrix is

    S_i = E[ g_i * sigma''(h_i) * a_i^2 * x x^T ],      g_i = dL/dsigma_i,          S: [out, d, d]

with ``x`` the layer input (``nn.Linear``, plus a trailing 1 for the bias) or the unfolded input patch of each output
position (``nn.Conv2d``: ``x = unfold(input)[:, :, p]``, ``d = C_in * kh * kw (+1)``; ``nn.Conv1d`` likewise with
``d = C_in * k (+1)``, ``lso.growth.conv``; the expectation runs over batch AND positions). Normalisation: ``sum``
over samples and positions of ``c = g sigma'' a^2`` with ``g`` from the batch-mean loss, averaged over batches
(``lso.growth.statistics``), so that replacing the neuron by copies ``theta_i + eps delta_j`` with output weights
``w_j`` (``sum w_j = 1``, ``sum w_j delta_j = 0``) changes the loss on those batches by
``(eps^2 / 2) sum_j w_j delta_j^T S_i delta_j + O(eps^3)``.

Two routes:
* exact (small layers): ``splitting_matrices`` forms ``S`` ([out, d, d]) directly, ``eigenpairs_exact`` diagonalises.
* fast (large layers): ``splitting_matvec`` computes ``S V`` for a block ``V`` without forming ``S`` (for a conv:
  one convolution of the stored input with ``V`` as kernels, times ``c``, then the weight gradient of that
  convolution -- the cost of one backward pass of the layer), and ``eigenpairs_fast`` runs block Lanczos
  (``lso.growth.eigen``) on it for ``lambda_min``, ``lambda_max`` and their vectors only.

ReLU has ``sigma'' = 0`` almost everywhere, so ``S = 0``: the S2D authors' stand-in, the second derivative of
``softplus_beta(h) = log(1 + exp(beta h)) / beta`` with ``beta = 3``, which is
``beta * s(beta h) (1 - s(beta h))`` (``s`` the logistic function), is what ``second_derivative_of`` returns for
``nn.ReLU``. Any elementwise ``sigma''`` can be passed instead (``second_derivative`` arguments).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from lso.growth.eigen import ExtremePairs, extreme_eigenpairs, finite_eigh
from lso.growth.errors import SplittingError
from lso.growth.statistics import SecondDerivative, SiteStatistics

RELU_STANDIN_BETA = 3.0


def _softplus_dd(h: torch.Tensor, beta: float) -> torch.Tensor:
    s = torch.sigmoid(beta * h)
    return beta * s * (1.0 - s)


def _tanh_dd(h: torch.Tensor) -> torch.Tensor:
    t = torch.tanh(h)
    return -2.0 * t * (1.0 - t * t)


def _sigmoid_dd(h: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(h)
    return s * (1.0 - s) * (1.0 - 2.0 * s)


def softplus_second_derivative(beta: float = RELU_STANDIN_BETA) -> SecondDerivative:
    """``h -> d^2/dh^2 softplus_beta(h) = beta s(beta h)(1 - s(beta h))``; with beta=3 the ReLU stand-in."""
    return partial(_softplus_dd, beta=float(beta))


def second_derivative_of(activation: nn.Module, relu_beta: float = RELU_STANDIN_BETA) -> SecondDerivative:
    """``sigma''`` for an activation module: exact for Softplus, Tanh, Sigmoid; the softplus(beta=relu_beta) stand-in
    for ReLU (whose own second derivative is zero). Other modules: pass a function explicitly."""
    if isinstance(activation, nn.ReLU):
        return softplus_second_derivative(relu_beta)
    if isinstance(activation, nn.Softplus):
        return softplus_second_derivative(activation.beta)
    if isinstance(activation, nn.Tanh):
        return _tanh_dd
    if isinstance(activation, nn.Sigmoid):
        return _sigmoid_dd
    raise SplittingError(f"no known second derivative for {type(activation).__name__}; pass second_derivative")


def _patches(stats: SiteStatistics, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch ``k`` as rows: ``x`` [N, d] (unfolded patches, plus a 1 column with bias) and ``c`` [N, out]."""
    inp, c = stats.inputs[k], stats.coeffs[k]
    if stats.conv is not None:
        cols = stats.conv.unfold(inp)  # [B, dw, P]
        x = cols.transpose(1, 2).reshape(-1, cols.shape[1])
        c = c.reshape(c.shape[0], c.shape[1], -1).transpose(1, 2).reshape(-1, c.shape[1])
    else:
        x = inp
    if stats.has_bias:
        x = torch.cat([x, torch.ones_like(x[:, :1])], dim=1)
    return x, c


def splitting_matrices(stats: SiteStatistics) -> torch.Tensor:
    """Exact ``S`` of every neuron of a site: ``[out, d, d]``, ``S_i = sum_n c_{n,i} x_n x_n^T`` (small layers)."""
    S = None
    for k in range(len(stats.inputs)):
        x, c = _patches(stats, k)
        cx = (c[:, :, None] * x[:, None, :]).reshape(x.shape[0], -1)  # [N, out*d]; a matmul, not an [N,o,d,d] einsum
        part = (cx.T @ x).reshape(c.shape[1], x.shape[1], x.shape[1])
        S = part if S is None else S + part
    return 0.5 * (S + S.transpose(1, 2))


def splitting_matvec(stats: SiteStatistics, V: torch.Tensor) -> torch.Tensor:
    """``S V`` without forming ``S``: ``V`` [out, b, d] -> [out, b, d], row j of ``V[i]`` times ``S_i``.

    ``(S_i v)= sum_n c_{n,i} x_n (x_n^T v)``: the projections ``x_n^T v`` of every (neuron, vector) pair are one
    layer forward with ``V`` as weights (a convolution for conv sites), and the weighted sum is that layer's weight
    gradient for the output gradient ``c * projection``.
    """
    out, b, d = V.shape
    if out != stats.width or d != stats.dim:
        raise SplittingError(f"V has shape {tuple(V.shape)}, expected [{stats.width}, b, {stats.dim}]")
    flat = V.reshape(out * b, d)
    dw = d - 1 if stats.has_bias else d
    weight, bias = flat[:, :dw], (flat[:, dw] if stats.has_bias else None)
    total = torch.zeros_like(flat)
    for inp, c in zip(stats.inputs, stats.coeffs):
        # channel o*b + j <-> (neuron o, vector j); c broadcasts over j instead of being repeated
        if stats.conv is None:
            proj = F.linear(inp, weight, bias)  # [N, out*b]
            grad = (proj.reshape(-1, out, b) * c[:, :, None]).reshape(proj.shape)
            gw = grad.T @ inp
            gb = grad.sum(dim=0)
        else:
            g = stats.conv
            wk = weight.reshape(g.weight_shape(out * b, inp.shape[1]))
            proj = g.conv(inp, wk, bias)
            grad = (proj.reshape(proj.shape[0], out, b, *proj.shape[2:]) * c[:, :, None]).reshape(proj.shape)
            gw = g.weight_grad(inp, wk.shape, grad).reshape(out * b, dw)
            gb = grad.sum(dim=(0, *range(2, grad.dim())))
        total = total + (torch.cat([gw, gb[:, None]], dim=1) if stats.has_bias else gw)
    return total.reshape(out, b, d)


@dataclass(frozen=True, eq=False)
class Eigenpairs:
    """Extreme eigenpairs of a site's splitting matrices: ``lambda_min, lambda_max`` [out], ``v_min, v_max`` [out, d]
    (unit vectors), ``residual`` [out] (max ``||S v - lambda v||``; 0 for the exact route)."""

    lambda_min: torch.Tensor
    lambda_max: torch.Tensor
    v_min: torch.Tensor
    v_max: torch.Tensor
    residual: torch.Tensor

    @classmethod
    def of(cls, pairs: ExtremePairs) -> "Eigenpairs":
        return cls(pairs.lambda_min, pairs.lambda_max, pairs.v_min, pairs.v_max, pairs.residual)


def eigenpairs_exact(S: torch.Tensor) -> Eigenpairs:
    """``S`` [out, d, d] -> its min and max eigenpairs by a full symmetric eigendecomposition."""
    vals, vecs, bad = finite_eigh(S)  # NaN from batched float32 eigh is retried; what stays NaN is flagged
    residual = torch.zeros_like(vals[:, 0]).masked_fill(bad, float("nan"))
    return Eigenpairs(vals[:, 0], vals[:, -1], vecs[:, :, 0], vecs[:, :, -1], residual)


def eigenpairs_fast(stats: SiteStatistics, *, steps: int = 16, max_subspace: int = 24,
                    generator: torch.Generator | None = None) -> Eigenpairs:
    """Min/max eigenpairs of every neuron's ``S`` from ``steps`` block products ``S V`` (each ~ one backward pass of
    the layer over the stored batches); exact once ``2 * steps >= d``."""
    ref = stats.coeffs[0]
    pairs = extreme_eigenpairs(partial(splitting_matvec, stats), stats.width, stats.dim, steps=steps,
                               max_subspace=max_subspace, dtype=ref.dtype, device=ref.device, generator=generator)
    return Eigenpairs.of(pairs)


def site_eigenpairs(stats: SiteStatistics, route: str = "fast", *, steps: int = 16,
                    generator: torch.Generator | None = None) -> Eigenpairs:
    """Eigenpairs by ``route``: ``"exact"`` (form S) or ``"fast"`` (products only)."""
    if route == "exact":
        return eigenpairs_exact(splitting_matrices(stats))
    if route == "fast":
        return eigenpairs_fast(stats, steps=steps, generator=generator)
    raise SplittingError(f"unknown eigenpair route {route!r}; use 'exact' or 'fast'")

