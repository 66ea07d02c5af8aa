"""The one training loop for real networks: batch order, optimizer, cosine schedule, epochs, evaluation.

Used by the training oracle (``lso.nets.trainer``), refinement (``lso.growth.refine``) and the supernet search
(``lso.search.milenas``, batch order only), so a protocol means the same thing wherever a network is trained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from lso.data.datasets import Split
from lso.jobs import Reporter
from lso.nets.protocol import TrainProtocol


def shuffled_batches(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Index tensors ``[<= batch_size]`` covering a fresh permutation of ``range(n)`` drawn from ``generator``.

    A trailing batch of one example is dropped: batch norm cannot normalise a single value per channel.
    """
    chunks = list(torch.randperm(n, generator=generator).split(batch_size))
    return chunks[:-1] if len(chunks) > 1 and len(chunks[-1]) < 2 else chunks


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Optimizer steps of one epoch over ``n`` examples (as :func:`shuffled_batches` cuts them)."""
    return len(shuffled_batches(n, batch_size, torch.Generator().manual_seed(0)))


def make_optimizer(model: nn.Module, protocol: TrainProtocol) -> torch.optim.Optimizer:
    """The protocol's optimizer (Adam, or SGD with its momentum / Nesterov) over ``model``'s current parameters."""
    if protocol.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=protocol.lr, weight_decay=protocol.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=protocol.lr, momentum=protocol.momentum,
                           nesterov=protocol.nesterov, weight_decay=protocol.weight_decay)


def cosine_schedule(optimizer: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step cosine decay to zero: ``lr_t = lr (1 + cos(pi t / T)) / 2`` with ``T = total_steps``."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 0.5 * (1.0 + math.cos(math.pi * t / total_steps)))


@dataclass(frozen=True)
class EpochFigures:
    """Running figures of the last epoch trained (train mode, as NAS-Bench-201 reports them): accuracy in percent,
    mean cross-entropy in nats. Zero when no epoch ran."""

    accuracy: float
    loss: float


def train_epochs(model: nn.Module, train: Split, protocol: TrainProtocol, epochs: int, generator: torch.Generator,
                 reporter: Reporter | None = None) -> EpochFigures:
    """Train ``model`` for ``epochs`` epochs on ``train`` (on the model's device).

    The protocol's optimizer, built here from the current parameters (splitting replaces them), a fresh cosine
    schedule over these epochs when the protocol asks for one, cross-entropy, batch order from ``generator``.
    ``reporter.check()`` (a stop request) runs before every epoch.
    """
    if epochs <= 0:
        return EpochFigures(0.0, 0.0)
    optimizer = make_optimizer(model, protocol)
    scheduler = (cosine_schedule(optimizer, epochs * steps_per_epoch(len(train), protocol.batch_size))
                 if protocol.schedule == "cosine" else None)
    device = train.x.device
    correct, loss_sum, seen = 0, 0.0, 0
    for _ in range(epochs):
        if reporter is not None:
            reporter.check()
        model.train()
        correct, loss_sum, seen = 0, 0.0, 0
        for idx in shuffled_batches(len(train), protocol.batch_size, generator):
            idx = idx.to(device)
            x, y = train.x[idx], train.y[idx]
            logits = model(x)
            loss = nn.functional.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            loss_sum += float(loss.detach()) * len(y)
            correct += int((logits.detach().argmax(1) == y).sum())
            seen += len(y)
    return EpochFigures(100.0 * correct / max(seen, 1), loss_sum / max(seen, 1))


@torch.no_grad()
def evaluate_split(model: nn.Module, split: Split, batch_size: int = 1024) -> tuple[float, float]:
    """Accuracy (percent) and mean cross-entropy of ``model`` on ``split`` (already on the model's device), in
    eval mode."""
    model.eval()
    correct, loss_sum = 0, 0.0
    for start in range(0, len(split), batch_size):
        x, y = split.x[start : start + batch_size], split.y[start : start + batch_size]
        logits = model(x)
        loss_sum += float(nn.functional.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
    return 100.0 * correct / len(split), loss_sum / len(split)
