"""MiLeNAS / first-order DARTS in the DARTS space: its supernet, the step, a whole run, RESULT.json, the oracle that
trains the derived genotype, and the CLI (tiny settings, CPU)."""

from __future__ import annotations

import copy
import json

import pytest
import torch
import typer
from torch import nn
from typer.testing import CliRunner

from lso.cli.milenas import register
from lso.data.datasets import load_dataset
from lso.nets.cache import CacheError
from lso.nets.darts_supernet import DartsSupernet, derive_genotype
from lso.nets.protocol import get_protocol
from lso.nets.training_oracle import TrainingOracle
from lso.search.milenas import (
    MilenasConfig,
    MilenasError,
    MilenasResult,
    build_oracle,
    build_supernet,
    is_collapsed,
    parameter_free_edges,
    run_milenas,
    step_gradients,
)
from lso.spaces import DartsSpace
from lso.spaces.darts import DartsGenotype

TINY = dict(dataset="mnist1d", space="darts", epochs=2, channels=2, cells_per_stage=1, batch_size=16, train_samples=64)
TINY_PROTOCOL = get_protocol("mnist1d-darts").with_(name="tiny-darts", epochs=1, train_samples=64)


@pytest.fixture(scope="module")
def mnist1d():
    return load_dataset("mnist1d", split_seed=0)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class ParamOracle:
    """Scores a genotype by its number of parametric edges (a stand-in for training)."""

    signal_name = "fake_valid"
    report_name = "fake_test"

    def evaluate(self, cell):
        from lso.search.oracle import Evaluation

        n = 16 - parameter_free_edges(cell)
        return Evaluation(cell, float(n), float(10 * n))


def test_config_checks_the_space():
    with pytest.raises(MilenasError, match="space must be one of nb201, darts, got 'nb101'"):
        MilenasConfig(space="nb101")
    assert MilenasConfig.from_dict({k: v for k, v in MilenasConfig().to_dict().items() if k != "space"}).space == "nb201"


def test_the_darts_supernet_is_sized_by_the_config(mnist1d):
    net = build_supernet(MilenasConfig(**TINY), mnist1d)
    assert isinstance(net, DartsSupernet) and len(net.cells) == 5  # 3N + 2 cells
    assert net(mnist1d.train.x[:4]).shape == (4, 10)


def test_milenas_alpha_gradient_is_train_plus_lambda_val(mnist1d):
    torch.manual_seed(0)
    net = build_supernet(MilenasConfig(**TINY), mnist1d)
    with torch.no_grad():
        net.alpha.copy_(torch.randn(28, 8))
    x, y = mnist1d.train.x, mnist1d.train.y
    train, val = (x[:8], y[:8]), (x[8:16], y[8:16])

    def alpha_grad(batch):
        model = copy.deepcopy(net)
        return torch.autograd.grad(nn.functional.cross_entropy(model(batch[0]), batch[1]), [model.alpha])[0]

    g_train, g_val = alpha_grad(train), alpha_grad(val)
    got = step_gradients(copy.deepcopy(net), train, val, "milenas", 0.5).alpha
    assert torch.allclose(got, g_train + 0.5 * g_val, atol=1e-6, rtol=1e-5)
    assert torch.allclose(step_gradients(copy.deepcopy(net), train, val, "darts").alpha, g_val, atol=1e-6, rtol=1e-5)


def test_a_search_repeats_per_seed_and_saves_its_genotype(tmp_path, mnist1d):
    a = run_milenas(MilenasConfig(seed=1, **TINY), ParamOracle(), data=mnist1d)
    b = run_milenas(MilenasConfig(seed=1, **TINY), ParamOracle(), data=mnist1d)
    c = run_milenas(MilenasConfig(seed=2, **TINY), ParamOracle(), data=mnist1d)
    assert a.alpha_history == b.alpha_history and a.cell == b.cell and a.alpha_history != c.alpha_history
    assert len(a.alpha_history) == len(a.cell_history) == 3 and len(a.alpha_history[0]) == 28
    assert isinstance(a.cell, DartsGenotype) and DartsSpace().is_valid(a.cell)
    assert a.cell == a.cell_history[-1] == derive_genotype(torch.tensor(a.alpha_history[-1]))
    assert a.evaluation.report == 10 * (16 - a.parameter_free_edges)
    data = json.loads(a.save(tmp_path / "r.json").read_text())
    assert data["space"] == "darts" and data["arch"].startswith("Genotype(normal=[")
    loaded = MilenasResult.load(tmp_path / "r.json")
    assert loaded.to_dict() == a.to_dict() and loaded.cell == a.cell


def test_collapse_counts_the_genotypes_sixteen_edges():
    skip = DartsGenotype((("skip_connect", 0), ("max_pool_3x3", 1)) * 4, (("avg_pool_3x3", 0), ("skip_connect", 1)) * 4)
    assert parameter_free_edges(skip) == 16 and is_collapsed(skip)
    one_conv = DartsGenotype((("sep_conv_3x3", 0),) + (("skip_connect", 1),) + skip.normal[2:], skip.reduce)
    assert parameter_free_edges(one_conv) == 15 and not is_collapsed(one_conv)


def test_the_training_oracle_trains_a_genotype_on_its_valid_and_test_seeds(tmp_path, mnist1d):
    genotype = DartsSpace().sample(1, torch.Generator().manual_seed(3))[0]
    cache = tmp_path / "darts.runs.jsonl"
    oracle = TrainingOracle(TINY_PROTOCOL, cache=cache, data=mnist1d, space="darts")
    ev = oracle.evaluate(genotype)
    record = oracle.record(genotype.to_string())  # a string of the space is read too; no second training
    assert oracle.trained == 2 and [r.seed for r in record.runs] == [0] and [r.seed for r in record.test_runs] == [1]
    assert (ev.signal, ev.report) == (record.runs[0].valid_acc, record.test_runs[0].test_acc)
    again = TrainingOracle(TINY_PROTOCOL, cache=cache, data=mnist1d, space="darts")
    assert again.evaluate(genotype) == ev and again.trained == 0
    with pytest.raises(CacheError, match="holds runs of the darts space, not nb201"):
        TrainingOracle(TINY_PROTOCOL, cache=cache, data=mnist1d)


def test_build_oracle_for_darts_trains_with_the_datasets_darts_protocol(tmp_path):
    oracle = build_oracle("mnist1d", space="darts")
    assert oracle.protocol.name == "mnist1d-darts" and oracle.space.name == "darts"
    with pytest.raises(MilenasError, match="no DARTS protocol is registered for dataset 'digits'"):
        build_oracle("digits", space="darts")
    with pytest.raises(MilenasError, match="no table lists the DARTS space"):
        build_oracle("mnist1d", space="darts", bench=tmp_path / "t.parquet")


def test_cli_searches_the_darts_space(tmp_path):
    app = typer.Typer()
    register(app)
    app.callback()(lambda: None)  # a callback keeps `milenas` a named subcommand
    out = tmp_path / "r.json"
    args = ["milenas", "--dataset", "mnist1d", "--space", "darts", "--epochs", "1", "--seed", "0", "--out", str(out),
            "--channels", "2", "--cells", "1", "--batch-size", "16", "--train-samples", "64", "--device", "cpu",
            "--no-progress"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["space"] == "darts" and data["config"]["space"] == "darts" and data["method"] == "milenas"
    assert DartsSpace().is_valid(DartsSpace().parse(data["arch"])) and len(data["alpha_history"][0]) == 28
    assert data["signal_name"] == "mnist1d_valid" and 0 <= data["report"] <= 100 and "Genotype(" in result.output
