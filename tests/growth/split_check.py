"""The function-preservation check shared by the 2-D (test_stages.py) and 1-D (test_growth_1d.py) NB201 networks:
split every width group by one rule, then the output must be unchanged at the moment of the split and the cost
model must give the grown network's exact size."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from lso.growth import GrowthConfig, count_macs, count_params
from lso.growth.nb201 import GROUPS, NB201Space, widths_of


def perturb_batch_norms(net: nn.Module) -> nn.Module:
    """Give every BatchNorm (1-D or 2-D) non-trivial running statistics and affine parameters, in place, from torch's
    RNG, so a split that mishandles them changes the output."""
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.3, 0.3)
    return net


def split_every_group_and_check(net: nn.Module, x: torch.Tensor, y: torch.Tensor, example: torch.Tensor,
                                rule: str) -> tuple[list, nn.Module]:
    """Split ``net`` in place at eps 0 by ``rule`` (s2d, s3d2, s3d4, random) and assert it computes as before.

    Returns the splits chosen and a copy of the network from before the split."""
    space = NB201Space()
    if rule == "random":
        cands = space.random_candidates(net, torch.Generator().manual_seed(0))
    else:
        config = GrowthConfig(method="s2d" if rule == "s2d" else "s3d", copies=4 if rule == "s3d4" else 2,
                              route="exact")
        cands = space.candidates(net, [(x, y)], F.cross_entropy, config, torch.Generator().manual_seed(0))
    chosen = [c for c in cands if c.extra > 0][::2]
    assert {c.site for c in chosen} == set(GROUPS)
    if rule.startswith("s3d"):
        assert any(min(c.weights) < 0 for c in chosen)
    costs = space.costs(net, example)
    before, reference = widths_of(net), copy.deepcopy(net)
    report = space.apply(net, chosen, eps=0.0)
    extra = {g: widths_of(net)[g] - before[g] for g in GROUPS}
    assert extra == report.added and report.widths == widths_of(net) and sum(extra.values()) > 0
    assert count_params(net) == costs.total(extra, "params") > count_params(reference)
    assert count_macs(net, example) == costs.total(extra, "macs")
    with torch.no_grad():
        for train_mode in (False, True):  # eval: running statistics; train: the copies' identical batch statistics
            net.train(train_mode)
            reference.train(train_mode)
            torch.testing.assert_close(net(x), reference(x), rtol=1e-5, atol=1e-5)
    return chosen, reference
