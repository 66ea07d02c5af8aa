"""Benchmark tables: one columnar type for every NAS-Bench-201 source (CSV, official NAS-Bench-201 .pth, NATS-Bench
tss, our own), ``SpaceTable`` for the other search spaces (NAS-Bench-101 tfrecord, DARTS genotypes).

The space-table names load on first use (PEP 562 ``__getattr__``): they import ``lso.spaces`` and with it torch, which
commands that only read NB201 tables (``lso app``'s parent process, ``lso bench info``) never wait for.
"""

from importlib import import_module
from typing import Any

from lso.bench.importers import IMPORT_KINDS, SPACE_IMPORT_KINDS, ImportOptions, import_table, import_to_file
from lso.bench.metric_info import MetricInfo, infer_metric_info, parse_overrides
from lso.bench.table import BenchmarkTable, TableMeta

_LAZY = {
    "CellNotFoundError": "lso.bench.space_table",
    "SpaceTable": "lso.bench.space_table",
    "SpaceTableMeta": "lso.bench.space_table",
    "is_space_table_file": "lso.bench.space_table_file",
    "read_darts_genotypes": "lso.bench.darts_genotypes",
    "read_nb101_tfrecord": "lso.bench.nb101_tfrecord",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lso.bench' has no attribute {name!r}")


__all__ = [
    "BenchmarkTable",
    "CellNotFoundError",
    "IMPORT_KINDS",
    "ImportOptions",
    "MetricInfo",
    "SPACE_IMPORT_KINDS",
    "SpaceTable",
    "SpaceTableMeta",
    "TableMeta",
    "import_table",
    "import_to_file",
    "infer_metric_info",
    "is_space_table_file",
    "parse_overrides",
    "read_darts_genotypes",
    "read_nb101_tfrecord",
]
