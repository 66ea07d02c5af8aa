"""The defaults of refine (issue 19), and the comparison at several budgets (lso.growth.refine.budgets): its shape,
its tables, its figure and its files."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lso.data.datasets import load_dataset
from lso.growth.nb201 import narrow_network
from lso.growth import count_params
from lso.growth.refine import (BUDGET_METHODS, RefineConfig, RefineError, RefineResult, compare_budgets,
                               default_budgets, refine)
from lso.nets.protocol import TrainProtocol
from lso.space import num_params

ARCH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
TINY = TrainProtocol(name="tiny", dataset="digits", epochs=1, lr=0.05, batch_size=32, channels=4,
                     cells_per_stage=1, train_samples=128)
# Every method ends within this fraction below its budget (never above it): one more channel of the cheapest group
# would not fit. With rollback off, so that no round is undone (a rolled back last round leaves its share unspent).
TOLERANCE = 0.06


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_defaults_train_the_start_to_a_plateau_on_the_whole_split_and_search_the_step():
    config = RefineConfig(ARCH)
    assert (config.start_epochs, config.full_train_split, config.line_search) == (10, True, True)
    assert config.finetune_lr_mult == 0.3 and config.rollback_tolerance == 0.5 and config.retries == 1
    assert config.round0_epochs == 10 and config.total_epochs == 10 + 3 * 1
    assert RefineConfig(ARCH, start_epochs=None).round0_epochs == config.train_protocol.epochs
    with pytest.raises(RefineError, match="start_epochs must be >= 1.*finetune_lr_mult must be in .0, 1."):
        RefineConfig(ARCH, start_epochs=0, finetune_lr_mult=0.0)


def test_refine_records_epochs_and_steps_and_old_files_read_back_with_their_settings(digits):
    start = count_params(narrow_network(ARCH, digits.macro(4, 1), 0.25, stage_mult=0.5))
    config = RefineConfig(ARCH, "digits", "s3d", 2, start + 1500, seed=3, protocol=TINY, start_epochs=2,
                          full_train_split=False, rollback_tolerance=None)
    res = refine(config, device="cpu", data=digits)
    assert [r.epochs for r in res.rounds] == [2, 1, 1] and sum(r.epochs for r in res.rounds) == config.total_epochs
    assert res.rounds[0].eps == 0.0 and all(r.eps in {1e-2 * 4.0 ** k for k in range(-2, 4)} for r in res.rounds[1:])
    scratch = refine(dataclasses.replace(config, method="scratch"), device="cpu", data=digits)
    assert [r.epochs for r in scratch.rounds] == [2, config.total_epochs]
    data = res.to_dict()
    assert RefineResult.from_dict(data).to_dict() == data
    for key in ("start_epochs", "full_train_split", "finetune_lr_mult", "line_search"):  # a file from before them
        del data["config"][key]
    for r in data["rounds"]:
        del r["epochs"], r["eps"]
    old = RefineResult.from_dict(data).config
    assert (old.start_epochs, old.full_train_split, old.finetune_lr_mult, old.line_search) == (None, False, 1.0, False)


def test_budget_comparison_shape(digits, tmp_path):
    from lso.report.refine import budget_table_text, write_budget_comparison
    from lso.viz.refine_figures import budget_comparison_figure

    start = count_params(narrow_network(ARCH, digits.macro(4, 1), 0.25, stage_mult=0.5))
    budgets = (start + 1500, start + 3000)
    config = RefineConfig(ARCH, "digits", rounds=1, protocol=TINY, start_epochs=1, full_train_split=False,
                          rollback_tolerance=None)
    comp = compare_budgets(config, budgets, seeds=(0, 1), data=digits, device="cpu")
    frame = comp.frame()
    assert len(frame) == len(budgets) * 2 * len(BUDGET_METHODS)
    for budget in budgets:  # every method at every budget is within the tolerance below it
        part = frame[frame.budget == budget]
        assert set(part.method) == set(BUDGET_METHODS)
        assert (part.params <= budget).all() and (part.params >= (1 - TOLERANCE) * budget).all(), part
        s3d = part[part.method == "s3d"].set_index("seed")
        again = part[part.method == "s3d-widths"].set_index("seed")
        assert (again.widths == s3d.widths).all() and (again.params == s3d.params).all()  # S3D's widths, new init
    assert (frame[frame.method.isin(["s3d-widths", "uniform"])].epochs == config.total_epochs).all()
    assert (frame[frame.method.isin(["s3d", "s2d", "random"])].epochs == config.total_epochs).all()  # no retries
    grown = frame.method.isin(["s3d", "s2d", "random"])
    assert (frame[grown].values_per_epoch > 0).all() and frame[~grown].values_per_epoch.isna().all()
    table = comp.table()
    assert list(table.method) == list(BUDGET_METHODS) * len(budgets) and (table.seeds == 2).all()
    assert table.test_std.notna().all() and (table.flops > 0).all()
    fig = budget_comparison_figure(comp)
    assert [t.name for t in fig.data] == list(BUDGET_METHODS) and all(len(t.x) == len(budgets) for t in fig.data)
    files = write_budget_comparison(comp, tmp_path)
    assert json.loads(files.results_json.read_text())["budgets"] == list(budgets)
    assert files.plot.parent == files.table_txt.parent and "plotly" in files.plot.read_text()[:5000].lower()
    assert "s3d-widths" in budget_table_text(comp) and files.table_csv.read_text().startswith("budget,method,params")
    assert len(default_budgets(config, digits)) == 3
    assert default_budgets(config, digits)[-1] == num_params(ARCH, digits.macro(4, 1))
    with pytest.raises(RefineError, match="add 's3d'"):
        compare_budgets(config, budgets, methods=("s3d-widths",), data=digits, device="cpu")
    with pytest.raises(RefineError, match="widths= gives the final widths of 'scratch'"):
        refine(config, data=digits, device="cpu", widths={"stage1": 4})
