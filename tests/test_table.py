"""BenchmarkTable: Parquet round trip, checksum, queries, and its errors, on the real NAS-Bench-201 tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from lso.bench import BenchmarkTable, TableMeta
from lso.cli.main import main
from lso.errors import ArchStringError, BenchmarkFileError, MetricError
from lso.space import Cell, cell_from_index

BEST_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_parquet_round_trip_keeps_data_and_meta(cifar10_table, tmp_path) -> None:
    meta = TableMeta(source="test", dataset="cifar10", fidelity="200 epochs", extra={"note": "x"})
    table = BenchmarkTable.from_frame(cifar10_table.frame.drop(columns=["unique_id"]), meta)
    path = table.save(tmp_path / "t.parquet")
    back = BenchmarkTable.load(path)
    pd.testing.assert_frame_equal(back.frame, table.frame)
    assert back.meta == table.meta
    assert back.meta.fidelity == "200 epochs" and back.meta.extra == {"note": "x"}
    assert back.meta.checksum == cifar10_table.meta.checksum  # the checksum covers data, not provenance


def test_checksum_detects_modification(test200_table, tmp_path) -> None:
    path = test200_table.save(tmp_path / "t.parquet")
    arrow = pq.read_table(path)
    frame = arrow.to_pandas()
    frame.loc[10, "cifar10_test"] += 0.01  # one value, metadata (with the old checksum) kept
    import pyarrow as pa

    tampered = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(arrow.schema.metadata)
    pq.write_table(tampered, path)
    with pytest.raises(BenchmarkFileError, match="fails its checksum"):
        BenchmarkTable.load(path)


def test_query_by_cell_index_and_string(test200_table) -> None:
    cell = Cell.from_string(BEST_CELL)
    by_string = test200_table.query(BEST_CELL, "cifar10_test")
    assert by_string == test200_table.query(cell, "cifar10_test") == test200_table.query(6111, "cifar10_test")
    assert by_string == pytest.approx(94.3733)
    row = test200_table.row(6111)
    assert set(row) == {"cifar10_test", "cifar100_test", "imagenet16_test"}
    assert test200_table.best("cifar10_test") == (cell, pytest.approx(94.3733))
    assert cell_from_index(6111) == cell


def test_best_values_and_top(test200_table, cifar10_table) -> None:
    assert test200_table.best("cifar100_test")[1] == pytest.approx(73.5133)
    assert test200_table.best("imagenet16_test")[1] == pytest.approx(47.3111)
    best_valid, value = cifar10_table.best("cifar10_valid")
    assert value == pytest.approx(91.6067)
    assert cifar10_table.query(best_valid, "cifar10_test") == pytest.approx(94.3733)  # the standard protocol
    top = test200_table.top("cifar10_test", 5)
    assert len(top) == 5 and top["cifar10_test"].is_monotonic_decreasing
    assert top["index"].iloc[0] == 6111


def test_query_errors(test200_table) -> None:
    with pytest.raises(MetricError, match="cifar10_valid.*cifar10_test"):
        test200_table.query(0, "cifar10_valid")
    with pytest.raises(ArchStringError, match="unknown operation"):
        test200_table.query("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "cifar10_test")
    with pytest.raises(ArchStringError, match="out of range"):
        test200_table.query(20_000, "cifar10_test")


def test_partial_table(test200_table) -> None:
    frame = test200_table.frame.iloc[[5, 17, 4000]].drop(columns=["unique_id"])
    part = BenchmarkTable.from_frame(frame)
    assert len(part) == 3 and not part.is_complete
    assert list(part.indices()) == sorted(frame["index"])
    with pytest.raises(MetricError, match="not in this table"):
        part.row(6111)


def _csv(tmp_path, frame: pd.DataFrame, name: str = "t.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_bad_tables(test200_table, tmp_path) -> None:
    frame = test200_table.frame.drop(columns=["unique_id"]).head(50)
    with pytest.raises(BenchmarkFileError, match="missing column.*arch"):
        BenchmarkTable.load(_csv(tmp_path, frame.rename(columns={"arch": "architecture"})))
    nan = frame.copy()
    nan.loc[3, "cifar10_test"] = np.nan
    with pytest.raises(BenchmarkFileError, match="'cifar10_test' has 1 NaN"):
        BenchmarkTable.load(_csv(tmp_path, nan))
    assert len(BenchmarkTable.load(_csv(tmp_path, nan), allow_nan=True)) == 50
    bad_arch = frame.copy()
    bad_arch.loc[2, "arch"] = bad_arch.loc[2, "arch"].replace("~0|", "~0", 1)
    with pytest.raises(BenchmarkFileError, match="row 2"):
        BenchmarkTable.load(_csv(tmp_path, bad_arch))
    shifted = frame.copy()
    shifted["index"] = shifted["index"] + 1
    with pytest.raises(BenchmarkFileError, match="does not follow the NAS-Bench-201 order"):
        BenchmarkTable.load(_csv(tmp_path, shifted))
    text = frame.copy().astype({"cifar100_test": object})
    text.loc[1, "cifar100_test"] = "high"
    with pytest.raises(BenchmarkFileError, match="'cifar100_test' is not numeric"):
        BenchmarkTable.load(_csv(tmp_path, text))


def test_corrupt_parquet(test200_table, tmp_path) -> None:
    path = test200_table.save(tmp_path / "t.parquet")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BenchmarkFileError, match="truncated or corrupt"):
        BenchmarkTable.load(path)
    with pytest.raises(BenchmarkFileError, match="not found"):
        BenchmarkTable.load(tmp_path / "nope.parquet")


def test_cli_info_reports_the_known_optima(nb201_dir, capsys) -> None:
    """`lso bench info ../shared/benchmarks/nb201/nb201_test200.csv --json`: the issue's must-show figures."""
    with pytest.raises(SystemExit) as done:
        main(["bench", "info", str(nb201_dir / "nb201_test200.csv"), "--json"])
    assert done.value.code == 0
    info = json.loads(capsys.readouterr().out)
    assert info["cells"] == 15_625 and info["unique"] == 6_466 and info["complete"]
    assert info["metrics"]["cifar10_test"]["best"] == pytest.approx(94.3733)
    assert info["metrics"]["cifar100_test"]["best"] == pytest.approx(73.5133)
    assert info["metrics"]["imagenet16_test"]["best"] == pytest.approx(47.3111)
    assert info["metrics"]["cifar10_test"]["arch"] == BEST_CELL


def test_default_metrics_come_from_the_table(test200_table, cifar10_table) -> None:
    assert cifar10_table.default_metric("valid") == "cifar10_valid"
    assert cifar10_table.default_metric("test") == "cifar10_test"
    with pytest.raises(MetricError, match=r"no \*_valid metric.*cifar100_test"):
        test200_table.default_metric("valid")
