"""Input-convex neural network surrogate on the latent space (Amos, Xu & Kolter 2017; CR-LSO's surrogate).

``h_1 = act(W_0 z + b_0)``; ``h_{k+1} = act(W^h_k h_k + W^z_k z + b_k)``; ``f(z) = w^h . h_K + w^z . z + c``
with ``W^h_k >= 0``, ``w^h >= 0`` and ``act = softplus`` (convex, non-decreasing). Then ``f`` is convex in ``z``:
a non-negative sum of convex non-decreasing functions of convex functions, plus affine terms. The constraint is
kept by projection: call ``project_()`` after every optimiser step (clamps the constrained weights at 0).

The network is fitted to STANDARDISED labels ``(y - y_mean) / y_std`` with ``-f`` as the prediction, so the
predicted score ``y_mean - y_std * f(z)`` is concave in ``z``: gradient ascent on it has no spurious local optima.
``y_mean``, ``y_std`` and ``fitted`` are buffers, saved with the weights.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from lso.errors import LsoError


class ICNN(nn.Module):
    """Convex ``f: [n, d] -> [n]``; ``predict(z)`` is the concave score ``y_mean - y_std * f(z)`` ``[n]``."""

    def __init__(self, latent_dim: int = 16, hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        if not hidden:
            raise ValueError("an ICNN needs at least one hidden layer")
        self.latent_dim = latent_dim
        self.first = nn.Linear(latent_dim, hidden[0])
        self.hidden_to_hidden = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in zip(hidden[:-1], hidden[1:]))
        self.input_to_hidden = nn.ModuleList(nn.Linear(latent_dim, b) for b in hidden[1:])
        self.out_hidden = nn.Linear(hidden[-1], 1, bias=False)
        self.out_input = nn.Linear(latent_dim, 1)
        for layer in [*self.hidden_to_hidden, self.out_hidden]:
            nn.init.uniform_(layer.weight, 0.0, 1.0 / math.sqrt(layer.in_features))  # start feasible
        self.register_buffer("y_mean", torch.zeros(()))
        self.register_buffer("y_std", torch.ones(()))
        self.register_buffer("fitted", torch.zeros(()))

    def constrained(self) -> Iterator[torch.Tensor]:
        """The weights that must stay non-negative (hidden-to-hidden and hidden-to-output)."""
        for layer in [*self.hidden_to_hidden, self.out_hidden]:
            yield layer.weight

    @torch.no_grad()
    def project_(self) -> "ICNN":
        """Clamp the constrained weights at 0 (the projection onto the convex-network set); returns self."""
        for w in self.constrained():
            w.clamp_(min=0.0)
        return self

    def is_convex(self) -> bool:
        """True when every constrained weight is non-negative (so ``f`` is convex by construction)."""
        return all(bool((w >= 0).all()) for w in self.constrained())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``f(z)``, convex in ``z``; ``z [n, d] -> [n]``."""
        h = F.softplus(self.first(z))
        for wh, wz in zip(self.hidden_to_hidden, self.input_to_hidden):
            h = F.softplus(wh(h) + wz(z))
        return (self.out_hidden(h) + self.out_input(z)).squeeze(-1)

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        """The score in label units, ``y_mean - y_std * f(z)`` ``[n]`` (concave in ``z``)."""
        return self.y_mean - self.y_std * self(z)

    @torch.no_grad()
    def set_scaler(self, mean: float, std: float) -> None:
        """Set the label standardisation ``(y - mean) / std`` and mark the surrogate as fitted to labels."""
        self.y_mean.fill_(float(mean))
        self.y_std.fill_(float(std) if std > 0 else 1.0)
        self.fitted.fill_(1.0)

    def standardise(self, y: torch.Tensor) -> torch.Tensor:
        """``(y - y_mean) / y_std``, the ICNN's regression target is ``-f = standardised y``."""
        return (y - self.y_mean) / self.y_std


@dataclass(frozen=True)
class SurrogateFit:
    """Result of ``fit_icnn``: the MSE (standardised units) per step ``[steps]`` and, when asked for, copies of the
    ICNN every ``snapshot_every`` steps (the first is the starting ICNN, the last the final one)."""

    losses: tuple[float, ...]
    snapshots: tuple[ICNN, ...] = ()


def check_fit_inputs(z: torch.Tensor, y: torch.Tensor, steps: int, lr: float) -> torch.Tensor:
    """``y`` as a ``[m]`` tensor beside ``z [m, d]``; ``LsoError`` for a length mismatch, NaN/inf or a bad schedule."""
    y = torch.as_tensor(y, dtype=z.dtype, device=z.device).reshape(-1)
    if len(y) != len(z):
        raise LsoError(f"fitting the ICNN needs one score per latent: got {len(z)} latents and {len(y)} scores")
    if not bool(torch.isfinite(y).all()):
        raise LsoError("the ICNN's training scores have NaN or infinite entries")
    if steps < 1 or lr <= 0:
        raise LsoError(f"fitting the ICNN needs steps >= 1 and lr > 0, got steps={steps}, lr={lr}")
    return y


def fit_icnn(icnn: ICNN, z: torch.Tensor, y: torch.Tensor, *, steps: int = 200, lr: float = 1e-3,
             rescale: bool | None = None, snapshot_every: int = 0) -> SurrogateFit:
    """Fit ``icnn`` in place to pairs ``(z [m, d], y [m])`` (``y`` in label units), full batch, Adam.

    Loss ``mean((-f(z) - (y - y_mean) / y_std)^2)``; ``project_()`` after every step keeps ``f`` convex, so the
    prediction ``y_mean - y_std * f(z)`` stays concave. ``rescale``: set ``y_mean``/``y_std`` from ``y`` first
    (default: only when the ICNN never saw labels). ``snapshot_every > 0``: keep copies every that many steps.
    """
    y = check_fit_inputs(z, y, steps, lr)
    z = z.detach()
    if rescale or (rescale is None and not bool(icnn.fitted)):
        icnn.set_scaler(float(y.mean()), float(y.std()) if len(y) > 1 else 1.0)
    target = icnn.standardise(y)
    optimiser = torch.optim.Adam(icnn.parameters(), lr=lr)
    icnn.train()
    losses, snapshots = [], [copy.deepcopy(icnn).eval()] if snapshot_every > 0 else []
    for step in range(1, steps + 1):
        loss = F.mse_loss(-icnn(z), target)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        icnn.project_()
        losses.append(float(loss.detach()))
        if snapshot_every > 0 and (step % snapshot_every == 0 or step == steps):
            snapshots.append(copy.deepcopy(icnn).eval())
    icnn.eval()
    return SurrogateFit(tuple(losses), tuple(snapshots))
