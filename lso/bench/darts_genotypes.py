"""DARTS / NAS-Bench-301 genotypes with their accuracies, from a CSV or JSON file, into a ``SpaceTable``.

* **CSV**: a ``genotype`` (or ``arch``) column holding the DARTS code's string ``Genotype(normal=[('sep_conv_3x3',
  0), ...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])`` (quoted, since it holds
  commas), and numeric metric columns (e.g. ``cifar10_valid``)::

      genotype,cifar10_valid
      "Genotype(normal=[('sep_conv_3x3', 0), ...], reduce_concat=[2, 3, 4, 5])",94.1

* **JSON**: a list of objects with the same keys: ``[{"genotype": "Genotype(...)", "cifar10_valid": 94.1}, ...]``.

Each genotype must be valid in the space (7 operations, two different inputs per node; ``lso.spaces.darts``).
Rows count from 1 (the first data row: line 2 of a CSV); a malformed row is rejected with one line naming the file,
the row and the problem. Two rows of one canonical genotype are refused unless ``duplicates="mean"``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from lso.bench.space_table import SpaceTable, SpaceTableMeta
from lso.errors import BenchmarkFileError
from lso.jobs import Reporter
from lso.spaces import DartsSpace

ARCH_COLUMNS: tuple[str, ...] = ("genotype", "arch")
SUFFIXES: tuple[str, ...] = (".csv", ".json")


def read_darts_genotypes(path: str | os.PathLike[str], *, fidelity: str = "", dataset: str = "",
                         duplicates: str = "error", reporter: Reporter | None = None) -> SpaceTable:
    """The table of a CSV or JSON file of DARTS genotypes (module docstring); ``fidelity`` / ``dataset`` are
    recorded in the metadata (the dataset is guessed from ``<dataset>_<split>`` metric names when not given).
    ``reporter`` hears ``(rows checked, rows)`` once the file is read and once it is checked."""
    path = Path(path)
    if not path.is_file():
        raise BenchmarkFileError(f"genotype file not found: {path}" if not path.exists() else f"{path} is not a file")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BenchmarkFileError(f"a DARTS genotype file must be .csv or .json, got {path.name}")
    frame = _read_csv(path) if suffix == ".csv" else _read_json(path)
    if reporter is not None:
        reporter(0, len(frame), "read")
    metrics = [str(c) for c in frame.columns if c != "arch"]
    meta = SpaceTableMeta(space=DartsSpace.name, source=f"darts-csv:{path.name}", fidelity=fidelity,
                          dataset=dataset or _guess_dataset(metrics))
    try:
        table = SpaceTable.from_frame(frame, meta, duplicates=duplicates)
    except BenchmarkFileError as err:
        raise BenchmarkFileError(f"{path.name}: {err}") from err
    if reporter is not None:
        reporter(len(frame), len(frame), f"{len(table):,} genotypes")
    return table


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise BenchmarkFileError(f"cannot read CSV {path.name}: {' '.join(str(err).split())}") from err
    return _with_arch_column(frame, path)


def _read_json(path: Path) -> pd.DataFrame:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise BenchmarkFileError(f"cannot read JSON {path.name}: {err}") from err
    if not isinstance(data, list) or not data:
        raise BenchmarkFileError(f"{path.name}: expected a non-empty JSON list of objects "
                                 "[{\"genotype\": \"Genotype(...)\", \"<metric>\": value, ...}, ...]")
    keys: list[str] | None = None
    for row, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise BenchmarkFileError(f"{path.name}: row {row} is {type(item).__name__}, not an object")
        if keys is None:
            keys = list(item)
        elif set(item) != set(keys):
            raise BenchmarkFileError(f"{path.name}: row {row} has keys {sorted(item)}, row 1 has {sorted(keys)}; "
                                     "every row needs the same keys")
        for key, value in item.items():
            if key not in ARCH_COLUMNS and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise BenchmarkFileError(f"{path.name}: row {row}: metric {key!r} is {json.dumps(value)}, not a number")
    return _with_arch_column(pd.DataFrame(data, columns=keys), path)


def _with_arch_column(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``frame`` with its genotype column named ``arch`` (the one of ``ARCH_COLUMNS`` it has)."""
    present = [c for c in ARCH_COLUMNS if c in frame.columns]
    if not present:
        raise BenchmarkFileError(f"{path.name}: no 'genotype' (or 'arch') column; it has: "
                                 f"{', '.join(map(str, frame.columns)) or 'none'}")
    if len(present) > 1:
        raise BenchmarkFileError(f"{path.name}: has both 'genotype' and 'arch' columns; keep one")
    if len(frame) == 0:
        raise BenchmarkFileError(f"{path.name}: no rows")
    missing = frame[present[0]].isna().to_numpy()
    if missing.any():
        raise BenchmarkFileError(f"{path.name}: row {int(missing.argmax()) + 1} has no genotype")
    return frame.rename(columns={present[0]: "arch"})


def _guess_dataset(metrics: list[str]) -> str:
    prefixes = {m.split("_")[0] for m in metrics if "_" in m}
    return ",".join(sorted(p for p in prefixes if p.startswith(("cifar", "imagenet"))))


__all__ = ["ARCH_COLUMNS", "read_darts_genotypes"]
