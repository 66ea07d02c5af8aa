"""The embedded default benchmark (benchmarks_data/default.parquet) and its committed run (default_run/).

The table is real: cells retrained here with the committed protocol land within the seed noise its datasheet
states (benchmarks_data/default.datasheet.json), and the shipped G-VAE/ICNN run loads and decodes valid cells.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip("sklearn")

from lso.bench import BenchmarkTable  # noqa: E402
from lso.bench.default import DATASHEET, DEFAULT_RUN, EMBEDDED, default_table_path  # noqa: E402
from lso.data.datasets import load_dataset  # noqa: E402
from lso.nets.protocol import TrainProtocol, get_protocol  # noqa: E402
from lso.nets.trainer import train_cell  # noqa: E402
from lso.space import all_cells  # noqa: E402



@pytest.fixture(scope="module")
def table() -> BenchmarkTable:
    return BenchmarkTable.load(EMBEDDED)


@pytest.fixture(scope="module")
def sheet() -> dict:
    return json.loads(DATASHEET.read_text())


def test_default_is_the_embedded_table():
    assert default_table_path() == EMBEDDED


def test_table_is_complete_and_records_its_protocol(table: BenchmarkTable, sheet: dict):
    assert len(table) == 15_625 and table.num_unique == 6_466
    assert np.array_equal(table.frame["index"].to_numpy(), np.arange(15_625))
    for m in ("digits_train", "digits_valid", "digits_test"):
        values = table.values(m)
        assert np.isfinite(values).all() and values.min() >= 0 and values.max() <= 100
    protocol = TrainProtocol.from_dict(json.loads(table.meta.extra["protocol"]))
    assert protocol == get_protocol("digits-fast-2seeds")
    assert protocol.to_dict() == sheet["protocol"]
    for seed in protocol.seeds:  # the per-seed columns behind the means
        assert np.isfinite(table.values(f"digits_valid_seed{seed}")).all()
    mean = (table.values("digits_valid_seed0") + table.values("digits_valid_seed1")) / 2
    assert np.allclose(table.values("digits_valid"), mean)


def test_commands_default_to_the_tables_own_metrics(table: BenchmarkTable):
    assert (table.default_metric("valid"), table.default_metric("test")) == ("digits_valid", "digits_test")


def test_isomorphic_cells_share_one_result(table: BenchmarkTable):
    spread = table.frame.groupby("unique_id")["digits_valid"].agg(lambda v: v.max() - v.min())
    assert spread.max() == 0


def test_datasheet_figures_are_the_tables(table: BenchmarkTable, sheet: dict):
    from lso.train.correlation import spearman

    frame = table.frame.drop_duplicates("unique_id")
    seed0, seed1 = frame["digits_valid_seed0"].to_numpy(), frame["digits_valid_seed1"].to_numpy()
    assert spearman(seed0, seed1) == pytest.approx(sheet["seed_noise"]["valid_spearman_all"])
    assert np.quantile(np.abs(seed0 - seed1), 0.95) == pytest.approx(sheet["seed_noise"]["valid_abs_diff_p95"])
    valid = frame["digits_valid"].to_numpy()
    assert valid.max() == pytest.approx(sheet["valid"]["best"])
    assert np.median(valid) == pytest.approx(sheet["valid"]["median"])
    assert valid.min() == pytest.approx(sheet["valid"]["worst"])
    assert int((valid >= valid.max() - 1e-9).sum()) == sheet["valid"]["top_ties"]
    # it discriminates: a wide spread and few cells at the top
    assert sheet["valid"]["best"] - sheet["valid"]["median"] > 10 and sheet["valid"]["top_ties"] <= 5


def test_retrained_cells_match_the_table_within_seed_noise(table: BenchmarkTable, sheet: dict):
    """The best cell, the median cell and a disconnected one, retrained with the committed protocol and seeds."""
    protocol = get_protocol("digits-fast-2seeds")
    data = load_dataset(protocol.dataset, protocol.split_seed)
    frame = table.frame.drop_duplicates("unique_id").sort_values("digits_valid")
    picks = [int(frame["index"].iloc[-1]), int(frame["index"].iloc[len(frame) // 2]), int(frame["index"].iloc[0])]
    tolerance = sheet["seed_noise"]["valid_abs_diff_p95"]
    cells = all_cells()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the builder trains (one thread per worker)
    try:
        for index in picks:
            for seed in protocol.seeds:
                result = train_cell(cells[index], protocol, data, seed=seed)
                stored = table.query(index, f"digits_valid_seed{seed}")
                assert abs(result.valid_acc - stored) <= tolerance, (cells[index].to_string(), seed, result.valid_acc,
                                                                     stored)
                assert result.params == int(table.query(index, "params"))
    finally:
        torch.set_num_threads(threads)


def test_default_run_loads_and_decodes_valid_cells():
    from lso.models.workbench import LatentModel
    from lso.train.layout import RunLayout
    from lso.train.runs import read_run

    layout = RunLayout.at(DEFAULT_RUN)
    saved = json.loads(layout.config.read_text())
    assert saved["metric"] == "digits_valid"
    assert layout.table_path(saved["table"]["path"]) == EMBEDDED.resolve()
    assert read_run(DEFAULT_RUN).table == str(EMBEDDED.resolve())  # the relative record, resolved for listings
    assert saved["table"]["checksum"] == BenchmarkTable.load(EMBEDDED).meta.checksum
    assert not layout.checkpoint.exists()  # the shipped run carries only what loading needs
    model = LatentModel.load(DEFAULT_RUN)
    z = torch.randn(64, model.latent_dim, generator=torch.Generator().manual_seed(0))
    cells = model.decode(z)
    assert len(cells) == 64 and all(c.to_string().count("~") == 6 for c in cells)
    metrics = json.loads(layout.metrics.read_text())
    assert metrics["reconstruction_accuracy"] > 0.99 and metrics["spearman"] > 0.5
