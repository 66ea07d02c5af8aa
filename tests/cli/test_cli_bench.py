"""`lso bench` through the CLI entry point: output, and one clear line (exit 2, no traceback) for each bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pandas as pd
import pytest
import torch

from cli_runner import run_cli
from lso.bench import BenchmarkTable
from official_files import write_nats_tss, write_nb201_pth

REPO = Path(__file__).resolve().parents[2]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Call ``lso`` in-process; return (exit code, stdout, stderr)."""
    code = run_cli(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    for needle in needles:
        assert needle in " ".join(err.split()), (needle, err)


@pytest.fixture(scope="module")
def pth(tmp_path_factory) -> Path:
    return write_nb201_pth(tmp_path_factory.mktemp("cli") / "small.pth", (1, 2, 3), epochs_full=4)


@pytest.fixture(scope="module")
def tss(tmp_path_factory) -> Path:
    return write_nats_tss(tmp_path_factory.mktemp("cli") / "tss", (5, 6), epochs_full=4)


def test_info_json_must_show(nb201_dir, capsys) -> None:
    code, out, _ = run(capsys, "bench", "info", str(nb201_dir / "nb201_test200.csv"), "--json")
    info = json.loads(out)
    assert code == 0
    assert (info["cells"], info["unique"]) == (15_625, 6_466)
    best = {m: v["best"] for m, v in info["metrics"].items()}
    assert best == {"cifar10_test": 94.3733, "cifar100_test": 73.5133, "imagenet16_test": 47.3111}


def test_info_human(nb201_dir, capsys) -> None:
    code, out, _ = run(capsys, "bench", "info", str(nb201_dir / "nb201_cifar10.csv"))
    assert code == 0
    assert "15,625 cells (6,466 unique)" in out and "91.607" in out and "94.373" in out  # percent: 3 decimals


def test_top(nb201_dir, capsys) -> None:
    code, out, _ = run(capsys, "bench", "top", str(nb201_dir / "nb201_cifar10.csv"), "--metric", "cifar10_valid", "-k", "3", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 3
    assert rows[0]["index"] == 6111 and rows[0]["cifar10_valid"] == 91.6067 and rows[0]["cifar10_test"] == 94.3733
    assert [r["cifar10_valid"] for r in rows] == sorted((r["cifar10_valid"] for r in rows), reverse=True)
    code, out, _ = run(capsys, "bench", "top", str(nb201_dir / "nb201_test200.csv"), "-m", "imagenet16_test", "-k", "2")
    assert code == 0 and "47.311" in out and "top 2 by imagenet16_test (highest first)" in out


def test_import_each_kind_then_info(pth, tss, nb201_dir, tmp_path, capsys) -> None:
    for kind, src, cells in (("nb201-pth", pth, 3), ("nats-tss", tss, 2), ("csv", nb201_dir / "nb201_epoch12.csv", 15_625)):
        out_file = tmp_path / f"{kind}.parquet"
        code, out, err = run(capsys, "bench", "import", kind, str(src), "--out", str(out_file), "--no-progress")
        assert code == 0, err
        assert f"{cells:,} cells" in out
        code, out, _ = run(capsys, "bench", "info", str(out_file), "--json")
        info = json.loads(out)
        assert info["cells"] == cells and info["meta"]["checksum"]


def test_import_shows_progress(pth, tmp_path, capsys) -> None:
    code, _, err = run(capsys, "bench", "import", "nb201-pth", str(pth), "--out", str(tmp_path / "t.parquet"))
    assert code == 0 and "3/3" in err


def _csv(tmp_path: Path, nb201_dir: Path, name: str, edit) -> Path:
    frame = pd.read_csv(nb201_dir / "nb201_test200.csv").head(30)
    frame = edit(frame)
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_bad_tables_one_line_each(nb201_dir, tmp_path, capsys) -> None:
    def bad_arch(f):
        f.loc[4, "arch"] = "|nor_conv_3x3~0|+|nor_conv_3x3~0|"
        return f

    def bad_op(f):
        f.loc[4, "arch"] = f.loc[4, "arch"].replace("~0|", "~0|", 1).replace(f.loc[4, "arch"].split("~")[0][1:], "conv_7x7", 1)
        return f

    def nan(f):
        f.loc[7, "cifar100_test"] = float("nan")
        return f

    cases = {
        "arch.csv": (bad_arch, ["row 4", "malformed arch string"]),
        "op.csv": (bad_op, ["unknown operation 'conv_7x7'"]),
        "renamed.csv": (lambda f: f.rename(columns={"index": "idx"}), ["missing column(s) index"]),
        "nan.csv": (nan, ["'cifar100_test' has 1 NaN"]),
    }
    for name, (edit, needles) in cases.items():
        path = _csv(tmp_path, nb201_dir, name, edit)
        code, _, err = run(capsys, "bench", "info", str(path))
        assert_one_line_error(code, err, *needles)
    code, _, err = run(capsys, "bench", "top", str(nb201_dir / "nb201_test200.csv"), "--metric", "cifar10_valid")
    assert_one_line_error(code, err, "metric 'cifar10_valid' is not in this table")


def test_corrupt_files_one_line_each(nb201_dir, pth, tmp_path, capsys) -> None:
    truncated_csv = tmp_path / "cut.csv"
    text = (nb201_dir / "nb201_test200.csv").read_text()
    truncated_csv.write_text(text[: len(text) // 2 + 37])  # cut inside a row
    code, _, err = run(capsys, "bench", "info", str(truncated_csv))
    assert_one_line_error(code, err)
    binary_csv = tmp_path / "binary.csv"
    binary_csv.write_bytes(bytes(range(256)) * 20)
    code, _, err = run(capsys, "bench", "info", str(binary_csv))
    assert_one_line_error(code, err)
    parquet = tmp_path / "t.parquet"
    assert run(capsys, "bench", "import", "csv", str(nb201_dir / "nb201_test200.csv"), "--out", str(parquet))[0] == 0
    data = parquet.read_bytes()
    parquet.write_bytes(data[: len(data) - 100])
    code, _, err = run(capsys, "bench", "info", str(parquet))
    assert_one_line_error(code, err, "truncated or corrupt")
    cut_pth = tmp_path / "cut.pth"
    data = pth.read_bytes()
    cut_pth.write_bytes(data[: len(data) // 2])
    code, _, err = run(capsys, "bench", "import", "nb201-pth", str(cut_pth), "--out", str(tmp_path / "x.parquet"))
    assert_one_line_error(code, err, "truncated or corrupt")


def test_failed_imports_leave_the_existing_table_untouched(pth, tss, nb201_dir, tmp_path, capsys) -> None:
    out_file = tmp_path / "benchmarks_data" / "nb201.parquet"
    assert run(capsys, "bench", "import", "nb201-pth", str(pth), "--out", str(out_file), "--no-progress")[0] == 0
    before = out_file.read_bytes()
    model = tmp_path / "model.pth"
    torch.save(OrderedDict(weight=torch.zeros(4)), model)
    not_tss = tmp_path / "not_tss"
    not_tss.mkdir()
    (not_tss / "readme.txt").write_text("hello")
    renamed = _csv(tmp_path, nb201_dir, "renamed.csv", lambda f: f.rename(columns={"cifar10_test": "c10"}).assign(c10="x"))
    cases = [
        (("nb201-pth", model), "not a NAS-Bench-201 benchmark file"),
        (("nb201-pth", tss), "NAS-Bench-201 file not found"),
        (("nats-tss", pth), "not a NATS-Bench tss folder"),
        (("nats-tss", not_tss), "has no meta.pickle.pbz2"),
        (("csv", renamed), "'c10' is not numeric"),
        (("csv", tmp_path / "missing.csv"), "not found"),
    ]
    for (kind, src), needle in cases:
        code, _, err = run(capsys, "bench", "import", kind, str(src), "--out", str(out_file), "--no-progress")
        assert_one_line_error(code, err, needle)
        assert out_file.read_bytes() == before
    assert sorted(p.name for p in out_file.parent.iterdir()) == ["nb201.parquet"]


def test_console_script_exit_status(tmp_path) -> None:
    """The installed `lso` command: no traceback and exit 2 on a bad file."""
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    done = subprocess.run([sys.executable, "-m", "lso.cli.main", "bench", "info", str(bad)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "error:" in done.stderr


# ----- direction and scale -----------------------------------------------------------------------------------------
def _latency_csv(tmp_path: Path, nb201_dir: Path) -> Path:
    """The CIFAR-10 table plus a latency column (params_mb * 10 + 1 ms) and a fraction accuracy column."""
    frame = pd.read_csv(nb201_dir / "nb201_cifar10.csv")
    frame["latency_ms"] = frame["params_mb"] * 10 + 1
    frame["cifar10_acc"] = frame["cifar10_test"] / 100
    path = tmp_path / "lat.csv"
    frame.to_csv(path, index=False)
    return path


def test_info_reports_best_by_direction(nb201_dir, tmp_path, capsys) -> None:
    path = _latency_csv(tmp_path, nb201_dir)
    fastest = pd.read_csv(path)["latency_ms"].min()
    code, out, _ = run(capsys, "bench", "info", str(path), "--json")
    assert code == 0
    metrics = json.loads(out)["metrics"]
    assert metrics["latency_ms"]["best"] == pytest.approx(fastest)  # not the slowest
    assert (metrics["latency_ms"]["direction"], metrics["latency_ms"]["scale"]) == ("min", "raw")
    assert (metrics["params_mb"]["direction"], metrics["cifar10_valid"]["direction"]) == ("min", "max")
    assert (metrics["cifar10_acc"]["scale"], metrics["cifar10_valid"]["scale"]) == ("fraction", "percent")
    code, out, _ = run(capsys, "bench", "info", str(path))
    assert code == 0
    line = next(row for row in out.splitlines() if "latency_ms" in row)
    assert " min " in line and " raw " in line and f"{fastest:.6g}" in line
    line = next(row for row in out.splitlines() if "cifar10_acc" in row)
    assert " max " in line and " fraction " in line and "0.94373" in line  # fraction: 5 decimals


def test_top_sorts_by_direction_and_formats_by_scale(nb201_dir, tmp_path, capsys) -> None:
    path = _latency_csv(tmp_path, nb201_dir)
    code, out, _ = run(capsys, "bench", "top", str(path), "-m", "latency_ms", "-k", "4", "--json")
    rows = json.loads(out)
    assert code == 0 and [r["latency_ms"] for r in rows] == sorted(r["latency_ms"] for r in rows)
    assert rows[0]["latency_ms"] == pytest.approx(pd.read_csv(path)["latency_ms"].min())
    assert [r["index"] for r in rows] == sorted(r["index"] for r in rows)  # all tied: by index
    code, out, _ = run(capsys, "bench", "top", str(path), "-m", "cifar10_acc", "-k", "1")
    assert code == 0 and "top 1 by cifar10_acc (highest first)" in out and "0.94373" in out
    code, out, _ = run(capsys, "bench", "top", str(path), "-m", "latency_ms", "-k", "1")
    assert code == 0 and "(lowest first)" in out


def test_import_stores_direction_and_scale(nb201_dir, tmp_path, capsys) -> None:
    src = _latency_csv(tmp_path, nb201_dir)
    out_file = tmp_path / "lat.parquet"
    code, out, err = run(capsys, "bench", "import", "csv", str(src), "--out", str(out_file), "--direction",
                         "latency_ms=max", "--direction", "cifar10_valid=min", "--scale", "cifar10_acc=percent")
    assert code == 0, err
    assert "latency_ms max (raw)" in " ".join(out.split())
    code, out, _ = run(capsys, "bench", "info", str(out_file), "--json")
    info = json.loads(out)
    assert info["meta"]["metric_info"]["latency_ms"] == {"direction": "max", "scale": "raw"}
    assert info["meta"]["metric_info"]["cifar10_valid"] == {"direction": "min", "scale": "percent"}
    assert info["meta"]["metric_info"]["cifar10_acc"] == {"direction": "max", "scale": "percent"}
    assert info["meta"]["metric_info"]["params_mb"] == {"direction": "min", "scale": "raw"}  # inferred, stored
    assert info["metrics"]["latency_ms"]["best"] == pytest.approx(pd.read_csv(src)["latency_ms"].max())
    assert info["meta"]["checksum"] == BenchmarkTable.load(src).meta.checksum


def test_bad_overrides_one_line_each(nb201_dir, tmp_path, capsys) -> None:
    src = nb201_dir / "nb201_cifar10.csv"
    out_file = tmp_path / "t.parquet"
    assert run(capsys, "bench", "import", "csv", str(src), "--out", str(out_file))[0] == 0
    before = out_file.read_bytes()
    cases = [
        (("--direction", "params_mb"), ["--direction expects METRIC=max|min, got 'params_mb'"]),
        (("--direction", "params_mb=smaller"), ["'smaller' is not one of max, min"]),
        (("--scale", "cifar10_valid=ratio"), ["'ratio' is not one of percent, fraction, raw"]),
        (("--direction", "latncy_ms=min"), ["metric 'latncy_ms' is not in this table", "params_mb, cifar10_valid"]),
    ]
    for extra, needles in cases:
        code, _, err = run(capsys, "bench", "import", "csv", str(src), "--out", str(out_file), *extra)
        assert_one_line_error(code, err, *needles)
        assert out_file.read_bytes() == before


def test_infinite_values_one_line(nb201_dir, tmp_path, capsys) -> None:
    def inf(f):
        f.loc[12, "cifar10_test"] = float("inf")
        return f

    path = _csv(tmp_path, nb201_dir, "inf.csv", inf)
    code, _, err = run(capsys, "bench", "info", str(path))
    assert_one_line_error(code, err, "'cifar10_test' has 1 infinite value(s) (first at index 12)")
    code, _, err = run(capsys, "bench", "import", "csv", str(path), "--out", str(tmp_path / "inf.parquet"))
    assert_one_line_error(code, err, "infinite")
    assert not (tmp_path / "inf.parquet").exists()
