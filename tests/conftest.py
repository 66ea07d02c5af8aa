"""Shared fixtures. The real NAS-Bench-201 tables live in ../shared/benchmarks/nb201 (never copied here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NB201_DIR = REPO.parent / "shared" / "benchmarks" / "nb201"


@pytest.fixture(scope="session")
def nb201_dir() -> Path:
    """Folder of the real NB201 CSV tables. Skipped with a reason when absent; in CI (CI=true) absence fails."""
    if not (NB201_DIR / "nb201_test200.csv").exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must have the real NAS-Bench-201 tables at {NB201_DIR}")
        pytest.skip(f"real NAS-Bench-201 tables not found at {NB201_DIR}")
    return NB201_DIR


@pytest.fixture(scope="session")
def test200_table(nb201_dir: Path):
    """The 200-epoch test-accuracy table (cifar10_test, cifar100_test, imagenet16_test)."""
    from lso.bench import BenchmarkTable

    return BenchmarkTable.load(nb201_dir / "nb201_test200.csv")


@pytest.fixture(scope="session")
def cifar10_table(nb201_dir: Path):
    """The CIFAR-10 table with params_mb, cifar10_valid and cifar10_test."""
    from lso.bench import BenchmarkTable

    return BenchmarkTable.load(nb201_dir / "nb201_cifar10.csv")


@pytest.fixture(scope="session")
def tiny_run(nb201_dir: Path, tmp_path_factory) -> Path:
    """A small trained G-VAE/ICNN run on the NB201 CIFAR-10 table (metric cifar10_valid), trained once per session.

    For tests that need *a* run (app pages, notebooks' helpers), not good figures."""
    from lso.train import TrainConfig, train_run

    out = tmp_path_factory.mktemp("runs") / "tiny"
    config = TrainConfig(epochs=2, batch_size=1024, hidden=32, icnn_hidden=(16, 16), labels=60, labelled_batch=32,
                         seed=0)
    train_run(nb201_dir / "nb201_cifar10.csv", "cifar10_valid", config, out)
    return out


@pytest.fixture()
def app_workspace(tiny_run: Path, tmp_path: Path, monkeypatch) -> Path:
    """A fresh app workspace (``LSO_WORKSPACE``) holding a copy of ``tiny_run`` as ``runs/tiny``."""
    import shutil

    root = tmp_path / "workspace"
    shutil.copytree(tiny_run, root / "tiny")
    monkeypatch.setenv("LSO_WORKSPACE", str(root))
    return root


@pytest.fixture()
def toy_workspace(tmp_path: Path, monkeypatch) -> Path:
    """An app workspace (``LSO_WORKSPACE``) holding one small table, ``imported toy`` (300 cells, metric
    ``toy_valid``), so app trainings and refinements take seconds."""
    from lso.bench import BenchmarkTable
    from lso.space import cell_from_index

    root = tmp_path / "workspace"
    BenchmarkTable.from_metrics({cell_from_index(i): {"toy_valid": 50.0 + (i * 37 % 101) / 4} for i in range(300)}
                                ).save(root / "toy.parquet")
    monkeypatch.setenv("LSO_WORKSPACE", str(root))
    return root

