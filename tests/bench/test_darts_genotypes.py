"""The DARTS genotype importer (CSV and JSON) and its CLI kind ``darts-csv``: figures kept, bad rows named."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from cli_runner import run_cli
from lso.bench import ImportOptions, SpaceTable, import_table, read_darts_genotypes
from lso.errors import BenchmarkFileError
from lso.spaces import DartsGenotype, get_space

DARTS = get_space("darts")
DARTS_V2 = (  # the genotype DARTS (second order) published, as its code prints it
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)


def genotype_rows(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = [{"genotype": DARTS_V2, "cifar10_valid": 97.0, "train_time": 3600.0}]
    for g in DARTS.sample(n - 1, rng):
        rows.append({"genotype": g.to_string(), "cifar10_valid": float(rng.uniform(90, 95)),
                     "train_time": float(rng.uniform(1000, 5000))})
    return rows


def write_csv(path: Path, rows: list[dict], key: str = "genotype") -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[key, *[k for k in rows[0] if k != "genotype"]])
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row["genotype"], **{k: v for k, v in row.items() if k != "genotype"}})
    return path


@pytest.mark.parametrize("suffix,key", [(".csv", "genotype"), (".csv", "arch"), (".json", "genotype")])
def test_csv_and_json_keep_every_figure(tmp_path, suffix, key) -> None:
    rows = genotype_rows(12, 3)
    if suffix == ".csv":
        path = write_csv(tmp_path / f"g{suffix}", rows, key)
    else:
        path = tmp_path / "g.json"
        path.write_text(json.dumps(rows))
    table = read_darts_genotypes(path, fidelity="100 epochs")
    assert len(table) == 12 and table.space.name == "darts" and table.metrics == ("cifar10_valid", "train_time")
    assert table.meta.dataset == "cifar10" and table.meta.fidelity == "100 epochs"
    assert table.meta.source == f"darts-csv:{path.name}"
    for row in rows:
        assert table.value(row["genotype"], "cifar10_valid") == pytest.approx(row["cifar10_valid"])
        assert table.value(DartsGenotype.from_string(row["genotype"]), "train_time") == pytest.approx(row["train_time"])
    assert table.best("cifar10_valid") == (DartsGenotype.from_string(DARTS_V2).to_string(), 97.0)
    assert table.metric_info("train_time").direction == "min"


def _error(path: Path, **kwargs) -> str:
    with pytest.raises(BenchmarkFileError) as info:
        read_darts_genotypes(path, **kwargs)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_malformed_rows_are_named(tmp_path) -> None:
    rows = genotype_rows(5, 1)
    bad = [dict(r) for r in rows]
    bad[2]["genotype"] = bad[2]["genotype"].replace("normal_concat", "normal_cat")
    text = _error(write_csv(tmp_path / "field.csv", bad))
    assert text.startswith("field.csv: row 3: malformed DARTS genotype") and "normal_cat" in text
    bad = [dict(r) for r in rows]
    bad[1]["genotype"] = bad[1]["genotype"].replace("sep_conv_3x3", "conv_7x7", 1)
    assert "row 2: unknown DARTS operation 'conv_7x7'" in _error(write_csv(tmp_path / "op.csv", bad))
    bad = [dict(r) for r in rows]
    bad[3]["genotype"] = DARTS_V2.replace("('sep_conv_3x3', 0), ('sep_conv_3x3', 1)", "('sep_conv_3x3', 0), ('sep_conv_3x3', 0)", 1)
    assert "row 4: " in _error(write_csv(tmp_path / "same.csv", bad)) and "not a valid cell of the darts space" in _error(
        tmp_path / "same.csv")
    bad = [dict(r) for r in rows]
    bad[4]["cifar10_valid"] = "n/a"
    assert "metric column 'cifar10_valid' is not numeric: row 5" in _error(write_csv(tmp_path / "num.csv", bad))
    bad = [dict(r) for r in rows]
    bad[1]["cifar10_valid"] = ""
    assert "row 2 (Genotype(" in _error(write_csv(tmp_path / "empty.csv", bad))
    (tmp_path / "nokey.csv").write_text("spec,acc\nx,1\n")
    assert "no 'genotype' (or 'arch') column; it has: spec, acc" in _error(tmp_path / "nokey.csv")
    (tmp_path / "both.csv").write_text("genotype,arch,acc\nx,y,1\n")
    assert "both 'genotype' and 'arch'" in _error(tmp_path / "both.csv")
    (tmp_path / "rows.csv").write_text("genotype,acc\n")
    assert "no rows" in _error(tmp_path / "rows.csv")
    assert "must be .csv or .json" in _error(write_csv(tmp_path / "g.txt", rows))
    assert "not found" in _error(tmp_path / "missing.csv")


def test_malformed_json_is_named(tmp_path) -> None:
    rows = genotype_rows(3, 2)
    cases = {
        "text.json": "[{",
        "object.json": json.dumps({"rows": rows}),
        "item.json": json.dumps([rows[0], 5]),
        "keys.json": json.dumps([rows[0], {**rows[1], "extra": 1.0}]),
        "value.json": json.dumps([rows[0], {**rows[1], "cifar10_valid": "high"}]),
        "null.json": json.dumps([rows[0], {**rows[1], "cifar10_valid": None}]),
    }
    expected = {"text.json": "cannot read JSON", "object.json": "expected a non-empty JSON list",
                "item.json": "row 2 is int, not an object", "keys.json": "row 2 has keys",
                "value.json": "row 2: metric 'cifar10_valid' is \"high\", not a number",
                "null.json": "row 2: metric 'cifar10_valid' is null, not a number"}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        assert expected[name] in _error(tmp_path / name), name


def test_duplicates_error_or_mean(tmp_path) -> None:
    rows = genotype_rows(4, 5)
    g = DartsGenotype.from_string(rows[1]["genotype"])
    swapped = DartsGenotype(g.normal, tuple(g.reduce[1::-1]) + g.reduce[2:])  # same cell, inputs listed the other way
    path = write_csv(tmp_path / "dup.csv", [*rows, {**rows[1], "genotype": swapped.to_string(), "cifar10_valid": 50.0}])
    assert "rows 2 and 5 are the same cell" in _error(path)
    table = import_table("darts-csv", path, ImportOptions(duplicates="mean"))
    assert isinstance(table, SpaceTable) and len(table) == 4
    assert table.value(g, "cifar10_valid") == pytest.approx((rows[1]["cifar10_valid"] + 50.0) / 2)
    assert "5 rows averaged into 4 cells" in table.meta.extra["duplicates"]


def test_cli_import_info_and_help(tmp_path, capsys) -> None:
    path = write_csv(tmp_path / "nb301.csv", genotype_rows(6, 8))
    out = tmp_path / "darts.parquet"
    assert run_cli(["bench", "import", "darts-csv", str(path), "--out", str(out), "--fidelity", "100 epochs",
                    "--direction", "train_time=max", "--no-progress"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "6 cells of the darts space" in printed and "train_time max (raw)" in printed
    assert SpaceTable.load(out, space="darts").metric_info("train_time").direction == "max"
    assert run_cli(["bench", "info", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "6 cells of the darts space" in printed and "97.000" in printed
    assert run_cli(["bench", "import", "--help"]) == 0
    helptext = " ".join(capsys.readouterr().out.split())
    assert "nb101-tfrecord" in helptext and "darts-csv" in helptext and "--duplicates" in helptext
    dup = write_csv(tmp_path / "dup.csv", [*genotype_rows(2, 8), genotype_rows(2, 8)[1]])
    assert run_cli(["bench", "import", "darts-csv", str(dup), "--out", str(tmp_path / "d.parquet"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rows 2 and 3 are the same cell" in err[0]
    assert run_cli(["bench", "import", "darts-csv", str(dup), "--out", str(tmp_path / "d.parquet"), "--duplicates",
                    "mean", "--no-progress"]) == 0
