"""One search step: the gradients of a MiLeNAS or first-order DARTS step and the two optimisers they feed.

Both gradients are taken at the current point ``(w, alpha)`` and then both parameters step; ``L_train`` is the
cross-entropy on a batch of the weight half, ``L_val`` on a batch of the architecture half:

- MiLeNAS (first order, mixed level)::

      w     <- w     - eta_w     grad_w L_train(w, alpha)
      alpha <- alpha - eta_alpha (grad_alpha L_train(w, alpha) + lambda grad_alpha L_val(w, alpha))

- DARTS, first order (the bilevel problem with the inner optimum approximated by the current ``w``)::

      w     <- w     - eta_w     grad_w L_train(w, alpha)
      alpha <- alpha - eta_alpha grad_alpha L_val(w, alpha)

``eta_*`` are the optimisers' (SGD with momentum for ``w``, Adam for ``alpha``): the rule is the gradient each one
is fed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lso.nets.darts_supernet import DartsSupernet
from lso.nets.supernet import Supernet
from lso.search.milenas.config import VARIANTS, MilenasConfig, MilenasError

SearchModel = Supernet | DartsSupernet
"""A supernet the step trains: one ``alpha`` parameter, ``weight_parameters()`` and ``arch_parameters()``."""


@dataclass(frozen=True)
class StepGradients:
    """The gradients one step feeds its optimisers, all at the same ``(w, alpha)``.

    ``weights``: ``grad_w L_train`` per weight parameter (``Supernet.weight_parameters`` order).
    ``alpha``: the architecture gradient of the variant (see the module docstring), ``alpha``'s shape: NB201
    ``[6, 5]``, DARTS ``[28, 8]``.
    ``logits_train``: ``[B, classes]`` detached, for running accuracy. Losses are mean cross-entropy.
    """

    weights: tuple[torch.Tensor, ...]
    alpha: torch.Tensor
    train_loss: float
    val_loss: float
    logits_train: torch.Tensor
    logits_val: torch.Tensor


def step_gradients(
    model: SearchModel,
    train_batch: tuple[torch.Tensor, torch.Tensor],
    val_batch: tuple[torch.Tensor, torch.Tensor],
    method: str = "milenas",
    lam: float = 1.0,
) -> StepGradients:
    """Gradients of one MiLeNAS (``grad_alpha L_train + lam grad_alpha L_val``) or first-order DARTS
    (``grad_alpha L_val``) step; ``grad_w L_train`` for the weights in both. Batches are ``(x [B, C, S, S], y [B])``.
    ``method`` is one of ``VARIANTS``.
    """
    if method not in VARIANTS:
        raise MilenasError(f"method must be one of {', '.join(VARIANTS)}, got {method!r}")
    weights = model.weight_parameters()
    x_t, y_t = train_batch
    logits_t = model(x_t)
    loss_t = nn.functional.cross_entropy(logits_t, y_t)
    # The train pass gives grad_w and, for MiLeNAS, grad_alpha L_train at once: two passes per step for both variants.
    wrt = [*weights, model.alpha] if method == "milenas" else weights
    grads = torch.autograd.grad(loss_t, wrt, allow_unused=True)
    grads = tuple(torch.zeros_like(p) if g is None else g for p, g in zip(wrt, grads))
    x_v, y_v = val_batch
    logits_v = model(x_v)
    loss_v = nn.functional.cross_entropy(logits_v, y_v)
    (g_alpha_val,) = torch.autograd.grad(loss_v, [model.alpha])
    if method == "milenas":
        g_weights, g_alpha = grads[:-1], grads[-1] + lam * g_alpha_val
    else:
        g_weights, g_alpha = grads, g_alpha_val
    return StepGradients(
        weights=g_weights,
        alpha=g_alpha,
        train_loss=float(loss_t.detach()),
        val_loss=float(loss_v.detach()),
        logits_train=logits_t.detach(),
        logits_val=logits_v.detach(),
    )


@dataclass
class SearchOptimisers:
    """The two optimisers of a search (mutable training state, not a config)."""

    weights: torch.optim.SGD
    alpha: torch.optim.Adam
    schedule: torch.optim.lr_scheduler.CosineAnnealingLR


def make_optimisers(model: SearchModel, config: MilenasConfig) -> SearchOptimisers:
    """SGD for ``w`` (cosine per epoch from ``w_lr`` to ``w_lr_min``), Adam for ``alpha``, as ``config`` says."""
    w_opt = torch.optim.SGD(
        model.weight_parameters(), lr=config.w_lr, momentum=config.w_momentum, weight_decay=config.w_weight_decay
    )
    a_opt = torch.optim.Adam(
        model.arch_parameters(), lr=config.alpha_lr, betas=config.alpha_betas, weight_decay=config.alpha_weight_decay
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(w_opt, T_max=config.epochs, eta_min=config.w_lr_min)
    return SearchOptimisers(weights=w_opt, alpha=a_opt, schedule=schedule)


def search_step(
    model: SearchModel,
    optimisers: SearchOptimisers,
    train_batch: tuple[torch.Tensor, torch.Tensor],
    val_batch: tuple[torch.Tensor, torch.Tensor],
    config: MilenasConfig,
) -> StepGradients:
    """One step: ``step_gradients``, weight gradients clipped (``config.grad_clip``), then both optimisers step."""
    grads = step_gradients(model, train_batch, val_batch, config.method, config.lam)
    weights = model.weight_parameters()
    for p, g in zip(weights, grads.weights):
        p.grad = g
    model.alpha.grad = grads.alpha
    if config.grad_clip is not None:
        nn.utils.clip_grad_norm_(weights, config.grad_clip)
    optimisers.weights.step()
    optimisers.alpha.step()
    return grads
