"""Searches on a pool of any space (lso.search.pool, pool_crlso, pool_compare): random, REA and CR-LSO."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lso.search.pool import PoolError, cell_features, nearest_unqueried, pool_of, random_on_pool, rea_on_pool, PoolLedger
from lso.search.pool_compare import compare_on_pool
from lso.search.pool_crlso import PoolCRLSOConfig, crlso_on_pool
from lso.spaces import get_space
from lso.spaces import sample_unique


def synthetic_pool(space_name: str, n: int = 400, seed: int = 0):
    """A pool whose scores are a smooth function of the cells' graph features plus noise, with a latent space in
    which that function is linear (a fixed random projection of the features)."""
    space = get_space(space_name)
    cells = sample_unique(space, n, np.random.default_rng(seed))
    features = np.stack([cell_features(space, c) for c in cells]).astype(np.float64)
    rng = np.random.default_rng(seed + 1)
    weights = rng.normal(size=features.shape[1])
    clean = features @ weights
    clean = 60 + 10 * (clean - clean.mean()) / clean.std()
    signal = clean + rng.normal(scale=0.5, size=n)
    report = clean + rng.normal(scale=0.5, size=n)
    projection = rng.normal(size=(features.shape[1], 8))
    latents = features @ projection
    latents[:, 0] = (clean - 60) / 10  # the score is linear in the latents: a concave surrogate can fit it
    return pool_of(space, cells, signal, report, name=space_name), torch.tensor(latents, dtype=torch.float32)


@pytest.fixture(scope="module")
def nb101():
    return synthetic_pool("nb101")


def test_pool_rejects_bad_scores_and_duplicates():
    space = get_space("nb101")
    cells = sample_unique(space, 3, np.random.default_rng(0))
    with pytest.raises(PoolError, match="NaN"):
        pool_of(space, cells, [1.0, float("nan"), 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(PoolError, match="shape"):
        pool_of(space, cells, [1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(PoolError, match="isomorphic"):
        pool_of(space, [cells[0], cells[0], cells[1]], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(PoolError, match="empty"):
        pool_of(space, [], [], [])
    pool = pool_of(space, cells, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(PoolError, match="budget"):
        random_on_pool(pool, 0, seed=0)


@pytest.mark.parametrize("runner", [random_on_pool, rea_on_pool])
def test_baselines_spend_the_budget_once_per_class_and_repeat_with_the_seed(nb101, runner):
    pool, _ = nb101
    trace = runner(pool, 60, seed=3)
    assert len(trace.rows) == 60 and len(set(trace.rows)) == 60
    assert trace == runner(pool, 60, seed=3)
    assert trace.rows != runner(pool, 60, seed=4).rows
    assert runner(pool, 10_000, seed=0).rows.__len__() == len(pool)  # a budget above the pool stops at the pool


def test_rea_mutations_are_the_nearest_unqueried_cells(nb101):
    pool, _ = nb101
    ledger = PoolLedger(pool, 50)
    for row in range(10):
        ledger.query(row, "initial")
    rng = np.random.default_rng(0)
    child = nearest_unqueried(pool, ledger, 0, rng)
    distances = (pool.features[ledger.unqueried()] != pool.features[0]).sum(axis=1)
    assert not ledger.queried[child]
    assert (pool.features[child] != pool.features[0]).sum() == distances.min() > 0
    trace = rea_on_pool(pool, 80, seed=1)
    assert trace.sources[:20] == ("initial",) * 20 and set(trace.sources[20:]) == {"mutation"}


def test_crlso_on_a_pool_spends_its_budget_and_repeats_with_the_seed(nb101):
    pool, latents = nb101
    config = PoolCRLSOConfig(fit_steps=60)
    trace = crlso_on_pool(pool, 40, 5, latents, config)
    assert len(trace.rows) == 40 and len(set(trace.rows)) == 40
    assert trace.sources[:10] == ("initial",) * 10 and "latent" in trace.sources
    assert trace == crlso_on_pool(pool, 40, 5, latents, config)
    with pytest.raises(Exception, match="one latent per pool cell"):
        crlso_on_pool(pool, 40, 5, latents[:-1], config)


def test_on_a_score_linear_in_the_latents_crlso_beats_random_and_rea_beats_random(nb101):
    """The methods do what they claim: a concave surrogate climbs a linear score; evolution climbs a smooth one."""
    pool, latents = nb101
    config = PoolCRLSOConfig(fit_steps=60)
    methods = {"random": random_on_pool, "rea": rea_on_pool,
               "crlso": lambda p, b, s: crlso_on_pool(p, b, s, latents, config)}
    comparison = compare_on_pool(pool, methods, budgets=(20, 40), seeds=range(6))
    frame = comparison.frame().set_index(["method", "budget"])
    assert len(frame) == 6 and (frame["seeds"] == 6).all()
    for method in methods:  # a larger budget never lowers the incumbent's signal
        assert frame.loc[(method, 40), "signal_mean"] >= frame.loc[(method, 20), "signal_mean"]
    assert frame.loc[("crlso", 40), "report_mean"] > frame.loc[("random", 40), "report_mean"] + 1.0
    assert frame.loc[("rea", 40), "report_mean"] > frame.loc[("random", 40), "report_mean"]
    text = comparison.text()
    assert text.splitlines()[0].split() == ["method", "@20", "@40"] and len(text.splitlines()) == 4
    with pytest.raises(PoolError, match="budget 500 exceeds the pool's 400 cells"):
        compare_on_pool(pool, methods, budgets=(20, 500), seeds=range(2))


def test_pool_search_runs_on_the_darts_space():
    pool, latents = synthetic_pool("darts", n=120)
    trace = crlso_on_pool(pool, 25, 0, latents, PoolCRLSOConfig(fit_steps=30, initial=5))
    assert len(set(trace.rows)) == 25
    assert len(set(rea_on_pool(pool, 30, seed=0).rows)) == 30


def test_lso_search_pool_compares_the_methods_on_a_space_table(tmp_path, capsys):
    import json

    from cli_runner import run_cli
    from lso.bench.space_table import SpaceTable
    from lso.bench.space_table_data import SpaceTableMeta

    pool, _ = synthetic_pool("nb101", n=200)
    rows = [(pool.space.to_string(c), {"toy_valid": float(v), "toy_test": float(t)})
            for c, v, t in zip(pool.cells, pool.signal, pool.report)]
    SpaceTable.from_rows("nb101", rows, SpaceTableMeta(space="nb101", dataset="toy")).save(tmp_path / "t.parquet")
    argv = ["search", "pool", "--bench", str(tmp_path / "t.parquet"), "--seeds", "3", "--budgets", "10,30",
            "--vae-train", "300", "--vae-epochs", "1", "--out", str(tmp_path / "cmp"), "--no-progress"]
    assert run_cli(argv) == 0
    out = capsys.readouterr().out
    assert "nb101 pool of 200 cells, toy_test of the best-by-toy_valid cell" in out and "crlso" in out
    summary = json.loads((tmp_path / "cmp" / "pool_comparison.json").read_text())
    assert summary["space"] == "nb101" and summary["pool"] == 200 and summary["budgets"] == [10, 30]
    assert summary["seeds"] == [0, 1, 2] and summary["space_vae"]["train_cells"] == 300
    assert [(r["method"], r["budget"]) for r in summary["rows"]] == [
        (m, b) for m in ("random", "rea", "crlso") for b in (10, 30)]
    assert all(r["report_mean"] <= summary["pool_best_report"] for r in summary["rows"])
    assert {p.name for p in (tmp_path / "cmp").iterdir()} == {
        "pool_comparison.csv", "pool_comparison.md", "pool_comparison.json", "pool_curves.csv", "pool_curves.html"}
    assert run_cli(argv[:-3] + ["--methods", "random", "--out", str(tmp_path / "cmp"), "--no-progress"]) == 0
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "pool_comparison.md").write_text("mine")
    assert run_cli(argv[:-3] + ["--out", str(tmp_path / "other")]) != 0
    assert "not replacing it" in capsys.readouterr().err
    assert run_cli(argv[:4] + ["--methods", "bogus", "--out", str(tmp_path / "x")]) != 0
    assert "unknown pool search method" in capsys.readouterr().err


def test_an_nb201_command_given_a_space_table_points_to_lso_search_pool(tmp_path, capsys):
    from cli_runner import run_cli
    from lso.bench.space_table import SpaceTable
    from lso.bench.space_table_data import SpaceTableMeta

    pool, _ = synthetic_pool("darts", n=5)
    rows = [(pool.space.to_string(c), {"toy_valid": float(v)}) for c, v in zip(pool.cells, pool.signal)]
    SpaceTable.from_rows("darts", rows, SpaceTableMeta(space="darts")).save(tmp_path / "d.parquet")
    assert run_cli(["search", "--bench", str(tmp_path / "d.parquet"), "--method", "random", "--budget", "3",
                    "--out", str(tmp_path / "r.json")]) != 0
    assert "is a table of the darts space (a SpaceTable)" in capsys.readouterr().err
