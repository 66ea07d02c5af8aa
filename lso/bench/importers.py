"""One-off conversion of benchmark files into lso tables: ``lso bench import KIND PATH --out TABLE``.

Kinds: ``nb201-pth`` (official NAS-Bench-201 ``.pth``), ``nats-tss`` (official NATS-Bench topology folder), ``csv``
(a table with ``index``, ``arch`` and metric columns). The result is a ``BenchmarkTable``; ``import_to_file`` saves
it as Parquet atomically, so a failed import never replaces an existing table.

A metric column that the source holds for only some of the imported architectures is dropped (tables hold no NaN);
the dropped names are recorded in ``meta.extra['dropped']``. Every imported table stores the direction and scale
of each metric (inferred, or as ``ImportOptions.directions`` / ``scales`` override them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

import pandas as pd

from lso.bench.nats_tss import read_nats_tss
from lso.bench.nb201_pth import read_nb201_pth
from lso.bench.official import ALL_COLUMNS, OfficialRows
from lso.bench.table import BenchmarkTable, TableMeta
from lso.jobs import Reporter
from lso.errors import BenchmarkFileError

IMPORT_KINDS: tuple[str, ...] = ("nb201-pth", "nats-tss", "csv")
TABLE_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file: training budget (200 or 12 epochs), unrestricted unpickling, the fidelity
    to record for a CSV (official files state their own), and ``{metric: value}`` overrides of the inferred
    direction ("max"/"min") and scale ("percent"/"fraction"/"raw") to store in the table."""

    epochs: int = 200
    trust_pickle: bool = False
    fidelity: str = ""
    directions: Mapping[str, str] = field(default_factory=dict)
    scales: Mapping[str, str] = field(default_factory=dict)


def table_from_rows(rows: OfficialRows) -> BenchmarkTable:
    """Assemble a table from an official reader's rows, dropping metric columns that have gaps."""
    indices = sorted(rows.archs)
    data: dict[str, list] = {"index": indices, "arch": [rows.archs[i] for i in indices]}
    kept, dropped = [], []
    for column in ALL_COLUMNS:
        values = [rows.metrics[i].get(column, math.nan) for i in indices]
        missing = sum(1 for v in values if math.isnan(v))
        if missing == 0:
            data[column] = values
            kept.append(column)
        elif missing < len(values):
            dropped.append(f"{column} ({missing} of {len(values)} missing)")
    if not kept:
        raise BenchmarkFileError(f"{rows.source}: no metric is complete for the {len(indices)} architectures read")
    datasets = sorted({c.split("_")[0].replace("cifar10valid", "cifar10") for c in kept})
    meta = TableMeta(
        source=rows.source,
        dataset=",".join(datasets),
        fidelity=rows.fidelity,
        extra={"dropped": "; ".join(dropped)} if dropped else {},
    )
    return BenchmarkTable.from_frame(pd.DataFrame(data), meta)


def import_table(kind: str, path: str | Path, options: ImportOptions = ImportOptions(), *,
                 reporter: Reporter | None = None) -> BenchmarkTable:
    """Read a benchmark file of the given kind into a table (nothing is written), with every metric's direction and
    scale stored (``BenchmarkTable.with_metric_info``: ``MetricError`` for an override naming no metric).
    ``reporter`` hears of every architecture an official reader has read (a CSV is read in one go)."""
    return _read(kind, path, options, reporter).with_metric_info(options.directions, options.scales)


def _read(kind: str, path: str | Path, options: ImportOptions, reporter: Reporter | None) -> BenchmarkTable:
    if kind == "nb201-pth":
        return table_from_rows(read_nb201_pth(path, epochs=options.epochs, trust=options.trust_pickle,
                                              reporter=reporter))
    if kind == "nats-tss":
        return table_from_rows(read_nats_tss(path, epochs=options.epochs, trust=options.trust_pickle,
                                             reporter=reporter))
    if kind == "csv":
        path = Path(path)
        if path.suffix.lower() != ".csv":
            raise BenchmarkFileError(f"import kind 'csv' needs a .csv file, got {path}")
        table = BenchmarkTable.load(path)
        if not options.fidelity:
            return table
        meta = replace(table.meta, fidelity=options.fidelity)
        return BenchmarkTable.from_frame(table.frame.drop(columns=["unique_id"]), meta)
    raise BenchmarkFileError(f"unknown import kind {kind!r}; expected one of {', '.join(IMPORT_KINDS)}")


def import_to_file(kind: str, path: str | Path, out: str | Path, options: ImportOptions = ImportOptions(), *,
                   reporter: Reporter | None = None) -> BenchmarkTable:
    """Import ``path`` and save it as a Parquet table at ``out`` (atomic: an existing ``out`` survives a failure)."""
    out = Path(out)
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise BenchmarkFileError(f"output table {out} must end in .parquet (lso tables are Parquet)")
    if out.is_dir():
        raise BenchmarkFileError(f"output {out} is a folder, not a table file")
    table = import_table(kind, path, options, reporter=reporter)
    table.save(out)
    return table
