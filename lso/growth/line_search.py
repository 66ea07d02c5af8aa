"""The step of a round of splits, by a short line search on the measured loss (``GrowthConfig.line_search``).

Splitting a neuron into copies ``theta + eps delta_j`` changes the loss by about ``eps^2 / 2 * sum G`` (the splitting
values of the split neurons): the prediction favours large steps but holds only while the second-order expansion
does. The line search tries the split at a few steps ``eps_0 * 4^k`` on copies of the model and keeps the one whose
measured loss on the value batches (the batches the splitting statistics came from, eval mode) is lowest.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from lso.growth.signed import NeuronSplit
from lso.growth.statistics import LossFn

ApplyFn = Callable[[nn.Module, Sequence[NeuronSplit], float], object]
BatchesFn = Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]]


@torch.no_grad()
def value_loss(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], loss_fn: LossFn) -> float:
    """Mean of ``loss_fn`` over ``batches`` (weighted by batch size), in eval mode; the model's mode is restored."""
    was_training = model.training
    model.eval()
    total, n = 0.0, 0
    for x, y in batches:
        total += float(loss_fn(model(x), y)) * len(y)
        n += len(y)
    model.train(was_training)
    return total / max(n, 1)


def line_search_step(model: nn.Module, apply: ApplyFn, splits: Sequence[NeuronSplit], value_batches: BatchesFn,
                     loss_fn: LossFn, eps: float, powers: Sequence[int]) -> tuple[float, float]:
    """The step among ``eps * 4^k`` (``k`` in ``powers``) whose split (``apply(copy, splits, step)``, on a deep copy
    of ``model``) has the lowest loss on ``value_batches()``; returns ``(step, loss after - loss before)``.

    The steps are tried from the largest down, and the search stops at the first step whose loss is above the best
    so far: exact when the loss along the step is unimodal (one valley), which the second-order picture predicts,
    and about half the trials of a full sweep. Ties go to the smaller step; a NaN loss never wins; when every trial is
    NaN the smallest step is returned with a NaN descent. ``model`` itself is left unchanged.
    """
    xs, ys = zip(*value_batches())
    batch = [(torch.cat(xs), torch.cat(ys))]  # one batch: eval mode, so the loss is the same and one pass is cheaper
    base = value_loss(model, batch, loss_fn)
    best_step, best_loss = math.nan, math.inf
    for k in sorted(powers, reverse=True):
        step = eps * 4.0 ** k
        trial = copy.deepcopy(model)
        apply(trial, splits, step)
        loss = value_loss(trial, batch, loss_fn)
        if loss <= best_loss:  # from the largest step down: a tie keeps the smaller step
            best_step, best_loss = step, loss
        elif not math.isnan(loss):
            break  # past the valley's bottom
    if math.isnan(best_step):
        return eps * 4.0 ** min(powers), math.nan
    return best_step, best_loss - base
