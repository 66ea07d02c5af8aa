"""Train one cell with several seeds at once: K independent copies of its network in one grouped module.

A benchmark table that ranks cells above the seed noise needs several seeds per cell, and the networks of the
offline datasets are so small that a training step is mostly Python and dispatch overhead. ``Network(...,
replicas=K)`` puts K copies side by side (every convolution grouped by copy, one classifier per copy), so one
step trains K seeds: on this 2-core CPU, K = 8 copies of the mnist1d network step in about 3x the time of one.

The copies are independent trainings: copy k has its own initial weights, its own batch order (a
``torch.Generator`` seeded with ``seeds[k]``) and its own loss; the summed loss
``L = sum_k CE(f_k(x_k), y_k)`` gives each copy exactly its own gradient, and Adam, SGD, momentum and weight decay
act element-wise, so no figure of one copy depends on another's data. The initial weights of all copies are drawn
from one stream seeded with ``seeds[0]`` (one module), so a copy's result is a pure function of (cell, protocol,
data, the seed tuple) rather than of its own seed alone: such a table records its seed groups.
"""

from __future__ import annotations

import time
from typing import Sequence

import torch
from torch import nn

from lso.data.datasets import ImageDataset, Split
from lso.device import describe_device, resolve_device
from lso.nets.loop import cosine_schedule, make_optimizer, shuffled_batches, steps_per_epoch
from lso.nets.network import Network, count_params
from lso.nets.network1d import flops_1d
from lso.nets.protocol import ProtocolError, TrainProtocol
from lso.nets.trainer import TrainResult
from lso.space import Cell, flops


def _stack_batches(split: Split, batches: Sequence[torch.Tensor], channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Copy k's batch ``split.x[batches[k]]`` placed in channels ``k*C..(k+1)*C``: ``x [B, K*C, ...]``,
    ``y [B, K]``."""
    x = torch.cat([split.x[idx] for idx in batches], dim=1)
    y = torch.stack([split.y[idx] for idx in batches], dim=1)
    return x, y


@torch.no_grad()
def evaluate_replicas(model: Network, split: Split, batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Accuracy (percent) and mean cross-entropy of each copy on ``split``, in eval mode: two ``[K]`` tensors."""
    model.eval()
    k = model.replicas
    correct, loss_sum = torch.zeros(k), torch.zeros(k)
    for start in range(0, len(split), batch_size):
        x, y = split.x[start : start + batch_size], split.y[start : start + batch_size]
        logits = model(x.repeat(1, k, *([1] * (x.dim() - 2))))  # every copy reads the same batch: [b, K, classes]
        losses = nn.functional.cross_entropy(logits.transpose(1, 2), y[:, None].expand(-1, k), reduction="none")
        loss_sum += losses.sum(0).cpu()
        correct += (logits.argmax(2) == y[:, None]).sum(0).cpu().float()
    return 100.0 * correct / len(split), loss_sum / len(split)


def train_replicas(cell: Cell | str, protocol: TrainProtocol, data: ImageDataset, seeds: Sequence[int],
                   device: str | torch.device = "cpu") -> list[TrainResult]:
    """Train ``len(seeds)`` independent copies of ``cell``'s network with ``protocol`` at once; one
    ``TrainResult`` per seed (``wall_time_s``: the shared time divided by the number of copies).

    Same protocol as ``lso.nets.trainer.train_cell`` (optimizer, cosine schedule per step, cross-entropy, batch
    size, epochs, train subset), each copy with its own batch order. Train figures are the last epoch's running
    ones (train mode), valid and test are measured after training in eval mode.

    Raises:
        ProtocolError: when the protocol is for another dataset, or ``seeds`` is empty or repeats a seed.
    """
    cell = Cell.parse(cell)
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ProtocolError(f"replicas need distinct seeds, got {seeds}")
    if data.name != protocol.dataset:
        raise ProtocolError(f"protocol {protocol.name!r} is for dataset {protocol.dataset!r}, got data {data.name!r}")
    dev = resolve_device(device)
    macro = data.macro(protocol.channels, protocol.cells_per_stage)
    train = data.train if protocol.train_samples is None else data.train.head(protocol.train_samples)
    train, valid, test = train.to(dev), data.valid.to(dev), data.test.to(dev)
    k, channels = len(seeds), macro.in_channels

    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeds[0])
        model = Network(cell, macro, dims=data.spatial_dims, replicas=k).to(dev)
    optimizer = make_optimizer(model, protocol)
    steps = steps_per_epoch(len(train), protocol.batch_size)
    scheduler = cosine_schedule(optimizer, protocol.epochs * steps) if protocol.schedule == "cosine" else None
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    correct, loss_sum, seen = torch.zeros(k), torch.zeros(k), 0
    for _ in range(protocol.epochs):
        model.train()
        # running sums stay on the device: a copy to the CPU each step would stall a GPU's queue
        correct, loss_sum, seen = torch.zeros(k, device=dev), torch.zeros(k, device=dev), 0
        orders = [shuffled_batches(len(train), protocol.batch_size, g) for g in generators]
        for batches in zip(*orders):
            x, y = _stack_batches(train, [b.to(dev) for b in batches], channels)
            logits = model(x)  # [B, K, classes]
            losses = nn.functional.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(0)  # [K]
            optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()  # each copy's parameters get exactly its own loss's gradient
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            loss_sum += losses.detach() * len(y)
            correct += (logits.detach().argmax(2) == y).sum(0).float()
            seen += len(y)
    correct, loss_sum = correct.cpu(), loss_sum.cpu()
    valid_acc, valid_loss = evaluate_replicas(model, valid)
    test_acc, test_loss = evaluate_replicas(model, test)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    wall = (time.perf_counter() - start) / k
    params = count_params(model) // k
    cost = flops(cell, macro) if data.spatial_dims == 2 else flops_1d(cell, macro)
    return [TrainResult(arch=cell.to_string(), dataset=data.name, protocol=protocol.name, seed=seed,
                        epochs=protocol.epochs, train_acc=float(100.0 * correct[i] / max(seen, 1)),
                        train_loss=float(loss_sum[i] / max(seen, 1)), valid_acc=float(valid_acc[i]),
                        valid_loss=float(valid_loss[i]), test_acc=float(test_acc[i]), test_loss=float(test_loss[i]),
                        params=params, flops=cost, wall_time_s=wall, device=describe_device(dev))
            for i, seed in enumerate(seeds)]
