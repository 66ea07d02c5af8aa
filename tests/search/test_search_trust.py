"""Search you can trust: each case of issue 12's "What was seen", reproduced and made impossible.

1. a budget at or below the run's labels searched nothing and exited 0;   2. twins of labels were charged once;
3. CR-LSO stopped before its budget;   4. a run was used with any table or metric;   5. metrics had no direction;
6. class-keyed tables failed on the first twin;   7. seeds, device and non-finite options;   8. query sources;
9. surfing travelled further than CR-LSO's trust region.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from cli_runner import run_cli
from lso.bench import BenchmarkTable
from lso.errors import LsoError
from lso.search import QueryLedger, TableOracle, isomorphism_class, run_search
from lso.search.compare import CompareConfig, compare_methods, parse_seeds
from lso.search.ascent import projected_ascent
from lso.search.gradient import CRLSOConfig, fallback
from lso.search.moves import UnseenSampler
from lso.search.preflight import read_provenance
from lso.search.surfing import surf_ascent
from lso.space import all_cells, unique_ids

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def unsupervised_run(nb201_dir, tmp_path_factory):
    """A small ``--labels 0`` run: it learned no metric, so it serves any table of the space."""
    from lso.train import TrainConfig, train_run

    out = tmp_path_factory.mktemp("u0") / "u0"
    config = TrainConfig(epochs=2, batch_size=1024, hidden=32, icnn_hidden=(16, 16), labels=0, seed=0)
    train_run(nb201_dir / "nb201_cifar10.csv", "cifar10_valid", config, out)
    return out


def twin_pair() -> tuple[int, int]:
    """Two official indices of one isomorphism class."""
    ids = unique_ids()
    seen: dict[int, int] = {}
    for i, u in enumerate(ids):
        if u in seen:
            return seen[u], i
        seen[u] = i
    raise AssertionError("NB201 has isomorphic twins")


# ----- 1. the README's recipe searched nothing ------------------------------------------------------------------
def test_budget_at_or_below_the_run_labels_is_refused_before_any_query(tiny_run, nb201_dir, tmp_path, capsys):
    labels = len(read_provenance(tiny_run).labels)
    for budget in (labels // 2, labels):
        out = tmp_path / f"r{budget}.json"
        argv = ["search", "--bench", str(nb201_dir / "nb201_cifar10.csv"), "--method", "crlso", "--run",
                str(tiny_run), "--budget", str(budget), "--out", str(out)]
        assert run_cli(argv) == 2
        err = capsys.readouterr().err
        assert f"the run's {labels} labelled cells are charged first" in err and "Traceback" not in err
        assert not out.exists()
    argv[argv.index("--budget") + 1] = str(labels + 10)
    assert run_cli(argv) == 0
    data = json.loads(out.read_text())
    assert len(data["queries"]) == labels + 10 and data["stopped"] is None
    assert [q["source"] for q in data["queries"]][:labels] == ["label"] * labels
    assert all(q["source"] != "label" for q in data["queries"][labels:])  # the search's own queries follow


def test_compare_refuses_a_latent_method_whose_run_fills_the_horizon_before_running_anything(tiny_run, cifar10_table):
    config = CompareConfig(methods=("random", "crlso"), seeds=(0,), budgets=(30,), signal="cifar10_valid",
                           report="cifar10_test", target=94.0)
    with pytest.raises(LsoError, match="leaves the search nothing"):
        compare_methods(cifar10_table, config, run_dir=tiny_run)


# ----- 2. every label is one query, twins included ---------------------------------------------------------------
def test_every_label_is_charged_twins_included(cifar10_table):
    oracle = TableOracle(cifar10_table, "cifar10_valid", "cifar10_test")
    a, b = twin_pair()
    ledger = QueryLedger(oracle, budget=10)
    assert ledger.precharge([all_cells()[a], all_cells()[b]]) == 2
    assert ledger.spent == 2 and ledger.sources == ("label", "label")
    assert ledger.evaluations[1].signal == cifar10_table.query(b, "cifar10_valid")  # its own measurement
    assert ledger.query(all_cells()[b]).cell == all_cells()[a] and ledger.spent == 2  # searching a twin is free


# ----- 3. CR-LSO spends its whole budget or says why -------------------------------------------------------------
def test_crlso_falls_back_instead_of_stopping(unsupervised_run, cifar10_table):
    oracle = TableOracle(cifar10_table, "cifar10_valid", "cifar10_test")
    # latent moves too small to leave the start cell: every round needs the fallback (the old code stopped once the
    # best cell's 24 neighbours were spent)
    config = CRLSOConfig(initial=5, neighbours=False, step_size=1e-6, trust_radius=1e-6, noise=0.0, max_retries=0,
                         finetune_steps=5)
    result = run_search("crlso", oracle, budget=80, seed=0, run_dir=unsupervised_run, config=config)
    assert result.num_queries == 80 and result.stopped is None
    assert result.source_counts()["fallback"] >= 50
    classes = [isomorphism_class(ev.cell) for ev in result.evaluations]
    assert len(set(classes)) == len(classes)


def test_fallback_restarts_from_the_next_best_cell_with_unseen_neighbours(cifar10_table):
    import random

    oracle = TableOracle(cifar10_table, "cifar10_valid", "cifar10_test")
    ledger = QueryLedger(oracle, budget=200)
    cells = all_cells()
    best = max(cells[:50], key=lambda c: cifar10_table.query(c, "cifar10_valid"))
    for c in [best, *best.neighbours()]:
        ledger.query(c)
    second = next(c for c in cells[:50] if not ledger.seen(c))
    ledger.query(second)

    class Flat:
        def predict_cells(self, cells):
            return torch.zeros(len(cells))

    proposals = fallback(Flat(), ledger, random.Random(0), UnseenSampler(random.Random(0)))
    assert proposals and all(src == "fallback" for _, src in proposals)
    assert {c for c, _ in proposals} <= set(second.neighbours()) | set().union(*(set(n.neighbours()) for n in best.neighbours()))
    assert not any(ledger.seen(c) for c, _ in proposals)


def test_a_method_that_returns_early_must_say_why(cifar10_table):
    from lso.search import SearchMethod, default_registry
    from lso.search.evolution import EvolutionConfig

    quitter = SearchMethod(name="quitter", config_type=EvolutionConfig, runner=lambda c, ctx: None)
    oracle = TableOracle(cifar10_table, "cifar10_valid", "cifar10_test")
    result = run_search(quitter, oracle, budget=10, seed=0, registry=default_registry())
    assert result.stopped and "10 of 10 queries unspent" in result.stopped
    assert result.to_json()["stopped"] == result.stopped
    assert math.isnan(result.best_so_far().report_at(5))  # no figure at a budget it never spent


# ----- 4. a run is used only with its own table and signal --------------------------------------------------------
def test_a_run_refuses_another_table_or_its_report_metric_unless_overridden(tiny_run, nb201_dir, tmp_path, capsys):
    from lso.bench.default import EMBEDDED

    base = ["search", "--method", "crlso", "--run", str(tiny_run), "--budget", "90"]
    out = tmp_path / "r.json"
    assert run_cli(base + ["--bench", str(EMBEDDED), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "trained on another table" in err and "--allow-run-mismatch" in err and not out.exists()
    # trained on cifar10_valid: searching cifar10_test while reporting cifar10_valid hands it the report
    table = str(nb201_dir / "nb201_cifar10.csv")
    assert run_cli(base + ["--bench", table, "--signal", "cifar10_test", "--report", "cifar10_valid",
                           "--out", str(out)]) == 2
    assert "the metric the search reports" in capsys.readouterr().err and not out.exists()
    assert run_cli(base + ["--bench", str(EMBEDDED), "--out", str(out), "--allow-run-mismatch"]) == 0
    check = json.loads(out.read_text())["config"]["run_check"]
    assert check["overridden"] is True and "another table" in check["problems"][0]


def test_an_unsupervised_run_serves_any_table(unsupervised_run, test200_table):
    oracle = TableOracle(test200_table, "cifar100_test", "cifar100_test")
    result = run_search("crlso", oracle, budget=30, seed=0, run_dir=unsupervised_run)
    assert result.num_queries == 30 and result.run_check.problems == () and not result.run_check.overridden


# ----- 5. metric direction and scale -----------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["rea", "random", "crlso"])
def test_a_minimisation_search_finds_the_columns_minimum(method, cifar10_table, unsupervised_run):
    oracle = TableOracle(cifar10_table, "params_mb", "cifar10_test")
    assert not oracle.maximize  # a size is minimised by the table's direction
    run = unsupervised_run if method == "crlso" else None
    result = run_search(method, oracle, budget=300, seed=1, run_dir=run)
    smallest = float(cifar10_table.values("params_mb").min())
    assert result.best.signal == pytest.approx(smallest)
    assert result.to_json()["config"]["direction"] == "min"
    assert np.all(np.diff(result.best_so_far().signal) <= 0)


def test_minimize_flag_and_precise_targets(cifar10_table, tmp_path, nb201_dir, capsys):
    argv = ["search", "--bench", str(nb201_dir / "nb201_cifar10.csv"), "--method", "rea", "--budget", "40",
            "--signal", "cifar10_valid", "--minimize", "--out", str(tmp_path / "r.json")]
    assert run_cli(argv) == 0
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["best"]["signal"] == min(q["signal"] for q in data["queries"])
    assert "(minimised)" in capsys.readouterr().out
    # a target is reached only when the report really reaches it (no rounding to 2 decimals)
    from lso.search.result import BestSoFar
    from lso.search.oracle import Evaluation

    cell = all_cells()[0]
    curve = BestSoFar.of((Evaluation(cell, 1.0, 92.866),))
    assert curve.first_reaching(92.87) is None and curve.first_reaching(92.866) == 1


# ----- 6. tables with one row per isomorphism class ---------------------------------------------------------------
def test_a_class_keyed_table_answers_every_twin(cifar10_table, unsupervised_run):
    frame = cifar10_table.frame.drop_duplicates("unique_id")
    keyed = BenchmarkTable.from_frame(frame[["index", "arch", "cifar10_valid", "cifar10_test"]])
    oracle = TableOracle(keyed, "cifar10_valid", "cifar10_test")
    a, b = twin_pair()
    assert oracle.evaluate(all_cells()[b]).signal == oracle.evaluate(all_cells()[a]).signal
    for method, run in (("rea", None), ("ls", None), ("crlso", unsupervised_run)):
        result = run_search(method, oracle, budget=120, seed=0, run_dir=run)
        assert result.num_queries == 120 and result.stopped is None


def test_ambiguous_default_metrics_list_the_choices(nb201_dir, tmp_path, capsys):
    argv = ["search", "--bench", str(nb201_dir / "nb201_epoch12.csv"), "--method", "random", "--budget", "10",
            "--out", str(tmp_path / "r.json")]
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert "several *_valid metrics" in err and "cifar100_valid" in err and "imagenet16_valid" in err
    # naming the signal is enough: the report defaults to the same dataset's test metric
    assert run_cli(argv + ["--signal", "cifar100_valid"]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["config"]["report"] == "cifar100_test"


# ----- 7. seeds, device and every numeric option validated before work --------------------------------------------
def test_seed_lists_ranges_and_counts():
    assert parse_seeds("3") == (0, 1, 2)
    assert parse_seeds("200-203") == (200, 201, 202, 203)
    assert parse_seeds("1,5,9") == (1, 5, 9)
    for bad in ("0", "-1", "5-2", "a", "1,1", "1,-2"):
        with pytest.raises(LsoError):
            parse_seeds(bad)


@pytest.mark.parametrize("extra, message", [
    (["--target", "nan"], "--target must be a finite number"),
    (["--target", "inf"], "--target must be a finite number"),
    (["--seeds", "9-3"], "ends before it starts"),
    (["--methods", "rea,rea"], "more than once"),
    (["--budgets", "0,10"], "positive query counts"),
    (["--horizon", "-5"], "--horizon must be >= 0"),
    (["--device", "cuda:7"], "cuda"),
])
def test_compare_validates_options_before_work(extra, message, nb201_dir, tmp_path, capsys):
    argv = ["search", "compare", "--bench", str(nb201_dir / "nb201_cifar10.csv"), "--methods", "random",
            "--seeds", "2", "--budgets", "10", "--out", str(tmp_path / "cmp"), "--no-progress"]
    for flag in {e for e in extra if e.startswith("--")}:
        if flag in argv:
            i = argv.index(flag)
            del argv[i:i + 2]
    assert run_cli(argv + extra) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and not (tmp_path / "cmp").exists()


def test_compare_takes_a_seed_range_and_shows_the_source_mix(nb201_dir, tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["search", "compare", "--bench", str(nb201_dir / "nb201_cifar10.csv"), "--methods", "rea,random",
            "--seeds", "200-202", "--budgets", "25", "--out", str(out), "--no-progress", "--device", "cpu"]
    assert run_cli(argv) == 0
    printed = capsys.readouterr().out
    assert "source mix" in printed and "mutation" in printed and "random 100%" in printed
    summary = json.loads((out / "comparison.json").read_text())
    assert summary["config"]["seeds"] == [200, 201, 202]


def test_infinite_metric_values_are_rejected(cifar10_table):
    frame = cifar10_table.frame
    frame.loc[3, "cifar10_valid"] = math.inf
    with pytest.raises(LsoError, match="infinite"):
        BenchmarkTable.from_frame(frame)


# ----- 8. where each query came from -------------------------------------------------------------------------------
def test_crlso_records_latent_and_neighbour_sources_and_the_ablations(unsupervised_run, cifar10_table):
    oracle = TableOracle(cifar10_table, "cifar10_valid", "cifar10_test")
    both = run_search("crlso", oracle, budget=60, seed=2, run_dir=unsupervised_run)
    assert set(both.source_counts()) <= {"initial", "latent", "neighbour", "fallback"}
    assert both.source_counts()["initial"] == CRLSOConfig().initial
    latent = run_search("crlso", oracle, budget=60, seed=2, run_dir=unsupervised_run,
                        config=CRLSOConfig(neighbours=False))
    assert "neighbour" not in latent.source_counts() and latent.source_counts().get("latent", 0) > 0
    local = run_search("crlso", oracle, budget=60, seed=2, run_dir=unsupervised_run, config=CRLSOConfig(latent=False))
    assert "latent" not in local.source_counts() and local.source_counts().get("neighbour", 0) > 0
    with pytest.raises(LsoError, match="proposes nothing"):
        CRLSOConfig(latent=False, neighbours=False)


# ----- 9. surfing and CR-LSO share one trust region ----------------------------------------------------------------
def test_surfing_stays_in_the_trust_region_of_its_starts(unsupervised_run):
    from lso.models.workbench import LatentModel

    model = LatentModel.load(unsupervised_run)
    cells = all_cells()[:12]
    z = model.encode(cells)
    y = torch.linspace(0, 1, len(cells))
    fit = model.fit_surrogate(z, y, steps=40, lr=3e-2, reset=True, rescale=True, snapshot_every=10, seed=0)
    sequence = [model.with_surrogate(icnn) for icnn in fit.snapshots]
    assert len(sequence) >= 3
    path = surf_ascent(sequence, z, steps=6, step_size=0.5, trust_radius=1.0)
    assert float((path.latents - z).norm(dim=-1).max()) <= 1.0 + 1e-5
    plain = projected_ascent(sequence[-1], z, steps=6, step_size=0.5, trust_radius=1.0)
    assert float((plain.latents - z).norm(dim=-1).max()) <= 1.0 + 1e-5
