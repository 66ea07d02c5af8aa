"""Applying splits keeps the function at eps = 0; selection respects the budget; the schedule runs."""

from __future__ import annotations

import copy
import json

import pytest
import torch
import torch.nn.functional as F

from lso.growth import (GrowthConfig, SplittingError, apply_splits, cost_model, count_macs, count_params,
                        grow_network, random_splits, select_greedy, select_random,
                        splitting_candidates)
from lso.growth.signed import NeuronSplit
from lso.growth.sites import check_sites
from lso.growth.small_nets import SmallCNN, SmallMLP
from lso.jobs import Reporter


def _all_splits(net, x, y, rule: str, c: float = 2.0) -> list[NeuronSplit]:
    """Real copies (from splitting values) for every neuron of every site; the ReLU stand-in for sigma''."""
    return splitting_candidates(net, net.sites(), [(x, y)], F.cross_entropy, rule, c=c, route="exact")


def _nets(dtype):
    torch.manual_seed(0)
    mlp = SmallMLP(6, (5, 4), 3).to(dtype)
    cnn1 = SmallCNN(2, (4, 6), 3).to(dtype)
    cnn2 = SmallCNN(2, (3, 5), 3, pool=2).to(dtype)
    return [(mlp, torch.randn(16, 6, dtype=dtype)), (cnn1, torch.randn(8, 2, 8, 8, dtype=dtype)),
            (cnn2, torch.randn(8, 2, 8, 8, dtype=dtype))]


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("rule", ["s2d", "s3d2", "s3d4"])
def test_function_preserved_at_the_split(dtype, tol, rule):
    for net, x in _nets(dtype):
        y = torch.randint(0, 3, (x.shape[0],))
        net.train()
        for _ in range(2):
            net(x)  # non-trivial running statistics
        splits = _all_splits(net, x, y, rule, c=3.0)
        chosen = [s for s in splits if s.neuron % 2 == 0 and s.extra > 0]  # several neurons in every site
        assert {s.site for s in chosen} == {s.name for s in net.sites()}
        grown = copy.deepcopy(net)
        report = apply_splits(grown, net.sites(), chosen, eps=0.0)
        assert sum(report.added.values()) == sum(s.extra for s in chosen) > 0
        for r_old, r_new in zip(check_sites(net, list(net.sites())), check_sites(grown, list(net.sites()))):
            assert r_new.width == r_old.width + report.added[r_old.site.name]
        for mode in ("eval", "train"):
            net.train(mode == "train")
            grown.train(mode == "train")
            a, b = net(x), grown(x)
            assert (a - b).detach().abs().max() <= tol * max(1.0, float(a.detach().abs().max())), (type(net).__name__, mode)
        # BatchNorm running statistics updated identically in train mode: eval outputs still agree
        net.eval()
        grown.eval()
        with torch.no_grad():
            assert (net(x) - grown(x)).abs().max() <= tol * max(1.0, float(net(x).abs().max()))


def test_copies_move_apart_by_eps_along_their_directions():
    torch.manual_seed(1)
    net = SmallCNN(2, (4, 6), 3).double()
    x, y = torch.randn(8, 2, 8, 8, dtype=torch.float64), torch.randint(0, 3, (8,))
    sp = next(s for s in _all_splits(net, x, y, "s3d4", c=2.0) if s.site == "conv1" and len(s.weights) == 4)
    grown = copy.deepcopy(net)
    apply_splits(grown, net.sites(), [sp], eps=0.1)
    old = net.conv1.weight.detach().reshape(4, -1)
    new = grown.conv1.weight.detach().reshape(7, -1)
    i = sp.neuron
    rows = torch.stack([new[i], new[4], new[5], new[6]])
    assert torch.allclose(rows, old[i] + 0.1 * sp.directions)
    assert torch.allclose(grown.bn1.running_var[4:], net.bn1.running_var[[i, i, i]])
    w = torch.tensor(sp.weights, dtype=torch.float64)
    cols = torch.stack([grown.conv2.weight[:, i], grown.conv2.weight[:, 4], grown.conv2.weight[:, 5],
                        grown.conv2.weight[:, 6]], 1).detach()
    assert torch.allclose(cols, net.conv2.weight.detach()[:, i:i + 1] * w.reshape(1, 4, 1, 1))
    assert (w < 0).sum() == 2 and float(w.sum()) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", ["params", "macs"])
def test_selection_respects_the_budget_exactly(metric):
    torch.manual_seed(2)
    net = SmallCNN(2, (6, 8), 3, pool=2)
    x, y = torch.randn(8, 2, 8, 8), torch.randint(0, 3, (8,))
    costs = cost_model(net, net.sites(), x)
    base = costs.base[metric]
    splits = _all_splits(net, x, y, "s3d4", c=2.0)
    assert sum(s.value < 0 for s in splits) >= 8
    for frac in (0.4, 0.8, 1.5):
        budget = int(base * (1 + frac))
        for sel in (select_greedy(splits, costs, budget, metric),
                    select_random(random_splits("conv1", 6, 18, torch.Generator().manual_seed(0))
                                  + random_splits("conv2", 8, 54, torch.Generator().manual_seed(1)),
                                  costs, budget, metric, seed=3)):
            assert sel.size_before == base and sel.size_after <= budget
            grown = copy.deepcopy(net)
            apply_splits(grown, net.sites(), sel.splits, eps=1e-2)
            real = count_params(grown) if metric == "params" else count_macs(grown, x)
            assert real == sel.size_after  # the cost model is exact, cross terms included
            assert len(sel.splits) > 0
        greedy = select_greedy(splits, costs, budget, metric)
        assert all(s.value < 0 for s in greedy.splits)
        # greedy takes the best value per cost first: nothing left out beats the worst taken and would still fit
    tight = select_greedy(splits, costs, base, metric)
    assert tight.splits == () and tight.size_after == base


def test_bad_budget_and_method_give_clear_errors():
    net = SmallCNN(2, (4, 6), 3)
    x = torch.randn(4, 2, 8, 8)
    costs = cost_model(net, net.sites(), x)
    with pytest.raises(SplittingError, match=r"budget of 10 params is below the current size of \d+ params"):
        select_greedy([], costs, 10, "params")
    with pytest.raises(SplittingError, match="unknown budget metric 'flopz'"):
        select_greedy([], costs, 10 ** 9, "flopz")
    with pytest.raises(SplittingError, match="unknown growth method 'grow'"):
        GrowthConfig(method="grow", budget=10 ** 6)
    with pytest.raises(SplittingError, match="below the current size"):
        grow_network(net, net.sites(), lambda m, r: {}, lambda: [], F.cross_entropy, x,
                     GrowthConfig(method="s3d", budget=100))
    with pytest.raises(SplittingError, match="unknown sites"):
        apply_splits(net, net.sites(), [NeuronSplit("conv7", 0, (1.0,), torch.zeros(1, 18), 0.0)])


def _train_fn(x, y, steps: int):
    def train(model, round_index):
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        model.train()
        for _ in range(steps):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            return {"train_loss": float(F.cross_entropy(model(x), y)),
                    "train_accuracy": float((model(x).argmax(1) == y).float().mean())}
    return train


@pytest.mark.parametrize("method", ["s3d", "s2d", "random"])
def test_schedule_grows_to_the_budget_and_is_reproducible(method, tmp_path):
    reporter = Reporter()

    def run():
        torch.manual_seed(4)
        net = SmallCNN(1, (4, 4), 3)
        g = torch.Generator().manual_seed(5)
        x = torch.randn(64, 1, 8, 8, generator=g)
        y = (x[:, 0, :4].mean((1, 2)) > 0).long() + (x[:, 0, 4:].mean((1, 2)) > 0.2).long()
        budget = int(count_params(net) * 1.6)
        cfg = GrowthConfig(method=method, rounds=2, budget=budget, copies=4, c=2.0, steps=8, seed=0)
        res = grow_network(net, net.sites(), _train_fn(x, y, 10), lambda: [(x, y)], F.cross_entropy, x, cfg,
                           reporter=reporter)
        return res, budget, net

    res, budget, net = run()
    assert len(res.rounds) == 3 and res.rounds[0].splits == {}
    assert res.rounds[-1].params <= budget and res.rounds[-1].params == count_params(net)
    assert res.rounds[-1].params > res.rounds[0].params
    assert sum(sum(r.splits.values()) for r in res.rounds) > 0
    if method != "random":
        assert all(r.predicted_descent < 0 for r in res.rounds[1:] if sum(r.splits.values()))
    again, _, _ = run()
    assert [r.params for r in again.rounds] == [r.params for r in res.rounds]
    assert [r.metrics["train_loss"] for r in again.rounds] == [r.metrics["train_loss"] for r in res.rounds]
    d = res.to_dict()
    assert d["config"]["method"] == method and len(d["rounds"]) == 3
    assert json.loads(res.save(tmp_path / "growth.json").read_text()) == json.loads(json.dumps(d))
    reports = reporter.events[:3]  # one per round of the first run
    assert [(e.done, e.total) for e in reports] == [(0, 2), (1, 2), (2, 2)]
    assert [e.figures["params"] for e in reports] == [float(r.params) for r in res.rounds]


def test_a_round_that_hurts_is_retried_with_half_the_step_then_rolled_back():
    torch.manual_seed(0)
    net = SmallMLP(6, (5, 4), 3)
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
    seen: list[tuple[int, int]] = []  # (round, params) of every training

    def train(model, r):  # a fake score: any growth "hurts" validation by 5 points
        params = count_params(model)
        seen.append((r, params))
        return {"valid_accuracy": 80.0 - 5.0 * (params > seen[0][1])}

    start = count_params(net)
    with torch.no_grad():
        before = net(x).clone()
    cfg = GrowthConfig(method="random", rounds=2, budget=int(start * 1.6), seed=0, rollback_tolerance=1.0,
                       retries=1, eps=0.1)
    res = grow_network(net, net.sites(), train, lambda: [(x, y)], F.cross_entropy, x, cfg)
    assert [r.rolled_back for r in res.rounds] == [False, True, True]
    assert [r.attempts for r in res.rounds] == [1, 2, 2]  # one retry (half the step) before each rollback
    assert [p for _, p in seen[1:]] == [p for _, p in seen[1:] if p > start]  # every attempt did grow...
    assert all(r.params == start and r.splits == {} for r in res.rounds)  # ...and every growth was undone
    assert count_params(net) == start
    with torch.no_grad():
        assert torch.equal(net(x), before)  # the very network from before the splits, weights included
    assert res.rounds[1].metrics == res.rounds[0].metrics

    tolerant = GrowthConfig(method="random", rounds=1, budget=int(start * 1.6), seed=0, rollback_tolerance=10.0)
    grown = grow_network(SmallMLP(6, (5, 4), 3), SmallMLP(6, (5, 4), 3).sites(), train, lambda: [(x, y)],
                         F.cross_entropy, x, tolerant)
    assert not grown.rounds[1].rolled_back and grown.rounds[1].params > start  # 5 points is within a tolerance of 10
    with pytest.raises(SplittingError, match="rollback_tolerance"):
        GrowthConfig(rollback_tolerance=-1.0)
