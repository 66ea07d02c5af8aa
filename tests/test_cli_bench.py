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

from cli import run_cli
from official_files import write_nats_tss, write_nb201_pth

REPO = Path(__file__).resolve().parents[1]


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
    assert "15,625 cells (6,466 unique)" in out and "91.6067" in out and "94.3733" in out


def test_top(nb201_dir, capsys) -> None:
    code, out, _ = run(capsys, "bench", "top", str(nb201_dir / "nb201_cifar10.csv"), "--metric", "cifar10_valid", "-k", "3", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 3
    assert rows[0]["index"] == 6111 and rows[0]["cifar10_valid"] == 91.6067 and rows[0]["cifar10_test"] == 94.3733
    assert [r["cifar10_valid"] for r in rows] == sorted((r["cifar10_valid"] for r in rows), reverse=True)
    code, out, _ = run(capsys, "bench", "top", str(nb201_dir / "nb201_test200.csv"), "-m", "imagenet16_test", "-k", "2")
    assert code == 0 and "47.3111" in out and "top 2 by imagenet16_test" in out


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
