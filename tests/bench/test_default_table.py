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


@pytest.fixture(scope="module")
def protocol(table: BenchmarkTable) -> TrainProtocol:
    """The protocol the table records (the figures below hold for whichever default ships)."""
    return TrainProtocol.from_dict(json.loads(table.meta.extra["protocol"]))


def test_default_is_the_embedded_table():
    assert default_table_path() == EMBEDDED


def test_table_is_complete_and_records_its_protocol(table: BenchmarkTable, sheet: dict, protocol: TrainProtocol):
    assert len(table) == 15_625 and table.num_unique == 6_466
    assert np.array_equal(table.frame["index"].to_numpy(), np.arange(15_625))
    ds = protocol.dataset
    for m in (f"{ds}_valid", f"{ds}_test"):
        values = table.values(m)
        assert np.isfinite(values).all() and values.min() >= 0 and values.max() <= 100
    assert protocol == get_protocol(protocol.name)
    assert protocol.to_dict() == sheet["protocol"]
    for split, seeds in (("valid", protocol.seeds), ("test", protocol.test_seeds or protocol.seeds)):
        columns = [f"{ds}_{split}_seed{seed}" for seed in seeds]
        if split == "test" and not all(c in table.metrics for c in columns):
            continue  # a table without test seeds of its own keeps only the validation runs per seed
        runs = np.stack([table.values(c) for c in columns])  # the per-seed columns behind the means
        assert np.isfinite(runs).all()
        assert np.allclose(table.values(f"{ds}_{split}"), runs.mean(axis=0))


def test_commands_default_to_the_tables_own_metrics(table: BenchmarkTable, protocol: TrainProtocol):
    ds = protocol.dataset
    assert (table.default_metric("valid"), table.default_metric("test")) == (f"{ds}_valid", f"{ds}_test")


def test_isomorphic_cells_share_one_result(table: BenchmarkTable, protocol: TrainProtocol):
    spread = table.frame.groupby("unique_id")[f"{protocol.dataset}_valid"].agg(lambda v: v.max() - v.min())
    assert spread.max() == 0


def test_datasheet_figures_are_the_tables(table: BenchmarkTable, sheet: dict, protocol: TrainProtocol):
    from lso.train.correlation import spearman

    ds, seeds = protocol.dataset, protocol.seeds
    frame = table.frame.sort_values("index").drop_duplicates("unique_id")
    first, second = (frame[f"{ds}_valid_seed{s}"].to_numpy() for s in seeds[:2])
    assert spearman(first, second) == pytest.approx(sheet["valid"]["seed_spearman_all"])
    assert np.quantile(np.abs(first - second), 0.95) == pytest.approx(sheet["valid"]["seed_abs_diff_p95"])
    valid = frame[f"{ds}_valid"].to_numpy()
    assert valid.max() == pytest.approx(sheet["valid"]["best"])
    assert np.median(valid) == pytest.approx(sheet["valid"]["median"])
    assert valid.min() == pytest.approx(sheet["valid"]["worst"])
    assert int((valid >= valid.max() - 1e-9).sum()) == sheet["valid"]["top_ties"]
    # it discriminates: a wide spread and few cells at the top
    assert sheet["valid"]["best"] - sheet["valid"]["median"] > 10 and sheet["valid"]["top_ties"] <= 5
    if "share_within_noise_of_best" in sheet["valid"]:  # a table with the seed-noise model (>= 3 seeds)
        runs = frame[[f"{ds}_valid_seed{s}" for s in seeds]].to_numpy()
        noise = np.median(runs.std(axis=1, ddof=1)) / np.sqrt(len(seeds))
        assert noise == pytest.approx(sheet["valid"]["table_noise_std"])
        within = np.mean(valid >= valid.max() - noise)
        assert within == pytest.approx(sheet["valid"]["share_within_noise_of_best"]) and within <= 0.01


def test_retrained_cells_match_the_table_within_seed_noise(table: BenchmarkTable, sheet: dict,
                                                           protocol: TrainProtocol):
    """The best cell, the median cell and the worst one, retrained with the committed protocol and seeds."""
    ds = protocol.dataset
    data = load_dataset(protocol.dataset, protocol.split_seed)
    frame = table.frame.drop_duplicates("unique_id").sort_values(f"{ds}_valid")
    picks = [int(frame["index"].iloc[-1]), int(frame["index"].iloc[len(frame) // 2]), int(frame["index"].iloc[0])]
    tolerance = sheet["valid"]["seed_abs_diff_p95"]
    cells = all_cells()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the builder trains (one thread per worker)
    try:
        for index in picks:
            for seed in protocol.seeds[:2]:
                result = train_cell(cells[index], protocol, data, seed=seed)
                stored = table.query(index, f"{ds}_valid_seed{seed}")
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
    assert saved["metric"] == BenchmarkTable.load(EMBEDDED).default_metric("valid")
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
