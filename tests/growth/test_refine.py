"""Neuron splitting on the NB201 network (lso.growth.nb201), `refine` (lso.growth.refine) and `lso refine` (CLI)."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
import torch
import torch.nn.functional as F
import typer
from typer.testing import CliRunner

from lso.cli.refine import register
from lso.data.datasets import load_dataset
from lso.device import DeviceError
from lso.errors import ArchStringError, LsoError
from lso.growth import apply_splits, count_params, random_splits, splitting_candidates
from lso.growth.nb201 import GROUPS, full_widths, narrow_network, network_with_widths, reduction_sites, widths_of
from lso.growth.refine import (ROUND_KEYS, RefineConfig, RefineError, RefineResult, RefineRound, refine,
                               scratch_widths)
from lso.nets.protocol import TrainProtocol
from lso.space import Cell, MacroConfig, num_params

ARCH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
MACRO = MacroConfig(channels=4, cells_per_stage=1, num_classes=10, in_channels=1, input_size=8)
TINY = TrainProtocol(name="tiny", dataset="digits", epochs=1, lr=0.05, batch_size=32, channels=4,
                     cells_per_stage=1, train_samples=128)
# RESULT.json's config block, in order (other tools read it)
CONFIG_KEYS = ["arch", "dataset", "method", "rounds", "budget_params", "seed", "device", "protocol", "finetune_epochs",
               "inner_mult", "stage_mult", "groups", "start_widths", "copies", "c", "eps", "route", "steps",
               "value_samples", "seconds_values", "seconds_train", "widths", "rollback_tolerance", "retries",
               "start_epochs", "full_train_split", "finetune_lr_mult", "line_search", "line_search_powers"]


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def _busy_network(seed: int) -> torch.nn.Module:
    """A narrow network with non-trivial BatchNorm statistics and affine parameters."""
    torch.manual_seed(seed)
    model = narrow_network(ARCH, MACRO, 0.5)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.3, 0.3)
    return model


def test_sites_cover_the_reduction_blocks_and_full_width_is_nb201():
    model = narrow_network(ARCH, MACRO, 0.5)
    assert [s.name for s in reduction_sites(model)] == ["reduce1", "reduce2"]
    assert widths_of(model) == {"stage0": 4, "reduce1": 4, "stage1": 8, "reduce2": 8, "stage2": 16}
    narrow = narrow_network(ARCH, MACRO, 0.5, stage_mult=0.5)
    assert widths_of(narrow) == {"stage0": 2, "reduce1": 4, "stage1": 4, "reduce2": 8, "stage2": 8}
    assert narrow(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    full = network_with_widths(ARCH, MACRO, full_widths(MACRO))
    assert count_params(full) == num_params(ARCH, MACRO)
    assert count_params(model) < num_params(ARCH, MACRO)
    with pytest.raises(LsoError, match="unknown width group"):
        network_with_widths(ARCH, MACRO, {"reduce3": 4})
    with pytest.raises(LsoError, match="widths must be >= 1"):
        network_with_widths(ARCH, MACRO, {"stage1": 0})


@pytest.mark.parametrize("rule", ["s3d2", "s3d4", "s2d", "random"])
def test_split_preserves_the_function_of_the_nb201_network(rule):
    model = _busy_network(0)
    sites = reduction_sites(model)
    x = torch.randn(16, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 10, (16,), generator=torch.Generator().manual_seed(2))
    gen = torch.Generator().manual_seed(3)
    if rule == "random":
        cands = [s for site, w in (("reduce1", 4), ("reduce2", 8)) for s in random_splits(site, w, 9 * (4 if site ==
                 "reduce1" else 8), gen)]
    else:
        cands = splitting_candidates(model, sites, [(x, y)], F.cross_entropy, rule, route="exact")
    chosen = [c for c in cands if c.extra > 0][::2]  # every other neuron, both sites
    if rule.startswith("s3d"):  # signed copies (a negative output weight) are among them
        assert any(min(c.weights) < 0 for c in chosen)
    assert {c.site for c in chosen} == {"reduce1", "reduce2"}
    reference = copy.deepcopy(model)
    report = apply_splits(model, sites, chosen, eps=0.0)
    assert sum(report.added.values()) == sum(c.extra for c in chosen)
    assert {k: widths_of(model)[k] for k in report.widths} == report.widths
    assert count_params(model) > count_params(reference)
    with torch.no_grad():
        for train_mode in (False, True):  # eval: running statistics; train: batch statistics of the copies
            model.train(train_mode)
            reference.train(train_mode)
            torch.testing.assert_close(model(x), reference(x), rtol=1e-5, atol=1e-5)
        before_eval = _busy_network(0).eval()(x)
    # eps > 0 moves the copies apart: the function changes, a little
    moved = _busy_network(0)
    apply_splits(moved, sites, chosen, eps=0.5)
    moved.eval()
    with torch.no_grad():
        diff = (moved(x) - before_eval).abs().max().item()
    assert 0 < diff < 0.5 * before_eval.abs().max().item()


def test_refine_respects_the_budget_and_is_reproducible(digits):
    start = count_params(narrow_network(ARCH, digits.macro(4, 1), 0.25, stage_mult=0.5))
    budget = start + 1500
    config = RefineConfig(ARCH, "digits", "s3d", 2, budget, seed=5, protocol=TINY, start_epochs=None,
                          full_train_split=False)  # the protocol's 1 epoch on 128 images: fast
    runs = {m: refine(dataclasses.replace(config, method=m), device="cpu", data=digits)
            for m in ("s3d", "random", "scratch")}
    for method, res in runs.items():
        params = [r.params for r in res.rounds]
        assert params[0] == start and params[-1] <= budget, (method, params)
        assert params[-1] > start + 1000, (method, params)  # the budget is mostly used (one channel costs < 500)
        assert all(0.0 <= r.test_accuracy <= 100.0 for r in res.rounds)
    grown = runs["s3d"]
    assert len(grown.rounds) == 3 and grown.rounds[0].splits == {}
    assert grown.widths[0] == grown.start_widths and grown.config == config
    for k in (1, 2):  # 2 copies per split: a round adds as many channels as it splits
        added = {s: grown.widths[k][s] - grown.widths[k - 1][s] for s in grown.widths[k]}
        assert added == grown.rounds[k].splits or (grown.rounds[k].rolled_back and not any(added.values()))
    assert len(runs["scratch"].rounds) == 2
    assert runs["scratch"].widths[-1] == scratch_widths(Cell.parse(ARCH), digits.macro(4, 1),
                                                        grown.start_widths, budget)
    again = refine(config, device="cpu", data=digits)
    strip = lambda res: [{k: v for k, v in vars(r).items() if k != "seconds"} for r in res.rounds]  # noqa: E731
    assert strip(again) == strip(grown)


def test_bad_input_is_a_clear_error(digits):
    with pytest.raises(ArchStringError):
        RefineConfig("|nor_conv_3x3~0|+|bogus~0|", "digits", "s3d", 1, 10**6, protocol=TINY)
    with pytest.raises(RefineError, match="unknown refine method 'pruning'"):
        RefineConfig(ARCH, "digits", "pruning", 1, 10**6, protocol=TINY)
    with pytest.raises(RefineError, match="rounds must be >= 1, got 0.*stage_mult must be in .0, 1.*copies must be "
                                          "2 or 4.*unknown eigenpair route 'slow'"):
        RefineConfig(ARCH, rounds=0, stage_mult=1.5, copies=3, route="slow")
    with pytest.raises(RefineError, match="groups must be distinct names"):
        RefineConfig(ARCH, groups=("stage1", "stage9"))
    with pytest.raises(RefineError, match="protocol 'digits-fast' is for dataset 'digits', not 'mnist1d'"):
        RefineConfig(ARCH, "mnist1d", protocol="digits-fast")
    with pytest.raises(RefineError, match="below the starting network"):
        refine(RefineConfig(ARCH, "digits", "s3d", 1, 1000, protocol=TINY), device="cpu", data=digits)
    with pytest.raises(RefineError, match="data is 'digits', expected 'mnist1d'"):
        refine(RefineConfig(ARCH, "mnist1d"), device="cpu", data=digits)
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="CUDA is not available"):
            refine(RefineConfig(ARCH, "digits", "s3d", 1, 10**6, protocol=TINY), device="cuda", data=digits)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a second command keeps `refine` a named group
    register(app)
    return app


def test_cli_writes_result_json(tmp_path):
    out = tmp_path / "RESULT.json"
    args = ["refine", "--arch", ARCH, "--dataset", "digits", "--method", "s2d", "--rounds", "2", "--budget-params",
            "1000", "--seed", "1", "--out", str(out), "--device", "cpu", "--no-progress",
            "--no-rollback"]  # every round grows here (a rolled-back round would split nothing)
    runner = CliRunner()
    bad = runner.invoke(_app(), args)
    assert isinstance(bad.exception, RefineError) and "below the starting network" in str(bad.exception)
    args[args.index("--budget-params") + 1] = "46000"
    res = runner.invoke(_app(), args)
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert set(data) == {"rounds", "config"}
    assert len(data["rounds"]) == 3
    assert all(set(r) == set(ROUND_KEYS) for r in data["rounds"])
    assert data["rounds"][0]["splits"] == {} and set(data["rounds"][1]["splits"]) == set(GROUPS)
    assert data["rounds"][-1]["params"] <= 46000 < data["rounds"][-1]["params"] + 1500
    cfg = data["config"]
    assert (cfg["method"], cfg["rounds"], cfg["budget_params"], cfg["seed"], cfg["arch"]) == ("s2d", 2, 46000, 1, ARCH)
    assert cfg["device"].startswith("cpu")
    assert "s2d seed 1:" in res.output
    assert cfg["groups"] == list(GROUPS) and cfg["stage_mult"] == 0.5
    # the defaults: the start network 10 epochs on the whole split, fine-tuning at 0.3 x lr, the step searched
    assert (cfg["start_epochs"], cfg["full_train_split"], cfg["finetune_lr_mult"], cfg["line_search"]) == (
        10, True, 0.3, True)
    assert cfg["line_search_powers"] == [-1, 0, 1, 2]
    steps = {r["eps"] for r in data["rounds"][1:] if r["splits"]}  # every chosen step is one of the trial steps
    assert steps and steps <= {1e-2 * 4.0 ** k for k in (-1, 0, 1, 2)}
    assert data["rounds"][0]["epochs"] == 10 and all(r["eps"] > 0 for r in data["rounds"][1:] if r["splits"])
    # --groups: only the reduction blocks' inner widths grow; --stage-mult 1 starts the stages at NB201's width
    args += ["--groups", "reduce1,reduce2", "--stage-mult", "1", "--rounds", "1", "--start-epochs", "2",
             "--protocol-subset", "--fixed-step", "--finetune-lr-mult", "1"]
    res = runner.invoke(_app(), args)
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert set(data["rounds"][1]["splits"]) == {"reduce1", "reduce2"}
    assert data["config"]["widths"][0]["stage2"] == data["config"]["widths"][-1]["stage2"] == 32
    assert [data["config"][k] for k in ("start_epochs", "full_train_split", "finetune_lr_mult", "line_search")] == [
        2, False, 1.0, False]
    assert data["rounds"][0]["epochs"] == 2 and data["rounds"][1]["eps"] == 1e-2
    back = RefineResult.load(out)  # RESULT.json reads back to the same result and writes the same content
    assert back.config.groups == ("reduce1", "reduce2") and back.to_dict() == data
    assert list(back.to_dict()["config"]) == CONFIG_KEYS
    (tmp_path / "bad.json").write_text('{"rounds": []}')
    with pytest.raises(RefineError, match="not a refine result"):
        RefineResult.load(tmp_path / "bad.json")


@pytest.mark.slow
def test_cli_compare_writes_table_and_plot(tmp_path):
    res = CliRunner().invoke(_app(), ["refine", "compare", "--arch", ARCH, "--dataset", "digits", "--seeds", "1",
                                      "--rounds", "1", "--budget-params", "46000", "--device", "cpu",
                                      "--out", str(tmp_path), "--no-progress"])
    assert res.exit_code == 0, res.output
    final = (tmp_path / "final.csv").read_text().splitlines()
    assert final[0].startswith("method,params,test_mean") and len(final) == 5
    assert "plotly" in (tmp_path / "accuracy_vs_params.html").read_text()[:5000].lower()
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"s3d/0", "s2d/0", "random/0", "scratch/0"}


def _fake_result(config: RefineConfig, accuracies: list[float]) -> RefineResult:
    """A refine result with made-up rounds (no training): params grow by 1000 a round."""
    rounds = tuple(RefineRound(params=1000 * (k + 1), flops=0, train_accuracy=a, valid_accuracy=a, test_accuracy=a,
                               seconds=0.0, device="cpu", splits={} if k == 0 else {"stage1": 1})
                   for k, a in enumerate(accuracies))
    widths = tuple({"stage1": 4 + k} for k in range(len(rounds)))
    return RefineResult(rounds=rounds, config=dataclasses.replace(config, budget_params=3000), device="cpu",
                        start_widths=widths[0], seconds_values=(0.0,) * len(rounds),
                        seconds_train=(0.0,) * len(rounds), widths=widths)


def test_comparison_figure_and_files_from_results(tmp_path):
    from lso.growth.refine import RefineComparison
    from lso.report.refine import write_refine_comparison
    from lso.viz.refine_figures import accuracy_vs_params_figure

    config = RefineConfig(ARCH, rounds=2, protocol=TINY)
    results = {("s3d", 0): _fake_result(config, [50.0, 60.0, 70.0]),
               ("s3d", 1): _fake_result(config, [50.0, 62.0, 74.0]),
               ("scratch", 0): _fake_result(config, [50.0, 80.0]), ("scratch", 1): _fake_result(config, [50.0, 82.0])}
    comparison = RefineComparison(arch=ARCH, dataset="digits", methods=("s3d", "scratch"), seeds=(0, 1),
                                  budget_params=3000, results=results)
    fig = accuracy_vs_params_figure(comparison)
    assert [t.name for t in fig.data] == ["s3d", "scratch"]
    assert list(fig.data[0].y) == [50.0, 61.0, 72.0] and list(fig.data[1].x) == [1000.0, 2000.0]
    assert fig.layout.title.text.startswith("Test accuracy vs parameters on digits") and ARCH in fig.layout.title.text
    assert fig.data[0].mode == "lines+markers" and fig.data[1].mode == "markers"  # scratch grows nothing: points
    assert [a.text for a in fig.layout.annotations] == ["budget 3,000"]  # the budget every method aims at
    files = write_refine_comparison(comparison, tmp_path)
    assert json.loads(files.results_json.read_text()) == json.loads(json.dumps(comparison.to_dict()))
    assert set(comparison.to_dict()) == {"s3d/0", "s3d/1", "scratch/0", "scratch/1"}
    final = files.final_csv.read_text().splitlines()
    assert final[0].startswith("method,params,test_mean") and [r.split(",")[0] for r in final[1:]] == ["s3d", "scratch"]
    assert len(files.rounds_csv.read_text().splitlines()) == 1 + 3 + 3 + 2 + 2
    assert "plotly" in files.plot.read_text()[:5000].lower()
