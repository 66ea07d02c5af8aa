"""The NB201 supernet and the MiLeNAS / first-order DARTS search (tiny settings, CPU)."""

from __future__ import annotations

import copy
import json
import random

import pytest
import torch
import typer
from torch import nn
from typer.testing import CliRunner

from lso.cli.milenas import register
from lso.errors import ArchStringError, LsoError
from lso.jobs import Cancelled, Reporter
from lso.nets.network import CellModule, Network
from lso.nets.supernet import Supernet, derive_cell, discrete_state_dict, one_hot_weights
from lso.search.milenas import (
    MilenasConfig,
    MilenasError,
    MilenasResult,
    build_oracle,
    is_collapsed,
    make_optimisers,
    run_milenas,
    search_step,
    step_gradients,
    summarise,
)
from lso.search.oracle import Evaluation
from lso.space import OPS, Cell, MacroConfig, all_cells

MACRO = MacroConfig(channels=4, cells_per_stage=2, num_classes=5, in_channels=1, input_size=8)


def _supernet(seed: int = 0) -> Supernet:
    """A tiny supernet whose BN layers have non-trivial affine parameters and running statistics."""
    torch.manual_seed(seed)
    net = Supernet(MACRO)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
        net.train()
        for _ in range(3):
            net(torch.randn(16, 1, 8, 8), one_hot_weights(Cell.from_indices([3] * 6)))
            net(torch.randn(16, 1, 8, 8))
    return net.eval()


def _discrete(net: Supernet, cell: Cell, literal: bool = False) -> Network:
    model = Network(cell, MACRO)
    model.load_state_dict(discrete_state_dict(net, cell))  # strict: the key sets must match exactly
    if literal:  # evaluate every edge, dead ones included (the supernet's definition)
        for m in model.modules():
            if isinstance(m, CellModule):
                m.forward = m.forward_all  # type: ignore[method-assign]
    return model.eval()


BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
# A `none` edge, a dead branch (node 1 feeds nothing that reaches the output) and a pool.
DEAD_BRANCH = "|nor_conv_1x1~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"


@pytest.mark.parametrize("arch", [BEST, DEAD_BRANCH, "|skip_connect~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|"])
def test_one_hot_supernet_equals_the_discrete_network(arch):
    net = _supernet()
    cell = Cell.from_string(arch)
    x = torch.randn(8, 1, 8, 8)
    with torch.no_grad():
        got, want = net(x, one_hot_weights(cell)), _discrete(net, cell)(x)
        other = net(x, one_hot_weights(cell.with_op(3, "avg_pool_3x3")))  # edge 3 <- 0 is live in each
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(other, want, atol=1e-3)  # the comparison can tell cells apart


def test_one_hot_supernet_equals_the_literal_network_on_random_cells():
    # The discrete network skips dead edges; the supernet (like forward_all) evaluates every edge, which differs
    # only by a BN shift for a conv reading an all-zero node. Against the literal definition it matches everywhere.
    net = _supernet(1)
    x = torch.randn(4, 1, 8, 8)
    cells = random.Random(0).sample(all_cells(), 25)
    with torch.no_grad():
        for cell in cells:
            assert torch.allclose(net(x, one_hot_weights(cell)), _discrete(net, cell, literal=True)(x), atol=1e-5)


def test_supernet_mixes_with_softmax_alpha_and_splits_parameters():
    net = _supernet()
    x = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        net.alpha.copy_(torch.randn(6, 5))
        assert torch.allclose(net(x), net(x, torch.softmax(net.alpha, -1)))
    assert net.arch_parameters() == [net.alpha]
    names = {id(p) for p in net.weight_parameters()}
    assert id(net.alpha) not in names and len(names) == len(list(net.parameters())) - 1


def test_derive_is_the_argmax_cell():
    net = _supernet()
    target = Cell.from_string(DEAD_BRANCH)
    with torch.no_grad():
        net.alpha.copy_(0.01 * torch.randn(6, 5) + 3.0 * one_hot_weights(target))
    cell = net.derive()
    assert isinstance(cell, Cell) and cell == target
    assert Cell.from_string(cell.to_string()) == cell
    assert derive_cell(torch.eye(6, 5)).ops == (OPS[0], OPS[1], OPS[2], OPS[3], OPS[4], OPS[0])
    with pytest.raises(ArchStringError, match=r"shape \[6, 5\]"):
        derive_cell(torch.zeros(5, 5))


def _batches(seed: int):
    g = torch.Generator().manual_seed(seed)
    return (
        (torch.randn(12, 1, 8, 8, generator=g), torch.randint(0, 5, (12,), generator=g)),
        (torch.randn(12, 1, 8, 8, generator=g), torch.randint(0, 5, (12,), generator=g)),
    )


def _alpha_grad(net: Supernet, batch) -> torch.Tensor:
    loss = nn.functional.cross_entropy(net(batch[0]), batch[1])
    return torch.autograd.grad(loss, [net.alpha])[0]


def test_milenas_alpha_gradient_is_train_plus_lambda_val():
    net = _supernet().train()
    with torch.no_grad():
        net.alpha.copy_(torch.randn(6, 5))
    train, val = _batches(0)
    g_train = _alpha_grad(copy.deepcopy(net), train)
    g_val = _alpha_grad(copy.deepcopy(net), val)
    assert not torch.allclose(g_train, g_val, atol=1e-6)
    for lam in (1.0, 0.3):
        got = step_gradients(copy.deepcopy(net), train, val, "milenas", lam).alpha
        assert torch.allclose(got, g_train + lam * g_val, atol=1e-6, rtol=1e-5)
    darts = step_gradients(copy.deepcopy(net), train, val, "darts")
    assert torch.allclose(darts.alpha, g_val, atol=1e-6, rtol=1e-5)
    # The weight gradient is grad_w L_train alone (the validation pass must not leak into it) for both methods.
    ref = copy.deepcopy(net)
    want = torch.autograd.grad(nn.functional.cross_entropy(ref(train[0]), train[1]), ref.weight_parameters())
    got_w = step_gradients(copy.deepcopy(net), train, val, "milenas").weights
    assert len(got_w) == len(want) and all(torch.allclose(a, b, atol=1e-6) for a, b in zip(got_w, want))
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(darts.weights, want))


def test_search_step_feeds_adam_the_mixed_level_gradient():
    net = _supernet().train()
    train, val = _batches(1)
    config = MilenasConfig(method="milenas", epochs=1, grad_clip=None)
    expected = (_alpha_grad(copy.deepcopy(net), train) + _alpha_grad(copy.deepcopy(net), val)).detach()
    alpha0 = net.alpha.detach().clone()
    alpha = alpha0.clone().requires_grad_(True)
    adam = torch.optim.Adam([alpha], lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    alpha.grad = expected
    adam.step()
    before = [p.detach().clone() for p in net.weight_parameters()]
    search_step(net, make_optimisers(net, config), train, val, config)
    assert torch.allclose(net.alpha.detach(), alpha.detach(), atol=1e-7)
    assert not torch.equal(net.alpha.detach(), alpha0)  # sanity: alpha did move
    assert any(not torch.equal(a, b.detach()) for a, b in zip(before, net.weight_parameters()))


def test_optimiser_defaults_are_the_papers():
    config = MilenasConfig()
    net = Supernet(MACRO)
    opt = make_optimisers(net, config)
    a = opt.alpha.param_groups[0]
    w = opt.weights.param_groups[0]
    assert (a["lr"], a["betas"], a["weight_decay"]) == (3e-4, (0.5, 0.999), 1e-3)
    assert (w["lr"], w["momentum"], w["weight_decay"]) == (0.025, 0.9, 3e-4)
    assert opt.schedule.eta_min == 0.001 and config.lam == 1.0
    with pytest.raises(MilenasError, match="method must be one of milenas, darts"):
        MilenasConfig(method="gdas")
    with pytest.raises(MilenasError, match="epochs must be >= 1"):
        MilenasConfig(epochs=0)


TINY = dict(dataset="digits", epochs=2, channels=2, cells_per_stage=1, batch_size=16, train_samples=96)


class FixedOracle:
    """Scores a cell by its number of parametric edges (a stand-in for a table)."""

    signal_name = "fake_valid"
    report_name = "fake_test"

    def evaluate(self, cell: Cell) -> Evaluation:
        n = 6 - sum(op in ("none", "skip_connect", "avg_pool_3x3") for op in cell.ops)
        return Evaluation(cell, float(n), float(10 * n))


def test_search_is_deterministic_per_seed_and_records_history(tmp_path):
    reporter = Reporter()
    a = run_milenas(MilenasConfig(seed=3, **TINY), FixedOracle(), reporter=reporter)
    b = run_milenas(MilenasConfig(seed=3, **TINY), FixedOracle())
    c = run_milenas(MilenasConfig(seed=4, **TINY), FixedOracle())
    assert a.alpha_history == b.alpha_history and a.cell_history == b.cell_history and a.cell == b.cell
    assert a.alpha_history != c.alpha_history
    assert len(a.alpha_history) == len(a.cell_history) == 3 and len(a.epoch_stats) == 2
    assert a.alpha_history[1] != a.alpha_history[0]  # alpha moved during the first epoch
    assert a.cell == a.cell_history[-1] == derive_cell(torch.tensor(a.alpha_history[-1]))
    assert a.evaluation == FixedOracle().evaluate(a.cell) and a.signal_name == "fake_valid"
    assert a.epoch_stats[0].w_lr == 0.025 and a.epoch_stats[1].w_lr < 0.025
    assert a.device.startswith("cpu")
    path = a.save(tmp_path / "r.json")
    loaded = MilenasResult.load(path)
    assert loaded.to_dict() == a.to_dict() and loaded.cell == a.cell
    summary = summarise([a, c])
    assert summary.runs == 2 and summary.report_mean == (a.evaluation.report + c.evaluation.report) / 2
    # One progress event per epoch (the reporter does not change the run: b had none).
    events = reporter.events
    assert [(e.done, e.total) for e in events] == [(1, 2), (2, 2)]
    assert events[-1].figures["val_acc"] == a.epoch_stats[-1].val_acc and "epoch 2/2" in events[-1].message


def test_search_stops_when_cancelled():
    reporter = Reporter()
    reporter.cancel()
    with pytest.raises(Cancelled):
        run_milenas(MilenasConfig(seed=3, **TINY), FixedOracle(), reporter=reporter)


def test_collapse_and_result_errors(tmp_path):
    assert is_collapsed(Cell.from_indices([1] * 6)) and is_collapsed(Cell.from_indices([0, 1, 4, 4, 1, 0]))
    assert not is_collapsed(Cell.from_indices([1, 1, 1, 1, 1, 2]))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"arch": "nope"}))
    with pytest.raises(MilenasError, match="not a MiLeNAS result"):
        MilenasResult.load(bad)
    with pytest.raises(MilenasError, match="need --bench"):
        build_oracle("digits", signal="digits_valid")
    with pytest.raises(LsoError, match="digits-fast.*is for dataset 'digits'"):
        build_oracle("cifar10", protocol="digits-fast")


def test_table_oracle_scores_the_derived_cell(nb201_dir):
    oracle = build_oracle("cifar10", bench=nb201_dir / "nb201_cifar10.csv")
    assert (oracle.signal_name, oracle.report_name) == ("cifar10_valid", "cifar10_test")
    ev = oracle.evaluate(Cell.from_string(BEST))
    assert ev.report > 94.0


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # a callback keeps `milenas` a named subcommand
        pass

    return app


def test_cli_writes_the_result(tmp_path):
    out = tmp_path / "r.json"
    args = ["milenas", "--dataset", "digits", "--epochs", "1", "--seed", "2", "--out", str(out), "--method", "darts",
            "--channels", "2", "--cells", "1", "--batch-size", "16", "--train-samples", "64", "--device", "cpu",
            "--protocol", "digits-fast", "--no-progress"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["method"] == "darts" and data["seed"] == 2 and data["config"]["epochs"] == 1
    assert data["signal_name"] == "digits_valid" and 0 <= data["report"] <= 100
    assert len(data["alpha_history"]) == 2 and len(data["alpha_history"][0]) == 6
    assert Cell.from_string(data["arch"]).to_string() == data["arch"] and data["device"].startswith("cpu")
    assert "darts seed 2" in result.output and "wrote" in result.output


def test_cli_bad_method_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(_app(), ["milenas", "--out", str(tmp_path / "r.json"), "--method", "gdas"])
    assert isinstance(result.exception, MilenasError) and "method must be one of" in str(result.exception)
    assert not (tmp_path / "r.json").exists()
