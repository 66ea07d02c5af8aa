"""Train one cell with one protocol and one seed: the unit of work of the training oracle and the builder."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Mapping

import torch
from torch import nn

from lso.data.datasets import ImageDataset
from lso.device import describe_device, resolve_device
from lso.nets.loop import evaluate_split, train_epochs
from lso.nets.network import Network, count_params
from lso.nets.network1d import flops_1d
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


def train_cell(
    cell: Cell | str,
    protocol: TrainProtocol,
    data: ImageDataset,
    seed: int,
    device: str | torch.device = "cpu",
) -> TrainResult:
    """Train the NB201 network of ``cell`` (1-D for a 1-D dataset) on ``data`` with ``protocol`` and ``seed``;
    measure it on valid/test.

    The seed draws the initial weights (inside ``torch.random.fork_rng``, so the caller's global RNG is left as
    it was) and the batch order (a private ``torch.Generator``): on CPU with a fixed thread count the result is
    a pure function of (cell, protocol, data, seed). Loss: cross-entropy; learning rate per step
    ``lr * (1 + cos(pi t / T)) / 2`` for the cosine schedule.

    Raises:
        DeviceError: when ``device`` names CUDA on a machine without it.
    """
    cell = Cell.parse(cell)
    macro = data.macro(protocol.channels, protocol.cells_per_stage)
    cost = flops(cell, macro) if data.spatial_dims == 2 else flops_1d(cell, macro)
    return train_network(lambda: Network(cell, macro, dims=data.spatial_dims), cell.to_string(), protocol, data,
                         seed, device, lambda _model: cost)


def train_network(
    build: Callable[[], nn.Module],
    arch: str,
    protocol: TrainProtocol,
    data: ImageDataset,
    seed: int,
    device: str | torch.device = "cpu",
    cost: Callable[[nn.Module], int] | None = None,
) -> TrainResult:
    """Train the network ``build()`` returns (``[B, C, ...] -> [B, classes]``) as ``train_cell`` trains NB201's:
    the one recipe of every space's training oracle (``lso.nets.space_trainer``).

    ``build`` runs inside ``torch.random.fork_rng`` seeded with ``seed`` (the initial weights), the batch order
    comes from a ``torch.Generator`` seeded with ``seed``; the wall time covers building, training and
    evaluating. ``arch`` is the string the result records; ``cost(model)`` its FLOPs (multiply-accumulates of one
    example; 0 when ``cost`` is None), called on the trained model after the clock stops.

    Raises:
        DeviceError: when ``device`` names CUDA on a machine without it.
        ProtocolError: when the protocol is for another dataset than ``data``.
    """
    dev = resolve_device(device)
    if data.name != protocol.dataset:
        raise ProtocolError(f"protocol {protocol.name!r} is for dataset {protocol.dataset!r}, got data {data.name!r}")
    train = data.train if protocol.train_samples is None else data.train.head(protocol.train_samples)
    train, valid, test = train.to(dev), data.valid.to(dev), data.test.to(dev)

    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build().to(dev)
    figures = train_epochs(model, train, protocol, protocol.epochs, torch.Generator().manual_seed(seed))
    valid_acc, valid_loss = evaluate_split(model, valid)
    test_acc, test_loss = evaluate_split(model, test)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    wall = time.perf_counter() - start
    return TrainResult(
        arch=arch,
        dataset=data.name,
        protocol=protocol.name,
        seed=int(seed),
        epochs=protocol.epochs,
        train_acc=figures.accuracy,
        train_loss=figures.loss,
        valid_acc=valid_acc,
        valid_loss=valid_loss,
        test_acc=test_acc,
        test_loss=test_loss,
        params=count_params(model),
        flops=0 if cost is None else int(cost(model)),
        wall_time_s=wall,
        device=describe_device(dev),
    )
