"""Surfing: the `surf` search method, surfing vs plain ascent, decoder inversion."""

from __future__ import annotations

import pytest
import torch

from lso.bench import BenchmarkTable
from lso.search import TableOracle, run_search
from lso.search.surfing import SurfConfig, invert, surf_ascent, surf_vs_plain
from lso.train.config import TrainConfig
from lso.train.run import train_run


@pytest.fixture(scope="module")
def run_dir(nb201_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("surf") / "run"
    train_run(nb201_dir / "nb201_cifar10.csv", "cifar10_valid", TrainConfig(epochs=6, labels=0, seed=1), out)
    return out


@pytest.fixture(scope="module")
def model(run_dir):
    from lso.models.workbench import LatentModel

    return LatentModel.load(run_dir)


def test_surf_search_is_honest_and_deterministic(run_dir, nb201_dir):
    oracle = TableOracle(BenchmarkTable.load(nb201_dir / "nb201_cifar10.csv"), "cifar10_valid", "cifar10_test")
    config = SurfConfig(initial=8, finetune_steps=30)
    a = run_search("surf", oracle, budget=24, seed=2, run_dir=run_dir, config=config)
    b = run_search("surf", oracle, budget=24, seed=2, run_dir=run_dir, config=config)
    assert len(a.evaluations) == 24
    assert [e.cell for e in a.evaluations] == [e.cell for e in b.evaluations]
    classes = [e.cell.canonical() for e in a.evaluations]
    assert len(set(classes)) == len(classes)


def test_surf_ascent_never_lowers_the_current_surrogate(model, nb201_dir):
    table = BenchmarkTable.load(nb201_dir / "nb201_cifar10.csv")
    cells = table.cells()[:40]
    fit = model.fit_surrogate(model.encode(cells), torch.tensor([table.query(c, "cifar10_valid") for c in cells]),
                              steps=40, lr=3e-3, reset=True, rescale=True, snapshot_every=10, seed=0)
    sequence = [model.with_surrogate(s) for s in fit.snapshots]
    starts = model.encode(cells[:8])
    path = surf_ascent(sequence, starts, steps=3, step_size=0.3, trust_radius=2.0)
    assert path.latents.shape == (len(sequence) * 3 + 1, 8, model.latent_dim)
    for stage in range(len(sequence)):  # within each stage, the stage's surrogate never goes down
        scores = path.scores[1 + 3 * stage: 1 + 3 * (stage + 1)]
        assert bool((scores[1:] >= scores[:-1] - 1e-5).all())
    comparison = surf_vs_plain(model, list(fit.snapshots), starts, steps=3)
    assert 0 <= comparison.surf_hits <= comparison.starts and 0 <= comparison.plain_hits <= comparison.starts


def test_inversion_finds_a_latent_that_decodes_to_the_cell(model, nb201_dir):
    table = BenchmarkTable.load(nb201_dir / "nb201_cifar10.csv")
    cells = table.cells()[100:110]
    found = [invert(model, cell, steps=60).exact for cell in cells]
    assert sum(found) >= 8, found
