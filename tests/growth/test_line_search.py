"""The step of a round of splits by line search (lso.growth.line_search): it never raises the loss it measures, it
leaves the model alone, and the growth schedule records the step it used."""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

from lso.growth import GrowthConfig, apply_splits, count_params, grow_network, splitting_candidates
from lso.growth.line_search import line_search_step, value_loss
from lso.growth.small_nets import SmallMLP

POWERS = (-2, -1, 0, 1, 2, 3)


def _trained_mlp(seed: int) -> tuple[SmallMLP, torch.Tensor, torch.Tensor]:
    """A tiny MLP fitted for a while to a non-linear 3-class problem (so its splitting values are informative)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(96, 6, generator=g)
    y = ((x[:, 0] * x[:, 1] > 0).long() + (x[:, 2] ** 2 > 1).long())
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = SmallMLP(6, (4, 4), 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    for _ in range(150):
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    return net, x, y


def test_line_search_picks_a_step_that_does_not_raise_the_loss_and_leaves_the_model():
    for seed in range(3):
        net, x, y = _trained_mlp(seed)
        splits = [s for s in splitting_candidates(net, net.sites(), [(x, y)], F.cross_entropy, "s3d2", route="exact")
                  if s.extra > 0 and s.value < 0]
        assert splits, "a trained tiny MLP has neurons with negative splitting values"
        before = copy.deepcopy(net.state_dict())
        base = value_loss(net, [(x, y)], F.cross_entropy)
        step, descent = line_search_step(net, lambda m, s, e: apply_splits(m, m.sites(), s, e), splits,
                                         lambda: [(x, y)], F.cross_entropy, 1e-2, POWERS)
        assert any(math.isclose(step, 1e-2 * 4.0 ** k) for k in POWERS)
        assert descent <= 0.0  # the kept step does not increase the measured loss...
        trials = {}
        for k in POWERS:  # ...and no other trial step lowers it more
            trial = copy.deepcopy(net)
            apply_splits(trial, trial.sites(), splits, 1e-2 * 4.0 ** k)
            trials[k] = value_loss(trial, [(x, y)], F.cross_entropy)
        assert math.isclose(base + descent, min(trials.values()), rel_tol=1e-6, abs_tol=1e-7)
        # the predicted second-order descent is negative for these splits; a real decrease was measured
        assert descent < 0.0
        assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())  # the model was not split


def test_schedule_with_line_search_records_the_step_and_the_measured_descent():
    net, x, y = _trained_mlp(0)
    start = count_params(net)

    def train(model, r):
        return {"loss": value_loss(model, [(x, y)], F.cross_entropy)}

    cfg = GrowthConfig(method="s3d", rounds=2, budget=int(start * 1.5), route="exact", line_search=True, seed=0)
    res = grow_network(net, net.sites(), train, lambda: [(x, y)], F.cross_entropy, x, cfg)
    grown = [r for r in res.rounds[1:] if sum(r.splits.values())]
    assert grown and res.rounds[-1].params > start
    for r in grown:
        assert any(math.isclose(r.eps, cfg.eps * 4.0 ** k) for k in cfg.line_search_powers)
        assert r.measured_descent <= 0.0 and r.predicted_descent < 0.0
    fixed = grow_network(_trained_mlp(0)[0], net.sites(), train, lambda: [(x, y)], F.cross_entropy, x,
                         GrowthConfig(method="s3d", rounds=2, budget=int(start * 1.5), route="exact", seed=0))
    assert all(r.eps == cfg.eps and r.measured_descent is None for r in fixed.rounds[1:])
