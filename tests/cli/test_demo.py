"""`make run`'s headless pipeline (`lso demo`) end to end, with tiny settings."""

from __future__ import annotations

import json

from cli_runner import run_cli as run


def test_demo_trains_then_searches_and_reuses_the_run(nb201_dir, tmp_path, capsys):
    argv = ["demo", "--bench", str(nb201_dir / "nb201_cifar10.csv"), "--out", str(tmp_path), "--budget", "25",
            "--epochs", "1", "--seed", "3"]
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert "15625 cells, 6466 unique" in out
    for method in ("crlso", "rea"):
        result = json.loads((tmp_path / f"{method}_s3.json").read_text())
        assert len(result["queries"]) == 25
        assert result["best"]["signal"] == max(q["signal"] for q in result["queries"])
    trained = (tmp_path / "run_s3" / "gvae.safetensors").stat().st_mtime_ns
    assert run(argv) == 0  # a finished run is reused, not retrained
    assert (tmp_path / "run_s3" / "gvae.safetensors").stat().st_mtime_ns == trained


def test_demo_without_any_table_says_what_to_do(tmp_path, capsys):
    assert run(["demo", "--bench", str(tmp_path / "missing.parquet"), "--out", str(tmp_path)]) == 2
    assert "benchmark table not found" in capsys.readouterr().err
