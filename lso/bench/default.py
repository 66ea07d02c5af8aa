"""Where the default benchmark table comes from when the user names none.

In order: ``benchmarks_data/default.parquet`` (the embedded benchmark the product ships, once built), then the real
NAS-Bench-201 CIFAR-10 table in ``../shared/benchmarks/nb201`` beside a source checkout. Paths are resolved from the
repository root, not the working directory, so ``make run`` works from anywhere.
"""

from __future__ import annotations

from pathlib import Path

from lso.errors import BenchmarkFileError

REPO_ROOT = Path(__file__).resolve().parents[2]
EMBEDDED = REPO_ROOT / "benchmarks_data" / "default.parquet"
SHARED_NB201 = REPO_ROOT.parent / "shared" / "benchmarks" / "nb201" / "nb201_cifar10.csv"


def default_table_path() -> Path:
    """The first default table that exists; ``BenchmarkFileError`` saying what to do when none does."""
    for path in (EMBEDDED, SHARED_NB201):
        if path.exists():
            return path
    raise BenchmarkFileError(
        f"no default benchmark: neither {EMBEDDED} nor {SHARED_NB201} exists. Import an official file with "
        "`lso bench import nb201-pth FILE --out benchmarks_data/default.parquet` or pass --bench TABLE"
    )
