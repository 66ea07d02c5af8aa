"""Splitting matrices of the NB201 network's stage-width channels: every channel of a stage split in every layer at
once (its producers, consumers and parameters ``theta_c`` [D]: ``lso.growth.stage_layout``).

Splitting matrix (the multi-producer generalisation of ``lso.growth.splitting``): every ReLU reading channel ``c``
of a stage node -- the ReLU at the start of each conv op, the next reduction block's first ReLU, or the final
BN-ReLU -- is a site ``j`` with pre-activation ``h_j``, and

    S_c = sum_j E[ g_j sigma''(h_j) J_j J_j^T ],     J_j = d h_j / d theta_c   (first-order paths only)     [D, D]

where ``J_j`` follows ``theta_c`` from each producer through skip and pooling ops (linear, channel-wise) to the
node ``h_j`` reads. Paths through a conv op (a producer reading channel ``c`` and writing any channel) carry no
first-order change: the copies move by ``eps delta_k`` with ``sum_k w_k delta_k = 0`` and every reader sums them with
weights ``w_k``, so ``sum_k w_k sigma(h + eps J delta_k) = sigma(h) + O(eps^2)``; their second-order part is counted
at the ReLU where it arises. So the loss changes by ``(eps^2 / 2) sum_k w_k delta_k^T S_c delta_k + O(eps^3)``,
the same formula as for single-layer neurons (checked against the real loss change in ``tests/growth/test_stages.py``).

``S V`` products: ``J v`` for every channel at once is a *tangent* forward pass through the stage with the stored
producer inputs fixed (each producer becomes ``a * conv(x, v)``, ``a`` its BatchNorm scale), and ``S v`` is the
gradient of ``(1/2) sum_j q_j (J_j v)^2`` with ``q_j = g_j sigma''(h_j)``, one backward pass of the same -- the
cost of two training steps of the stage's convolutions on the value batches per product.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from lso.growth.conv import ConvGeometry, channel_view
from lso.growth.eigen import extreme_eigenpairs
from lso.growth.errors import SplittingError
from lso.growth.splitting import Eigenpairs, eigenpairs_exact
from lso.growth.stage_layout import StageGroup, group_width, site_relus, theta_layout
from lso.growth.statistics import LossFn, RecordedPass, SecondDerivative, record_passes
from lso.nets.network import Network
from lso.nets.ops import ReLUConvBN
from lso.space import EDGES


def _bn_scale(norm: nn.BatchNorm1d | nn.BatchNorm2d) -> torch.Tensor:
    """``[W]`` the eval-mode scale ``gamma / sqrt(running_var + eps)``."""
    scale = torch.rsqrt(norm.running_var.detach() + norm.eps)
    return scale * norm.weight.detach() if norm.weight is not None else scale


@dataclass(frozen=True, eq=False)
class StageStatistics:
    """What ``S V`` products of one stage group need (module docstring).

    Attributes:
        group: the group.
        layout: ``theta_layout`` of the group.
        inputs: producer conv path -> its input ``[N, C_in, *spatial]`` (all batches stacked; spatial ``H, W`` for
            images, ``L`` for 1-D signals).
        coeffs: site ReLU path -> ``q = g sigma''(h)`` (times the final BatchNorm's scale squared for
            ``lastact.1``), ``[N, W, *spatial]``, ``g`` from each batch's mean loss, divided by the number of batches.
        width, dim: ``W`` channels, ``D`` parameters per channel.
    """

    group: StageGroup
    layout: tuple[tuple[str, str | None, slice], ...]
    inputs: dict[str, torch.Tensor]
    coeffs: dict[str, torch.Tensor]
    width: int
    dim: int


def stage_paths(model: Network, groups: Sequence[StageGroup]) -> tuple[list[str], list[str]]:
    """What ``record_passes`` must record for these groups: (producer conv paths, site ReLU paths)."""
    return ([conv for g in groups for conv, _, _ in theta_layout(model, g)],
            [r for g in groups for r in site_relus(model, g)])


def stage_statistics(model: Network, groups: Sequence[StageGroup], passes: Sequence[RecordedPass],
                     second_derivative: SecondDerivative) -> dict[str, StageStatistics]:
    """The groups' statistics from passes that recorded ``stage_paths`` (``lso.growth.statistics.record_passes``):
    ``q = g sigma''(h)`` per site (times the final BatchNorm's scale squared at ``lastact.1``), averaged over
    batches, and the producers' inputs, the batches stacked into one (the energy sums over samples, so one tangent
    pass per product serves them all)."""
    last_scale = _bn_scale(model.lastact[0])

    def q(rec: RecordedPass, relu: str) -> torch.Tensor:
        c = rec.grads[relu] * second_derivative(rec.pre[relu])
        return c * channel_view(last_scale, c) ** 2 if relu == "lastact.1" else c

    result = {}
    for g in groups:
        layout = theta_layout(model, g)
        result[g.name] = StageStatistics(
            group=g, layout=layout, width=group_width(model, g), dim=layout[-1][2].stop,
            inputs={conv: torch.cat([rec.inputs[conv] for rec in passes]) for conv, _, _ in layout},
            coeffs={r: torch.cat([q(rec, r) for rec in passes]) / len(passes) for r in site_relus(model, g)})
    return result


def collect_stage_statistics(model: Network, groups: Sequence[StageGroup],
                             batches: Iterable[tuple[torch.Tensor, torch.Tensor]], loss_fn: LossFn,
                             second_derivative: SecondDerivative) -> dict[str, StageStatistics]:
    """One eval-mode forward and backward per batch recording the producers' inputs and the sites' ``q``.

    Args:
        model: the network (parameters must require grad; nothing is written to ``.grad``).
        groups: stage groups of ``model``.
        batches: ``(inputs, targets)``, moved to the model's device here.
        loss_fn: batch-MEAN loss ``loss_fn(model(x), y)``.
        second_derivative: ``sigma''`` of the ReLU stand-in (``lso.growth.splitting.second_derivative_of``).
    """
    convs, relus = stage_paths(model, groups)
    return stage_statistics(model, groups, record_passes(model, convs, relus, batches, loss_fn), second_derivative)


def _energy(model: Network, stats: StageStatistics, V: torch.Tensor) -> torch.Tensor:
    """``(1/2) sum_{c, j, sites, samples, positions} q (J v_cj)^2`` for ``V`` [W, b, D]."""
    W, b, _ = V.shape
    scales = {conv: (_bn_scale(model.get_submodule(bn)) if bn is not None else None) for conv, bn, _ in stats.layout}
    parts = {conv: part for conv, _, part in stats.layout}
    group = stats.group
    total = V.new_zeros(())
    inputs, coeffs = stats.inputs, stats.coeffs

    def term(conv_path: str) -> torch.Tensor:
        conv = model.get_submodule(conv_path)
        x = inputs[conv_path]
        geometry = ConvGeometry.of(conv)  # Conv2d or Conv1d: the geometry applies the right one
        t = geometry.conv(x, V[:, :, parts[conv_path]].reshape(geometry.weight_shape(W * b, x.shape[1])))
        a = scales[conv_path]
        return t if a is None else t * channel_view(a.repeat_interleave(b), t)

    def site(relu: str, t: torch.Tensor) -> torch.Tensor:
        q = coeffs[relu]
        return 0.5 * (q[:, :, None] * t.reshape(t.shape[0], W, b, *t.shape[2:]) ** 2).sum()

    t = sum(term(conv) for conv, _ in group.start)
    for i in group.cells:
        cell = model.cells[i]
        nodes: list[torch.Tensor | None] = [t, None, None, None]
        for slot, (to, frm) in enumerate(EDGES):
            if not cell._live[slot]:
                continue
            op, src = cell.edges[slot], nodes[frm]
            if isinstance(op, ReLUConvBN):
                total = total + site(f"cells.{i}.edges.{slot}.op.0", src)
                out = term(f"cells.{i}.edges.{slot}.op.1")
            elif isinstance(op, nn.Identity):
                out = src
            elif isinstance(op, (nn.AvgPool1d, nn.AvgPool2d)):
                out = op(src)
            else:
                raise SplittingError(f"cells.{i}.edges.{slot}: unexpected op {type(op).__name__} on a live edge")
            nodes[to] = out if nodes[to] is None else nodes[to] + out
        t = nodes[-1] if nodes[-1] is not None else t * 0.0
    end = "lastact.1" if group.end == "lastact" else f"{group.end}.conv_a.op.0"
    total = total + site(end, t)
    return total


def stage_matvec(model: Network, stats: StageStatistics, V: torch.Tensor) -> torch.Tensor:
    """``S V``: ``V`` [W, b, D] -> [W, b, D], row ``j`` of ``V[c]`` times ``S_c`` (module docstring)."""
    if V.shape[0] != stats.width or V.shape[2] != stats.dim:
        raise SplittingError(f"V has shape {tuple(V.shape)}, expected [{stats.width}, b, {stats.dim}]")
    with torch.enable_grad():
        V = V.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(_energy(model, stats, V), V)
    return grad


def stage_splitting_matrices(model: Network, stats: StageStatistics, chunk: int = 64) -> torch.Tensor:
    """Exact ``S`` [W, D, D] from ``D`` products with the unit vectors (small stages and tests).

    Raises:
        SplittingError: when ``S`` would hold more than 2e8 numbers (use the fast route).
    """
    if stats.width * stats.dim ** 2 > 2e8:
        raise SplittingError(f"{stats.group.name}: the exact splitting matrices would be {stats.width} x {stats.dim} x "
                             f"{stats.dim} numbers; use the fast route (route='fast')")
    ref = next(iter(stats.coeffs.values()))
    eye = torch.eye(stats.dim, dtype=ref.dtype, device=ref.device)
    cols = [stage_matvec(model, stats, eye[k:k + chunk].expand(stats.width, -1, -1))
            for k in range(0, stats.dim, chunk)]
    S = torch.cat(cols, dim=1)
    return 0.5 * (S + S.transpose(1, 2))


def stage_eigenpairs(model: Network, stats: StageStatistics, route: str = "fast", *, steps: int = 16,
                     generator: torch.Generator | None = None) -> Eigenpairs:
    """Min/max eigenpairs of every channel's ``S_c``: ``"exact"`` forms ``S``; ``"fast"`` runs block Lanczos
    (``lso.growth.eigen``) on ``stage_matvec`` for ``steps`` products."""
    if route == "exact":
        return eigenpairs_exact(stage_splitting_matrices(model, stats))
    if route != "fast":
        raise SplittingError(f"unknown eigenpair route {route!r}; use 'exact' or 'fast'")
    ref = next(iter(stats.coeffs.values()))
    matvec: Callable[[torch.Tensor], torch.Tensor] = partial(stage_matvec, model, stats)
    pairs = extreme_eigenpairs(matvec, stats.width, stats.dim, steps=steps, dtype=ref.dtype, device=ref.device,
                               generator=generator)
    return Eigenpairs.of(pairs)
