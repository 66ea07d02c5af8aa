"""Splitting on 1-D signals (issue 19): Conv1d sites (lso.growth.conv), the 1-D NB201 network (``Network(dims=1)``)
and `refine` / `lso refine` on mnist1d. The 2-D counterparts are test_splitting.py, test_stages.py, test_refine.py."""

from __future__ import annotations

import copy
import json

import pytest
import torch
import torch.nn.functional as F
import typer
from torch import nn
from typer.testing import CliRunner

from lso.cli.refine import register
from lso.growth import (NeuronSite, apply_splits, collect_statistics, count_macs, count_params,
                        eigenpairs_exact, eigenpairs_fast, neuron_splits, second_derivative_of, split_value,
                        splitting_matrices, splitting_matvec)
from lso.growth.cost import cost_model
from lso.growth.nb201 import (GROUPS, NB201Space, example_input, nb201_costs, nb201_params, network_dims,
                              network_with_widths)
from lso.growth.refine import RefineConfig, RefineResult, default_budgets, refine, scratch_widths
from lso.growth.sites import Consumer
from lso.growth.splitting import softplus_second_derivative
from lso.growth.stage_layout import apply_stage_splits, stage_groups
from lso.growth.stages import collect_stage_statistics, stage_eigenpairs, stage_splitting_matrices
from lso.nets.network import Network
from lso.nets.network1d import flops_1d, num_params_1d
from lso.nets.protocol import TrainProtocol
from lso.space import MacroConfig
from split_check import perturb_batch_norms, split_every_group_and_check

ARCH = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
DEAD = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"  # node 2 is dead
MACRO = MacroConfig(channels=3, cells_per_stage=2, num_classes=5, in_channels=2, input_size=12)
WIDTHS = {"stage0": 2, "reduce1": 3, "stage1": 4, "reduce2": 5, "stage2": 6}
BETA = 2.0
# mnist1d at tiny settings: the protocol's network (C=8, N=1) on a 256-signal subset
TINY_1D = TrainProtocol(name="tiny-1d", dataset="mnist1d", epochs=1, lr=0.05, batch_size=32, channels=8,
                        cells_per_stage=1, train_samples=256)


def _busy(arch: str = ARCH, widths: dict | None = None, seed: int = 0) -> Network:
    """The 1-D network with non-trivial BatchNorm statistics and affine parameters."""
    torch.manual_seed(seed)
    return perturb_batch_norms(network_with_widths(arch, MACRO, WIDTHS if widths is None else widths, dims=1))


def _data(n: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(n, MACRO.in_channels, MACRO.input_size, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, MACRO.num_classes, (n,), generator=torch.Generator().manual_seed(2))
    return x, y


def test_the_network_is_1d_and_its_sizes_are_the_real_ones():
    net = _busy(widths={})
    assert network_dims(net) == 1 and network_dims(network_with_widths(ARCH, MACRO, {})) == 2
    assert isinstance(net.cells[0].edges[0].op[1], nn.Conv1d)
    # NB201's own 1-D network: the refine default budget, the analytic counts and the built network agree
    assert nb201_params(ARCH, MACRO, dims=1) == num_params_1d(ARCH, MACRO) == count_params(Network(ARCH, MACRO, dims=1))
    assert nb201_params(ARCH, MACRO, dims=1) != nb201_params(ARCH, MACRO, dims=2)
    full = Network(ARCH, MACRO, dims=1)
    # count_macs counts weights only; flops_1d adds the classifier's bias, as lso.space.flops does for images
    assert count_macs(full, example_input(MACRO, dims=1)) == flops_1d(ARCH, MACRO) - MACRO.num_classes


@pytest.mark.parametrize("arch", [ARCH, DEAD])
def test_cost_model_matches_built_1d_networks_away_from_the_fitting_point(arch):
    costs = nb201_costs(arch, MACRO, WIDTHS, dims=1)
    extra = {"stage0": 3, "reduce1": 1, "stage1": 2, "reduce2": 4, "stage2": 5}
    net = network_with_widths(arch, MACRO, {g: WIDTHS[g] + extra[g] for g in GROUPS}, dims=1)
    assert costs.total(extra, "params") == count_params(net)
    assert costs.total(extra, "macs") == count_macs(net, example_input(MACRO, dims=1))
    widest = scratch_widths(arch, MACRO, WIDTHS, count_params(net), dims=1)
    assert count_params(network_with_widths(arch, MACRO, widest, dims=1)) <= count_params(net)
    assert count_params(network_with_widths(arch, MACRO, widest, dims=2)) > count_params(net)  # 3x3 kernels


@pytest.mark.parametrize("arch", [ARCH, DEAD])
@pytest.mark.parametrize("rule", ["s2d", "s3d2", "s3d4", "random"])
def test_splitting_every_group_of_the_1d_network_keeps_its_output(arch, rule):
    net = _busy(arch)
    x, y = _data()
    chosen, reference = split_every_group_and_check(net, x, y, example_input(MACRO, dims=1), rule)
    net.eval()
    moved = copy.deepcopy(reference)
    NB201Space().apply(moved, chosen, eps=0.1)
    with torch.no_grad():
        assert (moved.eval()(x) - reference.eval()(x)).abs().max() > 1e-4  # a step does change it


class _Net1d(nn.Module):
    """conv1 (k3, stride 2, bias) -> BN -> softplus -> conv2 (k3, dilation 2) -> BN -> tanh -> pool to 2 -> fc."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(2, 3, 3, stride=2, padding=1, bias=True)
        self.bn1 = nn.BatchNorm1d(3)
        self.act1 = nn.Softplus(beta=1.0, threshold=1e4)
        self.conv2 = nn.Conv1d(3, 4, 3, padding=2, dilation=2, bias=False)
        self.bn2 = nn.BatchNorm1d(4)
        self.act2 = nn.Tanh()
        self.pool = nn.AdaptiveAvgPool1d(2)
        self.fc = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act1(self.bn1(self.conv1(x)))
        return self.fc(torch.flatten(self.pool(self.act2(self.bn2(self.conv2(h)))), 1))

    @staticmethod
    def sites() -> tuple[NeuronSite, ...]:
        return (NeuronSite("conv1", "conv1", "act1", (Consumer("conv2"),), norm="bn1"),
                NeuronSite("conv2", "conv2", "act2", (Consumer("fc", 2),), norm="bn2"))


def _direct_S(net: _Net1d, x: torch.Tensor, y: torch.Tensor, name: str) -> torch.Tensor:
    """``S_i = sum_{n,p} g sigma''(h) a_i^2 x_{n,p} x_{n,p}^T`` by explicit loops over samples and output positions,
    the patch ``x_{n,p}`` read index by index from the zero-padded input (no unfold, no convolution)."""
    conv, bn, act = getattr(net, name), getattr(net, f"bn{name[-1]}"), getattr(net, f"act{name[-1]}")
    seen = {}
    conv.register_forward_hook(lambda _m, a, _o: seen.__setitem__("x", a[0].detach()))
    act.register_forward_hook(lambda _m, a, o: seen.update(h=a[0].detach(), out=o))
    loss = F.cross_entropy(net(x), y)
    (g,) = torch.autograd.grad(loss, seen["out"])
    a = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    c = g * second_derivative_of(act)(seen["h"]) * (a ** 2)[None, :, None]  # [N, out, L_out]
    inp = seen["x"]
    (k,), (s,), (pad,), (dil,) = conv.kernel_size, conv.stride, conv.padding, conv.dilation
    d = inp.shape[1] * k + (conv.bias is not None)
    S = torch.zeros(conv.out_channels, d, d, dtype=inp.dtype)
    for n in range(inp.shape[0]):
        for p in range(c.shape[2]):
            patch = torch.zeros(inp.shape[1], k, dtype=inp.dtype)
            for j in range(k):
                t = p * s - pad + j * dil
                if 0 <= t < inp.shape[2]:
                    patch[:, j] = inp[n, :, t]
            v = patch.reshape(-1)
            if conv.bias is not None:
                v = torch.cat([v, torch.ones(1, dtype=v.dtype)])
            S += c[n, :, p, None, None] * torch.outer(v, v)
    return S


def test_1d_splitting_matrices_agree_with_a_direct_computation():
    torch.manual_seed(0)
    net = _Net1d().double()
    x, y = torch.randn(6, 2, 11, dtype=torch.float64), torch.randint(0, 3, (6,))
    net.train()
    net(x)  # non-trivial BatchNorm running statistics
    net.eval()
    stats = collect_statistics(net, net.sites(), [(x, y)], F.cross_entropy,
                               {"conv1": second_derivative_of(net.act1), "conv2": second_derivative_of(net.act2)})
    for name, st in stats.items():
        assert st.conv is not None and st.conv.dims == 1
        S = splitting_matrices(st)
        direct = _direct_S(copy.deepcopy(net), x, y, name)
        assert S.shape == direct.shape == (st.width, st.dim, st.dim)
        assert direct.abs().max() > 1e-3
        torch.testing.assert_close(S, direct, rtol=1e-10, atol=1e-12)
        V = torch.randn(st.width, 3, st.dim, dtype=torch.float64)
        torch.testing.assert_close(splitting_matvec(st, V), torch.einsum("ode,obe->obd", direct, V),
                                   rtol=1e-10, atol=1e-12)
        exact = eigenpairs_exact(S)
        fast = eigenpairs_fast(st, steps=st.dim, generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(fast.lambda_min, exact.lambda_min, rtol=1e-9, atol=1e-12)
    # and the second-order prediction of a split is the real loss change (conv1: a bias and a stride)
    splits = neuron_splits("conv1", eigenpairs_exact(splitting_matrices(stats["conv1"])), "s3d2")
    best = min(splits, key=lambda s: s.value)
    S1 = splitting_matrices(stats["conv1"])
    with torch.no_grad():
        before = F.cross_entropy(net(x), y).item()
        eps = 3e-3
        grown = copy.deepcopy(net)
        apply_splits(grown, grown.sites(), [best], eps)
        actual = F.cross_entropy(grown(x), y).item() - before
    predicted = eps ** 2 / 2 * split_value(S1[best.neuron], best)
    assert predicted < 0 and actual == pytest.approx(predicted, rel=2e-2)
    costs = cost_model(net, net.sites(), x)
    assert count_params(grown) == costs.total({"conv1": 1})


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_1d_stage_splitting_matrix_predicts_the_real_loss_change(stage):
    net = _busy().double()
    for m in list(net.modules()):  # ReLU -> Softplus, whose exact sigma'' the splitting matrix then uses
        for child_name, child in list(m.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(m, child_name, nn.Softplus(beta=BETA))
    net.eval()
    x, y = _data()
    x = x.double()
    group = stage_groups(net)[stage]
    stats = collect_stage_statistics(net, [group], [(x, y)], F.cross_entropy, softplus_second_derivative(BETA))
    st = stats[group.name]
    S = stage_splitting_matrices(net, st)
    pairs = stage_eigenpairs(net, st, "exact")
    fast = stage_eigenpairs(net, st, "fast", steps=st.dim // 2 + 2, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(fast.lambda_min, pairs.lambda_min, rtol=1e-6, atol=1e-9)
    splits = neuron_splits(group.name, pairs, "s3d2")
    k = int(torch.argmin(torch.tensor([s.value for s in splits])))
    with torch.no_grad():
        before = F.cross_entropy(net(x), y).item()
        eps = 3e-3
        grown = copy.deepcopy(net)
        apply_stage_splits(grown, stage_groups(grown)[stage], [splits[k]], eps)
        actual = F.cross_entropy(grown(x), y).item() - before
    predicted = eps ** 2 / 2 * split_value(S[k], splits[k])
    assert predicted < 0
    assert actual == pytest.approx(predicted, rel=2e-2)


@pytest.fixture(scope="module")
def mnist1d():
    from lso.data.datasets import load_dataset

    return load_dataset("mnist1d")


def test_refine_grows_a_1d_network_on_mnist1d(mnist1d, tmp_path):
    config = RefineConfig(ARCH, "mnist1d", "s3d", rounds=1, budget_params=6000, protocol=TINY_1D, start_epochs=1,
                          full_train_split=False, value_samples=64, line_search_powers=(0, 1),
                          rollback_tolerance=None)  # a rollback would keep the start network: here it must grow
    result = refine(config, data=mnist1d, device="cpu")
    first, last = result.rounds[0], result.final
    assert len(result.rounds) == 2 and set(last.splits) == set(GROUPS) and not last.rolled_back
    assert first.params < last.params <= 6000
    assert first.flops < last.flops
    assert result.widths[-1] != result.start_widths
    # the final size is the real network's: rebuild the 1-D network at the widths the run reports
    assert count_params(network_with_widths(ARCH, mnist1d.macro(8, 1), result.widths[-1], dims=1)) == last.params
    assert all(0.0 <= r.test_accuracy <= 100.0 for r in result.rounds)
    path = result.save(tmp_path / "RESULT.json")
    back = RefineResult.load(path)
    assert back.to_dict() == json.loads(path.read_text()) and back.config.dataset == "mnist1d"
    # NB201's own 1-D size is the default budget, and the comparison's budgets are fractions of it
    budgets = default_budgets(config, mnist1d)
    assert budgets[-1] == num_params_1d(ARCH, mnist1d.macro(8, 1))
    wide = refine(RefineConfig(ARCH, "mnist1d", "scratch", rounds=1, budget_params=6000, protocol=TINY_1D,
                               start_epochs=1, full_train_split=False), data=mnist1d, device="cpu")
    assert result.final.params <= wide.final.params <= 6000


def test_cli_refine_on_mnist1d_writes_result_json(tmp_path):
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a second command keeps `refine` a named group
    register(app)
    out = tmp_path / "RESULT.json"
    res = CliRunner().invoke(app, ["refine", "--arch", ARCH, "--dataset", "mnist1d", "--method", "s2d",
                                      "--rounds", "1", "--budget-params", "6000", "--start-epochs", "1",
                                      "--protocol-subset", "--no-rollback", "--out", str(out), "--device", "cpu",
                                      "--no-progress"])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["config"]["dataset"] == "mnist1d" and len(data["rounds"]) == 2
    assert data["rounds"][0]["params"] < data["rounds"][1]["params"] <= 6000
    assert "s2d seed 0:" in res.output
