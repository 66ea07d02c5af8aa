"""One-off conversion of benchmark files into lso tables: ``lso bench import KIND PATH --out TABLE``.

Kinds: ``nb201-pth`` (official NAS-Bench-201 ``.pth``), ``nats-tss`` (official NATS-Bench topology folder), ``csv``
(a table with ``index``, ``arch`` and metric columns): the result is a ``BenchmarkTable``. Kinds of other search
spaces (``SPACE_IMPORT_KINDS``): ``nb101-tfrecord`` (official ``nasbench_only108.tfrecord``, read without
TensorFlow) and ``darts-csv`` (a CSV or JSON of DARTS genotypes with metrics): the result is a ``SpaceTable``.
``import_to_file`` saves either as Parquet atomically, so a failed import never replaces an existing table.

A metric column that the source holds for only some of the imported architectures is dropped (tables hold no NaN);
the dropped names are recorded in ``meta.extra['dropped']``. Every imported table stores the direction and scale
of each metric (inferred, or as ``ImportOptions.directions`` / ``scales`` override them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import pandas as pd

from lso.bench.nats_tss import read_nats_tss
from lso.bench.nb201_pth import read_nb201_pth
from lso.bench.official import ALL_COLUMNS, OfficialRows
from lso.bench.table import BenchmarkTable, TableMeta
from lso.jobs import Reporter
from lso.errors import BenchmarkFileError

if TYPE_CHECKING:  # the space importers load torch (through lso.spaces): only when a space table is imported
    from lso.bench.space_table import SpaceTable

SPACE_IMPORT_KINDS: tuple[str, ...] = ("nb101-tfrecord", "darts-csv")
"""Import kinds whose result is a ``SpaceTable`` (a space other than NAS-Bench-201)."""
IMPORT_KINDS: tuple[str, ...] = ("nb201-pth", "nats-tss", "csv", *SPACE_IMPORT_KINDS)
TABLE_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file: training budget (``None``: the source's full budget, NB201 200 epochs (or 12), NB101
    108 (or 4, 12, 36)), unrestricted unpickling, the fidelity to record for a CSV (official files state their own),
    ``{metric: value}`` overrides of the inferred direction ("max"/"min") and scale ("percent"/"fraction"/"raw") to
    store in the table, what to do with two rows of one cell in a DARTS file (``"error"`` or ``"mean"``), and
    whether to check the data CRC of every TFRecord record (slow in pure Python; lengths are always checked)."""

    epochs: int | None = None
    trust_pickle: bool = False
    fidelity: str = ""
    directions: Mapping[str, str] = field(default_factory=dict)
    scales: Mapping[str, str] = field(default_factory=dict)
    duplicates: str = "error"
    verify_crc: bool = False


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
                 reporter: Reporter | None = None) -> BenchmarkTable | SpaceTable:
    """Read a benchmark file of the given kind into a table (nothing is written), with every metric's direction and
    scale stored (``with_metric_info``: ``MetricError`` for an override naming no metric). A ``BenchmarkTable``
    for the NAS-Bench-201 kinds, a ``SpaceTable`` for ``SPACE_IMPORT_KINDS``. ``reporter`` hears of every
    architecture an official NB201 reader has read, of the MB read of a TFRecord (a CSV is read in one go)."""
    return _read(kind, path, options, reporter).with_metric_info(options.directions, options.scales)


def _read(kind: str, path: str | Path, options: ImportOptions,
          reporter: Reporter | None) -> BenchmarkTable | SpaceTable:
    if kind == "nb201-pth":
        return table_from_rows(read_nb201_pth(path, epochs=options.epochs or 200, trust=options.trust_pickle,
                                              reporter=reporter))
    if kind == "nats-tss":
        return table_from_rows(read_nats_tss(path, epochs=options.epochs or 200, trust=options.trust_pickle,
                                             reporter=reporter))
    if kind == "nb101-tfrecord":
        from lso.bench.nb101_tfrecord import read_nb101_tfrecord

        if options.epochs not in (None, 4, 12, 36, 108):
            raise BenchmarkFileError(f"NAS-Bench-101 trained for 4, 12, 36 or 108 epochs, not {options.epochs}")
        return read_nb101_tfrecord(path, epochs=options.epochs or 108, verify_data_crc=options.verify_crc,
                                   reporter=reporter)
    if kind == "darts-csv":
        from lso.bench.darts_genotypes import read_darts_genotypes

        return read_darts_genotypes(path, fidelity=options.fidelity, duplicates=options.duplicates,
                                    reporter=reporter)
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
                   reporter: Reporter | None = None) -> BenchmarkTable | SpaceTable:
    """Import ``path`` and save it as a Parquet table at ``out`` (atomic: an existing ``out`` survives a failure)."""
    out = Path(out)
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise BenchmarkFileError(f"output table {out} must end in .parquet (lso tables are Parquet)")
    if out.is_dir():
        raise BenchmarkFileError(f"output {out} is a folder, not a table file")
    table = import_table(kind, path, options, reporter=reporter)
    table.save(out)
    return table
