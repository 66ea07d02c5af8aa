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
