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


# ----- direction, scale, isomorphism classes, infinities -------------------------------------------------------
from lso.bench import MetricInfo, infer_metric_info, parse_overrides  # noqa: E402
from lso.errors import LsoError  # noqa: E402
from lso.space import unique_ids  # noqa: E402


def _with_latency(table: BenchmarkTable) -> BenchmarkTable:
    """The CIFAR-10 table plus a latency-like column: larger networks are slower (params_mb * 10 + 1 ms)."""
    frame = table.frame.drop(columns=["unique_id"])
    frame["latency_ms"] = frame["params_mb"] * 10 + 1
    return BenchmarkTable.from_frame(frame, table.meta)


def test_latency_like_columns_are_minimised(cifar10_table) -> None:
    table = _with_latency(cifar10_table)
    latency = table.values("latency_ms")
    info = table.metric_info("latency_ms")
    assert (info.direction, info.scale, info.sign) == ("min", "raw", -1.0)
    cell, value = table.best("latency_ms")
    assert value == pytest.approx(latency.min()) and value < np.median(latency)
    assert cell == cell_from_index(int(table.indices()[np.argmin(latency)]))  # first index among the fastest
    top = table.top("latency_ms", 5)
    assert top["latency_ms"].is_monotonic_increasing and top["latency_ms"].iloc[0] == pytest.approx(latency.min())
    assert top["index"].iloc[0] == table.indices()[np.argmin(latency)]
    assert table.best("params_mb")[1] == pytest.approx(cifar10_table.values("params_mb").min())
    summary = table.summary()["metrics"]
    assert summary["latency_ms"]["best"] == pytest.approx(latency.min())
    assert (summary["latency_ms"]["direction"], summary["latency_ms"]["scale"]) == ("min", "raw")
    assert (summary["cifar10_valid"]["direction"], summary["cifar10_valid"]["scale"]) == ("max", "percent")
    assert summary["cifar10_valid"]["best"] == pytest.approx(91.6067)  # accuracies still maximised


def test_inference_rules() -> None:
    acc = np.array([91.2, 85.0, np.nan])
    assert infer_metric_info("cifar10_valid", acc) == MetricInfo("cifar10_valid", "max", "percent")
    assert infer_metric_info("cifar10_valid", acc / 100) == MetricInfo("cifar10_valid", "max", "fraction")
    for name in ("imagenet16_latency_ms", "cifar10_params_mb", "cifar10_flops_m", "valid_loss", "train_all_time",
                 "Energy_mJ", "model_size_mb", "peak_memory", "macs", "cifar10_ERR"):
        assert infer_metric_info(name, np.array([3.0, 250.0])).direction == "min", name
    assert infer_metric_info("valid_loss", np.array([0.3, 0.5])).scale == "raw"  # a loss is no fraction
    assert infer_metric_info("top1_error", np.array([0.05, 0.3])).scale == "fraction"
    assert infer_metric_info("top1_error", np.array([5.0, 30.0])).scale == "percent"
    assert infer_metric_info("timeless_acc", acc).direction == "max"  # a piece, not a substring
    assert infer_metric_info("cifar10valid_test", acc).direction == "max"


def test_metric_info_formats_and_compares() -> None:
    frac, pct, raw = (MetricInfo("a", "max", "fraction"), MetricInfo("b", "max", "percent"),
                      MetricInfo("lat", "min", "raw"))
    assert frac.format(0.9286612) == "0.92866" and pct.format(92.86612) == "92.866"
    assert raw.format(12.3456789) == "12.3457" and raw.format(float("nan")) == "nan"
    assert (pct.unit, frac.unit, raw.unit) == ("%", "", "")
    assert frac.better(0.9, 0.8) and not frac.better(0.8, 0.8) and raw.better(3.0, 4.0) and not raw.better(4.0, 3.0)
    assert pct.reaches(94.3, 94.3) and not pct.reaches(94.2, 94.3) and raw.reaches(9.0, 10.0) and not raw.reaches(11.0, 10.0)
    with pytest.raises(LsoError, match="direction must be one of max, min"):
        MetricInfo("a", "up", "raw")  # type: ignore[arg-type]


def test_fraction_metric_prints_five_decimals(cifar10_table) -> None:
    frame = cifar10_table.frame.drop(columns=["unique_id"])
    frame["cifar10_valid"] = frame["cifar10_valid"] / 100
    table = BenchmarkTable.from_frame(frame, cifar10_table.meta)
    info = table.metric_info("cifar10_valid")
    assert info.scale == "fraction"
    assert info.format(table.best("cifar10_valid")[1]) == "0.91607"


def test_parse_overrides() -> None:
    assert parse_overrides(["latency_ms=min", "acc = MAX"], "direction") == {"latency_ms": "min", "acc": "max"}
    assert parse_overrides(["acc=fraction"], "scale") == {"acc": "fraction"}
    with pytest.raises(LsoError, match="expects METRIC=max|min, got 'latency_ms'"):
        parse_overrides(["latency_ms"], "direction")
    with pytest.raises(LsoError, match="'lowest' is not one of max, min"):
        parse_overrides(["latency_ms=lowest"], "direction")
    with pytest.raises(LsoError, match="not one of percent, fraction, raw"):
        parse_overrides(["acc=ratio"], "scale")
    with pytest.raises(LsoError, match="two values"):
        parse_overrides(["a=min", "a=max"], "direction")


def test_inferred_and_overridden_info_survive_save_and_load(cifar10_table, tmp_path) -> None:
    table = _with_latency(cifar10_table)
    inferred = table.with_metric_info()
    assert inferred.meta.metric_info == {
        "params_mb": {"direction": "min", "scale": "raw"},
        "cifar10_valid": {"direction": "max", "scale": "percent"},
        "cifar10_test": {"direction": "max", "scale": "percent"},
        "cifar10valid_test": {"direction": "max", "scale": "percent"},
        "latency_ms": {"direction": "min", "scale": "raw"},
    }
    back = BenchmarkTable.load(inferred.save(tmp_path / "inferred.parquet"))
    assert back.meta == inferred.meta
    overridden = table.with_metric_info({"latency_ms": "max"}, {"cifar10_test": "raw"})
    back = BenchmarkTable.load(overridden.save(tmp_path / "overridden.parquet"))
    assert back.metric_info("latency_ms") == MetricInfo("latency_ms", "max", "raw")
    assert back.metric_info("cifar10_test") == MetricInfo("cifar10_test", "max", "raw")
    assert back.best("latency_ms")[1] == pytest.approx(table.values("latency_ms").max())  # the stored direction rules
    assert back.subset(["latency_ms"]).meta.metric_info == {"latency_ms": {"direction": "max", "scale": "raw"}}
    with pytest.raises(MetricError, match="'latncy_ms' is not in this table.*latency_ms"):
        table.with_metric_info({"latncy_ms": "min"})
    with pytest.raises(LsoError, match="direction must be one of max, min"):
        table.with_metric_info({"latency_ms": "down"})


def test_old_files_without_metric_info_still_load(test200_table, tmp_path) -> None:
    path = test200_table.save(tmp_path / "old.parquet")
    arrow = pq.read_table(path)
    meta = json.loads(arrow.schema.metadata[b"lso.table"])
    del meta["metric_info"]  # as written before tables stored it
    pq.write_table(arrow.replace_schema_metadata({**arrow.schema.metadata, b"lso.table": json.dumps(meta).encode()}), path)
    back = BenchmarkTable.load(path)
    assert back.meta.metric_info == {} and back.meta.checksum == test200_table.meta.checksum
    assert back.metric_info("cifar10_test") == MetricInfo("cifar10_test", "max", "percent")


def test_with_metric_info_keeps_the_checksum(cifar10_table) -> None:
    before = cifar10_table.meta.checksum
    table = cifar10_table.with_metric_info({"params_mb": "max"}, {"cifar10_valid": "fraction"})
    assert table.meta.checksum == before == BenchmarkTable.from_frame(cifar10_table.frame).meta.checksum
    assert table.meta.metric_info["params_mb"] == {"direction": "max", "scale": "raw"}
    pd.testing.assert_frame_equal(table.frame, cifar10_table.frame)


def test_class_keyed_table_resolves_twins(cifar10_table) -> None:
    frame = cifar10_table.frame.drop_duplicates("unique_id").drop(columns=["unique_id"])  # one row per class
    keyed = BenchmarkTable.from_frame(frame)
    assert len(keyed) == 6_466 and keyed.keyed_by_class
    assert not cifar10_table.keyed_by_class
    ids = np.asarray(unique_ids())
    twin = int(np.nonzero(ids != np.arange(len(ids)))[0][0])  # an index whose class has a smaller index
    assert twin not in set(keyed.indices())
    dense = keyed.dense_values("cifar10_valid")
    assert dense.shape == (15_625,) and not np.isnan(dense).any()
    assert dense[twin] == keyed.query(int(ids[twin]), "cifar10_valid")
    assert dense[twin] == cifar10_table.query(int(ids[twin]), "cifar10_valid")
    assert np.array_equal(dense[keyed.indices()], keyed.values("cifar10_valid"))


def test_dense_values_of_a_partial_table(cifar10_table) -> None:
    ids = np.asarray(unique_ids())
    twins = np.nonzero(ids == np.bincount(ids).argmax())[0]  # the largest isomorphism class
    assert len(twins) >= 3 and 0 not in twins
    keep = [int(twins[-1]), 0]  # a class's largest index only, and index 0
    part = BenchmarkTable.from_frame(cifar10_table.frame.set_index("index").loc[keep].reset_index().drop(columns=["unique_id"]))
    dense = part.dense_values("cifar10_test")
    assert dense[twins[0]] == dense[twins[-1]] == cifar10_table.query(int(twins[-1]), "cifar10_test")
    present = {int(i) for i in twins} | {i for i in range(15_625) if ids[i] == ids[0]}
    assert np.isnan(np.delete(dense, sorted(present))).all()
    assert part.keyed_by_class  # two rows of two classes


def test_ambiguous_default_metric_lists_the_choices(nb201_dir) -> None:
    table = BenchmarkTable.load(nb201_dir / "nb201_epoch12.csv")
    with pytest.raises(MetricError, match=r"several \*_valid metrics: cifar10_valid, cifar100_valid, "
                                          r"imagenet16_valid; name one with --signal/--metric"):
        table.default_metric("valid")
    with pytest.raises(MetricError, match=r"several \*_test metrics: cifar10_test, cifar100_test, imagenet16_test"):
        table.default_metric("test")
    own = BenchmarkTable.from_frame(table.frame, TableMeta(dataset="cifar100"))
    assert own.default_metric("valid") == "cifar100_valid"  # the dataset's own wins
    only = table.subset(["cifar100_valid", "imagenet16_test"])
    assert (only.default_metric("valid"), only.default_metric("test")) == ("cifar100_valid", "imagenet16_test")


def test_infinite_values_are_rejected_even_with_allow_nan(test200_table, tmp_path) -> None:
    frame = test200_table.frame.drop(columns=["unique_id"]).head(50)
    for bad in (np.inf, -np.inf):
        inf = frame.copy()
        inf.loc[[6, 9], "imagenet16_test"] = bad
        for allow_nan in (False, True):
            with pytest.raises(BenchmarkFileError, match="'imagenet16_test' has 2 infinite value.*first at index 6"):
                BenchmarkTable.from_frame(inf, allow_nan=allow_nan)
            with pytest.raises(BenchmarkFileError, match="'imagenet16_test' has 2 infinite"):
                BenchmarkTable.load(_csv(tmp_path, inf), allow_nan=allow_nan)
