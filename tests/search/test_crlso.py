"""CR-LSO latent search: each ascent step raises the surrogate, honest counting, determinism, budget."""

from __future__ import annotations

import pytest
import torch

from lso.bench import BenchmarkTable
from lso.search import TableOracle, run_search
from lso.search.ascent import projected_ascent
from lso.search.gradient import CRLSOConfig, run_labels
from lso.train.config import TrainConfig
from lso.train.run import train_run


@pytest.fixture(scope="module")
def table(nb201_dir) -> BenchmarkTable:
    return BenchmarkTable.load(nb201_dir / "nb201_cifar10.csv")


@pytest.fixture(scope="module")
def run_dir(nb201_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("crlso") / "run"
    config = TrainConfig(epochs=2, labels=20, pseudo_labels=False, seed=0)
    train_run(nb201_dir / "nb201_cifar10.csv", "cifar10_valid", config, out)
    return out


def test_every_ascent_step_raises_the_surrogate(run_dir, table):
    from lso.models.workbench import LatentModel

    model = LatentModel.load(run_dir)
    cells = table.cells()[:64]
    y = torch.tensor([table.query(c, "cifar10_valid") for c in cells])
    model.fit_surrogate(model.encode(cells), y, steps=50, lr=3e-3)
    starts = model.encode(cells[:16]) + 0.05 * torch.randn(16, model.latent_dim, generator=torch.Generator().manual_seed(0))
    path = projected_ascent(model, starts, steps=6, step_size=0.5, trust_radius=1.0)
    gains = path.scores[1:] - path.scores[:-1]
    assert bool((gains >= 0).all()), "a step lowered the surrogate's prediction"
    assert bool((gains[0] > 0).all()), "the first step should strictly raise the prediction from every start"
    # the recorded scores are the surrogate's predictions at the recorded latents
    assert torch.allclose(path.scores[-1], model.predict(path.latents[-1]), atol=1e-5)
    # the trust region holds
    assert bool(((path.latents - starts).norm(dim=-1) <= 1.0 + 1e-5).all())
    assert path.scores[-1].mean() > path.scores[0].mean()


def _search(run_dir, table, seed, budget=40):
    oracle = TableOracle(table, "cifar10_valid", "cifar10_test")
    return run_search("crlso", oracle, budget=budget, seed=seed, run_dir=run_dir, config=CRLSOConfig(initial=5))


def test_crlso_counts_run_labels_and_respects_budget(run_dir, table):
    result = _search(run_dir, table, seed=0)
    labels = run_labels(run_dir)
    assert len(result.evaluations) == 40  # the budget, exactly: never more
    assert [ev.cell for ev in result.evaluations[: len(labels)]] == labels  # run labels charged first
    classes = [ev.cell.canonical() for ev in result.evaluations]
    assert len(set(classes)) == len(classes), "a cell (or an isomorphic twin) was queried twice"
    assert result.best.signal == max(ev.signal for ev in result.evaluations)


def test_crlso_same_seed_same_trace(run_dir, table):
    a = [ev.cell for ev in _search(run_dir, table, seed=3, budget=35).evaluations]
    b = [ev.cell for ev in _search(run_dir, table, seed=3, budget=35).evaluations]
    c = [ev.cell for ev in _search(run_dir, table, seed=4, budget=35).evaluations]
    assert a == b
    assert a != c


def test_crlso_needs_a_run(table):
    from lso.errors import LsoError

    oracle = TableOracle(table, "cifar10_valid", "cifar10_test")
    with pytest.raises(LsoError, match="--run"):
        run_search("crlso", oracle, budget=10, seed=0)


def test_the_latent_model_meets_the_search_protocol(run_dir):
    from lso.models.workbench import LatentModel
    from lso.search.latent_model import LatentSearchModel

    assert isinstance(LatentModel.load(run_dir), LatentSearchModel)
    assert not isinstance(object(), LatentSearchModel)
