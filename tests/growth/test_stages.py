"""Stage-width channels of the NB201 network as splittable neurons (lso.growth.stages) and the NB201 growth space
(lso.growth.nb201): the split keeps the function, the splitting matrix predicts the real loss change of a split,
the fast route finds the exact extreme eigenpairs, and the cost model is exact."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lso.growth import count_macs, count_params, neuron_splits, random_splits, split_value
from lso.growth.errors import SplittingError
from lso.growth.nb201 import GROUPS, NB201Space, example_input, nb201_costs, network_with_widths, widths_of
from lso.growth.splitting import softplus_second_derivative
from lso.growth.stage_layout import apply_stage_splits, stage_groups, theta_layout
from lso.growth.stages import (StageStatistics, collect_stage_statistics, stage_eigenpairs,
                               stage_splitting_matrices)
from lso.space import MacroConfig
from split_check import perturb_batch_norms, split_every_group_and_check

# every op kind: convs, an avg-pool and a skip (the pass-through paths of a stage channel); two cells per stage
ARCH = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
DEAD = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"  # node 2 is dead
MACRO = MacroConfig(channels=3, cells_per_stage=2, num_classes=5, in_channels=2, input_size=8)
BETA = 2.0


def _smooth(net: nn.Module) -> nn.Module:
    """Every ReLU -> Softplus(BETA), whose exact sigma'' the splitting matrix then uses: the second-order
    prediction must match the real loss change."""
    for m in list(net.modules()):
        for name, child in list(m.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(m, name, nn.Softplus(beta=BETA))
    return net


def _busy(arch: str = ARCH, seed: int = 0, widths: dict | None = None) -> nn.Module:
    torch.manual_seed(seed)
    return perturb_batch_norms(network_with_widths(arch, MACRO, widths or {}))


def _data(n: int = 16):
    x = torch.randn(n, 2, 8, 8, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 5, (n,), generator=torch.Generator().manual_seed(2))
    return x, y


@pytest.fixture(scope="module")
def smooth_net():
    net = _smooth(_busy()).double().eval()
    x, y = _data()
    stats = collect_stage_statistics(net, stage_groups(net), [(x.double(), y)], F.cross_entropy,
                                     softplus_second_derivative(BETA))
    return net, x.double(), y, stats


def test_layout_covers_the_producers_that_run():
    net = _busy(DEAD)
    g0 = stage_groups(net)[0]
    convs = [conv for conv, _, _ in theta_layout(net, g0)]
    # the stem, then per cell the convs that run: node 2 has no input, so the 1x1 conv reading it (edge 5) never runs
    assert convs[0] == "stem.0"
    assert any(".edges.4." in c for c in convs)
    assert not any(".edges.5." in c for c in convs)  # nor_conv_1x1~2 reads the dead node 2: never runs
    assert theta_layout(net, g0)[-1][2].stop == sum(
        net.get_submodule(c).weight[0].numel() for c in convs)


@pytest.mark.parametrize("stage", [0, 1, 2])
@pytest.mark.parametrize("rule", ["s2d", "s3d2"])
def test_splitting_matrix_predicts_the_real_loss_change(smooth_net, stage, rule):
    net, x, y, stats = smooth_net
    group = stage_groups(net)[stage]
    S = stage_splitting_matrices(net, stats[group.name])
    pairs = stage_eigenpairs(net, stats[group.name], "exact")
    splits = neuron_splits(group.name, pairs, rule)
    k = int(torch.argmin(torch.tensor([s.value for s in splits])))
    with torch.no_grad():
        before = F.cross_entropy(net(x), y).item()
    for eps in (3e-3,):
        grown = copy.deepcopy(net)
        apply_stage_splits(grown, stage_groups(grown)[stage], [splits[k]], eps)
        with torch.no_grad():
            actual = F.cross_entropy(grown(x), y).item() - before
        predicted = eps ** 2 / 2 * split_value(S[k], splits[k])
        assert predicted < 0
        assert actual == pytest.approx(predicted, rel=2e-2)


def test_fast_route_finds_the_exact_extreme_eigenpairs(smooth_net):
    net, _, _, stats = smooth_net
    st = stats["stage1"]
    exact = stage_eigenpairs(net, st, "exact")
    fast = stage_eigenpairs(net, st, "fast", steps=st.dim // 2 + 2, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(fast.lambda_min, exact.lambda_min, rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(fast.lambda_max, exact.lambda_max, rtol=1e-6, atol=1e-9)
    few = stage_eigenpairs(net, st, "fast", steps=8, generator=torch.Generator().manual_seed(0))
    assert bool((few.lambda_min >= exact.lambda_min - 1e-9).all())  # Ritz values lie inside the spectrum
    assert bool((few.lambda_max <= exact.lambda_max + 1e-9).all())


@pytest.mark.parametrize("arch", [ARCH, DEAD])
@pytest.mark.parametrize("rule", ["s2d", "s3d2", "s3d4", "random"])
def test_splitting_every_group_keeps_the_function_and_the_costs_are_exact(arch, rule):
    net = _busy(arch, widths={"stage0": 2, "reduce1": 3, "stage1": 4, "reduce2": 5, "stage2": 6})
    x, y = _data()
    split_every_group_and_check(net, x, y, example_input(MACRO), rule)


def test_split_network_trains_and_the_copies_move_apart():
    net = _busy()
    x, y = _data()
    group = stage_groups(net)[1]
    w = widths_of(net)["stage1"]
    dim = theta_layout(net, group)[-1][2].stop
    plans = random_splits("stage1", w, dim, torch.Generator().manual_seed(0))[:2]
    reference = copy.deepcopy(net).eval()
    apply_stage_splits(net, group, plans, eps=0.1)
    assert widths_of(net)["stage1"] == w + 2
    net.eval()
    with torch.no_grad():
        diff = (net(x) - reference(x)).abs().max().item()
    assert 0 < diff < 0.5 * reference(x).abs().max().item()
    net.train()
    loss = F.cross_entropy(net(x), y)
    loss.backward()  # shapes of every grown layer agree
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad and p.grad is not None)


def test_bad_splits_are_clear_errors():
    net = _busy()
    space = NB201Space(("stage1",))
    with pytest.raises(SplittingError, match="unknown groups"):
        space.apply(net, random_splits("stage0", 3, 4, torch.Generator().manual_seed(0))[:1], 0.0)
    wrong_dim = random_splits("stage1", 6, 7, torch.Generator().manual_seed(0))[:1]
    with pytest.raises(SplittingError, match="directions"):
        space.apply(net, wrong_dim, 0.0)
    with pytest.raises(SplittingError, match="unknown or no width groups"):
        NB201Space(("stage9",))
    group = stage_groups(net)[2]
    huge = StageStatistics(group=group, layout=(), inputs={}, coeffs={}, width=64, dim=12000)
    with pytest.raises(SplittingError, match="use the fast route"):
        stage_splitting_matrices(net, huge)


def test_cost_model_matches_built_networks_away_from_the_fitting_point():
    widths = {"stage0": 2, "reduce1": 3, "stage1": 4, "reduce2": 5, "stage2": 6}
    costs = nb201_costs(ARCH, MACRO, widths)
    extra = {"stage0": 3, "reduce1": 1, "stage1": 2, "reduce2": 4, "stage2": 5}
    net = network_with_widths(ARCH, MACRO, {g: widths[g] + extra[g] for g in GROUPS})
    assert costs.total(extra, "params") == count_params(net)
    assert costs.total(extra, "macs") == count_macs(net, example_input(MACRO))
