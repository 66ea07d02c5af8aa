"""Zero-cost proxies: exact values on small networks, properties, and their rank correlation on real NB201."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from lso.nets.proxies import PROXIES, ProxyError, check_proxies, grad_norm, naswot, synflow
from lso.nets.proxy_study import NOISE, proxy_batch, proxy_study, score_cell
from lso.space import Cell


def _mlp(seed: int = 0, hidden: int = 5) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, hidden, bias=False), nn.ReLU(), nn.Linear(hidden, 3, bias=False))


def test_synflow_is_depth_times_flow_for_a_homogeneous_net():
    # Each bias-free layer is degree-1 homogeneous in its own weights, so sum_theta theta dR/dtheta = R per layer
    # (Euler): S = L * R with R = 1^T |W2| |W1| 1.
    net = _mlp()
    w1, w2 = net[0].weight.detach().abs().double(), net[2].weight.detach().abs().double()
    flow = float((w2 @ (w1 @ torch.ones(4, dtype=torch.float64))).sum())
    assert synflow(net, (4,)) == pytest.approx(math.log(2 * flow), rel=1e-10)


def test_proxies_leave_the_network_as_it_was():
    net = _mlp()
    before = [p.detach().clone() for p in net.parameters()]
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    synflow(net, (4,)), naswot(net, x), grad_norm(net, x, y)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    assert all(p.grad is None for p in net.parameters())


def test_naswot_kernel_is_singular_for_repeated_examples():
    net = _mlp(hidden=64)  # wide enough that six random inputs get six different activation codes
    x = torch.randn(6, 4)
    assert math.isfinite(naswot(net, x))
    assert naswot(net, torch.cat([x[:3], x[:3]])) == float("-inf")  # two equal codes: K_H has equal rows
    with pytest.raises(ProxyError, match="at least 2"):
        naswot(net, x[:1])


def test_grad_norm_is_the_sum_of_per_tensor_gradient_norms():
    net = _mlp()
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    ref = _mlp()
    nn.functional.cross_entropy(ref(x), y).backward()
    expected = sum(float(p.grad.norm()) for p in ref.parameters())
    assert grad_norm(net, x, y) == pytest.approx(expected, rel=1e-6)


def test_unknown_proxy_is_named():
    with pytest.raises(ProxyError, match="magic"):
        check_proxies(("synflow", "magic"))
    assert check_proxies(PROXIES) == PROXIES


def test_score_cell_is_a_function_of_the_seed():
    batch = proxy_batch(NOISE, 4, seed=0)
    cell = Cell.parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|")
    a, b = score_cell(cell, batch, ("synflow", "naswot"), 3), score_cell(cell, batch, ("synflow", "naswot"), 3)
    c = score_cell(cell, batch, ("synflow",), 4)
    assert a.scores == b.scores and a.scores["synflow"] != c.scores["synflow"]


def test_synflow_ranks_real_nb201_cells(cifar10_table):
    """Real-table figure: synflow (data-free) and params rank NB201 CIFAR-10 test accuracy well on a seeded
    sample (the literature reports rho ~0.76 for synflow on the whole space)."""
    batch = proxy_batch(NOISE, 8, seed=0)
    study = proxy_study(cifar10_table, "cifar10_test", batch, sample=30, seed=0, proxies=("synflow", "params"),
                        input_name=NOISE)
    assert len(study.rows) == 30 and len({r.arch for r in study.rows}) == 30
    assert study.spearman["synflow"] > 0.6 and study.spearman["params"] > 0.5
    with pytest.raises(ProxyError, match="sample must be"):
        proxy_study(cifar10_table, "cifar10_test", batch, sample=2, seed=0, proxies=("params",), input_name=NOISE)


def test_cli_prints_and_writes_the_study(tmp_path, capsys):
    from cli_runner import run_cli

    out = tmp_path / "proxies.json"
    table = Path(__file__).resolve().parents[2] / "benchmarks_data" / "default.parquet"
    argv = ["bench", "proxies", str(table), "--sample", "5", "--proxies", "synflow,params", "--batch", "8",
            "--no-progress", "--out", str(out)]
    assert run_cli(argv) == 0
    text = capsys.readouterr().out
    from lso.bench import BenchmarkTable

    assert "synflow" in text and BenchmarkTable.load(table).default_metric("test") in text
    import json

    data = json.loads(out.read_text())
    assert len(data["cells"]) == 5 and set(data["spearman"]) == {"synflow", "params"}
    assert run_cli(argv[:-2] + ["--proxies", "magic"]) != 0
    assert "unknown proxies" in capsys.readouterr().err
