"""The datasheet of a sampled benchmark: its figures on a table whose answers are known."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lso.bench.space_datasheet import datasheet_path, space_datasheet, write_space_datasheet
from lso.bench.space_table import SpaceTable
from lso.bench.space_table_data import SpaceTableMeta
from lso.errors import MetricError
from lso.spaces import get_space


def _table(seeds: bool = True) -> SpaceTable:
    space = get_space("nb101")
    cells = space.sample(40, np.random.default_rng(0))
    unique = list({space.canonical(c): c for c in cells}.values())[:5]
    valid = [70.0, 90.0, 80.0, 60.0, 85.0]
    test = [71.0, 88.0, 84.0, 59.0, 82.0]  # the valid order with cells 2 and 4 swapped: rho 0.9
    rows = []
    for cell, v, t in zip(unique, valid, test):
        values = {"toy_valid": v, "toy_test": t, "train_seconds": 360.0}
        if seeds:
            values |= {"toy_valid_seed0": v + 1, "toy_valid_seed1": 100 - v}  # reversed -> rho -1
        rows.append((cell, values))
    meta = SpaceTableMeta(space="nb101", source="test", dataset="toy", extra={"sample": "5", "sample_seed": "7"})
    return SpaceTable.from_rows(space, rows, meta)


def test_figures_are_the_tables():
    sheet = space_datasheet(_table())
    assert (sheet.cells, sheet.sample, sheet.sample_seed, sheet.signal, sheet.report) == (5, 5, 7, "toy_valid", "toy_test")
    assert (sheet.signal_best, sheet.signal_median, sheet.report_best, sheet.report_median) == (90.0, 80.0, 88.0, 82.0)
    assert sheet.best_by_signal_report == 88.0 and sheet.best_by_signal_arch == _table().archs()[1]
    assert sheet.signal_report_spearman == pytest.approx(0.9) and sheet.seed_spearman == pytest.approx(-1.0)
    assert sheet.train_hours == pytest.approx(0.5)


def test_one_seed_has_no_agreement_and_a_missing_metric_is_named(tmp_path):
    table = _table(seeds=False)
    assert space_datasheet(table).seed_spearman is None
    with pytest.raises(MetricError, match="no metric 'toy_nope'; it has: .*toy_valid"):
        space_datasheet(table, signal="toy_nope")
    path = write_space_datasheet(table, tmp_path / "b.parquet")
    assert path == datasheet_path(tmp_path / "b.parquet") == tmp_path / "b.datasheet.json"
    data = json.loads(path.read_text())
    assert data["space"] == "nb101" and math.isclose(data["signal_report_spearman"], 0.9)
