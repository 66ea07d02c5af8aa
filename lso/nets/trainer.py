"""Train one cell with one protocol and one seed: the unit of work of the training oracle and the builder."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any, Mapping

import torch
from torch import nn

from lso.data.datasets import ImageDataset, Split
from lso.device import describe_device, resolve_device
from lso.nets.network import Network, count_params
from lso.nets.network1d import Network1d, flops_1d
from lso.nets.protocol import ProtocolError, TrainProtocol
from lso.space import Cell, flops


@dataclass(frozen=True)
class TrainResult:
    """One training run. Accuracies in percent; losses are mean cross-entropy (nats).

    ``train_acc`` / ``train_loss`` are running figures over the last epoch (train mode, as NAS-Bench-201
    reports them); valid and test are measured after training, in eval mode.
    """

    arch: str
    dataset: str
    protocol: str
    seed: int
    epochs: int
    train_acc: float
    train_loss: float
    valid_acc: float
    valid_loss: float
    test_acc: float
    test_loss: float
    params: int
    flops: int
    wall_time_s: float
    device: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrainResult":
        """Inverse of ``to_dict``."""
        return cls(**data)


@torch.no_grad()
def evaluate(model: nn.Module, split: Split, batch_size: int = 1024) -> tuple[float, float]:
    """Accuracy (percent) and mean cross-entropy of ``model`` on ``split`` (already on the model's device)."""
    model.eval()
    correct, loss_sum = 0, 0.0
    for start in range(0, len(split), batch_size):
        x, y = split.x[start : start + batch_size], split.y[start : start + batch_size]
        logits = model(x)
        loss_sum += float(nn.functional.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
    return 100.0 * correct / len(split), loss_sum / len(split)


def _optimizer(model: nn.Module, protocol: TrainProtocol) -> torch.optim.Optimizer:
    if protocol.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=protocol.lr, weight_decay=protocol.weight_decay)
    return torch.optim.SGD(
        model.parameters(), lr=protocol.lr, momentum=protocol.momentum, nesterov=protocol.nesterov,
        weight_decay=protocol.weight_decay,
    )


def _batches(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    # A trailing batch of one example is dropped: batch norm cannot normalise a single value per channel.
    order = torch.randperm(n, generator=generator)
    chunks = list(order.split(batch_size))
    return chunks[:-1] if len(chunks) > 1 and len(chunks[-1]) < 2 else chunks


def train_cell(
    cell: Cell | str,
    protocol: TrainProtocol,
    data: ImageDataset,
    seed: int,
    device: str | torch.device = "cpu",
) -> TrainResult:
    """Train the NB201 network of ``cell`` (``Network1d`` for a 1-D dataset) on ``data`` with ``protocol`` and ``seed``; measure it on valid/test.

    The seed draws the initial weights (inside ``torch.random.fork_rng``, so the caller's global RNG is left as
    it was) and the batch order (a private ``torch.Generator``): on CPU with a fixed thread count the result is
    a pure function of (cell, protocol, data, seed). Loss: cross-entropy; learning rate per step
    ``lr * (1 + cos(pi t / T)) / 2`` for the cosine schedule.

    Raises:
        DeviceError: when ``device`` names CUDA on a machine without it.
    """
    cell = Cell.parse(cell)
    dev = resolve_device(device)
    if data.name != protocol.dataset:
        raise ProtocolError(f"protocol {protocol.name!r} is for dataset {protocol.dataset!r}, got data {data.name!r}")
    macro = data.macro(protocol.channels, protocol.cells_per_stage)
    train = data.train if protocol.train_samples is None else data.train.head(protocol.train_samples)
    train, valid, test = train.to(dev), data.valid.to(dev), data.test.to(dev)

    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = (Network(cell, macro) if data.spatial_dims == 2 else Network1d(cell, macro)).to(dev)
    generator = torch.Generator().manual_seed(seed)
    optimizer = _optimizer(model, protocol)
    steps_per_epoch = len(_batches(len(train), protocol.batch_size, torch.Generator().manual_seed(0)))
    total_steps = protocol.epochs * steps_per_epoch
    scheduler = (
        torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 0.5 * (1.0 + math.cos(math.pi * t / total_steps)))
        if protocol.schedule == "cosine"
        else None
    )
    train_correct, train_loss, train_seen = 0, 0.0, 0
    for epoch in range(protocol.epochs):
        model.train()
        train_correct, train_loss, train_seen = 0, 0.0, 0
        for idx in _batches(len(train), protocol.batch_size, generator):
            idx = idx.to(dev)
            x, y = train.x[idx], train.y[idx]
            logits = model(x)
            loss = nn.functional.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            train_loss += float(loss.detach()) * len(y)
            train_correct += int((logits.detach().argmax(1) == y).sum())
            train_seen += len(y)
    valid_acc, valid_loss = evaluate(model, valid)
    test_acc, test_loss = evaluate(model, test)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    wall = time.perf_counter() - start
    return TrainResult(
        arch=cell.to_string(),
        dataset=data.name,
        protocol=protocol.name,
        seed=int(seed),
        epochs=protocol.epochs,
        train_acc=100.0 * train_correct / max(train_seen, 1),
        train_loss=train_loss / max(train_seen, 1),
        valid_acc=valid_acc,
        valid_loss=valid_loss,
        test_acc=test_acc,
        test_loss=test_loss,
        params=count_params(model),
        flops=flops(cell, macro) if data.spatial_dims == 2 else flops_1d(cell, macro),
        wall_time_s=wall,
        device=describe_device(dev),
    )
