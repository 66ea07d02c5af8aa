"""Semi-supervised pseudo-labels (CR-LSO): a ``GNNPredictor`` fitted to the labelled cells labels every cell."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from lso.data.graphs import CellGraphs
from lso.models.predictor import GNNPredictor


def fit_predictor(
    graphs: CellGraphs,
    rows: torch.Tensor,
    targets: torch.Tensor,
    *,
    hidden: int,
    steps: int,
    lr: float,
    generator: torch.Generator,
    batch_size: int = 256,
) -> GNNPredictor:
    """Fit a predictor to ``targets [m]`` (standardised labels) of the graphs at ``rows [m]`` by MSE, Adam with
    weight decay, ``steps`` steps of (at most) ``batch_size`` labelled cells. Initialised from ``generator``."""
    device = graphs.ops.device
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        model = GNNPredictor(hidden=hidden).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    labelled = graphs.select(rows)
    targets = targets.to(device)
    m = len(rows)
    model.train()
    for _ in range(steps):
        pick = torch.randperm(m, generator=generator)[:batch_size].to(device) if m > batch_size else None
        batch = labelled if pick is None else labelled.select(pick)
        target = targets if pick is None else targets[pick]
        loss = F.mse_loss(model(batch), target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    return model


@torch.no_grad()
def predict_all(model: GNNPredictor, graphs: CellGraphs, batch_size: int = 4096) -> torch.Tensor:
    """Predictions for every graph, ``[n]``."""
    rows = torch.arange(graphs.num_graphs, device=graphs.ops.device)
    return torch.cat([model(graphs.select(chunk)) for chunk in rows.split(batch_size)])
