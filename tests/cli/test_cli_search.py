"""`lso search` and `lso search compare` through the real entry point (errors: one line, exit status 2)."""

from __future__ import annotations

import json

import pytest

from cli_runner import run_cli


def test_search_writes_the_result_file(nb201_dir, tmp_path, capsys):
    out = tmp_path / "r.json"
    argv = ["search", "--bench", str(nb201_dir / "nb201_cifar10.csv"), "--signal", "cifar10_valid",
            "--report", "cifar10_test", "--method", "rea", "--budget", "60", "--seed", "4", "--out", str(out)]
    assert run_cli(argv) == 0
    data = json.loads(out.read_text())
    assert len(data["queries"]) == 60
    assert all(set(q) == {"arch", "signal", "report", "source"} for q in data["queries"])
    best = max(data["queries"], key=lambda q: q["signal"])
    assert data["best"] == {k: best[k] for k in ("arch", "signal", "report")}
    assert {q["source"] for q in data["queries"]} == {"initial", "mutation"} and data["stopped"] is None
    assert data["sources"] == {"initial": 20, "mutation": 40}
    assert data["config"]["method"] == "rea" and data["config"]["seed"] == 4 and data["config"]["budget"] == 60
    assert data["config"]["params"] == {"population_size": 20, "sample_size": 5}
    assert "rea seed 4: 60 of 60 queries (initial 20, mutation 40)" in capsys.readouterr().out
    out2 = tmp_path / "r2.json"
    assert run_cli(argv[:-1] + [str(out2)]) == 0
    assert json.loads(out2.read_text())["queries"] == data["queries"]  # same seed, same run


def test_table_missing_the_signal_metric_is_a_clear_error(nb201_dir, tmp_path, capsys):
    argv = ["search", "--bench", str(nb201_dir / "nb201_test200.csv"), "--method", "random", "--budget", "10",
            "--out", str(tmp_path / "r.json")]
    assert run_cli(argv + ["--signal", "cifar10_valid"]) == 2
    err = capsys.readouterr().err
    assert "signal metric 'cifar10_valid' is not in the benchmark table" in err and "cifar100_test" in err
    assert "Traceback" not in err and not (tmp_path / "r.json").exists()
    # without --signal the default comes from the table, which has no *_valid column to offer
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert "no *_valid metric to default to" in err and "--signal" in err and "cifar100_test" in err
    assert "Traceback" not in err and not (tmp_path / "r.json").exists()


def test_latent_method_without_run_is_a_clear_error(nb201_dir, tmp_path, capsys):
    argv = ["search", "--bench", str(nb201_dir / "nb201_cifar10.csv"), "--method", "crlso", "--budget", "10",
            "--out", str(tmp_path / "r.json")]
    assert run_cli(argv) == 2
    assert "give --run RUN_DIR" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_unknown_method_is_a_clear_error(nb201_dir, tmp_path, capsys):
    argv = ["search", "--bench", str(nb201_dir / "nb201_cifar10.csv"), "--method", "bogus", "--out",
            str(tmp_path / "r.json")]
    assert run_cli(argv) == 2
    assert "unknown search method 'bogus'; available: bananas, crlso, ls, random, rea, surf" in capsys.readouterr().err


def test_missing_options_are_named(tmp_path, capsys):
    assert run_cli(["search", "--method", "rea"]) == 2
    assert "needs --bench, --out" in capsys.readouterr().err


def test_compare_writes_table_curves_and_plot(nb201_dir, tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["search", "compare", "--bench", str(nb201_dir / "nb201_test200.csv"), "--signal", "cifar100_test",
            "--report", "cifar100_test", "--methods", "random,rea", "--seeds", "2", "--budgets", "20,40",
            "--target", "73", "--out", str(out), "--no-progress"]
    assert run_cli(argv) == 0
    printed = capsys.readouterr().out
    assert "ORACLE PROTOCOL" in printed and "| rea |" in printed and "cifar100_test @40" in printed
    for name in ("comparison.csv", "comparison.md", "curves.csv", "best_so_far.html", "comparison.json"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "comparison.json").read_text())
    assert summary["oracle_protocol"] is True and summary["optimum"]["report"] == pytest.approx(73.5133)
    import pandas as pd

    curves = pd.read_csv(out / "curves.csv")
    assert len(curves) == 2 * 2 * 40 and (curves.groupby(["method", "seed"]).best_signal.diff().dropna() >= 0).all()


def test_compare_defaults_to_the_tables_own_metrics_and_a_top_1pct_target(tmp_path, capsys):
    from lso.bench import BenchmarkTable
    from lso.bench.default import EMBEDDED

    table = BenchmarkTable.load(EMBEDDED)
    # the top 1% of unique cells, unrounded (a rounded target let runs below it count as reaching it)
    valid, test = table.default_metric("valid"), table.default_metric("test")  # the table's own, whatever its data
    target = float(table.frame.drop_duplicates("unique_id")[test].quantile(0.99))
    argv = ["search", "compare", "--bench", str(EMBEDDED), "--methods", "random", "--seeds", "2", "--budgets", "10",
            "--out", str(tmp_path / "cmp"), "--no-progress"]
    assert run_cli(argv) == 0
    printed = capsys.readouterr().out
    assert f"search on {valid}, report {test}" in printed and f"{test} >= {target:.3f}" in printed
