"""Zero-cost proxies: scores of an untrained network that are read as a prior on its trained accuracy.

Each proxy looks at the network at initialisation (one seeded draw of the weights) and at most one batch of data, so
it costs a forward and a backward pass, not a training. They are priors, not labels: their rank correlation with a
benchmark's accuracy is measured (``lso bench proxies``), and their compute time is reported next to any query count
they save.

- ``synflow`` (Tanaka et al., 2020, eq. 3, as a NAS proxy in Abdelfattah et al., 2021):
  ``S = sum_theta |theta * dR/dtheta|`` with ``R = 1^T f_{|theta|}(1)``: every weight replaced by its absolute
  value, an all-ones input, batch norm in eval mode (its fresh running statistics make it an identity), float64.
  Data-free.
- ``naswot`` (Mellor et al., 2021, eq. 2): ``log |det K_H|`` with ``K_H[i, j] = N_A - d_H(c_i, c_j)``, ``c_i`` the
  binary code of which ReLUs are active for example ``i`` of the batch (``N_A`` units in all).
- ``grad_norm`` (Abdelfattah et al., 2021): ``sum_layers ||dL/dtheta||_2`` of the cross-entropy on the batch.
- ``params`` and ``flops``: the network's size (closed form, the benchmark's own counts).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from lso.errors import LsoError

PROXIES: tuple[str, ...] = ("synflow", "naswot", "grad_norm", "params", "flops")


class ProxyError(LsoError):
    """A proxy that cannot be computed as asked (an unknown name, an empty or mismatched batch)."""


@dataclass(frozen=True)
class ProxyScores:
    """The proxies of one cell: ``scores[name]`` (higher is read as better for every proxy here) and the seconds
    each took, measured on this machine (``params`` and ``flops`` are closed form: zero)."""

    arch: str
    seed: int
    scores: dict[str, float]
    seconds: dict[str, float]


def check_proxies(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``names`` as a tuple, or :class:`ProxyError` naming the unknown ones and the known."""
    unknown = [n for n in names if n not in PROXIES]
    if unknown or not names:
        raise ProxyError(f"unknown proxies {unknown or '(none given)'}; known: {', '.join(PROXIES)}")
    return tuple(names)


def synflow(model: nn.Module, input_shape: tuple[int, ...]) -> float:
    """Synaptic flow of ``model`` for inputs of shape ``input_shape`` (``[C, S, S]`` or ``[C, L]``, no batch).

    ``S = sum_theta |theta * dR/dtheta|``, ``R = sum(f_{|theta|}(1))`` in float64 on a copy of the model (the model
    itself is left as it was). Returns ``log(S)`` (``S`` spans many orders of magnitude; ``-inf`` when zero).
    """
    net = _copy(model).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad(set_to_none=True)
    device = next(net.parameters()).device
    out = net(torch.ones((1, *input_shape), dtype=torch.float64, device=device))
    out.sum().backward()
    total = sum(float((p.detach() * p.grad).abs().sum()) for p in net.parameters() if p.grad is not None)
    return float(torch.log(torch.tensor(total, dtype=torch.float64)))


def naswot(model: nn.Module, x: torch.Tensor) -> float:
    """NASWOT score ``log |det K_H|`` of ``model`` on the batch ``x`` ``[B, ...]`` (``B >= 2``).

    ``c_i in {0, 1}^{N_A}``: which inputs of the ReLUs are positive for example ``i``;
    ``K_H = c c^T + (1 - c)(1 - c)^T`` (``N_A`` minus the Hamming distance), in float64, train-mode batch norm.
    """
    if x.shape[0] < 2:
        raise ProxyError(f"naswot needs a batch of at least 2 examples, got {x.shape[0]}")
    codes: list[torch.Tensor] = []

    def hook(_module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        codes.append((args[0].detach() > 0).flatten(1).double())

    net = _copy(model).train()
    handles = [m.register_forward_pre_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
    if not codes:
        raise ProxyError("naswot found no ReLU in the network")
    c = torch.cat(codes, dim=1)
    k = c @ c.T + (1.0 - c) @ (1.0 - c).T
    sign, logdet = torch.linalg.slogdet(k)
    return float(logdet) if float(sign) > 0 else float("-inf")


def grad_norm(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """``sum_layers ||dL/dtheta||_2`` of the mean cross-entropy ``L`` of ``model`` on ``(x [B, ...], y [B])``."""
    if len(x) != len(y) or len(x) < 2:
        raise ProxyError(f"grad_norm needs a batch of >= 2 examples with one label each, got {len(x)} and {len(y)}")
    net = _copy(model).train()
    net.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(net(x), y).backward()
    return float(sum(float(p.grad.norm()) for p in net.parameters() if p.grad is not None))


def score_network(model: nn.Module, x: torch.Tensor, y: torch.Tensor, proxies: tuple[str, ...], *,
                  arch: str, seed: int, params: int, flops: int) -> ProxyScores:
    """Every proxy of ``proxies`` for ``model`` (initialised by the caller with ``seed``) on the batch ``(x, y)``;
    ``params`` and ``flops`` are the caller's closed-form counts."""
    scores: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for name in check_proxies(proxies):
        start = time.perf_counter()
        if name == "synflow":
            scores[name] = synflow(model, tuple(x.shape[1:]))
        elif name == "naswot":
            scores[name] = naswot(model, x)
        elif name == "grad_norm":
            scores[name] = grad_norm(model, x, y)
        elif name == "params":
            scores[name] = float(params)
        else:
            scores[name] = float(flops)
        seconds[name] = time.perf_counter() - start if name in ("synflow", "naswot", "grad_norm") else 0.0
    return ProxyScores(arch=arch, seed=int(seed), scores=scores, seconds=seconds)


def _copy(model: nn.Module) -> nn.Module:
    # Proxies change weights (synflow) or gradients; the caller's network stays untouched.
    import copy

    return copy.deepcopy(model)
